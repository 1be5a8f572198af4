r"""Scalar reverse-mode automatic differentiation: the engine (the TD, ex. 3).

Every result is a :class:`Value` that remembers its parents and its local derivatives. The
reverse mode seeds the output's adjoint ``w̄_n = 1`` and walks the graph backwards::

    w̄_i = Σ_{j : w_i → w_j}  w̄_j × ∂w_j/∂w_i

A node used twice (``x × x``, a weight reused at every time step) collects every
contribution: gradients accumulate with ``+=``, never ``=``. The topological order is found
with an explicit stack, so a graph of any depth (a sequence unrolled over thousands of steps)
never meets Python's recursion limit.

Each operation below states its local derivative right under the forward expression, in
numbers (``partials``) and in the course's symbols (``rules``). The course's tools built on
this engine (the Wengert list :class:`rnnlab.tape.Tape` and its listing, formulas typed by a
user, the TD's graph) are in :mod:`rnnlab.tape`: a tape is a *recorder*, an object with a
``record(node)`` method, that numbers the nodes in the order they are created.
"""

from __future__ import annotations

import math

from .errors import ConfigError, ValueRangeError
from .i18n import say

_RECORDING: list = []  # recorders opened as a context (``with Tape() as tape:``), innermost last


def start_recording(recorder) -> None:
    """From now on every new node without a recorded parent is recorded by ``recorder``."""
    _RECORDING.append(recorder)


def stop_recording(recorder) -> None:
    """Undo :func:`start_recording`."""
    _RECORDING.remove(recorder)


