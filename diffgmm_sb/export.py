"""Turns a training run into a model folder laid out like a SpeechBrain hub model.

The folder holds ``hyperparams.yaml`` (the network, the sampler settings and a
``pretrainer``) and ``diffgmm.ckpt`` (the weights), and loads with
``DiffGMMEnhancement.from_hparams(source=folder, savedir=...)`` with no
network access::

    python -m diffgmm_sb.export results/diffgmm/1234 pretrained/my_model

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import os

import torch
import yaml
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.checkpoints import Checkpointer

# Hyperparameters copied from the training run into the model folder.
NETWORK_KEYS = (
    "sample_rate",
    "num_steps",
    "schedule",
    "sigma_max",
    "num_components",
    "min_scale",
    "sampler_steps",
    "sampler_mode",
    "front_channels",
    "front_stride",
    "front_kernel",
    "unet_channels",
    "unet_strides",
    "emb_dim",
    "lstm_layers",
    "head_channels",
)

MODEL_YAML = """
# Inference settings (override at load time with overrides={...}).
chunk_seconds: 10.0  # long inputs are enhanced in chunks of this length
overlap_seconds: 0.5  # cross-faded overlap between chunks

diffgmm: !new:diffgmm_sb.model.DiffGMM
    unet: !new:diffgmm_sb.unet.WaveUNet
        in_channels: 2
        out_channels: !ref <head_channels>
        front_channels: !ref <front_channels>
        front_stride: !ref <front_stride>
        front_kernel: !ref <front_kernel>
        channels: !ref <unet_channels>
        strides: !ref <unet_strides>
        emb_dim: !ref <emb_dim>
        lstm_layers: !ref <lstm_layers>
    head: !new:diffgmm_sb.mixture.MixtureHead
        in_channels: !ref <head_channels>
        num_components: !ref <num_components>
        min_scale: !ref <min_scale>
    schedule: !new:diffgmm_sb.diffusion.NoiseSchedule
        num_steps: !ref <num_steps>
        sigma_max: !ref <sigma_max>
        kind: !ref <schedule>

modules:
    diffgmm: !ref <diffgmm>

# No paths: the Pretrainer takes <source>/diffgmm.ckpt from the model folder.
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        diffgmm: !ref <diffgmm>
"""


def write_model_folder(out_folder, values, state_dict):
    """Writes a model folder from network hyperparameters and weights.

    Arguments
    ---------
    out_folder : str
        Folder to create (or overwrite).
    values : dict
        A value for every key of ``NETWORK_KEYS``.
    state_dict : dict
        Weights of the ``DiffGMM`` module.
    """
    missing = [key for key in NETWORK_KEYS if key not in values]
    if missing:
        raise KeyError(f"model hyperparameters missing: {', '.join(missing)}")
    os.makedirs(out_folder, exist_ok=True)
    header = yaml.safe_dump(
        {key: values[key] for key in NETWORK_KEYS}, sort_keys=False, default_flow_style=None
    )
    text = "# DiffGMM model folder (diffgmm_sb.export)\n" + header + MODEL_YAML
    with open(os.path.join(out_folder, "hyperparams.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
    torch.save(state_dict, os.path.join(out_folder, "diffgmm.ckpt"))
    return out_folder


def export_pretrained(run_folder, out_folder, max_key="pesq"):
    """Writes ``hyperparams.yaml`` + ``diffgmm.ckpt`` of a run's best checkpoint.

    Arguments
    ---------
    run_folder : str
        A training output folder (with ``hyperparams.yaml`` and ``save/``).
    out_folder : str
        The model folder to write.
    max_key : str
        Checkpoint meta key to select the best checkpoint by.

    Returns
    -------
    str
        ``out_folder``.
    """
    with open(os.path.join(run_folder, "hyperparams.yaml"), encoding="utf-8") as f:
        hparams = load_hyperpyyaml(f, overrides={"output_folder": run_folder})
    checkpoint = Checkpointer(os.path.join(run_folder, "save")).find_checkpoint(
        max_key=max_key
    )
    if checkpoint is None:
        raise FileNotFoundError(f"{run_folder}/save holds no checkpoint")
    values = {key: hparams[key] for key in NETWORK_KEYS}
    weights = torch.load(
        checkpoint.paramfiles["diffgmm"], map_location="cpu", weights_only=True
    )
    write_model_folder(out_folder, values, weights)
    return out_folder


def main(argv=None):
    """Command line entry: ``python -m diffgmm_sb.export RUN_FOLDER OUT_FOLDER``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_folder")
    parser.add_argument("out_folder")
    args = parser.parse_args(argv)
    print(export_pretrained(args.run_folder, args.out_folder))


if __name__ == "__main__":
    main()
