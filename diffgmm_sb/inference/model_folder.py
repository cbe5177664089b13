"""Model folders: written from a network's values and weights, loaded without running them.

A model folder is laid out like a SpeechBrain hub model: ``hyperparams.yaml``
(the network's values, the sampler settings, the network modules and a
``pretrainer``) and ``diffgmm.ckpt`` (the weights). It loads with
``DiffGMMEnhancement.from_hparams(source=folder, savedir=...)`` with no
network access; ``diffgmm_sb.inference.export`` makes one from a training run.

Model folders may come from strangers, so ``load_model_folder`` executes
nothing from them: ``hyperparams.yaml`` is read as plain YAML data (the
HyperPyYAML tags ``!new:``, ``!apply:``, ``!name:``, ... are never
resolved), only the keys the network needs are taken, each checked for its
type and range, the network is built from this package's own wiring
(``diffgmm_sb/model/networks/<network>.yaml``, also read as plain data for
its keys and defaults), and ``diffgmm.ckpt`` is read with
``torch.load(weights_only=True)``. A missing, malformed, tampered or
truncated file raises ``ModelFolderError`` or
``diffgmm_sb.training.checkpoints.CheckpointError`` naming the file.

Authors
 * diffgmm-sb developers 2026
"""

import functools
import logging
import os

import torch
import yaml
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.fetching import FetchConfig, fetch

from diffgmm_sb.model.diffusion import SAMPLER_MODES
from diffgmm_sb.training.checkpoints import CheckpointError, load_state_dict_file

logger = logging.getLogger(__name__)

# The network wiring of each kind: above NETWORK_MODULES its plain values
# (the defaults, stored in a model folder), below it the modules.
NETWORKS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "model", "networks")
NETWORK_MODULES = "# Network modules\n"
# Keys of a model folder besides its network's values.
COMMON_KEYS = (
    "network",
    "sample_rate",
    "sampler_steps",
    "sampler_mode",
    "sampler_final_gamma",
)
# Inference settings of a model folder and their defaults.
INFERENCE_DEFAULTS = {"chunk_seconds": 10.0, "overlap_seconds": 0.5}
# Keys that older runs and model folders may lack, and the value they mean.
LATER_KEYS = {
    "sampler_final_gamma": 0.0,
    "final_step_prob": 0.0,
    "snr_smooth_frames": 1,
    "eval_snr_smooth_frames": None,
}


@functools.cache
def network_file(network):
    """The defaults and the modules' text of ``networks/<network>.yaml``.

    Example
    -------
    >>> defaults, modules = network_file("spectral")
    >>> defaults["n_fft"], modules.split(":")[0]
    (512, 'unet')
    """
    path = os.path.join(NETWORKS, f"{network}.yaml")
    with open(path, encoding="utf-8") as f:
        values, modules = f.read().split(NETWORK_MODULES)
    return yaml.safe_load(values), modules.strip() + "\n"


def network_keys(network):
    """The hyperparameters of a model folder whose network is ``network``.

    Example
    -------
    >>> network_keys("spectral")[-2:]
    ('snr_smooth_frames', 'eval_snr_smooth_frames')
    """
    return (*COMMON_KEYS, *network_file(network)[0])


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
    "final_step_prob": _number(0.0, 1.0),
    "num_components": _integer(1, 64),
    "min_scale": _number(1e-9, 1.0),
    "sampler_steps": _integer(1, 1000),
    "sampler_mode": _one_of(SAMPLER_MODES),
    "sampler_final_gamma": _number(0.0, 0.99),
    "network": _one_of(("spectral", "wave")),
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
    "snr_smooth_frames": _integer(1, 63),
    "eval_snr_smooth_frames": _integer(1, 63, optional=True),
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
    diffgmm_sb.inference.model_folder.ModelFolderError: ...hyperparams.yaml: schedule is missing
    """
    return _checked_values(path, _load_plain(path), keys, defaults, overrides)


def _checked_values(path, data, keys, defaults=None, overrides=None, must_match=True):
    """``read_plain_values`` on the already loaded mapping ``data`` of ``path``.

    Overrides of keys outside ``keys`` are refused, or with ``must_match``
    False left out with a warning.
    """
    unknown = sorted(set(overrides or {}) - set(keys))
    if unknown and must_match:
        raise ModelFolderError(f"{path}: cannot override {', '.join(unknown)}")
    if unknown:
        logger.warning("%s: overrides left out: %s", path, ", ".join(unknown))
        overrides = {k: v for k, v in overrides.items() if k in keys}
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


# What a model folder adds to its network (this package's text, never the folder's).
MODEL_TAIL = f"""
# Inference settings (override at load time with overrides={{...}}).
chunk_seconds: {INFERENCE_DEFAULTS["chunk_seconds"]}  # long inputs are enhanced in chunks of this length
overlap_seconds: {INFERENCE_DEFAULTS["overlap_seconds"]}  # cross-faded overlap between chunks

