"""The embedded default data: a small real-audio starter corpus.

``prepare_starter_corpus`` builds, offline of any data hub and idempotently,
SpeechBrain JSON manifests from real recordings that Debian distributes:

* clean speech: the Asterisk IVR prompts of four professional voice talents
  (``asterisk-core-sounds-{en,es,fr,it,ru}-g722``, 16 kHz G.722; CC BY-SA 3.0,
  Russian CC BY 3.0), split by speaker: training Allison Smith (en + es) and
  Carlo (it), validation June Wallack (fr), test the Russian voice; and, for
  training, the letters and syllables of KDE's KLettres (``klettres-data``,
  GPL-2+, 44.1 kHz), one voice set per language, clean takes only
  (``clean_enough``). ``speakers.json`` lists every voice with its split,
  credited reader, minutes, packages and licences;
* real recorded noise: 0 A.D.'s ambiences (``0ad-data``; crowds, farm,
  nature, rivers, waves, rain, wind, thunder; CC BY-SA 3.0), FlightGear's
  recorded engines, wind, rain, tyres and water (``flightgear-data-base``;
  GPL-2+), music on hold (``asterisk-moh-opsound-wav``; CC BY-SA 3.0) and
  keyboard clicks (``bucklespring-data``; GPL-2+), plus noise we generate
  (coloured, mains hum, modulated, typing).

Noise recordings are split into training and held-out files (each category
with three or more files gives every third file to the held-out set; smaller
categories are split in time), so validation and test mix unseen speakers with
unseen noise at SNRs drawn from ``snr_range``. Training pairs are mixed on the
fly (``diffgmm_sb.data.manifests``) from ``train.json`` (clean speech) and
``noise_train.json``.

Most of the build is xz decompression of the two big noise packages
(FlightGear, 0 A.D.: 1.3 and 1.4 GB); they are unpacked in background threads
(``lzma`` releases the GIL) while the speech is decoded. The corpus is the
same file for file; only the order of the work changes.

Authors
 * diffgmm-sb developers 2026
"""

import glob
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from speechbrain.utils.logger import get_logger

from diffgmm_sb.data import noise as synth
from diffgmm_sb.data.audio import AudioError, decode, fit_length, mix_at_snr, rms, write_wav
from diffgmm_sb.data.debian_sources import extract_members, fetch_package
from diffgmm_sb.data.prepare import write_manifest

logger = get_logger(__name__)
SAMPLE_RATE = 16000
MIN_SPEECH_RMS = 1e-3  # the packages' "silence/N" prompts are at about 1e-4
MANIFESTS = (
    "train.json",
    "valid.json",
    "test.json",
    "noise_train.json",
    "speakers.json",
    "noise.json",
)


@dataclass(frozen=True)
class SpeechSource:
    """Prompts of one voice talent inside one Debian package."""

    package: str
    pattern: str
    speaker: str
    licence: str
    reader: str = None  # the voice talent credited, when known


