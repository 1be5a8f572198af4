"""Seed 004 (book chapter): the GRU equations (Cho 2014, reset before the matmul) on a small
worked example, and how PyTorch's GRU differs."""

from __future__ import annotations

import numpy as np

from ... import gru_params_from_course
from ...i18n import say
from ..document import Document, Formula, Table, Text, TraceBlock, fmt, fmt_vector
from ..record import trace_forward

GRU_EX = dict(x=[1.0, -0.5, 0.8], h0=[0.1, -0.2],
              W_z=[[0.2, -0.1, 0.5], [0.1, 0.3, -0.4]], b_z=[0.0, 0.1],
              W_r=[[0.4, 0.1, -0.2], [-0.3, 0.2, 0.6]], b_r=[0.1, 0.0],
              W=[[0.5, -0.2, 0.3], [0.1, 0.4, -0.5]], b=[0.0, 0.05])


def gru_params():
    e = GRU_EX
    return gru_params_from_course(e["W_z"], e["b_z"], e["W_r"], e["b_r"], e["W"], e["b"])


def gru_trace(reset="before"):
    return trace_forward("gru", gru_params(), np.array(GRU_EX["x"])[:, None], (np.array(GRU_EX["h0"]),),
                         options={"reset": reset})


def gru(precision=4) -> Document:
    p = precision
    doc = Document("004-gru", say("Seed 004: the GRU on a worked example", "Document 004 : le GRU sur un exemple détaillé"),
                   precision=p)
    trace = gru_trace("before")
    after = gru_trace("after")
    h_b, h_a = trace.series("h"), after.series("h")
    doc.data = {k: trace.series(k) for k in trace.steps[0].values} | {"h_after": h_a}
    doc.add(Formula("z_t = σ(W_z × [h_{t-1}, x_t] + b_z)          update gate\n"
                    "r_t = σ(W_r × [h_{t-1}, x_t] + b_r)          reset gate\n"
                    "h̃_t = tanh(W × [r_t ⊙ h_{t-1}, x_t] + b)      candidate\n"
                    "h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t"),
            Text(say("Two hidden units, one input, three steps. z_t decides, per unit, how much of the candidate h̃_t "
                     "replaces the old state; r_t decides how much of h_{t-1} the candidate may look at (here before the "
                     "product with W, as in Cho 2014 and the chapter). `a_z`, `a_r`, `a_h` are the pre-activations.",
                     "Deux neurones cachés, une entrée, trois pas. z_t décide, par neurone, quelle part du candidat h̃_t "
                     "remplace l'ancien état ; r_t décide quelle part de h_{t-1} le candidat peut regarder (ici avant le "
                     "produit par W, comme Cho 2014 et le chapitre). `a_z`, `a_r`, `a_h` sont les pré-activations.")),
            TraceBlock(trace),
            Text(say("PyTorch's nn.GRU computes the same family with two differences: its z is the course's 1 − z "
                     "(`h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}`), so its z-weights are the negated course weights; and it applies "
                     "r after the hidden product (`n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`). With the same weights "
                     "the second difference changes the numbers:",
                     "nn.GRU de PyTorch calcule la même famille avec deux différences : son z est le 1 − z du cours "
                     "(`h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}`), ses poids z sont donc les poids du cours changés de signe ; et "
                     "il applique r après le produit caché (`n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`). Avec les "
                     "mêmes poids la seconde différence change les nombres :")),
            Table(("t", say("h_t, reset before (course)", "h_t, reset avant (cours)"),
                   say("h_t, reset after (PyTorch)", "h_t, reset après (PyTorch)")),
                  tuple((str(t + 1), fmt_vector(h_b[t], p), fmt_vector(h_a[t], p)) for t in range(len(h_b)))),
            Text(say(f"At t = 1 both agree only through the r-free parts; by t = 3 they differ by "
                     f"{fmt(np.abs(h_b[-1] - h_a[-1]).max(), p)}. rnnlab has both (`GRU(..., reset=\"before\")` for the "
                     "course, the default \"after\" for PyTorch).",
                     f"À t = 3 elles diffèrent de {fmt(np.abs(h_b[-1] - h_a[-1]).max(), p)}. rnnlab a les deux "
                     "(`GRU(..., reset=\"before\")` pour le cours, \"after\" par défaut pour PyTorch).")))
    return doc
