"""Runs ``train.py`` on the fixture corpus with a tiny network, as a subprocess."""

import os
import re
import subprocess
import sys

from fixture_corpus import make_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_NET = [
    "--front_channels=16",
    "--unet_channels=[32, 48]",
    "--unet_strides=[4, 2]",
    "--emb_dim=32",
    "--head_channels=8",
]
# Launches train.py as 2 DDP processes on the gloo backend (CPU).
DDP_LAUNCHER = [
    sys.executable,
    "-m",
    "torch.distributed.run",
    "--standalone",  # a free port: runs side by side never meet
    "--nproc_per_node=2",
]
DDP_ARGS = ["--distributed_backend=gloo"]


def epochs(log):
    """``(train loss, valid si_sdr)`` of each epoch line of a train_log.txt."""
    rows = []
    for line in log.splitlines():
        if line.startswith("epoch:"):
            train = float(re.search(r"train loss: ([-\d.e+]+)", line).group(1))
            si_sdr = float(re.search(r"valid si_sdr: ([-\d.e+]+)", line).group(1))
            rows.append((train, si_sdr))
    return rows


def errors(stderr):
    """The tracebacks and native aborts of a failed run (every rank), else its end.

    A rank that dies in C++ (gloo, ``std::terminate``) leaves no Python
    traceback, only ``terminate called ...``/``what(): ...`` lines: keep those.
    """
    blocks = re.findall(r"Traceback.*?\n\S.*?\n", stderr, flags=re.S)
    native = re.findall(
        r"^.*(?:terminate called|what\(\)|Fatal Python error|exitcode|error_file).*$",
        stderr,
        flags=re.M,
    )
    found = "\n".join(blocks)[-4000:] + "\n".join(native)[-2000:]
    return found or stderr[-3000:]


def recipe_command(tmp_path, *extra, launcher=(), data=None):
    """The command line, environment and output folder of a tiny recipe run.

    ``extra`` arguments (``--key=value``) replace the defaults of the same key.
    The fixture corpus is written to ``tmp_path/data`` unless ``data`` names
    a prepared one.
    """
    data = data or make_corpus(str(tmp_path / "data"))
    out = tmp_path / "out"
    defaults = [
        f"--data_folder={data}",
        "--skip_prep=True",
        f"--output_folder={out}",
        "--real_test_folder=",
        "--train_samples_per_epoch=128",
        "--batch_size=8",
        "--ckpt_interval_minutes=0",
        *SMALL_NET,
    ]
    given = {arg.split("=")[0] for arg in extra}
    cmd = [
        *(launcher or [sys.executable]),
        os.path.join(ROOT, "train.py"),
        os.path.join(ROOT, "hparams", "diffgmm.yaml"),
        *[arg for arg in defaults if arg.split("=")[0] not in given],
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": ROOT}
    return cmd, env, out


def run_recipe(tmp_path, *extra, launcher=(), data=None):
    """Runs the recipe to the end (asserting success); returns the output folder."""
    cmd, env, out = recipe_command(tmp_path, *extra, launcher=launcher, data=data)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, errors(proc.stderr)
    return out
