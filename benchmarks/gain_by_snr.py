"""Where a model loses quality: its gain by local SNR, and speech vs noise.

For every noisy/clean pair the enhanced signal is written, bin by bin on a
512/128 STFT, as a gain on the noisy input, ``G = Y / X``. Applied to the
clean speech and to the noise separately it splits the output into speech
distortion ``G S`` and residual noise ``G N``; scoring each against ``s``
says which of the two costs PESQ and STOI. The table below it gives the
mean gain (dB, weighted by the noisy energy, 150 Hz to 4.5 kHz: STOI's
range) by local SNR ``|S|^2 / |N|^2``, next to a Wiener filter's gain at
the bin's centre SNR::

    python benchmarks/gain_by_snr.py results/diffgmm/1234 \\
        --manifest data/starter/test.json --pairs ../shared/data/voicebank_demand_train_p287

``--cross A B`` adds three sets made from two of them, at the SNRs of A's
pairs: A's speech with B's noise, B's speech with A's noise, and B's speech
with B's own noise. If a model fails on A's noise under B's speech too, the
loss is the noise's, not the speaker's::

    python benchmarks/gain_by_snr.py diffgmm_sb/pretrained \\
        --manifest data/starter/test.json --pairs ../shared/data/voicebank_demand_train_p287 \\
        --cross voicebank_demand_train_p287 test

Authors
 * diffgmm-sb developers 2026
"""

import math
import tempfile

import numpy as np
import torch
from quality_vs_steps import load_model_and_sets, model_and_sets_parser

from diffgmm_sb.data.audio import fit_length, mix_at_snr, rms
from diffgmm_sb.evaluation.metrics import pesq_wb, stoi
from diffgmm_sb.model.spectral import Spectrogram

SNR_EDGES = (-math.inf, -10, -5, 0, 5, 10, 15, 20, math.inf)
STFT = Spectrogram(n_fft=512, hop_length=128)


def split_scores(enhanced, noisy, clean):
    """PESQ-wb and STOI of the speech-distortion and residual-noise parts.

    Example
    -------
    >>> clean = torch.randn(1, 16000) * 0.1
    >>> noisy = clean + 0.01 * torch.randn(1, 16000)
    >>> scores = split_scores(noisy, noisy, clean)  # G = 1: no distortion
    >>> round(scores["speech distortion only (G S)"][1], 3)
    1.0
    """
    length = noisy.shape[-1]
    spec_x, spec_y = STFT(noisy), STFT(enhanced)
    gain = spec_y / (spec_x + 1e-9)
    parts = {
        "speech distortion only (G S)": STFT.inverse(gain * STFT(clean), length),
        "residual noise only (s + G N)": clean
        + STFT.inverse(gain * STFT(noisy - clean), length),
    }
    return {
        name: (float(pesq_wb(wav, clean)[0]), float(stoi(wav, clean)[0]))
        for name, wav in parts.items()
    }


def gain_by_snr(enhanced, noisy, clean, sample_rate=16000):
    """Per local-SNR bin: noisy energy and energy-weighted gain sum (dB).

    Example
    -------
    >>> x = torch.randn(1, 16000)
    >>> energy, weighted = gain_by_snr(x, x, 0.5 * x)
    >>> bool(torch.allclose(weighted, torch.zeros_like(weighted), atol=1e-3))
    True
    """
    spec_x, spec_y, spec_s = STFT(noisy), STFT(enhanced), STFT(clean)
    spec_n = spec_x - spec_s
    gain_db = 20 * torch.log10((spec_y.abs() / (spec_x.abs() + 1e-9)).clamp(1e-4, 1.0))
    snr = 10 * torch.log10((spec_s.abs() ** 2 + 1e-12) / (spec_n.abs() ** 2 + 1e-12))
    freqs = torch.arange(STFT.bins)[:, None] * sample_rate / STFT.n_fft
    weight = spec_x.abs() ** 2 * ((freqs > 150) & (freqs < 4500))
    energy = torch.zeros(len(SNR_EDGES) - 1)
    weighted = torch.zeros(len(SNR_EDGES) - 1)
    for i, (low, high) in enumerate(zip(SNR_EDGES[:-1], SNR_EDGES[1:])):
        inside = weight * ((snr >= low) & (snr < high))
        energy[i] = inside.sum()
        weighted[i] = (inside * gain_db).sum()
    return energy, weighted


