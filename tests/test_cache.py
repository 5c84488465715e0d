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
