"""SpeechBrain's YAML/script consistency check on every recipe, and the YAML baselines.

Every ``hparams/*.yaml`` is paired with the ``train.py`` next to its
``hparams`` folder: the root recipe and each folder under ``recipes/``.
"""

import glob
import os
import shutil

import pytest
from hyperpyyaml import load_hyperpyyaml
from recipe_fakes import ROOT
from yaml_check import check_yaml_vs_script, unused_keys

PAIRS = sorted(
    (
        os.path.relpath(y, ROOT),
        os.path.relpath(os.path.join(y, "..", "..", "train.py"), ROOT),
    )
    for y in glob.glob(os.path.join(ROOT, "hparams", "*.yaml"))
    + glob.glob(os.path.join(ROOT, "recipes", "**", "hparams", "*.yaml"), recursive=True)
)
RECIPE_YAMLS = [y for y, _ in PAIRS if y.startswith("recipes")]
DIFFGMM_YAMLS = [y for y in RECIPE_YAMLS if y.endswith("diffgmm.yaml")]


def test_every_recipe_is_checked():
    assert ("hparams/diffgmm.yaml", "train.py") in PAIRS
    birdsounds = os.path.join("recipes", "BirdSoundsDenoising", "enhance", "DiffGMM")
    assert os.path.join(birdsounds, "hparams", "diffgmm.yaml") in RECIPE_YAMLS
    voicebank = os.path.join("recipes", "Voicebank", "enhance", "DiffGMM", "hparams")
    assert os.path.join(voicebank, "diffgmm.yaml") in DIFFGMM_YAMLS
    assert os.path.join(voicebank, "metricgan_generator.yaml") in RECIPE_YAMLS


def test_the_spectral_mask_baseline_is_speechbrains_metricgan_generator(tmp_path):
    from speechbrain.lobes.models.MetricGAN import EnhancementGenerator

    from diffgmm_sb.training.mask_brain import SpectralMaskBrain

    path = os.path.join(
        ROOT,
        "recipes",
        "Voicebank",
        "enhance",
        "DiffGMM",
        "hparams",
        "metricgan_generator.yaml",
    )
    with open(path, encoding="utf-8") as f:
        hparams = load_hyperpyyaml(f, {"data_folder": str(tmp_path)})
    assert isinstance(hparams["modules"]["generator"], EnhancementGenerator)
    assert hparams["brain_class"] is SpectralMaskBrain


@pytest.mark.parametrize("hparam_file, script_file", PAIRS)
def test_every_yaml_key_is_used_by_its_train_py(hparam_file, script_file):
    assert check_yaml_vs_script(
        os.path.join(ROOT, hparam_file), os.path.join(ROOT, script_file)
    ), unused_keys(os.path.join(ROOT, hparam_file), os.path.join(ROOT, script_file))


def test_the_check_finds_an_unused_key(tmp_path):
    hparam_file, script_file = PAIRS[0]
    copy = tmp_path / "h.yaml"
    shutil.copy(os.path.join(ROOT, hparam_file), copy)
    with open(copy, "a") as f:
        f.write("\nforgotten_weight: 0.5\nused_by_ref: 1\nalso: !ref <used_by_ref>\n")
    assert unused_keys(str(copy), os.path.join(ROOT, script_file)) == [
        "forgotten_weight",
        "also",
    ]


@pytest.mark.parametrize("hparam_file", DIFFGMM_YAMLS)
def test_mixture_size_baselines_are_yaml_overrides(hparam_file, tmp_path):
    folders = set()
    for k in (1, 2, 4, 8):
        with open(os.path.join(ROOT, hparam_file), encoding="utf-8") as f:
            hparams = load_hyperpyyaml(
                f, {"data_folder": str(tmp_path), "num_components": k}
            )
        assert hparams["modules"]["diffgmm"].head.num_components == k
        assert (
            hparams["checkpointer"].recoverables["diffgmm"] is hparams["modules"]["diffgmm"]
        )
        folders.add(hparams["output_folder"])
    assert len(folders) == 4  # the four runs do not overwrite each other