modules:
    diffgmm: !ref <diffgmm>

# No paths: the Pretrainer takes <source>/diffgmm.ckpt from the model folder.
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        diffgmm: !ref <diffgmm>
"""


def model_yaml(values):
    """The HyperPyYAML text of a model folder: its values, its network, the tail."""
    header = yaml.safe_dump(values, sort_keys=False, default_flow_style=None)
    return header + "\n" + network_file(values["network"])[1] + MODEL_TAIL


def read_network_values(
    path, extra_keys=(), defaults=None, overrides=None, overrides_must_match=True
):
    """``read_plain_values`` for the keys of the network kind of ``path``.

    The kind is the file's ``network``; training runs (and the first model
    folders) have none: theirs is ``spectral`` when they set ``n_fft``,
    ``wave`` otherwise. A training run holds its network's values under
    ``model`` (the included network file).
    """
    data = _load_plain(path)
    if isinstance(data.get("model"), dict):
        data = {**data, **data["model"]}
    kind = {"network": network_kind(data)}
    network = _checked_values(path, data, ["network"], defaults=kind)["network"]
    keys = [*network_keys(network), *extra_keys]
    defaults = {**LATER_KEYS, **kind, **(defaults or {})}
    return _checked_values(path, data, keys, defaults, overrides, overrides_must_match)


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
    text = "# DiffGMM model folder (diffgmm_sb.inference.model_folder)\n" + model_yaml(
        {key: values[key] for key in keys}
    )
    weights = os.path.join(out_folder, "diffgmm.ckpt")
    torch.save(state_dict, weights + ".part")
    os.replace(weights + ".part", weights)
    hparams = os.path.join(out_folder, "hyperparams.yaml")
    with open(hparams + ".part", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(hparams + ".part", hparams)
    return out_folder


def fetch_model_files(source, savedir, hparams_file, local_strategy=None):
    """Local paths of a model folder's hyperparameters and weights.

    A local folder is read in place, or linked (copied, with
    ``local_strategy``) into ``savedir``; nothing is ever downloaded.
    """
    names = (hparams_file, "diffgmm.ckpt")
    source = str(source)
    if not os.path.isdir(source):
        raise ModelFolderError(
            f"{source}: no such local model folder; diffgmm-sb loads local folders only "
            f"and never downloads: fetch a hub model yourself (e.g. huggingface-cli "
            f"download {source} --local-dir my_model) or export a run (python -m "
            f"diffgmm_sb.inference.export RUN_FOLDER my_model), then pass that folder"
        )
    for name in names:
        if not os.path.isfile(os.path.join(source, name)):
            raise ModelFolderError(
                f"{source}: no {name}; not a DiffGMM model folder "
                "(python -m diffgmm_sb.inference.export RUN_FOLDER MODEL_FOLDER makes one)"
            )
    if savedir is None:
        return [os.path.join(source, name) for name in names]
    # Re-linked each time: a stale file of another model is never reused.
    options = {"fetch_config": FetchConfig(overwrite=True, allow_network=False)}
    if local_strategy is not None:
        options["local_strategy"] = local_strategy
    try:
        return [
            str(fetch(name, source=source, savedir=savedir, **options)) for name in names
        ]
    except (OSError, ValueError) as err:
        raise ModelFolderError(f"{savedir}: cannot link the model files ({err})") from err


def load_model_folder(
    source,
    savedir=None,
    hparams_file="hyperparams.yaml",
    overrides=None,
    overrides_must_match=True,
    local_strategy=None,
):
    """Builds the ``DiffGMM`` of a model folder without executing anything in it.

    Arguments
    ---------
    source : str
        A local model folder.
    savedir : str, optional
        Where to link the files (the folder is read in place when not given).
    hparams_file : str
        Name of the hyperparameter file.
    overrides : dict, optional
        Replacement values (e.g. ``{"chunk_seconds": 5.0}``), checked too.
    overrides_must_match : bool
        Refuse overrides of keys a model folder does not have (else they are
        left out, with a warning).
    local_strategy : speechbrain.utils.fetching.LocalStrategy, optional
        How the files are put into ``savedir`` (default: SpeechBrain's, links).

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
    hparams_path, weights_path = fetch_model_files(
        source, savedir, hparams_file, local_strategy
    )
    values = read_network_values(
        hparams_path,
        INFERENCE_DEFAULTS,
        INFERENCE_DEFAULTS,
        overrides,
        overrides_must_match,
    )
    # Plain, checked values only, and this package's network.
    text = model_yaml({key: values[key] for key in network_keys(values["network"])})
    inference = {key: values[key] for key in INFERENCE_DEFAULTS}
    try:
        hparams = load_hyperpyyaml(text, overrides=inference)
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
