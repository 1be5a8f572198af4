r"""A new cell, defined here and nowhere in ``src/``: the minimal gated unit (MGU, Zhou, Wu, Zhang
& Zhou 2016, "Minimal gated unit for recurrent neural networks")::

    f_t = σ(W_f x_t + U_f h_{t-1} + b_f)
    h̃_t = tanh(W_h x_t + U_h (f_t ⊙ h_{t-1}) + b_h)
    h_t = (1 − f_t) ⊙ h_{t-1} + f_t ⊙ h̃_t

Registered with :func:`rnnlab.cells.register`, it gets, with no edit of the library: a layer
that passes the float64 gradient check, a sequence model and a language model that train
through the Python API, ``rnnlab trace`` of a config that names it (forward and backward, held
equal to the layer), the gradient-flow analysis, and a clear refusal from ``to_torch``.
"""

import json
import types

import numpy as np
import pytest

import rnnlab
from rnnlab import cells
from rnnlab.errors import ConfigError
from rnnlab.gradcheck import check_layer, numerical_gradient


# --- the cell: equations, step, step_backward, its facts -----------------------------------------


def _workspace(T, B, H, dtype, empty=np.empty):
    """Arrays (T, B, ·) the unroll fills step by step (step t's cache is a view of slice t)."""
    return {key: empty((T, B, H), dtype) for key in ("a_f", "f", "fh", "a_h", "h_tilde", "h")}


def _step(xw, state, W_hh, b_hh=None, out=None, h_in=None):
    """``xw (B, 2H)`` = [W_f x_t + b_f, W_h x_t + b_h]; ``state = (h_{t-1},)``; ``h_in`` the
    state W_hh reads (h_{t-1} ⊙ m under recurrent dropout; the direct path keeps h_{t-1})."""
    (h_prev,) = state
    h_in = h_prev if h_in is None else h_in
    B, H = h_prev.shape
    if out is None:
        out = {k: v[0] for k, v in _workspace(1, B, H, np.result_type(xw, h_prev, W_hh)).items()}
    a_f = np.matmul(h_in, W_hh[:H].T, out=out["a_f"])  # U_f h_{t-1}
    a_f += xw[:, :H]
    if b_hh is not None:
        a_f += b_hh[:H]
    f = out["f"]
    f[...] = 1.0 / (1.0 + np.exp(-a_f))  # f_t = σ(a_f)
    fh = np.multiply(f, h_in, out=out["fh"])  # f_t ⊙ h_{t-1}
    a_h = np.matmul(fh, W_hh[H:].T, out=out["a_h"])  # U_h (f_t ⊙ h_{t-1})
    a_h += xw[:, H:]
    if b_hh is not None:
        a_h += b_hh[H:]
    h_tilde = np.tanh(a_h, out=out["h_tilde"])
    h = out["h"]
    h[...] = h_prev + f * (h_tilde - h_prev)  # (1 − f) ⊙ h_{t-1} + f ⊙ h̃_t
    cache = {"h_prev": h_prev, "h_in": h_in, "a_f": a_f, "f": f, "fh": fh, "a_h": a_h, "h_tilde": h_tilde,
             "h": h}
    return (h,), cache


def _step_backward(d_state, cache, W_hh, out=None, h_mask=None):
    """∂L/∂f = ∂L/∂h ⊙ (h̃ − h_{t-1}) + ∂L/∂(f⊙h) ⊙ h_{t-1};  ∂L/∂a_h = ∂L/∂h ⊙ f ⊙ (1 − h̃²);
    ∂L/∂(f⊙h) = U_hᵀ ∂L/∂a_h;  ∂L/∂h_{t-1} = (1 − f) ⊙ ∂L/∂h + f ⊙ ∂L/∂(f⊙h) + U_fᵀ ∂L/∂a_f."""
    (d_h,) = d_state
    h_prev, h_in, f, h_tilde = cache["h_prev"], cache["h_in"], cache["f"], cache["h_tilde"]
    B, H = d_h.shape
    d_xw = out["d_xw"] if out is not None and "d_xw" in out else np.empty((B, 2 * H), np.result_type(d_h, f))
    d_a_h = d_h * f * (1.0 - h_tilde * h_tilde)
    d_fh = d_a_h @ W_hh[H:]
    d_a_f = (d_h * (h_tilde - h_prev) + d_fh * h_in) * f * (1.0 - f)
    d_xw[:, :H], d_xw[:, H:] = d_a_f, d_a_h
    d_h_in = d_fh * f + d_a_f @ W_hh[:H]
    d_h_prev = d_h * (1.0 - f) + (d_h_in if h_mask is None else d_h_in * h_mask)
    return d_xw, d_xw, (d_h_prev,)


