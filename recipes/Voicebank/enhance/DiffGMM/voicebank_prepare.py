"""Data preparation for VoiceBank-DEMAND (Valentini-Botinhao 2017), offline.

Writes ``train.json``, ``valid.json`` and ``test.json`` into ``save_folder``
in the format of SpeechBrain's ``recipes/Voicebank/voicebank_prepare.py``::

    {"p226_001": {
        "noisy_wav": "{data_root}/noisy_trainset_28spk_wav_16k/p226_001.wav",
        "clean_wav": "{data_root}/clean_trainset_28spk_wav_16k/p226_001.wav",
        "length": 2.43,
        "words": "..."}}

The validation set holds every utterance of two training speakers (p226 and
p287, as SpeechBrain's does), the training set the other 26 speakers, and the
test set the official test set (p232 and p257, 824 utterances).

``data_folder`` holds the official folders, either at 16 kHz
(``clean_trainset_28spk_wav_16k``, ``noisy_trainset_28spk_wav_16k``,
``clean_testset_wav_16k``, ``noisy_testset_wav_16k``, as SpeechBrain's
download script writes them) or the 48 kHz originals (the same names without
``_16k``), which are resampled once into ``_16k`` folders next to them.
Transcripts (``trainset_28spk_txt/``, ``testset_txt/``), when present, become
``words`` (upper case, punctuation removed). Unlike SpeechBrain's preparation,
no lexicon is downloaded and no ``phones`` are written: nothing here needs the
network.

Authors
 * diffgmm-sb developers 2026
"""

import os
import re
import shutil

import soundfile as sf
from speechbrain.utils.logger import get_logger

from diffgmm_sb.data.manifests import ManifestError
from diffgmm_sb.data.prepare import (
    mark_prepared,
    preparation_done,
    write_manifest,
    write_normalised,
)

logger = get_logger(__name__)
SAMPLE_RATE = 16000
MANIFESTS = ("train.json", "valid.json", "test.json")
# Set -> (noisy folder, clean folder, transcript folder), 48 kHz names.
FOLDERS = {
    "train": ("noisy_trainset_28spk_wav", "clean_trainset_28spk_wav", "trainset_28spk_txt"),
    "test": ("noisy_testset_wav", "clean_testset_wav", "testset_txt"),
}
VALID_SPEAKERS = ("p226", "p287")


def prepare_voicebank(
    data_folder, save_folder, valid_speakers=VALID_SPEAKERS, skip_prep=False
):
    """Writes the train/valid/test manifests of VoiceBank-DEMAND (once).

    Arguments
    ---------
    data_folder : str
        Folder with the official VoiceBank-DEMAND folders (16 kHz or 48 kHz).
    save_folder : str
        Where ``train.json``, ``valid.json`` and ``test.json`` go.
    valid_speakers : sequence of str
        Training speakers held out for validation.
    skip_prep : bool
        Do nothing (manifests made elsewhere).

    Example
    -------
    >>> prepare_voicebank("/nonexistent", "/tmp/vb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    diffgmm_sb.data.manifests.ManifestError: /nonexistent: neither noisy_trainset_28spk_wav_16k/ nor noisy_trainset_28spk_wav/ ...
    """
    if skip_prep:
        return
    options = {
        "data_folder": os.path.abspath(data_folder),
        "valid_speakers": list(valid_speakers),
        "sample_rate": SAMPLE_RATE,
    }
    if preparation_done(save_folder, MANIFESTS, options):
        logger.info("VoiceBank manifests found in %s, preparation skipped", save_folder)
        return
    sets = {}
    for name, (noisy, clean, text) in FOLDERS.items():
        noisy_dir = folder_16k(data_folder, noisy)
        clean_dir = folder_16k(data_folder, clean)
        sets[name] = pair_entries(
            data_folder, noisy_dir, clean_dir, os.path.join(data_folder, text)
        )
    train, valid = {}, {}
    for uid, entry in sets["train"].items():
        (valid if uid.split("_")[0] in valid_speakers else train)[uid] = entry
    if not valid or not train:
        raise ManifestError(
            f"{data_folder}: validation speakers {', '.join(valid_speakers)} leave "
            f"{len(train)} training and {len(valid)} validation utterances"
        )
    for manifest, entries in zip(MANIFESTS, (train, valid, sets["test"])):
        write_manifest(entries, os.path.join(save_folder, manifest))
    mark_prepared(save_folder, options)
    logger.info(
        "VoiceBank manifests in %s: %d train, %d valid, %d test utterances",
        save_folder,
        len(train),
        len(valid),
        len(sets["test"]),
    )


