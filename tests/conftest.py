"""Shared test set-up: the PyTorch oracle is optional on a user's machine but required in CI.

Tests that need torch use the ``torch`` fixture (:func:`require_torch`): without torch they
skip, unless ``RNNLAB_REQUIRE_TORCH=1``, where a missing torch fails them. Helpers shared by
several test modules are in ``helpers.py``.
"""

import os

import matplotlib
import pytest
from helpers import torch_or_none

matplotlib.use("Agg")
# Float32 GEMMs differ in their last bits with the BLAS thread count and tests compare runs bit for
# bit, while rnnlab's default thread count follows the machine's load: one fixed count for the suite.
os.environ.setdefault("RNNLAB_NUM_THREADS", "1")
# Messages are asserted in English: a French locale on the test machine must not change that.
os.environ.setdefault("RNNLAB_LANG", "en")


def require_torch():
    torch = torch_or_none()
    if torch is None:
        pytest.skip("torch is not installed")
    torch.set_num_threads(1)
    return torch


@pytest.fixture
def torch():
    return require_torch()


@pytest.fixture(autouse=True)
def _english_unless_asked():
    """Every test starts in the environment's default language and leaves no language set."""
    from rnnlab.i18n import set_language

    set_language(None)
    yield
    set_language(None)


@pytest.fixture
def corpus(tmp_path):
    """A small English text file for the language-model tests (30 repeats of one sentence).
    A test module may define its own ``corpus`` fixture, which then takes precedence."""
    path = tmp_path / "tiny.txt"
    path.write_text("the quick brown fox jumps over the lazy dog. " * 30, encoding="utf-8")
    return str(path)
