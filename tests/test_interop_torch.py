"""rnnlab.interop.pytorch: layers to torch and back with every option (exact in float64, dtype
kept), the course's GRU as an nn.Module (forward and autograd gradients equal rnnlab's
GRU(reset="before")), the corrected myRNN of seed 002, and clear errors."""

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab import cells
from rnnlab.errors import ConfigError, RnnlabError, ShapeError

# every registered cell with a torch counterpart, with the options each counterpart fixes (GRU
# reset "after": nn.GRU, "before": CourseGRU), and the RNN's other nonlinearity
KINDS = [(name, {**cells.get(name).default_options(), **fixed}) for name in cells.names(variants=True)
         for fixed in cells.get(name).torch.values()]
KINDS += [("rnn", {"nonlinearity": "relu"})]
WITHOUT_TORCH = [name for name in cells.names(variants=True) if not cells.get(name).torch]


def make_layer(kind, opts, D, H, **kw):
    spec = cells.get(kind)
    return rnnlab.layers.make_layer(spec.base, D, H, layer_norm=spec.layer_norm, **opts, **kw)


def run_torch(torch, module, x, hx=None):
    with torch.no_grad():
        out, state = module(torch.from_numpy(x), hx)
    if isinstance(state, tuple):
        return out.numpy(), tuple(s.numpy() for s in state)
    return out.numpy(), state.numpy()


@pytest.mark.parametrize("kind,opts", KINDS)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), num_layers=st.integers(1, 2), bidirectional=st.booleans(),
       batch_first=st.booleans(), bias=st.booleans(), dropout=st.sampled_from([0.0, 0.25]),
       dtype=st.sampled_from([np.float64, np.float32]), D=st.integers(1, 4), H=st.integers(1, 4),
       B=st.integers(1, 3), T=st.integers(1, 5))
def test_to_torch_and_back_is_exact(torch, kind, opts, seed, num_layers, bidirectional, batch_first, bias, dropout,
                                    dtype, D, H, B, T):
    from rnnlab.interop import from_torch, to_torch

    rng = np.random.default_rng(seed)
    layer = make_layer(kind, opts, D, H, num_layers=num_layers, bias=bias, batch_first=batch_first, dropout=dropout,
                       bidirectional=bidirectional, dtype=dtype, rng=rng).eval()
    module = to_torch(layer)
    expected = next(cls for cls, fixed in cells.get(kind).torch.items()  # the cell file's TORCH
                    if all(opts.get(k) == v for k, v in fixed.items()))
    course_gru = opts.get("reset") == "before"
    assert expected == {"rnn": "RNN", "lstm": "LSTM", "gru": "CourseGRU" if course_gru else "GRU"}[kind]
    assert type(module).__name__ == expected and not module.training
    for attr in ("num_layers", "bias", "batch_first", "dropout", "bidirectional", "input_size", "hidden_size"):
        assert getattr(module, attr) == getattr(layer, attr), attr
    if kind == "rnn":
        assert module.nonlinearity == opts["nonlinearity"]
    sd = module.state_dict()
    assert list(sd) == list(layer.params)  # same names, same order
    for name, p in layer.params.items():
        assert sd[name].dtype == torch.from_numpy(p).dtype
        np.testing.assert_array_equal(sd[name].numpy(), p)

    # outputs equal (the two implementations, same weights)
    x = rng.normal(size=(B, T, D) if batch_first else (T, B, D)).astype(dtype)
    out, state = layer(x)
    t_out, t_state = run_torch(torch, module, x)
    atol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(t_out, out, rtol=0, atol=atol)
    np.testing.assert_allclose(np.asarray(t_state), np.asarray(state), rtol=0, atol=atol)

    # back: every option, every array bit for bit, same outputs
    back = from_torch(module)
    assert repr(back) == repr(layer) and not back.training
    for name, p in layer.params.items():
        assert back.params[name].dtype == p.dtype
        np.testing.assert_array_equal(back.params[name], p)
    out2, state2 = back(x)
    np.testing.assert_array_equal(out2, out)
    np.testing.assert_array_equal(np.asarray(state2), np.asarray(state))


