"""The course's tape on the engine: the Wengert list and its listing, formulas typed by a user,
the TD's graph against the recurrence, the closed form, finite differences and the core BPTT."""

import math

import numpy as np
import pytest

import rnnlab
from rnnlab.autodiff import Value
from rnnlab.errors import ConfigError
from rnnlab.tape import Tape, elman_dh1_dU_closed_form, elman_dh_dU, elman_scalar_graph, expression_tape


def central(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def test_bad_expressions_raise_clear_errors():
    with pytest.raises(ConfigError, match="unknown name 'z'"):
        expression_tape("x * z", {"x": 1.0})
    with pytest.raises(ConfigError, match="unsupported"):
        expression_tape("__import__('os')", {"x": 1.0})
    with pytest.raises(ConfigError, match="valid formula"):
        expression_tape("x *", {"x": 1.0})


def test_expression_tape_gradients_match_finite_differences():
    text = "tanh(a*b + 0.5) * sigmoid(a) - exp(-b*b) / (1 + a**2) + log(b) + relu(a - b)"
    values = {"a": 0.7, "b": 1.3}
    tape, out = expression_tape(text, values)

    def f(a, b):
        _, o = expression_tape(text, {"a": a, "b": b})
        return o.data

    assert tape.node("a").grad == pytest.approx(central(lambda a: f(a, 1.3), 0.7), rel=1e-7)
    assert tape.node("b").grad == pytest.approx(central(lambda b: f(0.7, b), 1.3), rel=1e-7)
    assert [n.index for n in tape.nodes] == list(range(len(tape)))


def test_expression_tape_matches_torch_autograd(torch):
    text = "tanh(a*b + 0.5) * sigmoid(a) - exp(-b*b) / (1 + a**2) + log(b)"
    tape, out = expression_tape(text, {"a": 0.7, "b": 1.3})
    a = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    y = torch.tanh(a * b + 0.5) * torch.sigmoid(a) - torch.exp(-b * b) / (1 + a**2) + torch.log(b)
    y.backward()
    assert out.data == pytest.approx(y.item(), rel=1e-14)
    assert tape.node("a").grad == pytest.approx(a.grad.item(), rel=1e-13)
    assert tape.node("b").grad == pytest.approx(b.grad.item(), rel=1e-13)


# --- TD, ex. 3 ---------------------------------------------------------------------------


def test_seed_002_graph_for_h1_has_the_seed_nodes_and_the_closed_form():
    x0, x1, U, w = 1.0, 0.5, 0.5, 0.8
    tape, hs = elman_scalar_graph([x0, x1], U, w)
    assert len(tape) == 9  # w_0 … w_8, as the seed
    assert [n.label for n in tape.nodes] == ["U", "x_0", "x_1", "U x_0", "U x_1", "h_0", "w h_0", "z_1", "h_1"]
    assert tape[5] is hs[0] and tape[8] is hs[1]
    tape.backward(hs[1])
    h0 = math.tanh(U * x0)
    h1 = math.tanh(U * x1 + w * h0)
    closed = (1 - h1**2) * (x1 + w * (1 - h0**2) * x0)
    assert hs[1].data == pytest.approx(h1, rel=1e-15)
    assert tape.node("U").grad == pytest.approx(closed, rel=1e-14)
    assert elman_dh1_dU_closed_form(x0, x1, U, w) == pytest.approx(closed, rel=1e-15)
    # the two contributions of the seed: w̄_0 = w̄_3 w_1 + w̄_4 w_2
    assert tape[0].grad == pytest.approx(tape[3].grad * x0 + tape[4].grad * x1, rel=1e-15)
    assert tape[7].grad == pytest.approx(1 - h1**2, rel=1e-15)  # w̄_7 = w̄_8 (1 − h_1²)


def test_seed_002_graph_for_h0():
    tape, hs = elman_scalar_graph([0.7], -1.2, 0.3)
    tape.backward(hs[0])
    h0 = math.tanh(-1.2 * 0.7)
    assert tape.node("U").grad == pytest.approx((1 - h0**2) * 0.7, rel=1e-15)  # (1 − h_0²) x_0


def test_listing_shows_forward_values_and_adjoints():
    tape, hs = elman_scalar_graph([1.0, 0.5], 0.5, 0.8)
    assert "reverse" not in tape.listing()
    tape.backward(hs[1])
    text = tape.listing(lang="en")
    assert "w_3 = w_0 × w_1 = 0.5 × 1 = 0.5" in text
    assert "w_6 = w × w_5" in text and "w_7 = w_4 + w_6" in text
    assert "w̄_8 = 1" in text
    assert "w̄_7 = w̄_8 × (1 − w_8²)" in text
    assert f"w̄_0 = w̄_3 × w_1 + w̄_4 × w_2 = " in text
    dU = elman_dh1_dU_closed_form(1.0, 0.5, 0.5, 0.8)
    assert f"= {dU:.6g}   = ∂h_1/∂U" in text
    assert "passe avant" in tape.listing(lang="fr") and "mode inverse" in tape.listing(lang="fr")


@pytest.mark.parametrize("T", [3, 50, 1000])
def test_tape_matches_recurrence_and_finite_differences(T):
    rng = np.random.default_rng(T)
    xs = rng.normal(size=T).tolist()
    U, w = 0.6, 0.9
    tape, hs = elman_scalar_graph(xs, U, w)
    assert len(tape) == 5 * T - 1
    hs_rec, dhs = elman_dh_dU(xs, U, w)
    # the recurrence, written again here: ∂h_t/∂U = (1 − h_t²)(x_t + w ∂h_{t−1}/∂U)
    h, d = 0.0, 0.0
    for t, x in enumerate(xs):
        h = math.tanh(U * x + w * h)
        d = (1 - h * h) * (x + w * d)
        assert hs_rec[t] == pytest.approx(h, rel=1e-14, abs=1e-15)
        assert dhs[t] == pytest.approx(d, rel=1e-12, abs=1e-15)
    for t in sorted({0, 1, T // 2, T - 1}):
        tape.backward(hs[t])
        assert tape.node("U").grad == pytest.approx(dhs[t], rel=1e-10, abs=1e-14)
    last = tape.node("U").grad
    fd = central(lambda u: elman_dh_dU(xs, u, w)[0][-1], U)
    assert last == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_w_on_tape_gives_the_recurrent_weight_gradient():
    xs, U, w = [0.3, -0.8, 1.1, 0.4], 0.7, -0.5
    tape, hs = elman_scalar_graph(xs, U, w, w_on_tape=True)
    tape.backward(hs[-1])
    fd = central(lambda v: elman_dh_dU(xs, U, v)[0][-1], w)
    assert tape.node("w").grad == pytest.approx(fd, rel=1e-7)


@pytest.mark.parametrize("T", [2, 7, 1000])
def test_tape_matches_the_core_bptt(T):
    rng = np.random.default_rng(100 + T)
    xs = rng.normal(size=T)
    U, w = -0.4, 0.95
    rnn = rnnlab.RNN(1, 1, bias=False, dtype=np.float64)
    rnn.load_state_dict({"weight_ih_l0": np.array([[U]]), "weight_hh_l0": np.array([[w]])})
    out, h_n = rnn.forward(xs.reshape(T, 1, 1))
    rnn.backward(None, np.ones_like(h_n))  # loss = h_T (the last hidden state)
    tape, hs = elman_scalar_graph(xs, U, w, w_on_tape=True)
    tape.backward(hs[-1])
    assert hs[-1].data == pytest.approx(float(h_n[0, 0, 0]), rel=1e-13, abs=1e-15)
    assert tape.node("U").grad == pytest.approx(float(rnn.grads["weight_ih_l0"][0, 0]), rel=1e-10, abs=1e-14)
    assert tape.node("w").grad == pytest.approx(float(rnn.grads["weight_hh_l0"][0, 0]), rel=1e-10, abs=1e-14)


def test_tape_as_context_records_everything_created_inside():
    with Tape() as tape:
        a = Value(2.0, "a")
        b = Value(-3.0, "b")
        c = a * b + a
    assert [n.index for n in (a, b, c)] == [0, 1, 3]
    tape.backward()
    assert a.grad == b.data + 1 and b.grad == a.data
    outside = Value(1.0) * 2.0
    assert outside.index is None


# --- rnnlab tape ----------------------------------------------------------------------------------


def test_cli_tape_seed_example_and_checks(capsys):
    from rnnlab import cli

    assert cli.main(["tape"]) == 0
    out = capsys.readouterr().out
    dU = elman_dh1_dU_closed_form(1.0, 0.5, 0.5, 0.8)
    assert "w_8 = tanh(w_7)" in out and "w̄_0 = w̄_3 × w_1 + w̄_4 × w_2" in out
    assert out.count(f"{dU:.6g}") >= 4  # tape, closed form, recurrence, core BPTT
    assert "The TD differs" in out
    assert cli.main(["--lang", "fr", "tape", "--x", "0.3,-1,2", "--U", "0.7", "--w", "0.9", "--w-on-tape"]) == 0
    out = capsys.readouterr().out
    assert "passe avant" in out and "de trois façons" in out and "∂h_2/∂w" in out


def test_cli_tape_expression_and_errors(capsys):
    from rnnlab import cli

    assert cli.main(["tape", "--expr", "x*x", "--at", "x=3"]) == 0
    out = capsys.readouterr().out
    assert "w̄_0 = w̄_1 × w_0 + w̄_1 × w_0 = 1 × 3 + 1 × 3 = 6" in out  # d(x·x)/dx = 2x, both terms shown
    assert cli.main(["tape", "--expr", "x*y", "--at", "x=3"]) == 2
    assert "unknown name 'y'" in capsys.readouterr().err
    assert cli.main(["tape", "--expr", "x", "--at", "x3"]) == 2
    assert "name=value" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:  # argparse's refusal of the option's type
        cli.main(["tape", "--x", ""])
    assert stop.value.code == 2 and "--x: expected a list" in capsys.readouterr().err
