r"""The course's reverse-mode tools on the :mod:`rnnlab.autodiff` engine (the TD, ex. 3).

The forward pass is a Wengert list: every intermediate result gets a name ``w_i``, in the order
it is created, and is one elementary operation of earlier ones::

    w_i = φ_i(w_j, w_k)                       (j, k < i)

:class:`Tape` records that list and :meth:`Tape.listing` writes it out as the course does: the
forward values, then each adjoint ``w̄_i = Σ w̄_j × ∂w_j/∂w_i`` in symbols and in numbers.
:func:`expression_tape` builds the tape of a formula typed by a user (a safe parser, no
``eval``); :func:`elman_scalar_graph` builds the TD's graph of the scalar Elman RNN, and
:func:`elman_dh_dU`, :func:`elman_dh1_dU_closed_form` give the same gradient by the
recurrence and by the seed's closed form.
"""

from __future__ import annotations

import ast
import math
import re

from .autodiff import Value, as_value, start_recording, stop_recording, topological_order
from .errors import ConfigError, ValueRangeError
from .i18n import integer, say


class Tape:
    """The Wengert list ``w_0 … w_n``: nodes in the order they were created.

    Either open it as a context (every node created inside is recorded) or create leaves with
    :meth:`value` (results of recorded nodes are recorded on the same tape)::

        tape = Tape()
        x = tape.value(0.5, "x")
        y = (x * x).tanh()
        tape.backward(y)
        print(tape.listing())
    """

    def __init__(self):
        self.nodes: list = []
        self.output: Value | None = None

    def __enter__(self):
        start_recording(self)
        return self

    def __exit__(self, *exc):
        stop_recording(self)
        return False

    def __len__(self):
        return len(self.nodes)

    def __getitem__(self, i) -> Value:
        return self.nodes[i]

    def record(self, node: Value) -> Value:
        node.index, node.tape = len(self.nodes), self
        self.nodes.append(node)
        return node

    def value(self, data, label=None) -> Value:
        """A new leaf (an input or a weight) on this tape."""
        return Value(data, label, tape=self)

    def node(self, label) -> Value:
        """The first node labelled ``label`` (``"U"``, ``"h_1"``)."""
        for n in self.nodes:
            if n.label == label:
                return n
        labels = [n.label for n in self.nodes if n.label]
        raise ConfigError(say(f"tape: no node labelled {label!r}; labels: {labels}",
                              f"bande : aucun nœud étiqueté « {label} » ; étiquettes : {', '.join(labels)}"))

    def backward(self, output: Value | None = None) -> Value:
        """Fresh adjoints ``w̄_i = ∂output/∂w_i`` for every node (``output``: the last node)."""
        if not self.nodes:
            raise ConfigError(say("tape: nothing recorded, no output to differentiate",
                                  "bande : rien d'enregistré, aucune sortie à dériver"))
        output = self.nodes[-1] if output is None else output
        for n in self.nodes:
            n.grad = 0.0
        output.zero_grad()
        output.backward()
        self.output = output
        return output

    # --- the course's listing ------------------------------------------------------------

    def listing(self, lang=None, digits=6) -> str:
        """The forward Wengert list with values, then (after :meth:`backward`) the adjoints
        ``w̄_i`` from the seed ``w̄_n = 1`` down to the leaves, in symbols and in numbers."""
        num = _Formatter(digits)
        lines = [say("forward pass (Wengert list):", "passe avant (liste de Wengert) :", lang)]
        for n in self.nodes:
            lines.append("  " + _forward_line(n, num))
        if self.output is None:
            return "\n".join(lines)
        out = self.output
        lines.append("")
        target = (f"∂{out.label}/∂w_i, {_name(out)} = {out.label}" if out.label
                  else f"∂{_name(out)}/∂w_i")
        lines.append(say(f"reverse mode (adjoints w̄_i = {target}):",
                         f"mode inverse (adjoints w̄_i = {target}) :", lang))
        in_graph = {id(n) for n in topological_order(out)}
        consumers = {id(n): [] for n in self.nodes}
        for n in self.nodes:
            if id(n) in in_graph:
                for k, p in enumerate(n.parents):
                    if id(p) in consumers:
                        consumers[id(p)].append((n, k))
        for n in reversed(self.nodes):
            if id(n) not in in_graph:
                continue
            if n is out:
                lines.append(f"  w̄_{n.index} = 1   " + say('("seed")', "(« seed »)", lang))
                continue
            terms = consumers[id(n)]
            symbols = " + ".join(f"w̄_{c.index} × {_fill(c.rules[k], c, _name)}" for c, k in terms)
            numbers = " + ".join(f"{num.bare(c.grad)} × {_fill(c.rules[k], c, num.inner)}" for c, k in terms)
            note = ""
            if n.label and out.label and not n.parents:
                note = f"   = ∂{out.label}/∂{n.label}"
            lines.append(f"  w̄_{n.index} = {symbols} = {numbers} = {num.bare(n.grad)}{note}")
        return "\n".join(lines)