@pytest.mark.parametrize("cls_name", ["RNN", "LSTM", "GRU"])
def test_from_torch_of_a_torch_module(torch, cls_name):
    from rnnlab.interop import from_torch, to_torch

    torch.manual_seed(0)
    module = getattr(torch.nn, cls_name)(3, 5, num_layers=2, bidirectional=True, batch_first=True).double()
    layer = from_torch(module)
    assert layer.dtype == np.float64 and layer.training
    x = np.random.default_rng(0).normal(size=(2, 6, 3))
    h0 = np.random.default_rng(1).normal(size=(4, 2, 5))
    hx = (h0, h0 * 0.5) if cls_name == "LSTM" else h0
    out, state = layer(x, hx)
    t_hx = tuple(torch.from_numpy(h) for h in hx) if cls_name == "LSTM" else torch.from_numpy(hx)
    t_out, t_state = run_torch(torch, module, x, t_hx)
    np.testing.assert_allclose(out, t_out, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(state), np.asarray(t_state), rtol=0, atol=1e-12)
    again = to_torch(layer).state_dict()
    for k, v in module.state_dict().items():
        assert torch.equal(again[k], v)


def test_course_gru_is_the_course_equations(torch):
    """CourseGRU with weights from the course's W_z, W_r, W (over [h, x]) computes Cho 2014:
    h̃ = tanh(W [r ⊙ h, x] + b), h = (1 − z) h + z h̃, written here directly."""
    from rnnlab.interop import CourseGRU, load_into_torch

    rng = np.random.default_rng(3)
    D, H, T = 2, 3, 4
    course = {k: rng.normal(size=(H, H + D)) for k in ("W_z", "W_r", "W")}
    course.update({k: rng.normal(size=H) for k in ("b_z", "b_r", "b")})
    module = load_into_torch(CourseGRU(D, H, dtype=torch.float64), rnnlab.gru_params_from_course(**course))
    x = rng.normal(size=(T, D))
    h = np.zeros(H)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    hs = []
    for t in range(T):
        z = sig(course["W_z"] @ np.concatenate([h, x[t]]) + course["b_z"])
        r = sig(course["W_r"] @ np.concatenate([h, x[t]]) + course["b_r"])
        h_tilde = np.tanh(course["W"] @ np.concatenate([r * h, x[t]]) + course["b"])
        h = (1 - z) * h + z * h_tilde
        hs.append(h)
    out, h_n = run_torch(torch, module, x)  # unbatched (T, D)
    np.testing.assert_allclose(out, np.stack(hs), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_n[0], hs[-1], rtol=0, atol=1e-12)
    # and nn.GRU on the same weights (reset after the matmul) computes something else
    gru = load_into_torch(torch.nn.GRU(D, H, dtype=torch.float64), dict(module.state_dict()))
    assert np.abs(run_torch(torch, gru, x)[0] - out).max() > 1e-6


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), num_layers=st.integers(1, 2), bidirectional=st.booleans(),
       batch_first=st.booleans(), bias=st.booleans())
def test_course_gru_gradients_equal_rnnlab_bptt(torch, seed, num_layers, bidirectional, batch_first, bias):
    """Autograd through CourseGRU equals rnnlab's hand-written BPTT of GRU(reset="before")."""
    from rnnlab.interop import to_torch

    rng = np.random.default_rng(seed)
    D, H, B, T = 3, 4, 2, 5
    layer = rnnlab.GRU(D, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias,
                       reset="before", dtype=np.float64, rng=rng)
    dirs = 2 if bidirectional else 1
    x = rng.normal(size=(B, T, D) if batch_first else (T, B, D))
    h0 = rng.normal(size=(num_layers * dirs, B, H))
    d_out = rng.normal(size=(B, T, dirs * H) if batch_first else (T, B, dirs * H))
    d_hn = rng.normal(size=h0.shape)
    layer(x, h0)
    d_x = layer.backward(d_out, d_hn)

    module = to_torch(layer)
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    t_out, t_hn = module(tx, th)
    ((t_out * torch.from_numpy(d_out)).sum() + (t_hn * torch.from_numpy(d_hn)).sum()).backward()
    np.testing.assert_allclose(d_x, tx.grad.numpy(), rtol=0, atol=1e-11)
    np.testing.assert_allclose(layer.d_hx, th.grad.numpy(), rtol=0, atol=1e-11)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(layer.grads[name], p.grad.numpy(), rtol=0, atol=1e-11, err_msg=name)


