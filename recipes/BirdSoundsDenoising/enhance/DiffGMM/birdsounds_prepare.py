"""Data preparation for BirdSoundsDenoising (Zhang & Li, WACV 2023), offline.

The dataset (Zenodo, doi:10.5281/zenodo.7191406; also on Kaggle) is assumed
laid out as its authors describe it, one folder per split, each with the
noisy field recordings, the denoised references made from the labelled masks,
the spectrogram images and the masks::

    <data_folder>/
        Train/  Raw_audios/<name>.wav       noisy recordings
                Denoised_audios/<name>.wav  references (clean)
                Images/, Masks/             not used here
        Valid/  (same)
        Test/   (same)

Split folders are found by name, case-insensitively (``train``/``training``,
``valid``/``validation``/``val``, ``test``/``testing``); the noisy and clean
folder names are arguments. Noisy and clean files are matched on file names
(the name without extension); a file without a partner is an error. The
published audio is not always ready to pair sample by sample, so a pair is
written once, as mono 16-bit WAV at ``sample_rate``, into
``<split>/Raw_audios_16k/`` and ``<split>/Denoised_audios_16k/`` (the suffix
follows the rate) when any of these holds:

* a rate other than ``sample_rate`` (resampled);
* more than one channel: a name ending in ``_left`` / ``_right`` keeps that
  channel (the dataset names the channel its mask was drawn on so), other
  files are averaged;
* a reference shorter or longer than its noisy file (the inverse STFT that
  made it drops or adds a few samples): it is zero-padded or cut to the
  noisy file's length, as the authors' scoring script does.

Writes ``train.json``, ``valid.json`` and ``test.json`` in SpeechBrain's
enhancement format (``noisy_wav``, ``clean_wav``, ``length`` in seconds;
paths start with ``{data_root}``).

Authors
 * diffgmm-sb developers 2026
"""

import os

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
MANIFESTS = {"train": "train.json", "valid": "valid.json", "test": "test.json"}
SPLIT_NAMES = {
    "train": ("train", "training"),
    "valid": ("valid", "validation", "val"),
    "test": ("test", "testing"),
}
AUDIO_EXTENSIONS = (".wav", ".flac")


def prepare_birdsounds(
    data_folder,
    save_folder,
    sample_rate=16000,
    noisy_folder="Raw_audios",
    clean_folder="Denoised_audios",
    skip_prep=False,
):
    """Writes the train/valid/test manifests of BirdSoundsDenoising (once).

    Arguments
    ---------
    data_folder : str
        The dataset's root folder (holding the split folders).
    save_folder : str
        Where ``train.json``, ``valid.json`` and ``test.json`` go.
    sample_rate : int
        Rate of the audio the manifests point to.
    noisy_folder, clean_folder : str
        Names of the noisy and clean folders inside each split folder.
    skip_prep : bool
        Do nothing (manifests made elsewhere).

    Example
    -------
    >>> prepare_birdsounds("/nonexistent", "/tmp/birds")
    Traceback (most recent call last):
    ...
    diffgmm_sb.data.manifests.ManifestError: /nonexistent: no such folder
    """
    if skip_prep:
        return
    options = {
        "data_folder": os.path.abspath(data_folder),
        "sample_rate": sample_rate,
        "noisy_folder": noisy_folder,
        "clean_folder": clean_folder,
    }
    if preparation_done(save_folder, MANIFESTS.values(), options):
        logger.info("BirdSounds manifests found in %s, preparation skipped", save_folder)
        return
    if not os.path.isdir(data_folder):
        raise ManifestError(f"{data_folder}: no such folder")
    splits = split_folders(data_folder)
    counts = {}
    for split, folder in splits.items():
        entries = split_entries(
            data_folder, folder, noisy_folder, clean_folder, sample_rate
        )
        write_manifest(entries, os.path.join(save_folder, MANIFESTS[split]))
        counts[split] = len(entries)
    mark_prepared(save_folder, options)
    logger.info("BirdSounds manifests in %s: %s", save_folder, counts)


