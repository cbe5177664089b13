"""Fixtures of the reliability suite: a tiny model folder and its enhancer."""

import pytest
from tiny_model import tiny_model_folder

from diffgmm_sb.inference.interface import DiffGMMEnhancement


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """A tiny random model folder (``hyperparams.yaml`` + ``diffgmm.ckpt``)."""
    return tiny_model_folder(tmp_path_factory.mktemp("model"))[0]


@pytest.fixture(scope="session")
def enhancer(model_dir):
    """The tiny model loaded with 1 s chunks, so a few seconds already stream."""
    return DiffGMMEnhancement.from_hparams(
        source=model_dir, overrides={"chunk_seconds": 1.0, "overlap_seconds": 0.25}
    )
