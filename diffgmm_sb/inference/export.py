"""Turns a training run into a model folder laid out like a SpeechBrain hub model.

The folder holds ``hyperparams.yaml`` (the network, the sampler settings and a
``pretrainer``) and ``diffgmm.ckpt`` (the weights), and loads with
``DiffGMMEnhancement.from_hparams(source=folder, savedir=...)`` with no
network access::

    python -m diffgmm_sb.inference.export results/diffgmm/1234 pretrained/my_model

Model folders may come from strangers, so ``load_model_folder`` executes
nothing from them: ``hyperparams.yaml`` is read as plain YAML data (the
HyperPyYAML tags ``!new:``, ``!apply:``, ``!name:``, ... are never
resolved), only the keys the network needs are taken, each checked for its
type and range, the network is built from this module's own ``MODEL_YAMLS``,
and ``diffgmm.ckpt`` is read with ``torch.load(weights_only=True)``. A
missing, malformed, tampered or truncated file raises ``ModelFolderError``
or ``diffgmm_sb.training.checkpoints.CheckpointError`` naming the file. The run
folders read by ``export_pretrained`` are treated the same way.

Authors
 * diffgmm-sb developers 2026
"""

import argparse
import os
import sys

import torch
import yaml
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.fetching import FetchConfig, fetch

from diffgmm_sb.model.diffusion import SAMPLER_MODES
from diffgmm_sb.training.checkpoints import (
    AtomicCheckpointer,
    CheckpointError,
    average_weights,
    load_state_dict_file,
)

# Hyperparameters copied from the training run into the model folder: those
# of every network, then those of its kind (``network``: the waveform U-Net or
# the U-Net over STFT frames, see ``MODEL_YAMLS``).
COMMON_KEYS = (
    "network",
    "sample_rate",
    "num_steps",
    "schedule",
    "sigma_max",
    "num_components",
    "min_scale",
    "sampler_steps",
    "sampler_mode",
    "sampler_final_gamma",
    "front_channels",
    "unet_channels",
    "unet_strides",
    "emb_dim",
    "lstm_layers",
    "head_channels",
)
KIND_KEYS = {
    "wave": ("front_stride", "front_kernel"),
    "spectral": (
        "n_fft",
        "hop_length",
        "refine_channels",
        "snr_smooth_frames",
        "eval_snr_smooth_frames",
        "eval_gain_power",
    ),
}
# Inference settings of a model folder and their defaults.
INFERENCE_DEFAULTS = {"chunk_seconds": 10.0, "overlap_seconds": 0.5}
# Keys that older runs and model folders may lack, and the value they mean.
LATER_KEYS = {
    "sampler_final_gamma": 0.0,
    "refine_channels": 0,
    "snr_smooth_frames": 1,
    "eval_snr_smooth_frames": None,
    "eval_gain_power": 1.0,
}


def network_keys(network):
    """The hyperparameters of a model folder whose network is ``network``.

    Example
    -------
    >>> network_keys("spectral")[-3:]
    ('snr_smooth_frames', 'eval_snr_smooth_frames', 'eval_gain_power')
    """
    return (*COMMON_KEYS, *KIND_KEYS[network])


def _integer(low, high, optional=False):
    def check(value):
        if value is None and optional:
            return True
        return type(value) is int and low <= value <= high

    return check, f"an integer from {low} to {high}" + (" or null" if optional else "")


def _number(low, high):
    def check(value):
        return type(value) in (int, float) and low <= value <= high

    return check, f"a number from {low} to {high}"


def _one_of(choices):
    return (lambda value: value in choices), "one of " + ", ".join(choices)


def _integers(low, high):
    def check(value):
        return (
            isinstance(value, list)
            and 0 < len(value) <= 16
            and all(type(v) is int and low <= v <= high for v in value)
        )

    return check, f"a list of 1 to 16 integers from {low} to {high}"


