"""The TD (« Exercices : RNN Elman, myRNN en PyTorch, BPTT », the exercise sheet): ex. 1 (unrolled
y_2, symbolic and numeric), ex. 2 (the
corrected myRNN and its shapes), ex. 3 (∂h_1/∂U by reverse-mode autodiff on the TD's graph)."""

from __future__ import annotations

import numpy as np

from ... import rnn_params_from_course
from ...cells import make_cell
from ...i18n import say
from ...sequence import unroll
from ..document import Document, Erratum, Formula, Table, Text, TraceBlock, fmt
from ..record import trace_forward

EX1 = dict(U=[[0.5, -0.3], [0.2, 0.4]], W=[[0.1, 0.2], [-0.3, 0.1]], V=[[0.3, -0.2], [0.1, 0.5], [-0.4, 0.2]],
           x=[[1.0, 0.0], [0.5, -1.0], [0.0, 1.0]])
EX2 = dict(B=5, T=13, d=7, h_size=10, classes=3)
EX3 = dict(x=[1.0, 0.5], U=0.5, w=0.8)
# the nodes of the TD's graph of ∂h_0/∂U: (what it holds, the TD's index, the index in rnnlab's listing)
H0_NUMBERING = (("U", 2, 0), ("x_0", 1, 1), ("U x_0", 3, 2), ("h_0 = tanh(U x_0)", 4, 3))


def diagrams() -> str:
    """The rolled and the unrolled Elman RNN, in ASCII."""
    head = say("rolled:                     unrolled over {x_0, x_1, x_2}:",
               "non déroulé :               déroulé sur {x_0, x_1, x_2} :")
    return head + DIAGRAMS


DIAGRAMS = """

      y_t                        y_0          y_1          y_2
       ^                          ^            ^            ^
       | V                        | V          | V          | V
   +-------+  W               +-------+  W +-------+  W +-------+
   |  h_t  |<--+        0 --> |  h_0  |--->|  h_1  |--->|  h_2  |
   +-------+   |              +-------+    +-------+    +-------+
     ^   |_____|                  ^            ^            ^
     | U                          | U          | U          | U
    x_t                          x_0          x_1          x_2"""


def unrolled_expression(t: int) -> str:
    """``y_t`` written out with h_{-1} = 0: ``softmax(V tanh(U x_t + W tanh(… tanh(U x_0))))``."""
    inner = "tanh(U x_0)"
    for s in range(1, t + 1):
        inner = f"tanh(U x_{s} + W {inner})"
    return f"y_{t} = softmax(V {inner})"


def ex1_trace():
    params = rnn_params_from_course(EX1["U"], EX1["W"], [0.0, 0.0])
    return trace_forward("rnn", params, np.array(EX1["x"]),
                         output_layer={"W_hy": EX1["V"], "b_y": [0.0, 0.0, 0.0], "softmax": True})


