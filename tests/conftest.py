import os

import pytest


@pytest.fixture(autouse=True)
def _no_user_compilation_cache(monkeypatch):
    """Tests compile fresh and leave the user's compilation cache alone
    (an empty ``JAXLSTM_CACHE_DIR`` turns the cache off), unless one is set."""
    if "JAXLSTM_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("JAXLSTM_CACHE_DIR", "")


@pytest.fixture(autouse=True, scope="module")
def _drop_compiled_programs_after_each_module():
    """Each test module starts without the programs earlier modules compiled.
    XLA:CPU maps ~850 memory regions per training program, and the whole
    suite in one process would otherwise reach Linux's vm.max_map_count
    (65,530) and crash inside XLA (see jaxlstm.cache)."""
    yield
    from jaxlstm.cache import clear_compiled

    clear_compiled()
