"""Quality (PESQ-wb, STOI, SI-SDR) and speed (RTF) of a model vs reverse steps.

Scores a trained run (its best checkpoint, exported to a temporary model
folder) or a model folder on SpeechBrain JSON manifests of noisy/clean pairs
and on folders of ``clean/`` + ``noisy/`` WAVs, for each step count, and
prints a Markdown table::

    python benchmarks/quality_vs_steps.py results/diffgmm/1234 \\
        --manifest data/starter/test.json --pairs ../shared/data/voicebank_demand_train_p287 \\
        --steps 1 2 3 6 [--final-gamma 0 0.1 0.2]

``--final-gamma`` also sweeps the noise level ``gamma_end`` at which the
reverse process stops (``sampler_final_gamma``; default: the model's). For a
training run, ``--checkpoint last`` scores its last epoch's checkpoint
instead of the best by validation PESQ.

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import itertools
import os
import tempfile
import time

import torch

from diffgmm_sb.data.audio import read_pair
from diffgmm_sb.data.manifests import load_manifest, write_pairs_manifest
from diffgmm_sb.evaluation.metrics import pesq_wb, si_sdr, stoi
from diffgmm_sb.inference.export import export_pretrained
from diffgmm_sb.inference.interface import DiffGMMEnhancement


def load_enhancer(path, workdir, checkpoint="best"):
    """A ``DiffGMMEnhancement`` from a model folder or a training run folder.

    For a run folder, ``checkpoint`` "best" takes the checkpoint with the best
    validation PESQ and "last" the last epoch's.
    """
    if not os.path.isdir(os.path.join(path, "save")):
        model_dir = path
    else:
        max_key = {"best": "pesq", "last": "epoch"}[checkpoint]
        model_dir = export_pretrained(path, os.path.join(workdir, "model"), max_key=max_key)
    return DiffGMMEnhancement.from_hparams(
        source=os.path.abspath(model_dir), savedir=os.path.join(workdir, "savedir")
    )


def load_sets(manifests, pair_folders, data_folder, workdir, sample_rate):
    """``{name: [(noisy, clean), ...]}`` for every manifest and pairs folder."""
    sets = {}
    for folder in pair_folders:
        manifest = os.path.join(workdir, os.path.basename(folder.rstrip("/")) + ".json")
        write_pairs_manifest(folder, manifest, sample_rate)
        manifests = [*manifests, manifest]
    for manifest in manifests:
        data = load_manifest(manifest, data_folder)
        pairs = [
            read_pair(data.data[i]["noisy_wav"], data.data[i]["clean_wav"])[:2]
            for i in data.data_ids
        ]
        sets[os.path.splitext(os.path.basename(manifest))[0]] = pairs
    return sets


def model_and_sets_parser(description):
    """Arguments shared by the scripts that score one model on several sets."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("model", help="training run folder or model folder")
    parser.add_argument("--manifest", nargs="*", default=[], help="JSON manifests")
    parser.add_argument("--pairs", nargs="*", default=[], help="clean/ + noisy/ folders")
    parser.add_argument("--data-folder", default="data/starter", help="for {data_root}")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--checkpoint", choices=("best", "last"), default="best", help="of a run folder"
    )
    return parser


def load_model_and_sets(args, workdir):
    """The enhancer and the sets named by ``model_and_sets_parser``'s arguments."""
    enhancer = load_enhancer(args.model, workdir, args.checkpoint)
    sets = load_sets(
        args.manifest, args.pairs, args.data_folder, workdir, enhancer.sample_rate
    )
    return enhancer, sets


def score(enhancer, pairs, steps, with_noisy=True):
    """Mean enhanced metrics (and, ``with_noisy``, the noisy input's: ``n_*``), and RTF."""
    systems = ("", "n_") if with_noisy else ("",)
    totals = {p + k: 0.0 for p in systems for k in ("pesq", "stoi", "si_sdr")}
    seconds = audio = 0.0
    for noisy, clean in pairs:
        noisy, clean = noisy.unsqueeze(0), clean.unsqueeze(0)
        start = time.perf_counter()
        enhanced = enhancer.enhance_batch(noisy, steps=steps)
        seconds += time.perf_counter() - start
        audio += noisy.shape[-1] / enhancer.sample_rate
        for prefix, wav in zip(systems, (enhanced, noisy)):
            totals[prefix + "pesq"] += float(pesq_wb(wav, clean)[0])
            totals[prefix + "stoi"] += float(stoi(wav, clean)[0])
            totals[prefix + "si_sdr"] += float(si_sdr(wav, clean)[0])
    means = {k: v / len(pairs) for k, v in totals.items()}
    means["rtf"] = seconds / audio
    return means


def main(argv=None):
    """Prints the table."""
    parser = model_and_sets_parser(__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2, 3, 6])
    parser.add_argument("--final-gamma", type=float, nargs="*", default=[])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as workdir:
        enhancer, sets = load_model_and_sets(args, workdir)
        gammas = args.final_gamma or [enhancer.hparams.sampler_final_gamma]
        print("| set | steps | γ_end | PESQ-wb | STOI | SI-SDR (dB) | RTF |")
        print("|---|---|---|---|---|---|---|")
        for name, pairs in sets.items():
            first = True
            for steps, gamma in itertools.product(args.steps, gammas):
                enhancer.final_gamma = gamma
                m = score(enhancer, pairs, steps, with_noisy=first)
                if first:
                    first = False
                    print(
                        f"| {name} ({len(pairs)} utt.) | noisy | - | "
                        f"{m['n_pesq']:.3f} | {m['n_stoi']:.4f} | "
                        f"{m['n_si_sdr']:.2f} | - |"
                    )
                print(
                    f"| {name} | {steps} | {gamma:g} | {m['pesq']:.3f} | "
                    f"{m['stoi']:.4f} | {m['si_sdr']:.2f} | {m['rtf']:.3f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