def ex1(precision=4) -> Document:
    p = precision
    doc = Document("td-1", say("TD, exercise 1: the Elman RNN unrolled", "TD, exercice 1 : le RNN d'Elman "
                   "déroulé"),
                   precision=p)
    trace = ex1_trace()
    y2 = trace.steps[2].values["p"]
    doc.data = {"expression": unrolled_expression(2), "y": trace.series("p"), "h": trace.series("h")}
    doc.add(Formula("h_t = tanh(U x_t + W h_{t-1})        y_t = softmax(V h_t)"),
            Text(say("1) The input sequence is {x_0, x_1, x_2}; unrolled, the same cell (the same U, W, V) "
                     "is applied at each step and passes h_t to the next one. 2) Substituting h_1, then h_0 "
                     "(with h_{-1} = 0, so h_0 = tanh(U x_0)):",
                     "1) La séquence d'entrée est {x_0, x_1, x_2} ; déroulée, la même cellule (les mêmes U, "
                     "W, V) s'applique à chaque pas et passe h_t au suivant. 2) En substituant h_1 puis h_0 "
                     "(avec h_{-1} = 0, donc h_0 = tanh(U x_0)) :")),
            Formula(diagrams()),
            Formula("y_2 = softmax(V h_2)\n    = softmax(V tanh(U x_2 + W h_1))\n    = "
                    + unrolled_expression(2).split(" = ", 1)[1]),
            Text(say("A numeric instance (d = 2, 2 hidden units, 3 classes, no biases, time indices from 0 "
                     "in the TD and from 1 in the trace: the trace's t = 3 is the TD's y_2):",
                     "Un exemple numérique (d = 2, 2 neurones cachés, 3 classes, sans biais ; le TD indexe "
                     "le temps à partir de 0, la trace à partir de 1 : le t = 3 de la trace est le y_2 du "
                     "TD) :")),
            TraceBlock(trace),
            Text(say(f"y_2 = softmax(V h_2) = [{', '.join(fmt(v, p) for v in y2)}] (the "
                     "probabilities sum to 1).",
                     f"y_2 = softmax(V h_2) = [{', '.join(fmt(v, p) for v in y2)}] (les "
                     "probabilités somment à 1).")))
    return doc


CORRECTED = '''class myRNN(nn.Module):
    def __init__(self, in_size, h_size, out_size):
        super().__init__()
        self.h_size = h_size                                  # stored: forward needs it
        self.U = nn.Linear(in_size, h_size, bias=False)
        self.W = nn.Linear(h_size, h_size)
        self.V = nn.Linear(h_size, out_size)

    def forward(self, x):                                     # x: (B, T, d)
        B, T, _ = x.shape                                     # T is axis 1, not x.size(-1)
        h = torch.zeros(B, self.h_size, device=x.device)      # one row per sequence (a 1-D state broadcasts)
        for t in range(T):
            h = torch.tanh(self.U(x[:, t]) + self.W(h))       # U reads x (not V), tanh (not ReLU)
        return torch.softmax(self.V(h), dim=-1)               # dim goes to softmax, not to V'''


# The TD's myRNN, bug by bug, in the order a run meets them: (the TD writes, correct, (why en, why fr)).
# Each one is demonstrated on the TD's own code in tests/test_course_errata.py.
MY_RNN_BUGS = (
    ("h = torch.zeros(self.h_size)", "self.h_size = h_size  (in __init__)",
     ("__init__ never stores h_size: the first call of forward stops with AttributeError ('myRNN' object has "
      "no attribute 'h_size'). Once it is stored, the 1-D zero state is fine: it broadcasts against the (B, "
      "h_size) batch at the first step.",
      "__init__ ne stocke jamais h_size : le premier appel de la méthode « forward » s'arrête sur "
      "AttributeError (« 'myRNN' object has no attribute 'h_size' »). Une fois stocké, l'état nul à une "
      "dimension convient : il est "
      "diffusé sur le lot (B, h_size) dès le premier pas.")),
    ("self.V(x[:,t])", "self.U(x[:, t])",
     ("V is the output layer, Linear(h_size, out_size): fed the (B, d) input it stops with RuntimeError "
      "(mat1 and mat2 shapes cannot be multiplied (5x7 and 10x3)); the input goes through U.",
      "V est la couche de sortie, Linear(h_size, out_size) : appliquée à l'entrée (B, d), elle s'arrête sur "
      "RuntimeError (« mat1 and mat2 shapes cannot be multiplied (5x7 and 10x3) ») ; l'entrée passe par U.")),
    ("T = x.size(-1)", "T = x.size(1)",
     ("x is (B, T, d): x.size(-1) is d = 7, so the loop silently reads only the first 7 of the 13 steps (the "
      "output does not change when x[:, 7:] does).",
      "x est (B, T, d) : x.size(-1) vaut d = 7, la boucle ne lit donc en silence que les 7 premiers des 13 "
      "pas (la sortie ne change pas quand x[:, 7:] change).")),
    ("torch.relu(…)", "torch.tanh(…)",
     ("Runs, but it is not the TD's cell h_t = tanh(U x_t + W h_{t-1}): other numbers, unbounded states.",
      "Tourne, mais ce n'est pas la cellule du TD h_t = tanh(U x_t + W h_{t-1}) : d'autres nombres, des "
      "états non bornés.")),
    ("torch.softmax(self.V(h, dim=-1))", "torch.softmax(self.V(h), dim=-1)",
     ("dim is an argument of softmax, not of the Linear layer: TypeError (Linear.forward() got an unexpected "
      "keyword argument 'dim').",
      "dim est un argument de softmax, pas de la couche Linear : TypeError (« Linear.forward() got an "
      "unexpected keyword argument 'dim' »).")),
)


