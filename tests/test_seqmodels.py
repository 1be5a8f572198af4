"""The sequence models (seed 001's architectures, seed 002's classifier): shapes, gradient
checks of every head in float64, padded batches, and PyTorch on identical weights."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab import cells
from rnnlab.errors import ConfigError, ShapeError
from rnnlab.gradcheck import check_gradients
from rnnlab.seqmodels import (SeqModelConfig, SequenceClassifier, SequenceGenerator, SequenceRegressor,
                              SequenceTagger, build_model)

# every registered cell as a user spells it: ("lstm", True) is the layer-normalised LSTM
REGISTERED = [cells.spelling(name) for name in cells.names(variants=True)]


def _check_model(model, inputs: dict, forward, seed=0, tol=1e-6):
    """Gradient check of L = Σ output ⊙ G over every parameter and the inputs in ``inputs``."""
    rng = np.random.default_rng(seed)
    g = rng.normal(size=forward().shape)

    def loss():
        return float(np.sum(forward() * g))

    loss()
    d_in = model.backward(g)
    analytic = dict(model.grads)
    arrays = dict(model.params)
    name, array = next(iter(inputs.items()))
    analytic[name], arrays[name] = d_in, array
    report = check_gradients(loss, arrays, analytic, tol=tol)
    assert report.passed, str(report)
    return report


def test_seed_002_classifier_shapes():
    """Seed 002: B=5, T=13, d=7, 3 classes, hidden 10 -> (5, 3); rows of the softmax sum to 1."""
    model = SequenceClassifier(SeqModelConfig("classifier", 7, 10, 3, cell="rnn", batch_first=True), seed=0)
    x = np.random.default_rng(0).normal(size=(5, 13, 7))
    assert model(x).shape == (5, 3)
    p = model.predict_proba(x)
    assert p.shape == (5, 3) and np.allclose(p.sum(axis=1), 1.0)
    assert model.backward(np.ones((5, 3))).shape == (5, 13, 7)
    assert "rnn.weight_hh_l0" in model.grads and model.grads["head.weight"].shape == (3, 10)


@settings(max_examples=6, deadline=None)
@given(cell=st.sampled_from(REGISTERED), bidirectional=st.booleans(),
       kind=st.sampled_from(["classifier", "regressor"]), layers=st.integers(1, 2),
       seed=st.integers(0, 10_000))
def test_many_to_one_gradcheck_with_lengths(cell, bidirectional, kind, layers, seed):
    rng = np.random.default_rng(seed)
    (cell, layer_norm) = cell
    cfg = SeqModelConfig(kind, 3, 4, 2, cell=cell, num_layers=layers, bidirectional=bidirectional,
                         layer_norm=layer_norm)
    model = build_model(cfg, dtype=np.float64, seed=seed)
    x = rng.normal(size=(5, 3, 3))
    lengths = np.array([5, 2, 4])
    _check_model(model, {"input": x}, lambda: model(x, lengths), seed)


def test_many_to_one_reads_the_state_at_the_true_length():
    """Padding past a sequence's length changes nothing in its output (both directions)."""
    for bidirectional in (False, True):
        model = SequenceRegressor(SeqModelConfig("regressor", 2, 5, 1, cell="lstm", bidirectional=bidirectional), seed=1)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(6, 2, 2))
        lengths = np.array([3, 6])
        y = model(x, lengths)
        x2 = x.copy()
        x2[3:, 0] = 100.0  # garbage in the padding of sequence 0
        assert np.allclose(model(x2, lengths), y)
        assert np.allclose(model(x[:3, :1]), y[:1], atol=1e-6)  # the same as the unpadded sequence


@settings(max_examples=4, deadline=None)
@given(cell=st.sampled_from(REGISTERED), bidirectional=st.booleans(), seed=st.integers(0, 10_000))
def test_tagger_gradcheck(cell, bidirectional, seed):
    rng = np.random.default_rng(seed)
    (cell, layer_norm) = cell
    cfg = SeqModelConfig("tagger", 3, 4, 3, cell=cell, bidirectional=bidirectional, batch_first=True,
                         layer_norm=layer_norm)
    model = SequenceTagger(cfg, dtype=np.float64, seed=seed)
    x = rng.normal(size=(2, 4, 3))
    lengths = np.array([4, 3])
    assert model(x, lengths).shape == (2, 4, 3)
    _check_model(model, {"input": x}, lambda: model(x, lengths), seed)


