"""A short CPU run of ``train.py`` on the fixture corpus.

The training loss must fall and validation SI-SDR must rise between the
first and the last epoch; the test stage must write enhanced wavs and scores.
"""

import os
import re
import subprocess
import sys

import numpy as np
import soundfile as sf
from fixture_corpus import make_corpus

from diffgmm_sb.export import export_pretrained
from diffgmm_sb.inference import DiffGMMEnhancement

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL_NET = [
    "--front_channels=16",
    "--unet_channels=[32, 48]",
    "--unet_strides=[4, 2]",
    "--emb_dim=32",
    "--head_channels=8",
]


def _epochs(log):
    rows = []
    for line in log.splitlines():
        if line.startswith("epoch:"):
            train = float(re.search(r"train loss: ([-\d.e+]+)", line).group(1))
            si_sdr = float(re.search(r"valid si_sdr: ([-\d.e+]+)", line).group(1))
            rows.append((train, si_sdr))
    return rows


def _errors(stderr):
    """The tracebacks of a failed run (from every rank), else its last lines."""
    blocks = re.findall(r"Traceback.*?\n\S.*?\n", stderr, flags=re.S)
    return "\n".join(blocks)[-4000:] or stderr[-3000:]


def run_recipe(tmp_path, *extra, launcher=()):
    data = make_corpus(str(tmp_path / "data"))
    out = tmp_path / "out"
    cmd = [
        *(launcher or [sys.executable]),
        os.path.join(ROOT, "train.py"),
        os.path.join(ROOT, "hparams", "diffgmm.yaml"),
        f"--data_folder={data}",
        "--skip_prep=True",
        f"--output_folder={out}",
        "--real_test_folder=",
        "--train_samples_per_epoch=128",
        "--batch_size=8",
        *SMALL_NET,
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, _errors(proc.stderr)
    return out


def test_training_improves_and_test_stage_writes_outputs(tmp_path):
    out = run_recipe(tmp_path, "--number_of_epochs=4")
    rows = _epochs((out / "train_log.txt").read_text())
    assert len(rows) == 4
    assert rows[-1][0] < rows[0][0], rows
    assert rows[-1][1] > rows[0][1], rows
    enhanced = sorted(os.listdir(out / "enhanced" / "test"))
    assert enhanced == ["ivrvoice_ru_ru_agent-loginok.wav", "ivrvoice_ru_ru_agent-pass.wav"]
    scores = (out / "test_scores_test.csv").read_text().splitlines()
    assert scores[0].startswith("id,noisy_pesq") and len(scores) == 3
    assert "test pesq" in (out / "train_log.txt").read_text()

    # The run exports to a hub-style folder that loads offline and enhances.
    model_dir = export_pretrained(str(out), str(tmp_path / "model"))
    assert sorted(os.listdir(model_dir)) == ["diffgmm.ckpt", "hyperparams.yaml"]
    enhancer = DiffGMMEnhancement.from_hparams(
        source=model_dir, savedir=str(tmp_path / "savedir")
    )
    noisy = tmp_path / "data" / "test" / "noisy" / enhanced[0]
    enhancer.enhance_file(str(noisy), output_filename=str(tmp_path / "e.wav"))
    wav, _ = sf.read(tmp_path / "e.wav")
    assert len(wav) == sf.info(noisy).frames and np.isfinite(wav).all()


def test_two_process_gloo_ddp_runs_and_checkpoints(tmp_path):
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    out = run_recipe(
        tmp_path, "--number_of_epochs=2", "--distributed_backend=gloo", launcher=launcher
    )
    assert len(_epochs((out / "train_log.txt").read_text())) == 2
    checkpoints = [d for d in os.listdir(out / "save") if d.startswith("CKPT")]
    assert len(checkpoints) == 1
    assert (out / "save" / checkpoints[0] / "diffgmm.ckpt").is_file()
