#!/usr/bin/env python3
"""Training throughput: seconds of audio trained per wall-clock second.

Runs one training epoch of the recipe (no validation, no checkpoint) on the
prepared starter corpus and prints the throughput; with ``torchrun`` it
measures DDP (each process takes its share of the epoch's samples)::

    python benchmarks/train_throughput.py hparams/diffgmm.yaml
    torchrun --nproc_per_node=2 benchmarks/train_throughput.py hparams/diffgmm.yaml \\
        --distributed_backend=gloo

Any recipe override works (``--batch_size=32``, ``--precision=bf16``,
``--train_samples_per_epoch=960``, ...). The first 5 batches are warm-up and
not counted.

Authors
 * diffgmm-sb developers 2026
"""

import os
import sys
import tempfile
import time

import speechbrain as sb
import torch
from hyperpyyaml import load_hyperpyyaml
from speechbrain.dataio.sampler import ReproducibleRandomSampler
from speechbrain.utils.distributed import if_main_process

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from diffgmm_sb.data.manifests import dataio_prep  # noqa: E402
from diffgmm_sb.training.brain import DiffGMMBrain  # noqa: E402
from diffgmm_sb.training.recipe import leave_process_group  # noqa: E402

WARMUP_BATCHES = 5


class TimedBrain(DiffGMMBrain):
    """Records the time of every training batch after the warm-up."""

    def on_fit_start(self):
        """Starts the batch clock."""
        super().on_fit_start()
        self.batch_times = []

    def fit_batch(self, batch):
        """Times one optimisation step (forward, backward, update)."""
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = super().fit_batch(batch)
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        self.batch_times.append(time.perf_counter() - start)
        return loss


def main():
    """Trains one epoch and prints the throughput (main process)."""
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:])
    workdir = tempfile.mkdtemp(prefix="diffgmm_throughput_")
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(
            fin,
            {"output_folder": workdir, "skip_prep": True, "number_of_epochs": 1}
            | _as_dict(overrides),
        )
    sb.utils.distributed.ddp_init_group(run_opts)
    datasets = dataio_prep(hparams)
    brain = TimedBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
    )
    sampler = ReproducibleRandomSampler(
        datasets["train"],
        replacement=True,
        num_samples=hparams["train_samples_per_epoch"],
        seed=hparams["seed"],
    )
    start = time.perf_counter()
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        None,
        train_loader_kwargs={**hparams["train_dataloader_opts"], "sampler": sampler},
    )
    wall = time.perf_counter() - start
    world = int(os.environ.get("WORLD_SIZE", "1"))
    timed = brain.batch_times[WARMUP_BATCHES:]
    audio_per_batch = hparams["batch_size"] * hparams["segment_seconds"] * world
    if if_main_process():
        print(
            f"processes={world} device={brain.device} precision={brain.precision} "
            f"batch={hparams['batch_size']}x{hparams['segment_seconds']}s "
            f"steps/s={len(timed) / sum(timed):.2f} "
            f"audio_s/s={audio_per_batch * len(timed) / sum(timed):.1f} "
            f"epoch_wall={wall:.1f}s (incl. data loading)"
        )
    leave_process_group()


def _as_dict(overrides):
    """SpeechBrain's override string as a dict."""
    import yaml

    return yaml.safe_load(overrides) or {} if overrides else {}


if __name__ == "__main__":
    main()
