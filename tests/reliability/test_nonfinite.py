"""Non-finite losses and gradients never reach the weights (one process and DDP).

A batch with NaN samples gives a NaN loss; a gradient hook gives NaN
gradients under a finite loss. Either way the step must be skipped (weights
and optimizer state bit-identical), counted by SpeechBrain's guard against
``nonfinite_patience``, logged, and reported in the epoch's statistics. In
a 2-process gloo DDP run with the NaN batch on one rank only, both ranks
must skip the same step and end with identical weights.
"""

import json
import os
import subprocess

import pytest
import speechbrain as sb
import torch
from recipe import DDP_LAUNCHER, ROOT, errors
from speechbrain.dataio.batch import PaddedBatch
from tiny_model import tiny_model

from diffgmm_sb.training.brain import DiffGMMBrain
from diffgmm_sb.training.checkpoints import AtomicCheckpointer

HPARAMS = {"nll_weight": 0.1, "mse_weight": 1.0, "stft_weight": 1.0}


def _batch(nan=False, seed=0):
    gen = torch.Generator().manual_seed(seed)
    clean = torch.randn(2, 1600, generator=gen) * 0.1
    noisy = clean + torch.randn(2, 1600, generator=gen) * 0.05
    if nan:
        noisy[0, 100] = float("nan")
    return PaddedBatch(
        [
            {"id": f"u{i}", "noisy_sig": noisy[i], "clean_sig": clean[i]}
            for i in range(len(clean))
        ]
    )


def _brain(precision="fp32", patience=3):
    brain = DiffGMMBrain(
        modules={"diffgmm": tiny_model()},
        opt_class=lambda params: torch.optim.AdamW(params, lr=1e-2),
        hparams=HPARAMS,
        run_opts={"device": "cpu", "precision": precision, "nonfinite_patience": patience},
    )
    brain.init_optimizers()
    brain.modules.train()
    brain.on_stage_start(sb.Stage.TRAIN, epoch=1)
    brain.nonfinite_count = 0  # as at the start of each epoch (Brain._fit_train)
    return brain


def _state(brain):
    return {k: v.clone() for k, v in brain.modules.diffgmm.state_dict().items()}


def _unchanged(brain, before):
    after = brain.modules.diffgmm.state_dict()
    return all(torch.equal(after[k], v) for k, v in before.items())


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_nan_loss_batch_is_skipped_counted_and_reported(precision, caplog):
    brain = _brain(precision)
    before = _state(brain)
    loss = brain.fit_batch(_batch(nan=True))
    assert not torch.isfinite(loss)
    assert _unchanged(brain, before) and not brain.optimizer.state
    assert brain.nonfinite_count == 1
    assert (
        "Non-finite training loss" in caplog.text and "weights are unchanged" in caplog.text
    )
    assert brain.update_average(loss, 0.5) == 0.5  # the running loss ignores it
    # A finite batch still trains, and the epoch's statistics report the skip.
    assert torch.isfinite(brain.fit_batch(_batch()))
    assert not _unchanged(brain, before)
    brain.on_stage_end(sb.Stage.TRAIN, 0.5, epoch=1)
    assert brain.train_stats["skipped_batches"] == 1
    assert all(torch.isfinite(torch.tensor(v)) for v in brain.train_stats.values())


def test_nonfinite_gradients_under_a_finite_loss_are_skipped(caplog):
    brain = _brain()
    before = _state(brain)
    weight = brain.modules.diffgmm.head.proj.weight
    hook = weight.register_hook(lambda grad: grad * float("inf"))
    assert torch.isfinite(brain.fit_batch(_batch()))
    hook.remove()
    assert _unchanged(brain, before) and brain.nonfinite_count == 1
    assert "Non-finite gradients" in caplog.text


def test_patience_exhausted_stops_the_run():
    brain = _brain(patience=1)
    brain.fit_batch(_batch(nan=True))
    with pytest.raises(ValueError, match="Loss is not finite and patience is exhausted"):
        brain.fit_batch(_batch(nan=True))


def test_two_process_ddp_skips_the_same_step_on_both_ranks(tmp_path):
    """rank 0 alone sees a NaN batch; gloo DDP, intra-epoch atomic checkpoints."""
    job = os.path.join(os.path.dirname(__file__), "ddp_nonfinite_job.py")
    proc = subprocess.run(
        [*DDP_LAUNCHER, job, str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
        timeout=180,
    )
    assert proc.returncode == 0, errors(proc.stderr)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["steps"] for r in ranks] == [3, 3]  # 4 batches, 1 step skipped
    assert [r["nonfinite_count"] for r in ranks] == [1, 1]  # rank 1 via the gradients
    assert ranks[0]["skipped_batches"] == ranks[1]["skipped_batches"] == 1
    weights = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    initial = tiny_model().state_dict()
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]) and torch.isfinite(value).all()
    assert any(not torch.equal(weights[0][k], initial[k]) for k in initial)  # it trained
    # The intra-epoch checkpoints written under DDP are complete and load.
    save = tmp_path / "save"
    assert not [n for n in os.listdir(save) if not n.startswith("CKPT+")]
    model = tiny_model(seed=1)
    checkpointer = AtomicCheckpointer(save, {"diffgmm": model})
    assert checkpointer.recover_if_possible() is not None
    for key, value in weights[0].items():
        assert torch.equal(model.state_dict()[key], value)
