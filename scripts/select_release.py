#!/usr/bin/env python3
"""Chooses the release model among training runs, on the validation split only.

Each run's best checkpoint (by its own validation PESQ-wb) and the shipped
model are scored with the same sampler and metrics on the validation manifest
(``benchmarks/quality_vs_steps.py``'s ``score``). The run with the highest
validation PESQ-wb is exported (float16 weights) to ``--export``; with
``--ship`` it replaces the shipped model's ``hyperparams.yaml`` and
``diffgmm.ckpt`` only if it also scores higher than the shipped model there::

    python scripts/select_release.py results/release/base results/release/wide \\
        --export results/release/model --shipped diffgmm_sb/pretrained --ship

No test set is read: the choice and the shipping decision rest on validation.

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import os
import shutil
import sys
import tempfile

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
from quality_vs_steps import load_enhancer, load_sets, score  # noqa: E402

from diffgmm_sb.inference.export import export_pretrained  # noqa: E402

MODEL_FILES = ("hyperparams.yaml", "diffgmm.ckpt")


def parse_args(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="training run folders (with save/)")
    parser.add_argument("--export", required=True, help="model folder for the winner")
    parser.add_argument("--shipped", default="diffgmm_sb/pretrained")
    parser.add_argument("--ship", action="store_true", help="replace it if better")
    parser.add_argument("--manifest", default="data/starter/valid.json")
    parser.add_argument("--data-folder", default="data/starter")
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args(argv)


def main(argv=None):
    """Scores the candidates, exports the best, ships it when it wins."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    for run in args.runs:
        if not os.path.isdir(os.path.join(run, "save")):
            sys.exit(f"{run}: not a training run folder (no save/)")
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        sets = None
        for name in [*args.runs, args.shipped]:
            enhancer = load_enhancer(name, os.path.join(workdir, str(len(results))))
            if sets is None:
                sets = load_sets(
                    [args.manifest], [], args.data_folder, workdir, enhancer.sample_rate
                )
            (pairs,) = sets.values()
            results[name] = score(enhancer, pairs, enhancer.hparams.sampler_steps)
    print("| model | valid PESQ-wb | STOI | SI-SDR (dB) |")
    print("|---|---|---|---|")
    for name, means in results.items():
        print(
            f"| {name} | {means['pesq']:.3f} | {means['stoi']:.4f} | {means['si_sdr']:.2f} |"
        )
    best = max(args.runs, key=lambda run: results[run]["pesq"])
    export_pretrained(best, args.export, half=True)
    print(f"best run: {best}, exported to {args.export}")
    if results[best]["pesq"] <= results[args.shipped]["pesq"]:
        print(f"not shipped: {args.shipped} scores as high or higher on validation")
    elif args.ship:
        for name in MODEL_FILES:
            shutil.copyfile(
                os.path.join(args.export, name), os.path.join(args.shipped, name)
            )
        print(f"shipped: {args.export} -> {args.shipped} (update its README.md)")
    else:
        print(f"better than {args.shipped} on validation; --ship would replace it")


if __name__ == "__main__":
    main()
