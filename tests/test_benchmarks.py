"""The benchmarks' arithmetic, their skip-if-absent rule and their shared
harness (timing protocol, machine header, JSON output); no timing here."""

import argparse
import ast
import datetime
import importlib.util
import json
import pathlib
import re
import sys

import numpy as np
import pytest

BENCHMARKS = pathlib.Path(__file__).parent.parent / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness():
    """benchmarks/harness.py as a module, without touching sys.path or sys.modules."""
    return _load("harness")


@pytest.fixture(scope="module")
def bench(harness):
    """Loads benchmarks/<name>.py from its file; its ``import harness`` (and
    ``import bench_imbalance``) find those modules only while it loads
    (sys.modules is restored after)."""
    def load(name):
        with pytest.MonkeyPatch.context() as mp:
            mp.setitem(sys.modules, "harness", harness)
            mp.setitem(sys.modules, "bench_imbalance", _load("bench_imbalance"))  # bench_remedies imports it
            return _load(name)
    return load


@pytest.fixture(scope="module")
def bench_peers(bench):
    return bench("bench_peers")


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
    assert note.endswith("; pip install torch==2.13.0 (exactly: the CPU build)")  # was "see the module docstring"
    assert bench_peers._available("jaxlstm") is None


def test_benchmark_arguments_refuse_unknown_names_and_counts(harness):
    # until 2026-12-07 bench_compile ran ChlorineConcentration for any other name, bench_imbalance the default
    # search for --methods A, bench_peers measured nothing for --workloads W2ONE (exit 0), --steps 0 failed late
    ap = argparse.ArgumentParser(exit_on_error=False)
    ap.add_argument("--w", type=harness.names(("w1", "w2")), default="w1,w2")
    ap.add_argument("--n", type=harness.count(1), default=3)
    assert (ap.parse_args([]).w, ap.parse_args(["--w", "w2, w1"]).w) == (["w1", "w2"], ["w2", "w1"])
    for argv, said in ((["--w", "W2"], "'W2': give a comma-separated list of w1, w2"),
                       (["--w", ","], "nothing given: give a comma-separated list of w1, w2"),
                       (["--n", "0"], "'0': give an integer >= 1"), (["--n", "x"], "'x': give an integer >= 1")):
        with pytest.raises(argparse.ArgumentError, match=re.escape(said)):
            ap.parse_args(argv)


def test_table_reports_ratios_to_jaxlstm(bench_peers, capsys):
    rows = [dict(tool="jaxlstm run_sweep", wall=10.0, compile=2.0, run=8.0, score=0.9),
            dict(tool="PyTorch", wall=25.0, score=0.9)]
    returned = bench_peers.table("t", rows, lambda r: 1e12, 100.0, 16)
    out = capsys.readouterr().out.splitlines()
    assert out[-1].split()[-1] == "2.50x" and out[-2].split()[-1] == "1.00x"
    assert "100.0" in out[-2] and "40.0" in out[-1]  # GFLOP/s = 1e12 / wall
    # the same numbers for the JSON file
    assert returned["title"] == "t"
    assert [r["jaxlstm_faster"] for r in returned["rows"]] == [1.0, 2.5]
    assert [r["gflops"] for r in returned["rows"]] == [100.0, 40.0]
    assert [r["members_per_s"] for r in returned["rows"]] == [1.6, 0.64]


# ----------------------------------------------------------------------------- the harness


class FakeClock:
    """Returns the given instants in turn."""

    def __init__(self, *instants):
        self.instants = list(instants)

    def __call__(self):
        return self.instants.pop(0)


def test_time_call_summarises_samples_of_a_fake_clock(harness):
    calls = []
    timing = harness.time_call(lambda a: calls.append(a), "x", warmup=2, repeats=3, number=2,
                               clock=FakeClock(0, 1, 1, 4, 4, 6))
    assert len(calls) == 2 + 3 * 2  # warm-ups untimed, then repeats x number
    assert timing.all == (0.5, 1.5, 1.0)  # each sample: the mean of its `number` calls
    assert (timing.median, timing.min, timing.max) == (1.0, 0.5, 1.5)
    assert timing.p10 == pytest.approx(0.6) and timing.p90 == pytest.approx(1.4)  # NumPy's linear percentiles
    assert timing.p10 == pytest.approx(np.percentile(timing.all, 10))
    assert timing.spread == 1.0  # (max - min) / median
    assert timing.as_dict() == {"median": 1.0, "p10": timing.p10, "p90": timing.p90, "min": 0.5, "max": 1.5,
                                "spread": 1.0, "all": [0.5, 1.5, 1.0]}
    assert harness.Timing((2.0,)).spread == 0.0
    with pytest.raises(ValueError):
        harness.Timing(())
    with pytest.raises(ValueError):
        harness.time_call(lambda: None, repeats=0)


def test_time_call_blocks_on_every_call_before_reading_the_clock(harness, monkeypatch):
    import jax

    events = []
    monkeypatch.setattr(jax, "block_until_ready", lambda out: events.append(("block", out)) or out)

    def clock():
        events.append(("clock",))
        return 0.0

    harness.time_call(lambda: events.append(("call",)) or "result", warmup=1, repeats=2, clock=clock)
    assert events == [("call",), ("block", "result")] + [("clock",), ("call",), ("block", "result"), ("clock",)] * 2


def test_time_interleaved_takes_turns(harness):
    order = []
    timings = harness.time_interleaved({"a": (order.append, ("a",)), "b": (order.append, ("b",))},
                                       warmup=1, repeats=2, clock=FakeClock(0, 1, 1, 3, 3, 4, 4, 7))
    assert order == ["a", "b"] * 3
    assert list(timings) == ["a", "b"]
    assert timings["a"].all == (1.0, 1.0) and timings["b"].all == (2.0, 3.0)


def test_time_compile_times_lowering_and_compilation_apart(harness):
    import jax

    for fn in (jax.jit(lambda x: 2 * x), lambda x: 2 * x):  # jitted or not yet
        c = harness.time_compile(fn, np.arange(3.0), clock=FakeClock(0.0, 0.25, 1.0))
        assert (c.lower_s, c.compile_s, c.seconds) == (0.25, 0.75, 1.0)
        np.testing.assert_array_equal(c.compiled(np.arange(3.0)), [0.0, 2.0, 4.0])
        assert c.as_dict() == {"lower_s": 0.25, "compile_s": 0.75, "seconds": 1.0}


def test_machine_header_has_machine_versions_and_kernel(harness, capsys):
    from jaxlstm import kernel

    h = harness.machine_header()
    assert {"date", "platform", "python", "cpu", "cores", "memory_bytes", "versions", "git", "env",
            "jaxlstm_kernel", "jax"} <= set(h)
    assert {"model", "flags"} <= set(h["cpu"]) and set(h["cpu"]["flags"]) <= set(harness.SPEED_FLAGS)
    assert h["cores"]["usable"] >= 1 and h["cores"]["logical"] >= h["cores"]["usable"]
    assert {"jax", "jaxlib", "numpy", "jaxlstm"} <= set(h["versions"])
    assert h["versions"]["numpy"] == np.__version__
    assert h["jaxlstm_kernel"]["available"] == kernel.available()
    if kernel.available():
        assert h["jaxlstm_kernel"]["num_threads"] == kernel.num_threads()
    else:
        assert h["jaxlstm_kernel"]["reason"] == kernel.reason()
    assert json.loads(json.dumps(h)) == h  # plain JSON values
    harness.print_header(h)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["machine", "versions", "jaxlstm compiled CPU kernel"]


def test_cpu_flags_come_from_proc_cpuinfo(harness, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 avx512f avx512_bf16\n\n"
                       "processor\t: 1\nmodel name\t: Some CPU\n")
    info = harness._cpuinfo(cpuinfo)
    assert info["model name"] == "Some CPU" and info["flags"].split()[-1] == "avx512_bf16"
    assert harness._cpuinfo(tmp_path / "absent") == {}


