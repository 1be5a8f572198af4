"""The training loop: a tiny corpus is memorised, a resumed run equals an uninterrupted one step
for step, Ctrl-C saves, a non-finite loss stops and keeps the last good checkpoint, the
schedule and the evaluation compute what they say, the loss curve is written."""

import json
import math
import signal

import numpy as np
import pytest

from rnnlab.errors import ConfigError, ValueRangeError
from rnnlab.functional import cross_entropy
from rnnlab.models import CharLM
from rnnlab.train import (ADAMW_WEIGHT_DECAY, TIME_SCHEDULE_STEPS, VAL_STREAM_CHARS, VAL_STREAMS, TrainConfig, Trainer, evaluate,
                          load_model, time_schedule_step, validation_streams)

from helpers import quiet



def _config(corpus, **kw):
    base = dict(corpus=corpus, hidden_size=24, embedding_dim=8, seq_len=12, batch_size=4, steps=30, minutes=0.0,
                eval_every=10, sample_length=20, lr=0.01, warmup_steps=3)
    return TrainConfig(**{**base, **kw})


def test_tiny_corpus_is_memorised(corpus, tmp_path):
    """45 distinct characters repeated: after 150 steps the model predicts the text almost surely."""
    trainer = Trainer(_config(corpus, steps=150, eval_every=50, hidden_size=48, lr=0.02), tmp_path / "run",
                      **quiet())
    result = trainer.run()
    first = np.mean([r["train_loss"] for r in result.history[:5]])
    last = np.mean([r["train_loss"] for r in result.history[-10:]])
    assert first > 2.5 and last < 0.25, (first, last)
    assert result.val_loss < 0.25
    assert result.stopped == "budget" and result.step == 150


@pytest.mark.parametrize("cell,dropout", [("lstm", 0.2), ("gru", 0.0)])
def test_resume_equals_uninterrupted_run(corpus, tmp_path, cell, dropout):
    """Interrupt with a real SIGINT at step 13, resume, finish: identical losses at every step
    and identical final weights. 30 steps over 2 epochs (14 batches each) so the carried state,
    the epoch wrap, dropout masks, Adam's moments and the samples' generator all matter."""
    cfg = _config(corpus, cell=cell, dropout=dropout, num_layers=2)
    whole = Trainer(cfg, tmp_path / "whole", **quiet()).run()
    assert whole.history[-1]["epoch"] > 1.0  # the run crosses an epoch boundary

    def interrupt_at_13(trainer):
        if trainer.step == 13:
            signal.raise_signal(signal.SIGINT)

    part = Trainer(cfg, tmp_path / "split", **quiet(), on_step=interrupt_at_13).run()
    assert part.stopped == "interrupted" and part.step == 13
    assert json.loads((tmp_path / "split" / "last.json").read_text())["meta"]["step"] == 13
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    resumed = Trainer.resume(tmp_path / "split", **quiet())
    assert resumed.step == 13
    rest = resumed.run()
    assert [r["train_loss"] for r in rest.history] == [r["train_loss"] for r in whole.history]
    assert [r["lr"] for r in rest.history] == [r["lr"] for r in whole.history]
    assert rest.val_loss == whole.val_loss and rest.sample == whole.sample
    m1, _, _ = load_model(tmp_path / "whole", "last")
    m2, _, _ = load_model(tmp_path / "split", "last")
    for k in m1.params:
        np.testing.assert_array_equal(m1.params[k], m2.params[k], err_msg=k)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(corpus, tmp_path):
    def poison_at_12(trainer):
        if trainer.step == 12:
            trainer.model.params["head.weight"][0, 0] = np.nan

    trainer = Trainer(_config(corpus), tmp_path / "run", **quiet(), on_step=poison_at_12)
    with pytest.raises(ValueRangeError, match=r"step 13.*last good checkpoint is kept.*--lr"):
        trainer.run()
    saved = json.loads((tmp_path / "run" / "last.json").read_text())
    assert saved["meta"]["step"] == 10  # the evaluation at step 10, not the poisoned state
    model, _, _ = load_model(tmp_path / "run", "last")
    assert all(np.isfinite(p).all() for p in model.params.values())
    assert (tmp_path / "run" / "loss.csv").read_text().count("\n") == 1 + 12


