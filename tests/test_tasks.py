"""The long-memory tasks (adding problem, copy task), the training loop, the sweep and its plot,
and the classification data."""

import numpy as np
import pytest

from rnnlab.data.tasks import (ADDING_BASELINE_MSE, adding_problem, adding_solved_threshold, copy_baseline_loss,
                               copy_recall_accuracy, copy_task)
from rnnlab.errors import ConfigError, DataError
from rnnlab.seqmodels import SeqModelConfig, build_model
from rnnlab.tasks import (TaskResult, TrainConfig, load_classification_csv, make_classification, plot_sweep,
                          run_adding, sweep, train_model)


def test_adding_problem_layout():
    x, y = adding_problem(200, 9, np.random.default_rng(0))
    assert x.shape == (9, 200, 2) and y.shape == (200, 1)
    values, marks = x[..., 0], x[..., 1]
    assert np.all((values >= 0) & (values <= 1))
    assert np.all(marks.sum(axis=0) == 2)
    assert np.all(marks[:4].sum(axis=0) == 1) and np.all(marks[4:].sum(axis=0) == 1)  # one per half
    assert np.allclose(y[:, 0], (values * marks).sum(axis=0))
    x2, y2 = adding_problem(200, 9, np.random.default_rng(0))
    assert np.array_equal(x, x2) and np.array_equal(y, y2)  # the rng alone decides


def test_adding_baseline_is_always_answering_one():
    _, y = adding_problem(20_000, 10, np.random.default_rng(1))
    assert np.mean((y - 1.0) ** 2) == pytest.approx(ADDING_BASELINE_MSE, rel=0.03)
    assert adding_solved_threshold() == pytest.approx(0.01 / 6)


def test_copy_task_layout():
    T, S, K = 4, 3, 5
    x, y = copy_task(7, T, np.random.default_rng(0), n_symbols=K, length=S)
    assert x.shape == (T + 2 * S, 7, K + 2) and y.shape == (T + 2 * S, 7)
    shown = np.argmax(x, axis=-1)
    assert np.all(x.sum(axis=-1) == 1)
    assert np.all((shown[:S] >= 1) & (shown[:S] <= K))
    assert np.all(shown[S:S + T - 1] == 0) and np.all(shown[S + T - 1] == K + 1) and np.all(shown[S + T:] == 0)
    assert np.all(y[:T + S] == 0) and np.array_equal(y[T + S:], shown[:S])
    assert copy_baseline_loss(T, K, S) == pytest.approx(S * np.log(K) / (T + 2 * S))
    perfect = np.eye(K + 2)[y]
    assert copy_recall_accuracy(perfect, y, S) == 1.0


def test_generators_reject_bad_arguments():
    with pytest.raises(ConfigError, match="T"):
        adding_problem(3, 1, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="rng"):
        adding_problem(3, 5, 0)
    with pytest.raises(ConfigError, match="length"):
        copy_task(3, 5, np.random.default_rng(0), length=0)


def test_lstm_solves_adding_where_the_rnn_does_not():
    """T = 30, 1500 Adam steps of 32 sequences (hidden 16): the LSTM's test MSE falls below
    0.01 × 0.167, the vanilla RNN's stays near the baseline (measured: LSTM ≈ 8e-4, RNN ≈ 0.15)."""
    train = TrainConfig(steps=1500, batch_size=32, lr=0.01, eval_every=1500, seed=0)
    lstm = run_adding("lstm", 30, train, hidden_size=16, test_size=300)
    rnn = run_adding("rnn", 30, train, hidden_size=16, test_size=300)
    assert lstm.solved and lstm.test_loss < adding_solved_threshold()
    assert not rnn.solved and rnn.test_loss > 0.1 * ADDING_BASELINE_MSE


def test_training_loop_learns_a_padded_classification():
    rng = np.random.default_rng(0)
    x, y, lengths = make_classification(300, rng)
    assert x.shape == (20, 300, 3) and lengths.min() >= 5 and np.all(x[lengths[0]:, 0] == 0)
    model = build_model(SeqModelConfig("classifier", 3, 12, 3, cell="gru"), seed=0)

    def draw(r, b):
        idx = r.integers(0, 240, size=b)
        return x[:, idx], y[idx], lengths[idx]

    def evaluate(m):
        return {"accuracy": float(np.mean(np.argmax(m(x[:, 240:], lengths[240:]), axis=1) == y[240:]))}

    calls = []
    history = train_model(model, draw, TrainConfig(steps=300, lr=0.02, eval_every=100), evaluate,
                          callback=lambda s, loss, sc: calls.append(s))
    assert calls == list(range(1, 301)) and history.eval_steps == [100, 200, 300]
    assert history.eval_scores[-1]["accuracy"] > 0.75  # chance: 0.36
    assert np.mean(history.train_loss[-20:]) < np.mean(history.train_loss[:20])


def test_sweep_and_its_plot(tmp_path):
    results = sweep("adding", ["rnn", "gru"], [4, 6], TrainConfig(steps=5, eval_every=5), hidden_size=4)
    assert [(r.cell, r.T) for r in results] == [("rnn", 4), ("gru", 4), ("rnn", 6), ("gru", 6)]
    assert all(isinstance(r, TaskResult) and r.steps == 5 and np.isfinite(r.test_loss) for r in results)
    copy = sweep("copy", ["lstm"], [3], TrainConfig(steps=3, eval_every=3), hidden_size=4)
    assert copy[0].accuracy is not None and copy[0].baseline == pytest.approx(copy_baseline_loss(3, recall_only=True))
    plot_sweep(results, tmp_path / "s.svg")
    assert (tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ConfigError, match="task"):
        sweep("parity", ["rnn"], [3], TrainConfig(steps=1))


def test_classification_csv(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("sequence,t,a,b,label\ns1,2,0.5,1,1\ns1,1,0.25,2,1\ns2,1,3,4,0\n", encoding="utf-8")
    x, y, lengths, names = load_classification_csv(path)
    assert names == ["a", "b"] and y.tolist() == [1, 0] and lengths.tolist() == [2, 1]
    assert x[:, 0].tolist() == [[0.25, 2.0], [0.5, 1.0]] and x[:, 1].tolist() == [[3.0, 4.0], [0.0, 0.0]]
    path.write_text("sequence,a,label\ns1,x,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"column 'a', row 2: expected a number, got 'x'"):
        load_classification_csv(path)
    path.write_text("sequence,a\ns1,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="no column 'label'"):
        load_classification_csv(path)
    path.write_text("sequence,a,label\ns1,1,0\ns1,2,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="changes label"):
        load_classification_csv(path)
