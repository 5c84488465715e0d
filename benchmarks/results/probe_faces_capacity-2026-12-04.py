"""Record of a one-off probe (2026-12-04, library at 84922f3), not a tool: one LSTM-FCN (LSTM over channels) fitted
on a UCR train split and scored on its test split, with the preset's long candidate's settings (units 64, conv
64/128/64, lr 3e-3, batch 32, 200 epochs) changed by JSON_KW -- published LSTM-FCN's 8 cells, 128/256/128
filters, lr 1e-3, more epochs, dropout. Prints training-split accuracy too.
python probe_faces_capacity-2026-12-04.py DATASET SEED JSON_KW"""
import json, sys, time
import numpy as np
sys.path.insert(0, "/work/main/benchmarks")
from jaxlstm import LSTMClassifier
from bench_imbalance import splits, sequences, scores
name, seed = sys.argv[1], int(sys.argv[2])
kw = json.loads(sys.argv[3])
tr, te = splits(name)
names = np.asarray(tr.class_names)
y_true = np.asarray(te.class_names)[te.y]
ml = int(max(tr.lengths.max(), te.lengths.max()))
p = dict(units=64, conv_filters=[64, 128, 64], lstm_over="channels", max_length=ml, learning_rate=3e-3,
         epochs=200, batch_size=32, random_state=seed)
p.update(kw)
t0 = time.perf_counter()
est = LSTMClassifier(**p).fit(sequences(tr), names[tr.y])
fit_s = time.perf_counter() - t0
pred = est.predict(sequences(te))
trpred = est.predict(sequences(tr))
s = scores(y_true, pred)
print(json.dumps(dict(name=name, seed=seed, kw=kw, seconds=round(fit_s, 1),
                      train_acc=round(float(np.mean(trpred == names[tr.y])), 3),
                      **{k: round(v, 3) for k, v in s.items()})), flush=True)
