"""The scalar reverse-mode engine: local derivatives, accumulation, depth without recursion."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab.autodiff
import rnnlab.tape
from rnnlab.autodiff import Value, topological_order
from rnnlab.errors import ConfigError, ValueRangeError


def central(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def test_x_times_x_accumulates_both_contributions():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0  # 2x, not x (an overwrite would give 3)


def test_leaves_accumulate_across_passes_interior_nodes_do_not():
    x = Value(2.0)
    y = x * 3.0
    z = y.tanh()
    z.backward()
    first = x.grad
    z.backward()  # second pass: x accumulates, y's adjoint is recomputed, not doubled
    assert x.grad == pytest.approx(2 * first, rel=1e-15)
    assert y.grad == pytest.approx(1 - math.tanh(6.0) ** 2, rel=1e-15)
    z.zero_grad()
    assert x.grad == 0.0


FUNCS = {
    "tanh": (lambda v: v.tanh(), math.tanh),
    "sigmoid": (lambda v: v.sigmoid(), lambda a: 1 / (1 + math.exp(-a))),
    "exp": (lambda v: v.exp(), math.exp),
    "log": (lambda v: (v * v + 0.5).log(), lambda a: math.log(a * a + 0.5)),
    "relu": (lambda v: (v - 0.3).relu() * v, lambda a: max(a - 0.3, 0) * a),
    "pow": (lambda v: (v * v + 1.0) ** 1.5, lambda a: (a * a + 1) ** 1.5),
    "div": (lambda v: 1.0 / (v * v + 2.0) - v / 3.0, lambda a: 1 / (a * a + 2) - a / 3),
    "sub_neg": (lambda v: 2.0 - (-v) * 4.0, lambda a: 2 - (-a) * 4),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
@settings(max_examples=15, deadline=None)
@given(a=st.floats(-2.5, 2.5).filter(lambda a: abs(a - 0.3) > 1e-3))
def test_each_operation_matches_central_differences(name, a):
    build, plain = FUNCS[name]
    x = Value(a)
    y = build(x)
    assert y.data == pytest.approx(plain(a), rel=1e-12, abs=1e-12)
    y.backward()
    assert x.grad == pytest.approx(central(plain, a), rel=1e-6, abs=1e-8)


def test_5000_node_chain_runs_without_recursion():
    x = Value(0.3)
    y = x
    for _ in range(5000):
        y = (y * 1.0005).tanh()
    y.backward()
    order = topological_order(y)
    assert len(order) >= 10001  # 5000 × (×, tanh) + the leaf (constants on top)
    # the same chain by hand: ∂y/∂x = Π 1.0005 (1 − y_k²)
    v, g = 0.3, 1.0
    for _ in range(5000):
        v = math.tanh(v * 1.0005)
        g *= 1.0005 * (1 - v * v)
    assert y.data == pytest.approx(v, rel=1e-12)
    assert x.grad == pytest.approx(g, rel=1e-9)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueRangeError, match="positive"):
        Value(-1.0).log()
    with pytest.raises(ValueRangeError, match="non-zero"):
        Value(1.0) / 0.0
    with pytest.raises(ConfigError, match="constant number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueRangeError, match="no real derivative"):
        Value(-2.0) ** 0.5
    assert (Value(-2.0) ** 2).data == 4.0


def test_the_course_tools_moved_to_rnnlab_tape_are_still_importable_from_autodiff():
    from rnnlab.autodiff import Tape, elman_scalar_graph, expression_tape

    assert (Tape, elman_scalar_graph, expression_tape) == (rnnlab.tape.Tape, rnnlab.tape.elman_scalar_graph,
                                                           rnnlab.tape.expression_tape)
    with pytest.raises(AttributeError, match="no_such_name"):
        rnnlab.autodiff.no_such_name

