"""Every preset's numbers against plain formulas written here (not the library's), to 1e-12,
and against the seed's printed numbers at the seed's precision (or its erratum)."""

import math

import numpy as np
import pytest

from rnnlab.i18n import set_language
from rnnlab.trace.presets import PRESETS, build


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language(None)


def lstm_by_hand(x, h, c, W, b):
    """The course's equations with plain Python lists: W[g][j] over [h, x]; returns the steps."""
    H = len(h)
    steps = []
    for xt in x:
        hx = list(h) + list(xt)
        z = {g: [sum(w * v for w, v in zip(W[g][j], hx)) + b[g][j] for j in range(H)] for g in "fiCo"}
        f = [sig(v) for v in z["f"]]
        i = [sig(v) for v in z["i"]]
        ct = [math.tanh(v) for v in z["C"]]
        o = [sig(v) for v in z["o"]]
        c = [f[j] * c[j] + i[j] * ct[j] for j in range(H)]
        h = [o[j] * math.tanh(c[j]) for j in range(H)]
        steps.append({"z_f": z["f"], "f": f, "z_i": z["i"], "i": i, "z_C": z["C"], "C_tilde": ct, "C": c, "z_o": z["o"],
                      "o": o, "h": h})
    return steps


def test_000_ex11_rnn():
    doc = build("000-1.1")
    W_xh, W_hh, b_h, W_hy, b_y = [0.3, 0.4], [[0.2, 0.1], [-0.1, 0.3]], [0.1, 0.0], [0.5, -0.2], 0.1
    h = [0.0, 0.0]
    for t, x in enumerate([0.5, 0.8, 0.2]):
        h = [math.tanh(W_hh[j][0] * h[0] + W_hh[j][1] * h[1] + W_xh[j] * x + b_h[j]) for j in range(2)]
        y = W_hy[0] * h[0] + W_hy[1] * h[1] + b_y
        np.testing.assert_allclose(doc.data["h"][t], h, rtol=0, atol=1e-12)
        assert doc.data["y"][t] == pytest.approx(y, abs=1e-12)
    assert any(b.__class__.__name__ == "Figure" for b in doc.blocks)


def test_000_ex12_vanishing_gradient():
    doc = build("000-1.2")
    W = np.array([[0.8, 0.1], [-0.1, 0.8]])
    for r in doc.data["rows"][:12]:
        P = np.linalg.matrix_power(0.9 * W, r["k"])
        assert r["spectral"] == pytest.approx(math.sqrt(0.65 * 0.81) ** r["k"], abs=1e-12)
        assert r["frobenius"] == pytest.approx(math.sqrt((P ** 2).sum()), abs=1e-12)
        assert r["max_entry"] == pytest.approx(np.abs(P).max(), abs=1e-12)
        assert r["diagonal"] == pytest.approx(0.72 ** r["k"], abs=1e-12)
    by_k = {r["k"]: r for r in doc.data["rows"]}
    assert round(by_k[3]["spectral"], 4) == 0.3820 and round(by_k[10]["spectral"], 4) == 0.0405
    # smallest k with 0.7256^k < 0.01: ln 0.01 / ln 0.7256 = 14.35
    assert doc.data["below"]["spectral"] == math.ceil(math.log(0.01) / math.log(math.sqrt(0.65) * 0.9)) == 15
    assert doc.data["below"]["diagonal"] == 15  # 0.72^14 = 0.0101, 0.72^15 = 0.0073
    assert doc.data["rho"] == pytest.approx(math.sqrt(0.65), abs=1e-15)
    assert doc.data["rows_exploding"][9]["spectral"] == pytest.approx(1.08 ** 10, abs=1e-12)
    assert doc.data["rows_between"][9]["spectral"] == pytest.approx(0.945 ** 10, abs=1e-12)
    assert doc.errata  # the order of diag and W_hh


def test_000_ex21_lstm_three_steps():
    doc = build("000-2.1")
    W = {"f": [[0.1, 0.2]], "i": [[0.3, -0.1]], "C": [[0.2, 0.4]], "o": [[0.1, 0.3]]}
    b = {"f": [0.0], "i": [0.1], "C": [0.0], "o": [0.0]}
    steps = lstm_by_hand([[1.0], [0.5], [-0.3]], [0.0], [0.0], W, b)
    for key in ("z_f", "f", "z_i", "i", "z_C", "C_tilde", "C", "z_o", "o", "h"):
        np.testing.assert_allclose(doc.data[key], [s[key][0] for s in steps], rtol=0, atol=1e-12, err_msg=key)
    assert f"{doc.data['f'][0]:.4f}" == "0.5498"  # the example line


