"""``diffgmm-enhance``: enhance audio files or folders with a DiffGMM model.

    diffgmm-enhance noisy.wav more/ -o enhanced/ --model path/to/model --steps 3

Each input file is written as ``OUT/<input file name>`` in its own format,
rate and channel count. A file that cannot be enhanced is reported and
skipped; the exit code is 0 only if every file was written.

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import os
import sys
import tempfile

import soundfile as sf
from tqdm import tqdm

AUDIO_EXTENSIONS = tuple("." + ext.lower() for ext in sf.available_formats())
DEFAULT_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pretrained")


def list_inputs(paths):
    """Expands files and folders (recursively) into a sorted list of audio files.

    Example
    -------
    >>> list_inputs([])
    []
    """
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in os.walk(path):
                files += [
                    os.path.join(root, n)
                    for n in names
                    if n.lower().endswith(AUDIO_EXTENSIONS)
                ]
        else:
            files.append(path)
    return sorted(files)


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="diffgmm-enhance", description="Enhance noisy audio with DiffGMM."
    )
    parser.add_argument("inputs", nargs="+", help="audio files or folders")
    parser.add_argument("-o", "--output", required=True, help="output folder")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model folder")
    parser.add_argument("--steps", type=int, default=None, help="reverse steps")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--plot",
        action="store_true",
        help="also write OUT/<name>.png: spectrograms and the estimated noise "
        "distribution (needs matplotlib)",
    )
    return parser.parse_args(argv)


def load_model(model_dir, device):
    """Loads a model folder offline (``DiffGMMEnhancement.from_hparams``)."""
    from diffgmm_sb.inference import DiffGMMEnhancement

    if not os.path.isfile(os.path.join(model_dir, "hyperparams.yaml")):
        raise FileNotFoundError(
            f"{model_dir}: no hyperparams.yaml; pass --model with a model folder "
            "(python -m diffgmm_sb.export RUN_FOLDER MODEL_FOLDER makes one)"
        )
    savedir = os.path.join(
        tempfile.gettempdir(), "diffgmm_sb_models", os.path.basename(model_dir)
    )
    return DiffGMMEnhancement.from_hparams(
        source=os.path.abspath(model_dir), savedir=savedir, run_opts={"device": device}
    )


def _first_seconds(path, seconds, rate):
    """The first ``seconds`` of channel 0 of ``path``, resampled to ``rate``."""
    import torch
    import torchaudio.functional as AF

    with sf.SoundFile(path) as f:
        wav = f.read(int(seconds * f.samplerate), dtype="float32", always_2d=True)
        wav = torch.from_numpy(wav[:, 0].copy())
        return AF.resample(wav, f.samplerate, rate) if f.samplerate != rate else wav


def write_plot(enhancer, noisy_path, enhanced_path, png_path):
    """Writes the ``--plot`` figure for one enhanced file."""
    from diffgmm_sb.plot import MAX_PLOT_SECONDS, plot_enhancement

    rate = enhancer.sample_rate
    noisy = _first_seconds(noisy_path, MAX_PLOT_SECONDS, rate)
    enhanced = _first_seconds(enhanced_path, MAX_PLOT_SECONDS, rate)
    model = enhancer.mods.diffgmm
    plot_enhancement(model, noisy, enhanced, rate, png_path, os.path.basename(noisy_path))


def main(argv=None):
    """Runs the command; returns the exit code."""
    args = parse_args(argv)
    try:
        enhancer = load_model(args.model, args.device)
    except (FileNotFoundError, ValueError) as err:
        print(f"diffgmm-enhance: {err}", file=sys.stderr)
        return 2
    files = list_inputs(args.inputs)
    if not files:
        print("diffgmm-enhance: no audio files in the inputs", file=sys.stderr)
        return 2
    os.makedirs(args.output, exist_ok=True)
    failures = []
    for path in tqdm(files, desc="enhancing", unit="file"):
        target = os.path.join(args.output, os.path.basename(path))
        try:
            enhancer.enhance_file(path, output_filename=target, steps=args.steps)
            if args.plot:
                write_plot(enhancer, path, target, os.path.splitext(target)[0] + ".png")
        except (ValueError, OSError, RuntimeError) as err:
            failures.append(f"{path}: {err}")
    for line in failures:
        print(f"diffgmm-enhance: failed: {line}", file=sys.stderr)
    print(f"{len(files) - len(failures)} of {len(files)} files enhanced into {args.output}")
    return 0 if not failures else 1


def main_exit():
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
