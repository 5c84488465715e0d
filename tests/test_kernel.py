"""The compiled CPU LSTM kernel against the scanned reference (values and
gradients), its use by the model, and the fallback when it is absent."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlstm import kernel
from jaxlstm.model import LSTMClassifierNet, ModelConfig, lstm_scan, sequence_mask

TOL = 1e-5


def test_kernel_is_built_and_loaded():
    # `pip install -e .` builds it; CI must train with it, not silently fall back
    assert kernel.available(), kernel.reason()
    assert kernel.num_threads() >= 1


def test_kernel_threads_from_the_environment_read_as_the_cpp_kernel_reads_them(monkeypatch):
    """kernel.num_threads() says what the kernel uses: JAXLSTM_KERNEL_THREADS
    parsed as its C++ does (libc's atoi, the reference here), else the cores."""
    import ctypes
    import os

    if not kernel.available():
        pytest.skip(kernel.reason())  # num_threads() is 0 then
    atoi = ctypes.CDLL(None).atoi
    for value in ("3", "+4", " 2", "5 threads", "0", "-2", "four", ""):
        monkeypatch.setenv("JAXLSTM_KERNEL_THREADS", value)
        n = atoi(value.encode())
        assert kernel.num_threads() == (n if n > 0 else os.cpu_count()), value


def _layer_problem(rng, members, batch, time, hidden):
    shape = (*members, batch, time)
    xp = jnp.asarray(rng.normal(size=(*shape, 4 * hidden)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(*members, hidden, 4 * hidden)) * 0.4, jnp.float32)
    lengths = rng.integers(1, time + 1, size=(*members, batch))
    mask = jnp.arange(time) < jnp.asarray(lengths)[..., None]
    cot = [jnp.asarray(rng.normal(size=s), jnp.float32)
           for s in ((*shape, hidden), (*members, batch, hidden), (*members, batch, hidden))]
    return xp, w, mask, cot


def _loss_scan(xp, w, mask, cot):
    ys, (c, h) = lstm_scan(xp, w, mask)
    return jnp.sum(ys * cot[0]) + jnp.sum(c * cot[1]) + jnp.sum(h * cot[2])


def _loss_kernel(xp, w, mask, cot):
    ys, (c, h) = kernel.lstm_layer(jnp.swapaxes(xp, 0, 1), w, mask.T)
    return jnp.sum(jnp.swapaxes(ys, 0, 1) * cot[0]) + jnp.sum(c * cot[1]) + jnp.sum(h * cot[2])


@pytest.mark.parametrize("batch,time,hidden", [(5, 7, 20), (3, 1, 8), (9, 12, 33)])
def test_layer_values_and_gradients_equal_scan(batch, time, hidden):
    rng = np.random.default_rng(hidden)
    xp, w, mask, cot = _layer_problem(rng, (), batch, time, hidden)
    ys_r, (c_r, h_r) = lstm_scan(xp, w, mask)
    ys_k, (c_k, h_k) = jax.jit(kernel.lstm_layer)(jnp.swapaxes(xp, 0, 1), w, mask.T)
    np.testing.assert_allclose(jnp.swapaxes(ys_k, 0, 1), ys_r, atol=TOL)
    np.testing.assert_allclose(c_k, c_r, atol=TOL)
    np.testing.assert_allclose(h_k, h_r, atol=TOL)
    assert np.all(np.asarray(jnp.swapaxes(ys_k, 0, 1))[~np.asarray(mask)] == 0.0)
    g_r = jax.grad(_loss_scan, argnums=(0, 1))(xp, w, mask, cot)
    g_k = jax.jit(jax.grad(_loss_kernel, argnums=(0, 1)))(xp, w, mask, cot)
    for a, b in zip(g_k, g_r, strict=True):
        np.testing.assert_allclose(a, b, atol=TOL * max(1.0, float(jnp.max(jnp.abs(b)))))


def test_nan_and_inf_propagate_as_in_the_scan():
    # a NaN/inf in a valid step must reach the outputs (divergence is detected
    # from a non-finite loss), exactly where the scan puts it
    rng = np.random.default_rng(3)
    xp, w, mask, _ = _layer_problem(rng, (), 4, 6, 16)
    xp = xp.at[0, 2, 5].set(jnp.nan).at[1, 0, 3].set(jnp.inf).at[2, 1, 40].set(-jnp.inf)
    mask = mask.at[0, :4].set(True).at[1, :].set(True).at[2, :3].set(True)
    ys_r, (c_r, h_r) = lstm_scan(xp, w, mask)
    ys_k, (c_k, h_k) = kernel.lstm_layer(jnp.swapaxes(xp, 0, 1), w, mask.T)
    for a, b in ((jnp.swapaxes(ys_k, 0, 1), ys_r), (c_k, c_r), (h_k, h_r)):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert np.isnan(np.asarray(b)).any()
        np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(b), atol=TOL)


