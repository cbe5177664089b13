"""Schedule endpoints, corruption, and the reverse process with an oracle."""

import pytest
import torch

from diffgmm_sb.model.diffusion import NoiseSchedule, reverse_process
from diffgmm_sb.model.mixture import GaussianMixture


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("steps", [1, 4, 10])
def test_schedule_endpoints_and_monotone(kind, steps):
    sched = NoiseSchedule(num_steps=steps, sigma_max=0.3, kind=kind)
    assert sched.gamma[0] == 0.0 and sched.gamma[-1] == 1.0
    assert torch.all(sched.gamma[1:] > sched.gamma[:-1])
    assert sched.sigma[0] == 0.0 and sched.sigma[-1] == 0.0
    assert torch.all(sched.sigma <= 0.3 / 2 + 1e-6)


def test_corrupt_endpoints_are_clean_and_noisy():
    sched = NoiseSchedule(num_steps=6, sigma_max=0.5)
    s, n = torch.randn(2, 100), torch.randn(2, 100)
    assert torch.equal(sched.corrupt(s, n, torch.tensor([0, 0])), s)
    assert torch.allclose(sched.corrupt(s, n, torch.tensor([6, 6])), s + n)


def _oracle(clean):
    def estimate(x_t, noisy, t):
        r = (x_t - clean).unsqueeze(1).repeat(1, 3, 1)
        return GaussianMixture(torch.zeros_like(r), r, torch.full_like(r, -20.0))

    return estimate


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("mode", ["mean", "draw"])
def test_reverse_process_with_oracle_returns_clean(kind, mode):
    sched = NoiseSchedule(num_steps=8, sigma_max=0.2, kind=kind)
    s, n = torch.randn(3, 400), torch.randn(3, 400)
    for steps in (1, 3, 8):
        out = reverse_process(
            _oracle(s),
            s + n,
            sched,
            steps=steps,
            mode=mode,
            generator=torch.Generator().manual_seed(0),
        )
        assert torch.allclose(out, s, atol=1e-5), (steps, (out - s).abs().max())


def test_reverse_process_visits_intermediate_levels():
    # With an oracle the state after each step is s + gamma_t' n exactly.
    sched = NoiseSchedule(num_steps=4, kind="linear")
    s, n = torch.randn(1, 50), torch.randn(1, 50)
    seen = []

    def oracle(x_t, noisy, t):
        seen.append(torch.allclose(x_t, s + sched.gamma[t[0]] * n, atol=1e-5))
        r = (x_t - s).unsqueeze(1)
        return GaussianMixture(torch.zeros_like(r), r, torch.zeros_like(r))

    reverse_process(oracle, s + n, sched)
    assert seen == [True] * 4


def test_bad_sampler_arguments():
    sched = NoiseSchedule(num_steps=4)
    with pytest.raises(ValueError, match="steps"):
        sched.inference_timesteps(5)
    with pytest.raises(ValueError, match="sampler mode"):
        reverse_process(_oracle(torch.zeros(1, 4)), torch.zeros(1, 4), sched, mode="x")


@pytest.mark.parametrize("prob", [0.0, 0.5])
def test_final_step_prob_sets_the_share_of_t_equal_T(prob):
    torch.manual_seed(0)
    t = NoiseSchedule(num_steps=6, final_step_prob=prob).sample_timesteps(60000)
    assert int(t.min()) == 1 and int(t.max()) == 6
    share = float((t == 6).float().mean())
    expected = prob + (1 - prob) / 6  # drawn at T, or uniform and landing on T
    assert abs(share - expected) < 0.01, share
    others = torch.bincount(t, minlength=7)[1:6].float()
    assert float(others.max() / others.min()) < 1.1  # 1..T-1 stay uniform


def test_final_step_prob_out_of_range():
    with pytest.raises(ValueError, match="final_step_prob"):
        NoiseSchedule(final_step_prob=1.5)
