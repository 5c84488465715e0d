import os

import pytest


@pytest.fixture(scope="session")
def _run_cache_dir(tmp_path_factory) -> str:
    """This test run's compilation cache: a folder in its temp root, shared by
    the xdist workers; the user's cache (``~/.cache/jaxlstm``) is left alone."""
    base = tmp_path_factory.getbasetemp()
    path = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "xla-cache"
    path.mkdir(exist_ok=True)
    return str(path)


@pytest.fixture(autouse=True)
def _one_compilation_cache_per_run(monkeypatch, _run_cache_dir):
    """A program that several tests compile (the same small model trained in
    many files; a CLI run and its rerun in a fresh process) is compiled once
    per run and read from this run's persistent cache after that, in this
    process and in the subprocesses tests start (they read
    ``JAXLSTM_CACHE_DIR``). A ``JAXLSTM_CACHE_DIR`` set by the caller wins
    (empty: no cache)."""
    from jaxlstm.cache import enable_compilation_cache

    if "JAXLSTM_CACHE_DIR" not in os.environ:
        monkeypatch.setenv("JAXLSTM_CACHE_DIR", _run_cache_dir)
    enable_compilation_cache(min_compile_time_secs=0)


def pytest_configure(config):
    """Tests compile their training and prediction programs at LLVM
    optimisation level 0 (``JAXLSTM_XLA_OPT_LEVEL``; shipped: 2), here, in
    module fixtures and in the subprocesses they start: compiling is most of a
    test's time (the suite takes about 0.7x the time), and the tests compare
    values, not speed. A test that asserts something of the shipped programs
    themselves (two programs giving bit-identical values) asks for
    :func:`shipped_compiler_options`; the CI's main job runs the shipped
    level. A level set by the caller wins (``JAXLSTM_XLA_OPT_LEVEL=2 python -m
    pytest`` runs the suite as shipped). Set before any fixture, so that no
    module fixture's model is compiled at another level than its tests'."""
    os.environ.setdefault("JAXLSTM_XLA_OPT_LEVEL", "0")


@pytest.fixture
def shipped_compiler_options(monkeypatch):
    """The compiler options jaxlstm ships with (see pytest_configure)."""
    monkeypatch.delenv("JAXLSTM_XLA_OPT_LEVEL", raising=False)


@pytest.fixture(autouse=True, scope="module")
def _drop_compiled_programs_after_each_module():
    """Each test module starts without the programs earlier modules compiled.
    XLA:CPU maps ~850 memory regions per training program, and the whole
    suite in one process would otherwise reach Linux's vm.max_map_count
    (65,530) and crash inside XLA (see jaxlstm.cache)."""
    yield
    from jaxlstm.cache import clear_compiled

    clear_compiled()