def test_json_round_trip(harness, tmp_path):
    payload = {"timing": harness.Timing((1.0, 3.0, 2.0)), "numpy": np.float32(0.5), "array": np.arange(3),
               "shape": (4096, 50), "path": tmp_path, 7: None}
    path = harness.write_json(tmp_path / "results" / "bench_x.json", payload)
    assert harness.read_json(path) == {"timing": harness.Timing((1.0, 3.0, 2.0)).as_dict(), "numpy": 0.5,
                                       "array": [0, 1, 2], "shape": [4096, 50], "path": str(tmp_path), "7": None}


def test_save_writes_where_json_says(harness, tmp_path, capsys):
    when = datetime.datetime(2026, 11, 24, 12, 30, 5, tzinfo=datetime.timezone.utc)
    default = harness.default_json_path("/somewhere/bench_lstm.py", when)
    assert default == harness.RESULTS_DIR / "bench_lstm-2026-11-24T123005Z.json"
    assert default.parent == BENCHMARKS / "results"  # beside RESULTS.md

    ap = argparse.ArgumentParser()
    harness.add_arguments(ap, warmup=1, repeats=3)
    assert (ap.parse_args([]).warmup, ap.parse_args([]).repeats, ap.parse_args([]).json) == (1, 3, None)
    assert harness.save("bench_x.py", ap.parse_args(["--json", ""]), {}, {}) is None
    args = ap.parse_args(["--json", str(tmp_path / "out.json"), "--repeats", "5"])
    path = harness.save("benchmarks/bench_x.py", args, {"cpu": "c"}, {"rows": [harness.Timing((1.0,))]})
    assert path == tmp_path / "out.json" and str(path) in capsys.readouterr().out
    data = harness.read_json(path)
    assert data["script"] == "bench_x.py" and data["header"] == {"cpu": "c"}
    assert data["args"] == {"json": str(path), "warmup": 1, "repeats": 5}
    assert data["results"]["rows"][0]["median"] == 1.0


def _results_section(heading: str) -> str:
    """RESULTS.md from ``heading`` to the next ``##`` or ``###`` heading (or the end)."""
    text = (BENCHMARKS / "RESULTS.md").read_text()
    section = text[text.index(heading):]
    return section[:min(i for i in (section.find("\n## "), section.find("\n### ", 1), len(section)) if i >= 0)]


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            yield from ((a.name, []) for a in node.names)


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("bench_*.py")))
def test_every_benchmark_uses_the_harness_and_public_names_only(script):
    source = (BENCHMARKS / script).read_text()
    tree = ast.parse(source)
    for module, names in _imports(tree):
        if module.split(".")[0] == "jaxlstm":
            private = [n for n in [*module.split("."), *names] if n.startswith("_")]
            assert not private, f"{script} imports private jaxlstm names {private}"
    for call in ("harness.machine_header()", "harness.print_header(", "harness.add_arguments(ap", "harness.save("):
        assert call in source, f"{script} does not call {call}"
    assert "platform.processor" not in source  # the header is the harness's


def test_bench_conv_computes_what_the_model_computes(bench):
    """bench_conv writes the model's private convolution out; the two agree."""
    import jax

    from jaxlstm.model import _Conv1D

    bench_conv = bench("bench_conv")
    params = bench_conv.init_params(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (2, 9, bench_conv.FEATURES))
    (filters, width), p = bench_conv.BLOCKS[0], params[0]
    np.testing.assert_allclose(bench_conv.conv_windows(p, x), _Conv1D(filters, width).apply({"params": p}, x),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bench_conv.window_matmul(params, x), bench_conv.lax_conv(params, x), rtol=1e-4)


def test_bench_remedies_none_is_bench_imbalances_a_and_every_remedy_is_one_setting(bench):
    """The ablation's rows compare like with like: remedy "none" is (a) of
    bench_imbalance exactly, each other remedy changes only its own keys (and
    sampling + augmentation is the two rows' settings together), and sweeps
    and the estimator read every setting the same way."""
    from jaxlstm import LSTMClassifier
    from jaxlstm.plan import DEFAULTS, normalise

    bench_remedies = bench("bench_remedies")
    bench_imbalance = bench("bench_imbalance")
    remedies = bench_remedies.REMEDIES
    assert bench_remedies.config(remedies["none"], 40) == bench_imbalance.BASE
    base = normalise(bench_remedies.config({}, 40))
    for label, remedy in remedies.items():
        cfg = normalise(bench_remedies.config(remedy, 40))
        changed = {k for k in DEFAULTS if cfg[k] != base[k]}
        expected = {"class_weight_exponent"} if "class_weight" in remedy else set(remedy)
        assert changed == expected, label
        assert LSTMClassifier(**bench_remedies.config(remedy, 40)).get_params()["epochs"] == 40
    both = remedies["balanced sampling + augmentation"]
    assert both == {**remedies["balanced sampling"], **remedies["augmentation"]}
    assert normalise(bench_remedies.config(remedies["balanced weights"], 40))["class_weight_exponent"] == 1.0


@pytest.mark.parametrize("heading,rows_file,n", [
    ("### The shipped code, 3 seeds, one commit (`3308d18`)", "bench_imbalance-rows-head-2026-12-04.jsonl", 7),
    ("### The search with MiniRocket's ridge classifier, 3 seeds", "bench_imbalance-rows-ridge-3seeds-2026-12-06.jsonl",
     9),
    ("### Held out at scale: ElectricDevices", "bench_imbalance-rows-electricdevices-2026-12-06.jsonl", 1),
    ("### The default search with MultiRocket, 3 seeds", "bench_imbalance-rows-multirocket-3seeds-2026-12-06.jsonl", 9),
    ("### Earthquakes at the default 10-minute budget", "bench_imbalance-rows-multirocket-eq10-3seeds-2026-12-06.jsonl",
     1),
    ("### The default search with CAWPE over the 5 best", "bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl", 9),
    ("### The default search with CAWPE at the default 10-minute budget",
     "bench_imbalance-rows-cawpe-eq10-3seeds-2026-12-06.jsonl", 1),
    ("### The default search at the default 10-minute budget: DistalPhalanxTW",
     "bench_imbalance-rows-cawpe-dptw10-3seeds-2026-12-07.jsonl", 1),
    ("### DistalPhalanxOutlineAgeGroup at the default 10-minute budget",
     "bench_imbalance-rows-cawpe-dpoag10-3seeds-2026-12-07.jsonl", 1),
    ("### The default search at the default 10-minute budget on 8 of the 9 sets",
     "bench_imbalance-rows-cawpe-10min-3seeds-2026-12-07.jsonl", 8),
    ("### The held-out ECG5000 at the default 10-minute budget",
     "bench_imbalance-rows-cawpe-ecg5000-10min-3seeds-2026-12-07.jsonl", 1),
])
def test_the_table_to_cite_is_what_bench_imbalance_prints_from_its_rows(bench, heading, rows_file, n):
    """RESULTS.md's "table to cite" for the imbalanced suite is the script's
    ``--table-from ROWS --targets`` output of the rows file it names, row for
    row: sample standard deviations, the bold rule, candidates, the published
    accuracies and the gaps (until 2026-12-04 it was assembled by hand, and
    ``--table-from`` printed population standard deviations)."""
    bench_imbalance = bench("bench_imbalance")
    section = _results_section(heading)
    assert rows_file in section[:3000]
    cited = [line for line in section.splitlines() if line.startswith("| ") and "±" in line
             and ", acc " not in line]  # not a bench_blend probe table's line (the CAWPE section has one)
    rows = [json.loads(line) for line in open(BENCHMARKS / "results" / rows_file)]
    printed = [line for line in bench_imbalance.targets_table(rows).splitlines() if "±" in line]
    assert len(cited) == n and sorted(printed) == sorted(cited)


