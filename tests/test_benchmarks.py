"""The peer benchmark's arithmetic and its skip-if-absent rule (no timing here)."""

import importlib.util
import pathlib
import sys

import pytest


@pytest.fixture(scope="module")
def bench_peers():
    """benchmarks/bench_peers.py as a module, without touching sys.path or sys.modules."""
    path = pathlib.Path(__file__).parent.parent / "benchmarks" / "bench_peers.py"
    spec = importlib.util.spec_from_file_location("bench_peers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flop_counts_follow_the_stated_formula(bench_peers):
    # W1: the performance issue's "about 1.6e12 training FLOPs".
    assert 1.55e12 < bench_peers.w1_flops(64) < bench_peers.w1_flops(256) < 1.75e12
    h, f, t = 128, 16, 50
    n_tr, n_va = 3276, 820
    per_config = t * 2 * 4 * h * (f + h) * (3 * n_tr * 5 + n_va)
    assert bench_peers.w2_flops() == 16 * per_config
    assert len(bench_peers.W2_CONFIGS) == 16 and len({tuple(c.items()) for c in bench_peers.W2_CONFIGS}) == 16


def test_a_missing_peer_is_skipped_with_a_note(bench_peers, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    note = bench_peers._available("torch")
    assert note.startswith("torch skipped: not installed")
    assert bench_peers._available("jaxlstm") is None


def test_table_reports_ratios_to_jaxlstm(bench_peers, capsys):
    rows = [dict(tool="jaxlstm run_sweep", wall=10.0, compile=2.0, run=8.0, score=0.9),
            dict(tool="PyTorch", wall=25.0, score=0.9)]
    bench_peers.table("t", rows, lambda r: 1e12, 100.0, 16)
    out = capsys.readouterr().out.splitlines()
    assert out[-1].split()[-1] == "2.50x" and out[-2].split()[-1] == "1.00x"
    assert "100.0" in out[-2] and "40.0" in out[-1]  # GFLOP/s = 1e12 / wall
