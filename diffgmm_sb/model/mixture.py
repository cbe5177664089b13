"""The Gaussian-mixture head of DiffGMM and its likelihood.

For every audio sample the head turns the U-Net features into the
parameters of a K-component Gaussian mixture over the residual
``r_t = x_t - s`` (what separates the current diffusion state from the clean
speech): mixture logits, means and log-scales. ``K = 1`` is the
single-Gaussian baseline.

Authors
 * diffgmm-sb developers 2026
"""

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

_LOG_2PI = math.log(2.0 * math.pi)


class GaussianMixture(NamedTuple):
    """Per-sample parameters of a K-component 1-D Gaussian mixture.

    Every tensor has shape ``[batch, K, time]``.

    Example
    -------
    >>> mix = GaussianMixture(
    ...     logits=torch.zeros(1, 2, 3),
    ...     means=torch.tensor([[[-1.0] * 3, [1.0] * 3]]),
    ...     log_scales=torch.zeros(1, 2, 3),
    ... )
    >>> mix.mean()
    tensor([[0., 0., 0.]])
    >>> mix.weights[0, :, 0]
    tensor([0.5000, 0.5000])
    """

    logits: torch.Tensor
    means: torch.Tensor
    log_scales: torch.Tensor

    @property
    def weights(self):
        """Mixture weights pi_k (softmax of the logits)."""
        return torch.softmax(self.logits, dim=1)

    @property
    def num_components(self):
        """K, the number of mixture components."""
        return self.logits.shape[1]

    def mean(self):
        """The mixture mean sum_k pi_k mu_k, shape ``[batch, time]``."""
        return (self.weights * self.means).sum(dim=1)

    def log_prob(self, value):
        """Log-density of ``value`` (``[batch, time]``) under the mixture.

        Computed with log-sum-exp over the components, so it stays finite
        for values far from every mean.
        """
        z = (value.unsqueeze(1) - self.means) * torch.exp(-self.log_scales)
        component = -0.5 * z.pow(2) - self.log_scales - 0.5 * _LOG_2PI
        log_weights = F.log_softmax(self.logits, dim=1)
        return torch.logsumexp(log_weights + component, dim=1)

    def sample(self, generator=None):
        """Draws one value per sample from the mixture, shape ``[batch, time]``."""
        batch, k, time = self.logits.shape
        probs = self.weights.permute(0, 2, 1).reshape(-1, k)
        choice = torch.multinomial(probs, 1, generator=generator)
        choice = choice.view(batch, 1, time)
        mu = self.means.gather(1, choice).squeeze(1)
        scale = self.log_scales.gather(1, choice).squeeze(1).exp()
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + scale * eps


class MixtureHead(nn.Module):
    """Per-sample linear layers (1x1 convolutions) giving the mixture.

    Arguments
    ---------
    in_channels : int
        Number of feature channels coming out of the U-Net.
    num_components : int
        K, the number of Gaussian components.
    min_scale : float
        Floor on every component's standard deviation (in the normalised
        signal units), which keeps the likelihood bounded.

    Example
    -------
    >>> head = MixtureHead(in_channels=8, num_components=4)
    >>> mix = head(torch.randn(2, 8, 100))
    >>> mix.means.shape
    torch.Size([2, 4, 100])
    >>> bool((mix.log_scales.exp() >= 1e-3).all())
    True
    """

    def __init__(self, in_channels, num_components=4, min_scale=1e-3):
        super().__init__()
        if num_components < 1:
            raise ValueError("num_components (K) must be at least 1")
        self.num_components = num_components
        self.min_scale = min_scale
        self.proj = nn.Conv1d(in_channels, 3 * num_components, kernel_size=1)

    def forward(self, features, state=None):
        """Maps ``[batch, channels, time]`` features to a GaussianMixture.

        ``state`` (the diffusion state ``x_t``) is accepted for the head
        interface of ``DiffGMM`` and not used: the means come from the
        features alone.
        """
        # float32 also under mixed precision (see MaskMixtureHead.forward).
        logits, means, raw_scales = self.proj(features).float().chunk(3, dim=1)
        scales = self.min_scale + F.softplus(raw_scales)
        return GaussianMixture(logits, means, torch.log(scales))


def masked_mean(values, mask):
    """Mean of ``values`` over the positions where ``mask`` is true.

    Example
    -------
    >>> masked_mean(torch.tensor([[1.0, 3.0, 100.0]]), torch.tensor([[1, 1, 0]]))
    tensor(2.)
    """
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def mixture_nll(mixture, target, mask):
    """Negative log-likelihood of ``target`` per valid sample (the ELBO term).

    Arguments
    ---------
    mixture : GaussianMixture
        Predicted per-sample mixture, ``[batch, K, time]`` tensors.
    target : torch.Tensor
        The true residual ``r_t``, ``[batch, time]``.
    mask : torch.Tensor
        ``[batch, time]``, true where the sample is not padding.

    Returns
    -------
    torch.Tensor
        Scalar mean NLL in nats per sample.

    Example
    -------
    >>> mix = GaussianMixture(
    ...     torch.zeros(1, 1, 2), torch.zeros(1, 1, 2), torch.zeros(1, 1, 2)
    ... )
    >>> round(mixture_nll(mix, torch.zeros(1, 2), torch.ones(1, 2)).item(), 4)
    0.9189
    """
    return masked_mean(-mixture.log_prob(target), mask)


def noise_prediction_loss(mixture, target, mask):
    """Squared error of the mixture mean against the residual (the lambda term).

    Example
    -------
    >>> mix = GaussianMixture(
    ...     torch.zeros(1, 1, 2), torch.ones(1, 1, 2), torch.zeros(1, 1, 2)
    ... )
    >>> noise_prediction_loss(mix, torch.zeros(1, 2), torch.ones(1, 2))
    tensor(1.)
    """
    return masked_mean((mixture.mean() - target).pow(2), mask)