def folder_16k(data_folder, name):
    """``<name>_16k`` in ``data_folder``, made once from the 48 kHz ``<name>`` if absent.

    The resampled folder is written under a temporary name and renamed when
    complete, so an interrupted run starts over instead of using half of it.
    """
    target = os.path.join(data_folder, f"{name}_16k")
    if os.path.isdir(target):
        return target
    original = os.path.join(data_folder, name)
    if not os.path.isdir(original):
        raise ManifestError(
            f"{data_folder}: neither {name}_16k/ nor {name}/ (the 48 kHz original) "
            "found; set data_folder to the folder holding the official "
            "VoiceBank-DEMAND folders"
        )
    logger.info("Resampling %s to %d Hz into %s (once)", original, SAMPLE_RATE, target)
    partial = target + ".part"
    shutil.rmtree(partial, ignore_errors=True)
    for file in sorted(os.listdir(original)):
        if file.lower().endswith(".wav"):
            src = os.path.join(original, file)
            write_normalised(src, os.path.join(partial, file), SAMPLE_RATE)
    os.replace(partial, target)
    return target


def _words(text_folder, uid):
    path = os.path.join(text_folder, f"{uid}.txt")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        words = re.sub(r"[^A-Z0-9' ]", " ", f.read().upper())
    return " ".join(words.split())


def pair_entries(data_folder, noisy_dir, clean_dir, text_folder):
    """Manifest entries of the WAVs of ``noisy_dir`` and their partners in ``clean_dir``.

    Raises
    ------
    ManifestError
        Listing files without a partner, at another rate than 16 kHz, or of
        different lengths.
    """
    names = {}
    for folder in (noisy_dir, clean_dir):
        names[folder] = {f for f in os.listdir(folder) if f.lower().endswith(".wav")}
    if not names[noisy_dir]:
        raise ManifestError(f"{noisy_dir}: no WAV files")
    problems = [
        f"{os.path.join(folder, f)}: no partner in {other}"
        for folder, other in ((noisy_dir, clean_dir), (clean_dir, noisy_dir))
        for f in sorted(names[folder] - names[other])
    ]
    entries = {}
    for file in sorted(names[noisy_dir] & names[clean_dir]):
        paths = [os.path.join(noisy_dir, file), os.path.join(clean_dir, file)]
        infos = [sf.info(p) for p in paths]
        problems += [
            f"{p}: {i.samplerate} Hz, expected {SAMPLE_RATE} Hz"
            for p, i in zip(paths, infos)
            if i.samplerate != SAMPLE_RATE
        ]
        if infos[0].frames != infos[1].frames:
            problems.append(
                f"{paths[0]}: {infos[0].frames} samples, its clean partner {infos[1].frames}"
            )
        uid = os.path.splitext(file)[0]
        entries[uid] = {
            "noisy_wav": "{data_root}/" + os.path.relpath(paths[0], data_folder),
            "clean_wav": "{data_root}/" + os.path.relpath(paths[1], data_folder),
            "length": infos[0].frames / SAMPLE_RATE,
        }
        words = _words(text_folder, uid)
        if words is not None:
            entries[uid]["words"] = words
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ManifestError(f"{noisy_dir}: {len(problems)} problem(s):\n  {shown}{more}")
    return entries
