"""One rank of the DDP non-finite test (``test_nonfinite.py``), run by torchrun.

Trains the tiny model for one epoch of 4 single-utterance batches per rank
on the gloo backend, with an intra-epoch checkpoint after every step; the
second batch of rank 0 holds a NaN sample. Each rank writes its final
weights (``rank<r>.pt``) and counters (``rank<r>.json``) into the folder
given as the only argument.
"""

import json
import os
import sys

import speechbrain as sb
import torch
from speechbrain.dataio.batch import PaddedBatch
from speechbrain.utils.epoch_loop import EpochCounter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tiny_model import tiny_model  # noqa: E402

from diffgmm_sb.training.brain import DiffGMMBrain, unwrap  # noqa: E402
from diffgmm_sb.training.checkpoints import AtomicCheckpointer  # noqa: E402
from diffgmm_sb.training.recipe import leave_process_group  # noqa: E402

NAN_ITEM = 2  # DistributedSampler without shuffling: rank 0 gets items 0, 2, 4, 6


def _items():
    gen = torch.Generator().manual_seed(0)
    items = []
    for i in range(8):
        clean = torch.randn(1600, generator=gen) * 0.1
        noisy = clean + torch.randn(1600, generator=gen) * 0.05
        if i == NAN_ITEM:
            noisy[100] = float("nan")
        items.append({"id": f"u{i}", "noisy_sig": noisy, "clean_sig": clean})
    return items


def main(out):
    """Runs the epoch and writes this rank's results into ``out``."""
    run_opts = {"device": "cpu", "distributed_backend": "gloo", "ckpt_interval_steps": 1}
    sb.utils.distributed.ddp_init_group(run_opts)
    model, counter = tiny_model(), EpochCounter(1)
    brain = DiffGMMBrain(
        modules={"diffgmm": model},
        opt_class=lambda params: torch.optim.AdamW(params, lr=1e-2),
        hparams={"nll_weight": 0.1, "mse_weight": 1.0, "stft_weight": 1.0},
        run_opts=run_opts,
        checkpointer=AtomicCheckpointer(
            os.path.join(out, "save"), {"diffgmm": model, "counter": counter}
        ),
    )
    brain.fit(
        counter,
        _items(),
        train_loader_kwargs={"batch_size": 1, "collate_fn": PaddedBatch},
    )
    rank = brain.rank if hasattr(brain, "rank") else 0
    torch.save(
        unwrap(brain.modules.diffgmm).state_dict(), os.path.join(out, f"rank{rank}.pt")
    )
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(
            {
                "steps": brain.optimizer_step,
                "nonfinite_count": brain.nonfinite_count,
                "skipped_batches": brain.train_stats.get("skipped_batches", 0),
            },
            f,
        )
    leave_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
