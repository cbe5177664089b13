"""Every kind of input a user may feed the denoiser, through the class and the CLI.

Bad files (empty, no samples, corrupt or unsupported, truncated, NaN/Inf)
must give one line naming the file and the problem; every other file
(silence, clipped or over-range audio, a single sample, inputs shorter than
the U-Net's stride, long recordings, odd rates, many channels, integer,
float and compressed formats) must come out finite, in [-1, 1], with the
input's length, rate and channel count. No output is ever half-written.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
from recipe import ROOT

from diffgmm_sb.data import audio
from diffgmm_sb.data.audio import AudioError
from diffgmm_sb.inference.enhance import main


def _noise(frames, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((frames, channels)) * 0.1).astype(np.float32)


def _with_bad_sample(value, at, seconds):
    def write(path):
        data = _noise(int(seconds * 16000))
        data[int(at * 16000)] = value
        sf.write(path, data, 16000, subtype="FLOAT")

    return write


def _truncated_flac(path):
    sf.write(path.with_suffix(".tmp.flac"), _noise(16000), 16000)
    whole = path.with_suffix(".tmp.flac").read_bytes()
    path.with_suffix(".tmp.flac").unlink()
    path.write_bytes(whole[: len(whole) // 2])


# name -> (writer, expected message after "<path>: ")
BAD = {
    "empty.wav": (lambda p: p.write_bytes(b""), r"the file is empty \(0 bytes\)"),
    "no_samples.wav": (
        lambda p: sf.write(p, np.zeros((0, 1), np.float32), 16000),
        "the file holds no audio samples",
    ),
    "corrupt_header.wav": (
        lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200))),
        "cannot read audio: unsupported or corrupt format",
    ),
    "text.wav": (
        lambda p: p.write_text("not audio at all\n"),
        "cannot read audio: unsupported or corrupt format",
    ),
    "movie.m4a": (
        lambda p: p.write_bytes(b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 200),
        "cannot read audio: unsupported or corrupt format",
    ),
    "truncated.flac": (_truncated_flac, "cannot decode audio after frame 0 of 16000"),
    "nan.wav": (
        _with_bad_sample(np.nan, 0.5, 1.0),
        r"the audio contains NaN or infinite samples \(first at 0.500 s\)",
    ),
    "inf.wav": (
        _with_bad_sample(np.inf, 0.25, 1.0),
        r"the audio contains NaN or infinite samples \(first at 0.250 s\)",
    ),
    # Found after several 1 s chunks were already enhanced and written.
    "late_nan.wav": (
        _with_bad_sample(np.nan, 2.5, 3.0),
        r"the audio contains NaN or infinite samples \(first at 2.500 s\)",
    ),
}


def _square(frames, channels=1, level=1.0):
    t = np.arange(frames)
    wave = np.where((t // 40) % 2 == 0, level, -level).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def _over_range(frames):
    data = _square(frames, level=4.0)
    data[frames // 2] = 1e30
    return data


# name -> (samples, rate, subtype or None for the format's default)
GOOD = {
    "silence.wav": (np.zeros((16000, 1), np.float32), 16000, "PCM_16"),
    "clipped.wav": (_square(16000), 16000, "PCM_16"),
    "over_range.wav": (_over_range(8000), 16000, "FLOAT"),
    "one_sample.wav": (_noise(1), 16000, "PCM_16"),
    "one_sample_stereo_44k.wav": (_noise(1, 2), 44100, "PCM_16"),
    "ten_samples_8k.wav": (_noise(10), 8000, "PCM_16"),
    "below_stride.wav": (_noise(100), 16000, "PCM_16"),
    "long.wav": (_noise(int(4.3 * 16000)), 16000, "PCM_16"),
    "odd_rate_11127.wav": (_noise(5563), 11127, "PCM_16"),
    "high_rate_192k.flac": (_noise(48000), 192000, None),
    "six_channels.wav": (_noise(8820, 6), 22050, "PCM_16"),
    "unsigned_8bit.wav": (_noise(4000), 8000, "PCM_U8"),
    "pcm24.aiff": (_noise(12000, 2), 48000, "PCM_24"),
    "vorbis.ogg": (_noise(24000), 48000, None),
    "mpeg.mp3": (_noise(16000), 16000, None),
}


def _write_inputs(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name in BAD:
            BAD[name][0](folder / name)
        else:
            data, rate, subtype = GOOD[name]
            sf.write(folder / name, data, rate, subtype=subtype)
    return folder


def _check_output(path, src):
    """The enhanced file matches its input's shape and holds finite, in-range audio."""
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    info = sf.info(src)
    assert (rate, data.shape[1], data.shape[0]) == (
        info.samplerate,
        info.channels,
        info.frames,
    )
    assert np.isfinite(data).all() and np.abs(data).max() <= 1.0


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_gives_one_line_naming_it(enhancer, tmp_path, name):
    src = _write_inputs(tmp_path / "in", [name]) / name
    out = tmp_path / "out" / name
    with pytest.raises(AudioError) as caught:
        enhancer.enhance_file(str(src), output_filename=str(out))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{src}: ")
    assert re.search(BAD[name][1], message), message
    assert not out.parent.exists() or os.listdir(out.parent) == []


def test_missing_file_and_folder_are_named(enhancer, tmp_path):
    with pytest.raises(AudioError, match=r"missing.wav: no such file$"):
        enhancer.enhance_file(str(tmp_path / "missing.wav"))
    with pytest.raises(AudioError, match=r": is a folder, not an audio file$"):
        enhancer.enhance_file(str(tmp_path))