SPEECH_SOURCES = (
    SpeechSource(
        "asterisk-core-sounds-en-g722",
        "usr/share/asterisk/sounds/en_US_f_Allison/*.g722",
        "allison",
        "CC-BY-SA-3.0",
        "Allison Smith",
    ),
    SpeechSource(
        "asterisk-core-sounds-es-g722",
        "usr/share/asterisk/sounds/es_MX_f_Allison/*.g722",
        "allison",
        "CC-BY-SA-3.0",
        "Allison Smith",
    ),
    SpeechSource(
        "asterisk-core-sounds-it-g722",
        "usr/share/asterisk/sounds/it_IT_m_Carlo/*.g722",
        "carlo",
        "CC-BY-SA-3.0",
        "Carlo",
    ),
    SpeechSource(
        "asterisk-core-sounds-fr-g722",
        "usr/share/asterisk/sounds/fr_CA_f_June/*.g722",
        "june",
        "CC-BY-SA-3.0",
        "June Wallack",
    ),
    SpeechSource(
        "asterisk-core-sounds-ru-g722",
        "usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/*.g722",
        "ivrvoice_ru",
        "CC-BY-3.0",
    ),
)
# KLettres (KDE's alphabet trainer, ``klettres-data``, GPL-2+): letters and
# syllables read by one volunteer per language, 44.1 kHz Ogg Vorbis. Language
# folder -> the readers its handbook credits (None: not credited there; one
# voice set per language is assumed). All of them are training speakers.
KLETTRES_PACKAGE = "klettres-data"
KLETTRES_PATTERN = "usr/share/klettres/*/*/*.ogg"
KLETTRES_VOICES = {
    "cs": "Eva Mikulčíková",
    "da": "Erik Kjaer Pedersen",
    "de": "Helmut Kriege",
    "en": "Robert Wadley",
    "fr": "Ludovic Grossard",
    "he": "Assaf Gorgon",
    "it": "Pietro Pasotti",
    "nl": "Geert Stams",
    "es": "Ana Belén Caballero, Juan Pedro Paredes",
    "nds": "Manfred Wiese, Sönke Dibbern",
    "pt_BR": "Lindonjohnson Monte, Michelle Monte",
    "ar": None,
    "en_GB": None,
    "hu": None,
    "lt": None,
    "ml": None,
    "nb": None,
    "ru": None,
    "tn": None,
    "uk": None,
}
KLETTRES_MAX_FILES = 120  # per voice, so that no single reader dominates
MIN_DYNAMIC_RANGE_DB = 25.0  # loud frames over quiet frames: drops hissy takes
MAX_CLIPPED_FRACTION = 1e-3  # samples at full scale: drops clipped takes
SPEAKER_SPLIT = {
    "train": ("allison", "carlo", *(f"klettres_{lang}" for lang in KLETTRES_VOICES)),
    "valid": ("june",),
    "test": ("ivrvoice_ru",),
}

# (package, file pattern inside the package, category, licence)
FLIGHTGEAR = "usr/share/games/flightgear/"
NOISE_FILES = (
    ("flightgear-data-base", FLIGHTGEAR + "Sounds/engine-prop.wav", "engine", "GPL-2+"),
    ("flightgear-data-base", FLIGHTGEAR + "Sounds/prop.wav", "engine", "GPL-2+"),
    ("flightgear-data-base", FLIGHTGEAR + "Sounds/R-1535Slow.wav", "engine", "GPL-2+"),
    ("flightgear-data-base", FLIGHTGEAR + "Sounds/turbojet_fan.wav", "engine", "GPL-2+"),
    ("flightgear-data-base", FLIGHTGEAR + "Sounds/exhaust_loop.wav", "engine", "GPL-2+"),
    (
        "flightgear-data-base",
        FLIGHTGEAR + "Aircraft/c172p/Sounds/engine*.wav",
        "engine",
        "GPL-2+",
    ),
    ("flightgear-data-base", FLIGHTGEAR + "Sounds/wind*.wav", "wind", "GPL-2+"),
    ("flightgear-data-base", FLIGHTGEAR + "Sounds/rain*.wav", "rain", "GPL-2+"),
    (
        "flightgear-data-base",
        FLIGHTGEAR + "Aircraft/c172p/Sounds/tires-rolling-*.wav",
        "road",
        "GPL-2+",
    ),
    ("flightgear-data-base", FLIGHTGEAR + "Sounds/rattleroll.wav", "road", "GPL-2+"),
    (
        "flightgear-data-base",
        FLIGHTGEAR + "Aircraft/c172p/Sounds/water-*.wav",
        "water",
        "GPL-2+",
    ),
    ("asterisk-moh-opsound-wav", "usr/share/asterisk/moh/*.wav", "music", "CC-BY-SA-3.0"),
)
NOISE_PACKAGES = tuple(dict.fromkeys(pk for pk, *_ in NOISE_FILES))
ZERO_AD_PACKAGE = "0ad-data"
ZERO_AD_ZIP = "usr/share/games/0ad/mods/public/public.zip"
ZERO_AD_CATEGORIES = (  # (prefix of the file name under audio/ambient/, category)
    ("amb_farm", "farm"),
    ("amb_port", "crowd"),
    ("amb_trade", "crowd"),
    ("day_", "nature"),
    ("river", "water"),
    ("waterfall", "water"),
    ("wave", "waves"),
    ("rain", "rain"),
    ("snowstorm", "wind"),
    ("wind", "wind"),
    ("thunder", "thunder"),
)
KEYBOARD = ("bucklespring-data", "usr/share/buckle/wav/*.wav", "GPL-2+")


