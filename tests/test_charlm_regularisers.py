"""Recurrent dropout and the layer-normalised LSTM in the character language model:
``CharLM(..., recurrent_dropout=p, layer_norm=True)``, ``TrainConfig``, ``rnnlab train
--recurrent-dropout P --layer-norm``, checkpoints (old ones without these keys still load),
exact resume, and the torch side (interop warns or refuses, the torch backend refuses).

Proof of the gradients: float64 central differences in training mode with the masks held fixed
(the model's generator replayed), and the same network written step by step in torch."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.errors import CheckpointError, ConfigError
from rnnlab.gradcheck import check_gradients
from rnnlab.models import CharLM
from rnnlab.train import TrainConfig, Trainer, load_model

from helpers import quiet

SMALL = ["--hidden", "16", "--embedding", "8", "--batch", "4", "--seq-len", "12", "--no-progress"]


def _config(corpus, **kw):
    base = dict(corpus=corpus, hidden_size=16, embedding_dim=8, seq_len=12, batch_size=4, steps=30, minutes=0.0,
                eval_every=10, sample_length=20, lr=0.01, warmup_steps=3, num_layers=2, recurrent_dropout=0.3,
                layer_norm=True)
    return TrainConfig(**{**base, **kw})


def _model(rng, cell="lstm", **kw):
    """A float64 CharLM whose LN gains and shifts are moved off 1 / 0 (every term exercised)."""
    model = CharLM(5, cell=cell, hidden_size=4, num_layers=2, embedding_dim=3, dtype=np.float64, seed=1, **kw)
    for name, v in model.params.items():
        if ".ln_" in name:
            v += rng.normal(scale=0.3, size=v.shape)
    return model


def _carried_state(model, B, rng):
    state = model.initial_state(B)
    return tuple(s + 0.3 * rng.standard_normal(s.shape) for s in state) if isinstance(state, tuple) \
        else state + 0.3 * rng.standard_normal(state.shape)


# --- the model ------------------------------------------------------------------------------------


def test_options_build_the_core_layer_and_are_in_the_config():
    model = CharLM(7, hidden_size=5, num_layers=2, embedding_dim=3, recurrent_dropout=0.25, layer_norm=True, seed=0)
    assert model.rnn.mode == "lnlstm" and model.rnn.recurrent_dropout == 0.25 and model.layer_norm
    assert {"rnn.ln_ih_gain_l0", "rnn.ln_hh_gain_l1", "rnn.ln_c_gain_l0", "rnn.ln_c_bias_l1"} <= set(model.params)
    assert model.params["rnn.ln_c_gain_l1"] is model.rnn.params["ln_c_gain_l1"]  # live arrays
    cfg = model.config()
    assert cfg["recurrent_dropout"] == 0.25 and cfg["layer_norm"] is True
    again = CharLM(**cfg, seed=1)
    assert {k: v.shape for k, v in again.params.items()} == {k: v.shape for k, v in model.params.items()}
    assert "recurrent_dropout=0.25, layer_norm=True" in repr(model)
    plain = CharLM(7, cell="gru", hidden_size=5, seed=0)
    assert plain.config()["recurrent_dropout"] == 0.0 and plain.config()["layer_norm"] is False
    assert not any(".ln_" in k for k in plain.params)


@pytest.mark.parametrize("kw, fragment", [
    ({"cell": "gru", "layer_norm": True}, r"layer_norm: expected cell 'lstm' .* got cell 'gru'"),
    ({"cell": "rnn", "layer_norm": True}, r"layer_norm: expected cell 'lstm' .* got cell 'rnn'"),
    ({"layer_norm": "yes"}, r"layer_norm: expected True or False, got 'yes'"),
    ({"recurrent_dropout": 1.0}, r"recurrent_dropout: expected a probability in \[0, 1\), got 1.0"),
])
def test_bad_options(kw, fragment):
    with pytest.raises(ConfigError, match=fragment):
        CharLM(5, **kw)


def test_masks_come_from_the_model_rng_and_only_in_training():
    """One mask (B, H) per layer and forward, drawn from the model's generator (the one the
    trainer saves); replaying its state replays the masks; none in eval mode."""
    model = CharLM(5, hidden_size=6, num_layers=2, embedding_dim=3, recurrent_dropout=0.5, seed=3)
    assert model.rnn.rng is model.rng
    ids = np.random.default_rng(0).integers(0, 5, (4, 3))
    saved = model.rng.bit_generator.state
    first, _ = model(ids)
    masks = model.rnn.recurrent_masks
    assert len(masks) == 2 and all(m.shape == (3, 6) and (m == 0).any() for m in masks)
    second, _ = model(ids)
    assert not np.allclose(first, second)  # a new window, new masks
    model.rng.bit_generator.state = saved
    again, _ = model(ids)
    np.testing.assert_array_equal(again, first)
    model.eval()
    a, _ = model(ids)
    assert model.rnn.recurrent_masks == [None, None]
    np.testing.assert_array_equal(a, model(ids)[0])


@pytest.mark.parametrize("cell, kw", [("lstm", {"layer_norm": True}), ("lstm", {}), ("gru", {})])
def test_gradcheck_in_training_mode_with_fixed_masks(cell, kw):
    """Two layers, dropout between them and before the head, recurrent dropout, a carried state:
    every forward starts from the same state of the model's generator, so the masks are fixed."""
    rng = np.random.default_rng(11)
    model = _model(rng, cell, dropout=0.3, recurrent_dropout=0.4, **kw)
    T, B = 4, 3
    ids, targets = rng.integers(0, 5, (T, B)), rng.integers(0, 5, (T, B))
    state = _carried_state(model, B, rng)
    saved = model.rng.bit_generator.state

    def loss():
        model.rng.bit_generator.state = saved  # the same masks every time
        return model.loss(ids, targets, state)[0]

    loss()
    assert all(m is not None and (m == 0).any() for m in model.rnn.recurrent_masks)
    grads = {k: g.copy() for k, g in model.backward().items()}
    assert set(grads) == set(model.params)
    report = check_gradients(loss, model.params, grads)
    assert report.passed, str(report)
    if kw:
        assert {"rnn.ln_ih_gain_l1", "rnn.ln_hh_gain_l0", "rnn.ln_c_gain_l1", "rnn.ln_c_bias_l0"} <= set(report.errors)


