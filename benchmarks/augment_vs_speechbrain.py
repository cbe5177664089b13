"""Where ``diffgmm_sb.data.augment`` differs from ``speechbrain.augment``, in figures.

Prints (1) the time of a speed change of one noise file, 1 s kept, by
SpeechBrain's ``SpeedPerturb`` (whole signal, one speed per batch) and by
``change_speed`` (excerpt first), and (2) the share of training-noise draws
that fall on recorded (not generated) noise when files are drawn uniformly,
as SpeechBrain's ``AddNoise`` draws from its CSV, and when the category is
drawn first, as ``NoisyMixer`` does::

    python benchmarks/augment_vs_speechbrain.py [--noise data/starter/noise_train.json]

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import json
import random
import time

import torch
from speechbrain.augment.time_domain import SpeedPerturb

from diffgmm_sb.data.augment import change_speed


def per_call_ms(function, repeats=20):
    """Mean wall time of ``function()`` in milliseconds."""
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats * 1000


def main(argv=None):
    """Prints both comparisons."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", default="data/starter/noise_train.json")
    parser.add_argument("--seconds", type=float, default=60.0, help="noise file length")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    noise = torch.randn(int(16000 * args.seconds)) * 0.1
    perturb = SpeedPerturb(orig_freq=16000, speeds=[80, 90, 125])
    sb_ms = per_call_ms(lambda: perturb(noise.unsqueeze(0))[:, :16000])
    ours_ms = per_call_ms(
        lambda: change_speed(noise, 16000, 16000, random.choice([0.8, 0.9, 1.25]))
    )
    print(
        f"speed change of a {args.seconds:g} s noise file, 1 s kept: SpeedPerturb "
        f"{sb_ms:.2f} ms, change_speed {ours_ms:.2f} ms"
    )
    with open(args.noise, encoding="utf-8") as f:
        entries = list(json.load(f).values())
    categories = {}
    for entry in entries:
        categories.setdefault(entry["category"], entry.get("recorded", True))
    recorded_files = sum(e.get("recorded", True) for e in entries)
    print(
        f"draws on recorded noise: file-uniform {recorded_files / len(entries):.2f} "
        f"({recorded_files} of {len(entries)} files), category-first "
        f"{sum(categories.values()) / len(categories):.2f} "
        f"({sum(categories.values())} of {len(categories)} categories)"
    )


if __name__ == "__main__":
    main()