def _weight_hh_grad(d_hw, h_prev, caches):
    """∂L/∂W_hh over the N = T·B rows: U_f multiplies h_{t-1}, U_h multiplies f_t ⊙ h_{t-1}."""
    H = h_prev.shape[1]
    fh = np.concatenate([c["fh"] for c in caches])  # (N, H)
    return np.concatenate([d_hw[:, :H].T @ h_prev, d_hw[:, H:].T @ fh])


MGU = types.SimpleNamespace(
    NAME="mgu", LABEL=("MGU", "MGU"), GATE_NAMES=("f", "h"), STATE=("h",),
    FOLD_B_HH=True,  # both hidden biases add outside any product
    DIRECT_PATH=True,  # h_{t-1} reaches h_t through (1 − f) ⊙ h_{t-1}: the cell masks only what enters W_hh
    DIRECT_LABEL="Π (1 − f)", COLOR="tab:orange",
    workspace=_workspace, step=_step, step_backward=_step_backward, weight_hh_grad=_weight_hh_grad,
    direct_factor=lambda cache, H: 1.0 - cache["f"],  # the diagonal of ∂h_t/∂h_{t-1} along (1 − f) ⊙ h_{t-1}
)  # no TORCH, no KERAS, no TRACE: no PyTorch counterpart; the generic trace


@pytest.fixture
def mgu():
    spec = cells.register(MGU)
    yield spec
    cells.unregister("mgu")


def test_registering_adds_the_cell_everywhere_and_unregistering_removes_it(mgu):
    assert "mgu" in cells.names() and cells.get("mgu") is mgu and mgu.gates == 2
    assert mgu.gate_rows("h", 3) == slice(3, 6) and mgu.torch == {} and mgu.trace is None
    with pytest.raises(ConfigError, match="already registered"):
        cells.register(types.SimpleNamespace(**{**vars(MGU), "step": _step_backward}))
    with pytest.raises(ConfigError, match=r"without \['direct_factor'\]"):
        cells.register(types.SimpleNamespace(**{k: v for k, v in vars(MGU).items() if k != "direct_factor"}))
    with pytest.raises(ConfigError, match="layer_norm: expected cell 'lstm'.*got cell 'mgu'"):
        cells.resolve("mgu", True)


def test_unregistered_after_the_fixture():
    assert "mgu" not in cells.REGISTRY and cells.names() == ("rnn", "lstm", "gru")
    with pytest.raises(ConfigError, match="got 'mgu'"):
        rnnlab.layers.Recurrent("mgu", 2, 3)


# --- a layer that passes the gradient check --------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"num_layers": 2, "bidirectional": True},
                                     {"bias": False, "batch_first": True}])
def test_layer_passes_the_float64_gradient_check(mgu, options):
    layer = rnnlab.layers.Recurrent("mgu", 3, 4, dtype=np.float64, seed=1, **options)
    assert layer.params["weight_hh_l0"].shape == (8, 4)
    x = np.random.default_rng(2).normal(size=(4, 3, 3))  # T = 4: U_f and U_h reused at every step
    x = np.ascontiguousarray(x.swapaxes(0, 1)) if layer.batch_first else x
    hx = np.random.default_rng(3).normal(size=(layer.num_layers * layer.num_directions, 3, 4))
    report = check_layer(layer, x, hx=hx, lengths=np.array([4, 2, 3]))
    assert report.passed and report.worst[1] < 1e-6, report


def test_recurrent_dropout_spares_the_direct_path(mgu):
    """With recurrent dropout the cell masks what enters W_hh, not (1 − f) ⊙ h_{t-1}; still exact."""
    layer = rnnlab.layers.Recurrent("mgu", 2, 3, recurrent_dropout=0.4, dtype=np.float64, seed=4)
    x = np.random.default_rng(5).normal(size=(5, 2, 2))
    assert check_layer(layer, x).passed


