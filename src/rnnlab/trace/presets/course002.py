"""Seed 002 (Elman RNN exercises): ex. 1 (unrolled y_2, symbolic and numeric), ex. 2 (the
corrected myRNN and its shapes), ex. 3 (∂h_1/∂U by reverse-mode autodiff on the seed's graph)."""

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
    return trace_forward("rnn", params, np.array(EX1["x"]), output_layer={"W_hy": EX1["V"], "b_y": [0.0, 0.0, 0.0], "softmax": True})


def ex1(precision=4) -> Document:
    p = precision
    doc = Document("002-1", say("Seed 002, exercise 1: the Elman RNN unrolled", "Document 002, exercice 1 : le RNN d'Elman déroulé"),
                   precision=p)
    trace = ex1_trace()
    y2 = trace.steps[2].values["p"]
    doc.data = {"expression": unrolled_expression(2), "y": trace.series("p"), "h": trace.series("h")}
    doc.add(Formula("h_t = tanh(U x_t + W h_{t-1})        y_t = softmax(V h_t)"),
            Text(say("1) The input sequence is {x_0, x_1, x_2}; unrolled, the same cell (the same U, W, V) is applied at "
                     "each step and passes h_t to the next one. 2) Substituting h_1, then h_0 (with h_{-1} = 0, so "
                     "h_0 = tanh(U x_0)):",
                     "1) La séquence d'entrée est {x_0, x_1, x_2} ; déroulée, la même cellule (les mêmes U, W, V) "
                     "s'applique à chaque pas et passe h_t au suivant. 2) En substituant h_1 puis h_0 (avec h_{-1} = 0, "
                     "donc h_0 = tanh(U x_0)) :")),
            Formula(diagrams()),
            Formula("y_2 = softmax(V h_2)\n    = softmax(V tanh(U x_2 + W h_1))\n    = " + unrolled_expression(2).split(" = ", 1)[1]),
            Text(say("A numeric instance (d = 2, 2 hidden units, 3 classes, no biases, time indices from 0 in the seed and "
                     "from 1 in the trace: the trace's t = 3 is the seed's y_2):",
                     "Un exemple numérique (d = 2, 2 neurones cachés, 3 classes, sans biais ; le document indexe le temps "
                     "à partir de 0, la trace à partir de 1 : le t = 3 de la trace est le y_2 du document) :")),
            TraceBlock(trace),
            Text(say(f"y_2 = softmax(V h_2) = [{', '.join(fmt(v, p) for v in y2)}] (the probabilities sum to 1).",
                     f"y_2 = softmax(V h_2) = [{', '.join(fmt(v, p) for v in y2)}] (les probabilités somment à 1).")))
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
        h = torch.zeros(B, self.h_size, device=x.device)      # one state per sequence
        for t in range(T):
            h = torch.tanh(self.U(x[:, t]) + self.W(h))       # U reads x (not V), tanh (not ReLU)
        return torch.softmax(self.V(h), dim=-1)               # dim goes to softmax, not to V'''


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
    return {"input x": x.shape, "U.weight": U.shape, "W.weight": W.shape, "W.bias": b_W.shape, "V.weight": V.shape,
            "V.bias": b_V.shape, "h (initial, each step)": h0.shape, "U(x[:, t])": (xs[0] @ U.T).shape,
            "all h_t": output.shape, "V(h)": logits.shape, "out = softmax(V(h))": y.shape,
            "row sums of out": tuple(np.round(y.sum(axis=1), 12).tolist())}


def ex2(precision=4) -> Document:
    doc = Document("002-2", say("Seed 002, exercise 2: myRNN, corrected, and its shapes",
                                "Document 002, exercice 2 : myRNN corrigé, et ses formes"), precision=precision)
    e = EX2
    shapes = my_rnn_shapes(e["B"], e["T"], e["d"], e["h_size"], e["classes"], np.random.default_rng(0))
    doc.data = {"shapes": shapes}
    bugs = (
        ("self.V(x[:,t])", "self.U(x[:, t])", say("V is the output layer (h → classes); the input goes through U.",
                                                "V est la couche de sortie (h → classes) ; l'entrée passe par U.")),
        ("torch.relu(…)", "torch.tanh(…)", say("The course's cell is h_t = tanh(U x_t + W h_{t-1}).",
                                              "La cellule du cours est h_t = tanh(U x_t + W h_{t-1}).")),
        ("h = torch.zeros(self.h_size)", "self.h_size = h_size in __init__; h = torch.zeros(B, self.h_size)",
         say("h_size is never stored (AttributeError), and the state needs one row per sequence of the batch.",
             "h_size n'est jamais stocké (AttributeError), et l'état a besoin d'une ligne par séquence du lot.")),
        ("T = x.size(-1)", "T = x.size(1)", say("x is (B, T, d): x.size(-1) is d = 7, so only 7 of the 13 steps would run.",
                                               "x est (B, T, d) : x.size(-1) vaut d = 7, seuls 7 des 13 pas seraient faits.")),
        ("torch.softmax(self.V(h, dim=-1))", "torch.softmax(self.V(h), dim=-1)",
         say("dim is an argument of softmax, not of the Linear layer (TypeError).",
             "dim est un argument de softmax, pas de la couche Linear (TypeError).")),
    )
    doc.add(Text(say("The seed's class does not run. Each fix, then the corrected class:",
                     "La classe du document ne tourne pas. Chaque correction, puis la classe corrigée :")))
    for wrong, right, why in bugs:
        doc.add(Erratum(say("seed 002, ex. 2, myRNN", "document 002, ex. 2, myRNN"), wrong, right, why))
    doc.add(Formula(CORRECTED),
            Text(say(f"Shapes for B = {e['B']}, T = {e['T']}, d = {e['d']}, h_size = {e['h_size']}, {e['classes']} classes, "
                     "computed by running the corrected model in NumPy through rnnlab's Elman cell (no torch needed): "
                     "the output is (5, 3), one probability vector per sequence, as the seed says.",
                     f"Formes pour B = {e['B']}, T = {e['T']}, d = {e['d']}, h_size = {e['h_size']}, {e['classes']} classes, "
                     "obtenues en faisant tourner le modèle corrigé en NumPy avec la cellule d'Elman de rnnlab (sans "
                     "torch) : la sortie est (5, 3), un vecteur de probabilités par séquence, comme l'indique le document.")),
            Table((say("tensor", "tenseur"), say("shape", "forme")), tuple((k, str(tuple(v))) for k, v in shapes.items())))
    return doc


