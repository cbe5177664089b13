"""Checkpoints survive a process killed while saving or deleting them.

A child process saves a checkpoint, then starts a second save whose last
file is written slowly; the test SIGKILLs it in the middle of that save.
The first checkpoint must be intact and the only one recovery sees.
Evaluation loads the best checkpoint, or the average of the N best.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import torch
import yaml
from recipe import ROOT
from tiny_model import VALUES, tiny_model

from diffgmm_sb.inference.export import export_pretrained
from diffgmm_sb.training.brain import DiffGMMBrain
from diffgmm_sb.training.checkpoints import PART_PREFIX, AtomicCheckpointer

CHILD = textwrap.dedent(
    """
    import os, sys, time, torch
    from diffgmm_sb.training.checkpoints import AtomicCheckpointer

    save_dir, flag = sys.argv[1], sys.argv[2]
    model = torch.nn.Linear(4, 4)
    torch.nn.init.constant_(model.weight, 1.0)
    checkpointer = AtomicCheckpointer(save_dir, {"model": model})
    checkpointer.save_checkpoint(meta={"step": 1})

    def slow_save(obj, path):
        with open(path, "wb") as f:
            f.write(b"half of a file")
            f.flush()
            open(flag, "w").close()  # the parent kills us now
            time.sleep(120)

    checkpointer.add_recoverable(
        "slow", object(), custom_save_hook=slow_save, custom_load_hook=lambda *a: None
    )
    torch.nn.init.constant_(model.weight, 2.0)
    checkpointer.save_checkpoint(meta={"step": 2})
    """
)


def _wait_for(path, proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the child never reached the slow save"
        time.sleep(0.05)


def test_sigkill_during_a_save_loses_nothing(tmp_path):
    save, flag = tmp_path / "save", tmp_path / "saving"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(save), str(flag)],
        env={**os.environ, "PYTHONPATH": ROOT},
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(flag, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # The killed save is on disk, unfinished, under its hidden name.
    names = sorted(os.listdir(save))
    assert len(names) == 2 and names[0].startswith(PART_PREFIX + "CKPT+")
    model = torch.nn.Linear(4, 4)
    checkpointer = AtomicCheckpointer(save, {"model": model})
    checkpoints = checkpointer.list_checkpoints()
    assert [c.meta["step"] for c in checkpoints] == [1]
    assert checkpointer.recover_if_possible().meta["step"] == 1
    assert torch.all(model.weight == 1.0)
    # The next save clears the leftover.
    checkpointer.save_checkpoint(meta={"step": 3})
    assert not [n for n in os.listdir(save) if n.startswith(PART_PREFIX)]
    assert sorted(c.meta["step"] for c in checkpointer.list_checkpoints()) == [1, 3]


def test_half_deleted_checkpoints_are_skipped_then_removed(tmp_path, caplog):
    model = torch.nn.Linear(2, 2)
    checkpointer = AtomicCheckpointer(tmp_path, {"model": model})
    best = checkpointer.save_checkpoint(meta={"loss": 0.1})
    worse = checkpointer.save_checkpoint(meta={"loss": 0.9})
    # A deletion killed after removing the weights, before the meta file ...
    os.remove(best.paramfiles["model"])
    # ... and one killed after removing the meta file.
    half = tmp_path / "CKPT+2000-01-01+00-00-00+00"
    half.mkdir()
    (half / "model.ckpt").write_bytes(b"left over")
    found = checkpointer.find_checkpoint(min_key="loss")
    assert found.path == worse.path  # the best one is incomplete: never loaded
    assert "Skipping the incomplete checkpoint" in caplog.text
    checkpointer.save_checkpoint(meta={"loss": 0.5})
    assert not half.exists()
    folders = sorted(p for p in tmp_path.iterdir() if p.name.startswith("CKPT+"))
    assert [sorted(os.listdir(p)) for p in folders] == [["CKPT.yaml", "model.ckpt"]] * 2
    assert sorted(c.meta["loss"] for c in checkpointer.list_checkpoints()) == [0.5, 0.9]


PESQ = (1.2, 1.5, 1.4)  # validation scores of three epochs: the best 2nd, then 3rd


def _save_three_epochs(checkpointer, model):
    """Saves three random tiny models as epochs scored ``PESQ``; returns their weights."""
    sources = [tiny_model(seed=s).state_dict() for s in (0, 1, 2)]
    for epoch, (pesq, state) in enumerate(zip(PESQ, sources), start=1):
        model.load_state_dict(state)
        checkpointer.save_and_keep_only(
            meta={"pesq": pesq, "epoch": epoch}, max_keys=["pesq"], num_to_keep=1
        )
    return sources


def _assert_best(weights, sources):
    """``weights`` is the best epoch's."""
    for key, value in weights.items():
        assert torch.equal(value, sources[1][key])


def test_evaluation_loads_the_best_checkpoint(tmp_path):
    model = tiny_model(seed=3)
    brain = DiffGMMBrain(
        modules={"diffgmm": model},
        hparams={},
        run_opts={"device": "cpu"},
        checkpointer=AtomicCheckpointer(tmp_path, {"diffgmm": model}),
    )
    sources = _save_three_epochs(brain.checkpointer, model)
    model.load_state_dict(tiny_model(seed=4).state_dict())
    brain.on_evaluate_start(max_key="pesq")
    _assert_best(model.state_dict(), sources)


def test_export_writes_the_weights_that_evaluation_used(tmp_path):
    """Export takes the checkpoint evaluation loads: the best by validation PESQ."""
    run = tmp_path / "run"
    model = tiny_model(seed=3)
    checkpointer = AtomicCheckpointer(run / "save", {"diffgmm": model})
    sources = _save_three_epochs(checkpointer, model)
    (run / "hyperparams.yaml").write_text(yaml.safe_dump(VALUES))
    folder = export_pretrained(str(run), str(tmp_path / "model"))
    exported = torch.load(os.path.join(folder, "diffgmm.ckpt"), weights_only=True)
    _assert_best(exported, sources)
