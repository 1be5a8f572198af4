"""Model pieces and the character language model: gradient checks (float64 central differences)
and PyTorch on identical weights and batches (values, gradients, a few optimiser steps)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab import cells
from rnnlab.errors import ConfigError, ShapeError, ValueRangeError
from rnnlab.gradcheck import check_gradients
from rnnlab.data.text import one_hot
from rnnlab.models import CharLM, Dropout, Embedding, Linear


# every registered cell as a user spells it: ("lstm", True) is the layer-normalised LSTM
REGISTERED = [cells.spelling(name) for name in cells.names(variants=True)]
WITH_TORCH = [cells.spelling(name) for name in cells.names(variants=True) if cells.get(name).torch]


def _charlm_loss_fn(model, ids, targets, state):
    return lambda: model.loss(ids, targets, state)[0]


# --- pieces ----------------------------------------------------------------------------------


def test_embedding_equals_seed_one_hot_times_W_xh():
    """Seed 003 computes W_xh · x_t with x_t one-hot; the embedding row E[x] is the same vector."""
    rng = np.random.default_rng(3)
    V, H = 17, 50  # the seed's vocabulary ("exemple de texte pour entraîner un RNN.") and hidden size
    W_xh = rng.standard_normal((H, V)) * 0.01
    emb = Embedding(V, H, dtype=np.float64, seed=0)
    emb.load_state_dict({"weight": W_xh.T})
    ids = rng.integers(0, V, size=(5, 3))
    seed_way = np.stack([np.stack([W_xh @ one_hot(i, V) for i in row]) for row in ids])  # (5, 3, H)
    np.testing.assert_array_equal(emb(ids), seed_way)
    np.testing.assert_array_equal(one_hot(ids, V) @ W_xh.T, emb(ids))


def test_embedding_gradient_adds_over_repeated_ids():
    emb = Embedding(4, 3, dtype=np.float64, seed=1)
    ids = np.array([[0, 2], [2, 2]])  # id 2 read three times
    emb(ids)
    d = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    emb.backward(d)
    np.testing.assert_array_equal(emb.grads["weight"][2], d[0, 1] + d[1, 0] + d[1, 1])
    np.testing.assert_array_equal(emb.grads["weight"][1], 0.0)
    with pytest.raises(ValueRangeError, match="0..3"):
        emb(np.array([4]))
    with pytest.raises(ShapeError, match="integer"):
        emb(np.array([0.5]))


@settings(max_examples=5, deadline=None)
@given(n=st.integers(1, 4), d_in=st.integers(1, 5), d_out=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_linear_gradcheck(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    lin = Linear(d_in, d_out, dtype=np.float64, rng=rng)
    x = rng.standard_normal((n, 2, d_in))
    w = rng.standard_normal((n, 2, d_out))
    loss = lambda: float(np.sum(lin(x) * w))  # noqa: E731
    loss()
    d_x = lin.backward(w)
    report = check_gradients(loss, {**lin.params, "x": x}, {**lin.grads, "x": d_x})
    assert report.passed, str(report)


def test_dropout_train_and_eval():
    x = np.ones((200, 50))
    drop = Dropout(0.3, seed=0)
    y = drop(x)
    kept = y != 0
    assert 0.6 < kept.mean() < 0.8
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    np.testing.assert_array_equal(drop.backward(np.full_like(x, 2.0)), 2.0 * y)
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ConfigError, match="probability"):
        Dropout(1.0)


# --- the language model ------------------------------------------------------------------------


@pytest.mark.parametrize("cell,layer_norm", REGISTERED)
def test_charlm_gradcheck(cell, layer_norm):
    rng = np.random.default_rng(7)
    V, T, B = 5, 4, 2
    model = CharLM(V, cell=cell, hidden_size=3, num_layers=2, embedding_dim=3, layer_norm=layer_norm,
                   dtype=np.float64, seed=1)
    assert model.rnn.mode == cells.resolve(cell, layer_norm) and model.layer_norm == layer_norm
    ids, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    state = model.initial_state(B)
    state = tuple(s + 0.3 * rng.standard_normal(s.shape) for s in state) if isinstance(state, tuple) \
        else state + 0.3 * rng.standard_normal(state.shape)  # a carried (non-zero) state
    model.loss(ids, targets, state)
    grads = {k: g.copy() for k, g in model.backward().items()}
    assert set(grads) == set(model.params)
    report = check_gradients(_charlm_loss_fn(model, ids, targets, state), model.params, grads)
    assert report.passed, str(report)


def test_charlm_gradcheck_with_dropout_fixed_masks():
    """With dropout the masks are drawn at each forward; replaying the same RNG state makes the
    loss a fixed function of the weights, so its gradient can be checked."""
    rng = np.random.default_rng(8)
    model = CharLM(4, cell="lstm", hidden_size=3, num_layers=2, embedding_dim=2, dropout=0.4, dtype=np.float64, seed=2)
    ids, targets = rng.integers(0, 4, (3, 2)), rng.integers(0, 4, (3, 2))
    saved = model.rng.bit_generator.state

    def loss():
        model.rng.bit_generator.state = saved
        return model.loss(ids, targets)[0]

    loss()
    grads = {k: g.copy() for k, g in model.backward().items()}
    report = check_gradients(loss, model.params, grads)
    assert report.passed, str(report)


def test_charlm_keys_shapes_and_errors():
    model = CharLM(11, cell="gru", hidden_size=8, num_layers=2, embedding_dim=4, seed=0)
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes["embedding.weight"] == (11, 4)
    assert shapes["rnn.weight_ih_l0"] == (24, 4) and shapes["rnn.weight_hh_l1"] == (24, 8)
    assert shapes["head.weight"] == (11, 8) and shapes["head.bias"] == (11,)
    assert model.params["head.weight"] is model.head.params["weight"]  # live arrays, not copies
    assert model.params["head.weight"].dtype == np.float32
    with pytest.raises(ConfigError, match="cell"):
        CharLM(5, cell="transformer")
    with pytest.raises(ShapeError, match=r"\(T, B\)"):
        model(np.zeros(3, dtype=np.int64))
    with pytest.raises(ShapeError, match="missing keys"):
        model.load_state_dict({"head.bias": np.zeros(11)})
    with pytest.raises(ShapeError, match="head.bias"):
        model.load_state_dict({**model.state_dict(), "head.bias": np.zeros(12)})


def test_charlm_state_carried_equals_one_long_sequence():
    """Two batches with the state carried give the outputs of one batch twice as long."""
    rng = np.random.default_rng(0)
    model = CharLM(6, cell="lstm", hidden_size=5, num_layers=2, dtype=np.float64, seed=3)
    ids = rng.integers(0, 6, (8, 3))
    full, _ = model(ids)
    a, state = model(ids[:4])
    b, _ = model(ids[4:], state)
    np.testing.assert_allclose(np.concatenate([a, b]), full, rtol=0, atol=1e-14)


# --- against PyTorch -----------------------------------------------------------------------------


def torch_charlm(torch, model):
    """The PyTorch model equivalent to ``model`` (same module names), with its weights."""
    nn = torch.nn

    class TorchCharLM(nn.Module):
        def __init__(self):
            super().__init__()
            cfg = model.config()
            rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cfg["cell"]]
            self.embedding = nn.Embedding(cfg["vocab_size"], cfg["embedding_dim"])
            self.rnn = rnn_cls(cfg["embedding_dim"], cfg["hidden_size"], cfg["num_layers"])
            self.head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"])

        def forward(self, ids, state=None):
            h, state = self.rnn(self.embedding(ids), state)
            return self.head(h), state

    tm = TorchCharLM().double()
    tm.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.params.items()})
    return tm


def _detach(torch, state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


@pytest.mark.torch
@pytest.mark.parametrize("cell", [cell for cell, layer_norm in WITH_TORCH if not layer_norm])
def test_charlm_matches_torch_values_and_gradients(torch, cell):
    rng = np.random.default_rng(11)
    V, T, B = 7, 6, 3
    model = CharLM(V, cell=cell, hidden_size=5, num_layers=2, embedding_dim=4, dtype=np.float64, seed=4)
    tm = torch_charlm(torch, model)
    ids, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    loss, state = model.loss(ids, targets)
    grads = model.backward()
    logits_t, state_t = tm(torch.from_numpy(ids))
    loss_t = torch.nn.functional.cross_entropy(logits_t.reshape(T * B, V), torch.from_numpy(targets).reshape(-1))
    loss_t.backward()
    assert abs(loss - loss_t.item()) <= 1e-12
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=0, atol=1e-12, err_msg=name)
    h_t = state_t[0] if isinstance(state_t, tuple) else state_t
    h = state[0] if isinstance(state, tuple) else state
    np.testing.assert_allclose(h, h_t.detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_charlm_training_steps_match_torch(torch, opt_name):
    """Same weights, same batches, state carried across batches, global-norm clipping: the same
    losses step for step (float64, 1e-9)."""
    from rnnlab.optim import clip_grad_norm, make_optimizer

    rng = np.random.default_rng(12)
    V, T, B = 9, 5, 4
    model = CharLM(V, cell="lstm", hidden_size=6, num_layers=2, embedding_dim=5, dtype=np.float64, seed=5)
    tm = torch_charlm(torch, model)
    lr = 0.5 if opt_name == "sgd" else 0.01
    opt = make_optimizer(opt_name, model.params, lr=lr)
    opt_t = (torch.optim.SGD if opt_name == "sgd" else torch.optim.Adam)(tm.parameters(), lr=lr)
    stream = rng.integers(0, V, (6 * T + 1, B))
    state, state_t, losses, losses_t = None, None, [], []
    for k in range(6):
        ids, targets = stream[k * T:(k + 1) * T], stream[k * T + 1:(k + 1) * T + 1]
        loss, state = model.loss(ids, targets, state)
        grads = model.backward()
        clip_grad_norm(grads, 1.0)
        opt.step(grads)
        losses.append(loss)

        opt_t.zero_grad()
        logits_t, state_t = tm(torch.from_numpy(ids), state_t)
        state_t = _detach(torch, state_t)
        loss_t = torch.nn.functional.cross_entropy(logits_t.reshape(T * B, V), torch.from_numpy(targets).reshape(-1))
        loss_t.backward()
        torch.nn.utils.clip_grad_norm_(tm.parameters(), 1.0)
        opt_t.step()
        losses_t.append(loss_t.item())
    np.testing.assert_allclose(losses, losses_t, rtol=0, atol=1e-9)
    assert losses[-1] < losses[0]
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(model.params[name], p.detach().numpy(), rtol=0, atol=1e-9, err_msg=name)
