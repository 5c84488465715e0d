"""Builds jaxlstm's optional CPU kernel (``jaxlstm/_csrc/lstm_cpu.cc``).

Everything else about the package is in ``pyproject.toml``. The kernel needs
the XLA FFI headers that jaxlib ships (a build requirement) and a C++17
compiler. It is compiled for the machine it is installed on
(``-march=native``; set ``JAXLSTM_KERNEL_CFLAGS`` to replace that flag, e.g.
``-mavx2 -mfma`` for a wheel meant for other machines). If it cannot be
built, installation goes on without it and jaxlstm uses the scanned LSTM,
saying so once (``jaxlstm.kernel.available()``).
"""

import os
import re

from setuptools import Extension, setup

# The instruction-set extensions a -march=native build may use, as /proc/cpuinfo names them: recorded beside the
# kernel (jaxlstm/_lstm_cpu.isa), so that a CPU without one of them falls back to the scan instead of dying of an
# illegal instruction (jaxlstm.kernel; a venv shared by machines of several CPU types).
ISA = re.compile(r"(sse[\d_]*|ssse3|sse4a|avx\w*|fma4?|f16c|bmi[12]|popcnt|abm|movbe|adx|aes|pclmulqdq|sha_ni|vaes"
                 r"|vpclmulqdq|gfni|amx\w*|xop)")


def _ffi_include() -> list[str]:
    try:
        import jaxlib
    except ImportError:
        return []
    inc = os.path.join(os.path.dirname(jaxlib.__file__), "include")
    return [inc] if os.path.exists(os.path.join(inc, "xla", "ffi", "api", "ffi.h")) else []


_arch = os.environ.get("JAXLSTM_KERNEL_CFLAGS", "-march=native").split()


def _record_isa(path: str = os.path.join("jaxlstm", "_lstm_cpu.isa")) -> None:
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    isa = sorted(f for f in flags if ISA.fullmatch(f)) if "-march=native" in _arch else []
    if isa:
        with open(path, "w") as f:
            f.write(" ".join(isa) + "\n")
    elif os.path.exists(path):  # portable flags, or no /proc/cpuinfo: no record (an old one would be wrong)
        os.remove(path)


_record_isa()

setup(
    ext_modules=[
        Extension(
            "jaxlstm._lstm_cpu",
            ["jaxlstm/_csrc/lstm_cpu.cc"],
            include_dirs=_ffi_include(),
            language="c++",
            extra_compile_args=["-std=c++17", "-O3", "-fno-math-errno", "-fvisibility=hidden", *_arch],
            optional=True,  # a failed build leaves the scanned LSTM, not a failed install
        )
    ]
)
