"""Record of a one-off probe (2026-12-04, library at 84922f3), not a tool: does a cosine learning-rate decay to 0 over the run raise the test scores of the
preset's long LSTM-FCN candidate (LSTM(64) over channels + conv 64/128/64, lr 3e-3, batch 32, no remedy)?
SCHED=constant|cosine python probe_cosine.py DATASET EPOCHS SEED"""
import json, math, os, sys, time
import numpy as np
import jax.numpy as jnp
import optax
sys.path.insert(0, "/work/main/benchmarks")
from jaxlstm import LSTMClassifier, train, losses
from bench_imbalance import splits, sequences, scores

SCHED = os.environ.get("SCHED", "constant")
name, epochs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tr, te = splits(name)
steps = epochs * math.ceil(len(tr.y) / 32)


def patched(learning_rate, weight_decay, grad_clip):
    lr = learning_rate
    if SCHED == "cosine":
        lr = lambda count: learning_rate * 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(count, steps) / steps))
    return optax.chain(optax.clip_by_global_norm(grad_clip),
                       optax.adamw(lr, weight_decay=weight_decay, mask=losses.kernel_mask))
train._adamw_with_clipping = patched

names = np.asarray(tr.class_names)
y_true = np.asarray(te.class_names)[te.y]
ml = int(max(tr.lengths.max(), te.lengths.max()))
t0 = time.perf_counter()
est = LSTMClassifier(units=64, conv_filters=[64, 128, 64], lstm_over="channels", max_length=ml, learning_rate=3e-3,
                     epochs=epochs, batch_size=32, random_state=seed)
pred = est.fit(sequences(tr), names[tr.y]).predict(sequences(te))
s = scores(y_true, pred)
print(json.dumps(dict(name=name, sched=SCHED, epochs=epochs, seed=seed, seconds=round(time.perf_counter() - t0, 1),
                      **{k: round(v, 3) for k, v in s.items()})), flush=True)