@pytest.mark.parametrize("members", [(1,), (3,), (2, 2)])
def test_vmapped_members_equal_scan(members):
    # 1 member: its hidden units split across threads; 3: members spread over
    # threads; (2, 2): nested vmap, flattened by the kernel
    rng = np.random.default_rng(len(members) + members[0])
    xp, w, mask, cot = _layer_problem(rng, members, 6, 8, 24)
    grad_r, grad_k = jax.grad(_loss_scan, argnums=(0, 1)), jax.grad(_loss_kernel, argnums=(0, 1))
    for _ in members:
        grad_r, grad_k = jax.vmap(grad_r), jax.vmap(grad_k)
    for a, b in zip(jax.jit(grad_k)(xp, w, mask, cot), grad_r(xp, w, mask, cot), strict=True):
        np.testing.assert_allclose(a, b, atol=TOL * max(1.0, float(jnp.max(jnp.abs(b)))))


MODEL_CASES = {
    "stacked": dict(hidden_sizes=(12, 8)),
    "bidirectional": dict(hidden_sizes=(10,), bidirectional=True, head_size=6),
    "channels": dict(hidden_sizes=(8,), lstm_over="channels", max_length=9),
    "stacked_bidirectional_conv": dict(hidden_sizes=(8, 8), bidirectional=True, conv_filters=(4,),
                                       conv_kernel_sizes=(3,)),
}


@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_model_with_kernel_equals_scan(case):
    rng = np.random.default_rng(0)
    kw = MODEL_CASES[case]
    n, t, f = 6, 9, 3
    x = rng.normal(size=(n, t, f)).astype(np.float32)
    lengths = jnp.asarray([9, 1, 4, 7, 9, 2])
    x[~np.asarray(sequence_mask(lengths, t))] = np.nan  # padding cannot matter
    x = jnp.asarray(x)
    y = jnp.asarray([0, 1, 2, 1, 0, 2])
    nets = {impl: LSTMClassifierNet(ModelConfig(f, 3, lstm_impl=impl, **kw)) for impl in ("kernel", "scan")}
    params = nets["scan"].init(jax.random.key(1), jnp.zeros((1, t, f)), jnp.ones((1,), jnp.int32))["params"]

    def loss(p, impl):
        logits = nets[impl].apply({"params": p}, x, lengths, 0.3, deterministic=False, rngs={"dropout": jax.random.key(2)})
        return jnp.mean(jax.nn.logsumexp(logits, -1) - jnp.take_along_axis(logits, y[:, None], 1)[:, 0]), logits

    (l_k, logits_k), g_k = jax.jit(jax.value_and_grad(loss, has_aux=True), static_argnums=1)(params, "kernel")
    (l_r, logits_r), g_r = jax.value_and_grad(loss, has_aux=True)(params, "scan")
    assert np.all(np.isfinite(logits_k))
    np.testing.assert_allclose(logits_k, logits_r, atol=TOL)
    np.testing.assert_allclose(l_k, l_r, atol=TOL)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=TOL), g_k, g_r)
    # the kernel is really what ran
    jaxpr = str(jax.make_jaxpr(lambda p: loss(p, "kernel"))(params))
    assert "jaxlstm_lstm_forward" in jaxpr


def test_float64_takes_the_scan_and_an_explicit_kernel_refuses_it():
    # the kernel is float32 only; float64 (x64 gradient checks) must not be rounded through it: "auto" takes the
    # scan; an explicit lstm_impl="kernel" took the scan silently too until 2026-12-07, now it says why it cannot
    with jax.enable_x64(True):
        x = jnp.ones((2, 4, 2), jnp.float64)
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), LSTMClassifierNet(ModelConfig(2, 2, (3,))).init(
            jax.random.key(0), x, jnp.array([4, 2]))["params"])
        for impl in ("auto", "kernel"):
            apply = LSTMClassifierNet(ModelConfig(2, 2, (3,), lstm_impl=impl)).apply
            if impl == "auto":
                jaxpr = str(jax.make_jaxpr(lambda p: apply({"params": p}, x, jnp.array([4, 2])))(params))
                assert "jaxlstm_lstm_forward" not in jaxpr and "f64" in jaxpr
            else:
                with pytest.raises(ValueError, match=r"lstm_impl='kernel' computes in float32; this layer's input "
                                                     r"is float64 and its recurrent kernel float64"):
                    apply({"params": params}, x, jnp.array([4, 2]))