def _relative(path, root):
    return os.path.relpath(path, root)


def _manifest_path(path, data_folder):
    """A path in SpeechBrain manifest form: ``{data_root}/relative/path``."""
    return "{data_root}/" + _relative(path, data_folder)


def _trim_silence(wav, threshold_db=-50.0, frame=400):
    """Drops leading/trailing frames quieter than ``threshold_db`` below the peak frame."""
    n = len(wav) // frame
    if n == 0:
        return wav
    energy = np.sqrt(np.mean(wav[: n * frame].reshape(n, frame) ** 2, axis=1)) + 1e-12
    loud = np.nonzero(20 * np.log10(energy / energy.max()) > threshold_db)[0]
    if len(loud) == 0:
        return wav[:0]
    return wav[loud[0] * frame : (loud[-1] + 1) * frame]


def _speech_record(uid, wav, data_folder, speaker, source, licence):
    out = os.path.join(data_folder, "speech", speaker, uid + ".wav")
    write_wav(out, wav, SAMPLE_RATE)
    return {
        "id": uid,
        "clean_wav": _manifest_path(out, data_folder),
        "length": len(wav) / SAMPLE_RATE,
        "spk_id": speaker,
        "source": source,
        "licence": licence,
    }


def _usable_speech(wav):
    """Whether a trimmed prompt is long and loud enough to be clean speech."""
    return len(wav) >= SAMPLE_RATE // 2 and rms(wav) >= MIN_SPEECH_RMS


def clean_enough(wav, frame=160):
    """Whether a recording is clean enough to serve as a training target.

    Its loud frames (95th percentile of the frame RMS) must stand
    ``MIN_DYNAMIC_RANGE_DB`` above its quiet ones (10th percentile), and at
    most ``MAX_CLIPPED_FRACTION`` of its samples may sit at full scale.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> burst = np.concatenate([np.zeros(8000), rng.normal(0, 0.1, 8000)])
    >>> clean_enough(burst)
    True
    >>> clean_enough(burst + rng.normal(0, 0.05, 16000))
    False
    >>> clean_enough(np.clip(burst * 30, -1, 1))
    False
    """
    n = len(wav) // frame
    if n < 10:
        return False
    energy = np.sqrt(np.mean(wav[: n * frame].reshape(n, frame) ** 2, axis=1)) + 1e-9
    level = 20 * np.log10(energy)
    if np.percentile(level, 95) - np.percentile(level, 10) < MIN_DYNAMIC_RANGE_DB:
        return False
    return bool(np.mean(np.abs(wav) >= 0.999) <= MAX_CLIPPED_FRACTION)


def _asterisk_speech(data_folder, cache_folder, skipped):
    """Yields speech records of the Asterisk prompts (undecodable files: ``skipped``)."""
    for src in SPEECH_SOURCES:
        deb = fetch_package(src.package, os.path.join(cache_folder, "debs"))
        raw = os.path.join(cache_folder, "raw")
        files = sorted(extract_members(deb, [src.pattern], raw))
        lang = src.package.split("-")[3]
        for path in files:
            uid = f"{src.speaker}_{lang}_{os.path.splitext(os.path.basename(path))[0]}"
            try:
                wav = _trim_silence(decode(path, SAMPLE_RATE))
            except AudioError as err:  # a few packaged prompts are empty
                skipped.append(str(err))
                continue
            # Drop prompts under 0.5 s and the packages' silence files.
            if _usable_speech(wav):
                source = f"{src.package}:{os.path.basename(path)}"
                yield _speech_record(
                    uid, wav, data_folder, src.speaker, source, src.licence
                )


