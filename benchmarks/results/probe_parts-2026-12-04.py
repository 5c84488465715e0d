"""Compile time before and after TrainConfig.parts (the training programs leave
out the optional parts of the step no member can turn on), one checkout against
another, alternating, each sample a fresh process with the persistent
compilation cache off. The workload is bench_compile.py's child program (its
``CHILD`` string: the README's main job without the refit, or
ChlorineConcentration's LSTM / LSTM-FCN grid), XLA's element-wise generator.

    git worktree add /tmp/before 784af12 && cp jaxlstm/_lstm_cpu*.so /tmp/before/jaxlstm/
    python benchmarks/results/probe_parts-2026-12-04.py /tmp/before . chlorine
"""

import json
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
child = re.search(r'CHILD = r"""(.*?)"""', open(os.path.join(here, "..", "bench_compile.py")).read(), re.S).group(1)
before, after, workload = sys.argv[1], sys.argv[2], sys.argv[3]
for label, path in [("before", before), ("after", after), ("after", after), ("before", before)]:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(path), "JAXLSTM_CACHE_DIR": ""}
    # cwd = the checkout: ``python -c`` puts the working directory first on sys.path
    out = subprocess.run([sys.executable, "-c", child, workload], env=env, capture_output=True, text=True, check=True,
                         cwd=os.path.abspath(path))
    print(label, json.dumps(json.loads(out.stdout.strip().splitlines()[-1])), flush=True)
