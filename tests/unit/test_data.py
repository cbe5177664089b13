"""Manifests, pipelines, on-the-fly mixing and the Debian source reader."""

import io
import os
import tarfile

import numpy as np
import pytest
import soundfile as sf
import torch
from fixture_corpus import make_corpus

from diffgmm_sb.data import starter_corpus
from diffgmm_sb.data.debian_sources import SourceUnavailable, extract_members, fetch_package
from diffgmm_sb.data.manifests import (
    ManifestError,
    dataio_prep,
    load_manifest,
    write_pairs_manifest,
)


def _hparams(folder):
    return {
        "data_folder": folder,
        "train_annotation": os.path.join(folder, "train.json"),
        "valid_annotation": os.path.join(folder, "valid.json"),
        "test_annotation": os.path.join(folder, "test.json"),
        "noise_annotation": os.path.join(folder, "noise_train.json"),
        "segment_seconds": 0.5,
        "sample_rate": 16000,
        "train_snr_range": [0.0, 5.0],
    }


def test_dynamic_mixing_gives_segments_at_the_asked_snr(tmp_path):
    datasets = dataio_prep(_hparams(make_corpus(str(tmp_path))))
    for item in list(datasets["train"])[:6]:
        noisy, clean = item["noisy_sig"], item["clean_sig"]
        assert noisy.shape == clean.shape == (8000,)
        snr = 10 * torch.log10(clean.pow(2).sum() / (noisy - clean).pow(2).sum())
        assert -0.01 <= float(snr) <= 5.01


def test_eval_pairs_are_whole_utterances(tmp_path):
    datasets = dataio_prep(_hparams(make_corpus(str(tmp_path))))
    item = datasets["test"][0]
    assert item["noisy_sig"].shape == item["clean_sig"].shape == (24000,)


def test_missing_manifest_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(ManifestError, match="train.json not found.*data_folder"):
        load_manifest(str(tmp_path / "train.json"), str(tmp_path))


def test_pairs_manifest_reports_unpaired_and_wrong_rate(tmp_path):
    for sub in ("noisy", "clean"):
        (tmp_path / sub).mkdir()
    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / "noisy" / name, np.zeros(1600), 16000)
    sf.write(tmp_path / "clean" / "a.wav", np.zeros(1600), 16000)
    with pytest.raises(ManifestError, match="noisy/b.wav: file without a partner"):
        write_pairs_manifest(str(tmp_path), str(tmp_path / "m.json"))
    sf.write(tmp_path / "clean" / "b.wav", np.zeros(1600), 8000)
    with pytest.raises(ManifestError, match="b.wav: sample rate 8000"):
        write_pairs_manifest(str(tmp_path), str(tmp_path / "m.json"))
    sf.write(tmp_path / "clean" / "b.wav", np.zeros(1600), 16000)
    assert write_pairs_manifest(str(tmp_path), str(tmp_path / "m.json")) == 2


def _fake_deb(path, files):
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w:xz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    members = [(b"debian-binary", b"2.0\n"), (b"data.tar.xz", payload.getvalue())]
    with open(path, "wb") as f:
        f.write(b"!<arch>\n")
        for name, data in members:
            header = name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) * 2
            header += b"100644".ljust(8) + str(len(data)).encode().ljust(10) + b"`\n"
            f.write(header + data + (b"\n" if len(data) % 2 else b""))


def test_extract_members_reads_a_debian_package(tmp_path):
    deb = tmp_path / "pkg_1.0_all.deb"
    _fake_deb(deb, {"usr/share/a/x.wav": b"xx", "usr/share/b/y.txt": b"y"})
    out = extract_members(str(deb), ["usr/share/a/*.wav"], str(tmp_path / "out"))
    assert out == [str(tmp_path / "out" / "usr/share/a/x.wav")]
    assert fetch_package("pkg", str(tmp_path)) == str(deb)  # cached: no download


def test_fetch_without_apt_names_package_and_way_out(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(SourceUnavailable, match="'no-such-pkg'.*data_folder"):
        fetch_package("no-such-pkg", str(tmp_path))


def test_noise_split_is_disjoint_and_covers_every_category():
    items = [(f"a{i}", np.ones(100), "crowd") for i in range(6)]
    items += [("w", np.arange(100.0), "wind")]
    split = list(starter_corpus._split_noise(items))
    crowd = [(s, it[0]) for s, it in split if it[2] == "crowd"]
    assert {n for s, n in crowd if s == "heldout"} == {"a1", "a4"}
    wind = {s: it[1] for s, it in split if it[2] == "wind"}
    assert len(wind["train"]) == 75 and len(wind["heldout"]) == 25
    assert wind["train"][-1] < wind["heldout"][0]


def test_trim_silence_keeps_the_loud_part():
    wav = np.concatenate([np.zeros(4000), np.ones(4000), np.zeros(4000)])
    trimmed = starter_corpus._trim_silence(wav)
    assert len(trimmed) == 4000 and trimmed.min() == 1.0


def _ogg_bytes(wav, rate=44100):
    buf = io.BytesIO()
    sf.write(buf, wav, rate, format="OGG", subtype="VORBIS")
    return buf.getvalue()


def test_klettres_keeps_clean_takes_only(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(44100) / 44100
    voiced = 0.3 * np.sin(2 * np.pi * 220 * t) * (t > 0.3) * (t < 0.8)
    takes = {
        "de/alpha/A.ogg": voiced,  # clean: kept
        "de/alpha/B.ogg": voiced + rng.normal(0, 0.03, t.size),  # hissy
        "de/alpha/C.ogg": np.clip(voiced * 10, -1, 1),  # clipped
        "xx/alpha/D.ogg": voiced,  # a language folder not in KLETTRES_VOICES
    }
    cache = tmp_path / "cache"
    (cache / "debs").mkdir(parents=True)
    members = {f"usr/share/klettres/{name}": _ogg_bytes(w) for name, w in takes.items()}
    members["usr/share/klettres/de/alpha/E.ogg"] = b"OggS, then no stream"  # undecodable
    _fake_deb(cache / "debs" / "klettres-data_1.0_all.deb", members)
    skipped = []
    records = list(
        starter_corpus._klettres_speech(str(tmp_path / "data"), str(cache), skipped)
    )
    assert [r["id"] for r in records] == ["klettres_de_de_alpha_A"]
    assert len(skipped) == 1 and "E.ogg: cannot decode audio" in skipped[0]
    summary = starter_corpus.skipped_summary(skipped)
    assert "klettres/de/alpha: 1 file(s), e.g. E.ogg: cannot decode audio" in summary
    record = records[0]
    assert record["spk_id"] == "klettres_de" and record["licence"] == "GPL-2+"
    assert record["source"] == "klettres-data:de/alpha/A.ogg"
    assert 0.4 < record["length"] < 0.7  # silence trimmed
    path = record["clean_wav"].format(data_root=str(tmp_path / "data"))
    assert sf.info(path).samplerate == 16000


def test_a_second_noise_keeps_mixing_at_the_asked_snr(tmp_path):
    hparams = _hparams(make_corpus(str(tmp_path))) | {"second_noise_prob": 1.0}
    datasets = dataio_prep(hparams)
    for item in list(datasets["train"])[:6]:
        noisy, clean = item["noisy_sig"], item["clean_sig"]
        snr = 10 * torch.log10(clean.pow(2).sum() / (noisy - clean).pow(2).sum())
        assert -0.01 <= float(snr) <= 5.01