def test_the_mgu_equations_hold(mgu):
    """The layer computes the MGU's equations, written here once more step by step."""
    layer = rnnlab.layers.Recurrent("mgu", 2, 3, dtype=np.float64, seed=6)
    p = {k: v for k, v in layer.params.items()}
    x = np.random.default_rng(7).normal(size=(4, 2))
    out, h_n = layer.forward(x)
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))  # noqa: E731
    W_f, W_h = p["weight_ih_l0"][:3], p["weight_ih_l0"][3:]
    U_f, U_h = p["weight_hh_l0"][:3], p["weight_hh_l0"][3:]
    b = p["bias_ih_l0"] + p["bias_hh_l0"]
    h = np.zeros(3)
    for t in range(4):
        f = sig(W_f @ x[t] + U_f @ h + b[:3])
        h = (1 - f) * h + f * np.tanh(W_h @ x[t] + U_h @ (f * h) + b[3:])
        np.testing.assert_allclose(out[t], h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_n[0], h, rtol=1e-12, atol=1e-14)


# --- models and training through the Python API ----------------------------------------------------


def test_sequence_model_trains_through_the_engine(mgu):
    """A regressor on the running mean of its inputs: 150 steps of Adam bring the test MSE far
    below the variance of the target."""
    from rnnlab.seqmodels import SeqModelConfig, build_model
    from rnnlab.tasks import TrainConfig, loss_and_grad, train_model

    def draw(rng, B):
        x = rng.normal(size=(6, B, 2))
        return x, x[:, :, :1].mean(axis=0) + 0.5 * x[-1, :, 1:], None  # (B, 1)

    model = build_model(SeqModelConfig("regressor", 2, 8, 1, cell="mgu"), seed=0)
    assert model.rnn.mode == "mgu" and type(model.rnn) is rnnlab.layers.Recurrent
    test_x, test_y, _ = draw(np.random.default_rng(99), 200)
    before = loss_and_grad(model.eval(), test_x, test_y)[0]
    history = train_model(model, draw, TrainConfig(steps=150, batch_size=32, lr=0.02, eval_every=150, seed=0))
    after = loss_and_grad(model.eval(), test_x, test_y)[0]
    assert len(history.train_loss) == 150
    assert after < 0.1 * before and after < 0.05, (before, after)


def test_language_model_and_saved_config(mgu):
    model = rnnlab.models.CharLM(7, cell="mgu", hidden_size=5, num_layers=2, dtype=np.float64, seed=0)
    assert model.rnn.mode == "mgu" and model.initial_state(3).shape == (2, 3, 5)
    ids = np.random.default_rng(1).integers(0, 7, size=(6, 3))
    loss, _ = model.loss(ids[:-1], ids[1:])
    grads = model.backward()
    assert np.isfinite(loss) and set(grads) == set(model.params)
    again = rnnlab.models.CharLM(**model.config(), dtype=np.float64, seed=5)
    again.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(again.forward(ids)[0], model.forward(ids)[0])


# --- rnnlab trace of a config that names the cell ---------------------------------------------------


def test_rnnlab_trace_of_a_config_using_it(mgu, tmp_path, capsys):
    """``rnnlab trace`` on a JSON config with ``"cell": "mgu"`` (PyTorch notation): the recorded
    quantities are the layer's, the backward trace's weight gradients are the layer's BPTT."""
    from rnnlab.cli import main
    from rnnlab.trace.config import read_config, trace_from_config

    rng = np.random.default_rng(8)
    H, D, T = 2, 3, 4
    weights = {"weight_ih": rng.normal(size=(2 * H, D)).round(2).tolist(),
               "weight_hh": rng.normal(size=(2 * H, H)).round(2).tolist(),
               "bias_ih": rng.normal(size=2 * H).round(2).tolist(), "bias_hh": [0.0] * (2 * H)}
    inputs = rng.normal(size=(T, D)).round(2).tolist()
    cfg = {"cell": "mgu", "weights": weights, "inputs": inputs, "initial_state": {"h": [0.1, -0.2]},
           "upstream": {"h": {str(T): [1.0, -0.5], "2": [0.3, 0.0]}}, "title": "MGU"}
    path = tmp_path / "mgu.json"
    path.write_text(json.dumps(cfg))

    assert main(["trace", str(path)]) == 0
    out = capsys.readouterr().out
    assert "cell = MGU" in out and "h̃_1" in out and "∂L/∂a_f,3" in out and "∂L/∂weight_hh" in out
    assert main(["trace", str(path), "--format", "json", "--out", str(tmp_path / "mgu-trace.json")]) == 0

    trace = trace_from_config(read_config(str(path)), str(path))
    assert trace.cell == "mgu" and not trace.arithmetic
    layer = rnnlab.layers.Recurrent("mgu", D, H, dtype=np.float64)
    layer.load_state_dict({f"{k}_l0": np.array(v) for k, v in weights.items()})
    h0 = np.array([[0.1, -0.2]])
    output, _ = layer.forward(np.array(inputs), h0)
    np.testing.assert_allclose(trace.series("h"), output, rtol=1e-12)
    assert list(trace.steps[0].values) == ["a_f", "f", "fh", "a_h", "h_tilde", "h"]
    d_out = np.zeros((T, H))
    d_out[T - 1], d_out[1] = [1.0, -0.5], [0.3, 0.0]
    layer.backward(d_out)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_allclose(trace.backward.grads[name], layer.grads[f"{name}_l0"], rtol=1e-10,
                                   atol=1e-13)
    np.testing.assert_allclose(trace.backward.d_state0[0], layer.d_hx[0], rtol=1e-10, atol=1e-13)


