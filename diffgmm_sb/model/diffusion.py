"""The DiffGMM diffusion process: schedule, forward corruption, reverse sampler.

Forward process (``t = 0..T``), with clean speech ``s`` and real noise ``n``::

    x_t = s + gamma_t * n + sigma_t * eps,   eps ~ N(0, I)
    gamma_0 = 0, gamma_T = 1,  sigma_t = sigma_max * sqrt(gamma_t * (1 - gamma_t))

so ``x_T = s + n`` is the noisy recording and ``x_0 = s`` the clean speech.
The reverse process starts at the noisy input, estimates the residual
``r_t = x_t - s`` with the network's Gaussian mixture, turns it into a noise
estimate ``n_hat = r_hat / gamma_t`` and removes the noise step by step::

    x_{t'} = x_t - (gamma_t - gamma_{t'}) * n_hat  (+ sigma_{t'} * z when drawing)

for a decreasing sequence of timesteps ending at ``t' = 0``. The last step
removes the whole estimated residual, so an oracle residual gives back ``s``
exactly. See ``docs/method.md``.

Authors
 * diffgmm-sb developers 2026
"""

import math

import torch
from torch import nn

SAMPLER_MODES = ("mean", "draw")


class NoiseSchedule(nn.Module):
    """The monotone schedule gamma_t and the corruption scale sigma_t.

    Arguments
    ---------
    num_steps : int
        T, the number of diffusion steps.
    sigma_max : float
        Peak Gaussian corruption scale (normalised signal units).
    kind : str
        ``"linear"`` (gamma_t = t / T) or ``"cosine"``
        (gamma_t = sin^2(pi t / 2T), finer steps near both ends).
    final_step_prob : float
        Probability that a training example is drawn at ``t = T`` (the noisy
        input itself, where a one-step sampler evaluates the network); the
        other examples draw ``t`` uniformly in ``1..T``. 0 (default): uniform.

    Example
    -------
    >>> sched = NoiseSchedule(num_steps=4, sigma_max=0.1, kind="linear")
    >>> sched.gamma
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    >>> float(sched.sigma[0]), float(sched.sigma[-1])
    (0.0, 0.0)
    """

    def __init__(self, num_steps=6, sigma_max=0.05, kind="cosine", final_step_prob=0.0):
        super().__init__()
        if num_steps < 1:
            raise ValueError("num_steps (T) must be at least 1")
        if not 0.0 <= final_step_prob <= 1.0:
            raise ValueError(f"final_step_prob must be in [0, 1], got {final_step_prob}")
        self.final_step_prob = float(final_step_prob)
        frac = torch.arange(num_steps + 1, dtype=torch.float32) / num_steps
        if kind == "linear":
            gamma = frac
        elif kind == "cosine":
            gamma = torch.sin(0.5 * math.pi * frac).pow(2)
        else:
            raise ValueError(f"unknown schedule kind {kind!r} (linear, cosine)")
        gamma[0], gamma[-1] = 0.0, 1.0
        sigma = sigma_max * torch.sqrt((gamma * (1.0 - gamma)).clamp(min=0.0))
        self.num_steps = num_steps
        self.register_buffer("gamma", gamma, persistent=False)
        self.register_buffer("sigma", sigma, persistent=False)

    def sample_timesteps(self, batch_size, device=None):
        """Random timesteps in ``1..T``, one per example.

        Uniform, except that a fraction ``final_step_prob`` is set to ``T``.

        Example
        -------
        >>> sched = NoiseSchedule(num_steps=6, final_step_prob=1.0)
        >>> sched.sample_timesteps(3).tolist()
        [6, 6, 6]
        """
        t = torch.randint(1, self.num_steps + 1, (batch_size,), device=device)
        if self.final_step_prob > 0:
            at_end = torch.rand(batch_size, device=device) < self.final_step_prob
            t = torch.where(at_end, torch.full_like(t, self.num_steps), t)
        return t

    def corrupt(self, clean, noise, t, eps=None):
        """Forward process: ``x_t`` for clean ``s``, noise ``n`` at timesteps ``t``.

        Arguments
        ---------
        clean, noise : torch.Tensor
            ``[batch, time]`` clean speech and noise (``noisy = clean + noise``).
        t : torch.Tensor
            ``[batch]`` integer timesteps.
        eps : torch.Tensor, optional
            The Gaussian draw; sampled when omitted.

        Returns
        -------
        torch.Tensor
            ``x_t``, ``[batch, time]``.

        Example
        -------
        >>> sched = NoiseSchedule(num_steps=4)
        >>> s, n = torch.zeros(2, 5), torch.ones(2, 5)
        >>> sched.corrupt(s, n, torch.tensor([0, 4]))
        tensor([[0., 0., 0., 0., 0.],
                [1., 1., 1., 1., 1.]])
        """
        if eps is None:
            eps = torch.randn_like(clean)
        gamma = self.gamma[t].unsqueeze(-1)
        sigma = self.sigma[t].unsqueeze(-1)
        return clean + gamma * noise + sigma * eps

    def inference_timesteps(self, steps=None):
        """The decreasing timesteps ``T = t_0 > ... > t_steps = 0`` to visit.

        Example
        -------
        >>> NoiseSchedule(num_steps=6).inference_timesteps(3)
        [6, 4, 2, 0]
        >>> NoiseSchedule(num_steps=6).inference_timesteps(1)
        [6, 0]
        """
        steps = self.num_steps if steps is None else int(steps)
        if not 1 <= steps <= self.num_steps:
            raise ValueError(f"steps must be in 1..{self.num_steps}, got {steps}")
        grid = torch.linspace(self.num_steps, 0, steps + 1).round().long()
        return grid.tolist()


