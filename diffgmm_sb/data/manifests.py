"""Datasets and audio pipelines for DiffGMM training and evaluation.

Manifests follow SpeechBrain's enhancement recipes (``voicebank_prepare``):
one JSON entry per utterance with ``noisy_wav``, ``clean_wav`` and ``length``
(seconds), paths optionally starting with ``{data_root}``. Training can also
mix on the fly: a training manifest with ``clean_wav`` only is paired, at
every draw, with a random excerpt of a noise file from ``noise_annotation``
at a random SNR, so a small corpus yields endless distinct mixtures.

``dataio_prep`` checks every manifest before training starts: each file must
exist, be readable, hold samples at the model's rate, and each noisy file
must have a clean partner of the same length. All problems are collected
and reported together in one ``ManifestError``, so a broken corpus stops the
run at once with the full list instead of failing mid-epoch.

Authors
 * diffgmm-sb developers 2026
"""

import json
import os
import random

import soundfile as sf
import speechbrain as sb
from speechbrain.dataio.dataset import DynamicItemDataset

from diffgmm_sb.data.audio import AudioError, read_mono, read_pair
from diffgmm_sb.data.augment import NoisyMixer
from diffgmm_sb.data.prepare import write_manifest

# Problems listed in full in a ManifestError before the rest are counted.
MAX_LISTED_PROBLEMS = 50


class ManifestError(AudioError):
    """A manifest or the data it points to is missing or malformed."""


def _problem_list(what, problems):
    """A ManifestError message listing ``problems`` (the first 50 in full)."""
    lines = [f"  - {p}" for p in problems[:MAX_LISTED_PROBLEMS]]
    if len(problems) > MAX_LISTED_PROBLEMS:
        lines.append(f"  ... and {len(problems) - MAX_LISTED_PROBLEMS} more")
    return f"{what}: {len(problems)} problem(s):\n" + "\n".join(lines)


def probe_audio(path, sample_rate):
    """Frame count of an audio file, or the one-line problem that rules it out.

    Reads the header only (cheap enough for every file of a corpus).

    Returns
    -------
    frames : int or None
        Number of frames when the file is usable.
    problem : str or None
        What is wrong, naming the file.

    Example
    -------
    >>> probe_audio("/nonexistent.wav", 16000)
    (None, '/nonexistent.wav: no such file')
    """
    if not os.path.isfile(path):
        return None, f"{path}: no such file"
    try:
        info = sf.info(path)
    except Exception as err:  # soundfile raises many kinds
        detail = getattr(err, "error_string", None) or str(err)
        return None, f"{path}: cannot read audio ({detail})"
    if info.frames <= 0:
        return None, f"{path}: the file holds no audio samples"
    if info.samplerate != sample_rate:
        return None, (
            f"{path}: sample rate {info.samplerate} Hz, expected {sample_rate} Hz "
            "(resample it first)"
        )
    return info.frames, None


def check_pair(noisy_wav, clean_wav, sample_rate):
    """Problems of a noisy/clean pair: each file usable, both the same length.

    Returns
    -------
    frames : int or None
        The pair's length when usable.
    problems : list of str
    """
    (noisy, p1), (clean, p2) = (
        probe_audio(noisy_wav, sample_rate),
        probe_audio(clean_wav, sample_rate),
    )
    problems = [p for p in (p1, p2) if p]
    if not problems and noisy != clean:
        problems.append(
            f"{noisy_wav} and {clean_wav} differ in length ({noisy} vs {clean} frames)"
        )
    return (None if problems else noisy), problems


def check_manifest(
    path, data_folder, sample_rate, keys=("noisy_wav", "clean_wav"), require_all=False
):
    """Lists every problem of a manifest's entries (files and pairs).

    Entries need each of ``keys`` (all of them with ``require_all``, else
    those present in the manifest's first entry); pairs are checked with
    ``check_pair``, single files with ``probe_audio``.

    Returns
    -------
    list of str
        One line per problem, naming the entry and the file.
    """
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError) as err:
        return [f"{path}: not a readable JSON manifest ({err})"]
    if not isinstance(entries, dict) or not entries:
        return [f"{path}: has no entries"]
    first = next(iter(entries.values()))
    present = list(keys) if require_all else [k for k in keys if k in first]
    if not present:
        return [f"{path}: entries have none of {', '.join(keys)}"]
    problems = []
    for uid, entry in entries.items():
        lacking = [k for k in present if not isinstance(entry.get(k), str)]
        if lacking:
            problems.append(f"{path}: entry {uid} has no {', '.join(lacking)}")
            continue
        files = [entry[k].replace("{data_root}", data_folder) for k in present]
        if len(files) == 2:
            problems += check_pair(*files, sample_rate)[1]
        else:
            problems += [p for p in [probe_audio(files[0], sample_rate)[1]] if p]
    return problems


