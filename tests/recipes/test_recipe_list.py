"""SpeechBrain's recipe-list consistency checks, run on this repository's recipes.

The logic of SpeechBrain's ``tests/consistency/test_recipe.py``
(speechbrain/speechbrain, Apache-2.0: ``test_recipe_list``,
``test_recipe_files``, ``test_mandatory_files``), with its helpers
``get_all_files`` and ``get_list_from_csv`` from the installed
``speechbrain.utils.data_utils``: every hparams file under
``recipes/<Dataset>/`` is listed in ``tests/recipes/<Dataset>.csv`` with its
debug flags, and every file a row names exists. SpeechBrain reads every file of
its ``tests/recipes``; here that folder also holds these tests, so only its
``*.csv`` files are read. Paths are relative to the repository root, as there.
"""

import csv
import glob
import os

import pytest
from recipe_fakes import ROOT
from speechbrain.utils.data_utils import get_all_files, get_list_from_csv

# SpeechBrain's avoid list (its "/models/" also skips the linked network files).
AVOID = ["/models/", "/results/", "/pretrained_models/", "hpopt.yaml"]
CSVS = sorted(glob.glob(os.path.join(ROOT, "tests", "recipes", "*.csv")))


@pytest.fixture(autouse=True)
def _at_the_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_there_is_a_csv_per_recipe_dataset():
    datasets = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "recipes", "*"))}
    assert {os.path.splitext(os.path.basename(p))[0] for p in CSVS} == datasets


@pytest.mark.parametrize("recipe_csv", CSVS, ids=os.path.basename)
def test_recipe_list(recipe_csv):
    """Every hparams file of the dataset's recipes is listed, each row with debug flags."""
    dataset = os.path.splitext(os.path.basename(recipe_csv))[0]
    hparams = get_all_files(
        os.path.join("recipes", dataset), match_and=[".yaml"], exclude_or=AVOID
    )
    listed = get_list_from_csv(recipe_csv, field="Hparam_file")
    assert hparams and sorted(set(hparams) - set(listed)) == []
    assert all(get_list_from_csv(recipe_csv, field="test_debug_flags"))


@pytest.mark.parametrize("recipe_csv", CSVS, ids=os.path.basename)
def test_recipe_files(recipe_csv):
    """The files a row names exist; script, hparams and README are mandatory."""
    with open(recipe_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=",", skipinitialspace=True))
    for row in rows:
        for field in ("Script_file", "Hparam_file", "Readme_file"):
            assert os.path.exists(row[field].strip()), (field, row[field])
        for path in row["Data_prep_file"].split():
            assert os.path.exists(path), path
