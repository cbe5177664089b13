"""``diffgmm-evaluate``: score enhanced speech against clean references.

Measures, per file and averaged: PESQ wide band and narrow band (``pesq``,
MOS-LQO), STOI and extended STOI (``pystoi``), the composite CSIG, CBAK and
COVL with their parts LLR and WSS, segmental SNR (:mod:`diffgmm_sb.evaluation.composite`,
after Loizou's ``composite.m``, with wide-band PESQ in the formulas) and
SI-SDR. Files at another rate than 16 kHz are resampled to 16 kHz first;
multichannel files are averaged to mono.

Pairs come from two folders (matched by relative path), or from a SpeechBrain
JSON manifest (``clean_wav`` references; the audio scored is ``noisy_wav``, or
the file of the same name in ``--enhanced-dir``), and can first be enhanced by
any SpeechBrain enhancement interface (:mod:`diffgmm_sb.evaluation.enhancers`)::

    diffgmm-evaluate --clean-dir clean/ --enhanced-dir enhanced/
    diffgmm-evaluate --manifest test.json --noisy --enhancer diffgmm \\
        --model my_model --output enhanced/

Every file is checked first: a file that cannot be read, holds no samples or
non-finite samples, or differs from its reference in rate, channel count or
length is reported on one line naming it, and skipped; the exit code is then 1.

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import csv
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torchaudio.functional as AF
from tqdm import tqdm

from diffgmm_sb.data.audio import AudioError, read_pair
from diffgmm_sb.evaluation import metrics
from diffgmm_sb.evaluation.composite import composite

SAMPLE_RATE = 16000  # the rate every measure is computed at
MIN_SECONDS = 0.25  # PESQ needs at least a quarter of a second
METRICS = ("pesq_wb", "pesq_nb", "stoi", "estoi", "csig", "cbak", "covl", "ssnr", "si_sdr")
PARTS = ("llr", "wss")  # the composite's inputs, in the CSV only
LABELS = {
    "pesq_wb": "PESQ-wb",
    "pesq_nb": "PESQ-nb",
    "stoi": "STOI",
    "estoi": "eSTOI",
    "csig": "CSIG",
    "cbak": "CBAK",
    "covl": "COVL",
    "ssnr": "SSNR (dB)",
    "si_sdr": "SI-SDR (dB)",
    "llr": "LLR",
    "wss": "WSS",
}


def scorable_pair(audio_path, reference_path):
    """An audio file and its reference as float64 mono arrays, checked to be scorable.

    ``diffgmm_sb.data.audio.read_pair``'s checks (readable, finite, same rate,
    channel count and length), and a reference long enough for PESQ and not
    silent.

    Returns
    -------
    audio, reference, rate : numpy.ndarray, numpy.ndarray, int

    Example
    -------
    >>> scorable_pair("missing.wav", "missing.wav")
    Traceback (most recent call last):
    ...
    diffgmm_sb.data.audio.AudioError: missing.wav: no such file
    """
    audio, reference, rate = read_pair(audio_path, reference_path)
    audio, reference = audio.double().numpy(), reference.double().numpy()
    if len(reference) < MIN_SECONDS * rate:
        raise AudioError(
            f"{reference_path}: {len(reference) / rate:.3f} s long, too short to "
            f"score (PESQ needs at least {MIN_SECONDS} s)"
        )
    if not np.any(reference):
        raise AudioError(f"{reference_path}: the reference is silent (all zeros)")
    return audio, reference, rate


def score_arrays(audio, reference, sample_rate=SAMPLE_RATE):
    """Every measure of one mono signal against its reference.

    Returns
    -------
    dict
        One float per name of ``METRICS`` and ``PARTS`` (PESQ and the
        composite measures are NaN where PESQ finds no speech in the reference).

    Example
    -------
    >>> ref = np.sin(np.arange(16000) * 0.05) * 0.3
    >>> scores = score_arrays(ref, ref)
    >>> scores["ssnr"], scores["csig"], round(scores["stoi"], 3)
    (35.0, 5.0, 1.0)
    """
    if np.shape(audio) != np.shape(reference) or np.ndim(audio) != 1:
        raise ValueError("score_arrays: need two mono signals of one length")
    pred = torch.as_tensor(np.asarray(audio, dtype=np.float64)).unsqueeze(0)
    target = torch.as_tensor(np.asarray(reference, dtype=np.float64)).unsqueeze(0)
    if sample_rate != SAMPLE_RATE:
        pred, target = (AF.resample(x, sample_rate, SAMPLE_RATE) for x in (pred, target))
    scores = {
        "pesq_wb": float(metrics.pesq_wb(pred, target)[0]),
        "pesq_nb": float(metrics.pesq_nb(pred, target)[0]),
        "stoi": float(metrics.stoi(pred, target)[0]),
        "estoi": float(metrics.estoi(pred, target)[0]),
        "si_sdr": float(metrics.si_sdr(pred, target)[0]),
    }
    parts = composite(target[0].numpy(), pred[0].numpy(), SAMPLE_RATE, scores["pesq_wb"])
    scores.update({k: parts[k] for k in ("csig", "cbak", "covl", "ssnr") + PARTS})
    return scores


def score_files(pairs, progress=False):
    """Scores ``(id, audio_path, reference_path)`` triples.

    Returns
    -------
    rows, failures : list of dict, list of str
        One row per scored pair (``id``, ``audio``, ``reference`` and the
        scores); one line per pair that could not be scored.
    """
    rows, failures = [], []
    for uid, audio_path, reference_path in tqdm(
        pairs, desc="scoring", unit="file", disable=not progress
    ):
        try:
            audio, reference, rate = scorable_pair(audio_path, reference_path)
        except AudioError as err:
            failures.append(str(err))
            continue
        row = {"id": uid, "audio": audio_path, "reference": reference_path}
        row.update(score_arrays(audio, reference, rate))
        rows.append(row)
    return rows, failures


def pairs_from_manifest(manifest, key="noisy_wav", enhanced_dir=None, data_root=None):
    """``(id, audio, clean)`` triples of a SpeechBrain JSON manifest.

    Arguments
    ---------
    manifest : str
        JSON file of entries with ``clean_wav`` and ``key``; ``{data_root}``
        in paths is replaced by ``data_root`` (default: the manifest's folder).
    key : str
        The entry field of the audio to score.
    enhanced_dir : str, optional
        Score ``enhanced_dir/<file name of the key's file>`` instead (the
        layout ``diffgmm-enhance -o`` writes).
    data_root : str, optional
        Replacement of ``{data_root}``.
    """
    from diffgmm_sb.data.manifests import load_manifest

    root = data_root or os.path.dirname(os.path.abspath(manifest))
    try:
        entries = load_manifest(manifest, root).data
    except json.JSONDecodeError as err:
        raise AudioError(f"{manifest}: not a JSON manifest ({err})") from err
    if not entries:
        raise AudioError(f"{manifest}: the manifest has no entries")
    pairs, names = [], {}
    for uid, entry in entries.items():
        missing = [k for k in ("clean_wav", key) if k not in entry]
        if missing:
            raise AudioError(f"{manifest}: entry {uid} has no {' or '.join(missing)}")
        audio = entry[key]
        if enhanced_dir is not None:
            name = os.path.basename(audio)
            if name in names:
                raise AudioError(
                    f"{manifest}: entries {names[name]} and {uid} share the file name "
                    f"{name}, so {enhanced_dir} cannot hold both"
                )
            names[name] = uid
            audio = os.path.join(enhanced_dir, name)
        pairs.append((uid, audio, entry["clean_wav"]))
    return pairs


def pairs_from_folders(clean_dir, enhanced_dir):
    """``(id, enhanced, clean)`` triples of two folders, matched by relative path."""
    from diffgmm_sb.inference.enhance import list_inputs

    found = {}
    for folder in (clean_dir, enhanced_dir):
        if not os.path.isdir(folder):
            raise AudioError(f"{folder}: no such folder")
        found[folder] = {os.path.relpath(p, folder) for p in list_inputs([folder])}
    if not found[clean_dir]:
        raise AudioError(f"{clean_dir}: no audio files")
    for folder, other in ((clean_dir, enhanced_dir), (enhanced_dir, clean_dir)):
        alone = sorted(found[folder] - found[other])
        if alone:
            shown = ", ".join(alone[:5]) + (
                f" and {len(alone) - 5} more" * (len(alone) > 5)
            )
            raise AudioError(f"{folder}: files not in {other}: {shown}")
    return [
        (
            os.path.splitext(rel)[0],
            os.path.join(enhanced_dir, rel),
            os.path.join(clean_dir, rel),
        )
        for rel in sorted(found[clean_dir])
    ]


def mean_scores(rows):
    """Mean of every measure over the rows, leaving NaN scores out.

    Example
    -------
    >>> mean_scores([{"stoi": 0.5}, {"stoi": 0.7}, {"stoi": float("nan")}])["stoi"]
    0.6
    """
    means = {}
    for name in METRICS + PARTS:
        values = np.array([row[name] for row in rows if name in row], dtype=np.float64)
        values = values[np.isfinite(values)]
        means[name] = round(float(values.mean()), 12) if len(values) else float("nan")
    return means


def write_csv(rows, path):
    """Writes per-file scores (one row per file and system) atomically."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    columns = ["id", "system", "audio", "reference", *METRICS, *PARTS]
    with open(path + ".part", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            cells = [row.get(c, "") for c in columns[:4]]
            writer.writerow(cells + [f"{row[c]:.4f}" for c in columns[4:]])
    os.replace(path + ".part", path)


def format_table(means_by_system, counts):
    """The averages as a text table, one column per system.

    Example
    -------
    >>> print(format_table({"noisy": {"stoi": 0.9}}, {"noisy": 2}).splitlines()[4])
    STOI               0.900
    """
    systems = list(means_by_system)
    lines = [f"{'':12}" + "".join(f"{s:>12}" for s in systems)]
    lines.append(f"{'files':12}" + "".join(f"{counts[s]:>12}" for s in systems))
    for name in METRICS + PARTS:
        values = [means_by_system[s].get(name, float("nan")) for s in systems]
        lines.append(f"{LABELS[name]:12}" + "".join(f"{v:>12.3f}" for v in values))
    return "\n".join(lines)


def parse_args(argv=None):
    """The command line."""
    from diffgmm_sb.evaluation.enhancers import INTERFACES

    parser = argparse.ArgumentParser(
        prog="diffgmm-evaluate",
        description="Score enhanced speech against clean references (PESQ-wb/nb, "
        "STOI, eSTOI, CSIG, CBAK, COVL, SSNR, SI-SDR).",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--manifest", help="SpeechBrain JSON manifest (clean_wav, noisy_wav)"
    )
    source.add_argument("--clean-dir", help="folder of clean references")
    parser.add_argument("--enhanced-dir", help="folder of enhanced files (same names)")
    parser.add_argument("--key", default="noisy_wav", help="manifest field scored")
    parser.add_argument("--data-root", help="replaces {data_root} (default: its folder)")
    parser.add_argument("--noisy", action="store_true", help="also score noisy_wav")
    parser.add_argument("--enhancer", choices=sorted(INTERFACES), help="interface to run")
    parser.add_argument("--model", help="local model folder of the enhancer")
    parser.add_argument("--output", help="folder for the enhanced files")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--csv",
        help="per-file scores (default: scores.csv in --output; none without --output)",
    )
    args = parser.parse_args(argv)
    if args.clean_dir and not args.enhanced_dir:
        parser.error("--clean-dir needs --enhanced-dir")
    if args.enhancer and not (args.manifest and args.model and args.output):
        parser.error("--enhancer needs --manifest, --model and --output")
    if args.enhancer and args.enhanced_dir:
        parser.error("--enhancer writes to --output; leave out --enhanced-dir")
    if (args.model or args.output) and not args.enhancer:
        parser.error("--model and --output go with --enhancer")
    if args.noisy and not args.manifest:
        parser.error("--noisy needs --manifest")
    return args


