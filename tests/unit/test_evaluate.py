"""The evaluator: input checks, scores, pairing, enhancer runs and the command line."""

import csv
import json
import os

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as AF
from fixture_corpus import make_corpus
from hyperpyyaml import load_hyperpyyaml
from pesq import pesq
from pystoi import stoi
from tiny_model import tiny_model_folder

from diffgmm_sb.data.audio import AudioError
from diffgmm_sb.evaluation import evaluate as E
from diffgmm_sb.evaluation.composite import composite
from diffgmm_sb.evaluation.enhancers import conform, enhance_files, load_enhancer

AUDIO = os.path.join(os.path.dirname(__file__), "..", "fixtures", "audio")


def _speech():
    wav, rate = sf.read(os.path.join(AUDIO, "june_fr_ascii34.wav"))
    assert rate == 16000
    return wav


def _noisy(clean, snr_db, seed=0):
    noise = np.random.default_rng(seed).standard_normal(len(clean))
    return clean + noise * np.std(clean) / np.std(noise) * 10 ** (-snr_db / 20)


def _write(path, wav, rate=16000, **kwargs):
    sf.write(path, wav, rate, **kwargs)
    return str(path)


def test_scores_are_the_packages_and_composite_values():
    clean = _speech()
    noisy = _noisy(clean, 5.0)
    scores = E.score_arrays(noisy, clean)
    assert set(scores) == set(E.METRICS + E.PARTS)
    assert scores["pesq_wb"] == pytest.approx(pesq(16000, clean, noisy, "wb"))
    assert scores["pesq_nb"] == pytest.approx(pesq(16000, clean, noisy, "nb"))
    assert scores["stoi"] == pytest.approx(stoi(clean, noisy, 16000))
    assert scores["estoi"] == pytest.approx(stoi(clean, noisy, 16000, extended=True))
    parts = composite(clean, noisy, 16000)
    for name in ("csig", "cbak", "covl", "ssnr", "llr", "wss"):
        assert scores[name] == pytest.approx(parts[name]), name
    # white noise at 5 dB over the whole file: SI-SDR near 5 dB
    assert scores["si_sdr"] == pytest.approx(5.0, abs=0.3)
    assert scores["estoi"] < scores["stoi"] < 1.0


def test_identical_and_rate_handling():
    clean = _speech()
    perfect = E.score_arrays(clean, clean)
    assert perfect["pesq_wb"] == pytest.approx(4.644, abs=1e-3)
    assert (perfect["csig"], perfect["cbak"], perfect["covl"]) == (5.0, 5.0, 5.0)
    assert perfect["ssnr"] == 35.0 and perfect["stoi"] == pytest.approx(1.0)
    # an 8 kHz pair is resampled to 16 kHz, then scored
    noisy = _noisy(clean, 10.0)[::2]
    low = E.score_arrays(noisy, clean[::2], sample_rate=8000)
    up = [
        AF.resample(torch.from_numpy(x), 8000, 16000).numpy() for x in (noisy, clean[::2])
    ]
    assert low == pytest.approx(E.score_arrays(*up))
    assert low["pesq_wb"] < perfect["pesq_wb"]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b"RIFF not audio"), "cannot read audio"),
        (lambda p: _write(p, np.zeros(0)), "holds no audio samples"),
        (lambda p: _write(p, np.full(8000, np.nan), subtype="FLOAT"), "contains NaN"),
        (lambda p: _write(p, np.full(8000, np.inf), subtype="FLOAT"), "contains NaN"),
        (lambda p: _write(p, np.zeros(8000) + 0.1, rate=22050), "sample rate 22050 Hz"),
        (lambda p: _write(p, np.zeros(7999) + 0.1), "7999 samples, but its reference"),
        (lambda p: _write(p, np.zeros((8000, 2)) + 0.1), "2 channel(s), but"),
    ],
)
def test_bad_enhanced_files_are_named_on_one_line(tmp_path, make, message):
    reference = _write(tmp_path / "ref.wav", _speech()[:8000])
    bad = tmp_path / "enh.wav"
    make(bad)
    with pytest.raises(AudioError) as err:
        E.scorable_pair(str(bad), reference)
    text = str(err.value)
    assert text.startswith(str(bad) + ": ") and message in text and "\n" not in text


