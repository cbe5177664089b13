"""Helpers shared by the training recipes (``train.py`` and ``recipes/*/train.py``).

* :func:`read_mono`, :func:`write_normalised`: data preparation writes, once,
  mono 16-bit copies at the model's rate of audio that is not already so.
* :func:`preparation_done`, :func:`write_manifest`, :func:`mark_prepared`:
  idempotent preparation into SpeechBrain JSON manifests.
* :func:`leave_process_group`: every rank of a DDP run meets, then closes
  its process group before the interpreter exits.
* :func:`score_test_set`: the final scoring of a recipe's enhanced test set
  (and of its noisy input) with the full measures of
  :mod:`diffgmm_sb.evaluation.evaluate` (speech) or SDR and SI-SDR (other audio).

Authors
 * diffgmm-sb developers 2026
"""

import csv
import json
import os

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF
from speechbrain.utils.distributed import ddp_barrier, is_distributed_initialized
from speechbrain.utils.logger import get_logger

from diffgmm_sb.data.audio import write_wav
from diffgmm_sb.data.manifests import load_manifest
from diffgmm_sb.evaluation import evaluate, metrics

logger = get_logger(__name__)
PREPARE_OPTIONS = "prepare_options.json"

# The measures of score_test_set: speech (diffgmm_sb.evaluation.evaluate's), or SDR and SI-SDR.
SPEECH = evaluate.METRICS
SDR = ("sdr", "si_sdr")
LABELS = {**evaluate.LABELS, "sdr": "SDR (dB)"}


def leave_process_group():
    """Waits for every rank, then destroys the DDP process group (if any).

    A rank that exits with its gloo group still open can close the sockets
    under a peer that is still tearing down, and that peer aborts (SIGABRT)
    after the work is done. Recipes call this last; without DDP it does nothing.

    Example
    -------
    >>> leave_process_group()  # one process: nothing to leave
    """
    if is_distributed_initialized():
        ddp_barrier()
        torch.distributed.destroy_process_group()


def read_mono(path, channel=None):
    """A file as float32 mono and its rate: channel ``channel``, else the mean.

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "s.wav")
    >>> sf.write(path, np.array([[0.5, -0.5]] * 4), 8000)
    >>> read_mono(path, channel=1)[0].tolist(), read_mono(path)[0].tolist()
    ([-0.5, -0.5, -0.5, -0.5], [0.0, 0.0, 0.0, 0.0])
    """
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    if channel is not None:
        if channel >= audio.shape[1]:
            raise ValueError(f"{path}: no channel {channel} ({audio.shape[1]} channels)")
        return audio[:, channel], rate
    return audio.mean(axis=1), rate


def write_normalised(src, dst, sample_rate, channel=None, length=None):
    """Writes ``src`` to ``dst`` as mono 16-bit WAV at ``sample_rate``.

    Arguments
    ---------
    src, dst : str
        Input file (any rate and channel count ``soundfile`` reads), output.
    sample_rate : int
        Rate of the output (resampled when the input's differs).
    channel : int, optional
        The input channel to keep (default: the mean of all channels).
    length : int, optional
        Output length in samples: longer audio is cut, shorter zero-padded.

    Returns
    -------
    int
        The number of samples written.

    Example
    -------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> sf.write(os.path.join(folder, "a.wav"), np.zeros((4800, 2)), 48000)
    >>> write_normalised(os.path.join(folder, "a.wav"), os.path.join(folder, "b.wav"), 16000)
    1600
    """
    audio, rate = read_mono(src, channel)
    if rate != sample_rate:
        audio = AF.resample(torch.from_numpy(audio), rate, sample_rate).numpy()
    if length is not None:
        audio = np.pad(audio[:length], (0, max(0, length - len(audio))))
    write_wav(dst, audio, sample_rate)
    return len(audio)


def preparation_done(save_folder, manifests, options):
    """True when ``manifests`` exist in ``save_folder``, written with ``options``.

    Example
    -------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> preparation_done(folder, ["train.json"], {"rate": 16000})
    False
    >>> write_manifest({}, os.path.join(folder, "train.json"))
    >>> mark_prepared(folder, {"rate": 16000})
    >>> preparation_done(folder, ["train.json"], {"rate": 16000})
    True
    >>> preparation_done(folder, ["train.json"], {"rate": 8000})
    False
    """
    paths = [os.path.join(save_folder, m) for m in [*manifests, PREPARE_OPTIONS]]
    if not all(os.path.isfile(p) for p in paths):
        return False
    with open(paths[-1], encoding="utf-8") as f:
        return json.load(f) == json.loads(json.dumps(options))


