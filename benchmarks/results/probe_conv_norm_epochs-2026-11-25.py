"""Record of a one-off probe (2026-11-25, at 75f0415), not a tool: one LSTM-FCN (LSTM over channels,
conv 64/128/64, logit-adjusted, lr 3e-3, batch 32, seed 0 unless given) per run on a UCR standard split,
with the convolutional branch optionally normalised (NORM=none|layer|instance|batch; "batch" uses the
batch's statistics at predict time too: a probe of whether normalisation speeds learning, not BatchNorm).
Usage: NORM=none python probe_conv_norm_epochs-2026-11-25.py ChlorineConcentration '{"epochs": 200}'
Output lines: probe_conv_norm_epochs-rows-2026-11-25.jsonl.
"""
import os, sys, time, json
import numpy as np
import jax.numpy as jnp
import flax.linen as nn
sys.path.insert(0, "/work/main/benchmarks")
from jaxlstm import LSTMClassifier, model
from bench_imbalance import splits, sequences, scores

NORM = os.environ.get("NORM", "none")

def _conv_branch(self, x, mask, lengths):
    m = mask[..., None]
    h = jnp.where(m, x, 0.0)
    n = lengths[:, None, None].astype(h.dtype)
    for k, (filters, width) in enumerate(zip(self.config.conv_filters, self.config.conv_kernel_sizes)):
        z = model._Conv1D(filters, width, name=f"conv_{k}")(h)
        if NORM == "layer":
            z = nn.LayerNorm(name=f"norm_{k}")(z)
        elif NORM == "batch":
            z = jnp.where(m, z, 0.0)
            nn_ = jnp.sum(lengths).astype(z.dtype)
            mu = jnp.sum(z, axis=(0, 1), keepdims=True) / nn_
            var = jnp.sum(jnp.where(m, (z - mu) ** 2, 0.0), axis=(0, 1), keepdims=True) / nn_
            z = (z - mu) / jnp.sqrt(var + 1e-5)
            scale = self.param(f"norm_{k}_scale", nn.initializers.ones_init(), (filters,))
            bias = self.param(f"norm_{k}_bias", nn.initializers.zeros_init(), (filters,))
            z = z * scale + bias
        elif NORM == "instance":
            z = jnp.where(m, z, 0.0)
            mu = jnp.sum(z, axis=1, keepdims=True) / n
            var = jnp.sum(jnp.where(m, (z - mu) ** 2, 0.0), axis=1, keepdims=True) / n
            z = (z - mu) / jnp.sqrt(var + 1e-5)
            scale = self.param(f"norm_{k}_scale", nn.initializers.ones_init(), (filters,))
            bias = self.param(f"norm_{k}_bias", nn.initializers.zeros_init(), (filters,))
            z = z * scale + bias
        h = jnp.where(m, nn.relu(z), 0.0)
    return jnp.sum(h, axis=1) / lengths[:, None].astype(h.dtype)

model.LSTMClassifierNet._conv_branch = _conv_branch

name = sys.argv[1]
kw = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
train, test = splits(name)
names = np.asarray(train.class_names)
y_true = np.asarray(test.class_names)[test.y]
ml = int(max(train.lengths.max(), test.lengths.max()))
params = dict(units=64, conv_filters=[64, 128, 64], lstm_over="channels", max_length=ml, learning_rate=3e-3,
              logit_adjust_tau=1.0, epochs=60, batch_size=32, random_state=0)
params.update(kw)
t0 = time.perf_counter()
est = LSTMClassifier(**params)
pred = est.fit(sequences(train), names[train.y]).predict(sequences(test))
s = scores(y_true, pred)
print(json.dumps(dict(name=name, norm=NORM, kw=kw, seconds=round(time.perf_counter() - t0, 1),
                      **{k: round(v, 3) for k, v in s.items()})), flush=True)