def ex3(precision=4) -> Document:
    from ...tape import elman_dh1_dU_closed_form, elman_dh_dU, elman_scalar_graph

    p = precision
    doc = Document("002-3", say("Seed 002, exercise 3: ∂h_1/∂U by backpropagation through time",
                                "Document 002, exercice 3 : ∂h_1/∂U par rétropropagation dans le temps"), precision=p)
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
    doc.add(Text(say(f"Scalar Elman RNN, `h_t = tanh(U x_t + w h_{{t-1}})`, h_{{-1}} = 0, with x_0 = {e['x'][0]}, "
                     f"x_1 = {e['x'][1]}, U = {e['U']}, w = {e['w']}. The tape records the forward pass as the seed's "
                     "list w_0 … w_8, then the reverse mode seeds `w̄_8 = 1` and walks back; U is used twice (U x_0 and "
                     "U x_1), so its two adjoints add up.",
                     f"RNN d'Elman scalaire, `h_t = tanh(U x_t + w h_{{t-1}})`, h_{{-1}} = 0, avec x_0 = {e['x'][0]}, "
                     f"x_1 = {e['x'][1]}, U = {e['U']}, w = {e['w']}. La bande enregistre la passe avant comme la liste "
                     "w_0 … w_8 du document, puis le mode inverse pose `w̄_8 = 1` et remonte ; U sert deux fois (U x_0 et "
                     "U x_1), ses deux adjoints s'additionnent.")),
            Formula(tape0.listing()),
            Formula(tape.listing()),
            Table((say("quantity", "grandeur"), say("value", "valeur")), (
                ("h_0", h_rec[0]), ("h_1", h_rec[1]),
                (say("∂h_0/∂U (tape) = (1 − h_0²) x_0", "∂h_0/∂U (bande) = (1 − h_0²) x_0"), dh0),
                (say("∂h_1/∂U (tape)", "∂h_1/∂U (bande)"), dh1),
                (say("∂h_1/∂U, seed's closed form (1 − h_1²)(x_1 + w(1 − h_0²)x_0)",
                     "∂h_1/∂U, forme close du document (1 − h_1²)(x_1 + w(1 − h_0²)x_0)"), closed),
                (say("∂h_1/∂U, recurrence (1 − h_t²)(x_t + w ∂h_{t-1}/∂U)", "∂h_1/∂U, récurrence (1 − h_t²)(x_t + w ∂h_{t-1}/∂U)"),
                 dh_rec[1]))),
            Text(say("The three agree: the tape, the seed's closed form and its recurrence `∂h_t/∂U = (1 − h_t²)(x_t + w "
                     "∂h_{t-1}/∂U)` give the same number.",
                     "Les trois concordent : la bande, la forme close du document et sa récurrence `∂h_t/∂U = (1 − h_t²)"
                     "(x_t + w ∂h_{t-1}/∂U)` donnent le même nombre.")),
            Erratum(say("seed 002, ex. 3, forward list", "document 002, ex. 3, liste avant"), "w_6 = w_4 w_5,  w_7 = w_3 + w_6",
                    "w_6 = w × w_5 (= w h_0),  w_7 = w_4 + w_6 (= U x_1 + w h_0)",
                    say("h_1 = tanh(U x_1 + w h_0): the recurrent weight w multiplies h_0, and U x_1 (w_4) is added. The "
                        "seed's final formula is right; its list is not.",
                        "h_1 = tanh(U x_1 + w h_0) : c'est le poids récurrent w qui multiplie h_0, et U x_1 (w_4) qu'on "
                        "ajoute. La formule finale du document est juste ; sa liste ne l'est pas.")),
            Erratum(say("seed 002, ex. 3, reverse mode", "document 002, ex. 3, mode inverse"),
                    "w̄_7 = 1 − w̄_8 = 1 − h_1²;  w̄_5 = w̄_0 w_2;  w̄_4 = dw_4/dw_3 = 1 (seed)",
                    "w̄_7 = w̄_8 (1 − w_8²) = 1 − h_1²;  w̄_5 = w̄_6 × w;  w̄_4 = ∂w_4/∂w_4 = 1 (seed)",
                    say("An adjoint is the upstream adjoint times the local derivative: w̄_7 = w̄_8 × tanh'(w_7), "
                        "w̄_5 = w̄_6 × ∂w_6/∂w_5. The seed of the reverse mode is the output's adjoint, 1 by definition.",
                        "Un adjoint est l'adjoint amont fois la dérivée locale : w̄_7 = w̄_8 × tanh'(w_7), "
                        "w̄_5 = w̄_6 × ∂w_6/∂w_5. Le « seed » du mode inverse est l'adjoint de la sortie, 1 par définition.")))
    return doc
