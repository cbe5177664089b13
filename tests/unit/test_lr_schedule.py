"""The Brain's learning-rate schedule: per epoch, applied after validation."""

import speechbrain as sb
import torch
from speechbrain.dataio.batch import PaddedBatch
from speechbrain.nnet.schedulers import LinearScheduler
from speechbrain.utils.train_logger import FileTrainLogger
from tiny_model import tiny_model

from diffgmm_sb.training.brain import DiffGMMBrain


def _batches(count):
    torch.manual_seed(0)
    clean = 0.1 * torch.randn(count, 1600)
    return [
        PaddedBatch(
            [
                {
                    "id": f"u{i}",
                    "noisy_sig": clean[i] + 0.05 * torch.randn(1600),
                    "clean_sig": clean[i],
                }
            ]
        )
        for i in range(count)
    ]


class _NoCheckpoints:
    """Stands in for the Checkpointer: the validation stage saves nothing."""

    def save_and_keep_only(self, **kwargs):
        """Keeps nothing."""


def _brain(tmp_path, **schedules):
    hparams = {
        "nll_weight": 0.1,
        "mse_weight": 1.0,
        "stft_weight": 0.0,
        "lr_annealing": LinearScheduler(1e-3, 1e-4, 2),
        "train_logger": FileTrainLogger(str(tmp_path / "log.txt")),
        **schedules,
    }
    return DiffGMMBrain(
        modules={"diffgmm": tiny_model()},
        opt_class=lambda params: torch.optim.AdamW(params, lr=1e-3),
        hparams=hparams,
        run_opts={"device": "cpu"},
    )


def _train(brain, batches):
    brain.init_optimizers()
    brain.checkpointer = _NoCheckpoints()
    brain.nonfinite_count = 0
    brain.on_stage_start(sb.Stage.TRAIN, epoch=1)
    for batch in batches:
        brain.step += 1
        brain.fit_batch(batch)
    brain.on_stage_end(sb.Stage.TRAIN, 0.0, epoch=1)
    brain.on_stage_start(sb.Stage.VALID, epoch=1)
    brain.on_stage_end(sb.Stage.VALID, 0.0, epoch=1)


def test_the_epoch_schedule_sets_the_rate_after_validation(tmp_path, monkeypatch):
    monkeypatch.setattr(DiffGMMBrain, "_summary", lambda self, stage, loss: {"pesq": 1.0})
    brain = _brain(tmp_path)
    _train(brain, _batches(4))
    assert brain.optimizer.param_groups[0]["lr"] == LinearScheduler(1e-3, 1e-4, 2)(1)[1]
