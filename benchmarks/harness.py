"""The benchmarks' shared harness: one timing protocol, one machine header, one JSON output.

Every ``bench_*.py`` script uses it, so that their numbers mean the same thing:

- :func:`time_compile` times ``jitted.lower(*args).compile()`` (tracing +
  lowering and XLA compilation, shown apart) and returns the compiled program,
  so that run times never include compilation;
- :func:`time_call` calls ``fn(*args)`` ``warmup`` times untimed, then
  ``repeats`` times timed, each call followed by ``jax.block_until_ready``
  before the clock is read (asynchronous calls would otherwise overlap and
  compete); :func:`time_interleaved` does the same for several functions in
  turn (one repeat of each, then the next), so that a shared, noisy machine
  slows them alike. A :class:`Timing` keeps every sample and reports the
  median, the 10th/90th percentiles, min, max and the relative spread
  ``(max - min) / median``;
- :func:`machine_header` records, once per run, the CPU model and the flags
  that decide its speed (AVX2, AVX-512, AVX512_BF16, AMX), cores, memory, the
  JAX backend and devices, the versions of jax, jaxlib, numpy, scipy,
  scikit-learn, torch, ... (those installed; read from package metadata, nothing
  is imported), and whether jaxlstm's compiled CPU kernel is available
  (``jaxlstm.kernel.available()``, ``num_threads()``, ``blas()``);
  :func:`print_header` prints it;
- :func:`write_json` writes a run's results (with its header, script and
  arguments) as JSON, by default to ``benchmarks/results/<script>-<date>.json``
  beside ``RESULTS.md``; every script takes ``--json PATH`` (``--json ''``
  writes none).

Public jaxlstm APIs only; the scripts import this file as ``harness`` (Python
puts a script's own folder first on ``sys.path``).
"""

import argparse
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import Any

__all__ = ["Timing", "Compiled", "time_call", "time_interleaved", "time_compile", "matmul_rate", "machine_header",
           "print_header", "default_json_path", "write_json", "read_json", "add_arguments", "save"]

RESULTS_DIR = pathlib.Path(__file__).resolve().parent / "results"
SPEED_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
               "amx_tile", "amx_bf16", "amx_int8")
PACKAGES = {"jax": "jax", "jaxlib": "jaxlib", "numpy": "numpy", "scipy": "scipy", "sklearn": "scikit-learn",
            "flax": "flax", "optax": "optax", "torch": "torch", "keras": "keras", "tensorflow": "tensorflow",
            "scikeras": "scikeras", "jaxlstm": "jaxlstm"}
ENV_VARS = ("JAXLSTM_LSTM_IMPL", "JAXLSTM_XLA_FUSION_EMITTERS", "JAXLSTM_XLA_OPT_LEVEL", "XLA_FLAGS", "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS", "JAX_PLATFORMS", "JAXLSTM_CACHE_DIR", "JAX_COMPILATION_CACHE_DIR")


# ----------------------------------------------------------------------------- timing

def _block(out):
    try:
        import jax
    except ImportError:  # a peer's call (PyTorch) returns when done
        return out
    return jax.block_until_ready(out)


