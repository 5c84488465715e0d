"""Combined preset experiment: the dimension-shuffled LSTM-FCN first, then the shipped first candidates."""
import sys
sys.path.insert(0, "/work/main/benchmarks")
from jaxlstm import config
old_pts = config.PRESET[config.PRESET.index("initial_points = ["):config.PRESET.index("[search.space]")]
ch = "  {{ conv_filters = [64, 128, 64], lstm_over = \"channels\", learning_rate = 3e-3, dropout = 0.0, class_weight = 0.0, logit_adjust_tau = 1.0, sampling_exponent = 0.0, epochs = 60 }},\n"
new_pts = old_pts.replace("initial_points = [\n", "initial_points = [\n" + ch)
P = config.PRESET.replace(old_pts, new_pts).replace("n_iter = 24", "n_iter = 25").replace(
    "conv_filters = [[], [64, 128, 64]]", "lstm_over = [\"time\", \"channels\"]\nconv_filters = [[], [64, 128, 64]]")
config.PRESET = P
import bench_imbalance
sys.argv = ["bench_imbalance.py"] + sys.argv[1:]
bench_imbalance.main()
