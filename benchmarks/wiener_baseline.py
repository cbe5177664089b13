"""Classical peers with no training: an STFT Wiener filter and the ideal ratio mask.

The Wiener filter is what a learned model must beat to be worth its cost: the
noise power of each frequency bin is the mean power of the quietest 10 % of the
utterance's frames, and each bin is scaled by the gain
``max(1 - N(f) / |X(f, m)|^2, g_min)`` (the Wiener gain with the maximum-likelihood
SNR estimate, floored at ``g_min`` = 0.1, i.e. -20 dB). The ideal ratio mask
``|S| / (|S| + |X - S|)`` uses the clean reference, so it is an upper bound for
any real-valued mask on the same STFT, not a peer. Both use the STFT of the
default network (512-point Hann window, hop 128)::

    python benchmarks/wiener_baseline.py --manifest data/starter/valid.json \\
        data/starter/test.json --pairs ../shared/data/voicebank_demand_train_p287

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import tempfile

from quality_vs_steps import load_sets, score

from diffgmm_sb.model.spectral import Spectrogram

SAMPLE_RATE = 16000


class WienerFilter:
    """Wiener filter with a per-utterance noise estimate from its quietest frames.

    Example
    -------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> wiener = WienerFilter()
    >>> noise = 0.1 * torch.randn(1, 16000)
    >>> tone = torch.sin(torch.arange(16000) / 5.0) * (torch.arange(16000) > 8000)
    >>> out = wiener.enhance_batch(tone + noise)
    >>> err_in, err_out = noise.pow(2).mean(), (out - tone).pow(2).mean()
    >>> bool(err_out < 0.4 * err_in)  # white noise 0.1 RMS: 1/4 of its power left
    True
    """

    sample_rate = SAMPLE_RATE

    def __init__(self, quiet_fraction=0.1, gain_floor=0.1, n_fft=512, hop_length=128):
        self.quiet_fraction = quiet_fraction
        self.gain_floor = gain_floor
        self.stft = Spectrogram(n_fft, hop_length)

    def enhance_batch(self, noisy, steps=None):
        """Enhanced ``[batch, time]`` waveforms (``steps`` is ignored)."""
        spec = self.stft(noisy)
        power = spec.abs().pow(2)
        frame_energy = power.sum(dim=-2)  # [batch, frames]
        count = max(1, int(self.quiet_fraction * frame_energy.shape[-1]))
        quiet = frame_energy.topk(count, dim=-1, largest=False).indices
        index = quiet.unsqueeze(-2).expand(-1, power.shape[-2], -1)
        noise = power.gather(-1, index).mean(dim=-1, keepdim=True)
        gain = (1 - noise / power.clamp(min=1e-12)).clamp(min=self.gain_floor)
        return self.stft.inverse(gain * spec, noisy.shape[-1])


class IdealRatioMask:
    """The oracle ``|S| / (|S| + |N|)`` mask (needs the clean reference)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, n_fft=512, hop_length=128):
        self.stft = Spectrogram(n_fft, hop_length)
        self.clean = None

    def enhance_batch(self, noisy, steps=None):
        """Masked ``noisy``; ``self.clean`` must hold its reference."""
        spec, clean = self.stft(noisy), self.stft(self.clean)
        mask = clean.abs() / (clean.abs() + (spec - clean).abs()).clamp(min=1e-12)
        return self.stft.inverse(mask * spec, noisy.shape[-1])


def main(argv=None):
    """Prints a Markdown table: noisy, Wiener filter, ideal ratio mask."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", nargs="*", default=[], help="JSON manifests")
    parser.add_argument("--pairs", nargs="*", default=[], help="clean/ + noisy/ folders")
    parser.add_argument("--data-folder", default="data/starter", help="for {data_root}")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        sets = load_sets(args.manifest, args.pairs, args.data_folder, workdir, SAMPLE_RATE)
    print("| set | system | PESQ-wb | STOI | SI-SDR (dB) |")
    print("|---|---|---|---|---|")
    wiener, irm = WienerFilter(), IdealRatioMask()
    for name, pairs in sets.items():
        m = score(wiener, pairs, None)
        print(f"| {name} ({len(pairs)} utt.) | noisy | {m['n_pesq']:.2f} | ", end="")
        print(f"{m['n_stoi']:.3f} | {m['n_si_sdr']:.2f} |")
        print(f"| {name} | Wiener filter | {m['pesq']:.2f} | {m['stoi']:.3f} | ", end="")
        print(f"{m['si_sdr']:.2f} |", flush=True)
        totals = [0.0, 0.0, 0.0]
        for noisy, clean in pairs:
            irm.clean = clean.unsqueeze(0)
            o = score(irm, [(noisy, clean)], None, with_noisy=False)
            totals = [a + b for a, b in zip(totals, (o["pesq"], o["stoi"], o["si_sdr"]))]
        p, s, d = (v / len(pairs) for v in totals)
        print(f"| {name} | ideal ratio mask (oracle) | {p:.2f} | {s:.3f} | {d:.2f} |")


if __name__ == "__main__":
    main()
