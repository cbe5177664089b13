"""The training losses on the clean estimate (diffgmm_sb.training.losses)."""

import pytest
import speechbrain as sb
import torch
from speechbrain.dataio.batch import PaddedBatch
from tiny_model import tiny_model

from diffgmm_sb.training.brain import DiffGMMBrain
from diffgmm_sb.training.losses import PesqSurrogateLoss


def test_pesq_surrogate_ranks_like_pesq_and_has_finite_gradients():
    """Less residual noise scores a lower disturbance; silent rows are left out."""
    torch.manual_seed(0)
    clean = 0.1 * torch.randn(3, 16000)
    noise = 0.1 * torch.randn(3, 16000)
    loss = PesqSurrogateLoss()
    values = [float(loss(clean + g * noise, clean)) for g in (0.05, 0.3, 1.0)]
    assert values[0] < values[1] < values[2]
    estimate = (clean + 0.3 * noise).requires_grad_()
    target = clean.clone()
    target[1] = 0.0  # digital silence: no P.862 level, not scored
    value = loss(estimate, target)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(estimate.grad).all()
    assert float(estimate.grad[1].abs().max()) == 0.0
    assert float(estimate.grad[0].abs().max()) > 0.0


def test_pesq_surrogate_has_finite_gradients_on_padded_rows():
    """Zeroed padding after a shorter utterance (a batch of 2 s segments) gave NaN."""
    torch.manual_seed(0)
    clean = 0.1 * torch.randn(2, 32000)
    clean[:, 20000:] = 0.0
    estimate = clean + 0.05 * torch.randn(2, 32000)
    estimate[:, 20000:] = 0.0
    estimate.requires_grad_()
    value = PesqSurrogateLoss()(estimate, clean)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(estimate.grad).all()
    assert float(estimate.grad[:, :20000].abs().max()) > 0.0


def _brain_with(weights):
    brain = DiffGMMBrain(
        modules={"diffgmm": tiny_model()},
        hparams={"nll_weight": 0.1, "mse_weight": 1.0, "stft_weight": 1.0, **weights},
        run_opts={"device": "cpu"},
    )
    brain.modules.diffgmm.load_state_dict(tiny_model().state_dict())
    return brain


@pytest.mark.parametrize(
    "key,term,function",
    [
        ("pesq_weight", "pesq_loss", PesqSurrogateLoss()),
    ],
)
def test_brain_adds_the_weighted_term_and_logs_it(key, term, function):
    torch.manual_seed(0)
    clean = 0.1 * torch.randn(2, 1600)
    batch = PaddedBatch(
        [
            {
                "id": f"u{i}",
                "noisy_sig": clean[i] + 0.05 * torch.randn(1600),
                "clean_sig": clean[i],
            }
            for i in range(2)
        ]
    )
    losses, logged = {}, {}
    for weight in (0.0, 2.0):
        brain = _brain_with({key: weight})
        torch.manual_seed(1)  # the same diffusion step in both runs
        brain.on_stage_start(sb.Stage.TRAIN, epoch=1)
        predictions = brain.compute_forward(batch, sb.Stage.TRAIN)
        losses[weight] = brain.compute_objectives(predictions, batch, sb.Stage.TRAIN)
        logged[weight] = brain._loss_term_means()
        mixture, x_t, residual, mask, _ = predictions
        expected = function((x_t - mixture.mean()) * mask, x_t - residual)
    assert term not in logged[0.0]
    assert logged[2.0][term] == pytest.approx(float(expected), rel=1e-5)
    assert float(losses[2.0] - losses[0.0]) == pytest.approx(2 * float(expected), rel=1e-4)