class _Formatter:
    def __init__(self, digits):
        self.digits = digits

    def bare(self, v):
        return f"{v:.{self.digits}g}".replace("-", "−")

    def inner(self, node_or_value):
        v = node_or_value.data if isinstance(node_or_value, Value) else node_or_value
        s = self.bare(v)
        return f"({s})" if v < 0 else s


def _name(n: Value) -> str:
    """How a node appears inside an expression: ``w_i``, else its label, else its value."""
    if n.index is not None:
        return f"w_{n.index}"
    if n.label:
        return n.label
    return f"{n.data:g}".replace("-", "−") if n.data >= 0 else f"({n.data:g})".replace("-", "−")


def _fill(template, node, show) -> str:
    """Put the parents (``{0}``, ``{1}``) and the node itself (``{out}``) into ``template``."""
    text = template.format(*(show(p) for p in node.parents), out=show(node))
    return re.sub(r"\(\((−[^()]*)\)\)", r"(\1)", text)  # tanh((−6)) -> tanh(−6)


def _forward_line(n: Value, num: _Formatter) -> str:
    head = f"w_{n.index}"
    if not n.parents:
        return f"{head} = {n.label} = {num.bare(n.data)}" if n.label else f"{head} = {num.bare(n.data)}"
    symbols = _fill(n.op, n, _name)
    numbers = _fill(n.op, n, num.inner)
    tail = f"   ({n.label})" if n.label else ""
    return f"{head} = {symbols} = {numbers} = {num.bare(n.data)}{tail}"


# --- expressions typed by a user: a safe parser (no eval) ------------------------------------

MAX_EXPRESSION = 2000  # characters of a formula typed by a user
FUNCTIONS = {"tanh": Value.tanh, "sigmoid": Value.sigmoid, "σ": Value.sigmoid, "exp": Value.exp,
             "log": Value.log, "relu": Value.relu}