def _klettres_speech(data_folder, cache_folder, skipped):
    """Yields speech records of the KLettres readers (clean takes; undecodable: ``skipped``)."""
    deb = fetch_package(KLETTRES_PACKAGE, os.path.join(cache_folder, "debs"))
    raw = os.path.join(cache_folder, "raw")
    files = sorted(extract_members(deb, [KLETTRES_PATTERN], raw))
    root = os.path.join(raw, "usr", "share", "klettres")
    by_lang = {}
    for path in files:
        by_lang.setdefault(_relative(path, root).split(os.sep)[0], []).append(path)
    for lang, paths in sorted(by_lang.items()):
        if lang not in KLETTRES_VOICES:
            continue
        speaker = f"klettres_{lang}"
        kept = 0
        for path in paths:
            if kept == KLETTRES_MAX_FILES:
                break
            try:
                wav = decode(path, SAMPLE_RATE)
            except AudioError as err:
                skipped.append(str(err))
                continue
            if not clean_enough(wav):
                continue
            wav = _trim_silence(wav)
            if not _usable_speech(wav):
                continue
            rel = _relative(path, root)
            uid = f"{speaker}_" + os.path.splitext(rel)[0].replace(os.sep, "_")
            source = f"{KLETTRES_PACKAGE}:{rel}"
            kept += 1
            yield _speech_record(uid, wav, data_folder, speaker, source, "GPL-2+")


def _collect_speech(data_folder, cache_folder):
    """Decodes every prompt to ``speech/<speaker>/``; records per speaker, and skips.

    Returns
    -------
    by_speaker : dict
        Speaker id to its records.
    skipped : list of str
        One line per source file that could not be decoded, naming it and why.
    """
    by_speaker, skipped = {}, []
    for gen in (_asterisk_speech, _klettres_speech):
        for record in gen(data_folder, cache_folder, skipped):
            by_speaker.setdefault(record["spk_id"], []).append(record)
    return by_speaker, skipped


def skipped_summary(skipped):
    """One line per folder of the skipped files: how many, and the first reason.

    Example
    -------
    >>> print(skipped_summary(["/r/cs/a.ogg: cannot decode audio (no)",
    ...                        "/r/cs/b.ogg: cannot decode audio (no)"]))
    /r/cs: 2 file(s), e.g. a.ogg: cannot decode audio (no)
    """
    by_folder = {}
    for line in skipped:
        path, reason = line.split(": ", 1)
        by_folder.setdefault(os.path.dirname(path), []).append((path, reason))
    return "\n".join(
        f"{folder}: {len(items)} file(s), e.g. {os.path.basename(items[0][0])}: "
        f"{items[0][1]}"
        for folder, items in sorted(by_folder.items())
    )


def speaker_inventory(by_speaker, speaker_split=SPEAKER_SPLIT):
    """One entry per speaker: split, credited reader, minutes, sources, licences."""
    split_of = {spk: split for split, spks in speaker_split.items() for spk in spks}
    credits = {f"klettres_{k}": v for k, v in KLETTRES_VOICES.items()}
    credits.update({src.speaker: src.reader for src in SPEECH_SOURCES})
    return {
        spk: {
            "split": split_of.get(spk),
            "credited_reader": credits.get(spk),
            "utterances": len(utts),
            "minutes": round(sum(u["length"] for u in utts) / 60, 2),
            "packages": sorted({u["source"].split(":")[0] for u in utts}),
            "licences": sorted({u["licence"] for u in utts}),
        }
        for spk, utts in sorted(by_speaker.items())
    }


