"""The Chapitre (« Réseaux neuronaux récurrents », the book chapter): its gradient of a scalar RNN
as a sum, checked; the GRU equations on a small worked example, and how PyTorch's GRU differs.

Whose GRU is it? The chapter's candidate applies r before the product, ``tanh(W·[r ⊙ h, x] + b)``,
as Cho et al. 2014 do; its update ``h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t`` is the convention of
Chung et al. 2014 and d2l. Cho et al. write ``h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t`` (PyTorch's z):
the chapter keeps Cho's reset and flips Cho's z."""

from __future__ import annotations

import numpy as np

from ... import gru_params_from_course
from ...i18n import say
from ...cells import make_cell
from ...sequence import unroll, unroll_backward
from ..document import Document, Erratum, Formula, Table, Text, TraceBlock, fmt, fmt_vector
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
    doc = Document("chapitre-gru", say("Chapitre: the GRU on a worked example", "Chapitre : le GRU sur un "
                   "exemple détaillé"),
                   precision=p)
    trace = gru_trace("before")
    after = gru_trace("after")
    h_b, h_a = trace.series("h"), after.series("h")
    doc.data = {k: trace.series(k) for k in trace.steps[0].values} | {"h_after": h_a}
    gates = (say("update gate", "porte de mise à jour"), say("reset gate", "porte de réinitialisation"),
             say("candidate", "candidat"))
    doc.add(Formula("z_t = σ(W_z × [h_{t-1}, x_t] + b_z)          %s\n"
                    "r_t = σ(W_r × [h_{t-1}, x_t] + b_r)          %s\n"
                    "h̃_t = tanh(W × [r_t ⊙ h_{t-1}, x_t] + b)      %s\n"
                    "h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t" % gates),
            Text(say("Whose equations? The reset before the product with W is Cho et al. 2014's; the update "
                     "`h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t` is the convention of Chung et al. 2014 and "
                     "d2l. Cho et al. write `h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t`: the chapter keeps "
                     "Cho's reset and flips Cho's z.",
                     "À qui sont ces équations ? La porte de réinitialisation (« reset ») appliquée avant le "
                     "produit par W est celle de Cho et al. "
                     "2014 ; la mise à jour `h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t` est la convention de "
                     "Chung et al. 2014 et de d2l. Cho et al. écrivent `h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ "
                     "h̃_t` : le chapitre garde la réinitialisation de Cho et inverse son z.")),
            Text(say("Two hidden units, one input, three steps. z_t decides, per unit, how much of the "
                     "candidate h̃_t replaces the old state; r_t decides how much of h_{t-1} the candidate "
                     "may look at (here before the product with W). `a_z`, `a_r`, `a_h` are the "
                     "pre-activations.",
                     "Deux neurones cachés, une entrée, trois pas. z_t décide, par neurone, quelle part du "
                     "candidat h̃_t remplace l'ancien état ; r_t décide quelle part de h_{t-1} le candidat "
                     "peut regarder (ici avant le produit par W). `a_z`, `a_r`, `a_h` sont les "
                     "pré-activations.")),
            TraceBlock(trace),
            Text(say("PyTorch's nn.GRU computes the same family with two differences: its z is the course's "
                     "1 − z (`h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}`), so its z-weights are the negated course "
                     "weights; and it applies r after the hidden product "
                     "(`n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`). With the same weights the second "
                     "difference changes the numbers:",
                     "nn.GRU de PyTorch calcule la même famille avec deux différences : son z est le 1 − z "
                     "du cours (`h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}`), ses poids z sont donc les poids du cours "
                     "changés de signe ; et il applique r après le produit caché "
                     "(`n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`). Avec les mêmes poids la seconde "
                     "différence change les nombres :")),
            Table(("t", say("h_t, reset before (course)", "h_t, réinitialisation avant (cours)"),
                   say("h_t, reset after (PyTorch)", "h_t, réinitialisation après (PyTorch)")),
                  tuple((str(t + 1), fmt_vector(h_b[t], p), fmt_vector(h_a[t], p)) for t in range(len(h_b)))),
            Text(say(f"At t = 1 both agree only through the r-free parts; by t = 3 they differ by "
                     f"{fmt(np.abs(h_b[-1] - h_a[-1]).max(), p)}. rnnlab has both "
                     "(`GRU(..., reset=\"before\")` for the course, the default \"after\" for PyTorch).",
                     f"À t = 3 elles diffèrent de {fmt(np.abs(h_b[-1] - h_a[-1]).max(), p)}. rnnlab a les "
                     "deux (`GRU(..., reset=\"before\")` pour le cours, `reset=\"after\"`, le défaut, "
                     "pour PyTorch).")),
            Erratum(say("Chapitre, GRU, citation", "Chapitre, GRU, citation"),
                    say("h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t, citing Cho et al. 2014",
                        "h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t, en citant Cho et al. 2014"),
                    say("Cho et al. 2014: h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t; the chapter's form is "
                        "Chung et al. 2014's (and d2l's)",
                        "Cho et al. 2014 : h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t ; la forme du chapitre est "
                        "celle de Chung et al. 2014 (et de d2l)"),
                    say("The same family with z ↔ 1 − z: a z learnt in one convention is 1 − z in the other. "
                        "Only the reset before the product is Cho's.",
                        "La même famille avec z ↔ 1 − z : un z appris dans une convention vaut 1 − z dans "
                        "l'autre. Seule la réinitialisation avant le produit est celle de Cho.")))
    return doc


