import os

import pytest


@pytest.fixture(autouse=True)
def _no_user_compilation_cache(monkeypatch):
    """Tests compile fresh and leave the user's compilation cache alone
    (an empty ``JAXLSTM_CACHE_DIR`` turns the cache off), unless one is set."""
    if "JAXLSTM_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("JAXLSTM_CACHE_DIR", "")
