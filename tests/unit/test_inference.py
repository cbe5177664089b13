"""DiffGMMEnhancement: loading a model folder offline, chunking, rates, channels."""

import os

import numpy as np
import pytest
import soundfile as sf
import torch
from tiny_model import tiny_model_folder

from diffgmm_sb.data.audio import AudioError
from diffgmm_sb.inference.interface import DiffGMMEnhancement


@pytest.fixture(scope="module")
def enhancer(tmp_path_factory):
    folder, model = tiny_model_folder(tmp_path_factory.mktemp("model"))
    savedir = str(tmp_path_factory.mktemp("savedir"))
    loaded = DiffGMMEnhancement.from_hparams(source=folder, savedir=savedir)
    # the folder's weights, not fresh random ones, were loaded
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.mods.diffgmm.state_dict()[key], value)
    return loaded


def test_enhance_batch_shapes_and_finite(enhancer):
    noisy = torch.randn(3, 5000) * 0.1
    out = enhancer.enhance_batch(noisy, torch.tensor([1.0, 0.5, 0.2]))
    assert out.shape == noisy.shape and torch.isfinite(out).all()
    assert torch.all(out[1, 2500:] == 0)


def test_chunked_matches_unchunked_where_both_fit(enhancer):
    noisy = torch.randn(1, 48000) * 0.1
    enhancer.hparams.chunk_seconds, enhancer.hparams.overlap_seconds = 10.0, 0.5
    whole = enhancer.enhance_batch(noisy)
    enhancer.hparams.chunk_seconds = 1.0
    chunked = enhancer.enhance_batch(noisy)
    enhancer.hparams.chunk_seconds = 10.0
    err = (whole - chunked).pow(2).sum() / whole.pow(2).sum()
    assert 10 * torch.log10(err) < -20, float(10 * torch.log10(err))


def test_final_gamma_leaves_that_fraction_of_the_removed_noise(enhancer):
    torch.manual_seed(0)
    noisy = torch.randn(2, 4000) * 0.1
    assert enhancer.hparams.sampler_final_gamma == 0.0  # the folder's value
    full = enhancer.enhance_batch(noisy, steps=1)
    try:
        enhancer.final_gamma = 0.25
        partial = enhancer.enhance_batch(noisy, steps=1)
    finally:
        enhancer.final_gamma = None
    # One step from gamma_T = 1: x_end = x - (1 - gamma_end) n_hat.
    expected = noisy - 0.75 * (noisy - full)
    assert torch.allclose(partial, expected, atol=1e-5)


def test_folder_without_final_gamma_loads_with_zero(tmp_path):
    folder, _ = tiny_model_folder(tmp_path / "model")
    path = os.path.join(folder, "hyperparams.yaml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("sampler_final_gamma: 0.0\n", ""))
    with open(path) as f:
        assert "sampler_final_gamma" not in f.read()
    loaded = DiffGMMEnhancement.from_hparams(source=folder)
    assert loaded.hparams.sampler_final_gamma == 0.0


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
def test_file_round_trip_keeps_rate_length_channels(enhancer, tmp_path, rate, channels):
    n = int(rate * 0.7) + 3
    data = (np.random.default_rng(0).standard_normal((n, channels)) * 0.1).astype(
        np.float32
    )
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, data, rate, subtype="PCM_16")
    out = enhancer.enhance_file(str(src), output_filename=str(dst))
    assert out.shape == ((n,) if channels == 1 else (channels, n))
    info = sf.info(dst)
    assert (info.samplerate, info.frames, info.channels) == (rate, n, channels)
    assert info.subtype == "PCM_16"
    assert np.isfinite(sf.read(dst)[0]).all()