def test_the_10_minute_per_method_table_is_what_bench_imbalance_prints_from_its_rows(bench):
    """The per-method table (accuracy, balanced accuracy, macro F1 of (a), (b), (c)) added 2026-12-08 is
    ``--table-from`` of the rows file it names, line for line."""
    section = _results_section("### Every method's accuracy, balanced accuracy and macro F1 at the default 10-minute")
    rows_file = "bench_imbalance-rows-cawpe-10min-3seeds-2026-12-07.jsonl"
    assert rows_file in section
    cited = [line for line in section.splitlines() if line.startswith("| ") and "±" in line]
    rows = [json.loads(line) for line in open(BENCHMARKS / "results" / rows_file)]
    printed = [line for line in bench("bench_imbalance").table(rows).splitlines() if "±" in line]
    assert len(cited) == 24 and cited == printed


def _direct_convolution(mr, row, k: int, d: int) -> np.ndarray:
    """Kernel ``k`` (weights -1, and 2 at its three taps) at dilation ``d`` over one row, zero outside it."""
    w = np.full(9, -1.0)
    w[list(mr.KERNELS[k])] = 2.0
    n = len(row)
    return np.array([sum(w[j] * row[t + (j - 4) * d] for j in range(9) if 0 <= t + (j - 4) * d < n) for t in range(n)])


def test_bench_minirocket_features_are_the_papers_formula(bench):
    """The MiniRocket probe's vectorised transform against a direct loop:
    the convolution with weights -1 and three 2s at dilation d, zero outside
    the row, the proportion of positions above each bias, over the whole row
    ("same" padding) on even kernel + dilation indices and over the positions
    whose window lies inside the row on odd ones; values past a row's length
    are never read."""
    mr = bench("bench_minirocket")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 40, 2))
    lengths = np.array([40, 33, 40])
    p = mr.fit(x, lengths, num_features=840, seed=1)
    features = mr.transform(p, x, lengths)
    junk = x.copy()
    junk[1, 33:] = 1e6
    np.testing.assert_array_equal(mr.transform(p, junk, lengths), features)
    assert len(mr.KERNELS) == 84 and list(p["dilations"]) == [1, 2, 3, 4]  # up to (40 - 1) / 8: the longest row
    column = 0
    for di, d in enumerate(p["dilations"]):
        for k in range(84):
            biases = p["biases"][di * 84 + k]
            for i, n in enumerate(lengths):
                conv = _direct_convolution(mr, x[i, :n, p["channels"][di * 84 + k]].sum(0), k, d)  # channels summed
                ts = range(n) if (di + k) % 2 == 0 else range(4 * d, n - 4 * d)
                expected = [np.mean([conv[t] > b for t in ts]) for b in biases]
                np.testing.assert_allclose(features[i, column:column + len(biases)], expected, err_msg=f"{d} {k}")
            column += len(biases)
    assert column == features.shape[1] == 840
    short = mr.fit(x[:, :7], np.array([7, 5, 7]), num_features=840, seed=1)  # rows shorter than a kernel
    assert list(short["dilations"]) == [1]  # not [0, 1]: dilation 0 convolves to rounding noise


def test_bench_minirocket_multirocket_pools_are_the_papers_definitions(bench):
    """The probe's MultiRocket operators against a direct loop over each row's
    counted positions (``z`` = convolution minus bias): PPV its proportion of
    positive ``z``, MPV their mean (0 if none), MIPV their mean index from the
    first counted position (-1 if none), LSPV the longest run of positive
    ``z``; the first PPV block is MiniRocket's transform; the second half of
    ``transform_both`` reads first differences within each row."""
    mr = bench("bench_minirocket")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 30, 1))
    lengths = np.array([30, 21, 30])
    p = mr.fit(x, lengths, num_features=168, seed=4)
    got = mr.transform_multirocket(p, x, lengths)
    f = 168
    assert got.shape == (3, 4 * f)
    np.testing.assert_array_equal(got[:, :f], mr.transform(p, x, lengths))
    column = 0
    for di, d in enumerate(p["dilations"]):
        for k in range(84):
            for i, n in enumerate(lengths):
                conv = _direct_convolution(mr, x[i, :n, 0], k, d)
                ts = list(range(n) if (di + k) % 2 == 0 else range(4 * d, n - 4 * d)) or list(range(n))
                for b_i, b in enumerate(p["biases"][di * 84 + k]):
                    z = [conv[t] - b for t in ts]
                    positive = [j for j, v in enumerate(z) if v > 0]
                    runs, best = 0, 0
                    for v in z:
                        runs = runs + 1 if v > 0 else 0
                        best = max(best, runs)
                    expected = [len(positive) / len(z), np.mean([z[j] for j in positive]) if positive else 0.0,
                                np.mean(positive) if positive else -1.0, best]
                    np.testing.assert_allclose(got[i, column + b_i + f * np.arange(4)], expected, err_msg=f"{d} {k}")
            column += len(p["biases"][di * 84 + k])
    both = mr.fit_multirocket(x, lengths, seed=0)
    xd = np.diff(x, axis=1)
    xd[1, 20:] = 0.0
    np.testing.assert_array_equal(mr.transform_both(both, x, lengths)[:, 4 * 6216:],
                                  mr.transform_multirocket(both["diff"], xd, lengths - 1))


def test_jaxlstm_multirocket_equals_the_float64_reference(bench):
    """jaxlstm.rocket.multirocket and .differences against the probe's
    float64 MultiRocket (checked against a direct loop above): the four
    operators of the series and of its first differences, given the same
    fitted channel subsets and biases -- multivariate, variable lengths (a
    row of 3 steps too), several dilations; integer inputs, so no comparison
    rounds differently. The PPV block is :func:`rocket.minirocket`."""
    import jax
    import jax.numpy as jnp

    from jaxlstm import rocket
    mr = bench("bench_minirocket")
    rng = np.random.default_rng(1)
    x = rng.integers(-4, 5, (6, 50, 2)).astype(np.float32)
    lengths = np.array([50, 31, 12, 50, 3, 44], np.int32)
    xd, ld = (np.asarray(a) for a in rocket.differences(jnp.asarray(x), jnp.asarray(lengths)))
    ref_xd, ref_ld = mr.differences(x.astype(np.float64), lengths)
    np.testing.assert_array_equal(ld, ref_ld)
    np.testing.assert_array_equal(xd[:, :-1], ref_xd)
    assert not xd[:, -1].any()
    for series, ls in ((x, lengths), (xd, ld)):
        dilations, per = rocket.minirocket_plan(840, int(ls.max()))
        p = rocket.fit_minirocket(jnp.asarray(series), jnp.asarray(ls), jnp.ones(6, bool), jax.random.key(1),
                                  dilations, per)
        got = np.asarray(rocket.multirocket(jnp.asarray(series), jnp.asarray(ls), p, dilations, per))
        ref = mr.transform_multirocket(_reference_params(p, dilations, per), series.astype(np.float64), ls)
        assert got.shape == ref.shape == (6, 4 * 84 * sum(per)) and len(dilations) > 2
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-5)
        np.testing.assert_array_equal(got[:, :84 * sum(per)],
                                      np.asarray(rocket.minirocket(jnp.asarray(series), jnp.asarray(ls), p,
                                                                   dilations, per)))
        assert (got[:, 3 * 84 * sum(per):] > 1).any()  # runs longer than one step