def test_loss_csv_and_png(corpus, tmp_path):
    result = Trainer(_config(corpus), tmp_path / "run", **quiet()).run()
    lines = (tmp_path / "run" / "loss.csv").read_text().splitlines()
    assert lines[0].split(",") == ["step", "epoch", "chars", "seconds", "lr", "train_loss", "val_loss", "val_bpc"]
    assert len(lines) == 31
    rows = [line.split(",") for line in lines[1:]]
    with_val = [int(r[0]) for r in rows if r[6]]
    assert with_val == [10, 20, 30]
    assert float(rows[-1][6]) == result.val_loss
    assert math.isclose(float(rows[-1][7]), result.val_loss / math.log(2))
    png = (tmp_path / "run" / "loss.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert (tmp_path / "run" / "samples.txt").read_text().count("--- step") == 3


def test_schedule_warmup_then_cosine_by_steps_and_by_time(corpus, tmp_path):
    t = Trainer(_config(corpus, steps=103, warmup_steps=3, min_lr_ratio=0.1, lr=0.01), tmp_path / "a",
                **quiet())
    lrs = []
    for s in range(104):
        t.step = s
        lrs.append(t.learning_rate())
    assert lrs[:3] == pytest.approx([0.01 / 3, 0.02 / 3, 0.01])
    assert lrs[53] == pytest.approx(0.0055)  # half-way down the cosine: (η₀ + η_min) / 2
    assert lrs[103] == pytest.approx(0.001) and all(a >= b - 1e-15 for a, b in zip(lrs[2:], lrs[3:]))
    t = Trainer(_config(corpus, steps=0, minutes=2.0, warmup_steps=3, min_lr_ratio=0.1, lr=0.01), tmp_path / "b",
                **quiet())
    t.step = 50
    got = []
    for elapsed in (0.0, 60.0, 120.0):
        t.elapsed = elapsed
        got.append(t.learning_rate())
    assert got == pytest.approx([0.01, 0.0055, 0.001], rel=1e-4)
    # the cosine starts where the warm-up ended on the clock: after 3 steps of 12 s each, the time
    # budget's schedule at τ is the step budget's at s = τ / 12 s (120 s = 10 steps of 12 s)
    t = Trainer(_config(corpus, steps=0, minutes=2.0, warmup_steps=3, min_lr_ratio=0.1, lr=0.01),
                tmp_path / "c", **quiet())
    t.engine.history.rows.extend({"step": s, "seconds": 12.0 * s} for s in (1, 2, 3))
    by_steps = Trainer(_config(corpus, steps=10, warmup_steps=3, min_lr_ratio=0.1, lr=0.01), tmp_path / "d",
                       **quiet())
    for s in range(3, 11):
        t.step = by_steps.step = s
        t.elapsed = 12.0 * s
        assert t.learning_rate() == pytest.approx(by_steps.learning_rate(), rel=1e-5), s
    assert time_schedule_step(36.0, 36.0, 120.0, 3) == 3
    assert time_schedule_step(78.0, 36.0, 120.0, 3) == 3 + (TIME_SCHEDULE_STEPS - 3) // 2
    assert time_schedule_step(500.0, 36.0, 120.0, 3) == TIME_SCHEDULE_STEPS


def test_validation_streams_do_not_depend_on_the_training_batch(corpus, tmp_path):
    """The validation text is read as validation_streams(n) streams whatever the batch: the same
    weights get the same score, evaluate()'s with that many streams (not the training batch's)."""
    assert validation_streams(111_539) == VAL_STREAMS == 64  # Tiny Shakespeare's validation split
    assert validation_streams(10 * VAL_STREAM_CHARS + 5) == 10 and validation_streams(3) == 1
    a = Trainer(_config(corpus, batch_size=4), tmp_path / "a", **quiet())
    b = Trainer(_config(corpus, batch_size=16), tmp_path / "b", **quiet())
    b.model.load_state_dict(a.model.state_dict())
    streams = validation_streams(len(a.val_ids) - 1)
    want = evaluate(a.model, a.val_ids, batch_size=streams, seq_len=128)
    assert a.validate() == b.validate() == want
    assert want != evaluate(a.model, a.val_ids, batch_size=4 if streams != 4 else 16, seq_len=128)


def test_evaluate_is_the_mean_cross_entropy():
    rng = np.random.default_rng(0)
    model = CharLM(6, cell="gru", hidden_size=8, dtype=np.float64, seed=1)
    ids = rng.integers(0, 6, 201)
    # 4 streams of 50 characters read 7 at a time with the state carried = one pass over each
    got = evaluate(model, ids, batch_size=4, seq_len=7)
    inputs, targets = ids[:200].reshape(4, 50).T, ids[1:201].reshape(4, 50).T
    logits, _ = model(inputs)
    want, _ = cross_entropy(logits.reshape(-1, 6), targets.reshape(-1))
    assert got == pytest.approx(want, abs=1e-12)


def test_config_errors(corpus):
    with pytest.raises(ConfigError, match="hidden_size"):
        TrainConfig(hidden_size=0)
    with pytest.raises(ConfigError, match="lr"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ConfigError, match="budget"):
        TrainConfig(steps=0, minutes=0.0)
    with pytest.raises(ConfigError, match="cell"):
        TrainConfig(cell="tcn")
    with pytest.raises(ConfigError, match="dropout"):
        TrainConfig(dropout=1.0)
    for bad in (-0.1, float("nan"), True):
        with pytest.raises(ConfigError, match="weight_decay"):
            TrainConfig(weight_decay=bad)


@pytest.mark.parametrize("optimizer, weight_decay, want", [
    ("adamw", None, ADAMW_WEIGHT_DECAY), ("adamw", 0.01, 0.01), ("adam", None, 0.0), ("adam", 0.001, 0.001),
    ("sgd", 0.5, 0.5)])
def test_weight_decay_reaches_the_optimiser(corpus, tmp_path, optimizer, weight_decay, want):
    """``weight_decay=None`` is the training's λ for AdamW (the sweep's 0.1), 0 for the others; a
    number replaces it; the config records it, and the run's checkpoint resumes with it."""
    cfg = _config(corpus, steps=2, eval_every=2, optimizer=optimizer, weight_decay=weight_decay)
    assert cfg.weight_decay == want
    trainer = Trainer(cfg, tmp_path / "run", **quiet())
    assert trainer.optimizer.weight_decay == want
    trainer.run()
    assert Trainer.resume(tmp_path / "run", **quiet()).optimizer.weight_decay == want


def test_a_config_saved_before_weight_decay_keeps_its_optimisers_own():
    """A checkpoint written before the option has no ``weight_decay``: AdamW's was then 0.01."""
    saved = {f: v for f, v in vars(TrainConfig(optimizer="adamw")).items() if f != "weight_decay"}
    assert TrainConfig.from_dict(saved).weight_decay == 0.01
    assert TrainConfig.from_dict({**saved, "optimizer": "adam"}).weight_decay == 0.0
    assert TrainConfig().optimizer == "adamw" and TrainConfig().weight_decay == ADAMW_WEIGHT_DECAY


def test_decoupled_weight_decay_shrinks_the_weights(corpus, tmp_path):
    """The same run with AdamW's λ = 0.5 instead of 0: the weights end smaller (θ ← θ(1 − ηλ))."""
    norms = []
    for weight_decay in (0.0, 0.5):
        trainer = Trainer(_config(corpus, steps=20, optimizer="adamw", weight_decay=weight_decay),
                          tmp_path / f"wd{weight_decay}", **quiet())
        trainer.run()
        norms.append(np.linalg.norm(trainer.model.params["rnn.weight_hh_l0"]))
    assert norms[1] < 0.97 * norms[0], norms


def test_time_budget_stops_and_evaluates(corpus, tmp_path):
    """A budget of 0.6 s: the run stops by itself, evaluates and saves (no claim on the speed)."""
    cfg = _config(corpus, steps=0, minutes=0.01, eval_every=0, eval_seconds=0.2)
    result = Trainer(cfg, tmp_path / "run", **quiet()).run()
    assert result.stopped == "budget" and result.step >= 1 and result.val_loss is not None
    assert json.loads((tmp_path / "run" / "last.json").read_text())["meta"]["step"] == result.step
