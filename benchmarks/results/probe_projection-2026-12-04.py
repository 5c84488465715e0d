"""W2-like single-member fit compiled with each XLA:CPU code generator, same process, interleaved."""
import sys, time
import numpy as np, jax, jax.numpy as jnp
from jaxlstm.model import ModelConfig
from jaxlstm.train import TrainConfig, Split, fit, parts_used
from jaxlstm.train import make_hparams
n, t, f, h, c, batch = int(sys.argv[1]), 50, 16, int(sys.argv[2]), 5, 64
epochs = int(sys.argv[3]); members = int(sys.argv[4]) if len(sys.argv) > 4 else 1
rng = np.random.default_rng(0)
p = np.geomspace(1, 0.1, c); y = rng.choice(c, n, p=p / p.sum()).astype(np.int32)
x = (rng.normal(size=(n, t, f)) + 0.3 * y[:, None, None]).astype(np.float32)
lengths = np.full(n, t, np.int32); n_tr = int(n * 0.8)
split = Split(jnp.arange(n_tr), jnp.ones(n_tr, bool), jnp.arange(n_tr, n), jnp.ones(n - n_tr, bool))
hp = make_hparams(c, learning_rate=1e-3, class_weight_exponent=1.0)
import os; cfg = TrainConfig(ModelConfig(f, c, (h,), lstm_impl=os.environ.get("IMPL", "auto")), batch_size=batch, epochs=epochs, record=("f1_macro",))
try:
    import dataclasses; cfg = dataclasses.replace(cfg, parts=parts_used(hp))
except Exception as e:
    print("parts:", e)
data = (jnp.asarray(x), jnp.asarray(lengths), jnp.asarray(y))
keys = jax.random.split(jax.random.key(0), members)
fn = lambda k: fit(*data, split, hp, k, cfg)
if members > 1:
    fn = jax.vmap(fn)
else:
    keys = keys[0]
comp = {}
for name, emit in (("elementwise", False), ("emitters", True)):
    t0 = time.perf_counter()
    comp[name] = jax.jit(fn, compiler_options={"xla_backend_optimization_level": 2, "xla_cpu_use_fusion_emitters": emit}).lower(keys).compile()
    print(f"{name} compile {time.perf_counter()-t0:.2f}s", flush=True)
runs = {k: [] for k in comp}
for r in range(int(sys.argv[5]) if len(sys.argv) > 5 else 3):
    for name, cf in (comp.items() if r % 2 == 0 else reversed(list(comp.items()))):
        t0 = time.perf_counter(); out = cf(keys); jax.block_until_ready(out); runs[name].append(time.perf_counter() - t0)
for k, v in runs.items():
    print(k, " ".join(f"{s:.2f}" for s in v), "median", f"{np.median(v):.2f}")