def test_000_ex22_two_neurons():
    doc = build("000-2.2")
    W = {"f": [[0.1, 0.2, 0.3], [0.0, 0.1, -0.2]], "i": [[0.2, -0.1, 0.4], [0.1, 0.3, 0.1]],
         "C": [[0.3, 0.1, -0.1], [-0.1, 0.2, 0.3]], "o": [[0.1, 0.4, 0.2], [0.2, 0.0, 0.3]]}
    b = {"f": [0.1, 0.0], "i": [0.0, 0.1], "C": [0.05, 0.0], "o": [0.1, 0.0]}
    steps = lstm_by_hand([[0.8], [-0.2]], [0.1, -0.1], [0.2, 0.0], W, b)
    for key in ("z_f", "f", "i", "C_tilde", "C", "o", "h"):
        np.testing.assert_allclose(doc.data[key], [s[key] for s in steps], rtol=0, atol=1e-12, err_msg=key)


def test_000_ex23_gradient_flow():
    doc = build("000-2.3")
    assert doc.data["f_power"] == pytest.approx(0.3486784401, abs=1e-12)
    # by hand, t = 1 of ex. 2.1: h_0 = C_0 = 0, x_1 = 1
    i1, ct1, o1 = 0.5, math.tanh(0.4), sig(0.3)
    c1 = i1 * ct1
    d_c1 = 0.1 * o1 * (1 - math.tanh(c1) ** 2)
    assert doc.data["d_C1"] == pytest.approx(d_c1, abs=1e-12)
    grads = doc.data["grads"]
    assert np.all(grads["W_f"] == 0.0) and np.all(grads["b_f"] == 0.0)  # ∂L/∂f_1 = ∂L/∂C_1 × C_0 = 0
    np.testing.assert_allclose(grads["W_i"], [[0.0, d_c1 * ct1 * i1 * (1 - i1)]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads["W_C"], [[0.0, d_c1 * i1 * (1 - ct1 ** 2)]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(grads["W_o"], [[0.0, 0.1 * math.tanh(c1) * o1 * (1 - o1)]], rtol=0, atol=1e-12)
    assert np.abs(doc.data["grads_t2"]["W_f"]).max() > 1e-4  # a loss at t = 2 does reach W_f
    # the state Jacobian at t = 1: ∂C_1/∂C_0 = f_1 (h_0 held fixed)
    assert doc.data["jacobians"][0][1, 1] == pytest.approx(sig(0.2), abs=1e-12)


def test_001_lstm_unit_exact_and_printed():
    doc = build("001-lstm")
    ex = doc.data["exact"]
    z_f, z_i, z_C, z_o = 2.7 + 1.63 + 1.62, 2.0 + 1.65 + 0.62, 1.41 + 0.94 - 0.32, 4.38 - 0.19 + 0.59
    f, i, ct, o = sig(z_f), sig(z_i), math.tanh(z_C), sig(z_o)
    c = 2.0 * f + i * ct
    h = o * math.tanh(c)
    for key, value in {"z_f": z_f, "f": f, "z_i": z_i, "i": i, "z_C": z_C, "C_tilde": ct, "C": c, "z_o": z_o, "o": o,
                       "h": h, "fC": 2 * f, "iC": i * ct}.items():
        assert ex[key] == pytest.approx(value, abs=1e-12), key
    # the seed's printed numbers, at its precision: all agree but the four errata
    printed = {"z_f": (5.95, 2), "f": (0.997, 3), "fC": (1.99, 2), "z_C": (2.03, 2), "C_tilde": (0.97, 2),
               "z_i": (4.27, 2), "z_o": (4.78, 2), "o": (0.99, 2), "tanh_C": (0.99, 2)}
    for key, (value, decimals) in printed.items():
        assert round(ex[key], decimals) == value, key
    wrong = {"i": (1.0, 0.99), "iC": (0.97, 0.95), "C": (2.96, 2.95), "h": (0.98, 0.99)}
    for key, (seed, correct) in wrong.items():
        assert round(ex[key], 2) == correct and round(ex[key], 2) != seed, key
    said = " ".join(e.seed_says for e in doc.errata)
    assert "σ(4.27) = 1.0" in said and "2.96" in said and "0.98" in said


def test_002_ex1_unrolled():
    doc = build("002-1")
    assert doc.data["expression"] == "y_2 = softmax(V tanh(U x_2 + W tanh(U x_1 + W tanh(U x_0))))"
    U, W, V = np.array([[0.5, -0.3], [0.2, 0.4]]), np.array([[0.1, 0.2], [-0.3, 0.1]]), np.array([[0.3, -0.2], [0.1, 0.5], [-0.4, 0.2]])
    x = np.array([[1.0, 0.0], [0.5, -1.0], [0.0, 1.0]])
    h2 = np.tanh(U @ x[2] + W @ np.tanh(U @ x[1] + W @ np.tanh(U @ x[0])))  # the unrolled formula itself
    y2 = np.exp(V @ h2) / np.exp(V @ h2).sum()
    np.testing.assert_allclose(doc.data["y"][2], y2, rtol=0, atol=1e-12)


def test_002_ex2_shapes():
    shapes = build("002-2").data["shapes"]
    assert tuple(shapes["input x"]) == (5, 13, 7)
    assert tuple(shapes["out = softmax(V(h))"]) == (5, 3)
    assert tuple(shapes["U.weight"]) == (10, 7) and tuple(shapes["W.weight"]) == (10, 10) and tuple(shapes["V.weight"]) == (3, 10)
    assert tuple(shapes["all h_t"]) == (13, 5, 10)
    assert shapes["row sums of out"] == (1.0,) * 5


def test_002_ex3_autodiff():
    doc = build("002-3")
    x0, x1, U, w = 1.0, 0.5, 0.5, 0.8
    h0 = math.tanh(U * x0)
    h1 = math.tanh(U * x1 + w * h0)
    expected = (1 - h1 ** 2) * (x1 + w * (1 - h0 ** 2) * x0)
    assert doc.data["dh1_dU"] == pytest.approx(expected, abs=1e-12)
    assert doc.data["dh0_dU"] == pytest.approx((1 - h0 ** 2) * x0, abs=1e-12)
    eps = 1e-6  # and a finite difference of the forward pass
    f = lambda u: math.tanh(u * x1 + w * math.tanh(u * x0))  # noqa: E731
    assert doc.data["dh1_dU"] == pytest.approx((f(U + eps) - f(U - eps)) / (2 * eps), abs=1e-9)
    assert any("w_6" in e.seed_says for e in doc.errata)


def test_004_gru_course_convention():
    doc = build("004-gru")
    Wz, bz = [[0.2, -0.1, 0.5], [0.1, 0.3, -0.4]], [0.0, 0.1]
    Wr, br = [[0.4, 0.1, -0.2], [-0.3, 0.2, 0.6]], [0.1, 0.0]
    W, b = [[0.5, -0.2, 0.3], [0.1, 0.4, -0.5]], [0.0, 0.05]
    h = [0.1, -0.2]
    for t, x in enumerate([1.0, -0.5, 0.8]):
        hx = h + [x]
        z = [sig(sum(a * v for a, v in zip(Wz[j], hx)) + bz[j]) for j in range(2)]
        r = [sig(sum(a * v for a, v in zip(Wr[j], hx)) + br[j]) for j in range(2)]
        rhx = [r[0] * h[0], r[1] * h[1], x]
        ht = [math.tanh(sum(a * v for a, v in zip(W[j], rhx)) + b[j]) for j in range(2)]
        h = [(1 - z[j]) * h[j] + z[j] * ht[j] for j in range(2)]
        np.testing.assert_allclose(doc.data["z"][t], z, rtol=0, atol=1e-12)
        np.testing.assert_allclose(doc.data["h_tilde"][t], ht, rtol=0, atol=1e-12)
        np.testing.assert_allclose(doc.data["h"][t], h, rtol=0, atol=1e-12)
    assert np.abs(doc.data["h_after"] - doc.data["h"]).max() > 1e-3


def test_every_preset_answers_in_both_languages():
    for pid in PRESETS:
        en = build(pid)
        set_language("fr")
        fr = build(pid)
        set_language("en")
        assert en.title != fr.title and len(en.blocks) == len(fr.blocks), pid