def cross_sets(sets, first, second, seed=0):
    """Speech and noise of two sets swapped, at the SNRs of ``first``'s pairs.

    Pairs are matched round-robin until every pair of the longer set is used
    (pair ``k`` of the result takes pair ``k mod len`` of each set), and all
    three sets use the SNR of the ``first`` pair; the noise of a pair is
    ``noisy - clean``, cut at a random offset (``seed``) or looped to the
    speech's length.

    Example
    -------
    >>> a = [(torch.ones(800) + 0.1 * torch.randn(800), torch.ones(800))]
    >>> b = [(0.5 * torch.ones(400) + 0.5 * torch.randn(400), 0.5 * torch.ones(400))] * 3
    >>> crossed = cross_sets({"a": a, "b": b}, "a", "b")
    >>> list(crossed)
    ['a speech + b noise', 'b speech + a noise', 'b speech + b noise']
    >>> [len(pairs) for pairs in crossed.values()]
    [3, 3, 3]
    """
    for name in (first, second):
        if name not in sets:
            raise SystemExit(f"--cross: no set named {name!r} (sets: {', '.join(sets)})")
    pairs_a, pairs_b = sets[first], sets[second]
    count = max(len(pairs_a), len(pairs_b))
    matched = [(pairs_a[k % len(pairs_a)], pairs_b[k % len(pairs_b)]) for k in range(count)]
    names = [
        f"{first} speech + {second} noise",
        f"{second} speech + {first} noise",
        f"{second} speech + {second} noise",
    ]
    crossed = {name: [] for name in names}
    rng = np.random.default_rng(seed)

    def mix(speech, noise, snr_db):
        noise = fit_length(noise.numpy(), speech.shape[-1], rng)
        noisy, clean = mix_at_snr(speech.numpy(), noise, snr_db)
        return torch.from_numpy(noisy), torch.from_numpy(clean)

    for (noisy_a, clean_a), (noisy_b, clean_b) in matched:
        noise_a, noise_b = noisy_a - clean_a, noisy_b - clean_b
        levels = [rms(x.numpy()) for x in (clean_a, noise_a, clean_b, noise_b)]
        if min(levels) == 0:
            raise SystemExit(
                f"--cross: a pair of {first} or {second} has no speech or no noise"
            )
        snr_db = 20 * math.log10(levels[0] / levels[1])
        crossed[names[0]].append(mix(clean_a, noise_b, snr_db))
        crossed[names[1]].append(mix(clean_b, noise_a, snr_db))
        crossed[names[2]].append(mix(clean_b, noise_b, snr_db))
    return crossed


def _wiener_db(low, high):
    """A Wiener filter's gain (dB) at the centre of an SNR bin (ends at -15, 25)."""
    centre = (max(low, -15.0) + min(high, 25.0)) / 2
    ratio = 10 ** (centre / 10)
    return 10 * math.log10(ratio / (1 + ratio))


def main(argv=None):
    """Prints both tables for every set."""
    parser = model_and_sets_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--cross", nargs=2, metavar=("A", "B"), help="also score A's and B's swapped parts"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as workdir:
        enhancer, sets = load_model_and_sets(args, workdir)
        if args.cross:
            sets |= cross_sets(sets, *args.cross)
        for name, pairs in sets.items():
            energy = weighted = 0.0
            totals = {}
            for noisy, clean in pairs:
                noisy, clean = noisy.unsqueeze(0), clean.unsqueeze(0)
                with torch.no_grad():
                    enhanced = enhancer.enhance_batch(noisy)
                systems = {"noisy": noisy, "enhanced": enhanced}
                scores = {
                    key: (float(pesq_wb(wav, clean)[0]), float(stoi(wav, clean)[0]))
                    for key, wav in systems.items()
                } | split_scores(enhanced, noisy, clean)
                for key, (pesq, intel) in scores.items():
                    total = totals.setdefault(key, [0.0, 0.0])
                    total[0] += pesq / len(pairs)
                    total[1] += intel / len(pairs)
                e, w = gain_by_snr(enhanced, noisy, clean, enhancer.sample_rate)
                energy, weighted = energy + e, weighted + w
            print(
                f"\n{name} ({len(pairs)} utt.)\n\n| signal | PESQ-wb | STOI |\n|---|---|---|"
            )
            for key, (pesq, intel) in totals.items():
                print(f"| {key} | {pesq:.3f} | {intel:.4f} |")
            print(
                "\n| local SNR (dB) | share of noisy energy | mean gain (dB) | Wiener (dB) |"
            )
            print("|---|---|---|---|")
            for i, (low, high) in enumerate(zip(SNR_EDGES[:-1], SNR_EDGES[1:])):
                share = float(energy[i] / energy.sum())
                gain = float(weighted[i] / energy[i]) if energy[i] > 0 else float("nan")
                print(
                    f"| [{low:g}, {high:g}) | {share:.3f} | {gain:.2f} | "
                    f"{_wiener_db(low, high):.1f} |"
                )


if __name__ == "__main__":
    main()