@pytest.mark.parametrize("cell,layer_norm", REGISTERED)
def test_generator_gradcheck_and_generate(cell, layer_norm):
    rng = np.random.default_rng(3)
    cfg = SeqModelConfig("generator", 2, 4, 3, cell=cell, num_layers=2, layer_norm=layer_norm)
    model = SequenceGenerator(cfg, dtype=np.float64, seed=3)
    v = rng.normal(size=(3, 2))
    targets = rng.normal(size=(5, 3, 3))
    inputs = SequenceGenerator.teacher_inputs(targets)
    assert np.all(inputs[0] == 0) and np.all(inputs[1:] == targets[:-1])
    _check_model(model, {"condition": v}, lambda: model(v, inputs))
    # generate() feeds back its own outputs: equal to forward() on those outputs as inputs
    gen = model.generate(v, 5)
    assert np.allclose(model(v, SequenceGenerator.teacher_inputs(gen)), gen)


def test_bad_configs_and_inputs():
    with pytest.raises(ConfigError, match="kind"):
        SeqModelConfig("translator", 1, 1, 1)
    with pytest.raises(ConfigError, match="bidirectional"):
        SeqModelConfig("generator", 1, 1, 1, bidirectional=True)
    with pytest.raises(ConfigError, match="hidden_size"):
        SeqModelConfig("classifier", 1, 0, 1)
    model = SequenceClassifier(SeqModelConfig("classifier", 7, 10, 3), seed=0)
    with pytest.raises(ShapeError, match=r"expected shape \(T, B, D\)"):
        model(np.zeros((13, 7)))
    with pytest.raises(ShapeError, match="weight"):
        model.load_state_dict({**model.state_dict(), "head.weight": np.zeros((2, 10))})


def test_state_dict_round_trip_keeps_arrays():
    a = SequenceClassifier(SeqModelConfig("classifier", 2, 3, 2, cell="gru"), seed=0)
    b = SequenceClassifier(SeqModelConfig("classifier", 2, 3, 2, cell="gru"), seed=1)
    live = b.params["rnn.weight_hh_l0"]
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).normal(size=(4, 3, 2))
    assert np.array_equal(a(x), b(x)) and b.params["rnn.weight_hh_l0"] is live


@pytest.mark.parametrize("cell,bidirectional", [("lstm", True), ("gru", False)])
def test_classifier_matches_torch_packed(torch, cell, bidirectional):
    """Same weights in torch.nn.LSTM/GRU + nn.Linear over a packed batch: logits and gradients ≤ 1e-9."""
    nn = torch.nn
    rng = np.random.default_rng(0)
    model = SequenceClassifier(SeqModelConfig("classifier", 3, 4, 2, cell=cell, bidirectional=bidirectional),
                               dtype=np.float64, seed=0)
    rnn_t = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](3, 4, bidirectional=bidirectional).double()
    head_t = nn.Linear(8 if bidirectional else 4, 2).double()
    with torch.no_grad():
        for k, v in model.rnn.params.items():
            getattr(rnn_t, k).copy_(torch.from_numpy(v))
        head_t.weight.copy_(torch.from_numpy(model.head.params["weight"]))
        head_t.bias.copy_(torch.from_numpy(model.head.params["bias"]))
    x = rng.normal(size=(5, 3, 3))
    lengths = np.array([5, 2, 4])
    targets = np.array([1, 0, 1])
    from rnnlab.functional import cross_entropy

    loss, d_logits = cross_entropy(model(x, lengths), targets)
    model.backward(d_logits)

    xt = torch.from_numpy(x).requires_grad_(True)
    packed = nn.utils.rnn.pack_padded_sequence(xt, torch.from_numpy(lengths), enforce_sorted=False)
    _, h_n = rnn_t(packed)
    h_n = h_n[0] if isinstance(h_n, tuple) else h_n
    feature = torch.cat([h_n[-2], h_n[-1]], dim=-1) if bidirectional else h_n[-1]
    loss_t = nn.functional.cross_entropy(head_t(feature), torch.from_numpy(targets))
    loss_t.backward()
    assert abs(loss - loss_t.item()) < 1e-12
    for k in model.rnn.params:
        assert np.max(np.abs(model.grads[f"rnn.{k}"] - getattr(rnn_t, k).grad.numpy())) < 1e-9, k
    assert np.max(np.abs(model.grads["head.weight"] - head_t.weight.grad.numpy())) < 1e-9