def test_loss_and_gradients_match_torch(torch):
    """The LN-LSTM language model with recurrent dropout, written step by step in torch with the
    masks the model drew: loss ≤ 1e-12, every gradient ≤ 1e-9 (float64)."""
    F = torch.nn.functional
    rng = np.random.default_rng(12)
    model = _model(rng, recurrent_dropout=0.4, layer_norm=True)
    T, B, H = 5, 3, 4
    ids, targets = rng.integers(0, 5, (T, B)), rng.integers(0, 5, (T, B))
    h0, c0 = _carried_state(model, B, rng)
    loss, _ = model.loss(ids, targets, (h0, c0))
    model.backward()

    P = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    x = P["embedding.weight"][torch.tensor(ids)]  # (T, B, E)
    for layer in range(2):
        s = f"_l{layer}"
        m = torch.tensor(model.rnn.recurrent_masks[layer])
        h, c, ys = torch.tensor(h0[layer]), torch.tensor(c0[layer]), []
        for t in range(T):
            a = (F.layer_norm(x[t] @ P[f"rnn.weight_ih{s}"].T, (4 * H,), P[f"rnn.ln_ih_gain{s}"], P[f"rnn.bias_ih{s}"], 1e-5)
                 + F.layer_norm((h * m) @ P[f"rnn.weight_hh{s}"].T, (4 * H,), P[f"rnn.ln_hh_gain{s}"],
                                P[f"rnn.bias_hh{s}"], 1e-5))
            i, f, g, o = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H]), torch.tanh(a[:, 2 * H:3 * H]), \
                torch.sigmoid(a[:, 3 * H:])
            c = f * c + i * g
            h = o * torch.tanh(F.layer_norm(c, (H,), P[f"rnn.ln_c_gain{s}"], P[f"rnn.ln_c_bias{s}"], 1e-5))
            ys.append(h)
        x = torch.stack(ys)
    logits = x @ P["head.weight"].T + P["head.bias"]
    ref = F.cross_entropy(logits.reshape(T * B, -1), torch.tensor(targets).reshape(-1))
    ref.backward()
    assert abs(ref.item() - loss) < 1e-12
    for k, v in P.items():
        assert np.max(np.abs(v.grad.numpy() - model.grads[k])) < 1e-9, k