def test_rocket_features_in_blocks_of_rows_are_the_same_bits(monkeypatch):
    """Rows go through MiniRocket's and MultiRocket's pools in blocks (all
    at once took 30 GB for 4,307 rows of 166 steps): 11 rows in blocks of 4
    (the last one padded) give the same features bit for bit as one block."""
    import jax
    import jax.numpy as jnp

    from jaxlstm import rocket
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.normal(size=(11, 40, 2)).astype(np.float32))
    lengths = jnp.asarray([40, 31, 12, 40, 3, 44 - 4, 9, 1, 27, 40, 18], jnp.int32)
    dilations, per = rocket.minirocket_plan(840, 40)
    p = rocket.fit_minirocket(x, lengths, jnp.ones(11, bool), jax.random.key(1), dilations, per)
    whole = [np.asarray(f(x, lengths, p, dilations, per)) for f in (rocket.minirocket, rocket.multirocket)]
    monkeypatch.setattr(rocket, "_POOL_BYTES", 4 * 40 * 84 * max(per) * 4)
    blocks = [np.asarray(f(x, lengths, p, dilations, per)) for f in (rocket.minirocket, rocket.multirocket)]
    for a, b in zip(whole, blocks):
        assert a.shape == b.shape and a.shape[0] == 11
        np.testing.assert_array_equal(a, b)


def _reference_params(p, dilations, per_dilation) -> dict:
    """jaxlstm.rocket's fitted arrays in the probe's form (index lists, one bias vector per kernel/dilation)."""
    channels, biases = np.asarray(p.channels), np.asarray(p.biases, np.float64)
    per = [nb for nb in per_dilation for _ in range(84)]
    return dict(dilations=np.array(dilations), channels=[np.flatnonzero(r) for r in channels],
                biases=np.split(biases, np.cumsum(per)[:-1]))


def test_jaxlstm_minirocket_equals_the_float64_reference(bench):
    """jaxlstm.rocket (JAX, float32, vectorised) against the probe's float64
    NumPy transform (itself checked against a direct loop above): same
    dilations, and the same features given the same channel subsets and
    biases -- multivariate, variable lengths, several dilations. Integer
    inputs make every convolution exact in float32, so comparisons with the
    biases cannot round differently."""
    import jax
    import jax.numpy as jnp

    from jaxlstm import rocket
    mr = bench("bench_minirocket")
    for length in (5, 7, 9, 33, 131, 512):
        x = np.zeros((1, length, 1))
        assert rocket.minirocket_plan(9996, length)[0] == tuple(mr.fit(x, np.array([length]))["dilations"])
    rng = np.random.default_rng(0)
    n, t, c = 10, 48, 3
    x = rng.integers(-4, 5, (n, t, c)).astype(np.float32)
    lengths = np.array([48, 40, 33, 48, 45, 36, 48, 41, 47, 48], np.int32)
    dilations, per = rocket.minirocket_plan(1000, int(lengths.max()))
    assert dilations == (1, 2, 3, 4, 5) and 84 * sum(per) == 924  # up to (48 - 1) / 8: at dilation 5 (a kernel spans
    # 41 steps) the rows of 33-40 steps have no inner window and count their whole length
    train = np.arange(n) < 7
    p = rocket.fit_minirocket(jnp.asarray(x), jnp.asarray(lengths), jnp.asarray(train), jax.random.key(3),
                              dilations, per)
    got = np.asarray(rocket.minirocket(jnp.asarray(x), jnp.asarray(lengths), p, dilations, per))
    ref = _reference_params(p, dilations, per)
    np.testing.assert_allclose(got, mr.transform(ref, x.astype(np.float64), lengths), atol=1e-6)
    assert len({tuple(ch) for ch in ref["channels"]}) > 1  # subsets differ between kernels
    assert all(1 <= len(ch) <= c for ch in ref["channels"])
    # each kernel/dilation's biases: np.quantile of its convolution of one training row, at the
    # paper's low-discrepancy quantiles, and never a held-out row's
    q = (np.arange(1, 925) * ((np.sqrt(5) + 1) / 2)) % 1
    f = 0
    for di, (d, nb) in enumerate(zip(dilations, per)):
        for k in range(84):
            chans = ref["channels"][di * 84 + k]
            convs = [mr.convolve(mr.shifted(x[i:i + 1].astype(np.float64), lengths[i:i + 1], d)[..., chans], k)
                     [0, :lengths[i]] for i in range(n)]
            match = [i for i in range(n) if np.allclose(np.quantile(convs[i], q[f:f + nb]), ref["biases"][di * 84 + k],
                                                       atol=1e-4)]
            assert any(train[i] for i in match), (d, k, match)  # integer rows may tie with a held-out one
            f += nb
    junk = x.copy()
    junk[~train] = rng.normal(size=junk[~train].shape) * 1e3  # held-out rows: nothing fitted reads them
    again = rocket.fit_minirocket(jnp.asarray(junk), jnp.asarray(lengths), jnp.asarray(train), jax.random.key(3),
                                  dilations, per)
    np.testing.assert_array_equal(np.asarray(again.biases), np.asarray(p.biases))


@pytest.mark.parametrize("heading,after,befores", [
    ("### The MiniRocket branch in the default search", "bench_imbalance-rows-minirocket-2026-12-05.jsonl",
     (("bench_imbalance-rows-head-2026-12-04.jsonl", 11), ("bench_imbalance-rows-heldout-2026-12-05.jsonl", 2))),
    ("### MiniRocket's ridge classifier in the default search", "bench_imbalance-rows-ridge-2026-12-05.jsonl",
     (("bench_imbalance-rows-minirocket-2026-12-05.jsonl", 13),)),
    ("### MultiRocket as another model family", "bench_imbalance-rows-multirocket-2026-12-06.jsonl",
     (("bench_imbalance-rows-ridge-3seeds-2026-12-06.jsonl", 15),)),
    ("### The default search with MultiRocket, 3 seeds", "bench_imbalance-rows-multirocket-3seeds-2026-12-06.jsonl",
     (("bench_imbalance-rows-ridge-3seeds-2026-12-06.jsonl", 27),)),
    ("### The default search with CAWPE at the default 10-minute budget",
     "bench_imbalance-rows-cawpe-eq10-3seeds-2026-12-06.jsonl",
     (("bench_imbalance-rows-multirocket-eq10-3seeds-2026-12-06.jsonl", 3),)),
    ("### The default search at the default 10-minute budget: DistalPhalanxTW",
     "bench_imbalance-rows-cawpe-dptw10-3seeds-2026-12-07.jsonl",
     (("bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl", 3),)),
    ("### DistalPhalanxOutlineAgeGroup at the default 10-minute budget",
     "bench_imbalance-rows-cawpe-dpoag10-3seeds-2026-12-07.jsonl",
     (("bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl", 3),)),
    ("### The default search at the default 10-minute budget on 8 of the 9 sets",
     "bench_imbalance-rows-cawpe-10min-3seeds-2026-12-07.jsonl",
     (("bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl", 24),)),
    ("### The held-out ECG5000 at the default 10-minute budget",
     "bench_imbalance-rows-cawpe-ecg5000-10min-3seeds-2026-12-07.jsonl",
     (("bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl", 3),)),
])
def test_the_default_search_tables_are_what_bench_imbalance_prints_from_their_rows(bench, heading, after, befores):
    """RESULTS.md's tables of the default search after a change are
    ``--table-from ROWS --paired-with BEFORE_ROWS`` of the files they name, row for row."""
    bench_imbalance = bench("bench_imbalance")
    section = _results_section(heading)
    load = lambda name: [json.loads(line) for line in open(BENCHMARKS / "results" / name)]
    for before, n in befores:
        assert after in section and before in section
        printed = bench_imbalance.paired_table(load(before), load(after)).splitlines()[2:]
        cited = [line for line in section.splitlines() if line.startswith("| ") and line in printed]
        assert len(printed) == n and cited == printed, before