def test_course_gru_errors_and_modes(torch):
    from rnnlab.interop import CourseGRU

    m = CourseGRU(3, 2, num_layers=2, dropout=0.5)
    with pytest.raises(ShapeError, match=r"expected \(T, B, 3\).*got \(4, 2, 5\)"):
        m(torch.zeros(4, 2, 5))
    with pytest.raises(ShapeError, match=r"hx: expected shape \(2, 2, 2\), got \(1, 2, 2\)"):
        m(torch.zeros(4, 2, 3), torch.zeros(1, 2, 2))
    x = torch.randn(6, 2, 3)
    torch.manual_seed(0)
    assert not torch.equal(m(x)[0], m(x)[0])  # dropout between the layers in training
    m.eval()
    assert torch.equal(m(x)[0], m(x)[0])
    assert sorted(dict(m.named_parameters())) == sorted(dict(torch.nn.GRU(3, 2, num_layers=2).named_parameters()))


def test_errors_for_what_rnnlab_cannot_hold(torch):
    from rnnlab.interop import from_torch, load_from_torch, load_into_torch, to_torch

    assert from_torch(torch.nn.LSTM(3, 4, proj_size=2)).proj_size == 2  # held since the projections
    with pytest.raises(ConfigError, match=r"expected torch.nn.RNN, nn.LSTM, nn.GRU.*got torch.nn.modules.linear.Linear"):
        from_torch(torch.nn.Linear(3, 4))
    with pytest.raises(ConfigError, match="expected an rnnlab RNN, LSTM or GRU layer or cell, a CharLM or a sequence model, got dict"):
        to_torch({})
    layer = rnnlab.LSTM(3, 4, dtype=np.float64)
    with pytest.raises(ShapeError, match=r"weight_hh_l0: expected shape \(16, 4\), got \(20, 5\)"):
        load_from_torch(layer, torch.nn.LSTM(3, 5).double().state_dict() | {"weight_ih_l0": torch.zeros(16, 3)})
    with pytest.raises(ConfigError, match="expected a module computing LSTM"):
        load_from_torch(layer, torch.nn.GRU(3, 4))
    with pytest.raises(ConfigError, match="computing GRU.*reset='after'"):
        load_from_torch(rnnlab.GRU(3, 4), rnnlab.interop.CourseGRU(3, 4))
    with pytest.raises(ShapeError, match=r"bias_ih_l0: expected shape \(16,\), got \(12,\)"):
        load_into_torch(torch.nn.LSTM(3, 4), dict(layer.params, bias_ih_l0=np.zeros(12)))
    with pytest.raises(ShapeError, match=r"missing keys \['bias_hh_l0'\]"):
        load_into_torch(torch.nn.LSTM(3, 4), {k: v for k, v in layer.params.items() if k != "bias_hh_l0"})
    loaded = load_from_torch(rnnlab.LSTM(3, 4, dtype=np.float64), torch.nn.LSTM(3, 4).double())
    assert isinstance(loaded, rnnlab.LSTM)


