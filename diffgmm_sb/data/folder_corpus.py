"""A training corpus from your own recordings, for machines without Debian's apt-get.

``prepare_folder_corpus`` builds the same manifests as the starter corpus
(``diffgmm_sb.data.starter_corpus``) from two folders of a user's own audio,
in any format and rate PyAV reads::

    python train.py hparams/diffgmm.yaml --own_corpus=DIR --data_folder=data/own

    DIR/speech/<speaker>/...   clean speech, one folder per speaker
    DIR/noise/<category>/...   noise recordings, one folder per kind of noise

Speakers are taken in name order: the last one is the test voice, the one
before it the validation voice, the others train. Noise is split per category
into training and held-out files as in the starter corpus (every third file,
or the last quarter of each file of a category with fewer than three), and
validation and test pairs mix the held-out voices with held-out noise at
0-15 dB SNR. Files that cannot be decoded are left out and counted at the end.

Authors
 * diffgmm-sb developers 2026
"""

import os

import numpy as np
from speechbrain.utils.logger import get_logger

from diffgmm_sb.data.audio import AudioError, decode
from diffgmm_sb.data.manifests import ManifestError
from diffgmm_sb.data.prepare import mark_prepared, preparation_done
from diffgmm_sb.data.starter_corpus import (
    MANIFESTS,
    SAMPLE_RATE,
    _speech_record,
    _split_noise,
    _trim_silence,
    _usable_speech,
    skipped_summary,
    write_corpus,
    write_noise,
)

logger = get_logger(__name__)


def _audio_files(folder):
    """Every file under ``folder``, sorted (hidden ones left out)."""
    return sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if not name.startswith(".")
    )


def _subfolders(folder):
    if not os.path.isdir(folder):
        raise ManifestError(f"{folder}: no such folder")
    return sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))


def prepare_folder_corpus(
    data_folder,
    corpus_folder,
    snr_range=(0.0, 15.0),
    num_valid=30,
    num_test=60,
    min_eval_seconds=1.5,
    seed=1234,
):
    """Builds the corpus of ``corpus_folder`` (``speech/``, ``noise/``) into ``data_folder``.

    Idempotent: a second call with the same arguments does nothing.

    Raises
    ------
    ManifestError
        When a folder is missing, there are fewer than three speakers, no
        usable noise, or ``data_folder`` already holds another corpus.
    """
    options = {"corpus_folder": os.path.abspath(corpus_folder), "seed": seed}
    options.update(snr_range=list(snr_range), num_valid=num_valid, num_test=num_test)
    if preparation_done(data_folder, MANIFESTS, options):
        return
    if any(os.path.exists(os.path.join(data_folder, m)) for m in MANIFESTS):
        raise ManifestError(
            f"{data_folder}: holds the manifests of another corpus; "
            "choose another --data_folder for this one"
        )
    speakers = _subfolders(os.path.join(corpus_folder, "speech"))
    categories = _subfolders(os.path.join(corpus_folder, "noise"))
    if len(speakers) < 3:
        raise ManifestError(
            f"{corpus_folder}/speech: {len(speakers)} speaker folder(s); three or more "
            "are needed (training, validation and test voices)"
        )
    skipped, by_speaker = [], {}
    for speaker in speakers:
        for path in _audio_files(os.path.join(corpus_folder, "speech", speaker)):
            try:
                wav = _trim_silence(decode(path, SAMPLE_RATE))
            except AudioError as err:
                skipped.append(str(err))
                continue
            if _usable_speech(wav):
                rel = os.path.relpath(path, corpus_folder)
                uid = f"{speaker}_" + os.path.splitext(rel)[0].replace(os.sep, "_")
                record = _speech_record(uid, wav, data_folder, speaker, rel, "own")
                by_speaker.setdefault(speaker, []).append(record)
    noise = []
    for category in categories:
        for path in _audio_files(os.path.join(corpus_folder, "noise", category)):
            try:
                wav = decode(path, SAMPLE_RATE)
            except AudioError as err:
                skipped.append(str(err))
                continue
            rel = os.path.relpath(path, corpus_folder)
            noise.append((rel.replace(os.sep, "_"), wav, category, rel, "own"))
    if not noise:
        raise ManifestError(f"{corpus_folder}/noise: no noise recordings")
    speaker_split = {
        "train": speakers[:-2],
        "valid": [speakers[-2]],
        "test": [speakers[-1]],
    }
    rng = np.random.default_rng(seed)
    records = write_noise(data_folder, _split_noise(noise))
    split = {"snr_range": snr_range, "num_valid": num_valid, "num_test": num_test}
    write_corpus(
        data_folder, by_speaker, speaker_split, records, rng, min_eval_seconds, **split
    )
    mark_prepared(data_folder, options)
    if skipped:
        logger.warning(
            "own corpus: built without %d file(s) that cannot be decoded, by folder:\n%s",
            len(skipped),
            skipped_summary(skipped),
        )