# What each value read from a model folder must be (bounds keep a hostile
# folder from asking for absurd allocations before the weights are checked).
VALUE_CHECKS = {
    "sample_rate": _integer(1000, 384000),
    "num_steps": _integer(1, 1000),
    "schedule": _one_of(("cosine", "linear")),
    "sigma_max": _number(0.0, 10.0),
    "num_components": _integer(1, 64),
    "min_scale": _number(1e-9, 1.0),
    "sampler_steps": _integer(1, 1000),
    "sampler_mode": _one_of(SAMPLER_MODES),
    "sampler_final_gamma": _number(0.0, 0.99),
    "network": _one_of(tuple(KIND_KEYS)),
    "n_fft": _integer(16, 8192),
    "hop_length": _integer(1, 8192),
    "front_channels": _integer(1, 4096),
    "front_stride": _integer(1, 1024),
    "front_kernel": _integer(1, 4096, optional=True),
    "unet_channels": _integers(1, 4096),
    "unet_strides": _integers(1, 64),
    "emb_dim": _integer(1, 4096),
    "lstm_layers": _integer(0, 16),
    "head_channels": _integer(1, 4096),
    "refine_channels": _integer(0, 1024),
    "snr_smooth_frames": _integer(1, 63),
    "eval_snr_smooth_frames": _integer(1, 63, optional=True),
    "eval_gain_power": _number(0.1, 10.0),
    "chunk_seconds": _number(0.01, 3600.0),
    "overlap_seconds": _number(0.0, 60.0),
}


class ModelFolderError(ValueError):
    """A model or run folder is missing, malformed or unsafe; names the file."""


class _InertLoader(yaml.SafeLoader):
    """Plain YAML data; every ``!tag`` node (HyperPyYAML's code) reads as None."""


_InertLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def read_plain_values(path, keys, defaults=None, overrides=None):
    """Reads and checks ``keys`` of a HyperPyYAML file without executing it.

    Arguments
    ---------
    path : str
        The YAML file.
    keys : sequence of str
        Keys to take (each must be in ``VALUE_CHECKS``).
    defaults : dict, optional
        Values for keys the file lacks.
    overrides : dict, optional
        Values replacing the file's.

    Returns
    -------
    dict
        The checked values.

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "hyperparams.yaml")
    >>> with open(path, "w") as f:
    ...     _ = f.write("num_steps: 6\\nboom: !apply:os.system [echo hacked]\\n")
    >>> read_plain_values(path, ["num_steps"])
    {'num_steps': 6}
    >>> read_plain_values(path, ["num_steps", "schedule"])
    Traceback (most recent call last):
    ...
    diffgmm_sb.inference.export.ModelFolderError: ...hyperparams.yaml: schedule is missing
    """
    return _checked_values(path, _load_plain(path), keys, defaults, overrides)


def _checked_values(path, data, keys, defaults=None, overrides=None):
    """``read_plain_values`` on the already loaded mapping ``data`` of ``path``."""
    unknown = sorted(set(overrides or {}) - set(keys))
    if unknown:
        raise ModelFolderError(f"{path}: cannot override {', '.join(unknown)}")
    values = {}
    for key in keys:
        value = {**(defaults or {}), **data, **(overrides or {})}.get(key, _MISSING)
        if value is _MISSING:
            raise ModelFolderError(f"{path}: {key} is missing")
        check, expected = VALUE_CHECKS[key]
        if not check(value):
            raise ModelFolderError(f"{path}: {key} must be {expected}, not {value!r}")
        values[key] = value
    if values.get("overlap_seconds", 0.0) >= values.get("chunk_seconds", float("inf")):
        raise ModelFolderError(f"{path}: overlap_seconds must be below chunk_seconds")
    return values


_MISSING = object()


def _load_plain(path):
    """The mapping in a YAML file, every ``!tag`` read as None."""
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=_InertLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        detail = (
            str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        )
        raise ModelFolderError(f"{path}: not a readable YAML file ({detail})") from err
    if not isinstance(data, dict):
        raise ModelFolderError(f"{path}: not a YAML mapping of hyperparameters")
    return data


_NETWORK_YAML = {
    "wave": """
    unet: !new:diffgmm_sb.model.unet.WaveUNet
        in_channels: 2
        out_channels: !ref <head_channels>
        front_channels: !ref <front_channels>
        front_stride: !ref <front_stride>
        front_kernel: !ref <front_kernel>
        channels: !ref <unet_channels>
        strides: !ref <unet_strides>
        emb_dim: !ref <emb_dim>
        lstm_layers: !ref <lstm_layers>
    head: !new:diffgmm_sb.model.mixture.MixtureHead
        in_channels: !ref <head_channels>
        num_components: !ref <num_components>
        min_scale: !ref <min_scale>
""",
    "spectral": """
    unet: !new:diffgmm_sb.model.spectral.SpectralUNet
        in_channels: 2
        out_channels: !ref <head_channels>
        n_fft: !ref <n_fft>
        hop_length: !ref <hop_length>
        front_channels: !ref <front_channels>
        channels: !ref <unet_channels>
        strides: !ref <unet_strides>
        emb_dim: !ref <emb_dim>
        lstm_layers: !ref <lstm_layers>
    head: !new:diffgmm_sb.model.spectral.MaskMixtureHead
        in_channels: !ref <head_channels>
        num_components: !ref <num_components>
        n_fft: !ref <n_fft>
        hop_length: !ref <hop_length>
        min_scale: !ref <min_scale>
        refine_channels: !ref <refine_channels>
        snr_smooth_frames: !ref <snr_smooth_frames>
        eval_snr_smooth_frames: !ref <eval_snr_smooth_frames>
        eval_gain_power: !ref <eval_gain_power>
""",
}