def _quantile(sorted_xs: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default)."""
    pos = q * (len(sorted_xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


@dataclasses.dataclass(frozen=True)
class Timing:
    """Seconds per call: every timed sample (``all``) and their summary."""

    all: tuple[float, ...]

    def __post_init__(self):
        if not self.all:
            raise ValueError("a Timing needs at least one sample")
        object.__setattr__(self, "all", tuple(float(s) for s in self.all))

    @property
    def median(self) -> float:
        return statistics.median(self.all)

    @property
    def min(self) -> float:
        return min(self.all)

    @property
    def max(self) -> float:
        return max(self.all)

    @property
    def p10(self) -> float:
        return _quantile(sorted(self.all), 0.1)

    @property
    def p90(self) -> float:
        return _quantile(sorted(self.all), 0.9)

    @property
    def spread(self) -> float:
        """``(max - min) / median``: 0 for one sample."""
        return (self.max - self.min) / self.median if self.median else 0.0

    def as_dict(self) -> dict:
        return {"median": self.median, "p10": self.p10, "p90": self.p90, "min": self.min, "max": self.max,
                "spread": self.spread, "all": list(self.all)}


def time_call(fn: Callable, *args, warmup: int = 1, repeats: int = 5, number: int = 1,
              clock: Callable[[], float] = time.perf_counter) -> Timing:
    """Time ``fn(*args)``: ``warmup`` untimed calls, then ``repeats`` samples of
    ``number`` calls each (a sample is their mean, for calls too short for the
    clock), every call blocked until its result is ready."""
    if repeats < 1 or number < 1 or warmup < 0:
        raise ValueError(f"repeats={repeats} and number={number} must be >= 1, warmup={warmup} >= 0")
    for _ in range(warmup):
        _block(fn(*args))
    samples = []
    for _ in range(repeats):
        t0 = clock()
        for _ in range(number):  # one at a time: asynchronous calls would overlap and compete
            _block(fn(*args))
        samples.append((clock() - t0) / number)
    return Timing(tuple(samples))


def time_interleaved(calls: Mapping[str, tuple[Callable, tuple]], *, warmup: int = 1, repeats: int = 5,
                     clock: Callable[[], float] = time.perf_counter) -> dict[str, Timing]:
    """:func:`time_call` for several ``name: (fn, args)`` at once, in turns (all
    warm-ups, then one call of each per repeat), so that a noisy machine slows
    each alike. Returns ``{name: Timing}`` in the order given."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats={repeats} must be >= 1, warmup={warmup} >= 0")
    for _ in range(warmup):
        for fn, args in calls.values():
            _block(fn(*args))
    samples = {name: [] for name in calls}
    for _ in range(repeats):
        for name, (fn, args) in calls.items():
            t0 = clock()
            _block(fn(*args))
            samples[name].append(clock() - t0)
    return {name: Timing(tuple(s)) for name, s in samples.items()}


@dataclasses.dataclass(frozen=True)
class Compiled:
    """A compiled program and the seconds spent tracing + lowering and compiling it."""

    compiled: Any
    lower_s: float
    compile_s: float

    @property
    def seconds(self) -> float:
        return self.lower_s + self.compile_s

    def as_dict(self) -> dict:
        return {"lower_s": self.lower_s, "compile_s": self.compile_s, "seconds": self.seconds}


def time_compile(jitted: Callable, *args, clock: Callable[[], float] = time.perf_counter) -> Compiled:
    """Ahead-of-time ``jitted.lower(*args).compile()``, timed apart; a function
    that is not jitted yet is wrapped in ``jax.jit`` first."""
    if not hasattr(jitted, "lower"):
        import jax

        jitted = jax.jit(jitted)
    t0 = clock()
    lowered = jitted.lower(*args)
    t1 = clock()
    compiled = lowered.compile()
    t2 = clock()
    return Compiled(compiled, t1 - t0, t2 - t1)


def matmul_rate(n: int = 2048, repeats: int = 10, dtype: str = "float32") -> float:
    """GFLOP/s of a jitted ``n^3`` matmul (median call); bfloat16 operands accumulate in float32."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32).astype(dtype)
    f = jax.jit(lambda x: jnp.matmul(x, x, preferred_element_type=jnp.float32))
    return 2 * n**3 / time_call(f, a, warmup=1, repeats=repeats).median / 1e9


# ----------------------------------------------------------------------------- machine header

def _cpuinfo(path="/proc/cpuinfo") -> dict:
    try:
        text = pathlib.Path(path).read_text()
    except OSError:
        return {}
    info = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def _memory_bytes() -> int | None:
    try:
        for line in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _versions() -> dict:
    out = {}
    for name, dist in PACKAGES.items():
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _git() -> str | None:
    here = pathlib.Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                              timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _kernel() -> dict:
    try:
        from jaxlstm import kernel
    except ImportError as e:
        return {"available": False, "reason": f"jaxlstm.kernel not importable ({e})"}
    if kernel.available():
        return {"available": True, "num_threads": kernel.num_threads(), "blas": kernel.blas()}
    return {"available": False, "reason": kernel.reason()}


def machine_header() -> dict:
    """This machine and software, as plain JSON values (see the module docstring)."""
    cpu = _cpuinfo()
    flags = set(cpu.get("flags", "").split())
    header = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": {"model": cpu.get("model name") or platform.processor() or platform.machine(),
                "family": cpu.get("cpu family"), "model_number": cpu.get("model"),
                "flags": [f for f in SPEED_FLAGS if f in flags]},
        "cores": {"logical": os.cpu_count(),
                  "usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()},
        "memory_bytes": _memory_bytes(),
        "versions": _versions(),
        "git": _git(),
        "env": {k: os.environ[k] for k in ENV_VARS if k in os.environ},
        "jaxlstm_kernel": _kernel(),
    }
    try:
        import jax

        devices = jax.devices()
        header["jax"] = {"backend": jax.default_backend(), "device_count": len(devices),
                         "device_kind": devices[0].device_kind}
    except ImportError:
        header["jax"] = None
    return header


def print_header(header: Mapping, file=None) -> None:
    """The header in four lines: machine, software, jaxlstm's CPU kernel, environment."""
    file = file or sys.stdout
    cpu, cores, mem = header["cpu"], header["cores"], header.get("memory_bytes")
    flags = " ".join(cpu["flags"]) or "none of " + "/".join(SPEED_FLAGS[:4])
    jx = header.get("jax")
    dev = f"{jx['device_count']} x {jx['device_kind']} ({jx['backend']})" if jx else "jax not installed"
    print(f"machine: {cpu['model']}; {cores['usable']} of {cores['logical']} cores; "
          f"{'?' if mem is None else f'{mem / 2**30:.0f}'} GiB; {dev}; flags: {flags}", file=file)
    print("versions: python " + header["python"] + ", "
          + ", ".join(f"{k} {v}" for k, v in header["versions"].items())
          + (f"; git {header['git']}" if header.get("git") else ""), file=file)
    k = header["jaxlstm_kernel"]
    print("jaxlstm compiled CPU kernel: " + (f"available ({k['num_threads']} threads, BLAS: {k['blas']})"
                                             if k["available"] else f"not available ({k['reason']})"), file=file)
    if header.get("env"):
        print("env: " + ", ".join(f"{k}={v}" for k, v in header["env"].items()), file=file)


