"""DiffGMM on STFT frames: a U-Net over spectra and a masking mixture head.

The waveform U-Net (``diffgmm_sb.model.unet.WaveUNet``) has to synthesise the noise
waveform sample by sample from features computed at a low frame rate. Here
the same 1-D U-Net runs over STFT frames instead (its channels are the
compressed magnitudes of the state ``x_t`` and of the noisy input ``x``), and
the mixture head builds every component mean by filtering the state:

    mu_k = iSTFT(M_k * STFT(x_t)),   M_k in [0, 1] per frame and frequency,

so a mean is a linear function of ``x_t`` whose coefficients (the masks
``M_k``) come from linear layers over the U-Net features, as do the mixture
logits and log-scales (one value per frame and component, interpolated to
the samples). With ``M_k = 0`` the state passes unchanged, so clean speech is
not resynthesised but kept. The mixture is still a per-sample Gaussian
mixture over the residual ``r_t = x_t - s``, so its likelihood, the
noise-prediction term and the reverse process are unchanged.

Authors
 * diffgmm-sb developers 2026
"""

import torch
from torch import nn
from torch.nn import functional as F

from diffgmm_sb.model.mixture import GaussianMixture
from diffgmm_sb.model.unet import WaveUNet

COMPRESSION = 0.3  # features are |X|^0.3, which evens out loud and quiet bins
POWER_FLOOR = 1e-8  # in normalised units (the noisy input has unit RMS)