def mark_prepared(save_folder, options):
    """Records the options the manifests in ``save_folder`` were written with."""
    write_manifest(options, os.path.join(save_folder, PREPARE_OPTIONS))


def write_manifest(entries, path):
    """Writes a JSON manifest atomically (creating its folder)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".part", "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=2)
    os.replace(path + ".part", path)


def _sdr_scores(audio, reference, rate):
    pred = torch.from_numpy(audio).unsqueeze(0)
    target = torch.from_numpy(reference).unsqueeze(0)
    return {
        "sdr": float(metrics.sdr(pred, target)[0]),
        "si_sdr": float(metrics.si_sdr(pred, target)[0]),
    }


def _score(pairs, measures):
    """Scores ``(id, audio, reference)`` path triples; rows and failures."""
    rows, failures = [], []
    for uid, audio_path, reference_path in pairs:
        try:
            audio, reference, rate = evaluate.read_pair(audio_path, reference_path)
        except evaluate.EvaluationError as err:
            failures.append(str(err))
            continue
        if measures == SPEECH:
            scores = evaluate.score_arrays(audio, reference, rate)
        else:
            scores = _sdr_scores(audio, reference, rate)
        rows.append({"id": uid, **{k: scores[k] for k in measures}})
    return rows, failures


def _mean(rows, name):
    values = np.array([row[name] for row in rows], dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")


def markdown_table(means, counts, measures):
    """Mean scores as a Markdown table, one row per system.

    Example
    -------
    >>> print(markdown_table({"noisy": {"sdr": 1.0, "si_sdr": 0.5}}, {"noisy": 2}, SDR))
    | system | files | SDR (dB) | SI-SDR (dB) |
    |---|---|---|---|
    | noisy | 2 | 1.000 | 0.500 |
    """
    labels = [LABELS[m] for m in measures]
    lines = [
        "| system | files | " + " | ".join(labels) + " |",
        "|---" * (len(labels) + 2) + "|",
    ]
    for system, values in means.items():
        cells = [f"{values[m]:.3f}" for m in measures]
        lines.append(f"| {system} | {counts[system]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def score_test_set(
    manifest, data_folder, enhanced_folder, output_folder, measures="speech", name="test"
):
    """Scores a recipe's enhanced test set and its noisy input against ``clean_wav``.

    The enhanced file of entry ``id`` is ``<enhanced_folder>/<id>.wav`` (as
    :class:`diffgmm_sb.training.brain.DiffGMMBrain` writes them). Writes
    ``<output_folder>/<name>_metrics.csv`` (one row per file and system) and
    ``<name>_metrics.md`` (the means as a Markdown table).

    Arguments
    ---------
    manifest : str
        The test manifest (``noisy_wav``, ``clean_wav``; ``{data_root}``).
    data_folder : str
        Replacement of ``{data_root}``.
    enhanced_folder : str
        Folder of the enhanced files.
    output_folder : str
        Where the score files go.
    measures : str
        ``speech``: PESQ-wb/nb, STOI, eSTOI, CSIG, CBAK, COVL, SSNR, SI-SDR
        (:mod:`diffgmm_sb.evaluation.evaluate`); ``sdr``: SDR and SI-SDR.
    name : str
        Prefix of the score files.

    Returns
    -------
    dict
        ``{"noisy": means, "enhanced": means}``, each ``{measure: mean}``
        over the files that could be scored (NaN scores left out).
    """
    columns = {"speech": SPEECH, "sdr": SDR}[measures]
    entries = load_manifest(manifest, data_folder).data
    systems = {
        "noisy": [(uid, e["noisy_wav"], e["clean_wav"]) for uid, e in entries.items()],
        "enhanced": [
            (uid, os.path.join(enhanced_folder, f"{uid}.wav"), e["clean_wav"])
            for uid, e in entries.items()
        ],
    }
    means, counts, all_rows = {}, {}, []
    for system, pairs in systems.items():
        rows, failures = _score(pairs, columns)
        for line in failures:
            logger.warning("%s scoring: %s", system, line)
        means[system] = {m: _mean(rows, m) for m in columns}
        counts[system] = len(rows)
        all_rows += [{"system": system, **row} for row in rows]
    os.makedirs(output_folder, exist_ok=True)
    path = os.path.join(output_folder, f"{name}_metrics.csv")
    with open(path + ".part", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "system", *columns])
        for row in all_rows:
            writer.writerow([row["id"], row["system"]] + [f"{row[c]:.4f}" for c in columns])
    os.replace(path + ".part", path)
    table = markdown_table(means, counts, columns)
    with open(
        os.path.join(output_folder, f"{name}_metrics.md"), "w", encoding="utf-8"
    ) as f:
        f.write(table + "\n")
    logger.info("%s set scores (%s):\n%s", name, path, table)
    return means