def test_bad_references_and_missing_files(tmp_path):
    ok = _write(tmp_path / "ok.wav", _speech()[:8000])
    short = _write(tmp_path / "short.wav", np.zeros(3000) + 0.1)
    with pytest.raises(AudioError, match="short.wav: 0.188 s long, too short"):
        E.scorable_pair(short, short)
    silent = _write(tmp_path / "silent.wav", np.zeros(8000))
    with pytest.raises(AudioError, match="silent.wav: the reference is silent"):
        E.scorable_pair(ok, silent)
    with pytest.raises(AudioError, match="gone.wav: no such file"):
        E.scorable_pair(ok, str(tmp_path / "gone.wav"))


def test_folders_pair_by_relative_path_and_list_strays(tmp_path):
    for folder in ("clean", "enh"):
        os.makedirs(tmp_path / folder / "sub")
        _write(tmp_path / folder / "a.wav", np.ones(10))
        _write(tmp_path / folder / "sub" / "b.flac", np.ones(10))
    pairs = E.pairs_from_folders(str(tmp_path / "clean"), str(tmp_path / "enh"))
    assert [p[0] for p in pairs] == ["a", os.path.join("sub", "b")]
    assert pairs[1][1] == os.path.join(str(tmp_path / "enh"), "sub", "b.flac")
    _write(tmp_path / "enh" / "extra.wav", np.ones(10))
    with pytest.raises(AudioError, match="enh: files not in .*clean: extra.wav"):
        E.pairs_from_folders(str(tmp_path / "clean"), str(tmp_path / "enh"))


def test_manifest_pairs(tmp_path):
    folder = make_corpus(str(tmp_path / "corpus"))
    manifest = os.path.join(folder, "test.json")
    pairs = E.pairs_from_manifest(manifest)
    assert len(pairs) == 2 and all(os.path.isfile(p) for _, a, c in pairs for p in (a, c))
    enhanced = E.pairs_from_manifest(manifest, enhanced_dir="out")
    assert [os.path.dirname(a) for _, a, _ in enhanced] == ["out", "out"]
    assert [os.path.basename(a) for _, a, _ in enhanced] == [
        os.path.basename(a) for _, a, _ in pairs
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"u1": {"noisy_wav": "x.wav"}}))
    with pytest.raises(AudioError, match="entry u1 has no clean_wav"):
        E.pairs_from_manifest(str(bad))


