"""A short CPU run of ``train.py`` on the fixture corpus.

The training loss must fall and validation SI-SDR must rise between the
first and the last epoch; the test stage must write enhanced wavs and scores.
"""

import os

import soundfile as sf
import torch
from recipe import DDP_ARGS, DDP_LAUNCHER, epochs, run_recipe

from diffgmm_sb.inference.export import export_pretrained
from diffgmm_sb.inference.interface import DiffGMMEnhancement
from diffgmm_sb.training.checkpoints import AtomicCheckpointer


def test_training_improves_and_test_stage_writes_outputs(tmp_path):
    out = run_recipe(tmp_path, "--number_of_epochs=4")
    rows = epochs((out / "train_log.txt").read_text())
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
    wav = enhancer.enhance_file(str(noisy), output_filename=str(tmp_path / "e.wav"))
    assert wav.shape[-1] == sf.info(noisy).frames and torch.isfinite(wav).all()

    # float16 storage: half the weights file, the same enhancement within rounding.
    half_dir = export_pretrained(str(out), str(tmp_path / "half"), half=True)
    full_size = os.path.getsize(os.path.join(model_dir, "diffgmm.ckpt"))
    assert os.path.getsize(os.path.join(half_dir, "diffgmm.ckpt")) < 0.6 * full_size
    half = DiffGMMEnhancement.from_hparams(source=half_dir, savedir=str(tmp_path / "sd2"))
    half_wav = half.enhance_file(str(noisy))
    assert next(half.mods.parameters()).dtype == torch.float32
    error = (half_wav - wav).pow(2).mean() / wav.pow(2).mean()
    assert 0 < error < 1e-4, error


def test_two_process_gloo_ddp_runs_and_checkpoints(tmp_path):
    out = run_recipe(tmp_path, "--number_of_epochs=2", *DDP_ARGS, launcher=DDP_LAUNCHER)
    assert len(epochs((out / "train_log.txt").read_text())) == 2
    folders = [d for d in os.listdir(out / "save") if d.startswith("CKPT")]
    checkpoints = AtomicCheckpointer(str(out / "save")).list_checkpoints()
    assert len(checkpoints) == len(folders)  # none incomplete
    # Kept: the last epoch's checkpoint and, when another epoch scored a
    # higher validation PESQ, that one too.
    metas = [c.meta for c in checkpoints]
    assert 2 in [m["epoch"] for m in metas] and len(checkpoints) <= 2, metas
    if len(checkpoints) == 2:
        last, other = sorted(metas, key=lambda m: -m["epoch"])
        assert other["pesq"] >= last["pesq"], metas
    for c in checkpoints:
        assert os.path.isfile(os.path.join(c.path, "diffgmm.ckpt"))
