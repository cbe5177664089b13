"""Inference speed (real-time factor) and peak memory of DiffGMM and its peers.

Every measurement runs in its own process (peak RSS read with ``os.wait4``)
on the same 16 kHz PCM16 file, read from and written to disk:

* ``diffgmm`` — ``DiffGMMEnhancement.enhance_file`` (what ``diffgmm-enhance``
  runs: chunked, streamed), K = 4 (the default) and K = 1, for several
  reverse-step counts;
* ``metricgan`` — SpeechBrain's MetricGAN+ generator
  (``speechbrain.lobes.models.MetricGAN.EnhancementGenerator``, its recipe's
  STFT: 512-point, hop 256, log1p magnitudes, noisy phase), whole file in one
  pass, as ``SpectralMaskEnhancement.enhance_file`` does; untrained weights
  (speed does not depend on them);
* ``wiener`` — the classical STFT Wiener filter of ``wiener_baseline.py``
  (noise PSD from the quietest 10 % of frames).

DiffGMM's weights are the shipped model's when it exists, else fresh ones of
the default architecture (speed does not depend on them either).
Prints Markdown tables::

    python benchmarks/inference_speed.py                 # RTF/RSS vs steps and length
    python benchmarks/inference_speed.py --cli 60 600 3600   # diffgmm-enhance RSS

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf
import torch

RATE = 16000
HPARAMS = os.path.join(os.path.dirname(__file__), "..", "hparams", "diffgmm.yaml")
SOURCE_PAIRS = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "voicebank_demand_train_p287"
)


def make_input(path, seconds):
    """Writes ``seconds`` of noisy speech (the real VoiceBank pairs tiled, or
    generated noise when they are absent), PCM16, written block by block."""
    source = os.path.join(SOURCE_PAIRS, "noisy")
    if os.path.isdir(source):
        pieces = [sf.read(os.path.join(source, n))[0] for n in sorted(os.listdir(source))]
        base = np.concatenate(pieces)
    else:
        base = np.random.default_rng(0).standard_normal(RATE * 30) * 0.05
    total = int(seconds * RATE)
    with sf.SoundFile(path, "w", RATE, 1, subtype="PCM_16") as f:
        written = 0
        while written < total:
            block = base[: total - written]
            f.write(block)
            written += len(block)
    return path


def model_folder(workdir, components):
    """The shipped model folder if K matches, else fresh weights (default arch)."""
    from hyperpyyaml import load_hyperpyyaml

    from diffgmm_sb.inference.enhance import DEFAULT_MODEL
    from diffgmm_sb.inference.model_folder import (
        network_keys,
        network_kind,
        write_model_folder,
    )

    shipped = os.path.join(DEFAULT_MODEL, "hyperparams.yaml")
    if os.path.isfile(shipped):
        with open(shipped, encoding="utf-8") as f:
            if f"num_components: {components}\n" in f.read():
                return DEFAULT_MODEL
    with open(HPARAMS, encoding="utf-8") as f:
        hp = load_hyperpyyaml(f, {"num_components": components, "skip_prep": True})
    folder = os.path.join(workdir, f"model_K{components}")
    net = {**hp, **hp["model"]}  # the network's values are under model (included)
    kind = network_kind(net)
    values = {"network": kind, **{k: net[k] for k in network_keys(kind) if k in net}}
    return write_model_folder(folder, values, hp["modules"]["diffgmm"].state_dict())


def run_diffgmm(src, dst, model, steps):
    """Enhances ``src`` into ``dst`` with the inference class (file to file)."""
    from diffgmm_sb.inference.interface import DiffGMMEnhancement

    enhancer = DiffGMMEnhancement.from_hparams(
        source=model, savedir=os.path.join(os.path.dirname(dst), "savedir")
    )
    start = time.perf_counter()
    enhancer.enhance_file(src, output_filename=dst, steps=steps)
    return time.perf_counter() - start


def _stft(wav, n_fft=512, hop=256):
    window = torch.hamming_window(n_fft)
    return torch.stft(wav, n_fft, hop, window=window, return_complex=True), window


def run_metricgan(src, dst, model=None, steps=None):
    """MetricGAN+ generator: log1p STFT magnitude -> mask -> noisy phase iSTFT."""
    from speechbrain.lobes.models.MetricGAN import EnhancementGenerator

    generator = EnhancementGenerator().eval()
    start = time.perf_counter()
    wav = torch.from_numpy(sf.read(src, dtype="float32")[0])
    with torch.no_grad():
        spec, window = _stft(wav)
        feats = torch.log1p(spec.abs()).T.unsqueeze(0)
        mask = generator(feats, lengths=torch.ones(1))[0].T
        out = torch.istft(spec * mask, 512, 256, window=window, length=wav.shape[-1])
    sf.write(dst, out.clamp(-1, 1).numpy(), RATE, subtype="PCM_16")
    return time.perf_counter() - start


def run_wiener(src, dst, model=None, steps=None):
    """STFT Wiener filter of ``benchmarks/wiener_baseline.py``, whole file at once."""
    from wiener_baseline import WienerFilter

    start = time.perf_counter()
    wav = torch.from_numpy(sf.read(src, dtype="float32")[0])
    out = WienerFilter().enhance_batch(wav.unsqueeze(0))[0]
    sf.write(dst, out.clamp(-1, 1).numpy(), RATE, subtype="PCM_16")
    return time.perf_counter() - start


SYSTEMS = {"diffgmm": run_diffgmm, "metricgan": run_metricgan, "wiener": run_wiener}


def child(args):
    """One measurement (in its own process): prints its JSON result."""
    torch.set_num_threads(args.threads)
    seconds = SYSTEMS[args.child](args.src, args.dst, args.model, args.steps)
    print(json.dumps({"seconds": seconds}))


def measure(system, src, workdir, threads, model=None, steps=None, cli=False):
    """Runs one measurement in a fresh process; returns (seconds, peak RSS MB)."""
    dst = os.path.join(workdir, f"out_{system}.wav")
    if cli:
        cmd = [
            sys.executable,
            "-m",
            "diffgmm_sb.inference.enhance",
            src,
            "-o",
            os.path.join(workdir, "cli_out"),
            "--model",
            model,
        ]
        if steps:
            cmd += ["--steps", str(steps)]
    else:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            system,
            "--src",
            src,
            "--dst",
            dst,
            "--threads",
            str(threads),
        ]
        cmd += ["--model", model] if model else []
        cmd += ["--steps", str(steps)] if steps else []
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    log = os.path.join(workdir, "stderr.txt")
    with open(log, "wb") as err_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file, env=env)
        out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        with open(log, encoding="utf-8", errors="replace") as f:
            raise RuntimeError(f"{' '.join(cmd)} failed: {f.read()[-2000:]}")
    seconds = wall if cli else json.loads(out.strip().splitlines()[-1])["seconds"]
    return seconds, usage.ru_maxrss / 1024.0


def duration(path):
    """Seconds of audio in ``path``."""
    return sf.info(path).duration


def main(argv=None):
    """Prints the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=sorted(SYSTEMS))
    parser.add_argument("--src"), parser.add_argument("--dst")
    parser.add_argument("--model"), parser.add_argument("--steps", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lengths", type=float, nargs="+", default=[10, 60, 600])
    parser.add_argument("--step-counts", type=int, nargs="+", default=[1, 2, 3, 4, 6])
    parser.add_argument(
        "--cli", type=float, nargs="*", help="diffgmm-enhance RSS at lengths"
    )
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory() as workdir:
        models = {k: model_folder(workdir, k) for k in (4, 1)}
        if args.cli:
            print(
                "| input | wall (s) | RTF | peak RSS (MB) | output frames = input (all finite) |"
            )
            print("|---|---|---|---|---|")
            for seconds in args.cli:
                src = make_input(os.path.join(workdir, "in.wav"), seconds)
                wall, rss = measure(
                    "diffgmm", src, workdir, args.threads, models[4], cli=True
                )
                out = sf.info(os.path.join(workdir, "cli_out", "in.wav"))
                ok = out.frames == sf.info(src).frames
                finite = all(
                    np.isfinite(block).all()
                    for block in sf.blocks(
                        os.path.join(workdir, "cli_out", "in.wav"), 1 << 20
                    )
                )
                print(
                    f"| {seconds:g} s | {wall:.1f} | {wall / seconds:.4f} | {rss:.0f} | "
                    f"{ok} (finite: {finite}) |",
                    flush=True,
                )
            return
        src = make_input(os.path.join(workdir, "in60.wav"), 60)
        print("### RTF and peak RSS vs reverse steps (60 s input)\n")
        print("| system | steps | RTF | peak RSS (MB) |")
        print("|---|---|---|---|")
        for k in (4, 1):
            for steps in args.step_counts:
                sec, rss = measure("diffgmm", src, workdir, args.threads, models[k], steps)
                print(
                    f"| DiffGMM K={k} | {steps} | {sec / 60:.4f} | {rss:.0f} |", flush=True
                )
        print("\n### RTF and peak RSS vs input length (default steps)\n")
        print(
            "| input | DiffGMM K=4 RTF | RSS (MB) | DiffGMM K=1 RTF | MetricGAN+ gen. RTF "
            "| RSS (MB) | Wiener RTF | RSS (MB) | MetricGAN+ / DiffGMM time |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for seconds in args.lengths:
            src = make_input(os.path.join(workdir, "in.wav"), seconds)
            d4, r4 = measure("diffgmm", src, workdir, args.threads, models[4])
            d1, _ = measure("diffgmm", src, workdir, args.threads, models[1])
            mg, rmg = measure("metricgan", src, workdir, args.threads)
            wi, rwi = measure("wiener", src, workdir, args.threads)
            print(
                f"| {seconds:g} s | {d4 / seconds:.4f} | {r4:.0f} | {d1 / seconds:.4f} | "
                f"{mg / seconds:.4f} | {rmg:.0f} | {wi / seconds:.4f} | {rwi:.0f} | "
                f"{mg / d4:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