class Value:
    """A scalar node of the graph: its value ``data``, its adjoint ``grad`` = ∂y/∂(this node).

    ``label`` is a name for people (``"U"``, ``"h_0"``); ``index`` is its place ``i`` in the
    Wengert list of the recorder ``tape`` that recorded it (``None`` for constants and values
    outside any tape; see :class:`rnnlab.tape.Tape`).
    """

    __slots__ = ("data", "grad", "parents", "partials", "op", "rules", "label", "index", "tape")

    def __init__(self, data, label=None, *, tape=None, record=True, _parents=(), _partials=(), _op=None,
                 _rules=()):
        self.data = float(data)
        self.grad = 0.0
        self.parents = _parents  # the nodes this one is computed from
        self.partials = _partials  # ∂self/∂parent, one number per parent
        self.op = _op  # the forward expression, e.g. "{0} × {1}"
        self.rules = _rules  # each partial in symbols, e.g. "(1 − {out}²)"
        self.label = label
        self.index = None
        self.tape = None
        if tape is None and record and _RECORDING:
            tape = _RECORDING[-1]  # created inside ``with Tape():``
        if tape is not None:
            tape.record(self)

    def __repr__(self):
        name = "" if self.index is None else f"w_{self.index}, "
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # --- the elementary operations, each with its derivative -----------------------------

    def __add__(self, other):
        a, b = self, as_value(other)
        # ∂(a + b)/∂a = 1,   ∂(a + b)/∂b = 1
        return _node(a.data + b.data, "{0} + {1}", (a, b), (1.0, 1.0), ("1", "1"))

    def __sub__(self, other):
        a, b = self, as_value(other)
        # ∂(a − b)/∂a = 1,   ∂(a − b)/∂b = −1
        return _node(a.data - b.data, "{0} − {1}", (a, b), (1.0, -1.0), ("1", "(−1)"))

    def __mul__(self, other):
        a, b = self, as_value(other)
        # ∂(a × b)/∂a = b,   ∂(a × b)/∂b = a
        return _node(a.data * b.data, "{0} × {1}", (a, b), (b.data, a.data), ("{1}", "{0}"))

    def __truediv__(self, other):
        a, b = self, as_value(other)
        if b.data == 0.0:
            raise ValueRangeError(say("division: expected a non-zero divisor, got 0",
                                      "division : diviseur non nul attendu, reçu 0"))
        # ∂(a / b)/∂a = 1/b,   ∂(a / b)/∂b = −a/b²
        return _node(a.data / b.data, "{0} / {1}", (a, b), (1.0 / b.data, -a.data / b.data**2),
                     ("1/{1}", "(−{0}/{1}²)"))

    def __pow__(self, n):
        if isinstance(n, Value) or not isinstance(n, (int, float)):
            raise ConfigError(say(f"power: expected a constant number as exponent, got {type(n).__name__}",
                                  f"puissance : un nombre constant attendu comme exposant, "
                                  f"reçu « {type(n).__name__} »"))
        a = self
        if (a.data < 0 and n != int(n)) or (a.data == 0 and n < 1):
            raise ValueRangeError(say(f"power: a^{n:g} with a = {a.data:g} has no real derivative; "
                                      f"expected a > 0",
                                      f"puissance : a^{n:g} avec a = {a.data:g} n'a pas de dérivée réelle ; "
                                      f"a > 0 attendu"))
        # ∂(a^n)/∂a = n a^(n−1)
        return _node(a.data**n, "{0}^" + f"{n:g}", (a,), (n * a.data ** (n - 1),),
                     (f"{n:g} × {{0}}^{n - 1:g}",))

    def __neg__(self):
        # ∂(−a)/∂a = −1
        return _node(-self.data, "−{0}", (self,), (-1.0,), ("(−1)",))

    def tanh(self):
        t = math.tanh(self.data)
        # tanh'(a) = 1 − tanh²(a), written with the output: 1 − w²
        return _node(t, "tanh({0})", (self,), (1.0 - t * t,), ("(1 − {out}²)",))

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))  # σ(a) = 1/(1 + e^{−a}), without overflow
        # σ'(a) = σ(a)(1 − σ(a))
        return _node(s, "σ({0})", (self,), (s * (1.0 - s),), ("{out}(1 − {out})",))

    def exp(self):
        if self.data > 709.0:
            raise ValueRangeError(say(f"exp: expected an argument ≤ 709 (float64 range), got {self.data:g}",
                                      f"exp : argument ≤ 709 attendu (domaine de float64), "
                                      f"reçu {self.data:g}"))
        e = math.exp(self.data)
        # (e^a)' = e^a
        return _node(e, "exp({0})", (self,), (e,), ("{out}",))

    def log(self):
        if self.data <= 0.0:
            raise ValueRangeError(say(f"log: expected a positive argument, got {self.data:g}",
                                      f"log : argument strictement positif attendu, reçu {self.data:g}"))
        # (log a)' = 1/a
        return _node(math.log(self.data), "log({0})", (self,), (1.0 / self.data,), ("1/{0}",))

    def relu(self):
        # ReLU'(a) = [a > 0]  (0 at a = 0, as PyTorch)
        return _node(max(self.data, 0.0), "ReLU({0})", (self,), (1.0 if self.data > 0 else 0.0,),
                     ("[{0} > 0]",))

    # reflected forms: 2 + x, 2 − x, 2 × x, 2 / x
    def __radd__(self, other):
        return as_value(other) + self

    def __rsub__(self, other):
        return as_value(other) - self

    def __rmul__(self, other):
        return as_value(other) * self

    def __rtruediv__(self, other):
        return as_value(other) / self

    # --- reverse mode --------------------------------------------------------------------

    def backward(self, seed=1.0):
        """Reverse mode from this node: w̄ = ``seed`` here, then every adjoint of the graph.

        Interior adjoints are recomputed from zero; leaves (inputs, weights) *accumulate*, as
        PyTorch's ``.grad`` does: call :meth:`zero_grad` between independent passes.
        """
        order = topological_order(self)
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad += float(seed)
        for node in reversed(order):
            for parent, partial in zip(node.parents, node.partials):
                parent.grad += partial * node.grad  # += : a node used twice gets both terms

    def zero_grad(self):
        """Set every adjoint of the graph that ends here to 0."""
        for node in topological_order(self):
            node.grad = 0.0


def as_value(x) -> Value:
    """A number becomes a constant node (shown by its value, not part of the Wengert list)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ConfigError(say(f"autodiff: expected a Value or a number, got {type(x).__name__}",
                              f"autodiff : une « Value » ou un nombre attendu, reçu « {type(x).__name__} »"))
    return Value(x, record=False)


def _node(data, op, parents, partials, rules) -> Value:
    """A new result node; it joins the tape of its first recorded parent, else the open tape."""
    tape = next((p.tape for p in parents if p.tape is not None), _RECORDING[-1] if _RECORDING else None)
    return Value(data, tape=tape, record=tape is not None, _parents=parents, _partials=partials, _op=op,
                 _rules=rules)


def topological_order(root: Value) -> list:
    """Every node ``root`` depends on, parents before children (iterative depth-first search)."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node.parents if id(p) not in seen)
    return order


# names that moved to rnnlab.tape with the course's tools: still importable from here
_MOVED_TO_TAPE = ("Tape", "expression_tape", "elman_scalar_graph", "elman_dh_dU", "elman_dh1_dU_closed_form",
                  "FUNCTIONS")


def __getattr__(name):
    if name in _MOVED_TO_TAPE:
        from . import tape

        return getattr(tape, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Value", "topological_order", "as_value", "start_recording", "stop_recording"]