def test_the_multirocket_table_to_cite_is_built_from_the_rows_it_names():
    """``bench_imbalance-rows-multirocket-3seeds``: (a) and (b) are the previous
    table's rows, line for line, and the 15 (c) rows measured in "MultiRocket
    as another model family" are among its 27 (c) rows, one per dataset and seed."""
    read = lambda name: open(BENCHMARKS / "results" / name).read().splitlines()
    rows = read("bench_imbalance-rows-multirocket-3seeds-2026-12-06.jsonl")
    before = [line for line in read("bench_imbalance-rows-ridge-3seeds-2026-12-06.jsonl")
              if json.loads(line)["method"] in ("a", "b")]
    c = [line for line in rows if json.loads(line)["method"] == "c"]
    assert rows[:len(before)] == before and len(rows) == len(before) + len(c)
    assert set(read("bench_imbalance-rows-multirocket-2026-12-06.jsonl")) <= set(c)
    assert len({(json.loads(line)["dataset"], json.loads(line)["seed"]) for line in c}) == len(c) == 27


def test_the_10_minute_table_is_built_from_the_rows_it_names():
    """``bench_imbalance-rows-cawpe-10min-3seeds``: per dataset, (a) and (b)
    are the table to cite's rows, line for line; (c) is 3 seeds at the default
    10-minute budget, the Earthquakes and DistalPhalanx (c) rows those of their
    own sections' files, line for line."""
    read = lambda name: open(BENCHMARKS / "results" / name).read().splitlines()
    rows = read("bench_imbalance-rows-cawpe-10min-3seeds-2026-12-07.jsonl")
    cite = read("bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl")
    key = lambda line: (json.loads(line)["dataset"], json.loads(line)["method"])
    datasets = list(dict.fromkeys(key(line)[0] for line in rows))
    assert len(datasets) == 8 and "ECG5000" not in datasets
    for name in datasets:
        mine = [line for line in rows if key(line)[0] == name]
        assert [line for line in mine if key(line)[1] != "c"] == [line for line in cite if key(line) in
                                                                 ((name, "a"), (name, "b"))], name
        c = [json.loads(line) for line in mine if key(line)[1] == "c"]
        # Earthquakes' seed 0 is a bench_blend probe's row (no budget key; its section ran it at 10 minutes)
        probe = name == "Earthquakes"
        assert [(r["seed"], r.get("budget_minutes")) for r in c] == [(s, None if probe and not s else 10.0)
                                                                      for s in (0, 1, 2)], name
    for earlier in ("eq10-3seeds-2026-12-06", "dptw10-3seeds-2026-12-07", "dpoag10-3seeds-2026-12-07"):
        c = [line for line in read(f"bench_imbalance-rows-cawpe-{earlier}.jsonl") if key(line)[1] == "c"]
        assert len(c) == 3 and set(c) <= set(rows), earlier


def _lines(name: str) -> list[str]:
    return (BENCHMARKS / "results" / name).read_text().splitlines()


def _built_on(rows_file: str, cited_file: str, dataset: str) -> tuple[list[str], list[str], list[dict]]:
    """A 10-minute rows file's lines, the cited file's (a) and (b) lines of ``dataset`` it should start with,
    and its (c) rows after them."""
    rows = _lines(rows_file)
    before = [line for line in _lines(cited_file)
              if json.loads(line)["dataset"] == dataset and json.loads(line)["method"] in ("a", "b")]
    return rows, before, [json.loads(line) for line in rows[len(before):]]


def test_the_ecg5000_10_minute_table_is_built_from_the_rows_it_names():
    """``bench_imbalance-rows-cawpe-ecg5000-10min-3seeds``: (a) and (b) are the
    table to cite's ECG5000 rows, line for line; then (c), seeds 0-2 at 10 minutes."""
    rows, before, c = _built_on("bench_imbalance-rows-cawpe-ecg5000-10min-3seeds-2026-12-07.jsonl",
                                "bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl", "ECG5000")
    assert rows[:len(before)] == before and len(before) == 6
    assert [(r["dataset"], r["method"], r["seed"], r["budget_minutes"]) for r in c] == [
        ("ECG5000", "c", s, 10.0) for s in (0, 1, 2)]


def test_the_earthquakes_10_minute_table_is_built_from_the_rows_it_names():
    """``bench_imbalance-rows-multirocket-eq10-3seeds``: (a) and (b) are the
    table to cite's Earthquakes rows, line for line; (c) is the 10-minute seed
    0 row measured before, then seeds 1 and 2, all at a 10-minute budget."""
    rows, before, c = _built_on("bench_imbalance-rows-multirocket-eq10-3seeds-2026-12-06.jsonl",
                                "bench_imbalance-rows-multirocket-3seeds-2026-12-06.jsonl", "Earthquakes")
    assert rows[:len(before)] == before and len(before) == 6
    assert rows[len(before)] == _lines("bench_imbalance-rows-multirocket-eq10-2026-12-06.jsonl")[0]
    assert [(r["method"], r["seed"], r["budget_minutes"]) for r in c] == [("c", s, 10.0) for s in (0, 1, 2)]


def test_every_rows_file_results_md_names_is_in_the_repository():
    """A table in RESULTS.md is only reproducible from its rows: every
    ``bench_*-rows-*.jsonl`` (or ``.jsonl.gz``) it names is in ``benchmarks/results``
    (one was once left out of a commit)."""
    names = set(re.findall(r"bench_\w+-rows-[\w.-]+?\.jsonl(?:\.gz)?", (BENCHMARKS / "RESULTS.md").read_text()))
    assert len(names) > 30 and not [n for n in sorted(names) if not (BENCHMARKS / "results" / n).is_file()]


def test_bench_blend_rules_weight_the_candidates_as_documented(bench):
    """bench_blend's rules on a hand-made row: CAWPE weights each finished candidate by its CV score to the
    power 4 (0.9, 0.6, 0.8 -> 0.6561, 0.1296, 0.4096), its families variant keeps each family's best, the
    Caruana rule the shipped ensemble's counts; the out-of-fold score is scikit-learn's, NaN rows uniform."""
    from sklearn.metrics import balanced_accuracy_score

    blend = bench("bench_blend")
    p_b = {0: [0.6, 0.4, 0.2, 0.3, 0.35], 1: [0.0, 0.9, 0.2, 1.0, 0.5], 2: [0.45, 0.75, 0.2, 0.6, 0.66]}
    oof_b = {0: [0.7, 0.2, np.nan, 0.6], 1: [0.1, 0.9, 0.3, 0.2], 2: [0.6, 0.6, 0.4, 0.4]}
    params = {0: {"classifier": "network", "lstm_over": "time", "conv_filters": "()"},
              1: {"classifier": "network", "lstm_over": "time", "conv_filters": "()"},
              2: {"classifier": "minirocket", "lstm_over": "time", "conv_filters": "()"}}
    row = {"classes": ["a", "b"], "y_oof": [1, 0, 0, 1], "where": [1.0, 1.0, 1.0, 0.0], "best_index": 0,
           "c_pred": ["a"] * 5, "ensemble": {"indices": [0, 2], "weights": [2, 1]},
           "candidates": [{"index": i, "params": params[i], "cv": cv,
                           "test": [[1 - p, p] for p in p_b[i]], "oof": [[1 - p, p] for p in oof_b[i]]}
                          for i, cv in ((0, 0.9), (1, 0.6), (2, 0.8))]}
    got = blend.rules(row)
    # too few out-of-fold rows to cross-fit decision offsets (3 < 6): not kept, CAWPE's labels
    expected = {"shipped": "aaaaa", "best": "baaaa", "cawpe": "abaaa", "cawpe_offsets": "abaaa",
                "cawpe5_offsets": "abaaa", "cawpe_families": "bbaaa", "mean_families": "bbaab", "ensemble": "bbaaa"}
    assert {k: "".join(v[0]) for k, v in got.items()} == expected
    assert blend.family(params[0]) == "LSTM over time" and blend.family(params[2]) == "minirocket"
    assert blend.family({"classifier": "network", "lstm_over": "channels", "conv_filters": "(64, 128, 64)"}) == \
        "LSTM over channels + FCN"
    # best's out-of-fold rows: 0.7 -> b, 0.2 -> a, NaN -> uniform (argmax a); the fourth has weight 0
    assert got["best"][1] == balanced_accuracy_score([1, 0, 0], [1, 0, 0]) == 1.0
    # CAWPE's: (0.6561 * 0.2 + 0.1296 * 0.9 + 0.4096 * 0.6) / 1.1953 = 0.4627 -> a on the second row
    assert got["cawpe"][1] == 1.0 and np.isnan(got["shipped"][1])
    mean2 = (0.2 + 0.6) / 2  # mean of the families' bests (0 and 2) on the second row: a
    assert mean2 < 0.5 and got["mean_families"][1] == 1.0