@torch.no_grad()
def reverse_process(
    estimate_mixture,
    noisy,
    schedule,
    steps=None,
    mode="mean",
    generator=None,
    final_gamma=0.0,
):
    """Runs the reverse process from the noisy input to the clean estimate.

    Arguments
    ---------
    estimate_mixture : callable
        ``estimate_mixture(x_t, noisy, t) -> GaussianMixture`` over the
        residual ``r_t = x_t - s``; ``t`` is a ``[batch]`` long tensor.
    noisy : torch.Tensor
        ``[batch, time]`` noisy input ``x = x_T``.
    schedule : NoiseSchedule
        The schedule the network was trained with.
    steps : int, optional
        Number of reverse steps (network evaluations), default T.
    mode : str
        ``"mean"`` takes the mixture mean as the residual estimate
        (deterministic); ``"draw"`` samples it from the mixture and adds the
        schedule's sigma term.
    generator : torch.Generator, optional
        Random source for ``"draw"``.
    final_gamma : float
        Noise level ``gamma_end`` in [0, 1) at which the process stops: the
        last step goes to ``gamma_end`` instead of ``gamma_0 = 0``, so a
        fraction ``gamma_end`` of the estimated noise is left in (0: remove
        all of it).

    Returns
    -------
    torch.Tensor
        The clean estimate ``x_0`` (``s + gamma_end n`` for ``gamma_end > 0``),
        ``[batch, time]``.

    Example
    -------
    >>> from diffgmm_sb.model.mixture import GaussianMixture
    >>> sched = NoiseSchedule(num_steps=4)
    >>> s, n = torch.randn(1, 8), torch.randn(1, 8)
    >>> def oracle(x_t, x, t):
    ...     r = (x_t - s).unsqueeze(1)
    ...     return GaussianMixture(torch.zeros_like(r), r, torch.zeros_like(r))
    >>> torch.allclose(reverse_process(oracle, s + n, sched), s, atol=1e-6)
    True
    >>> out = reverse_process(oracle, s + n, sched, final_gamma=0.2)
    >>> torch.allclose(out, s + 0.2 * n, atol=1e-6)
    True
    """
    if not 0.0 <= final_gamma < 1.0:
        raise ValueError(f"final_gamma must be in [0, 1), got {final_gamma}")
    if mode not in SAMPLER_MODES:
        raise ValueError(f"sampler mode must be one of {SAMPLER_MODES}, got {mode!r}")
    gamma, sigma = schedule.gamma, schedule.sigma
    grid = schedule.inference_timesteps(steps)
    x_t = noisy
    for t, t_next in zip(grid[:-1], grid[1:]):
        t_batch = torch.full((noisy.shape[0],), t, dtype=torch.long, device=noisy.device)
        mixture = estimate_mixture(x_t, noisy, t_batch)
        residual = mixture.mean() if mode == "mean" else mixture.sample(generator)
        noise_hat = residual / gamma[t]
        gamma_next = final_gamma if t_next == 0 else gamma[t_next]
        x_t = x_t - (gamma[t] - gamma_next) * noise_hat
        if mode == "draw" and t_next > 0:
            z = torch.randn(
                x_t.shape, generator=generator, device=x_t.device, dtype=x_t.dtype
            )
            x_t = x_t + sigma[t_next] * z
    return x_t
