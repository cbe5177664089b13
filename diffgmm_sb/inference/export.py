"""Turns a training run into a model folder laid out like a SpeechBrain hub model.

The folder (``diffgmm_sb.inference.model_folder``) holds ``hyperparams.yaml``
and ``diffgmm.ckpt``, the weights of the run's checkpoint with the best
validation score, and loads with
``DiffGMMEnhancement.from_hparams(source=folder, savedir=...)``::

    python -m diffgmm_sb.inference.export results/diffgmm/1234 my_model [--half]

The run folder is read the way a model folder is: its ``hyperparams.yaml``
as plain data, its weights with ``weights_only=True``.

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import os
import sys

from diffgmm_sb.inference.model_folder import (
    ModelFolderError,
    read_network_values,
    write_model_folder,
)
from diffgmm_sb.training.checkpoints import AtomicCheckpointer, load_state_dict_file


def export_pretrained(run_folder, out_folder, max_key="pesq", half=False):
    """Writes ``hyperparams.yaml`` + ``diffgmm.ckpt`` of a run's best checkpoint.

    Arguments
    ---------
    run_folder : str
        A training output folder (with ``hyperparams.yaml`` and ``save/``).
    out_folder : str
        The model folder to write.
    max_key : str
        Checkpoint meta key to select the best checkpoint by.
    half : bool
        Store floating-point weights as float16 (half the file size; loading
        converts them back to the network's float32).

    Returns
    -------
    str
        ``out_folder``.
    """
    run_hparams = os.path.join(run_folder, "hyperparams.yaml")
    values = read_network_values(run_hparams)
    save = os.path.join(run_folder, "save")
    best = None
    if os.path.isdir(save):
        best = AtomicCheckpointer(save).find_checkpoint(max_key=max_key)
    if best is None:
        raise ModelFolderError(f"{save}: no complete checkpoint with a {max_key} score")
    if "diffgmm" not in best.paramfiles:
        raise ModelFolderError(f"{best.path}: no diffgmm.ckpt")
    weights = load_state_dict_file(best.paramfiles["diffgmm"])
    if half:
        weights = {
            key: value.half() if value.is_floating_point() else value
            for key, value in weights.items()
        }
    write_model_folder(out_folder, values, weights)
    return out_folder


def main(argv=None):
    """Command line entry: ``python -m diffgmm_sb.inference.export RUN_FOLDER OUT_FOLDER``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_folder")
    parser.add_argument("out_folder")
    parser.add_argument("--half", action="store_true", help="store float16 weights")
    args = parser.parse_args(argv)
    try:
        print(export_pretrained(args.run_folder, args.out_folder, half=args.half))
    except (ValueError, OSError) as err:
        print(f"diffgmm_sb.inference.export: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
