"""``diffgmm-enhance``: enhance audio files or folders with a DiffGMM model.

    diffgmm-enhance noisy.wav more/ -o enhanced/ --model path/to/model --steps 3

Each input file is written as ``OUT/<input file name>`` (files found in a
folder keep their path below that folder) in its own format, rate and
channel count. Files are streamed chunk by chunk (any length) and written
under a temporary name that is renamed when complete, so an output file is
never half-written. A file that cannot be enhanced (missing, empty,
unreadable, unsupported, NaN samples, or whose output would overwrite an
input or another output) is reported in one line naming it and skipped; the
others are still enhanced. Exit code: 0 if every file was written, 1 if some
failed, 2 if nothing could start (bad model folder or no input).

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import os
import sys

import soundfile as sf
from tqdm import tqdm

# Extensions of the files taken from folders: those soundfile reads, and
# common audio formats it does not, so that they are reported, not ignored.
UNSUPPORTED_AUDIO_EXTENSIONS = (".m4a", ".aac", ".wma", ".mp4", ".amr", ".ac3", ".webm")
AUDIO_EXTENSIONS = (
    tuple("." + ext.lower() for ext in sf.available_formats())
    + (".aif", ".opus", ".oga", ".wave")
    + UNSUPPORTED_AUDIO_EXTENSIONS
)
DEFAULT_MODEL = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pretrained"
)


def list_inputs(paths):
    """Expands files and folders (recursively) into a sorted list of audio files.

    In folders, files are taken by extension (``AUDIO_EXTENSIONS``: what
    soundfile reads, plus common formats it does not, which then fail with a
    clear message instead of being skipped unnoticed); hidden files such as
    unfinished ``.name.part`` outputs are left out.

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
                    if n.lower().endswith(AUDIO_EXTENSIONS) and not n.startswith(".")
                ]
        else:
            files.append(path)
    return sorted(files)


def plan_outputs(inputs, output_folder):
    """Pairs every input audio file with its output path.

    Files found in a folder keep their path below that folder; files named
    directly keep their name. An input whose output would overwrite an
    input (itself or another), or be the output of another input, is not
    planned but reported.

    Returns
    -------
    pairs : list of (str, str)
        Input file and output path.
    problems : list of str
        One line per input that cannot be written.

    Example
    -------
    >>> plan_outputs(["a/x.wav", "b/x.wav"], "out")
    ([('a/x.wav', 'out/x.wav')], ['b/x.wav: skipped, out/x.wav is already the output of a/x.wav'])
    """
    found = []
    for path in inputs:
        if os.path.isdir(path):
            found += [(f, os.path.relpath(f, path)) for f in list_inputs([path])]
        else:
            found.append((path, os.path.basename(path)))
    sources = {os.path.realpath(src): src for src, _ in found}
    pairs, problems, owners = [], [], {}
    for src, name in found:
        target = os.path.join(output_folder, name)
        key = os.path.realpath(target)
        if key in sources:
            which = "the input" if key == os.path.realpath(src) else sources[key]
            problems.append(f"{src}: skipped, the output would overwrite {which}")
        elif key in owners:
            if os.path.realpath(owners[key]) != os.path.realpath(src):
                problems.append(
                    f"{src}: skipped, {target} is already the output of {owners[key]}"
                )
        else:
            owners[key] = src
            pairs.append((src, target))
    return pairs, problems


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _fraction(text):
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def _one_line(err):
    """An exception as one line (type name added when it is not our own error)."""
    text = " ".join(str(err).split())
    if isinstance(err, (ValueError, OSError)):
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}"


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="diffgmm-enhance", description="Enhance noisy audio with DiffGMM."
    )
    parser.add_argument("inputs", nargs="+", help="audio files or folders")
    parser.add_argument("-o", "--output", required=True, help="output folder")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model folder")
    parser.add_argument("--steps", type=_positive_int, default=None, help="reverse steps")
    parser.add_argument(
        "--final-gamma",
        type=_fraction,
        default=None,
        help="fraction of the estimated noise left in, in [0, 1) "
        "(default: the model's sampler_final_gamma)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--plot",
        action="store_true",
        help="also write OUT/<name>.png: spectrograms and the estimated noise "
        "distribution (needs matplotlib)",
    )
    return parser.parse_args(argv)


def load_model(model_dir, device):
    """Loads a model folder in place, executing nothing from it.

    See ``DiffGMMEnhancement.from_hparams``; nothing is cached elsewhere, so
    a stale copy of another model with the same folder name is never used.
    """
    from diffgmm_sb.inference.interface import DiffGMMEnhancement

    return DiffGMMEnhancement.from_hparams(
        source=os.path.abspath(model_dir), run_opts={"device": device}
    )


def _first_seconds(path, seconds, rate):
    """The first ``seconds`` of channel 0 of ``path``, resampled to ``rate``."""
    import torchaudio.functional as AF

    from diffgmm_sb.data.audio import AudioFileReader

    with AudioFileReader(path) as reader:
        wav = reader.read(0, min(int(seconds * reader.rate), reader.frames))[0]
        return AF.resample(wav, reader.rate, rate) if reader.rate != rate else wav


def write_plot(enhancer, noisy_path, enhanced_path, png_path):
    """Writes the ``--plot`` figure for one enhanced file."""
    from diffgmm_sb.inference.plot import MAX_PLOT_SECONDS, plot_enhancement

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
    except Exception as err:  # bad folder, unusable device: one line, exit 2
        print(f"diffgmm-enhance: {_one_line(err)}", file=sys.stderr)
        return 2
    enhancer.final_gamma = args.final_gamma
    pairs, failures = plan_outputs(args.inputs, args.output)
    if not pairs and not failures:
        print("diffgmm-enhance: no audio files in the inputs", file=sys.stderr)
        return 2
    total = len(pairs) + len(failures)
    try:
        for path, target in tqdm(pairs, desc="enhancing", unit="file"):
            try:
                enhancer.enhance_to_file(path, target, steps=args.steps)
                if args.plot:
                    png = os.path.splitext(target)[0] + ".png"
                    write_plot(enhancer, path, target, png)
            except Exception as err:  # one bad file never stops the others
                text = _one_line(err)  # our errors already start with the path
                failures.append(text if text.startswith(path) else f"{path}: {text}")
    except KeyboardInterrupt:
        print("diffgmm-enhance: interrupted", file=sys.stderr)
        return 130
    for line in failures:
        print(f"diffgmm-enhance: failed: {line}", file=sys.stderr)
    print(f"{total - len(failures)} of {total} files enhanced into {args.output}")
    return 0 if not failures else 1


def main_exit():
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