@pytest.mark.parametrize("name", sorted(GOOD))
def test_any_other_input_comes_out_finite_with_its_shape(enhancer, tmp_path, name):
    src = _write_inputs(tmp_path / "in", [name]) / name
    out = tmp_path / "out" / name
    enhanced = enhancer.enhance_file(str(src), output_filename=str(out))
    info = sf.info(src)
    # [time] for mono, as SpeechBrain's enhance_file; [channels, time] otherwise
    shape = (info.frames,) if info.channels == 1 else (info.channels, info.frames)
    assert enhanced.shape == shape
    assert torch.isfinite(enhanced).all()
    _check_output(out, src)
    assert sf.info(out).format == info.format
    if name == "silence.wav":  # normalisation of silence gives silence, not NaN
        assert enhanced.abs().max() < 1e-3


def test_long_file_streams_in_bounded_chunks_like_the_in_memory_path(
    enhancer, tmp_path, monkeypatch
):
    src = _write_inputs(tmp_path, ["long.wav"]) / "long.wav"
    pieces = []
    original = enhancer._enhance_at_rate

    def spy(wav, *args):
        pieces.append(wav.shape[-1])
        return original(wav, *args)

    monkeypatch.setattr(enhancer, "_enhance_at_rate", spy)
    streamed = enhancer.enhance_file(str(src))
    assert len(pieces) == 6 and max(pieces) <= 16000  # 1 s chunks, 0.75 s apart
    wav = torch.from_numpy(sf.read(src, dtype="float32")[0]).unsqueeze(0)
    in_memory = enhancer.enhance_batch(wav)
    assert torch.allclose(streamed, in_memory[0], atol=1e-5)


def test_failure_mid_file_leaves_no_partial_output_and_keeps_the_old_one(
    enhancer, tmp_path, monkeypatch
):
    src = _write_inputs(tmp_path / "in", ["late_nan.wav"]) / "late_nan.wav"
    out = tmp_path / "out" / "late_nan.wav"
    out.parent.mkdir()
    out.write_bytes(b"previous result")
    blocks = []
    original = audio.AtomicAudioWriter.write
    monkeypatch.setattr(
        audio.AtomicAudioWriter,
        "write",
        lambda self, block: (blocks.append(block.shape[-1]), original(self, block)),
    )
    with pytest.raises(AudioError, match="first at 2.500 s"):
        enhancer.enhance_file(str(src), output_filename=str(out))
    assert sum(blocks) >= 16000  # output was being written when the NaN came
    assert os.listdir(out.parent) == ["late_nan.wav"]  # no temporary file left
    assert out.read_bytes() == b"previous result"


def _failure_lines(stderr):
    return {
        line.split(": ", 3)[2]: line.split(": ", 3)[3]
        for line in stderr.splitlines()
        if line.startswith("diffgmm-enhance: failed: ")
    }


def test_cli_enhances_the_good_files_reports_each_bad_one_exits_1(model_dir, tmp_path):
    names = sorted(BAD) + sorted(GOOD)
    src = _write_inputs(tmp_path / "in", names)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "diffgmm_sb.inference.enhance", str(src), "-o", str(out)]
        + ["--model", model_dir, "--steps", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    failed = _failure_lines(proc.stderr)
    assert sorted(os.path.basename(p) for p in failed) == sorted(BAD)
    for path, problem in failed.items():
        assert re.search(BAD[os.path.basename(path)][1], problem)
    assert f"{len(GOOD)} of {len(names)} files enhanced" in proc.stdout
    assert sorted(os.listdir(out)) == sorted(GOOD)  # no partial or temporary file
    for name in GOOD:
        _check_output(out / name, src / name)


def test_cli_never_overwrites_an_input_or_another_output(model_dir, tmp_path, capsys):
    for sub in ("a", "b"):
        _write_inputs(tmp_path / sub, ["clipped.wav"])
    before = (tmp_path / "a" / "clipped.wav").read_bytes()
    code = main(
        [str(tmp_path / "a" / "clipped.wav"), str(tmp_path / "b" / "clipped.wav")]
        + ["-o", str(tmp_path / "a"), "--model", model_dir, "--steps", "1"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "a/clipped.wav: skipped, the output would overwrite the input" in err
    assert (
        f"b/clipped.wav: skipped, the output would overwrite {tmp_path}/a/clipped.wav"
        in err
    )
    assert (tmp_path / "a" / "clipped.wav").read_bytes() == before
    # Two inputs of the same name from two folders given as files.
    code = main(
        [str(tmp_path / "a" / "clipped.wav"), str(tmp_path / "b" / "clipped.wav")]
        + ["-o", str(tmp_path / "out"), "--model", model_dir, "--steps", "1"]
    )
    err = capsys.readouterr().err
    assert code == 1 and "is already the output of" in err
    assert os.listdir(tmp_path / "out") == ["clipped.wav"]


def test_cli_keeps_the_layout_of_folders_so_same_names_do_not_collide(
    model_dir, tmp_path, capsys
):
    for sub in ("x", "y"):
        _write_inputs(tmp_path / "in" / sub, ["clipped.wav"])
    code = main([str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", model_dir])
    assert code == 0, capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "out")) == ["x", "y"]
    _check_output(
        tmp_path / "out" / "x" / "clipped.wav", tmp_path / "in" / "x" / "clipped.wav"
    )


def test_cli_bad_model_folder_is_one_line_exit_2(tmp_path, capsys):
    _write_inputs(tmp_path / "in", ["clipped.wav"])
    code = main(
        [str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "no hyperparams.yaml; not a DiffGMM model folder" in err