def log_posterior_snr(
    power, window_frames=125, smooth_frames=3, max_value=15.0, numerator_frames=1
):
    """Per-bin log ratio of the power to its running minimum (a noise floor).

    The floor of each frequency bin is the minimum, over a centred window of
    ``window_frames`` frames, of the power smoothed over ``smooth_frames``
    frames (minimum statistics, Martin 2001, without bias correction: the
    layers that read the value learn the offset). Stationary noise sits near
    0; speech rises above it.

    The numerator is the power itself (``numerator_frames`` = 1) or its
    average over that many frames: a single periodogram bin of noise lies
    above twice its mean one time in seven, and there the raw ratio looks
    like speech; averaging three frames makes those peaks rarer.

    Arguments
    ---------
    power : torch.Tensor
        ``[batch, bins, frames]`` power spectrum.
    window_frames, smooth_frames : int
        Minimum-statistics window, and the frames averaged before the minimum.
    max_value : float
        Ceiling of the log ratio.
    numerator_frames : int
        Frames averaged in the numerator (1: the power itself).

    Example
    -------
    >>> power = torch.ones(1, 2, 50)
    >>> power[:, :, 20:25] = 100.0
    >>> snr = log_posterior_snr(power, window_frames=21, smooth_frames=1)
    >>> round(float(snr[0, 0, 22]), 2), round(float(snr[0, 0, 5]), 2)
    (4.61, 0.0)
    >>> smoothed = log_posterior_snr(power, 21, 1, numerator_frames=3)
    >>> round(float(smoothed[0, 0, 20]), 2)  # (1 + 100 + 100) / 3 at the onset
    4.2
    """
    smooth = _average_frames(power, smooth_frames)
    floor = -F.max_pool1d(-smooth, window_frames, stride=1, padding=window_frames // 2)
    numerator = _average_frames(power, numerator_frames)
    ratio = (numerator + POWER_FLOOR) / (floor[..., : power.shape[-1]] + POWER_FLOOR)
    return torch.log(ratio).clamp(max=max_value)


def _average_frames(power, frames):
    """Centred moving average over ``frames`` frames (fewer at the edges)."""
    if frames == 1:
        return power
    average = F.avg_pool1d(
        power, frames, stride=1, padding=frames // 2, count_include_pad=False
    )
    return average[..., : power.shape[-1]]


class Spectrogram(nn.Module):
    """Complex STFT and its inverse with a Hann window (zero-padded edges).

    Example
    -------
    >>> stft = Spectrogram(n_fft=64, hop_length=16)
    >>> x = torch.randn(2, 100)
    >>> spec = stft(x)
    >>> spec.shape
    torch.Size([2, 33, 7])
    >>> bool(torch.allclose(stft.inverse(spec, 100), x, atol=1e-5))
    True
    """

    def __init__(self, n_fft=512, hop_length=128):
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    @property
    def bins(self):
        """Number of frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    def forward(self, wavs):
        """``[..., time]`` -> complex ``[..., bins, frames]``."""
        shape = wavs.shape
        spec = torch.stft(
            wavs.reshape(-1, shape[-1]),
            self.n_fft,
            hop_length=self.hop_length,
            window=self.window.to(wavs.dtype),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        return spec.view(*shape[:-1], *spec.shape[-2:])

    def inverse(self, spec, length):
        """Complex ``[..., bins, frames]`` -> ``[..., length]`` waveforms."""
        shape = spec.shape
        wavs = torch.istft(
            spec.reshape(-1, *shape[-2:]),
            self.n_fft,
            hop_length=self.hop_length,
            window=self.window.to(spec.real.dtype),
            center=True,
            length=length,
        )
        return wavs.view(*shape[:-2], length)


def frames_to_samples(values, length, hop_length):
    """Linear interpolation of per-frame values to the samples.

    Frame ``n`` of a centred STFT sits at sample ``n * hop_length``.

    Example
    -------
    >>> frames_to_samples(torch.tensor([[[0.0, 4.0, 8.0]]]), 9, 4)
    tensor([[[0., 1., 2., 3., 4., 5., 6., 7., 8.]]])
    """
    values = torch.cat([values, values[..., -1:]], dim=-1)
    size = (values.shape[-1] - 1) * hop_length + 1
    return F.interpolate(values, size=size, mode="linear", align_corners=True)[..., :length]


class SpectralUNet(nn.Module):
    """The 1-D U-Net of DiffGMM run over STFT frames of ``[x_t, x]``.

    Arguments
    ---------
    in_channels : int
        Input signals stacked as channels (2: ``x_t`` and ``x``).
    out_channels : int
        Feature channels per frame, handed to the mixture head.
    n_fft, hop_length : int
        STFT size and hop (samples).
    front_channels : int
        Channels of the first (frame-rate) layer.
    channels, strides : list of int
        Channels and time strides of the encoder blocks below it.
    emb_dim, lstm_layers : int
        Timestep embedding size; bidirectional LSTM layers at the bottleneck.

    Example
    -------
    >>> net = SpectralUNet(n_fft=64, hop_length=16, out_channels=8,
    ...                    front_channels=8, channels=[8], strides=[2])
    >>> net(torch.randn(3, 2, 160), torch.tensor([0.1, 0.5, 1.0])).shape
    torch.Size([3, 8, 11])
    """

    def __init__(
        self,
        in_channels=2,
        out_channels=192,
        n_fft=512,
        hop_length=128,
        front_channels=192,
        channels=(256, 256),
        strides=(2, 2),
        emb_dim=64,
        lstm_layers=1,
    ):
        super().__init__()
        self.spectrogram = Spectrogram(n_fft, hop_length)
        self.unet = WaveUNet(
            in_channels=(in_channels + 1) * self.spectrogram.bins,
            out_channels=out_channels,
            front_channels=front_channels,
            front_stride=1,
            front_kernel=3,
            channels=channels,
            strides=strides,
            emb_dim=emb_dim,
            lstm_layers=lstm_layers,
        )

    def forward(self, x, level):
        """Features ``[batch, out_channels, frames]`` for ``[batch, C, time]``.

        The input features of each frame: the compressed magnitudes of every
        input signal and the log posterior SNR of the first (the state).
        """
        power = self.spectrogram(x).abs().pow(2)
        features = (power + POWER_FLOOR).pow(COMPRESSION / 2)
        snr = log_posterior_snr(power[:, 0]) / 4.0
        return self.unet(torch.cat([features.flatten(1, 2), snr], dim=1), level)


class MaskMixtureHead(nn.Module):
    """Linear layers over frame features giving a mixture of filtered states.

    For each component ``k``: a mask ``M_k`` (sigmoid, per frame and bin)
    applied to the STFT of the state gives the mean ``mu_k``; a logit and a
    log-scale per frame, interpolated to the samples, give ``pi_k`` and
    ``sigma_k`` (floored at ``min_scale``). The mask logits start from a
    Wiener-like prior on the state's log posterior SNR ``xi``, whose numerator
    averages ``snr_smooth_frames`` frames in training and
    ``eval_snr_smooth_frames`` (``None``: the same) in evaluation: a network
    trained on the raw, fluctuating ``xi`` suppresses noise better when it
    reads a steadier one (measured in docs/method.md).

    Example
    -------
    >>> head = MaskMixtureHead(8, num_components=2, n_fft=64, hop_length=16)
    >>> mix = head(torch.randn(1, 8, 11), torch.randn(1, 160))
    >>> mix.means.shape, mix.log_scales.shape
    (torch.Size([1, 2, 160]), torch.Size([1, 2, 160]))
    >>> with torch.no_grad():
    ...     _ = head.proj.weight.zero_(), head.proj.bias.fill_(-30.0)
    >>> x_t = torch.randn(1, 160)
    >>> float(head(torch.randn(1, 8, 11), x_t).mean().abs().max()) < 1e-6
    True
    """

    def __init__(
        self,
        in_channels,
        num_components=4,
        n_fft=512,
        hop_length=128,
        min_scale=1e-3,
        snr_smooth_frames=1,
        eval_snr_smooth_frames=None,
    ):
        super().__init__()
        self.snr_smooth_frames = snr_smooth_frames
        self.eval_snr_smooth_frames = eval_snr_smooth_frames
        if num_components < 1:
            raise ValueError("num_components (K) must be at least 1")
        self.num_components = num_components
        self.min_scale = min_scale
        self.spectrogram = Spectrogram(n_fft, hop_length)
        bins = self.spectrogram.bins
        self.proj = nn.Conv1d(in_channels, num_components * (bins + 2), kernel_size=1)
        # Per-component, per-bin weight of the state's log posterior SNR in the
        # mask logits: starts as a Wiener-like prior (a high SNR -> keep the bin).
        self.snr_weight = nn.Parameter(torch.full((num_components, bins, 1), -1.0))
        self.snr_offset = nn.Parameter(torch.full((num_components, bins, 1), 2.0))

    def numerator_frames(self):
        """Frames averaged in the numerator of ``xi`` in the current mode."""
        if self.training or self.eval_snr_smooth_frames is None:
            return self.snr_smooth_frames
        return self.eval_snr_smooth_frames

    def forward(self, features, state):
        """The mixture over the residual, ``[batch, K, time]`` tensors."""
        k, length = self.num_components, state.shape[-1]
        spec = self.spectrogram(state)  # [batch, bins, frames]
        # The mixture's parameters in float32 also under mixed precision: a
        # bfloat16 mask or scale is too coarse for the likelihood of the residual.
        out = self.proj(features[..., : spec.shape[-1]]).float()
        bins = self.spectrogram.bins
        power = spec.abs().pow(2)
        snr = log_posterior_snr(power, numerator_frames=self.numerator_frames())
        snr = snr.unsqueeze(1)  # [batch, 1, bins, frames]
        prior = self.snr_weight * (snr - self.snr_offset)
        mask_logits = out[:, : k * bins].unflatten(1, (k, bins)) + prior
        masks = torch.sigmoid(mask_logits)
        means = self.spectrogram.inverse(masks * spec.unsqueeze(1), length)
        logits, raw_scales = out[:, k * bins :].chunk(2, dim=1)
        hop = self.spectrogram.hop_length
        logits = frames_to_samples(logits, length, hop)
        scales = self.min_scale + F.softplus(frames_to_samples(raw_scales, length, hop))
        return GaussianMixture(logits, means, torch.log(scales))