def _system_name(folder):
    """A folder's name, used as the column of its averages."""
    return os.path.basename(os.path.normpath(folder))


def _run(args):
    """The systems to score, ``{name: pairs}``, and the enhancement failures."""
    if args.clean_dir:
        pairs = pairs_from_folders(args.clean_dir, args.enhanced_dir)
        return {_system_name(args.enhanced_dir): pairs}, []
    manifest, root = args.manifest, args.data_root
    systems, failures = {}, []
    if args.noisy or not (args.enhancer or args.enhanced_dir):
        key = "noisy_wav" if args.noisy else args.key
        systems["noisy" if key == "noisy_wav" else key] = pairs_from_manifest(
            manifest, key, data_root=root
        )
    if args.enhanced_dir:
        pairs = pairs_from_manifest(manifest, args.key, args.enhanced_dir, root)
        name = _system_name(args.enhanced_dir)
        systems[name if name not in systems else args.enhanced_dir] = pairs
    if args.enhancer:
        from diffgmm_sb.evaluation.enhancers import enhance_files, load_enhancer

        pairs_from_manifest(manifest, args.key, args.output, root)  # names clash?
        sources = pairs_from_manifest(manifest, args.key, data_root=root)
        inputs = [audio for _, audio, _ in sources]
        with tempfile.TemporaryDirectory(prefix="diffgmm_sb_model_") as savedir:
            enhancer = load_enhancer(args.enhancer, args.model, args.device, savedir)
            written, failures = enhance_files(enhancer, inputs, args.output, True)
        systems[args.enhancer] = [
            (uid, written[audio], clean)
            for uid, audio, clean in sources
            if audio in written
        ]
    return systems, failures


def main(argv=None):
    """Runs the command; returns the exit code."""
    args = parse_args(argv)
    try:
        systems, failures = _run(args)
    except (AudioError, FileNotFoundError, ValueError) as err:
        print(f"diffgmm-evaluate: {err}", file=sys.stderr)
        return 2
    all_rows, means, counts = [], {}, {}
    for system, pairs in systems.items():
        rows, failed = score_files(pairs, progress=True)
        failures += failed
        all_rows += [{"system": system, **row} for row in rows]
        means[system], counts[system] = mean_scores(rows), len(rows)
    for line in failures:
        print(f"diffgmm-evaluate: {line}", file=sys.stderr)
    if not all_rows:
        print("diffgmm-evaluate: no file could be scored", file=sys.stderr)
        return 1
    csv = args.csv or (args.output and os.path.join(args.output, "scores.csv"))
    if csv:
        write_csv(all_rows, csv)
    print(format_table(means, counts))
    print(f"per-file scores: {csv}" if csv else "per-file scores: not written (--csv FILE)")
    return 0 if not failures else 1


def main_exit():
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
