"""The presets added for the Cours' recap and closing figure, each number checked against an
independent computation (plain Python recursions, central finite differences)."""

from __future__ import annotations

import math

import pytest

from rnnlab.trace.presets import build


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def _lstm_day_by_day(xs):
    """The Cours' unit, written out from its own numbers: STM h, LTM C, from 0."""
    h = C = 0.0
    out = []
    for x in xs:
        f = _sigmoid(2.70 * h + 1.63 * x + 1.62)
        i = _sigmoid(2.00 * h + 1.65 * x + 0.62)
        g = math.tanh(1.41 * h + 0.94 * x - 0.32)
        o = _sigmoid(4.38 * h - 0.19 * x + 0.59)
        C = f * C + i * g
        h = o * math.tanh(C)
        out.append((h, C))
    return out


def test_cours_days_predicts_about_0_and_0_97():
    doc = build("cours-days")
    for name, xs in (("A", [0.0, 0.5, 0.25, 1.0]), ("B", [1.0, 0.5, 0.25, 1.0])):
        expect = _lstm_day_by_day(xs)
        for t, (h, C) in enumerate(expect):
            assert doc.data["h"][name][t] == pytest.approx(h, abs=1e-12)
            assert doc.data["C"][name][t] == pytest.approx(C, abs=1e-12)
    assert abs(doc.data["prediction"]["A"]) < 0.01 and round(doc.data["prediction"]["B"], 2) == 0.97


def _recap_error(w, x=(1.0, 0.5), target=1.0):
    """E of the recap's network, neuron by neuron as the Cours writes them (w[1] is w1)."""
    x1, x2 = x
    h1 = _sigmoid(x1 * w[1] + x2 * w[4])
    h2 = _sigmoid(x1 * w[2] + x2 * w[5])
    h3 = _sigmoid(x1 * w[3] + x2 * w[6])
    h4 = _sigmoid(h1 * w[7] + h2 * w[10] + h3 * w[13])
    h5 = _sigmoid(h1 * w[8] + h2 * w[11] + h3 * w[14])
    h6 = _sigmoid(h1 * w[9] + h2 * w[12] + h3 * w[15])
    o = _sigmoid(h4 * w[16] + h5 * w[17] + h6 * w[18])
    return (o - target) ** 2


def test_cours_backprop_chains_against_finite_differences():
    from rnnlab.trace.presets.course001 import BACKPROP

    doc = build("cours-backprop")
    w = {k + 1: v for k, v in enumerate(BACKPROP["w"])}
    assert doc.data["E"] == pytest.approx(_recap_error(w), rel=1e-14)
    eps = 1e-6
    for k, key in ((16, "dE_dw16"), (7, "dE_dw7"), (1, "dE_dw1")):
        up, down = dict(w), dict(w)
        up[k] += eps
        down[k] -= eps
        numeric = (_recap_error(up) - _recap_error(down)) / (2 * eps)
        assert doc.data[key] == pytest.approx(numeric, rel=1e-6), key
    # the factors multiply to the gradients, and each σ' is at most 1/4
    n = doc.data
    assert n["dE_do"] * n["do_doin"] * n["h2"][0] == pytest.approx(n["dE_dw16"], rel=1e-14)
    assert n["dE_dh4"] * n["dh4_da4"] * n["h1"][0] == pytest.approx(n["dE_dw7"], rel=1e-14)
    assert max(n["do_doin"], n["dh4_da4"], n["dh1_da1"]) <= 0.25
    assert abs(n["dE_dw1"]) < abs(n["dE_dw7"]) < abs(n["dE_dw16"])


def test_notebook_steps_against_the_notebooks_own_code(capsys):
    import numpy as np

    from test_course_errata import NOTEBOOK_CODE

    nb = {}
    exec(NOTEBOOK_CODE, nb)
    capsys.readouterr()
    doc = build("notebook-steps")
    d = doc.data
    assert d["char_to_idx"] == nb["char_to_idx"]
    assert d["inputs"] == nb["inputs"] and d["targets"] == nb["targets"]
    from rnnlab.trace.presets.course003 import notebook_parameters

    p = notebook_parameters(nb["vocab_size"], np.random.default_rng(0))
    table = nb["one_hot_dict"](nb["vocab_size"], nb["chars"])
    outputs, _ = nb["forward_pass"](nb["inputs"][0], nb["hprev"], p["W_xh"], p["W_hh"], p["W_hy"], p["b_h"],
                                    p["b_y"], nb["vocab_size"], table)
    assert np.abs(outputs[-1][:, 0] - d["y"]).max() < 1e-15
    assert d["loss"] == pytest.approx(-np.log(outputs[-1][nb["char_to_idx"]["l"], 0]), rel=1e-14)
    assert d["loss"] == pytest.approx(np.log(17), abs=0.01)
    for k in p:  # the corrected Notebook's gradients are rnnlab's
        assert np.abs(d["grads"][k] - d["rnnlab"][k]).max() <= 1e-12 * max(1.0, np.abs(d["rnnlab"][k]).max())


def test_notebook_training_rates_and_generation():
    import numpy as np

    from rnnlab.cells import make_cell
    from rnnlab.sequence import unroll
    from rnnlab.trace.presets.course003 import SENTENCE, train

    d = build("notebook-training").data
    assert d["notebook_vs_rnnlab"] < 1e-10
    for lr, losses in d["sweep"].items():
        finite = bool(np.isfinite(losses).all())
        expect = ("diverges" if not finite or losses[-1] > losses[0] else
                  "converges" if losses[-1] < 0.05 * losses[0] else "slow")
        assert d["verdicts"][lr] == expect
    assert d["verdicts"][0.05] == "converges" and d["verdicts"][10.0] == "diverges"
    assert d["sliding"] == SENTENCE
    # the trained model's predictions, recomputed by rnnlab's core forward
    _, p = train(d["best"], len(d["sweep"][d["best"]]))
    chars = sorted(set(SENTENCE))
    ids = np.array([chars.index(c) for c in SENTENCE])
    X = np.eye(len(chars))[np.stack([ids[i:i + 5] for i in range(len(ids) - 5)])]  # (N, 5, V)
    h0 = np.zeros((len(X), 50))
    _, (h_T,), _ = unroll(make_cell("rnn"), X.transpose(1, 0, 2), (h0,), p["W_xh"], p["W_hh"], p["b_h"][:, 0],
                          np.zeros(50))
    predicted = np.argmax(h_T @ p["W_hy"].T + p["b_y"][:, 0], axis=1)
    assert int((predicted == ids[5:]).sum()) == d["right"]


def test_cours_architectures_each_model_has_its_shape():
    doc = build("cours-architectures")
    shapes = doc.data["shapes"]
    B, T, D, K, steps = 2, 6, 8, 5, 4
    assert shapes["tagger"] == ((T, B, D), (T, B, K))  # many-to-many: one output per step
    assert shapes["classifier"] == ((T, B, D), (B, K))  # many-to-one: one output per sequence
    assert shapes["generator"] == ((B, D), (steps, B, K))  # one-to-many: a sequence from one vector
    assert shapes["linear"] == ((B, D), (B, K))  # one-to-one
    rows = [b for b in doc.blocks if type(b).__name__ == "Table"][0].rows
    assert [r[0] for r in rows] == ["many-to-many", "many-to-one", "one-to-many", "one-to-one"]
    assert "Générer une légende pour une image" in rows[2][3] or "caption" in rows[2][3]
