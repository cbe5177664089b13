"""Checkpoints that survive a killed run and load nothing but tensors.

``AtomicCheckpointer`` is SpeechBrain's ``Checkpointer`` (used the same way
in the recipe's YAML) with three guarantees added:

* **Atomic saves.** A checkpoint is written into a hidden ``.part-CKPT+...``
  folder and renamed to ``CKPT+...`` only once every file is complete, so a
  run killed at any instant (SIGKILL, power cut of the process) never leaves
  a half-written checkpoint where recovery would pick it up. Leftover
  ``.part-`` folders are removed at the next save, as are checkpoints left
  half-deleted.
* **Incomplete checkpoints are never loaded.** Each checkpoint's meta file
  lists its files; a checkpoint with a file missing (e.g. a deletion that
  was interrupted) is skipped with a warning instead of being loaded.
* **Weights-only loading.** Module, optimizer and scaler states are read
  with ``torch.load(weights_only=True)``: a file holding pickled Python
  objects is refused, and a damaged or truncated file raises
  ``CheckpointError`` naming the file, never a deep traceback.

``load_weights`` is the same safe reader for a single ``.ckpt`` file, and

Authors
 * diffgmm-sb developers 2026
"""

import logging
import os
import pickle
import shutil

import torch
from speechbrain.utils.checkpoints import (
    CKPT_PREFIX,
    PARAMFILE_EXT,
    Checkpoint,
    Checkpointer,
    hook_on_loading_state_dict_checkpoint,
)
from speechbrain.utils.distributed import ddp_barrier, if_main_process

logger = logging.getLogger(__name__)

PART_PREFIX = ".part-"  # hidden name of a checkpoint being written
FILES_KEY = "diffgmm_files"  # meta entry listing a checkpoint's files

# Objects whose state is a dict of tensors and plain values.
_TENSOR_STATE_TYPES = (
    torch.nn.Module,
    torch.optim.Optimizer,
    torch.optim.lr_scheduler.LRScheduler,
    torch.amp.GradScaler,
)


class CheckpointError(ValueError):
    """A checkpoint or weights file is damaged, truncated or unsafe; names the file."""


def _first_line(err):
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def load_weights(path, map_location="cpu"):
    """Loads a ``torch.save`` file holding only tensors and plain containers.

    Arguments
    ---------
    path : str
        The file.
    map_location : str
        Passed to ``torch.load``.

    Returns
    -------
    The loaded object (e.g. a state dict).

    Raises
    ------
    CheckpointError
        When the file is missing, truncated, corrupt, or holds Python objects
        other than tensors (``weights_only=True`` refuses to build them).

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "w.ckpt")
    >>> torch.save({"w": torch.ones(2)}, path)
    >>> load_weights(path)
    {'w': tensor([1., 1.])}
    >>> with open(path, "r+b") as f:
    ...     _ = f.truncate(20)
    >>> load_weights(path)
    Traceback (most recent call last):
    ...
    diffgmm_sb.training.checkpoints.CheckpointError: ...w.ckpt: truncated or corrupt weights file (...)
    """
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such weights file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path}: refused, the file holds Python objects other than tensors "
            f"(weights_only=True): {_first_line(err)}"
        ) from err
    except Exception as err:  # zip, EOF, storage errors: all mean a damaged file
        raise CheckpointError(
            f"{path}: truncated or corrupt weights file ({_first_line(err)})"
        ) from err


def load_state_dict_file(path):
    """``load_weights`` for a module's ``state_dict``: checks tensors are finite.

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "w.ckpt")
    >>> torch.save({"w": torch.tensor([1.0, float("nan")])}, path)
    >>> load_state_dict_file(path)
    Traceback (most recent call last):
    ...
    diffgmm_sb.training.checkpoints.CheckpointError: ...w.ckpt: NaN or infinite values in w
    """
    state = load_weights(path)
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(f"{path}: not a state dict (names mapped to tensors)")
    bad = [
        k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()
    ]
    if bad:
        raise CheckpointError(f"{path}: NaN or infinite values in {', '.join(bad[:5])}")
    return state


def weights_only_recovery(obj, path, end_of_epoch):
    """Checkpointer load hook: ``torch_recovery`` with ``weights_only=True``."""
    del end_of_epoch  # unused
    if isinstance(obj, torch.nn.Module):
        state = load_state_dict_file(path)
    else:
        state = load_weights(path)
    state = hook_on_loading_state_dict_checkpoint(state)
    try:
        obj.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError) as err:
        raise CheckpointError(
            f"{path}: does not match the {type(obj).__name__} it should restore "
            f"({_first_line(err)})"
        ) from err