def random_crop(length, segment_samples):
    """Start and stop of a random ``segment_samples`` window in ``length``.

    Example
    -------
    >>> random_crop(100, 200)
    (0, 100)
    >>> start, stop = random_crop(1000, 200)
    >>> stop - start
    200
    """
    if segment_samples is None or length <= segment_samples:
        return 0, length
    start = random.randint(0, length - segment_samples)
    return start, start + segment_samples


def load_manifest(path, data_folder):
    """``DynamicItemDataset`` of a JSON manifest, with a clear error if absent."""
    if not os.path.isfile(path):
        raise ManifestError(
            f"manifest {path} not found. Run the preparation step, or set "
            "data_folder (and the *_annotation keys) to your own data: JSON "
            "entries with 'noisy_wav', 'clean_wav' and 'length' (seconds)."
        )
    return DynamicItemDataset.from_json(path, replacements={"data_root": data_folder})


def write_pairs_manifest(folder, json_path, sample_rate=16000):
    """Writes a manifest for ``folder/noisy/*.wav`` paired with ``folder/clean/``.

    Returns the number of pairs. Raises ManifestError listing every problem
    at once: files without a partner, unreadable or empty files, wrong sample
    rates, and pairs of different lengths.
    """
    noisy_dir, clean_dir = os.path.join(folder, "noisy"), os.path.join(folder, "clean")
    names = {
        d: sorted(f for f in os.listdir(d) if f.lower().endswith(".wav"))
        for d in (noisy_dir, clean_dir)
        if os.path.isdir(d)
    }
    if len(names) != 2 or not names[noisy_dir]:
        raise ManifestError(f"{folder}: expected WAV files in noisy/ and clean/")
    problems = [
        f"{os.path.join(noisy_dir if n in names[noisy_dir] else clean_dir, n)}: "
        "file without a partner"
        for n in sorted(set(names[noisy_dir]) ^ set(names[clean_dir]))
    ]
    entries = {}
    for name in sorted(set(names[noisy_dir]) & set(names[clean_dir])):
        noisy, clean = os.path.join(noisy_dir, name), os.path.join(clean_dir, name)
        frames, pair_problems = check_pair(noisy, clean, sample_rate)
        problems += pair_problems
        entries[os.path.splitext(name)[0]] = {
            "noisy_wav": os.path.abspath(noisy),
            "clean_wav": os.path.abspath(clean),
            "length": (frames or 0) / sample_rate,
        }
    if problems:
        raise ManifestError(_problem_list(folder, problems))
    write_manifest(entries, json_path)
    return len(entries)


# Keys of the recipe passed to ``NoisyMixer`` (0.0 when absent).
MIXING_PROBABILITIES = (
    "second_noise_prob",
    "noise_speed_prob",
    "noise_eq_prob",
    "reverb_prob",
    "bandlimit_prob",
)


def _has_noisy(path):
    with open(path) as f:
        entries = json.load(f)
    if not entries:
        raise ManifestError(f"manifest {path} has no entries")
    return "noisy_wav" in next(iter(entries.values()))


def _noise_pool(path, data_folder):
    """Noise waveforms grouped by category (drawn category first, then file)."""
    with open(path) as f:
        entries = json.load(f)
    if not entries:
        raise ManifestError(f"noise manifest {path} has no entries")
    pool = {}
    for entry in entries.values():
        noise_path = entry["noise_wav"].format(data_root=data_folder)
        pool.setdefault(entry.get("category", "noise"), []).append(read_mono(noise_path)[0])
    return list(pool.values())


@sb.utils.data_pipeline.takes("noisy_wav", "clean_wav")
@sb.utils.data_pipeline.provides("noisy_sig", "clean_sig")
def _pair_pipeline(noisy_wav, clean_wav):
    noisy, clean, _ = read_pair(noisy_wav, clean_wav)
    yield noisy
    yield clean