def test_cli_runs_diffgmm_on_a_manifest_and_scores_it(tmp_path, capsys):
    folder = make_corpus(str(tmp_path / "corpus"))
    model, _ = tiny_model_folder(tmp_path / "model")
    out = tmp_path / "enhanced"
    argv = ["--manifest", os.path.join(folder, "test.json"), "--noisy"]
    code = E.main(argv + ["--enhancer", "diffgmm", "--model", model, "--output", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    with open(out / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["system"] for r in rows] == ["noisy", "noisy", "diffgmm", "diffgmm"]
    for row in rows[2:]:
        noisy = os.path.join(folder, "test", "noisy", os.path.basename(row["audio"]))
        assert sf.info(row["audio"]).frames == sf.info(noisy).frames
        assert not np.allclose(sf.read(row["audio"])[0], sf.read(noisy)[0], atol=1e-3)
        assert all(np.isfinite(float(row[m])) for m in E.METRICS)
    header, files = printed.splitlines()[:2]
    assert header.split() == ["noisy", "diffgmm"] and files.split() == ["files", "2", "2"]
    stoi_line = next(line for line in printed.splitlines() if line.startswith("STOI"))
    noisy_stoi = np.mean([float(r["stoi"]) for r in rows[:2]])
    assert float(stoi_line.split()[1]) == pytest.approx(noisy_stoi, abs=5e-4)


def test_cli_scores_the_good_files_and_names_the_bad_one(tmp_path, capsys):
    clean, enhanced = tmp_path / "clean", tmp_path / "enhanced"
    clean.mkdir(), enhanced.mkdir()
    speech = _speech()
    for name in ("a.wav", "b.wav"):
        _write(clean / name, speech)
    _write(enhanced / "a.wav", _noisy(speech, 10.0))
    _write(enhanced / "b.wav", speech[:-5])
    csv_path = str(tmp_path / "s.csv")
    code = E.main(
        ["--clean-dir", str(clean), "--enhanced-dir", str(enhanced), "--csv", csv_path]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert (
        f"{enhanced / 'b.wav'}: {len(speech) - 5} samples, but its reference"
        in captured.err
    )
    with open(csv_path) as f:
        assert [r["id"] for r in csv.DictReader(f)] == ["a"]
    assert captured.out.splitlines()[1].split() == ["files", "1"]


def test_cli_refuses_bad_usage_and_hub_names(tmp_path, capsys):
    with pytest.raises(SystemExit):
        E.main(["--manifest", "m.json", "--enhancer", "waveform"])  # no --model
    with pytest.raises(SystemExit):
        E.main(["--clean-dir", "c"])  # no --enhanced-dir
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        load_enhancer("waveform", "speechbrain/mtl-mimic-voicebank")
    assert E.main(["--manifest", str(tmp_path / "none.json")]) == 2
    assert "none.json not found" in capsys.readouterr().err


WAVEFORM_YAML = """
enhance_model: !new:speechbrain.lobes.models.EnhanceResnet.EnhanceResnet
    n_fft: 64
    win_length: 4
    hop_length: 2
    channel_counts: [4]
    dense_count: 1
    dense_nodes: 8
modules:
    enhance_model: !ref <enhance_model>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        enhance_model: !ref <enhance_model>
"""


def test_speechbrain_interface_outputs_are_brought_to_the_input_rate_and_length(tmp_path):
    """SpeechBrain's WaveformEnhancement (a tiny untrained EnhanceResnet) writes
    16 kHz audio of its own length; the runner makes it match the input."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "hyperparams.yaml").write_text(WAVEFORM_YAML)
    net = load_hyperpyyaml(WAVEFORM_YAML)["enhance_model"]
    torch.save(net.state_dict(), model / "enhance_model.ckpt")
    enhancer = load_enhancer("waveform", str(model), savedir=str(tmp_path / "save"))
    noisy = _write(tmp_path / "in.wav", _noisy(_speech(), 5.0)[:12345] * 0.5, rate=22050)
    bad = str(tmp_path / "bad.wav")
    open(bad, "wb").write(b"not audio")
    written, failures = enhance_files(enhancer, [noisy, bad], str(tmp_path / "out"))
    info = sf.info(written[noisy])
    assert (info.samplerate, info.frames) == (22050, 12345)
    assert len(failures) == 1 and failures[0].startswith(bad + ": ")
    assert not conform(written[noisy], 22050, 12345)  # already matching: untouched


def test_without_csv_or_output_nothing_is_written_to_the_current_folder(
    tmp_path, monkeypatch, capsys
):
    clean, enhanced = tmp_path / "clean", tmp_path / "enh"
    for folder in (clean, enhanced):
        folder.mkdir()
        _write(folder / "a.wav", _speech()[:8000])
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    assert E.main(["--clean-dir", str(clean), "--enhanced-dir", str(enhanced)]) == 0
    assert os.listdir(work) == []
    assert "per-file scores: not written (--csv FILE)" in capsys.readouterr().out


def test_scoring_without_the_eval_extra_names_the_package(monkeypatch):
    """pip install . (no extras) enhances; scoring then says what to install."""
    import importlib

    from diffgmm_sb.evaluation import metrics

    real = importlib.import_module

    def no_pesq(name, *args):
        if name == "pesq":
            raise ImportError("No module named 'pesq'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_pesq)
    wav = torch.randn(1, 16000) * 0.1
    with pytest.raises(ImportError, match=r"pip install pesq \(the \[eval\] extra\)"):
        metrics.pesq_wb(wav, wav)
    assert float(metrics.si_sdr(wav, wav)[0]) > 100  # no pesq needed
