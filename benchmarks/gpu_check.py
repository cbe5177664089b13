#!/usr/bin/env python3
"""GPU check: training speed, long-file inference and the test split on one device.

Run by ``benchmarks/gpu_check.sh`` on a CUDA machine (about 5 minutes on one
data-centre GPU); prints one Markdown table:

* training steps/s of the default recipe (``hparams/diffgmm.yaml``) in fp32 and
  bf16 (``benchmarks/train_throughput.py`` in a child process, ``--steps``
  steps after its 5 warm-up batches);
* ``DiffGMMEnhancement.enhance_to_file`` on a 10-minute 16 kHz file (real-time
  factor, model loading excluded, and peak GPU memory);
* the model on the starter test split (PESQ-wb, STOI, SI-SDR of the noisy input
  and of the enhanced audio).

The corpus is the prepared starter corpus (``data/starter``) when it exists,
otherwise the tiny corpus built from the committed fixture audio (then the
scores are a smoke check, not results). ``--device cpu`` runs the same check
on the CPU (slow; for trying the script)::

    python benchmarks/gpu_check.py [--model diffgmm_sb/pretrained] [--steps 200]

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
from quality_vs_steps import load_sets, score  # noqa: E402

from diffgmm_sb.inference.enhance import DEFAULT_MODEL  # noqa: E402
from diffgmm_sb.inference.interface import DiffGMMEnhancement  # noqa: E402

RATE = 16000


def corpus_folder(workdir):
    """The starter corpus if prepared, else a fixture corpus built in ``workdir``."""
    starter = os.path.join(ROOT, "data", "starter")
    if os.path.isfile(os.path.join(starter, "train.json")):
        return starter, "starter corpus"
    from fixture_corpus import make_corpus

    return make_corpus(os.path.join(workdir, "corpus")), "fixture corpus (smoke check)"


def train_steps_per_second(device, precision, steps, data_folder):
    """Steps/s of ``train_throughput.py`` on the default recipe."""
    command = [
        sys.executable,
        os.path.join(ROOT, "benchmarks", "train_throughput.py"),
        os.path.join(ROOT, "hparams", "diffgmm.yaml"),
        f"--device={device}",
        f"--precision={precision}",
        f"--data_folder={data_folder}",
        f"--train_samples_per_epoch={16 * (steps + 5)}",
    ]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    match = re.search(r"steps/s=([0-9.]+)", out.stdout)
    if out.returncode or not match:
        tail = (out.stdout + out.stderr).strip().splitlines()[-3:]
        return f"failed: {' / '.join(tail)}"
    return match.group(1)


def long_file(pairs, seconds, path):
    """Writes the noisy audio of ``pairs``, tiled to ``seconds``, as a 16 kHz WAV."""
    noisy = torch.cat([n for n, _ in pairs]).numpy()
    tiled = np.tile(noisy, int(np.ceil(seconds * RATE / len(noisy))))
    sf.write(path, tiled[: int(seconds * RATE)], RATE, subtype="PCM_16")
    return path


def main(argv=None):
    """Runs the three checks and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--steps", type=int, default=200, help="timed training steps")
    parser.add_argument("--seconds", type=float, default=600.0, help="long file length")
    args = parser.parse_args(argv)
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device (torch.cuda.is_available() is False)")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        data_folder, corpus = corpus_folder(workdir)
        name = torch.cuda.get_device_name(args.device) if cuda else "CPU"
        rows.append(("device", f"{name}, torch {torch.__version__}, {corpus}"))
        for precision in ("fp32", "bf16"):
            value = train_steps_per_second(args.device, precision, args.steps, data_folder)
            rows.append((f"training steps/s, {precision}, batch 16 x 1 s", value))

        enhancer = DiffGMMEnhancement.from_hparams(
            source=os.path.abspath(args.model),
            savedir=os.path.join(workdir, "model"),
            run_opts={"device": args.device},
        )
        test = os.path.join(data_folder, "test.json")
        (pairs,) = load_sets([test], [], data_folder, workdir, RATE).values()
        src = long_file(pairs, args.seconds, os.path.join(workdir, "long.wav"))
        if cuda:
            torch.cuda.reset_peak_memory_stats(args.device)
            torch.cuda.synchronize(args.device)
        start = time.perf_counter()
        enhancer.enhance_to_file(src, os.path.join(workdir, "long_enhanced.wav"))
        if cuda:
            torch.cuda.synchronize(args.device)
        rtf = (time.perf_counter() - start) / args.seconds
        rows.append((f"enhance_to_file, {args.seconds:.0f} s file, RTF", f"{rtf:.4f}"))
        if cuda:
            peak = torch.cuda.max_memory_allocated(args.device) / 2**20
            rows.append(("enhance_to_file, peak GPU memory (MiB)", f"{peak:.0f}"))

        means = score(enhancer, pairs, enhancer.hparams.sampler_steps)
        for label, prefix in (("noisy", "n_"), ("enhanced", "")):
            rows.append(
                (
                    f"test split ({len(pairs)} utt.), {label}: PESQ-wb / STOI / SI-SDR",
                    f"{means[prefix + 'pesq']:.3f} / {means[prefix + 'stoi']:.4f}"
                    f" / {means[prefix + 'si_sdr']:.2f}",
                )
            )
    print("| check | result |")
    print("|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
