"""SpeechBrain's YAML/script consistency rule, for the recipes of this repository.

SpeechBrain's continuous integration (``tests/consistency/test_yaml.py`` with
``tests/utils/check_yaml.py`` in the SpeechBrain repository, formerly
``speechbrain.utils.check_yaml``; not part of the pip package 1.1.2) checks that
every top-level key of a recipe's YAML file is used by its ``train.py``. The
rule, implemented here the same way (text-based, line by line):

* a *declared* key is a top-level line ``key: ...`` of the YAML file, except
  comments, ``!apply`` lines (e.g. ``__set_seed``), lines with ``!!`` tags and
  a SpeechBrain ``Pretrainer``;
* a declared key counts as used by the YAML itself when a later line refers
  to it with ``!ref <key>`` (``<key[sub]>`` refers to ``key``);
* every other declared key must appear in the script as ``["key"]``,
  ``hparams.key``, ``modules.key``, ``attr(self.hparams, "key"`` or
  ``hparams.get("key"``, or match an f-string subscript such as
  ``hparams[f"{split}_annotation"]`` or a ``format`` subscript such as
  ``hparams["enc{}_dim".format(i)]``;
* SpeechBrain's run options (``speechbrain.utils.run_opts.RunOptions``:
  ``precision``, ``max_grad_norm``, ``ckpt_interval_minutes``, ...) are exempt,
  since ``Brain`` reads them from the YAML itself.

The recipes hand their ``Brain`` the whole hparams, so a key is also used
when the package's Brains (``BRAIN_SOURCES``) read it, as ``self.hparams.key``
or ``getattr(self.hparams, "key", ...)``.

Authors
 * diffgmm-sb developers 2026
"""

import re

from speechbrain.utils.run_opts import RunOptions

import diffgmm_sb.training.brain
import diffgmm_sb.training.mask_brain

# The Brains that recipes hand their whole hparams to.
BRAIN_SOURCES = (
    diffgmm_sb.training.brain.__file__,
    diffgmm_sb.training.mask_brain.__file__,
)

SCRIPT_PATTERNS = (
    '["{}"]',
    "hparams.{}",
    "modules.{}",
    'attr(self.hparams, "{}"',
    'hparams.get("{}"',
)
FSTRING_SUFFIX = re.compile(r"\[f.\{.*\}(.*).\]")  # hparams[f"{split}_annotation"]
FSTRING_PREFIX = re.compile(r"\[f.(.*)\{.*\}.\]")  # hparams[f"annotation_{split}"]
FORMAT_SUBSCRIPT = re.compile(r"\[.(.*)\{\}(.*).\]")  # hparams["tea{}_enc".format(i)]


def yaml_keys(text):
    """Top-level keys of a YAML text not referred to (``!ref``) after their definition.

    Example
    -------
    >>> yaml_keys("a: 1\\nb: !ref <a>\\nc:\\n    d: 2\\n# e: 3\\n__s: !apply:f [1]\\n")
    ['b', 'c']
    >>> yaml_keys("m: !ref <x>\\nx: 2\\n")  # a reference before the key does not count
    ['m', 'x']
    """
    keys = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#") or "parameter_transfer.Pretrainer" in line:
            continue
        if (
            ":" in line
            and line[0] not in " \t"
            and "!!" not in line
            and "!apply" not in line
        ):
            keys.append(line[: line.find(":")])
        if "!ref" in line:
            for part in line.split("<")[1:]:
                name = part[: part.find(">")].split("[")[0]
                if name in keys:
                    keys.remove(name)
    return keys


def used_in_script(keys, script_text):
    """The keys the script text uses, by the patterns of the module docstring.

    Example
    -------
    >>> used_in_script(["lr", "epochs", "valid_annotation", "x"],
    ...     'hparams["lr"]\\nself.hparams.epochs\\nhparams[f"{s}_annotation"]')
    ['lr', 'epochs', 'valid_annotation']
    """
    used = []
    for line in script_text.splitlines():
        suffix = FSTRING_SUFFIX.search(line)
        prefix = FSTRING_PREFIX.search(line)
        fmt = FORMAT_SUBSCRIPT.search(line)
        for key in keys:
            if key in used:
                continue
            if any(p.format(key) in line for p in SCRIPT_PATTERNS) or any(
                m is not None and m.group(1) in key for m in (suffix, prefix)
            ):
                used.append(key)
            elif fmt is not None and re.fullmatch(f"{fmt.group(1)}.*{fmt.group(2)}", key):
                used.append(key)
    return used


def unused_keys(hparam_file, script_file):
    """Top-level keys of ``hparam_file`` that neither ``script_file`` nor a Brain uses.

    Returns
    -------
    list of str
        Empty when the pair is consistent.
    """
    with open(hparam_file, encoding="utf-8") as f:
        keys = yaml_keys(f.read())
    texts = []
    for path in (script_file, *BRAIN_SOURCES):
        with open(path, encoding="utf-8") as f:
            texts.append(f.read())
    used = used_in_script(keys, "\n".join(texts))
    exempt = set(RunOptions().as_dict())
    return [key for key in keys if key not in used and key not in exempt]


def check_yaml_vs_script(hparam_file, script_file):
    """True when every top-level key of ``hparam_file`` is used by ``script_file``.

    Prints one line per unused key, as SpeechBrain's check does.
    """
    unused = unused_keys(hparam_file, script_file)
    for key in unused:
        print(f'\tERROR: variable "{key}" not used in {script_file}!')
    return not unused