# --- models on the regularised core layers (tests/test_regularisers.py checks the layers) ----------


def test_models_with_regularised_layers():
    rng = np.random.default_rng(6)
    for cfg in (SeqModelConfig("classifier", 3, 4, 2, cell="lstm", layer_norm=True),
                SeqModelConfig("tagger", 3, 4, 2, cell="lstm", recurrent_dropout=0.25, num_layers=2),
                SeqModelConfig("generator", 2, 4, 3, cell="lstm", layer_norm=True, recurrent_dropout=0.25),
                SeqModelConfig("classifier", 3, 4, 2, cell="gru", recurrent_dropout=0.25, bidirectional=True),
                SeqModelConfig("regressor", 3, 4, 2, cell="lstm", layer_norm=True, bidirectional=True,
                               num_layers=2)):
        model = build_model(cfg, dtype=np.float64, seed=6)
        model.eval()
        if cfg.kind == "generator":
            v, inputs = rng.normal(size=(2, 2)), rng.normal(size=(4, 2, 3))
            _check_model(model, {"condition": v}, lambda: model(v, inputs))
        else:
            x = rng.normal(size=(4, 2, 3))
            _check_model(model, {"input": x}, lambda: model(x, np.array([4, 2])))


# --- one spelling of the layer-normalised LSTM; the old one still read ----------------------------


def test_layer_norm_is_an_option_of_the_lstm_config():
    cfg = SeqModelConfig("classifier", 3, 4, 2, cell="lstm", layer_norm=True)
    model = build_model(cfg, seed=0)
    assert model.rnn.layer_norm and model.rnn.mode == "lnlstm" and "rnn.ln_hh_gain_l0" in model.params
    assert cfg.to_json()["cell"] == "lstm" and cfg.to_json()["layer_norm"] is True
    assert "lnlstm" not in cells.names() and "lnlstm" in cells.names(variants=True)
    with pytest.raises(ConfigError, match="layer_norm: expected cell 'lstm' .* got cell 'gru'"):
        SeqModelConfig("classifier", 3, 4, 2, cell="gru", layer_norm=True)
    with pytest.raises(ConfigError, match="layer_norm: expected True or False, got 'yes'"):
        SeqModelConfig("classifier", 3, 4, 2, cell="lstm", layer_norm="yes")


def test_an_old_checkpoint_with_cell_lnlstm_is_read_as_lstm_with_layer_norm(tmp_path):
    """Runs saved before the one spelling say ``"cell": "lnlstm"`` and have no ``layer_norm`` key."""
    from rnnlab.checkpoint import save_checkpoint
    from rnnlab.commands._seqtasks import load_run

    old = {"kind": "regressor", "input_size": 2, "hidden_size": 3, "output_size": 1, "cell": "lnlstm",
           "num_layers": 1, "bidirectional": False, "dropout": 0.0, "recurrent_dropout": 0.0,
           "batch_first": False}
    cfg = SeqModelConfig(**old)
    assert (cfg.cell, cfg.layer_norm) == ("lstm", True)
    saved = build_model(cfg, seed=3)
    save_checkpoint(tmp_path, "model", saved.state_dict(), {"model": old})
    model, meta = load_run(tmp_path, "model")
    assert meta["model"]["cell"] == "lnlstm" and model.config == cfg and model.rnn.layer_norm
    x = np.random.default_rng(1).normal(size=(4, 2, 2)).astype(np.float32)
    np.testing.assert_array_equal(model(x), saved.eval()(x))
