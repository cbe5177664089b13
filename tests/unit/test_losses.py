"""The spectral training losses on the clean estimate (diffgmm_sb.training.losses)."""

import math

import pytest
import speechbrain as sb
import torch
from speechbrain.dataio.batch import PaddedBatch
from tiny_model import tiny_model

from diffgmm_sb.evaluation.metrics import stoi
from diffgmm_sb.training.brain import DiffGMMBrain
from diffgmm_sb.training.losses import (
    PesqSurrogateLoss,
    StoiSurrogateLoss,
    loudness_loss,
    multi_resolution_stft_loss,
)


def _tone(freq, seconds=1.0, sample_rate=16000, amplitude=0.1):
    t = torch.arange(int(seconds * sample_rate)) / sample_rate
    return amplitude * torch.sin(2 * math.pi * freq * t).unsqueeze(0)


def test_loudness_loss_weighs_low_frequencies_as_critical_bands_do():
    """An error at 500 Hz counts more than the same error at 6 kHz, unlike linear bins."""
    speech = 0.1 * torch.randn(1, 16000)
    low, high = speech + _tone(500), speech + _tone(6000)
    loudness = loudness_loss(low, speech) / loudness_loss(high, speech)
    linear = multi_resolution_stft_loss(low, speech) / multi_resolution_stft_loss(
        high, speech
    )
    assert loudness > 1.5
    assert loudness > 1.5 * linear


def test_excess_weight_charges_residual_noise_more_than_lost_speech():
    torch.manual_seed(0)
    speech = 0.1 * torch.randn(1, 16000)
    noisy = speech + 0.05 * torch.randn(1, 16000)  # louder than the target
    quiet = 0.5 * speech  # quieter than the target
    ratio_noisy = multi_resolution_stft_loss(
        noisy, speech, excess_weight=3.0
    ) / multi_resolution_stft_loss(noisy, speech)
    ratio_quiet = multi_resolution_stft_loss(
        quiet, speech, excess_weight=3.0
    ) / multi_resolution_stft_loss(quiet, speech)
    assert ratio_noisy > 1.2  # the compressed term triples, spectral convergence stays
    assert abs(float(ratio_quiet) - 1.0) < 0.05


def test_loudness_loss_has_finite_gradients_on_digital_silence():
    target = torch.zeros(2, 8000)
    target[0, :4000] = 0.1 * torch.randn(4000)
    estimate = torch.zeros(2, 8000, requires_grad=True)
    loss = loudness_loss(estimate, target)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(estimate.grad).all()


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


@pytest.mark.parametrize("mos", [False, True])
def test_pesq_surrogate_has_finite_gradients_on_padded_rows(mos):
    """Zeroed padding after a shorter utterance (a batch of 2 s segments) gave NaN."""
    torch.manual_seed(0)
    clean = 0.1 * torch.randn(2, 32000)
    clean[:, 20000:] = 0.0
    estimate = clean + 0.05 * torch.randn(2, 32000)
    estimate[:, 20000:] = 0.0
    estimate.requires_grad_()
    value = PesqSurrogateLoss(mos=mos)(estimate, clean)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(estimate.grad).all()
    assert float(estimate.grad[:, :20000].abs().max()) > 0.0


def test_pesq_surrogate_on_mos_rises_with_the_noise():
    """4.64 - MOS-LQO rises with the noise; an undisturbed signal costs (nearly) 0."""
    torch.manual_seed(0)
    clean = 0.1 * torch.randn(3, 16000)
    noise = 0.1 * torch.randn(3, 16000)
    mos = PesqSurrogateLoss(mos=True)
    values = [float(mos(clean + g * noise, clean)) for g in (0.05, 0.3, 1.0, 3.0)]
    assert values[0] < values[1] < values[2] < values[3] < 3.64
    assert float(mos(clean, clean)) < 0.01


def _speech_like(rows=3, seconds=1.0, sample_rate=16000):
    """Noise under a 4 Hz syllable-rate envelope: STOI needs modulated envelopes."""
    n = int(seconds * sample_rate)
    envelope = torch.sin(torch.arange(n) * (math.pi * 4 / sample_rate)).pow(2)
    return 0.1 * torch.randn(rows, n) * envelope


def test_stoi_surrogate_follows_pystoi_and_has_finite_gradients():
    """1 - STOI rises with the noise like pystoi's STOI falls; silent rows are left out."""
    torch.manual_seed(0)
    clean = _speech_like()
    noise = 0.1 * torch.randn(3, 16000)
    loss = StoiSurrogateLoss()
    for gain in (0.1, 0.5, 1.0):
        noisy = clean + gain * noise
        surrogate = float(loss(noisy, clean))
        reference = 1.0 - float(stoi(noisy, clean).mean())
        assert surrogate == pytest.approx(reference, abs=0.03)
    estimate = (clean + 0.3 * noise).requires_grad_()
    target = clean.clone()
    target[1] = 0.0  # digital silence: not scored
    value = loss(estimate, target)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(estimate.grad).all()
    assert float(estimate.grad[1].abs().max()) == 0.0
    assert float(estimate.grad[0].abs().max()) > 0.0
    short = loss(clean[:, :1600] + 0.3 * noise[:, :1600], clean[:, :1600])
    assert torch.isfinite(short)  # shorter than one STOI segment: padded


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
        ("loudness_weight", "loudness", loudness_loss),
        ("pesq_weight", "pesq_loss", PesqSurrogateLoss()),
        ("stoi_weight", "stoi_loss", StoiSurrogateLoss()),
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
