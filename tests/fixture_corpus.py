"""Builds a tiny corpus in SpeechBrain manifest form from the committed fixture audio."""

import glob
import json
import os

import numpy as np
import soundfile as sf

from diffgmm_sb.data.audio import fit_length, mix_at_snr, write_wav

AUDIO = os.path.join(os.path.dirname(__file__), "fixtures", "audio")


def _read(path):
    wav, _ = sf.read(path, dtype="float32")
    return wav


def make_corpus(folder, snr_db=5.0, seed=0):
    """Writes train (clean only), noise, valid and test manifests under ``folder``.

    Returns the folder. Valid/test pairs mix the fixture voices with the
    fixture noises at ``snr_db``.
    """
    rng = np.random.default_rng(seed)
    noises = sorted(glob.glob(os.path.join(AUDIO, "noise_*.wav")))
    train = {}
    for path in sorted(
        glob.glob(os.path.join(AUDIO, "allison_*.wav"))
        + glob.glob(os.path.join(AUDIO, "carlo_*.wav"))
    ):
        uid = os.path.splitext(os.path.basename(path))[0]
        train[uid] = {"clean_wav": path, "length": len(_read(path)) / 16000}
    noise = {
        os.path.splitext(os.path.basename(p))[0]: {
            "noise_wav": p,
            "length": len(_read(p)) / 16000,
            "category": os.path.basename(p)[6:-4],
        }
        for p in noises
    }
    manifests = {"train.json": train, "noise_train.json": noise}
    for split, speaker in (("valid", "june"), ("test", "ivrvoice")):
        entries = {}
        for i, path in enumerate(
            sorted(glob.glob(os.path.join(AUDIO, f"{speaker}_*.wav")))
        ):
            uid = os.path.splitext(os.path.basename(path))[0]
            clean = _read(path)
            n = fit_length(_read(noises[i % len(noises)]), len(clean), rng)
            noisy, clean = mix_at_snr(clean, n, snr_db)
            for kind, wav in (("noisy", noisy), ("clean", clean)):
                write_wav(os.path.join(folder, split, kind, uid + ".wav"), wav)
            entries[uid] = {
                "noisy_wav": "{data_root}/" + f"{split}/noisy/{uid}.wav",
                "clean_wav": "{data_root}/" + f"{split}/clean/{uid}.wav",
                "length": len(clean) / 16000,
            }
        manifests[f"{split}.json"] = entries
    for name, entries in manifests.items():
        with open(os.path.join(folder, name), "w") as f:
            json.dump(entries, f, indent=2)
    return folder
