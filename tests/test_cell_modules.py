"""``rnnlab.RNNCell``, ``GRUCell``, ``LSTMCell``: one step as a module, the registry's step with
parameters. Checked against torch's cells (float64, ≤ 1e-9), by float64 central differences, and
against the layer: a hand-written loop of cells is the layer, forward and backward."""

import numpy as np
import pytest

import rnnlab
from rnnlab.errors import ConfigError, RnnlabError, ShapeError
from rnnlab.gradcheck import check_gradients

TOL = 1e-9
# (rnnlab class, its options, the torch class's name): every option a PyTorch cell has
CASES = {
    "rnn-tanh": (rnnlab.RNNCell, {}, "RNNCell"),
    "rnn-relu": (rnnlab.RNNCell, {"nonlinearity": "relu"}, "RNNCell"),
    "rnn-nobias": (rnnlab.RNNCell, {"bias": False}, "RNNCell"),
    "lstm": (rnnlab.LSTMCell, {}, "LSTMCell"),
    "lstm-nobias": (rnnlab.LSTMCell, {"bias": False}, "LSTMCell"),
    "gru": (rnnlab.GRUCell, {}, "GRUCell"),
    "gru-nobias": (rnnlab.GRUCell, {"bias": False}, "GRUCell"),
}
D, H = 3, 4


def _inputs(cell, batch, seed=1):
    """``x`` and a random state (a tuple for the LSTM), unbatched when ``batch`` is None."""
    rng = np.random.default_rng(seed)
    lead = () if batch is None else (batch,)
    x = rng.normal(size=lead + (D,))
    states = tuple(rng.normal(size=lead + (H,)) for _ in cell.cell.state_names)
    return x, (states if len(states) > 1 else states[0])


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("batch", [None, 1, 5])
@pytest.mark.parametrize("given_hx", [True, False])
@pytest.mark.parametrize("case", list(CASES))
def test_a_cell_is_torchs_cell(torch, case, given_hx, batch):
    cls, options, torch_name = CASES[case]
    cell = cls(D, H, dtype=np.float64, seed=0, **options)
    twin = rnnlab.interop.to_torch(cell)
    assert type(twin).__name__ == torch_name and twin.weight_ih.dtype == torch.float64
    x, hx = _inputs(cell, batch)
    x_t = torch.tensor(x, requires_grad=True)
    hx_t = tuple(torch.tensor(h, requires_grad=True) for h in _as_tuple(hx))
    ref = _as_tuple(twin(x_t, (hx_t if len(hx_t) > 1 else hx_t[0]) if given_hx else None))
    mine = _as_tuple(cell(x, hx if given_hx else None))
    assert len(mine) == len(ref)
    for m, r in zip(mine, ref):
        assert m.shape == tuple(r.shape)
        assert np.max(np.abs(m - r.detach().numpy())) <= TOL
    rng = np.random.default_rng(2)
    ups = [rng.normal(size=m.shape) for m in mine]
    torch.autograd.backward(ref, [torch.tensor(u) for u in ups])
    d_x = cell.backward(*ups)
    assert np.max(np.abs(d_x - x_t.grad.numpy())) <= TOL
    if given_hx:
        for d, h in zip(_as_tuple(cell.d_hx), hx_t):
            assert np.max(np.abs(d - h.grad.numpy())) <= TOL
    for name, p in twin.named_parameters():
        assert np.max(np.abs(cell.grads[name] - p.grad.numpy())) <= TOL, name


@pytest.mark.parametrize("case", list(CASES) + ["gru-before"])
def test_gradients_by_central_differences(case):
    cls, options, _ = CASES.get(case, (rnnlab.GRUCell, {"reset": "before"}, None))
    cell = cls(D, H, dtype=np.float64, seed=3, **options)
    x, hx = _inputs(cell, 2, seed=4)
    states = [np.array(h) for h in _as_tuple(hx)]
    rng = np.random.default_rng(5)
    ups = [rng.normal(size=(2, H)) for _ in states]

    def loss():
        out = _as_tuple(cell(x, tuple(states) if len(states) > 1 else states[0]))
        return sum(np.sum(o * u) for o, u in zip(out, ups))

    loss()
    d_x = cell.backward(*ups)
    analytic = {**cell.grads, "x": d_x}
    arrays = {**cell.params, "x": x}
    for name, s, d in zip(cell.cell.state_names, states, _as_tuple(cell.d_hx)):
        arrays[f"{name}_0"], analytic[f"{name}_0"] = s, d
    report = check_gradients(loss, arrays, analytic)
    assert report.passed, str(report)
    assert max(report.errors.values()) < 1e-7, str(report)


def test_the_gradient_check_catches_a_wrong_cell_gradient():
    cell = rnnlab.LSTMCell(D, H, dtype=np.float64, seed=0)
    x, hx = _inputs(cell, 2)
    up = np.ones((2, H))
    loss = lambda: np.sum(cell(x, hx)[0] * up)  # noqa: E731
    loss()
    cell.backward(up)
    wrong = {k: v * 1.01 for k, v in cell.grads.items()}
    assert not check_gradients(loss, {"weight_hh": cell.params["weight_hh"]}, wrong).passed


LAYER_OF = {rnnlab.RNNCell: rnnlab.RNN, rnnlab.LSTMCell: rnnlab.LSTM, rnnlab.GRUCell: rnnlab.GRU}