@pytest.mark.parametrize("heading,rows_file,n", [
    ("### Probe: CAWPE instead of ensemble selection", "bench_blend-rows-2026-12-06.jsonl.gz", 5),
    ("### The default search with CAWPE over the 5 best", "bench_blend-rows-cawpe-2026-12-06.jsonl.gz", 4),
])
def test_the_cawpe_probe_tables_are_what_bench_blend_prints_from_their_rows(bench, heading, rows_file, n):
    """RESULTS.md's CAWPE probe tables are ``bench_blend.py --table-from`` of the rows file each names (gzip)."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    section = _results_section(heading)
    assert rows_file in section[:3000]
    cited = [line for line in section.splitlines() if line.startswith("| ") and "±" in line and ", acc " in line]
    assert len(cited) == n
    # FiftyWords' 50-class decision offsets take most of a minute to fit; its line is the same code on other rows
    rows = [r for r in bench_imbalance.read_rows(BENCHMARKS / "results" / rows_file) if r["dataset"] != "FiftyWords"]
    printed = [line for line in blend.table(rows).splitlines() if "±" in line]
    assert [line for line in cited if not line.startswith("| FiftyWords |")] == printed


def _cited_beside_the_table_to_cite(blend, bench_imbalance, row, rows, heading):
    """A 10-minute run's rows file: its (a) and (b) are the table to cite's rows of the probe row's dataset, and
    the section under ``heading`` shows ``bench_blend.table`` of the probe row."""
    cited = [r for r in bench_imbalance.read_rows(BENCHMARKS / "results" /
                                                  "bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl")
             if r["dataset"] == row["dataset"] and r["method"] in ("a", "b")]
    assert [r for r in rows if r["method"] in ("a", "b")] == cited and len(cited) == 6
    section = _results_section(heading)
    assert blend.table([row]).splitlines()[-1] in section.splitlines()


def test_the_10_minute_cawpe_probe_row_is_the_presets_own_run(bench):
    """The Earthquakes 10-minute probe row (seed 0): ``cawpe5_offsets`` computed from its stored probabilities
    gives the preset's own 139 test predictions; its (c) row in the table's rows file is those predictions with
    the search's own seconds; (a) and (b) are the table to cite's Earthquakes rows; RESULTS.md's probe line is
    ``bench_blend.table`` of it."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    results = BENCHMARKS / "results"
    (row,) = bench_imbalance.read_rows(results / "bench_blend-rows-cawpe-eq10-2026-12-06.jsonl.gz")
    assert list(blend.rules(row)["cawpe5_offsets"][0]) == row["c_pred"] and row["ensemble"]["rule"] == "cawpe"
    rows = bench_imbalance.read_rows(results / "bench_imbalance-rows-cawpe-eq10-3seeds-2026-12-06.jsonl")
    c0 = next(r for r in rows if r["method"] == "c" and r["seed"] == 0)
    assert c0["y_pred"] == row["c_pred"] and c0["seconds"] == row["seconds_c"]
    _cited_beside_the_table_to_cite(blend, bench_imbalance, row, rows,
                                    "### The default search with CAWPE at the default 10-minute budget")


def test_the_10_minute_distalphalanxtw_probe_row_is_the_presets_own_run(bench):
    """DistalPhalanxTW at 10 minutes, seed 0: the probe's search finished all 25 candidates and predicted what
    the table's (c) seed-0 run predicted (the budget cut neither); ``cawpe5_offsets`` from the stored
    probabilities gives those predictions; the 8 best by CV are one family (the section's reading); (a) and (b)
    are the table to cite's DistalPhalanxTW rows; RESULTS.md's probe line is ``bench_blend.table`` of the row."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    results = BENCHMARKS / "results"
    (row,) = bench_imbalance.read_rows(results / "bench_blend-rows-cawpe-dptw10-2026-12-07.jsonl.gz")
    rows = bench_imbalance.read_rows(results / "bench_imbalance-rows-cawpe-dptw10-3seeds-2026-12-07.jsonl")
    c0 = next(r for r in rows if r["method"] == "c" and r["seed"] == 0)
    assert len(row["candidates"]) == 25 and c0["candidates"] == {"ok": 25, "diverged": 0, "unfinished": 0}
    assert c0["y_pred"] == row["c_pred"] == list(blend.rules(row)["cawpe5_offsets"][0])
    by_index = {c["index"]: c for c in row["candidates"]}
    assert {blend.family(by_index[i]["params"]) for i in blend.top(row, 8)} == {"LSTM over channels + FCN"}
    _cited_beside_the_table_to_cite(blend, bench_imbalance, row, rows,
                                    "### The default search at the default 10-minute budget: DistalPhalanxTW")


def test_the_ecg5000_10_minute_probe_row_is_the_presets_own_run_and_its_tables_are_the_scripts(bench):
    """ECG5000 at 10 minutes, seed 0: the probe's search finished the same 15 candidates, refitted the same 5 and
    predicted what the 10-minute table's (c) seed-0 run predicted; ``cawpe5_offsets`` from the stored
    probabilities gives those predictions; its section's tables are ``bench_blend.py --table-from`` and
    ``--offsets-from`` of the row, and the counts it reads (class 2 rows predicted as class 4 without and with the
    offsets) are the row's."""
    from sklearn.metrics import confusion_matrix

    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    results = BENCHMARKS / "results"
    (row,) = bench_imbalance.read_rows(results / "bench_blend-rows-cawpe-ecg5000-10-2026-12-07.jsonl.gz")
    rows = bench_imbalance.read_rows(results / "bench_imbalance-rows-cawpe-ecg5000-10min-3seeds-2026-12-07.jsonl")
    c0 = next(r for r in rows if r["method"] == "c" and r["seed"] == 0)
    assert len(row["candidates"]) == c0["candidates"]["ok"] == 15
    assert row["ensemble"]["indices"] == c0["ensemble_selection"]["indices"] == [3, 11, 9, 14, 1]
    got = blend.rules(row)
    assert c0["y_pred"] == row["c_pred"] == list(got["cawpe5_offsets"][0])
    section = _results_section("### Probe: what cost the held-out ECG5000's seed 0 its accuracy")
    cited = [line for line in section.splitlines() if line.startswith("| ")]
    printed = [blend.table([row]), blend.offsets_table([row])]
    assert cited == [line for text in printed for line in text.splitlines() if line.startswith("| ")]
    cm = {k: confusion_matrix(row["y_test"], got[k][0], labels=row["classes"]) for k in ("ensemble", "shipped")}
    assert (cm["ensemble"][1, 3], cm["shipped"][1, 3], cm["ensemble"][3, 3], cm["shipped"][3, 3]) == (166, 439, 92, 116)