# --- the chapter's gradient of a scalar RNN ----------------------------------------------------

# a scalar RNN read from x_0 (the chapter's indexing: h_t sums up x_0 … x_t; initial state h_{-1} = 0)
SCALAR = dict(W_h=0.9, W_x=0.7, b=0.1, x=[1.0, -0.5, 0.8, 0.3])


def scalar_rnn(W_h, W_x, b, x):
    """The states h_0 … h_T and pre-activations o_t = W_h h_{t-1} + W_x x_t + b, from h_{-1} = 0."""
    h, hs, os_ = 0.0, [], []
    for x_t in x:
        o = W_h * h + W_x * x_t + b
        h = float(np.tanh(o))
        os_.append(o)
        hs.append(h)
    return np.array(hs), np.array(os_)


def gradient_terms(W_h, hs, os_, first):
    """The chapter's sum Σ_{t'=first}^{t-1} h_{t'} W_h^{t-t'-1} tanh'(o_{t'+1}) ⋯ tanh'(o_t) for t = T−1."""
    t = len(hs) - 1
    slope = 1.0 - np.tanh(os_) ** 2
    return float(sum(hs[k] * W_h ** (t - k - 1) * np.prod(slope[k + 1:t + 1]) for k in range(first, t)))


def gradient_recursion(W_h, hs, os_):
    """The chapter's recursion ∂h_t/∂W_h = tanh'(o_t) (h_{t-1} + W_h ∂h_{t-1}/∂W_h), from ∂h_{-1}/∂W_h = 0."""
    g, h_prev = 0.0, 0.0
    for h, o in zip(hs, os_):
        g = (1.0 - np.tanh(o) ** 2) * (h_prev + W_h * g)
        h_prev = h
    return float(g)


def gradient_bptt(W_h, W_x, b, x):
    """∂h_T/∂W_h by rnnlab's core BPTT (a one-unit Elman cell)."""
    xs = np.array(x, dtype=np.float64)[:, None, None]
    _, _, tape = unroll(make_cell("rnn"), xs, (np.zeros((1, 1)),), np.array([[W_x]]), np.array([[W_h]]), None,
                        np.array([b]))
    _, _, grads = unroll_backward(tape, None, (np.ones((1, 1)),))
    return float(grads["W_hh"][0, 0])


