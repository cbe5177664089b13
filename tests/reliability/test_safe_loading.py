"""Model folders and checkpoints from strangers: nothing executed, damage named.

Each attack leaves a marker file if any of its code runs; every test checks
the marker is absent. Damaged files must give one line naming the file.
"""

import shutil

import pytest
import torch
from tiny_model import VALUES, tiny_model

from diffgmm_sb.inference.enhance import main as enhance_main
from diffgmm_sb.inference.export import main as export_main
from diffgmm_sb.inference.interface import DiffGMMEnhancement
from diffgmm_sb.inference.model_folder import ModelFolderError, load_model_folder
from diffgmm_sb.training.checkpoints import AtomicCheckpointer, CheckpointError


class _Payload:
    """Unpickling this creates ``path`` (what a malicious checkpoint would run)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def folder(model_dir, tmp_path):
    """A private copy of the tiny model folder to tamper with."""
    return shutil.copytree(model_dir, tmp_path / "model")


def _append(path, text):
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def test_yaml_tags_in_a_model_folder_are_never_run(folder, tmp_path):
    marker = tmp_path / "pwned"
    _append(
        folder / "hyperparams.yaml",
        f"payload: !apply:builtins.open [{marker}, w]\n"
        f"another: !apply:pathlib.Path.touch [!new:pathlib.Path [{marker}]]\n",
    )
    (folder / "custom.py").write_text(f"open({str(marker)!r}, 'w')\n")
    enhancer = DiffGMMEnhancement.from_hparams(source=str(folder))
    assert torch.isfinite(enhancer.enhance_batch(torch.randn(1, 800) * 0.1)).all()
    assert not marker.exists()


def test_a_tag_where_a_value_belongs_is_refused_not_run(folder, tmp_path):
    marker = tmp_path / "pwned"
    text = (folder / "hyperparams.yaml").read_text()
    text = text.replace("num_steps: 4", f"num_steps: !apply:builtins.open [{marker}, w]")
    (folder / "hyperparams.yaml").write_text(text)
    with pytest.raises(ModelFolderError, match="num_steps must be an integer.*not None"):
        load_model_folder(str(folder))
    assert not marker.exists()


def test_out_of_range_value_is_refused_before_building(folder):
    text = (folder / "hyperparams.yaml").read_text()
    text = text.replace("front_channels: 8", "front_channels: 1000000000")
    (folder / "hyperparams.yaml").write_text(text)
    with pytest.raises(ModelFolderError, match="front_channels must be an integer from 1"):
        load_model_folder(str(folder))


def test_pickled_code_in_the_weights_is_refused(folder, tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"weights": _Payload(str(marker))}, folder / "diffgmm.ckpt")
    with pytest.raises(CheckpointError, match="diffgmm.ckpt: refused, .*weights_only"):
        load_model_folder(str(folder))
    assert not marker.exists()


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
            "truncated or corrupt",
        ),
        (lambda p: p.write_bytes(b""), "truncated or corrupt"),
        (lambda p: p.unlink(), "no diffgmm.ckpt; not a DiffGMM model folder"),
        (
            lambda p: torch.save({"unet.front.down.weight": torch.zeros(3)}, p),
            "the weights do not fit the network",
        ),
        (
            lambda p: torch.save(
                {k: v * float("nan") for k, v in tiny_model().state_dict().items()}, p
            ),
            "NaN or infinite values in",
        ),
    ],
    ids=["truncated", "empty", "missing", "wrong-shapes", "nan-weights"],
)
def test_damaged_weights_give_one_line_naming_the_file(folder, damage, message):
    damage(folder / "diffgmm.ckpt")
    with pytest.raises((CheckpointError, ModelFolderError)) as caught:
        load_model_folder(str(folder))
    assert str(folder) in str(caught.value) and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_cli_with_a_tampered_model_exits_2_in_one_line(folder, tmp_path, capsys):
    torch.save({"weights": _Payload(str(tmp_path / "pwned"))}, folder / "diffgmm.ckpt")
    code = enhance_main(
        [str(tmp_path), "-o", str(tmp_path / "out"), "--model", str(folder)]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "refused" in err
    assert not (tmp_path / "pwned").exists()


def _training_checkpoint(save_dir):
    model = tiny_model()
    optimizer = torch.optim.AdamW(model.parameters())
    checkpointer = AtomicCheckpointer(save_dir, {"diffgmm": model})
    checkpointer.add_recoverable("optimizer", optimizer)
    return checkpointer, checkpointer.save_checkpoint(meta={"pesq": 1.0})


@pytest.mark.parametrize("tamper", ["pickle", "truncate"])
def test_resuming_from_a_tampered_or_truncated_checkpoint_is_a_clear_error(
    tmp_path, tamper
):
    marker = tmp_path / "pwned"
    checkpointer, saved = _training_checkpoint(tmp_path / "save")
    target = saved.paramfiles["optimizer"]
    if tamper == "pickle":
        torch.save({"state": _Payload(str(marker))}, target)
    else:
        target.write_bytes(target.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=r"optimizer.ckpt: (refused|truncated)"):
        checkpointer.recover_if_possible()
    assert not marker.exists()


def test_export_of_a_run_without_checkpoint_is_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    header = "".join(f"{k}: {v}\n" for k, v in VALUES.items())
    (run / "hyperparams.yaml").write_text(header + "seed: !apply:os.system [false]\n")
    assert export_main([str(run), str(tmp_path / "model")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "save: no complete checkpoint with a pesq score" in err


def test_export_then_load_round_trip(tmp_path, capsys):
    """The export command on a run folder holding a real checkpoint, then loading."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "hyperparams.yaml").write_text("".join(f"{k}: {v}\n" for k, v in VALUES.items()))
    _, saved = _training_checkpoint(run / "save")
    assert export_main([str(run), str(tmp_path / "model")]) == 0, capsys.readouterr().err
    _, modules = load_model_folder(str(tmp_path / "model"))
    for key, value in torch.load(saved.paramfiles["diffgmm"]).items():
        assert torch.equal(modules["diffgmm"].state_dict()[key], value)