# ----------------------------------------------------------------------------- JSON results

def default_json_path(script: str, when: datetime.datetime | None = None) -> pathlib.Path:
    """``benchmarks/results/<script>-<UTC date and time>.json``."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    return RESULTS_DIR / f"{pathlib.Path(script).stem}-{when.strftime('%Y-%m-%dT%H%M%SZ')}.json"


def _plain(obj):
    if hasattr(obj, "as_dict"):
        return _plain(obj.as_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _plain(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, pathlib.PurePath):
        return str(obj)
    return obj


def write_json(path, payload: Mapping) -> pathlib.Path:
    """``payload`` as indented JSON at ``path`` (folders made as needed):
    :class:`Timing`/:class:`Compiled` as their ``as_dict()``, dataclasses as
    dicts, NumPy values through :mod:`jaxlstm.jsonable`."""
    from jaxlstm import jsonable

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jsonable.dumps(_plain(payload), strict=False, indent=1) + "\n")
    return path


def read_json(path) -> dict:
    return json.loads(pathlib.Path(path).read_text())


def names(valid: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse ``type``: a comma-separated list, each name one of ``valid``
    (an unknown or empty one is argparse's error, not another workload run
    under its name or nothing measured)."""
    def parse(text: str) -> list[str]:
        got = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in got if t not in valid]
        if bad or not got:
            raise argparse.ArgumentTypeError(f"{', '.join(map(repr, bad)) if bad else 'nothing given'}: give a "
                                             f"comma-separated list of {', '.join(valid)}")
        return got
    return parse


def count(low: int = 1) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``low``."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            v = low - 1
        if v < low:
            raise argparse.ArgumentTypeError(f"{text!r}: give an integer >= {low}")
        return v
    return parse


def add_arguments(parser, *, warmup: int | None = None, repeats: int | None = None) -> None:
    """``--json PATH`` (default ``benchmarks/results/<script>-<date>.json``;
    ``''`` for none) and, when given defaults, ``--warmup N`` / ``--repeats N``."""
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the results as JSON here (default benchmarks/results/<script>-<date>.json; "
                             "'' for none)")
    if warmup is not None:
        parser.add_argument("--warmup", type=count(0), default=warmup, help=f"untimed calls first (default {warmup})")
    if repeats is not None:
        parser.add_argument("--repeats", type=count(1), default=repeats,
                            help=f"timed calls; the median is shown (default {repeats})")


def save(script: str, args, header: Mapping, results: Mapping) -> pathlib.Path | None:
    """Write ``{"script", "argv", "args", "header", "results"}`` where ``args.json``
    says (default location when ``None``, nowhere when ``''``) and say where."""
    if getattr(args, "json", None) == "":
        return None
    path = write_json(args.json or default_json_path(script),
                      {"script": pathlib.Path(script).name, "argv": sys.argv[1:],
                       "args": {k: v for k, v in vars(args).items() if not k.startswith("_")},
                       "header": header, "results": results})
    print(f"\nresults: {path}")
    return path
