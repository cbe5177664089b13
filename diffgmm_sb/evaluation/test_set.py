"""The final scoring of a recipe's enhanced test set, and of its noisy input.

Speech is scored with the full measures of :mod:`diffgmm_sb.evaluation.evaluate`
(PESQ-wb/nb, STOI, eSTOI, CSIG, CBAK, COVL, SSNR, SI-SDR); other audio (bird
song) with SDR and SI-SDR. The scores go to a per-file CSV and a Markdown
table of the means.

Authors
 * diffgmm-sb developers 2026
"""

import csv
import os

import numpy as np
import torch
from speechbrain.utils.logger import get_logger

from diffgmm_sb.data.audio import AudioError
from diffgmm_sb.data.manifests import load_manifest
from diffgmm_sb.evaluation import evaluate, metrics

logger = get_logger(__name__)

# The measures of score_test_set: speech (diffgmm_sb.evaluation.evaluate's), or SDR and SI-SDR.
SPEECH = evaluate.METRICS
SDR = ("sdr", "si_sdr")
LABELS = {**evaluate.LABELS, "sdr": "SDR (dB)"}


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
            audio, reference, rate = evaluate.scorable_pair(audio_path, reference_path)
        except AudioError as err:
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