# --- training: config, checkpoints, exact resume ------------------------------------------------------


def test_train_config_validates_the_options(corpus):
    with pytest.raises(ConfigError, match=r"recurrent_dropout: expected a probability in \[0, 1\), got 1.0"):
        _config(corpus, recurrent_dropout=1.0)
    with pytest.raises(ConfigError, match=r"recurrent_dropout: expected .* got True"):
        _config(corpus, recurrent_dropout=True)
    with pytest.raises(ConfigError, match=r"layer_norm: expected true or false, got 1"):
        _config(corpus, layer_norm=1)
    with pytest.raises(ConfigError, match=r"layer_norm: expected cell 'lstm' .* got cell 'gru'"):
        _config(corpus, cell="gru")
    assert TrainConfig().recurrent_dropout == 0.0 and TrainConfig().layer_norm is False


def test_resume_equals_uninterrupted_run(corpus, tmp_path):
    """LN-LSTM, two layers, dropout and recurrent dropout: interrupted by a real SIGINT at step 13
    and resumed, the run repeats the uninterrupted one exactly (the masks come from the model's
    generator, whose state the checkpoint holds); the masks do act (another seed's run differs)."""
    cfg = _config(corpus, dropout=0.1)
    drawn = []  # after each training step: did the last forward draw recurrent masks?
    whole = Trainer(cfg, tmp_path / "whole", on_step=lambda t: drawn.append(t.model.rnn.recurrent_masks[1] is not None),
                    **quiet())
    result = whole.run()
    assert whole.model.layer_norm and len(drawn) == 30 and all(drawn)
    assert result.history[-1]["epoch"] > 1.0

    def interrupt_at_13(trainer):
        if trainer.step == 13:
            signal.raise_signal(signal.SIGINT)

    part = Trainer(cfg, tmp_path / "split", on_step=interrupt_at_13, **quiet()).run()
    assert part.stopped == "interrupted" and part.step == 13
    meta = json.loads((tmp_path / "split" / "last.json").read_text())["meta"]
    assert meta["config"]["recurrent_dropout"] == 0.3 and meta["config"]["layer_norm"] is True
    assert meta["model"]["recurrent_dropout"] == 0.3 and meta["model"]["layer_norm"] is True
    rest = Trainer.resume(tmp_path / "split", **quiet()).run()
    assert [r["train_loss"] for r in rest.history] == [r["train_loss"] for r in result.history]
    assert rest.val_loss == result.val_loss and rest.sample == result.sample
    m1, _, _ = load_model(tmp_path / "whole", "last")
    m2, _, _ = load_model(tmp_path / "split", "last")
    assert m1.layer_norm and m1.config() == m2.config()
    for k in m1.params:
        np.testing.assert_array_equal(m1.params[k], m2.params[k], err_msg=k)
    # same weights at step 0 (same seed), no recurrent dropout: the losses part after the first step
    plain = Trainer(_config(corpus, dropout=0.1, recurrent_dropout=0.0, steps=3), tmp_path / "plain", **quiet())
    plain.run()
    assert plain.history[1]["train_loss"] != result.history[1]["train_loss"]


def test_checkpoints_written_before_these_options_still_load(corpus, tmp_path):
    """A run folder whose JSON has no ``recurrent_dropout``/``layer_norm`` keys (written before
    they existed) loads as the plain model and resumes."""
    Trainer(_config(corpus, steps=4, eval_every=2, num_layers=1, recurrent_dropout=0.0, layer_norm=False),
            tmp_path / "old", **quiet()).run()
    for name in ("last", "best"):
        path = tmp_path / "old" / f"{name}.json"
        doc = json.loads(path.read_text())
        for part in ("config", "model"):
            del doc["meta"][part]["recurrent_dropout"], doc["meta"][part]["layer_norm"]
        path.write_text(json.dumps(doc))
    model, _, _ = load_model(tmp_path / "old")
    assert model.config()["recurrent_dropout"] == 0.0 and not model.layer_norm
    resumed = Trainer.resume(tmp_path / "old", steps=6, **quiet())
    assert resumed.step == 4 and resumed.config.layer_norm is False
    assert resumed.run().step == 6