def test_the_distalphalanxtw_seed_1_probe_row_is_the_presets_own_run_and_its_tables_are_the_scripts(bench):
    """DistalPhalanxTW at 10 minutes, seed 1: the probe's search finished all 25 candidates, refitted the same 5 and
    predicted what the table's (c) seed-1 run predicted (the budget cut neither); ``cawpe5_offsets`` from the
    stored probabilities gives those predictions; its section's tables are ``bench_blend.py --table-from`` of the
    row and ``--offsets-from`` of both DistalPhalanxTW 10-minute probe rows (seeds 0 and 1)."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    results = BENCHMARKS / "results"
    (row,) = bench_imbalance.read_rows(results / "bench_blend-rows-cawpe-dptw10-s1-2026-12-07.jsonl.gz")
    (row0,) = bench_imbalance.read_rows(results / "bench_blend-rows-cawpe-dptw10-2026-12-07.jsonl.gz")
    rows = bench_imbalance.read_rows(results / "bench_imbalance-rows-cawpe-dptw10-3seeds-2026-12-07.jsonl")
    c1 = next(r for r in rows if r["method"] == "c" and r["seed"] == 1)
    assert len(row["candidates"]) == 25 and c1["candidates"] == {"ok": 25, "diverged": 0, "unfinished": 0}
    assert row["ensemble"]["indices"] == c1["ensemble_selection"]["indices"] == [22, 1, 17, 4, 15]
    assert c1["y_pred"] == row["c_pred"] == list(blend.rules(row)["cawpe5_offsets"][0])
    section = _results_section("### Probe: DistalPhalanxTW's seed 1 at 10 minutes")
    cited = [line for line in section.splitlines() if line.startswith("| ")]
    printed = [blend.table([row]), blend.offsets_table([row0, row])]
    assert cited == [line for text in printed for line in text.splitlines() if line.startswith("| ")]


def test_the_offsets_keep_rule_tables_are_what_bench_blend_prints_from_the_probes_rows(bench):
    """RESULTS.md's keep-rule probe: both tables are ``bench_blend.py --offsets-from`` of the two CAWPE probes'
    rows (27 fits), and the keep column is the search's own rule (cross-fitted gain above 0)."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    section = _results_section("### Probe: a stricter keep rule for the decision offsets")
    rows = [r for f in ("bench_blend-rows-2026-12-06.jsonl.gz", "bench_blend-rows-cawpe-2026-12-06.jsonl.gz")
            for r in bench_imbalance.read_rows(BENCHMARKS / "results" / f) if r["dataset"] != "FiftyWords"]
    printed = blend.offsets_table(rows)  # FiftyWords' 50-class offsets left out: most of the time, the same code
    cited = [line for line in section.splitlines() if line.startswith("| ")]
    assert len(cited) == 2 + 27 + 9
    assert [line for line in cited if not line.startswith("| FiftyWords |")] == [
        line for line in printed.splitlines() if line.startswith("| ")]
    fits = [line.split(" | ") for line in cited[1:28]]
    assert all((f[4] == "yes") == (float(f[3]) > 0) for f in fits)
    assert [f[4] for f in fits if f[0] == "| Earthquakes"] == ["yes"] * 3


def test_bench_blend_caps_keep_near_copies_out_of_cawpes_5(bench):
    """``capped_weights`` on a hand-made row: the 5 best by CV (the search's best first), skipping a third of one
    family under a cap of 2, or a candidate whose out-of-fold labels agree with a picked one's on 95% of the rows;
    weights CV ** 4; no cap is ``cawpe_weights``."""
    blend = bench("bench_blend")
    fcn = {"conv_filters": "(64, 128, 64)", "lstm_over": "channels"}
    labels = {0: [0, 1, 0, 1], 1: [0, 1, 0, 1], 2: [1, 1, 0, 1], 3: [0, 0, 0, 0], 4: [1, 0, 1, 0], 5: [1, 1, 1, 1]}
    params = {0: fcn, 1: fcn, 2: fcn, 3: {"classifier": "minirocket"}, 4: {}, 5: {"classifier": "multirocket"}}
    cv = {0: 0.7, 1: 0.8, 2: 0.75, 3: 0.6, 4: 0.5, 5: 0.4}
    row = dict(best_index=0, where=[1, 1, 1, 1],
               candidates=[dict(index=i, cv=cv[i], params=params[i], oof=np.eye(2)[labels[i]].tolist()) for i in cv])
    assert blend.capped_weights(row, 5, None, None) == blend.cawpe_weights(row, 5)
    assert list(blend.cawpe_weights(row, 5)) == [0, 1, 2, 3, 4]
    assert blend.capped_weights(row, 5, 2, None) == {i: cv[i] ** 4 for i in (0, 1, 3, 4, 5)}
    assert list(blend.capped_weights(row, 5, 1, None)) == [0, 3, 4, 5]  # only 4 families
    assert list(blend.capped_weights(row, 5, None, 0.95)) == [0, 2, 3, 4, 5]  # 1's labels are 0's
    assert list(blend.capped_weights(row, 5, None, 0.75)) == [0, 3, 4, 5]  # 2 agrees with 0 on 3 of 4