def pair_dataset(dataset):
    """Adds the whole-utterance noisy/clean pipeline to an evaluation dataset."""
    dataset.add_dynamic_item(_pair_pipeline)
    dataset.set_output_keys(["id", "noisy_sig", "clean_sig"])
    return dataset


def check_corpus(hparams):
    """Checks the train/valid/test manifests (and the noise one when mixing).

    Raises
    ------
    ManifestError
        Listing every missing, unreadable, empty, wrong-rate or unpaired file.
    """
    rate, folder = hparams["sample_rate"], hparams["data_folder"]
    problems = []
    for split in ("train", "valid", "test"):
        problems += check_manifest(
            hparams[f"{split}_annotation"], folder, rate, require_all=split != "train"
        )
    try:
        mixing = not _has_noisy(hparams["train_annotation"])
    except (ManifestError, OSError, ValueError):
        mixing = False  # the train manifest's own problem is listed already
    if mixing:
        noise = hparams["noise_annotation"]
        if not os.path.isfile(noise):
            problems.append(f"noise manifest {noise} not found (needed for mixing)")
        else:
            problems += check_manifest(noise, folder, rate, keys=("noise_wav",))
    if problems:
        raise ManifestError(_problem_list("the data set is not usable", problems))


def dataio_prep(hparams):
    """Creates the train/valid/test datasets named in ``hparams``.

    Keys used: ``data_folder``, ``train_annotation``, ``valid_annotation``,
    ``test_annotation``, ``noise_annotation`` (dynamic mixing only),
    ``segment_seconds``, ``sample_rate``, ``train_snr_range`` and
    the probabilities of ``diffgmm_sb.data.augment.NoisyMixer``
    (``MIXING_PROBABILITIES``), all for dynamic mixing only.
    """
    data_folder = hparams["data_folder"]
    segment = int(hparams["segment_seconds"] * hparams["sample_rate"])
    datasets = {}
    for split in ("train", "valid", "test"):
        datasets[split] = load_manifest(hparams[f"{split}_annotation"], data_folder)
    check_corpus(hparams)

    @sb.utils.data_pipeline.takes("noisy_wav", "clean_wav")
    @sb.utils.data_pipeline.provides("noisy_sig", "clean_sig")
    def train_pair_pipeline(noisy_wav, clean_wav):
        noisy, clean, _ = read_pair(noisy_wav, clean_wav)
        start, stop = random_crop(len(clean), segment)
        yield noisy[start:stop]
        yield clean[start:stop]

    pair_dataset(datasets["valid"])
    pair_dataset(datasets["test"])
    if _has_noisy(hparams["train_annotation"]):
        sb.dataio.dataset.add_dynamic_item([datasets["train"]], train_pair_pipeline)
    else:
        pool = _noise_pool(hparams["noise_annotation"], data_folder)
        mixer = NoisyMixer(
            pool,
            hparams["train_snr_range"],
            hparams["sample_rate"],
            **{key: hparams.get(key, 0.0) for key in MIXING_PROBABILITIES},
        )

        @sb.utils.data_pipeline.takes("clean_wav")
        @sb.utils.data_pipeline.provides("noisy_sig", "clean_sig")
        def mixing_pipeline(clean_wav):
            clean = read_mono(clean_wav)[0]
            start, stop = random_crop(len(clean), segment)
            clean = clean[start:stop]
            noisy, clean = mixer(clean)
            yield noisy
            yield clean

        sb.dataio.dataset.add_dynamic_item([datasets["train"]], mixing_pipeline)

    datasets["train"].set_output_keys(["id", "noisy_sig", "clean_sig"])
    return datasets


def speaker_weights(dataset, power):
    """Sampling weight of every entry: ``(utterances of its speaker) ** -power``.

    ``power = 0`` draws utterances uniformly, ``power = 1`` draws speakers
    uniformly; in between, speakers with many utterances are drawn less often
    per utterance. Entries without ``spk_id`` form one group.

    Example
    -------
    >>> data = {"a1": {"spk_id": "a"}, "a2": {"spk_id": "a"}, "b1": {"spk_id": "b"}}
    >>> speaker_weights(DynamicItemDataset(data), 1.0)
    [0.5, 0.5, 1.0]
    """
    speakers = [dataset.data[uid].get("spk_id") for uid in dataset.data_ids]
    counts = {}
    for spk in speakers:
        counts[spk] = counts.get(spk, 0) + 1
    return [counts[spk] ** -power for spk in speakers]
