#!/usr/bin/env python3
"""Recipe for training and evaluating DiffGMM on the embedded starter corpus.

DiffGMM (Diffusion Gaussian Mixture audio denoising) removes noise step by
step with a reverse diffusion process whose network estimates, for every
sample, a Gaussian mixture of the remaining noise (see docs/method.md).

To run this recipe, do the following:
> python train.py hparams/diffgmm.yaml

The first run builds the starter corpus (Debian packages, fetched once with
apt-get) into ``data_folder``; ``--own_corpus=DIR`` builds one from your own
speech and noise folders instead (any system). Any hyperparameter can be overridden on the
command line, e.g. ``--num_components=1`` for the single-Gaussian baseline.

Rerunning the same command after the run was killed resumes it from its
latest checkpoint (intra-epoch ones every ``ckpt_interval_minutes``). A
broken data set (missing, unreadable, wrong-rate or unpaired files) or a
damaged checkpoint stops the run with an error listing what is wrong.

Authors
 * diffgmm-sb developers 2026
"""

import logging
import os
import sys

import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml
from speechbrain.dataio.sampler import ReproducibleWeightedRandomSampler
from speechbrain.utils.distributed import run_on_main

from diffgmm_sb.data.audio import AudioError
from diffgmm_sb.data.debian_sources import SourceUnavailable
from diffgmm_sb.data.folder_corpus import prepare_folder_corpus
from diffgmm_sb.data.manifests import (
    ManifestError,
    dataio_prep,
    load_manifest,
    pair_dataset,
    speaker_weights,
    write_pairs_manifest,
)
from diffgmm_sb.data.starter_corpus import prepare_starter_corpus
from diffgmm_sb.training.brain import DiffGMMBrain
from diffgmm_sb.training.checkpoints import CheckpointError
from diffgmm_sb.training.recipe import leave_process_group

logger = logging.getLogger(__name__)


def main():
    """Prepares the data, trains, tests."""
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:])
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)

    sb.utils.distributed.ddp_init_group(run_opts)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )

    real_folder = hparams["real_test_folder"]
    if real_folder and not os.path.isdir(real_folder):
        raise ManifestError(f"real_test_folder {real_folder}: no such folder")
    # The corpus: your own folders (own_corpus), else the starter corpus.
    if hparams["own_corpus"] and not hparams["skip_prep"]:
        kwargs = {
            "data_folder": hparams["data_folder"],
            "corpus_folder": hparams["own_corpus"],
        }
        run_on_main(prepare_folder_corpus, kwargs=kwargs)
    elif not hparams["skip_prep"]:
        kwargs = {
            "data_folder": hparams["data_folder"],
            "cache_folder": hparams["cache_folder"],
        }
        run_on_main(prepare_starter_corpus, kwargs=kwargs)
    datasets = dataio_prep(
        {
            "data_folder": hparams["data_folder"],
            "train_annotation": hparams["train_annotation"],
            "valid_annotation": hparams["valid_annotation"],
            "test_annotation": hparams["test_annotation"],
            "noise_annotation": hparams["noise_annotation"],
            "segment_seconds": hparams["segment_seconds"],
            "sample_rate": hparams["sample_rate"],
            "train_snr_range": hparams["train_snr_range"],
            "second_noise_prob": hparams["second_noise_prob"],
            "noise_speed_prob": hparams["noise_speed_prob"],
            "noise_eq_prob": hparams["noise_eq_prob"],
            "reverb_prob": hparams["reverb_prob"],
            "bandlimit_prob": hparams["bandlimit_prob"],
        }
    )

    brain = DiffGMMBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    sampler = ReproducibleWeightedRandomSampler(
        speaker_weights(datasets["train"], hparams["train_speaker_balance"]),
        num_samples=hparams["train_samples_per_epoch"],
        replacement=True,
        seed=hparams["seed"],
    )
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs={**hparams["train_dataloader_opts"], "sampler": sampler},
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )

    brain.evaluate(
        datasets["test"],
        max_key="pesq",
        test_loader_kwargs=hparams["test_dataloader_opts"],
    )

    # Real noisy recordings (e.g. VoiceBank+DEMAND pairs), evaluation only.
    if real_folder:
        manifest = os.path.join(hparams["output_folder"], "real_test.json")
        run_on_main(
            write_pairs_manifest, args=[real_folder, manifest, hparams["sample_rate"]]
        )
        brain.test_name = "real"
        brain.evaluate(
            pair_dataset(load_manifest(manifest, hparams["data_folder"])),
            max_key="pesq",
            test_loader_kwargs=hparams["test_dataloader_opts"],
        )


if __name__ == "__main__":
    try:
        main()
    except (AudioError, CheckpointError, SourceUnavailable) as err:
        logger.error("%s", err)
        sys.exit(f"train.py: error: {err}")
    leave_process_group()