def expression_tape(text: str, variables: dict):
    """Build the graph of an arithmetic expression, e.g. ``"tanh(U*x0 + w*h)"`` with
    ``variables = {"U": 0.5, "x0": 1.0, ...}``; the variables become the leaves ``w_0, w_1, …``
    in the order given. Returns ``(tape, output)``.

    Allowed: numbers, the variables, ``+ − × / **`` (constant exponent), unary ``−`` and the
    functions tanh, sigmoid, exp, log, relu; at most :data:`MAX_EXPRESSION` characters (a tape is
    written out to be read). A value that overflows or leaves a function's domain raises
    :class:`~rnnlab.errors.ValueRangeError`.
    """
    if len(text) > MAX_EXPRESSION:
        most, got = integer(MAX_EXPRESSION), integer(len(text))
        raise ConfigError(say(f"expression: expected at most {most} characters (a tape to read), got {got}",
                              f"expression : au plus {most} caractères attendus (une bande à lire), "
                              f"reçu {got}"))
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(say(f"expression {text!r}: not a valid formula ({exc.msg})",
                              f"expression {text!r} : formule invalide (erreur de syntaxe à la colonne "
                              f"{exc.offset})")) from None
    except (RecursionError, MemoryError):
        raise ConfigError(say(f"expression {text[:60]!r}: expected a formula nested at most as deep as "
                              "Python reads, got a deeper one",
                              f"expression {text[:60]!r} : formule moins imbriquée attendue")) from None
    tape = Tape()
    leaves = {name: tape.value(float(v), name) for name, v in variables.items()}
    binary = {ast.Add: Value.__add__, ast.Sub: Value.__sub__, ast.Mult: Value.__mul__,
              ast.Div: Value.__truediv__}

    def build(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in leaves:
                known = ", ".join(sorted(leaves) + sorted(FUNCTIONS))
                raise ConfigError(say(f"expression {text!r}: unknown name {node.id!r}; expected one of "
                                      f"{sorted(leaves) + sorted(FUNCTIONS)}",
                                      f"expression {text!r} : nom inconnu {node.id!r} ; l'un de {known} "
                                      "attendu"))
            return leaves[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = build(node.operand)  # −2 stays a number; −x is a node
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in binary:
            left, right = build(node.left), build(node.right)
            return binary[type(node.op)](as_value(left), right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = build(node.right)
            if isinstance(exponent, Value):
                raise ConfigError(say(f"expression {text!r}: expected a constant exponent after **",
                                      f"expression {text!r} : exposant constant attendu après **"))
            return as_value(build(node.left)) ** exponent
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1 \
                and not node.keywords and node.func.id in FUNCTIONS:
            return FUNCTIONS[node.func.id](as_value(build(node.args[0])))
        raise ConfigError(say(f"expression {text!r}: unsupported part {ast.unparse(node)!r}; expected "
                              f"numbers, variables, + - * / **, and {', '.join(sorted(FUNCTIONS))}",
                              f"expression {text!r} : partie non prise en charge {ast.unparse(node)!r} ; "
                              f"nombres, variables, + - * / ** et {', '.join(sorted(FUNCTIONS))} attendus"))

    try:
        with tape:
            result = as_value(build(tree.body))
        if result.tape is not tape:  # a bare number
            raise ConfigError(say(f"expression {text!r}: expected at least one operation on the variables",
                                  f"expression {text!r} : au moins une opération sur les variables "
                                  "attendue"))
        if result.parents and result.label is None:
            result.label = "f"
        tape.backward(result)
    except RecursionError:
        raise ConfigError(say(f"expression {text[:60]!r}: expected a formula nested less deeply (nested too "
                              "deeply)", f"expression {text[:60]!r} : formule moins imbriquée attendue "
                              "(trop imbriquée)")) from None
    except (ArithmeticError, ValueError) as exc:  # math.exp overflow, log(−1), x / 0
        if isinstance(exc, ConfigError):
            raise
        overflow = isinstance(exc, OverflowError)
        raise ValueRangeError(say(f"expression {text!r}: expected values within float64 and the functions' "
                                  f"domains, got {'float64 overflow' if overflow else exc}",
                                  f"expression {text!r} : valeurs dans float64 et dans le domaine des "
                                  "fonctions attendues, reçu "
                                  + ("un dépassement de float64" if overflow else
                                     "une valeur hors du domaine d'une fonction"))) from None
    bad = [f"w_{n.index}" for n in tape.nodes if not (math.isfinite(n.data) and math.isfinite(n.grad))]
    if bad:
        raise ValueRangeError(say(f"expression {text!r}: expected finite values, got {bad[0]} (or its "
                                  "adjoint) infinite or NaN",
                                  f"expression {text!r} : valeurs finies attendues, reçu {bad[0]} (ou son "
                                  "adjoint) infini ou NaN"))
    return tape, result


# --- TD, ex. 3: the Elman RNN with scalar weights ----------------------------------------


def elman_scalar_graph(xs, U, w, w_on_tape=False):
    r"""The computational graph of the TD for ``h_t = tanh(U x_t + w h_{t−1})``, ``h_{−1} = 0``.

    Nodes in the seed's order: ``w_0 = U``, ``w_1 … w_T = x_0 … x_{T−1}``, then the products
    ``U x_t``, then ``h_0 = tanh(U x_0)`` and for each t ≥ 1 the three nodes ``w × h_{t−1}``,
    ``U x_t + w h_{t−1}``, ``h_t = tanh(…)``. For T = 2 these are the seed's ``w_0 … w_8``
    (the seed writes ``w_6 = w_4 w_5``, ``w_7 = w_3 + w_6``: the graph it draws, and its
    result ``(1 − h_1²)(x_1 + w(1 − h_0²)x_0)``, need ``w_6 = w × w_5``, ``w_7 = w_4 + w_6``).

    The recurrent weight ``w`` is a named constant outside the list, as in the seed, unless
    ``w_on_tape`` (then it is the last leaf and ``tape.node("w").grad`` is ∂h/∂w).

    Returns ``(tape, hs)``: ``hs[t]`` is the node of h_t; ``tape.node("U")`` the weight U.
    """
    xs = [float(x) for x in xs]
    if not xs:
        raise ConfigError(say("elman_scalar_graph: expected at least one input x_0, got none",
                              "elman_scalar_graph : au moins une entrée x_0 attendue, reçu aucune"))
    tape = Tape()
    U_node = tape.value(U, "U")
    x_nodes = [tape.value(x, f"x_{t}") for t, x in enumerate(xs)]
    w_node = tape.value(w, "w") if w_on_tape else Value(w, "w", record=False)
    ux = [U_node * x for x in x_nodes]  # U x_t
    for t, node in enumerate(ux):
        node.label = f"U x_{t}"
    hs = []
    for t in range(len(xs)):
        if t == 0:
            h = ux[0].tanh()  # h_0 = tanh(U x_0), since h_{−1} = 0
        else:
            wh = w_node * hs[-1]  # w h_{t−1}
            wh.label = f"w h_{t - 1}"
            z = ux[t] + wh  # U x_t + w h_{t−1}
            z.label = f"z_{t}"
            h = z.tanh()  # h_t
        h.label = f"h_{t}"
        hs.append(h)
    return tape, hs


def elman_dh_dU(xs, U, w):
    r"""The seed's recurrence, forward in time::

        h_t = tanh(U x_t + w h_{t−1}),    h_{−1} = 0
        ∂h_t/∂U = (1 − h_t²)(x_t + w ∂h_{t−1}/∂U)

    Returns two lists: ``h_t`` and ``∂h_t/∂U`` for t = 0 … T−1.
    """
    h, dh = 0.0, 0.0
    hs, dhs = [], []
    for x in xs:
        h_new = math.tanh(U * x + w * h)
        dh = (1.0 - h_new * h_new) * (x + w * dh)
        h = h_new
        hs.append(h)
        dhs.append(dh)
    return hs, dhs


def elman_dh1_dU_closed_form(x0, x1, U, w):
    """The seed's closed form ``∂h_1/∂U = (1 − h_1²)(x_1 + w(1 − h_0²)x_0)``."""
    h0 = math.tanh(U * x0)
    h1 = math.tanh(U * x1 + w * h0)
    return (1.0 - h1 * h1) * (x1 + w * (1.0 - h0 * h0) * x0)


__all__ = ["Tape", "expression_tape", "elman_scalar_graph", "elman_dh_dU", "elman_dh1_dU_closed_form",
           "FUNCTIONS"]