def test_trace_config_refuses_the_course_notation_it_lacks(mgu, tmp_path, capsys):
    from rnnlab.cli import main

    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"cell": "mgu", "notation": "course", "weights": {}, "inputs": [1.0]}))
    assert main(["trace", str(path)]) == 2
    assert "the mgu cell has no course notation here; expected 'pytorch'" in capsys.readouterr().err


# --- the gradient-flow analysis --------------------------------------------------------------------


def test_gradient_flow_analysis(mgu):
    """state_jacobians through the cell's own step_backward: ∂h_T/∂h_0 equals central differences
    of the layer's forward, and the direct path is Π (1 − f_k), as the cell declares."""
    from rnnlab.analysis import state_jacobians
    from rnnlab.plots import gradient_profile_figure

    layer = rnnlab.layers.Recurrent("mgu", 2, 3, dtype=np.float64, seed=9).eval()
    x = np.random.default_rng(10).normal(size=(5, 2))
    jac = state_jacobians(layer, x)
    h0 = np.zeros((1, 3))  # perturbed in place by numerical_gradient

    def h_T(i):
        return lambda: layer.forward(x, h0)[1][0, i]

    numeric = np.stack([numerical_gradient(h_T(i), h0)[0] for i in range(3)])  # row i: ∂h_T[i]/∂h_0
    np.testing.assert_allclose(jac.jacobians[0, 5], numeric, rtol=1e-6, atol=1e-9)
    layer.forward(x)  # the gates f_t, from the layer's own tape
    f = np.stack([c["f"][0] for c in layer._tapes[0][0].caches])  # (T, H)
    np.testing.assert_allclose(jac.direct_path[0, 1:], np.cumprod((1.0 - f)[::-1], axis=0), rtol=1e-12)
    assert jac.mean_norms().shape == (6,)
    figure = gradient_profile_figure(jac, lang="en")
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert "mean Π (1 − f)" in labels and "‖∂h_T/∂h_t‖₂" in labels
    assert figure.axes[0].get_title().startswith("MGU")


def test_gradients_command_with_the_new_cell(mgu, capsys):
    from rnnlab.cli import main

    assert main(["gradients", "--cell", "mgu", "--hidden", "3", "--steps", "6", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "MGU, H = 3" in out and "mean Π (1 − f)" in out


# --- interop: no PyTorch counterpart, said clearly --------------------------------------------------


def test_to_torch_says_there_is_no_counterpart(mgu):
    pytest.importorskip("torch")
    from rnnlab.interop import to_torch
    from rnnlab.seqmodels import SeqModelConfig, build_model

    layer = rnnlab.layers.Recurrent("mgu", 2, 3)
    with pytest.raises(ConfigError, match=r"to_torch: the MGU cell \('mgu'\) has no PyTorch counterpart "
                                          r"\(expected a cell among rnn, lstm, gru\)"):
        to_torch(layer)
    with pytest.raises(ConfigError, match="a CharLM with the MGU cell .* has no PyTorch counterpart"):
        to_torch(rnnlab.models.CharLM(5, cell="mgu", hidden_size=3, seed=0))
    with pytest.raises(ConfigError, match="torch model: cell 'mgu' .* has no torch counterpart"):
        to_torch(build_model(SeqModelConfig("classifier", 2, 3, 2, cell="mgu"), seed=0))


def test_keras_says_there_is_no_counterpart(mgu):
    from rnnlab.interop import params_to_keras, to_keras

    layer = rnnlab.layers.Recurrent("mgu", 2, 3)
    with pytest.raises(ConfigError, match=r"got 'mgu': the MGU cell \('mgu'\) has no Keras counterpart"):
        to_keras(layer)
    with pytest.raises(ConfigError, match="has no Keras counterpart"):
        params_to_keras("mgu", layer.params)
