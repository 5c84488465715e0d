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

from setuptools import Extension, setup


def _ffi_include() -> list[str]:
    try:
        import jaxlib
    except ImportError:
        return []
    inc = os.path.join(os.path.dirname(jaxlib.__file__), "include")
    return [inc] if os.path.exists(os.path.join(inc, "xla", "ffi", "api", "ffi.h")) else []


_arch = os.environ.get("JAXLSTM_KERNEL_CFLAGS", "-march=native").split()

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