def test_streamed_file_equals_in_memory_chunking(enhancer, tmp_path):
    """Several chunks, a partial last chunk: file streaming = ``enhance_batch``."""
    noisy = torch.randn(2, 40000) * 0.1
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, noisy.T.numpy(), 16000, subtype="FLOAT")
    enhancer.hparams.chunk_seconds, enhancer.hparams.overlap_seconds = 1.0, 0.25
    try:
        assert enhancer.enhance_to_file(str(src), str(dst)) == 40000
        in_memory = enhancer.enhance_file(str(src))
        expected = enhancer.enhance_batch(noisy)
    finally:
        enhancer.hparams.chunk_seconds, enhancer.hparams.overlap_seconds = 10.0, 0.5
    written = torch.from_numpy(sf.read(dst, dtype="float32")[0].T.copy())
    assert torch.allclose(in_memory, expected, atol=1e-5)
    assert torch.allclose(written, expected, atol=1e-5)
    assert not any(name.endswith(".part") for name in os.listdir(tmp_path))


def test_bad_files_name_the_file(enhancer, tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 1), dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="empty.wav: the file holds no audio"):
        enhancer.enhance_file(str(empty))
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF....not audio")
    with pytest.raises(AudioError, match="junk.wav: cannot read audio"):
        enhancer.enhance_file(str(junk))
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full((100, 1), np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav: the audio contains NaN"):
        enhancer.enhance_file(str(nan))


def test_cli_writes_every_good_file_and_reports_the_bad_one(enhancer, tmp_path, capsys):
    from diffgmm_sb.inference.enhance import main

    model_dir = enhancer.hparams.savedir  # the collected model folder
    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "a.wav", np.zeros((8000, 2), dtype=np.float32) + 0.01, 22050)
    sf.write(src / "b.flac", np.random.default_rng(1).standard_normal(4000) * 0.1, 16000)
    (src / "c.wav").write_bytes(b"not audio")
    out = tmp_path / "out"
    code = main([str(src), "-o", str(out), "--model", model_dir, "--steps", "1"])
    captured = capsys.readouterr()
    assert code == 1
    assert sorted(os.listdir(out)) == ["a.wav", "b.flac"]
    assert "c.wav: cannot read audio" in captured.err
    assert "2 of 3 files enhanced" in captured.out
    assert sf.info(out / "a.wav").channels == 2


def test_cli_plot_writes_a_png_per_file(enhancer, tmp_path):
    pytest.importorskip("matplotlib")
    from diffgmm_sb.inference.enhance import main

    src = tmp_path / "in.wav"
    sf.write(src, np.random.default_rng(2).standard_normal(24000) * 0.1, 16000)
    out = tmp_path / "out"
    code = main([str(src), "-o", str(out), "--model", enhancer.hparams.savedir, "--plot"])
    assert code == 0
    png = (out / "in.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_from_hparams_takes_speechbrains_loader_arguments(enhancer, tmp_path, caplog):
    """Applied (savedir, overrides, local_strategy, download_only) or ignored with a warning."""
    from speechbrain.utils.fetching import FetchConfig, LocalStrategy

    folder = enhancer.hparams.savedir
    assert (
        DiffGMMEnhancement.from_hparams(
            source=folder, savedir=str(tmp_path / "d"), download_only=True
        )
        is None
    )
    assert sorted(os.listdir(tmp_path / "d")) == ["diffgmm.ckpt", "hyperparams.yaml"]
    copied = DiffGMMEnhancement.from_hparams(
        source=folder,
        savedir=str(tmp_path / "c"),
        local_strategy=LocalStrategy.COPY,
        fetch_config=FetchConfig(),
        huggingface_cache_dir=str(tmp_path / "hf"),
        overrides={"chunk_seconds": 2.0, "not_a_key": 1},
        overrides_must_match=False,
    )
    assert not os.path.islink(tmp_path / "c" / "diffgmm.ckpt")
    assert copied.hparams.chunk_seconds == 2.0
    assert "fetch_config, huggingface_cache_dir ignored" in caplog.text
    assert "overrides left out: not_a_key" in caplog.text
    with pytest.raises(ValueError, match="cannot override not_a_key"):
        DiffGMMEnhancement.from_hparams(source=folder, overrides={"not_a_key": 1})


def test_a_hub_id_gets_one_line_saying_local_folders_only():
    with pytest.raises(ValueError) as caught:
        DiffGMMEnhancement.from_hparams(source="speechbrain/metricgan-plus-voicebank")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("speechbrain/metricgan-plus-voicebank: no such local model")
    assert "never downloads" in message and "huggingface-cli download" in message