def test_the_near_copy_cap_tables_are_what_bench_blend_prints_from_the_probe_rows(bench):
    """RESULTS.md's near-copy probe: the 10-minute table is ``bench_blend.py --caps-from`` of the eight 10-minute
    probe rows (the four new ones' shipped predictions are the rule's; JapaneseVowels' and ECG200's are the
    10-minute table's, the DistalPhalanx ones not, as the section says); the 2-minute table's DistalPhalanxTW and
    ECG5000 lines (where the rules differ most) are what it prints from the two CAWPE probes' rows of those sets,
    and its first column is the table to cite's (c)."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    section = _results_section("### Probe: near copies kept out of CAWPE's 5")
    cited = [line for line in section.splitlines() if line.startswith("|")]
    assert len(cited) == 2 + 9 + 2 + 6
    results = BENCHMARKS / "results"
    ten = [r for f in ("dptw10-2026-12-07", "dptw10-s1-2026-12-07", "10min-2026-12-07", "eq10-2026-12-06",
                       "ecg5000-10-2026-12-07")
           for r in bench_imbalance.read_rows(results / f"bench_blend-rows-cawpe-{f}.jsonl.gz")]
    assert cited[11:] == blend.caps_table(ten).splitlines()
    new = bench_imbalance.read_rows(results / "bench_blend-rows-cawpe-10min-2026-12-07.jsonl.gz")
    assert all(list(blend.rules(r)["cawpe5_offsets"][0]) == r["c_pred"] for r in new)  # shipped = the rule
    table = {(r["dataset"], r["seed"]): r["y_pred"] for r in bench_imbalance.read_rows(
        results / "bench_imbalance-rows-cawpe-10min-3seeds-2026-12-07.jsonl") if r["method"] == "c"}
    assert [table[r["dataset"], r["seed"]] == r["c_pred"] for r in new] == [True, True, False, False]  # as written
    two = [r for f in ("bench_blend-rows-2026-12-06.jsonl.gz", "bench_blend-rows-cawpe-2026-12-06.jsonl.gz")
           for r in bench_imbalance.read_rows(results / f) if r["dataset"] in ("DistalPhalanxTW", "ECG5000")]
    printed = blend.caps_table(two).splitlines()
    assert cited[:2] == printed[:2]
    assert [line for line in cited[:11] if line.split(" | ")[0] in ("| DistalPhalanxTW", "| ECG5000")] == printed[2:]
    cite = {(r["dataset"], r["seed"]): r["y_pred"] for r in bench_imbalance.read_rows(
        results / "bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl") if r["method"] == "c"}
    assert all(cite[r["dataset"], r["seed"]] == list(blend.rules(r)["cawpe5_offsets"][0]) for r in two)


def test_the_ranking_metric_tables_are_what_bench_blend_prints_from_the_probe_rows(bench):
    """RESULTS.md's ranking-metric probe: ``cv_scores`` under the search's own metric gives every stored CV score
    (it recomputes what the search ranked by), and ranked by it the table's blend gives the search's own
    predictions (the 10-minute rows'); the section's lines for DistalPhalanxTW and Earthquakes at both budgets are
    what ``--metrics-from`` prints (the other sets: the same code, slower to test), and each table's last line
    counts the development sets its cells put within 2 points."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    results, sets = BENCHMARKS / "results", ("DistalPhalanxTW", "Earthquakes")
    two = [r for f in ("bench_blend-rows-2026-12-06.jsonl.gz",) for r in bench_imbalance.read_rows(results / f)
           if r["dataset"] in sets]
    ten = [r for f in ("dptw10-2026-12-07", "dptw10-s1-2026-12-07", "10min-2026-12-07", "eq10-2026-12-06")
           for r in bench_imbalance.read_rows(results / f"bench_blend-rows-cawpe-{f}.jsonl.gz") if r["dataset"] in sets]
    for row in two + ten:
        assert blend.cv_scores(row, "balanced_accuracy") == {c["index"]: c["cv"] for c in row["candidates"]}
    for row in ten:
        weights = blend.cawpe_weights(row, 5, blend.cv_scores(row, "balanced_accuracy"))
        labels = blend.offset_labels(np.asarray(row["y_oof"]), np.asarray(row["where"], np.float64),
                                     *blend.blend_probs(row, weights))
        assert list(np.asarray(row["classes"])[labels]) == row["c_pred"]
    section = _results_section("### Probe: the ranking metric")
    tables = [[line for line in part.splitlines() if line.startswith("|")] for part in section.split("\n\n")]
    cited_two, cited_ten = [t for t in tables if t]
    assert len(cited_two) == 2 + 9 + 1 and len(cited_ten) == 2 + 6 + 1
    for cited, rows in ((cited_two, two), (cited_ten, ten)):
        printed = blend.metrics_table(rows).splitlines()
        assert cited[:2] == printed[:2]
        assert [line for line in cited[2:-1] if line.split(" | ")[0][2:] in sets] == printed[2:-1]
        mine = [line.split(" | ") for line in cited[2:-1] if line.split(" | ")[0][2:] in bench_imbalance.SUITE]
        near = [sum(float(cells[k].rsplit("(", 1)[1].rstrip(") |")) >= -0.02 for cells in mine) for k in (3, 4, 5)]
        assert cited[-1] == ("| development sets within 2 points of the best published accuracy | | | "
                             + " | ".join(f"{n} of {len(mine)}" for n in near) + " |")


def test_bench_blend_offsets_on_the_shipped_ensemble_give_the_searchs_own_predictions(bench):
    """``cawpe_offsets``' offsets step, run on the shipped ensemble's stored out-of-fold and test probabilities,
    gives (c)'s own test predictions: the kept offsets of Earthquakes (all 3 seeds) and the dropped ones of a
    DistalPhalanxTW seed -- it is the search's rule, not a copy of it."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    rows = bench_imbalance.read_rows(BENCHMARKS / "results" / "bench_blend-rows-2026-12-06.jsonl.gz")
    rows = [r for r in rows if r["dataset"] == "Earthquakes" or (r["dataset"], r["seed"]) == ("DistalPhalanxTW", 0)]
    assert [r["offsets"]["kept"] for r in rows] == [False, True, True, True]
    for row in rows:
        test = {c["index"]: np.asarray(c["test"]) for c in row["candidates"]}
        oof = {c["index"]: np.nan_to_num(np.asarray(c["oof"]), nan=1 / len(row["classes"])) for c in row["candidates"]}
        weights = dict(zip(row["ensemble"]["indices"], row["ensemble"]["weights"]))
        p_test = sum(w * test[i] for i, w in weights.items()) / sum(weights.values())
        p_oof = sum(w * oof[i] for i, w in weights.items()) / sum(weights.values())
        labels = blend.offset_labels(np.asarray(row["y_oof"]), np.asarray(row["where"]), p_oof, p_test)
        got = np.asarray(row["classes"])[labels]
        assert (got == np.asarray(row["c_pred"])).all()
        assert row["offsets"]["kept"] == (got != np.asarray(row["classes"])[p_test.argmax(1)]).any()


def test_the_cawpe_table_to_cites_c_rows_are_the_probes_cawpe5_offsets_predictions(bench):
    """The (c) rows of the table to cite since the preset's CAWPE are ``bench_blend.py --c-rows-from`` of the
    probe's rows under its ``cawpe5_offsets`` rule (checked on the DistalPhalanxTW and ECG200 fits); its (a) and
    (b) rows are the previous table's."""
    blend, bench_imbalance = bench("bench_blend"), bench("bench_imbalance")
    results = BENCHMARKS / "results"
    cited = bench_imbalance.read_rows(results / "bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl")
    probe = [r for f in ("bench_blend-rows-2026-12-06.jsonl.gz", "bench_blend-rows-cawpe-2026-12-06.jsonl.gz")
             for r in bench_imbalance.read_rows(results / f) if r["dataset"] in ("DistalPhalanxTW", "ECG200")]
    derived = blend.c_rows(probe, "cawpe5_offsets")
    c = {(r["dataset"], r["seed"]): r for r in cited if r["method"] == "c"}
    assert len(derived) == 6 and all(c[r["dataset"], r["seed"]] == json.loads(json.dumps(r)) for r in derived)
    before = bench_imbalance.read_rows(results / "bench_imbalance-rows-multirocket-3seeds-2026-12-06.jsonl")
    assert [r for r in cited if r["method"] != "c"] == [r for r in before if r["method"] != "c"]


def test_the_fold_models_section_is_built_from_its_rows_and_its_refit_arm_is_the_shipped_preset(bench):
    """``bench_imbalance-rows-fold-models``: each (c) row's ``refit`` arm is the shipped preset on the same search:
    on the seed-0 fits that refitted the same candidates as the table to cite's (c) runs, the same test
    predictions; the section's tables are ``--fold-vs-refit`` of both rows files and ``--paired-with --refit-arm``
    of the 4-minute rows against the 2-minute ones."""
    bench_imbalance = bench("bench_imbalance")
    results = BENCHMARKS / "results"
    rows = bench_imbalance.read_rows(results / "bench_imbalance-rows-fold-models-2026-12-07.jsonl")
    rows4 = bench_imbalance.read_rows(results / "bench_imbalance-rows-fold-models-4min-2026-12-07.jsonl")
    cited = {(r["dataset"], r["seed"]): r for r in bench_imbalance.read_rows(
        results / "bench_imbalance-rows-cawpe-3seeds-2026-12-06.jsonl") if r["method"] == "c"}
    assert all(r["fold_models"] and r["method"] == "c" for r in rows + rows4)
    same = [r["dataset"] for r in rows if r["seed"] == 0 and r["refit"]["y_pred"] == cited[r["dataset"], 0]["y_pred"]]
    assert same == ["DistalPhalanxTW", "DistalPhalanxOutlineAgeGroup", "FacesUCR", "japanese_vowels", "FiftyWords",
                    "ChlorineConcentration", "ECG5000"]
    assert all(r["refitted"] == [] for r in [r for r in rows if r["seed"] == 1] + rows4)  # at 545fa50: own runs
    section = _results_section("### `fold_models`: the CV's own fold models instead of the refit")
    printed = [bench_imbalance.fold_vs_refit(rows), bench_imbalance.fold_vs_refit(rows4),
               bench_imbalance.paired_table(bench_imbalance.refit_rows(rows), rows4)]
    cited_lines = [line for line in section.splitlines() if line.startswith("| ") or line.startswith("Mean over")]
    assert cited_lines == [line for text in printed for line in text.splitlines()
                           if line.startswith("| ") or line.startswith("Mean over")]


def test_bench_blend_c_rows_without_a_rows_file_is_refused_before_any_work(tmp_path):
    # until 2026-12-07 it computed (c)'s rows from the file, wrote them nowhere and exited 0
    import subprocess

    (tmp_path / "rows.jsonl").write_text("")
    out = subprocess.run([sys.executable, str(BENCHMARKS / "bench_blend.py"), "--c-rows-from",
                          str(tmp_path / "rows.jsonl")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "--c-rows-from writes its rows, as (c)'s, to --rows FILE: give --rows" in out.stderr