def test_auto_picks_the_kernel_on_cpu_and_the_scan_for_bfloat16(monkeypatch):
    monkeypatch.delenv("JAXLSTM_LSTM_IMPL", raising=False)
    assert ModelConfig(3, 2).use_kernel()
    assert not ModelConfig(3, 2, matmul_dtype="bfloat16").use_kernel()
    assert not ModelConfig(3, 2, lstm_backward="autodiff").use_kernel()
    assert not ModelConfig(3, 2, lstm_impl="scan").use_kernel()
    monkeypatch.setenv("JAXLSTM_LSTM_IMPL", "scan")
    assert not ModelConfig(3, 2).use_kernel()
    monkeypatch.setenv("JAXLSTM_LSTM_IMPL", "fast")
    with pytest.raises(ValueError, match="JAXLSTM_LSTM_IMPL"):
        ModelConfig(3, 2).use_kernel()
    with pytest.raises(ValueError, match="lstm_impl"):
        ModelConfig(3, 2, lstm_impl="cudnn")
    with pytest.raises(ValueError, match="float32"):
        ModelConfig(3, 2, lstm_impl="kernel", matmul_dtype="bfloat16").use_kernel()
    # the variable is process-wide: a model the kernel cannot compute takes the scan, as documented
    # (until 2026-12-04 JAXLSTM_LSTM_IMPL=kernel made every bfloat16 fit raise)
    monkeypatch.setenv("JAXLSTM_LSTM_IMPL", "kernel")
    assert ModelConfig(3, 2).use_kernel()
    assert not ModelConfig(3, 2, matmul_dtype="bfloat16").use_kernel()
    assert not ModelConfig(3, 2, lstm_backward="autodiff").use_kernel()


def test_without_the_extension_training_falls_back_to_the_scan_with_one_warning(tmp_path):
    # A fresh process in which `jaxlstm._lstm_cpu` cannot be imported (as when
    # no compiler was there at install time).
    script = textwrap.dedent("""
        import sys, warnings
        sys.modules["jaxlstm._lstm_cpu"] = None  # import fails
        import numpy as np
        from jaxlstm import LSTMClassifier, kernel, ModelConfig
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(40, 6, 2)).astype("float32"), np.arange(40) % 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # the training program, then the inference program: two traces, one warning
            a = LSTMClassifier(units=4, epochs=2, random_state=0).fit(x, y).predict_proba(x)
        ours = [w for w in caught if "CPU LSTM kernel" in str(w.message)]
        assert not kernel.available() and "_lstm_cpu" in kernel.reason(), kernel.reason()
        assert len(ours) == 1, [str(w.message) for w in caught]
        try:
            ModelConfig(2, 2, lstm_impl="kernel").use_kernel()
        except RuntimeError as e:
            assert "not available" in str(e)
        else:
            raise AssertionError("lstm_impl='kernel' without the kernel must raise")
        np.save(sys.argv[1], a)
    """)
    out = tmp_path / "p.npy"
    env = {**os.environ, "JAXLSTM_LSTM_IMPL": "auto"}
    subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env, timeout=300)
    # and the scan's result is what the kernel computes in this process
    from jaxlstm import LSTMClassifier
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 6, 2)).astype("float32"), np.arange(40) % 2
    np.testing.assert_allclose(np.load(out), LSTMClassifier(units=4, epochs=2, random_state=0).fit(x, y).predict_proba(x),
                               atol=1e-5)


def test_a_kernel_compiled_for_instructions_this_cpu_lacks_is_not_loaded(monkeypatch):
    # a venv shared by machines of several CPU types: the -march=native kernel on a CPU without its extensions
    # died of an illegal instruction (SIGILL) at its first call until 2026-12-06; now the scan runs, saying why
    if not os.path.exists(os.path.join(os.path.dirname(kernel.__file__), "_lstm_cpu.isa")):
        pytest.skip("the kernel was not built with -march=native here (no _lstm_cpu.isa record)")
    kernel._check_isa()  # the CPU it was built on
    monkeypatch.setattr(kernel, "_cpu_flags", lambda: {"sse2"})  # an older CPU
    monkeypatch.setattr(kernel, "_state", {})  # a process that has not loaded it yet
    assert not kernel.available()
    assert "this CPU lacks" in kernel.reason() and "avx2" in kernel.reason(), kernel.reason()
