"""Shared pytest settings: slow tests run only with ``--runslow``."""

import os

import pytest

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def pytest_addoption(parser):
    """Adds ``--runslow``."""
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


def pytest_configure(config):
    """Registers the ``slow`` marker."""
    config.addinivalue_line("markers", "slow: long-running test, needs --runslow")


def pytest_collection_modifyitems(config, items):
    """Skips slow tests unless ``--runslow`` is given."""
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: use --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