def _zero_ad_category(name):
    for prefix, category in ZERO_AD_CATEGORIES:
        if name.startswith(prefix):
            return category
    return None


def _unpack_noise_package(deb, package, raw):
    """Extracts from ``deb`` into ``raw`` the files of ``package`` the corpus reads."""
    if package == ZERO_AD_PACKAGE:
        extract_members(deb, [ZERO_AD_ZIP], raw)
    else:
        extract_members(deb, [pat for pk, pat, _, _ in NOISE_FILES if pk == package], raw)


def _unpack_noise_in_background(pool, cache_folder):
    """Downloads the noise packages, then unpacks each in a thread of ``pool``.

    Returns the futures; ``result()`` re-raises any error of the unpacking.
    """
    raw = os.path.join(cache_folder, "raw")
    debs = os.path.join(cache_folder, "debs")
    packages = (*NOISE_PACKAGES, ZERO_AD_PACKAGE)
    fetched = [(fetch_package(pk, debs), pk) for pk in packages]
    return [pool.submit(_unpack_noise_package, deb, pk, raw) for deb, pk in fetched]


def _recorded_noise(cache_folder):
    """Yields (name, waveform, category, source, licence) of real recorded noise.

    The packages must have been unpacked (``_unpack_noise_in_background``).
    """
    raw = os.path.join(cache_folder, "raw")
    for package in NOISE_PACKAGES:
        entries = [e for e in NOISE_FILES if e[0] == package]
        for _, pattern, category, licence in entries:
            for path in sorted(glob.glob(os.path.join(raw, pattern))):
                source = f"{package}:{_relative(path, raw)}"
                yield (
                    os.path.basename(path),
                    decode(path, SAMPLE_RATE),
                    category,
                    source,
                    licence,
                )
    zip_path = os.path.join(raw, ZERO_AD_ZIP)
    with zipfile.ZipFile(zip_path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = info.filename
            if not (name.startswith("audio/ambient/") and name.endswith(".ogg")):
                continue
            category = _zero_ad_category(os.path.basename(name))
            if category is None:
                continue
            tmp = os.path.join(raw, "0ad", os.path.basename(name))
            os.makedirs(os.path.dirname(tmp), exist_ok=True)
            with archive.open(info) as src, open(tmp, "wb") as dst:
                dst.write(src.read())
            wav = decode(tmp, SAMPLE_RATE)
            yield (
                os.path.basename(name),
                wav,
                category,
                f"{ZERO_AD_PACKAGE}:{name}",
                "CC-BY-SA-3.0",
            )
    os.remove(zip_path)  # 3 GB of game data, of which 30 MB were needed


def _synthetic_noise(rng, clicks, count, seconds=10.0):
    """Yields (name, waveform, category) of generated noise."""
    length = int(seconds * SAMPLE_RATE)
    for i in range(count):
        yield (
            f"coloured_{i}",
            synth.coloured(rng, length, rng.uniform(0.0, 2.0)),
            "coloured",
        )
        yield f"hum_{i}", synth.hum(rng, length), "hum"
        yield f"modulated_{i}", synth.modulated(rng, length), "modulated"
        yield (
            f"typing_{i}",
            synth.typing(rng, clicks, length, rate=rng.uniform(3, 10)),
            "typing",
        )


def _split_noise(items, heldout_every=3):
    """Assigns each (name, wav, category, ...) to 'train' or 'heldout'.

    Categories with at least ``heldout_every`` files give every
    ``heldout_every``-th file to the held-out set; smaller ones are cut in
    time, the last quarter of each file held out.
    """
    by_cat = {}
    for item in items:
        by_cat.setdefault(item[2], []).append(item)
    for group in by_cat.values():
        if len(group) >= heldout_every:
            for i, item in enumerate(group):
                yield ("heldout" if i % heldout_every == 1 else "train"), item
        else:
            for name, wav, *rest in group:
                cut = int(len(wav) * 0.75)
                yield "train", (name, wav[:cut], *rest)
                yield "heldout", (name, wav[cut:], *rest)


def _collect_noise(data_folder, cache_folder, rng):
    """Writes noise files to ``noise/<split>/<category>/`` and returns records."""
    recorded = []
    for name, wav, category, source, licence in _recorded_noise(cache_folder):
        wav = _trim_silence(wav)
        if len(wav) < SAMPLE_RATE or rms(wav) < 1e-4:
            continue
        recorded.append((name, wav, category, source, licence))
    deb = fetch_package(KEYBOARD[0], os.path.join(cache_folder, "debs"))
    click_files = sorted(
        extract_members(deb, [KEYBOARD[1]], os.path.join(cache_folder, "raw"))
    )
    clicks = [decode(p, SAMPLE_RATE) for p in click_files]
    half = len(clicks) // 2
    made = []
    for split, pool, count in (("train", clicks[:half], 12), ("heldout", clicks[half:], 4)):
        for name, wav, category in _synthetic_noise(rng, pool, count):
            made.append(
                (
                    split,
                    (
                        f"{split}_{name}",
                        wav,
                        category,
                        "generated (diffgmm_sb.data.noise)"
                        + (f" from {KEYBOARD[0]} clicks" if category == "typing" else ""),
                        KEYBOARD[2] if category == "typing" else "CC0-1.0",
                    ),
                )
            )
    return write_noise(data_folder, [*_split_noise(recorded), *made])


def write_noise(data_folder, items):
    """Writes ``(split, (name, wav, category, source, licence))`` noise; returns records.

    Each file goes to ``noise/<split>/<category>/``; the records are the
    entries of ``noise.json``.
    """
    records = {}
    for split, (name, wav, category, source, licence) in items:
        stem = os.path.splitext(name)[0]
        uid = f"{split}_{category}_{stem}"
        out = os.path.join(data_folder, "noise", split, category, uid + ".wav")
        write_wav(out, wav, SAMPLE_RATE)
        records[uid] = {
            "noise_wav": _manifest_path(out, data_folder),
            "length": len(wav) / SAMPLE_RATE,
            "category": category,
            "split": split,
            "recorded": not source.startswith("generated"),
            "source": source,
            "licence": licence,
        }
    return records


def _mix_split(data_folder, split, utterances, noise_records, snr_range, rng, count):
    """Writes fixed noisy/clean pairs of ``split`` and returns its manifest."""
    # Category first, then file (as training draws), so that the generated
    # categories with many small files do not crowd out the recorded ones.
    pool = {}
    for uid, rec in sorted(noise_records.items()):
        if rec["split"] == "heldout":
            pool.setdefault(rec["category"], []).append((uid, rec))
    categories = sorted(pool)
    chosen = [utterances[i] for i in sorted(rng.permutation(len(utterances))[:count])]
    manifest = {}
    for utt in chosen:
        clean = decode(utt["clean_wav"].format(data_root=data_folder), SAMPLE_RATE)
        files = pool[categories[int(rng.integers(len(categories)))]]
        noise_id, noise_rec = files[int(rng.integers(len(files)))]
        noise = decode(noise_rec["noise_wav"].format(data_root=data_folder), SAMPLE_RATE)
        snr = float(rng.uniform(*snr_range))
        noisy, clean = mix_at_snr(clean, fit_length(noise, len(clean), rng), snr)
        paths = {}
        for kind, wav in (("noisy", noisy), ("clean", clean)):
            out = os.path.join(data_folder, split, kind, utt["id"] + ".wav")
            write_wav(out, wav, SAMPLE_RATE)
            paths[f"{kind}_wav"] = _manifest_path(out, data_folder)
        manifest[utt["id"]] = {
            **paths,
            "length": len(clean) / SAMPLE_RATE,
            "spk_id": utt["spk_id"],
            "noise_id": noise_id,
            "noise_category": noise_rec["category"],
            "snr": round(snr, 2),
        }
    return manifest


def write_corpus(
    data_folder,
    by_speaker,
    speaker_split,
    noise_records,
    rng,
    min_eval_seconds,
    snr_range,
    num_valid,
    num_test,
):
    """Writes a corpus's manifests from its speech records and noise records.

    ``train.json`` (the clean speech of the training speakers), ``valid.json``
    and ``test.json`` (``num_valid`` / ``num_test`` utterances of at least
    ``min_eval_seconds`` of their speakers, mixed with held-out noise at SNRs
    drawn from ``snr_range``), ``noise_train.json``, ``speakers.json``, and
    ``noise.json`` last: it marks completion.
    """
    train = {
        u["id"]: {k: v for k, v in u.items() if k != "id"}
        for spk in speaker_split["train"]
        for u in by_speaker.get(spk, [])
    }
    splits = {}
    for split, count in (("valid", num_valid), ("test", num_test)):
        utts = [
            u
            for spk in speaker_split[split]
            for u in by_speaker.get(spk, [])
            if u["length"] >= min_eval_seconds
        ]
        splits[split] = _mix_split(
            data_folder, split, utts, noise_records, snr_range, rng, count
        )
    noise_train = {k: v for k, v in noise_records.items() if v["split"] == "train"}
    speakers = speaker_inventory(by_speaker, speaker_split)
    write_manifest(speakers, os.path.join(data_folder, "speakers.json"))
    write_manifest(noise_train, os.path.join(data_folder, "noise_train.json"))
    write_manifest(train, os.path.join(data_folder, "train.json"))
    write_manifest(splits["valid"], os.path.join(data_folder, "valid.json"))
    write_manifest(splits["test"], os.path.join(data_folder, "test.json"))
    write_manifest(noise_records, os.path.join(data_folder, "noise.json"))


def prepare_starter_corpus(
    data_folder,
    cache_folder=None,
    snr_range=(0.0, 15.0),
    num_valid=30,
    num_test=60,
    min_eval_seconds=1.5,
    seed=1234,
    skip_prep=False,
):
    """Builds the starter corpus and its manifests (idempotent).

    Arguments
    ---------
    data_folder : str
        Where the corpus and the manifests ``train.json``, ``valid.json``,
        ``test.json``, ``noise_train.json`` and ``noise.json`` are written.
        Audio paths in the manifests start with ``{data_root}``, replaced by
        ``data_folder`` when the manifests are loaded.
    cache_folder : str, optional
        Where the Debian packages and their raw files are kept
        (default ``<data_folder>/.cache``).
    snr_range : tuple of float
        SNRs (dB) of the validation and test mixtures.
    num_valid, num_test : int
        Number of validation and test utterances.
    min_eval_seconds : float
        Shortest prompt used for validation and test.
    seed : int
        Seed of every random choice.
    skip_prep : bool
        Do nothing (data prepared elsewhere).
    """
    if skip_prep:
        return
    if all(os.path.exists(os.path.join(data_folder, m)) for m in MANIFESTS):
        return
    cache_folder = cache_folder or os.path.join(data_folder, ".cache")
    rng = np.random.default_rng(seed)
    os.makedirs(data_folder, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        unpacking = _unpack_noise_in_background(pool, cache_folder)
        by_speaker, skipped = _collect_speech(data_folder, cache_folder)
        for job in unpacking:
            job.result()
    noise_records = _collect_noise(data_folder, cache_folder, rng)
    split = {"snr_range": snr_range, "num_valid": num_valid, "num_test": num_test}
    write_corpus(
        data_folder,
        by_speaker,
        SPEAKER_SPLIT,
        noise_records,
        rng,
        min_eval_seconds,
        **split,
    )
    if skipped:
        logger.warning(
            "starter corpus: built without %d source file(s) that cannot be decoded "
            "(PyAV/FFmpeg), by folder:\n%s",
            len(skipped),
            skipped_summary(skipped),
        )
