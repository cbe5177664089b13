"""The mixture head and its likelihood against torch.distributions."""

import torch
from torch import distributions as D

from diffgmm_sb.model.mixture import (
    GaussianMixture,
    MixtureHead,
    mixture_nll,
    noise_prediction_loss,
)


def _random_mixture(batch=3, k=4, time=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    return GaussianMixture(
        logits=torch.randn(batch, k, time, generator=g),
        means=torch.randn(batch, k, time, generator=g),
        log_scales=0.5 * torch.randn(batch, k, time, generator=g),
    )


def _reference(mix):
    # torch.distributions over the last dim = components
    return D.MixtureSameFamily(
        D.Categorical(logits=mix.logits.permute(0, 2, 1)),
        D.Normal(mix.means.permute(0, 2, 1), mix.log_scales.exp().permute(0, 2, 1)),
    )


def test_log_prob_matches_mixture_same_family():
    for k in (1, 2, 4, 8):
        mix = _random_mixture(k=k, seed=k)
        value = 2.0 * torch.randn(3, 50)
        ours = mix.log_prob(value)
        ref = _reference(mix).log_prob(value)
        assert torch.allclose(ours, ref, atol=1e-5), (k, (ours - ref).abs().max())


def test_nll_is_masked_mean_of_reference():
    mix = _random_mixture()
    value = torch.randn(3, 50)
    mask = torch.ones(3, 50, dtype=torch.bool)
    mask[1, 30:] = False
    mask[2, 10:] = False
    ref = -_reference(mix).log_prob(value)[mask].mean()
    assert torch.allclose(mixture_nll(mix, value, mask), ref, atol=1e-5)


def test_log_prob_finite_far_from_every_mean():
    mix = _random_mixture()
    value = torch.full((3, 50), 1e4)
    assert torch.isfinite(mix.log_prob(value)).all()


def test_mean_matches_reference_and_mse_uses_it():
    mix = _random_mixture()
    assert torch.allclose(mix.mean(), _reference(mix).mean, atol=1e-6)
    target = torch.randn(3, 50)
    mask = torch.ones(3, 50)
    expected = (_reference(mix).mean - target).pow(2).mean()
    assert torch.allclose(noise_prediction_loss(mix, target, mask), expected, atol=1e-6)


def test_sample_statistics_match_mixture():
    mix = GaussianMixture(
        logits=torch.log(torch.tensor([0.25, 0.75])).view(1, 2, 1).expand(1, 2, 20000),
        means=torch.tensor([-2.0, 1.0]).view(1, 2, 1).expand(1, 2, 20000),
        log_scales=torch.log(torch.tensor([0.1, 0.5])).view(1, 2, 1).expand(1, 2, 20000),
    )
    draws = mix.sample(torch.Generator().manual_seed(0))
    assert abs(float(draws.mean()) - float(mix.mean().mean())) < 0.05
    assert abs(float((draws < -1.0).float().mean()) - 0.25) < 0.02


def test_head_scale_floor_and_k1():
    head = MixtureHead(8, num_components=1, min_scale=0.01)
    with torch.no_grad():
        head.proj.bias.fill_(-50.0)
    mix = head(torch.zeros(2, 8, 10))
    assert mix.num_components == 1
    assert torch.all(mix.log_scales.exp() >= 0.01 - 1e-7)
    assert torch.allclose(mix.weights, torch.ones_like(mix.weights))