@pytest.mark.parametrize("case", list(CASES) + ["gru-before"])
def test_a_loop_of_cells_is_the_layer_forward_and_backward(case):
    cls, options, _ = CASES.get(case, (rnnlab.GRUCell, {"reset": "before"}, None))
    T, B = 5, 3
    layer = LAYER_OF[cls](D, H, dtype=np.float64, seed=6, **options)
    cell = cls(D, H, dtype=np.float64, seed=99, **options)
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in layer.state_dict().items()})
    rng = np.random.default_rng(7)
    x = rng.normal(size=(T, B, D))
    h0 = tuple(rng.normal(size=(1, B, H)) for _ in cell.cell.state_names)
    out, final = layer(x, h0 if len(h0) > 1 else h0[0])
    # the loop a student writes, as with torch.nn.LSTMCell
    state = tuple(h[0] for h in h0)
    outputs = []
    for t in range(T):
        state = _as_tuple(cell(x[t], state if len(state) > 1 else state[0]))
        outputs.append(state[0])
    np.testing.assert_allclose(np.stack(outputs), out, rtol=0, atol=1e-13)
    for mine, ref in zip(state, _as_tuple(final)):
        np.testing.assert_allclose(mine, ref[0], rtol=0, atol=1e-13)
    # backward: the loop in reverse, gradients accumulated over the steps
    d_out = rng.normal(size=out.shape)
    d_final = [rng.normal(size=f.shape) for f in _as_tuple(final)]
    d_x_layer = layer.backward(d_out, *d_final)
    cell.accumulate_grads().zero_grad()
    d_state = [d[0] for d in d_final]
    d_x = np.empty_like(x)
    for t in reversed(range(T)):
        d_state[0] = d_state[0] + d_out[t]
        d_x[t] = cell.backward(*d_state)
        d_state = list(_as_tuple(cell.d_hx))
    np.testing.assert_allclose(d_x, d_x_layer, rtol=0, atol=1e-12)
    for mine, ref in zip(d_state, _as_tuple(layer.d_hx)):
        np.testing.assert_allclose(mine, ref[0], rtol=0, atol=1e-12)
    for name, g in cell.grads.items():
        np.testing.assert_allclose(g, layer.grads[f"{name}_l0"], rtol=0, atol=1e-12, err_msg=name)
    with pytest.raises(ConfigError, match="expected a forward step to go back through, got none"):
        cell.backward(d_state[0])


def test_eval_mode_remembers_only_the_last_step():
    cell = rnnlab.GRUCell(D, H, seed=0).eval()
    h = None
    for _ in range(50):
        h = cell(np.ones(D), h)
    assert len(cell._steps) == 1
    assert cell.backward(np.ones(H)).shape == (D,)


def test_cells_move_to_torch_and_back(torch):
    for cell in (rnnlab.RNNCell(2, 3, nonlinearity="relu", bias=False), rnnlab.LSTMCell(2, 3, seed=1),
                 rnnlab.GRUCell(2, 3, dtype=np.float64, seed=2)):
        twin = rnnlab.interop.to_torch(cell)
        back = rnnlab.interop.from_torch(twin)
        assert type(back) is type(cell) and repr(back) == repr(cell)
        for k, v in cell.state_dict().items():
            np.testing.assert_array_equal(back.params[k], v)
            np.testing.assert_array_equal(getattr(twin, k).detach().numpy(), v)
    with pytest.raises(ConfigError, match="reset='before' has no PyTorch cell counterpart"):
        rnnlab.interop.to_torch(rnnlab.GRUCell(2, 3, reset="before"))


def test_state_dict_names_shapes_repr_and_init():
    cell = rnnlab.LSTMCell(3, 5, seed=0)
    assert {k: v.shape for k, v in cell.state_dict().items()} == {
        "weight_ih": (20, 3), "weight_hh": (20, 5), "bias_ih": (20,), "bias_hh": (20,)}
    assert all(np.all(np.abs(p) <= np.sqrt(1 / 5)) for p in cell.parameters())
    assert repr(cell) == "LSTMCell(3, 5)"
    assert repr(rnnlab.RNNCell(3, 5, bias=False, nonlinearity="relu", dtype=np.float64)) == \
        "RNNCell(3, 5, bias=False, nonlinearity='relu', dtype=float64)"
    assert repr(rnnlab.GRUCell(3, 5, reset="before")) == "GRUCell(3, 5, reset='before')"
    assert cell.num_parameters() == 2 * 20 + 20 * 3 + 20 * 5


@pytest.mark.parametrize("call, match", [
    (lambda c: c(np.ones((2, 2, 3))), r"input: expected 2 dimensions \(B, 3\) or 1 \(3,\), got shape \(2, 2, 3\)"),
    (lambda c: c(np.ones(4)), r"input: expected shape \(3,\), got \(4,\)"),
    (lambda c: c(np.ones((2, 3)), np.ones((2, 5))), r"hx: expected a tuple \(h, c\), got ndarray"),
    (lambda c: c(np.ones((2, 3)), (np.ones((2, 5)), np.ones((3, 5)))), r"c: expected shape \(2, 5\), got \(3, 5\)"),
    (lambda c: c(np.full(3, np.nan)), "input"),
    (lambda c: c.backward(np.ones(5)), "expected a forward step"),
])
def test_errors_name_what_was_expected_and_got(call, match):
    with pytest.raises(RnnlabError, match=match):
        call(rnnlab.LSTMCell(3, 5))


def test_a_cell_with_parameters_of_its_own_has_no_cell_module():
    with pytest.raises(ConfigError, match="expected a cell without parameters of its own"):
        rnnlab.RecurrentCell("lnlstm", 3, 5)
    with pytest.raises(ShapeError):
        rnnlab.RNNCell(3, 5)(np.array(["a", "b", "c"]))
