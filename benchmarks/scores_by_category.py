#!/usr/bin/env python3
"""Test scores per noise category: where the model gains and where it does not.

Reads the per-utterance score file that ``train.py`` writes for a test set
(``<output_folder>/test_scores_test.csv``) and the manifest that names each
utterance's noise category and SNR, and prints a Markdown table::

    python benchmarks/scores_by_category.py results/diffgmm/1234/test_scores_test.csv \\
        data/starter/test.json

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import collections
import csv
import json
import sys

DECIMALS = {"stoi": 3}  # decimals of the table's cells; other measures: 2


def by_category(rows, manifest, key="noise_category"):
    """``{category: [row, ...]}`` for the score rows, grouped by a manifest field.

    Example
    -------
    >>> rows = [{"id": "a", "enhanced_pesq": "2.0"}, {"id": "b", "enhanced_pesq": "1.0"}]
    >>> manifest = {"a": {"noise_category": "rain"}, "b": {"noise_category": "hum"}}
    >>> sorted(by_category(rows, manifest))
    ['hum', 'rain']
    """
    groups = collections.defaultdict(list)
    for row in rows:
        if row["id"] not in manifest:
            raise SystemExit(f"utterance {row['id']} of the scores is not in the manifest")
        groups[manifest[row["id"]].get(key, "?")].append(row)
    return groups


def _mean(rows, column):
    return sum(float(r[column]) for r in rows) / len(rows)


def table(groups, manifest, measures):
    """Markdown lines: one row per category, noisy → enhanced for each measure."""
    head = "| category | n | mean SNR (dB) | " + " | ".join(measures) + " |"
    lines = [head, "|" + "---|" * (3 + len(measures))]
    everything = [r for rows in groups.values() for r in rows]
    for name, rows in sorted(groups.items()) + [("all", everything)]:
        snr = sum(float(manifest[r["id"]].get("snr", "nan")) for r in rows) / len(rows)
        cells = [
            f"{_mean(rows, 'noisy_' + m):.{DECIMALS.get(m, 2)}f} → "
            f"{_mean(rows, 'enhanced_' + m):.{DECIMALS.get(m, 2)}f}"
            for m in measures
        ]
        lines.append(f"| {name} | {len(rows)} | {snr:.1f} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scores", help="test_scores_<name>.csv written by train.py")
    parser.add_argument("manifest", help="the test set's JSON manifest")
    parser.add_argument(
        "--key", default="noise_category", help="manifest field to group by"
    )
    args = parser.parse_args(argv)
    with open(args.scores) as f:
        rows = list(csv.DictReader(f))
    with open(args.manifest) as f:
        manifest = json.load(f)
    if not rows:
        raise SystemExit(f"{args.scores} holds no scores")
    measures = [c[len("enhanced_") :] for c in rows[0] if c.startswith("enhanced_")]
    print("\n".join(table(by_category(rows, manifest, args.key), manifest, measures)))


if __name__ == "__main__":
    sys.exit(main())