def gradient_sum(precision=4) -> Document:
    p = precision
    e = SCALAR
    title = say("Chapitre: the gradient of a scalar RNN, as a sum",
                "Chapitre : le gradient d'un RNN scalaire, sous forme de somme")
    doc = Document("chapitre-gradient", title, precision=p)
    hs, os_ = scalar_rnn(**e)
    T = len(hs) - 1
    values = {"recursion": gradient_recursion(e["W_h"], hs, os_), "bptt": gradient_bptt(**e),
              "sum_from_0": gradient_terms(e["W_h"], hs, os_, 0),
              "sum_from_1": gradient_terms(e["W_h"], hs, os_, 1)}
    doc.data = {"h": hs, "o": os_} | values
    doc.add(Formula("h_t = tanh(o_t),   o_t = W_h h_{t-1} + W_x x_t + b\n"
                    "∇_{W_h}(h_t) = tanh'(o_t) (h_{t-1} + W_h ∂h_{t-1}/∂W_h)\n"
                    "             = Σ_{t'} h_{t'} W_h^{t-t'-1} tanh'(o_{t'+1}) ⋯ tanh'(o_t)"),
            Text(say(f"The chapter's scalar RNN, read from x_0 as the chapter does (h_t sums up x_0 … x_t, "
                     f"initial state h_{{-1}} = 0), with W_h = {e['W_h']}, W_x = {e['W_x']}, b = {e['b']} "
                     f"and x = {e['x']}. Each term of the sum is the influence of one past state h_{{t'}}, "
                     f"attenuated by W_h^{{t-t'-1}} and the slopes tanh'.",
                     f"Le RNN scalaire du chapitre, lu à partir de x_0 comme le fait le chapitre (h_t résume "
                     f"x_0 … x_t, état initial h_{{-1}} = 0), avec W_h = {e['W_h']}, W_x = {e['W_x']}, b = "
                     f"{e['b']} et x = {e['x']}. Chaque terme de la somme est l'influence d'un état passé "
                     f"h_{{t'}}, atténuée par W_h^{{t-t'-1}} et les pentes tanh'.")),
            Table(("t", "x_t", "o_t", "h_t", "tanh'(o_t)"),
                  tuple((str(t), fmt(e["x"][t], 1), os_[t], hs[t], 1.0 - hs[t] ** 2) for t in range(T + 1))),
            Table((say(f"∂h_{T}/∂W_h computed by", f"∂h_{T}/∂W_h calculé par"), say("value", "valeur")), (
                (say("the chapter's recursion", "la récurrence du chapitre"), values["recursion"]),
                (say("rnnlab's BPTT", "la BPTT de rnnlab"), values["bptt"]),
                (say("the sum from t' = 0", "la somme à partir de t' = 0"), values["sum_from_0"]),
                (say("the chapter's sum, from t' = 1", "la somme du chapitre, à partir de t' = 1"),
                 values["sum_from_1"]))),
            Erratum(say("Chapitre, RNN, the sum for ∇_{W_h}(h_t)", "Chapitre, RNN, la somme de ∇_{W_h}(h_t)"),
                    "Σ_{t'=1}^{t-1}", "Σ_{t'=0}^{t-1}",
                    say(f"The recursion unrolls down to the first state h_0 = tanh(W_x x_0 + b), whose term "
                        f"h_0 W_h^{{t-1}} tanh'(o_1) ⋯ tanh'(o_t) the chapter's bound drops: here "
                        f"{fmt(values['sum_from_1'], p)} instead of {fmt(values['sum_from_0'], p)}. (With a "
                        f"non-zero initial state h_{{-1}} the sum starts at t' = −1.)",
                        f"La récurrence se déroule jusqu'au premier état h_0 = tanh(W_x x_0 + b), dont le "
                        f"terme h_0 W_h^{{t-1}} tanh'(o_1) ⋯ tanh'(o_t) est omis par la borne du chapitre : "
                        f"ici {fmt(values['sum_from_1'], p)} au lieu de {fmt(values['sum_from_0'], p)}. "
                        f"(Avec un état initial h_{{-1}} non nul, la somme commence à t' = −1.)")))
    return doc