class AtomicCheckpointer(Checkpointer):
    """SpeechBrain's ``Checkpointer`` with atomic saves and weights-only loads.

    Same arguments as ``speechbrain.utils.checkpoints.Checkpointer``.

    Example
    -------
    >>> import tempfile
    >>> model = torch.nn.Linear(2, 2)
    >>> ckpt = AtomicCheckpointer(tempfile.mkdtemp(), {"model": model})
    >>> saved = ckpt.save_checkpoint(meta={"loss": 1.0})
    >>> saved.path.name.startswith("CKPT+"), sorted(saved.paramfiles)
    (True, ['model'])
    >>> ckpt.recover_if_possible().meta["loss"]
    1.0
    """

    def __init__(self, checkpoints_dir, recoverables=None, **kwargs):
        super().__init__(checkpoints_dir, **kwargs)
        if recoverables is not None:
            self.add_recoverables(recoverables)

    def add_recoverable(self, name, obj, custom_load_hook=None, **kwargs):
        """Registers a recoverable; tensor states load with ``weights_only=True``."""
        if custom_load_hook is None and isinstance(obj, _TENSOR_STATE_TYPES):
            custom_load_hook = weights_only_recovery
        super().add_recoverable(name, obj, custom_load_hook=custom_load_hook, **kwargs)

    def add_recoverables(self, recoverables):
        """Registers each entry of a mapping (see ``add_recoverable``)."""
        super().add_recoverables(recoverables)
        for name, obj in recoverables.items():
            if name not in self.custom_load_hooks and isinstance(obj, _TENSOR_STATE_TYPES):
                self.custom_load_hooks[name] = weights_only_recovery

    # Checkpoints are created under a hidden name and renamed when complete.
    def _new_checkpoint_dirpath(self):
        final = super()._new_checkpoint_dirpath()
        return final.with_name(PART_PREFIX + final.name)

    def _custom_checkpoint_dirpath(self, name):
        final = super()._custom_checkpoint_dirpath(name)
        return final.with_name(PART_PREFIX + final.name)

    def _save_checkpoint_metafile(self, fpath, meta_to_include=None, end_of_epoch=True):
        files = sorted(name + PARAMFILE_EXT for name in self.recoverables)
        return super()._save_checkpoint_metafile(
            fpath, {**(meta_to_include or {}), FILES_KEY: files}, end_of_epoch
        )

    def save_checkpoint(
        self, meta=None, end_of_epoch=True, name=None, verbosity=logging.INFO
    ):
        """Saves a checkpoint atomically (see ``Checkpointer.save_checkpoint``)."""
        if if_main_process():
            self._remove_leftovers()
        saved = super().save_checkpoint(
            meta=meta or {}, end_of_epoch=end_of_epoch, name=name, verbosity=logging.DEBUG
        )
        ddp_barrier()  # every process has written its files
        result = None
        if saved is not None:  # the main process
            final = saved.path.with_name(saved.path.name[len(PART_PREFIX) :])
            if final.exists():  # a custom name saved again: replace the old one
                shutil.rmtree(final)
            os.replace(saved.path, final)
            kind = "end-of-epoch" if end_of_epoch else "intra-epoch"
            logger.log(verbosity, "Saved an %s checkpoint in %s", kind, final)
            paramfiles = {k: final / v.name for k, v in saved.paramfiles.items()}
            result = Checkpoint(final, saved.meta, paramfiles)
        # Every process must see the renamed checkpoint before going on: the
        # deletions that follow are collective and decided from a listing.
        ddp_barrier()
        return result

    def _remove_leftovers(self):
        """Deletes what killed saves and deletions left: never loadable anyway."""
        for path in self.checkpoints_dir.iterdir():
            unfinished = path.name.startswith(PART_PREFIX + CKPT_PREFIX)
            half_deleted = path.name.startswith(
                CKPT_PREFIX
            ) and not self._is_checkpoint_dir(path)
            if path.is_dir() and (unfinished or half_deleted):
                logger.warning("Removing the unfinished checkpoint folder %s", path)
                shutil.rmtree(path, ignore_errors=True)
        for ckpt in super().list_checkpoints():
            if self._missing_files(ckpt):
                logger.warning("Removing the incomplete checkpoint %s", ckpt.path)
                shutil.rmtree(ckpt.path, ignore_errors=True)

    @staticmethod
    def _missing_files(ckpt):
        return [f for f in ckpt.meta.get(FILES_KEY, []) if not (ckpt.path / f).is_file()]

    def list_checkpoints(self):
        """Lists the complete checkpoints; incomplete ones are skipped with a warning."""
        complete = []
        for ckpt in super().list_checkpoints():
            missing = self._missing_files(ckpt)
            if missing:
                logger.warning(
                    "Skipping the incomplete checkpoint %s (missing %s)",
                    ckpt.path,
                    ", ".join(missing),
                )
                continue
            complete.append(ckpt)
        return complete
