"""In-process caches of compiled programs and the memory-map limit (jaxlstm.cache)."""

import pytest


def test_near_the_memory_map_limit_compiled_programs_are_dropped_with_a_warning(monkeypatch):
    from jaxlstm import cache

    held = cache.memory_maps()
    assert held is None or 0 < held[0] < held[1]  # on Linux: this process's maps, below the kernel's limit
    programs = cache.register_compiled({"a program": object()})
    try:
        monkeypatch.setattr(cache, "memory_maps", lambda: (60, 100))
        assert cache.relieve_memory_maps(0.7) is False and programs  # below 70 %: kept
        monkeypatch.setattr(cache, "memory_maps", lambda: (80, 100))
        with pytest.warns(RuntimeWarning, match=r"held 80 of its 100 memory maps \(vm.max_map_count\)"):
            assert cache.relieve_memory_maps(0.7) is True
        assert programs == {}
    finally:
        cache._registered.remove(programs)


def test_the_cache_folder_expands_home_and_respects_jax_own_variable(monkeypatch):
    """Until 2026-12-06 ``JAXLSTM_CACHE_DIR="~/xla"`` made a folder named "~"
    in the working directory, and JAX's own ``JAX_COMPILATION_CACHE_DIR``
    was replaced by jaxlstm's default."""
    import os

    from jaxlstm.cache import default_cache_dir

    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("JAXLSTM_CACHE_DIR", "~/xla")
    assert default_cache_dir() == "/home/someone/xla"
    monkeypatch.setenv("JAXLSTM_CACHE_DIR", "")
    assert default_cache_dir() == ""  # off
    monkeypatch.delenv("JAXLSTM_CACHE_DIR")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/scratch/jax")
    assert default_cache_dir() == "/scratch/jax"
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    assert default_cache_dir() == os.path.join("/home/someone", ".cache", "jaxlstm", "xla")


def test_an_unwritable_cache_folder_is_one_warning_and_no_cache(tmp_path):
    """A folder that cannot be created (here: below a file) turns the cache
    off with one warning naming it and the variable, instead of JAX's warning
    at every program; a writable one is created and used."""
    import os
    import warnings

    import jax

    from jaxlstm.cache import enable_compilation_cache

    before = jax.config.jax_compilation_cache_dir
    (tmp_path / "a file").write_text("")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert enable_compilation_cache(tmp_path / "a file" / "xla") is None
    assert [str(w.message) for w in caught if "compilation cache" in str(w.message)] == [
        f"compilation cache not used: cannot write to {str(tmp_path / 'a file' / 'xla')!r} (Not a directory); set "
        "JAXLSTM_CACHE_DIR to a writable folder, or to '' to turn the cache off"]
    assert jax.config.jax_compilation_cache_dir == before  # left as it was
    try:
        new = str(tmp_path / "new" / "xla")
        assert enable_compilation_cache(new) == new and os.path.isdir(new) and jax.config.jax_compilation_cache_dir == new
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