# the French of the labels of my_rnn_shapes (its keys stay English: they are data)
SHAPE_NAMES_FR = {"input x": "entrée x", "h (initial, each step)": "h (initial, à chaque pas)",
                  "all h_t": "tous les h_t", "row sums of out": "sommes des lignes de out"}


def my_rnn_shapes(B, T, d, h_size, classes, rng):
    """The corrected myRNN run in NumPy through the core's Elman cell: the shape of every tensor."""
    x = rng.standard_normal((B, T, d))
    U = rng.standard_normal((h_size, d)) * 0.3
    W, b_W = rng.standard_normal((h_size, h_size)) * 0.3, np.zeros(h_size)
    V, b_V = rng.standard_normal((classes, h_size)) * 0.3, np.zeros(classes)
    h0 = np.zeros((B, h_size))
    xs = np.transpose(x, (1, 0, 2))  # (T, B, d): time-major for the core
    output, (h_T,), _ = unroll(make_cell("rnn"), xs, (h0,), U, W, None, b_W)
    logits = h_T @ V.T + b_V  # (B, classes)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    return {"input x": x.shape, "U.weight": U.shape, "W.weight": W.shape, "W.bias": b_W.shape,
            "V.weight": V.shape, "V.bias": b_V.shape, "h (initial, each step)": h0.shape,
            "U(x[:, t])": (xs[0] @ U.T).shape,
            "all h_t": output.shape, "V(h)": logits.shape, "out = softmax(V(h))": y.shape,
            "row sums of out": tuple(np.round(y.sum(axis=1), 12).tolist())}


def ex2(precision=4) -> Document:
    doc = Document("td-2", say("TD, exercise 2: myRNN, corrected, and its shapes",
                                "TD, exercice 2 : myRNN corrigé, et ses formes"), precision=precision)
    e = EX2
    shapes = my_rnn_shapes(e["B"], e["T"], e["d"], e["h_size"], e["classes"], np.random.default_rng(0))
    doc.data = {"shapes": shapes}
    doc.add(Text(say("The TD's class does not run. Each bug, what it breaks when the class is run (the first "
                     "error stops it; fixing one shows the next), then the corrected class:",
                     "La classe du TD ne tourne pas. Chaque erreur, ce qu'elle casse quand on exécute la "
                     "classe (la première arrête tout ; en corriger une montre la suivante), puis la classe "
                     "corrigée :")))
    for wrong, right, why in MY_RNN_BUGS:
        doc.add(Erratum(say("TD, ex. 2, myRNN", "TD, ex. 2, myRNN"), wrong, right, say(*why)))
    doc.add(Formula(CORRECTED),
            Text(say(f"Shapes for B = {e['B']}, T = {e['T']}, d = {e['d']}, h_size = {e['h_size']}, "
                     f"{e['classes']} classes, computed by running the corrected model in NumPy through "
                     "rnnlab's Elman cell (no torch needed): the output is (5, 3), one probability vector "
                     "per sequence, as the TD says.",
                     f"Formes pour B = {e['B']}, T = {e['T']}, d = {e['d']}, h_size = {e['h_size']}, "
                     f"{e['classes']} classes, obtenues en faisant tourner le modèle corrigé en NumPy avec "
                     "la cellule d'Elman de rnnlab (sans torch) : la sortie est (5, 3), un vecteur de "
                     "probabilités par séquence, comme l'indique le TD.")),
            Table((say("tensor", "tenseur"), say("shape", "forme")),
                  tuple((say(k, SHAPE_NAMES_FR.get(k, k)), str(tuple(v))) for k, v in shapes.items())))
    return doc


