"""The 1-D U-Net that extracts DiffGMM's features (waveform or STFT frames).

``diffgmm_sb.model.spectral.SpectralUNet`` runs it over STFT frames (front stride
1); on its own, as described below, it runs over the waveform.

A strided learned front end (a filterbank-like convolution with stride
``front_stride``) brings 16 kHz audio down to a low frame rate at once, so
every deeper layer runs on few frames; strided encoder blocks go further
down, a bidirectional LSTM models the long context at the bottleneck, and
transposed-convolution decoder blocks with additive skip connections come
back up to the sample rate. Every block is conditioned on the diffusion
timestep through a sinusoidal embedding (SpeechBrain's
``timestep_embedding``) added as a per-channel bias.

Authors
 * diffgmm-sb developers 2026
"""

from speechbrain.nnet.unet import timestep_embedding
from torch import nn
from torch.nn import functional as F


class ResidualConv(nn.Module):
    """A kernel-3 convolution + 1x1 convolution residual block.

    Example
    -------
    >>> import torch
    >>> ResidualConv(8)(torch.randn(2, 8, 10)).shape
    torch.Size([2, 8, 10])
    """

    def __init__(self, channels, dilation=1):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, x):
        """Adds the block's output to its input."""
        return x + self.mix(F.gelu(self.conv(x)))


class DownBlock(nn.Module):
    """Strided convolution (time / stride) then a residual block.

    The kernel (default ``2 * stride``) must exceed the stride by an even number.
    """

    def __init__(self, in_channels, out_channels, stride, emb_dim, kernel=None):
        super().__init__()
        kernel = kernel or 2 * stride
        self.down = nn.Conv1d(
            in_channels, out_channels, kernel, stride=stride, padding=(kernel - stride) // 2
        )
        self.emb = nn.Linear(emb_dim, out_channels)
        self.res = ResidualConv(out_channels)

    def forward(self, x, emb):
        """Downsamples ``x`` and adds the timestep bias."""
        h = F.gelu(self.down(x)) + self.emb(emb).unsqueeze(-1)
        return self.res(h)


class UpBlock(nn.Module):
    """Residual block then transposed convolution (time * stride)."""

    def __init__(self, in_channels, out_channels, stride, emb_dim, kernel=None):
        super().__init__()
        kernel = kernel or 2 * stride
        self.emb = nn.Linear(emb_dim, in_channels)
        self.res = ResidualConv(in_channels)
        self.up = nn.ConvTranspose1d(
            in_channels, out_channels, kernel, stride=stride, padding=(kernel - stride) // 2
        )

    def forward(self, x, skip, emb):
        """Adds the skip connection, then upsamples."""
        h = self.res(x + skip + self.emb(emb).unsqueeze(-1))
        return F.gelu(self.up(h))


class WaveUNet(nn.Module):
    """1-D U-Net over ``[x_t, x]`` conditioned on the diffusion timestep.

    Arguments
    ---------
    in_channels : int
        Input signals stacked as channels (2: the state ``x_t`` and the
        noisy input ``x``).
    out_channels : int
        Feature channels at the sample rate, handed to the mixture head.
    front_channels : int
        Channels of the strided front end.
    front_stride : int
        Stride of the front end.
    front_kernel : int, optional
        Kernel of the front end (and of the last decoder layer), default
        ``2 * front_stride``; ``front_kernel - front_stride`` must be even.
    channels : list of int
        Channels of each encoder block below the front end.
    strides : list of int
        Stride of each encoder block.
    emb_dim : int
        Size of the timestep embedding.
    lstm_layers : int
        Bidirectional LSTM layers at the bottleneck (0 for none).

    Example
    -------
    >>> import torch
    >>> net = WaveUNet(front_channels=8, channels=[8, 16], strides=[2, 2])
    >>> net.total_stride
    32
    >>> feats = net(torch.randn(3, 2, 100), torch.tensor([0.1, 0.5, 1.0]))
    >>> feats.shape
    torch.Size([3, 16, 100])
    """

    def __init__(
        self,
        in_channels=2,
        out_channels=16,
        front_channels=64,
        front_stride=8,
        front_kernel=None,
        channels=(96, 128, 192),
        strides=(4, 4, 2),
        emb_dim=64,
        lstm_layers=1,
    ):
        super().__init__()
        if len(channels) != len(strides):
            raise ValueError("channels and strides must have the same length")
        self.emb_dim = emb_dim
        self.emb_mlp = nn.Sequential(
            nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        self.front = DownBlock(
            in_channels, front_channels, front_stride, emb_dim, kernel=front_kernel
        )
        widths = [front_channels, *channels]
        self.encoder = nn.ModuleList(
            DownBlock(widths[i], widths[i + 1], strides[i], emb_dim)
            for i in range(len(strides))
        )
        self.lstm = None
        if lstm_layers > 0:
            self.lstm = nn.LSTM(
                widths[-1],
                widths[-1] // 2,
                num_layers=lstm_layers,
                batch_first=True,
                bidirectional=True,
            )
        self.decoder = nn.ModuleList(
            UpBlock(widths[i + 1], widths[i], strides[i], emb_dim)
            for i in reversed(range(len(strides)))
        )
        self.back = UpBlock(
            front_channels, out_channels, front_stride, emb_dim, kernel=front_kernel
        )
        self.total_stride = front_stride
        for s in strides:
            self.total_stride *= s

    def forward(self, x, level):
        """Features ``[batch, out_channels, time]`` for input ``[batch, C, time]``.

        ``level`` is the ``[batch]`` noise level gamma_t in [0, 1].
        The input is zero-padded to a multiple of ``total_stride`` and the
        output cropped back to the input length.
        """
        length = x.shape[-1]
        pad = (-length) % self.total_stride
        if pad:
            x = F.pad(x, (0, pad))
        emb = timestep_embedding(level * 1000.0, self.emb_dim).to(x.dtype)
        emb = self.emb_mlp(emb)
        h = self.front(x, emb)
        skips = [h]
        for block in self.encoder:
            h = block(h, emb)
            skips.append(h)
        if self.lstm is not None:
            h = h + self.lstm(h.transpose(1, 2))[0].transpose(1, 2)
        for block in self.decoder:
            h = block(h, skips.pop(), emb)
        h = self.back(h, skips.pop(), emb)
        return h[..., :length]