# The model built for each network kind (this module's code, never the folder's).
MODEL_YAMLS = {
    kind: """
# Inference settings (override at load time with overrides={...}).
chunk_seconds: 10.0  # long inputs are enhanced in chunks of this length
overlap_seconds: 0.5  # cross-faded overlap between chunks

diffgmm: !new:diffgmm_sb.model.diffgmm.DiffGMM"""
    + network
    + """    schedule: !new:diffgmm_sb.model.diffusion.NoiseSchedule
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
    for kind, network in _NETWORK_YAML.items()
}


def read_network_values(path, extra_keys=(), defaults=None, overrides=None):
    """``read_plain_values`` for the keys of the network kind of ``path``.

    The kind is the file's ``network``; training runs (and the first model
    folders) have none: theirs is ``spectral`` when they set ``n_fft``,
    ``wave`` otherwise.
    """
    data = _load_plain(path)
    kind = {"network": network_kind(data)}
    network = _checked_values(path, data, ["network"], defaults=kind)["network"]
    keys = [*network_keys(network), *extra_keys]
    defaults = {**LATER_KEYS, **kind, **(defaults or {})}
    return _checked_values(path, data, keys, defaults=defaults, overrides=overrides)


def network_kind(hparams):
    """The network of a hyperparameter mapping that may not name it.

    Example
    -------
    >>> network_kind({"n_fft": 512}), network_kind({"front_stride": 8})
    ('spectral', 'wave')
    """
    return hparams.get("network", "spectral" if "n_fft" in hparams else "wave")


def write_model_folder(out_folder, values, state_dict):
    """Writes a model folder from network hyperparameters and weights.

    Each file is written under a temporary name and renamed, the weights
    first: an interrupted export never leaves a half-written file.

    Arguments
    ---------
    out_folder : str
        Folder to create (or overwrite).
    values : dict
        A value for every key of ``network_keys(values["network"])``
        (``network`` may be left out for the waveform network).
    state_dict : dict
        Weights of the ``DiffGMM`` module.
    """
    values = {"network": "wave", **LATER_KEYS, **values}
    keys = network_keys(values["network"])
    missing = [key for key in keys if key not in values]
    if missing:
        raise KeyError(f"model hyperparameters missing: {', '.join(missing)}")
    os.makedirs(out_folder, exist_ok=True)
    header = yaml.safe_dump(
        {key: values[key] for key in keys}, sort_keys=False, default_flow_style=None
    )
    text = (
        "# DiffGMM model folder (diffgmm_sb.inference.export)\n"
        + header
        + MODEL_YAMLS[values["network"]]
    )
    weights = os.path.join(out_folder, "diffgmm.ckpt")
    torch.save(state_dict, weights + ".part")
    os.replace(weights + ".part", weights)
    hparams = os.path.join(out_folder, "hyperparams.yaml")
    with open(hparams + ".part", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(hparams + ".part", hparams)
    return out_folder


def export_pretrained(run_folder, out_folder, max_key="pesq", half=False, average=None):
    """Writes ``hyperparams.yaml`` + ``diffgmm.ckpt`` of a run's best checkpoint.

    With ``average`` = N > 1 the weights are the average of the N best
    checkpoints, as ``DiffGMMBrain`` tested them under ``avg_checkpoints``.

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
    average : int, optional
        How many of the best checkpoints to average; default: the run's
        ``avg_checkpoints`` (1, the best one, when it has none).

    Returns
    -------
    str
        ``out_folder``.
    """
    run_hparams = os.path.join(run_folder, "hyperparams.yaml")
    values = read_network_values(run_hparams)
    if average is None:
        average = _load_plain(run_hparams).get("avg_checkpoints") or 1
    save = os.path.join(run_folder, "save")
    found = []
    if os.path.isdir(save):
        found = AtomicCheckpointer(save).find_checkpoints(
            max_key=max_key, max_num_checkpoints=int(average)
        )
    if not found:
        raise ModelFolderError(f"{save}: no complete checkpoint with a {max_key} score")
    for checkpoint in found:
        if "diffgmm" not in checkpoint.paramfiles:
            raise ModelFolderError(f"{checkpoint.path}: no diffgmm.ckpt")
    weights = average_weights(found)
    if half:
        weights = {
            key: value.half() if value.is_floating_point() else value
            for key, value in weights.items()
        }
    write_model_folder(out_folder, values, weights)
    return out_folder


def _fetch_model_files(source, savedir, hparams_file):
    """Local paths of a model folder's hyperparameters and weights."""
    names = (hparams_file, "diffgmm.ckpt")
    source = str(source)
    if os.path.isdir(source):
        for name in names:
            if not os.path.isfile(os.path.join(source, name)):
                raise ModelFolderError(
                    f"{source}: no {name}; not a DiffGMM model folder "
                    "(python -m diffgmm_sb.inference.export RUN_FOLDER MODEL_FOLDER makes one)"
                )
        if savedir is None:
            return [os.path.join(source, name) for name in names]
        # Re-linked each time: a stale file of another model is never reused.
        config = FetchConfig(overwrite=True)
    elif os.path.exists(source) or savedir is None:
        raise ModelFolderError(f"{source}: not a model folder")
    else:
        config = FetchConfig()
    try:
        return [
            str(fetch(name, source=source, savedir=savedir, fetch_config=config))
            for name in names
        ]
    except Exception as err:  # network, hub and file errors alike
        raise ModelFolderError(f"{source}: cannot fetch the model files ({err})") from err