def split_folders(data_folder):
    """``{split: folder}`` for train, valid and test, found by name (any case)."""
    found = {}
    subfolders = sorted(
        d for d in os.listdir(data_folder) if os.path.isdir(os.path.join(data_folder, d))
    )
    for split, names in SPLIT_NAMES.items():
        matches = [d for d in subfolders if d.lower() in names]
        if len(matches) != 1:
            raise ManifestError(
                f"{data_folder}: expected one {split} folder (named one of "
                f"{', '.join(names)}, any case), found {matches or 'none'} among "
                f"{subfolders or 'no subfolders'}"
            )
        found[split] = os.path.join(data_folder, matches[0])
    return found


def _audio_files(folder):
    if not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        raise ManifestError(
            f"{folder}: no such folder (found {sorted(os.listdir(parent))} in {parent})"
        )
    files = {}
    for name in sorted(os.listdir(folder)):
        stem, ext = os.path.splitext(name)
        if ext.lower() in AUDIO_EXTENSIONS:
            files[stem] = os.path.join(folder, name)
    return files


def _channel(stem):
    """The channel a ``_left`` / ``_right`` name asks for (None: average all)."""
    for suffix, channel in (("_left", 0), ("_right", 1)):
        if stem.lower().endswith(suffix):
            return channel
    return None


def split_entries(data_folder, split_folder, noisy_folder, clean_folder, sample_rate):
    """Manifest entries of one split, writing normalised copies where needed."""
    noisy_dir = os.path.join(split_folder, noisy_folder)
    clean_dir = os.path.join(split_folder, clean_folder)
    noisy, clean = _audio_files(noisy_dir), _audio_files(clean_dir)
    unpaired = [f"{noisy[s]}: no partner in {clean_dir}" for s in noisy if s not in clean]
    unpaired += [f"{clean[s]}: no partner in {noisy_dir}" for s in clean if s not in noisy]
    if unpaired:
        shown = "\n  ".join(unpaired[:20])
        more = f"\n  ... and {len(unpaired) - 20} more" if len(unpaired) > 20 else ""
        raise ManifestError(
            f"{split_folder}: {len(unpaired)} file(s) not matched by name:\n  {shown}{more}"
        )
    if not noisy:
        raise ManifestError(f"{noisy_dir}: no audio files")
    suffix = f"_{sample_rate // 1000}k"
    entries = {}
    for stem in sorted(noisy):
        paths = [noisy[stem], clean[stem]]
        infos = [sf.info(p) for p in paths]
        ready = (
            all(p.lower().endswith(".wav") for p in paths)
            and all(i.samplerate == sample_rate and i.channels == 1 for i in infos)
            and infos[0].frames == infos[1].frames
        )
        if ready:
            frames = infos[0].frames
        else:
            paths = [
                os.path.join(noisy_dir + suffix, f"{stem}.wav"),
                os.path.join(clean_dir + suffix, f"{stem}.wav"),
            ]
            frames = _normalise_pair(noisy[stem], clean[stem], paths, sample_rate, stem)
        entries[stem] = {
            "noisy_wav": "{data_root}/" + os.path.relpath(paths[0], data_folder),
            "clean_wav": "{data_root}/" + os.path.relpath(paths[1], data_folder),
            "length": frames / sample_rate,
        }
    return entries


def _normalise_pair(noisy_src, clean_src, paths, sample_rate, stem):
    """Writes the pair's mono copies at ``sample_rate`` (once); their length."""
    if all(os.path.isfile(p) for p in paths):  # written by an earlier run
        frames = [sf.info(p).frames for p in paths]
        if frames[0] == frames[1]:
            return frames[0]
    channel = _channel(stem)
    noisy_channel = channel if sf.info(noisy_src).channels > 1 else None
    clean_channel = channel if sf.info(clean_src).channels > 1 else None
    frames = write_normalised(noisy_src, paths[0], sample_rate, noisy_channel)
    write_normalised(clean_src, paths[1], sample_rate, clean_channel, length=frames)
    return frames