def test_missing_torch_is_a_clear_rnnlab_error():
    """Without torch: rnnlab, rnnlab.interop and the NumPy formats still import; the torch
    bridge raises TorchNotInstalledError (a ConfigError and an ImportError)."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import rnnlab, rnnlab.interop\n"
        "from rnnlab.interop import from_keras, TorchNotInstalledError\n"
        "from rnnlab.errors import ConfigError\n"
        "try:\n"
        "    rnnlab.interop.to_torch\n"
        "except TorchNotInstalledError as e:\n"
        "    assert isinstance(e, ConfigError) and isinstance(e, ImportError)\n"
        "    print('OK', e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK rnnlab.interop.pytorch: expected PyTorch to be installed")


# --- seed 002: the course's myRNN, corrected -----------------------------------------------------


def test_myrnn_shapes_of_the_seed(torch):
    from rnnlab.interop import myRNN

    torch.manual_seed(0)
    B, T, d, nb_class = 5, 13, 7, 3
    model = myRNN(d, 10, nb_class)
    out = model(torch.randn(B, T, d))
    assert out.size() == (B, nb_class)
    np.testing.assert_allclose(out.sum(dim=1).detach().numpy(), np.ones(B), rtol=0, atol=1e-6)
    assert (out > 0).all()


def test_myrnn_equals_rnnlab_rnn_plus_softmax_head(torch):
    """Same weights: myRNN(x) = softmax(V h_T) with h_T from rnnlab.RNN; and the gradients of a
    cross-entropy through both agree (autograd against rnnlab's BPTT)."""
    from rnnlab.interop import MyRNN

    torch.manual_seed(1)
    B, T, d, H, K = 5, 13, 7, 10, 3
    model = MyRNN(d, H, K).double()
    x = np.random.default_rng(0).normal(size=(B, T, d))
    targets = np.array([0, 2, 1, 1, 0])
    rnn_sd, head = model.rnnlab_params()
    rnn = rnnlab.RNN(d, H, batch_first=True, dtype=np.float64)
    rnn.load_state_dict(rnn_sd)
    out, h_n = rnn(x)
    logits = h_n[0] @ head["weight"].T + head["bias"]  # (B, K)
    np.testing.assert_allclose(model(torch.from_numpy(x)).detach().numpy(), rnnlab.functional.softmax(logits),
                               rtol=0, atol=1e-12)
    t_logits = model(torch.from_numpy(x), logits=True)
    np.testing.assert_allclose(t_logits.detach().numpy(), logits, rtol=0, atol=1e-12)

    loss, d_logits = rnnlab.functional.cross_entropy(logits, targets)
    t_loss = torch.nn.functional.cross_entropy(t_logits, torch.from_numpy(targets))
    t_loss.backward()
    assert abs(loss - t_loss.item()) < 1e-12
    d_hn = (d_logits @ head["weight"])[None]  # (1, B, H)
    rnn.backward(np.zeros_like(out), d_hn)
    np.testing.assert_allclose(rnn.grads["weight_ih_l0"], model.U.weight.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(rnn.grads["weight_hh_l0"], model.W.weight.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(rnn.grads["bias_hh_l0"], model.W.bias.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(d_logits.T @ h_n[0], model.V.weight.grad.numpy(), rtol=0, atol=1e-12)


def test_myrnn_reads_every_step_and_takes_a_batch_of_h0(torch):
    from rnnlab.interop import MyRNN

    torch.manual_seed(2)
    model = MyRNN(7, 10, 3).double()
    x = torch.randn(5, 13, 7, dtype=torch.float64)
    y = model(x)
    x_late = x.clone()
    x_late[:, 12] += 1.0  # the last of T = 13 steps: the seed's T = x.size(-1) = 7 never reached it
    assert (model(x_late) - y).abs().max() > 1e-6
    h0 = torch.randn(5, 10, dtype=torch.float64)
    assert (model(x, h0=h0) - y).abs().max() > 1e-6
    with pytest.raises(ShapeError, match=r"expected shape \(B, T, 7\), got \(13, 7\)"):
        model(x[0])
    with pytest.raises(ShapeError, match=r"h0: expected shape \(5, 10\), got \(10,\)"):
        model(x, h0=h0[0])
    assert isinstance(ShapeError("x"), RnnlabError)


# --- whole models: CharLM and the sequence models --------------------------------------------------


@pytest.mark.parametrize("cell", sorted({kind for kind, _ in KINDS}))
def test_charlm_to_torch_and_back(torch, cell):
    """Same keys, same logits, same loss and gradients (autograd vs rnnlab's BPTT), exact round trip."""
    from rnnlab.interop import from_torch, to_torch
    from rnnlab.models import CharLM

    V, T, B = 11, 6, 3
    model = CharLM(V, cell, hidden_size=5, num_layers=2, embedding_dim=4, dropout=0.2, dtype=np.float64, seed=0)
    model.eval()
    module = to_torch(model)
    assert type(module).__name__ == "TorchCharLM" and not module.training
    assert list(module.state_dict()) == list(model.params)
    assert module.config() == model.config()
    rng = np.random.default_rng(0)
    ids, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    loss, _ = model.loss(ids, targets)
    grads = model.backward()
    t_logits, _ = module(torch.from_numpy(ids))
    t_loss = torch.nn.functional.cross_entropy(t_logits.reshape(T * B, V), torch.from_numpy(targets).reshape(-1))
    t_loss.backward()
    assert abs(loss - t_loss.item()) < 1e-12
    for name, p in module.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=0, atol=1e-12, err_msg=name)
    back = from_torch(module)
    assert back.config() == model.config() and back.dtype == np.float64
    for name, p in model.params.items():
        np.testing.assert_array_equal(back.params[name], p)
    np.testing.assert_array_equal(back.eval()(ids)[0], model(ids)[0])


SEQ_CASES = [("classifier", "lstm", True), ("regressor", "gru", False), ("tagger", "rnn", True),
             ("generator", "lstm", False), ("generator", "gru", False)]


@pytest.mark.parametrize("kind,cell,bidirectional", SEQ_CASES)
def test_sequence_models_to_torch_and_back(torch, kind, cell, bidirectional):
    from rnnlab.interop import from_torch, to_torch
    from rnnlab.seqmodels import SeqModelConfig, build_model

    cfg = SeqModelConfig(kind, 3, 4, 2, cell=cell, num_layers=2, bidirectional=bidirectional, batch_first=kind != "generator")
    model = build_model(cfg, dtype=np.float64, seed=1).eval()
    module = to_torch(model)
    assert sorted(module.state_dict()) == sorted(model.params)
    rng = np.random.default_rng(1)
    B, T = 3, 5
    with torch.no_grad():
        if kind == "generator":
            v, inputs = rng.normal(size=(B, 3)), rng.normal(size=(T, B, 2))
            want = model(v, inputs)
            got = module.forward_generator(torch.from_numpy(v), torch.from_numpy(inputs)).numpy()
        else:
            x, lengths = rng.normal(size=(B, T, 3)), np.array([5, 2, 4])
            want = model(x, lengths)
            got = module(torch.from_numpy(x), lengths).numpy()
    if kind == "tagger":  # rows past each length: the head's bias on zeros, in both
        assert got.shape == (B, T, 2)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    back = from_torch(module)
    assert type(back) is type(model) and back.config == model.config
    for name, p in model.params.items():
        np.testing.assert_array_equal(back.params[name], p)


@pytest.mark.parametrize("cell", sorted({kind for kind, _ in KINDS}))
def test_every_cell_with_a_counterpart_moves_in_a_sequence_model(torch, cell):
    from rnnlab.interop import from_torch, to_torch
    from rnnlab.seqmodels import SeqModelConfig, build_model

    cfg = SeqModelConfig("classifier", 3, 4, 2, cell=cell, bidirectional=True)
    model = build_model(cfg, dtype=np.float64, seed=2).eval()
    module = to_torch(model)
    x, lengths = np.random.default_rng(2).normal(size=(5, 3, 3)), np.array([5, 1, 3])
    with torch.no_grad():
        got = module(torch.from_numpy(x), lengths).numpy()
    np.testing.assert_allclose(got, model(x, lengths), rtol=0, atol=1e-12)
    assert from_torch(module).config == model.config


@pytest.mark.parametrize("name", WITHOUT_TORCH)
def test_every_cell_without_a_counterpart_is_refused_clearly(torch, name):
    from rnnlab.interop import to_torch
    from rnnlab.seqmodels import SeqModelConfig, build_model

    spec = cells.get(name)
    layer = make_layer(name, {}, 2, 3)
    says = re.escape(spec.describe())
    with pytest.raises(ConfigError, match=f"to_torch: {says} has no PyTorch counterpart"):
        to_torch(layer)
    with pytest.raises(ConfigError, match=f"{re.escape(spec.describe())} has no PyTorch counterpart"):
        to_torch(rnnlab.models.CharLM(5, cell=spec.base, hidden_size=3, layer_norm=spec.layer_norm, seed=0))
    cfg = SeqModelConfig("classifier", 2, 3, 2, cell=spec.base, layer_norm=spec.layer_norm)
    with pytest.raises(ConfigError, match=f"cell '{name}' .*no torch counterpart"):
        to_torch(build_model(cfg, seed=0))


def test_models_without_a_torch_counterpart(torch):
    from rnnlab.interop import TorchSequenceModel
    from rnnlab.seqmodels import SeqModelConfig

    with pytest.raises(ConfigError, match="'lnlstm'.*no torch counterpart"):
        TorchSequenceModel(SeqModelConfig("classifier", 3, 4, 2, cell="lnlstm"))
    with pytest.raises(ConfigError, match="recurrent_dropout=0.3 has no torch counterpart"):
        TorchSequenceModel(SeqModelConfig("classifier", 3, 4, 2, cell="lstm", recurrent_dropout=0.3))