def test_a_checkpoint_asking_for_an_impossible_model_is_a_checkpoint_error(corpus, tmp_path):
    Trainer(_config(corpus, steps=2, eval_every=1), tmp_path / "r", **quiet()).run()
    path = tmp_path / "r" / "last.json"
    doc = json.loads(path.read_text())
    doc["meta"]["model"]["cell"] = "gru"
    path.write_text(json.dumps(doc))
    with pytest.raises(CheckpointError, match=r"last.json: cannot rebuild the model .*layer_norm"):
        load_model(tmp_path / "r", "last")


# --- the command line ---------------------------------------------------------------------------------


def test_cli_trains_samples_and_evaluates_the_regularised_model(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--corpus", corpus, "--steps", "4", "--eval-every", "2", "--layers", "2",
                 "--recurrent-dropout", "0.25", "--layer-norm", "--out", str(out), *SMALL]) == 0
    printed = capsys.readouterr().out
    assert "Training LN-LSTM 2×16" in printed
    meta = json.loads((out / "last.json").read_text())["meta"]
    assert meta["config"]["recurrent_dropout"] == 0.25 and meta["config"]["layer_norm"] is True
    model, _, _ = load_model(out)
    assert model.layer_norm and model.rnn.recurrent_dropout == 0.25
    assert main(["sample", str(out), "--length", "20", "--seed", "0"]) == 0
    assert main(["evaluate", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--layer-norm", "--recurrent-dropout", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "--recurrent-dropout" in err and "--layer-norm" in err and "Traceback" not in err


def test_cli_errors_and_french_help(corpus, tmp_path, capsys):
    assert main(["train", "--corpus", corpus, "--cell", "gru", "--layer-norm", "--steps", "2",
                 "--out", str(tmp_path / "r"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "layer_norm: expected cell 'lstm'" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as e:
        main(["train", "--recurrent-dropout", "1"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--recurrent-dropout" in err and "< 1" in err
    with pytest.raises(SystemExit) as e:
        main(["--lang", "fr", "train", "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "« dropout » variationnel" in text and "LSTM à normalisation de couche" in text


# --- the torch side -----------------------------------------------------------------------------------


def test_to_torch_warns_for_recurrent_dropout_and_refuses_layer_norm(torch):
    from rnnlab.interop import to_torch

    model = CharLM(6, hidden_size=5, num_layers=2, embedding_dim=3, recurrent_dropout=0.3, dtype=np.float64,
                   seed=0).eval()
    with pytest.warns(UserWarning, match="recurrent_dropout=0.3 has no PyTorch counterpart"):
        module = to_torch(model)
    ids = np.random.default_rng(0).integers(0, 6, (4, 2))
    np.testing.assert_allclose(module(torch.tensor(ids))[0].detach().numpy(), model(ids)[0], atol=1e-12)
    with pytest.raises(ConfigError, match=r"layer-normalised LSTM \(layer_norm=True\) has no PyTorch counterpart"):
        to_torch(CharLM(6, hidden_size=5, layer_norm=True, seed=0))


def test_torch_backend_refuses_the_options(torch, corpus, tmp_path, capsys):
    from rnnlab.backends.torch_train import TorchTrainer

    for kw, needle in (({"recurrent_dropout": 0.2, "layer_norm": False}, "--recurrent-dropout"),
                       ({"recurrent_dropout": 0.0, "layer_norm": True}, "--layer-norm")):
        with pytest.raises(ConfigError, match=f"--backend torch: no PyTorch counterpart for {needle}"):
            TorchTrainer(_config(corpus, **kw), tmp_path / "t", **quiet())
    assert main(["train", "--backend", "torch", "--corpus", corpus, "--steps", "2", "--recurrent-dropout", "0.2",
                 "--out", str(tmp_path / "r"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no PyTorch counterpart for --recurrent-dropout" in err
    assert not (tmp_path / "r").exists()  # nothing trained, nothing written
