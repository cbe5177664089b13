"""Figures of one enhancement: spectrograms and the estimated noise distribution.

``diffgmm-enhance --plot`` writes, for each file, a PNG with the noisy and
enhanced spectrograms (as in the paper's figures) and, beside them, the noise
distribution the model estimated at the first reverse step (the Gaussian
mixture, averaged over time) over the histogram of the noise it actually
removed (``noisy - enhanced``). Needs ``matplotlib``
(the ``[plot]`` extra); the rest of the package does not.

Authors
 * diffgmm-sb developers 2026
"""

import math

import torch

from diffgmm_sb.model.diffgmm import utterance_rms

MAX_PLOT_SECONDS = 10.0
DENSITY_POINTS = 4000  # time positions the marginal density is averaged over


def estimated_noise_density(model, noisy, grid):
    """The model's noise distribution at ``t = T``, averaged over time.

    At the first reverse step ``x_T = x`` and the residual the mixture
    models is the whole noise ``n``; its marginal over the signal,
    ``p(n) = mean_t sum_k pi_k N(n; mu_k, sigma_k)``, is what the histogram of
    the removed noise can be compared with.

    Arguments
    ---------
    model : diffgmm_sb.model.diffgmm.DiffGMM
        The denoiser.
    noisy : torch.Tensor
        ``[time]`` noisy waveform at the model's rate.
    grid : torch.Tensor
        ``[points]`` noise values (waveform units) to evaluate the density at.

    Returns
    -------
    torch.Tensor
        ``[points]`` density (integrates to about 1 over a wide grid).

    Example
    -------
    >>> from diffgmm_sb.model.unet import WaveUNet
    >>> from diffgmm_sb.model.mixture import MixtureHead
    >>> from diffgmm_sb.model.diffusion import NoiseSchedule
    >>> from diffgmm_sb.model.diffgmm import DiffGMM
    >>> model = DiffGMM(WaveUNet(out_channels=8, front_channels=8, channels=[8], strides=[2]),
    ...                 MixtureHead(8, 2), NoiseSchedule(4))
    >>> grid = torch.linspace(-5.0, 5.0, 2001)
    >>> density = estimated_noise_density(model, torch.randn(800), grid)
    >>> round(float(density.sum() * (grid[1] - grid[0])), 2)
    1.0
    """
    x = noisy.reshape(1, -1).float()
    scale = utterance_rms(x, torch.ones_like(x, dtype=torch.bool))
    x = x / scale
    t = torch.full((1,), model.schedule.num_steps, dtype=torch.long)
    with torch.no_grad():
        mixture = model(x, x, t)
    keep = torch.linspace(0, x.shape[-1] - 1, min(DENSITY_POINTS, x.shape[-1])).long()
    weights = mixture.weights[0][:, keep]
    means = mixture.means[0][:, keep] * scale
    scales = mixture.log_scales[0][:, keep].exp() * scale
    z = (grid.view(-1, 1, 1) - means) / scales
    pdf = torch.exp(-0.5 * z.pow(2)) / (scales * math.sqrt(2.0 * math.pi))
    return (weights * pdf).sum(dim=1).mean(dim=-1)


def _spectrogram_db(wav, rate):
    window = torch.hann_window(512)
    spec = torch.stft(wav, 512, 128, window=window, return_complex=True).abs()
    return 20.0 * torch.log10(spec + 1e-6), wav.shape[-1] / rate


def plot_enhancement(model, noisy, enhanced, rate, path, title=""):
    """Writes the figure for one file (first channel, first 10 s) to ``path``.

    Arguments
    ---------
    model : diffgmm_sb.model.diffgmm.DiffGMM
        The denoiser that produced ``enhanced``.
    noisy, enhanced : torch.Tensor
        ``[time]`` waveforms at ``rate``, the model's rate.
    rate : int
        Sample rate.
    path : str
        PNG to write.
    title : str
        Figure title (e.g. the file name).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError as err:
        raise RuntimeError(
            "--plot needs matplotlib: pip install matplotlib (the [plot] extra)"
        ) from err
    n = min(noisy.shape[-1], int(MAX_PLOT_SECONDS * rate))
    noisy, enhanced = noisy[:n].float(), enhanced[:n].float()
    removed = noisy - enhanced
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), width_ratios=[2, 2, 1.3])
    vmax = None
    for ax, wav, name in ((axes[0], noisy, "noisy"), (axes[1], enhanced, "enhanced")):
        db, seconds = _spectrogram_db(wav, rate)
        vmax = vmax if vmax is not None else float(db.max())
        ax.imshow(
            db.numpy(),
            origin="lower",
            aspect="auto",
            extent=(0.0, seconds, 0.0, rate / 2000.0),
            vmin=vmax - 80.0,
            vmax=vmax,
            cmap="magma",
        )
        ax.set(title=name, xlabel="time (s)", ylabel="frequency (kHz)")
    spread = float(removed.abs().quantile(0.999)) or 1e-3
    grid = torch.linspace(-spread, spread, 401)
    axes[2].hist(
        removed.numpy(),
        bins=120,
        range=(-spread, spread),
        density=True,
        alpha=0.5,
        label="removed noise (histogram)",
    )
    density = estimated_noise_density(model, noisy, grid)
    axes[2].plot(grid.numpy(), density.numpy(), "k", label="estimated mixture")
    axes[2].set(title="noise distribution", xlabel="amplitude", yscale="log")
    axes[2].legend(fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