def ex3(precision=4) -> Document:
    from ...tape import elman_dh1_dU_closed_form, elman_dh_dU, elman_scalar_graph

    p = precision
    doc = Document("td-3", say("TD, exercise 3: ∂h_1/∂U by backpropagation through time",
                                "TD, exercice 3 : ∂h_1/∂U par rétropropagation dans le temps"), precision=p)
    e = EX3
    tape0, hs0 = elman_scalar_graph(e["x"][:1], e["U"], e["w"])
    tape0.backward(hs0[0])
    dh0 = tape0.node("U").grad
    tape, hs = elman_scalar_graph(e["x"], e["U"], e["w"])
    tape.backward(hs[1])
    dh1 = tape.node("U").grad
    h_rec, dh_rec = elman_dh_dU(e["x"], e["U"], e["w"])
    closed = elman_dh1_dU_closed_form(e["x"][0], e["x"][1], e["U"], e["w"])
    doc.data = {"h": h_rec, "dh0_dU": dh0, "dh1_dU": dh1, "recurrence": dh_rec, "closed_form": closed}
    doc.add(Text(say(f"Scalar Elman RNN, `h_t = tanh(U x_t + w h_{{t-1}})`, h_{{-1}} = 0, with x_0 = "
                     f"{e['x'][0]}, x_1 = {e['x'][1]}, U = {e['U']}, w = {e['w']}. The tape records the "
                     f"forward pass as the TD's list w_0 … w_8, then the reverse mode seeds `w̄_8 = 1` and "
                     "walks back; U is used twice (U x_0 and U x_1), so its two adjoints add up.",
                     f"RNN d'Elman scalaire, `h_t = tanh(U x_t + w h_{{t-1}})`, h_{{-1}} = 0, avec x_0 = "
                     f"{e['x'][0]}, x_1 = {e['x'][1]}, U = {e['U']}, w = {e['w']}. La bande enregistre la "
                     f"passe avant comme la liste w_0 … w_8 du TD, puis le mode inverse pose `w̄_8 = 1` et "
                     "remonte ; U sert deux fois (U x_0 et U x_1), ses deux adjoints s'additionnent.")),
            Formula(tape0.listing()),
            Formula(tape.listing()),
            Table((say("quantity", "grandeur"), say("value", "valeur")), (
                ("h_0", h_rec[0]), ("h_1", h_rec[1]),
                (say("∂h_0/∂U (tape) = (1 − h_0²) x_0", "∂h_0/∂U (bande) = (1 − h_0²) x_0"), dh0),
                (say("∂h_1/∂U (tape)", "∂h_1/∂U (bande)"), dh1),
                (say("∂h_1/∂U, the TD's closed form (1 − h_1²)(x_1 + w(1 − h_0²)x_0)",
                     "∂h_1/∂U, forme close du TD (1 − h_1²)(x_1 + w(1 − h_0²)x_0)"), closed),
                (say("∂h_1/∂U, recurrence (1 − h_t²)(x_t + w ∂h_{t-1}/∂U)",
                     "∂h_1/∂U, récurrence (1 − h_t²)(x_t + w ∂h_{t-1}/∂U)"),
                 dh_rec[1]))),
            Text(say("The three agree: the tape, the TD's closed form and its recurrence `∂h_t/∂U = (1 − "
                     "h_t²)(x_t + w ∂h_{t-1}/∂U)` give the same number.",
                     "Les trois concordent : la bande, la forme close du TD et sa récurrence `∂h_t/∂U = (1 − "
                     "h_t²)(x_t + w ∂h_{t-1}/∂U)` donnent le même nombre.")),
            Text(say("The TD's first graph (∂h_0/∂U) numbers its nodes from w_1, rnnlab's listing from w_0; "
                     "the second graph (∂h_1/∂U) has the same numbering in both:",
                     "Le premier graphe du TD (∂h_0/∂U) numérote ses nœuds à partir de w_1, la liste de "
                     "rnnlab à partir de w_0 ; le second graphe (∂h_1/∂U) a la même numérotation dans les "
                     "deux :")),
            Table((say("node of ∂h_0/∂U", "nœud de ∂h_0/∂U"), say("TD", "TD"), "rnnlab"),
                  tuple((node, f"w_{td}", f"w_{ours}") for node, td, ours in H0_NUMBERING),
                  say("The two numberings side by side", "Les deux numérotations côte à côte")),
            Erratum(say("TD, ex. 3, reverse mode of ∂h_0/∂U", "TD, ex. 3, mode inverse de ∂h_0/∂U"),
                    "w̄_4 = dw_4/dw_3 = 1 \"seed\"",
                    say("w̄_4 = ∂w_4/∂w_4 = 1 (rnnlab's numbering: w̄_3 = ∂w_3/∂w_3 = 1)",
                        "w̄_4 = ∂w_4/∂w_4 = 1 (numérotation de rnnlab : w̄_3 = ∂w_3/∂w_3 = 1)"),
                    say("The reverse mode starts from the output's own adjoint, ∂h_0/∂h_0 = 1 by definition; "
                        "dw_4/dw_3 is the local derivative 1 − h_0², which the next line (w̄_3) uses.",
                        "Le mode inverse part de l'adjoint de la sortie elle-même, ∂h_0/∂h_0 = 1 par "
                        "définition ; dw_4/dw_3 est la dérivée locale 1 − h_0², que la ligne suivante (w̄_3) "
                        "utilise.")),
            Erratum(say("TD, ex. 3, forward list of ∂h_1/∂U", "TD, ex. 3, liste avant de ∂h_1/∂U"),
                    "w_6 = w_4 w_5,  w_7 = w_3 + w_6",
                    "w_6 = w × w_5 (= w h_0),  w_7 = w_4 + w_6 (= U x_1 + w h_0)",
                    say("h_1 = tanh(U x_1 + w h_0): the recurrent weight w multiplies h_0, and U x_1 (w_4) "
                        "is added. The TD's final formula is right; its list is not.",
                        "h_1 = tanh(U x_1 + w h_0) : c'est le poids récurrent w qui multiplie h_0, et U x_1 "
                        "(w_4) qu'on ajoute. La formule finale du TD est juste ; sa liste ne l'est pas.")),
            Erratum(say("TD, ex. 3, reverse mode of ∂h_1/∂U", "TD, ex. 3, mode inverse de ∂h_1/∂U"),
                    "w̄_7 = 1 − w̄_8 = 1 − h_1²;  w̄_5 = w̄_0 w_2",
                    "w̄_7 = w̄_8 (1 − w_8²) = 1 − h_1²;  w̄_5 = w̄_6 × w",
                    say("An adjoint is the upstream adjoint times the local derivative: w̄_7 = w̄_8 × "
                        "tanh'(w_7), w̄_5 = w̄_6 × ∂w_6/∂w_5 (same numbering as rnnlab's listing).",
                        "Un adjoint est l'adjoint amont fois la dérivée locale : w̄_7 = w̄_8 × tanh'(w_7), "
                        "w̄_5 = w̄_6 × ∂w_6/∂w_5 (même numérotation que la liste de rnnlab).")))
    return doc
