#!/usr/bin/env python3
"""Recipe for training and evaluating DiffGMM on BirdSoundsDenoising.

DiffGMM (Diffusion Gaussian Mixture audio denoising) removes noise step by
step with a reverse diffusion process whose network estimates, for every
sample, a Gaussian mixture of the remaining noise. The model, the training
loop and the measures come from the ``diffgmm_sb`` package (pip install
diffgmm-sb); this folder holds only the recipe.

BirdSoundsDenoising (Zhang & Li, WACV 2023) pairs noisy field recordings of
birds with references made from labelled spectrogram masks; it is the second
benchmark of the DiffGMM paper, scored with SDR.

To run this recipe, do the following:
> python train.py hparams/diffgmm.yaml --data_folder=/path/to/BirdSoundsDenoising

``data_folder`` holds the dataset's split folders (see birdsounds_prepare.py
for the layout assumed). The mixture-size baselines are YAML overrides:
``--num_components=1`` (single Gaussian), ``2``, ``4``, ``8``. After training,
the best checkpoint (validation SDR) enhances the test set, and
``test_metrics.md`` / ``test_metrics.csv`` in the output folder hold SDR and
SI-SDR of the noisy and enhanced audio.

Authors
 * diffgmm-sb developers 2026
"""

import os
import sys

import speechbrain as sb
from birdsounds_prepare import prepare_birdsounds
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.distributed import run_on_main

from diffgmm_sb.data.manifests import dataio_prep
from diffgmm_sb.evaluation.test_set import score_test_set
from diffgmm_sb.training.recipe import leave_process_group

if __name__ == "__main__":
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:])
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)

    sb.utils.distributed.ddp_init_group(run_opts)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )

    run_on_main(
        prepare_birdsounds,
        kwargs={
            "data_folder": hparams["data_folder"],
            "save_folder": hparams["output_folder"],
            "sample_rate": hparams["sample_rate"],
            "noisy_folder": hparams["noisy_folder"],
            "clean_folder": hparams["clean_folder"],
            "skip_prep": hparams["skip_prep"],
        },
    )
    datasets = dataio_prep(
        {
            "data_folder": hparams["data_folder"],
            "train_annotation": hparams["train_annotation"],
            "valid_annotation": hparams["valid_annotation"],
            "test_annotation": hparams["test_annotation"],
            "segment_seconds": hparams["segment_seconds"],
            "sample_rate": hparams["sample_rate"],
        }
    )

    brain = hparams["brain_class"](
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs=hparams["train_dataloader_opts"],
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )
    brain.evaluate(
        datasets["test"],
        max_key=hparams["checkpoint_metric"],
        test_loader_kwargs=hparams["test_dataloader_opts"],
    )

    # Full measures of the enhanced test set (and of its noisy input).
    run_on_main(
        score_test_set,
        kwargs={
            "manifest": hparams["test_annotation"],
            "data_folder": hparams["data_folder"],
            "enhanced_folder": os.path.join(hparams["enhanced_folder"], "test"),
            "output_folder": hparams["output_folder"],
            "measures": "sdr",
        },
    )
    leave_process_group()