def load_model_folder(
    source, savedir=None, hparams_file="hyperparams.yaml", overrides=None
):
    """Builds the ``DiffGMM`` of a model folder without executing anything in it.

    Arguments
    ---------
    source : str
        A model folder, or a remote source ``speechbrain.utils.fetching`` knows.
    savedir : str, optional
        Where to link or download the files (a local folder is read in place
        when not given).
    hparams_file : str
        Name of the hyperparameter file.
    overrides : dict, optional
        Replacement values (e.g. ``{"chunk_seconds": 5.0}``), checked too.

    Returns
    -------
    hparams : dict
        The checked values, ``diffgmm``, ``modules`` and ``savedir``.
    modules : dict
        ``{"diffgmm": DiffGMM}`` with the folder's weights loaded.

    Raises
    ------
    ModelFolderError, diffgmm_sb.training.checkpoints.CheckpointError
        Naming the file and what is wrong with it.
    """
    hparams_path, weights_path = _fetch_model_files(source, savedir, hparams_file)
    values = read_network_values(
        hparams_path, INFERENCE_DEFAULTS, defaults=INFERENCE_DEFAULTS, overrides=overrides
    )
    network = {key: values[key] for key in network_keys(values["network"])}
    text = yaml.safe_dump(network, sort_keys=False)  # plain, checked values only
    inference = {key: values[key] for key in INFERENCE_DEFAULTS}
    try:
        hparams = load_hyperpyyaml(
            text + MODEL_YAMLS[values["network"]], overrides=inference
        )
    except (ValueError, RuntimeError) as err:
        raise ModelFolderError(f"{hparams_path}: inconsistent network ({err})") from err
    weights = load_state_dict_file(weights_path)
    try:
        hparams["diffgmm"].load_state_dict(weights, strict=True)
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:300]
        raise CheckpointError(
            f"{weights_path}: the weights do not fit the network of {hparams_path} ({detail})"
        ) from err
    hparams["savedir"] = savedir if savedir is not None else source
    return hparams, hparams["modules"]


def main(argv=None):
    """Command line entry: ``python -m diffgmm_sb.inference.export RUN_FOLDER OUT_FOLDER``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_folder")
    parser.add_argument("out_folder")
    parser.add_argument("--half", action="store_true", help="store float16 weights")
    parser.add_argument(
        "--average",
        type=int,
        default=None,
        help="average the N best checkpoints (default: the run's avg_checkpoints, else 1)",
    )
    args = parser.parse_args(argv)
    try:
        print(
            export_pretrained(
                args.run_folder, args.out_folder, half=args.half, average=args.average
            )
        )
    except (ValueError, OSError) as err:
        print(f"diffgmm_sb.inference.export: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
