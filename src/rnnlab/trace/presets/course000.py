"""The TP (« TP RNN et LSTM », the lab sheet): exercises 1.1, 1.2, 2.1, 2.2, 2.3, each solved in full."""

from __future__ import annotations

import math

import numpy as np

from ...cells import make_cell
from ...i18n import say
from ..backward import trace_backward
from ..document import Document, Erratum, Figure, Formula, Heading, Table, Text, TraceBlock, fmt, fmt_vector
from ..figures import gradient_decay_figure, hidden_state_figure
from ..record import trace_forward
from ... import lstm_params_from_course, rnn_params_from_course

# --- the data of the exercises, as printed in the TP -------------------------------------------

EX11 = dict(x=[0.5, 0.8, 0.2], h0=[0.0, 0.0], W_xh=[[0.3], [0.4]], W_hh=[[0.2, 0.1], [-0.1, 0.3]],
            b_h=[0.1, 0.0], W_hy=[[0.5, -0.2]], b_y=[0.1])
EX12 = dict(W_hh=[[0.8, 0.1], [-0.1, 0.8]], tanh_slope=0.9, steps=(3, 5, 10), threshold=0.01)
EX21 = dict(x=[1.0, 0.5, -0.3], h0=0.0, C0=0.0, W_f=[0.1, 0.2], b_f=0.0, W_i=[0.3, -0.1], b_i=0.1,
            W_C=[0.2, 0.4], b_C=0.0, W_o=[0.1, 0.3], b_o=0.0)
EX22 = dict(x=[0.8, -0.2], h0=[0.1, -0.1], C0=[0.2, 0.0],
            W_f=[[0.1, 0.2, 0.3], [0.0, 0.1, -0.2]], b_f=[0.1, 0.0],
            W_i=[[0.2, -0.1, 0.4], [0.1, 0.3, 0.1]], b_i=[0.0, 0.1],
            W_C=[[0.3, 0.1, -0.1], [-0.1, 0.2, 0.3]], b_C=[0.05, 0.0],
            W_o=[[0.1, 0.4, 0.2], [0.2, 0.0, 0.3]], b_o=[0.1, 0.0])
EX23 = dict(f=0.9, steps=10, d_h1=0.1)

LSTM_EQUATIONS = """f_t = σ(W_f × [h_{t-1}, x_t] + b_f)      forget gate
i_t = σ(W_i × [h_{t-1}, x_t] + b_i)      input gate
C̃_t = tanh(W_C × [h_{t-1}, x_t] + b_C)   candidate values
o_t = σ(W_o × [h_{t-1}, x_t] + b_o)      output gate
C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t          cell state
h_t = o_t ⊙ tanh(C_t)                    hidden state"""
LSTM_EQUATIONS_FR = """f_t = σ(W_f × [h_{t-1}, x_t] + b_f)      porte d'oubli
i_t = σ(W_i × [h_{t-1}, x_t] + b_i)      porte d'entrée
C̃_t = tanh(W_C × [h_{t-1}, x_t] + b_C)   valeurs candidates
o_t = σ(W_o × [h_{t-1}, x_t] + b_o)      porte de sortie
C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t          état de la cellule
h_t = o_t ⊙ tanh(C_t)                    état caché"""


def _lstm_params(ex):
    names = ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o")
    return lstm_params_from_course(**{k: ex[k] for k in names})


def ex11_trace():
    ex = EX11
    params = rnn_params_from_course(ex["W_xh"], ex["W_hh"], ex["b_h"])
    return trace_forward("rnn", params, np.array(ex["x"])[:, None], (np.array(ex["h0"]),),
                         output_layer={"W_hy": ex["W_hy"], "b_y": ex["b_y"]})


def ex11(precision=4) -> Document:
    p = precision
    doc = Document("tp-1.1", say("TP, exercise 1.1: vanilla RNN, three steps by hand",
                                  "TP, exercice 1.1 : RNN simple, trois pas à la main"), precision=p)
    trace = ex11_trace()
    h, y = trace.series("h"), trace.series("y")
    doc.data = {"h": h, "y": y[:, 0], "z": trace.series("z")}
    doc.add(Formula("h_t = tanh(W_hh × h_{t-1} + W_xh × x_t + b_h)\ny_t = W_hy × h_t + b_y"),
            Heading(say("1. h_1, h_2, h_3 step by step — 2. y_1, y_2, y_3",
                        "1. h_1, h_2, h_3 pas à pas — 2. y_1, y_2, y_3")),
            Text(say("Each step first forms the pre-activation `z_t = W_hh × h_{t-1} + W_xh × x_t + b_h` "
                     "(one line per neuron, numbers substituted), squashes it with tanh, then reads the "
                     "output `y_t = W_hy × h_t + b_y`. h_t feeds the next step: the same weights are "
                     "used at every step.",
                     "Chaque pas forme d'abord la pré-activation `z_t = W_hh × h_{t-1} + W_xh × x_t + b_h` "
                     "(une ligne par neurone, nombres substitués), l'écrase par tanh, puis lit la sortie "
                     "`y_t = W_hy × h_t + b_y`. h_t alimente le pas suivant : les mêmes poids "
                     "servent à chaque pas.")),
            TraceBlock(trace),
            Table(("t", "x_t", "h_t[1]", "h_t[2]", "y_t"),
                  tuple((str(t + 1), fmt(EX11["x"][t], 1), h[t, 0], h[t, 1], y[t, 0]) for t in range(3)),
                  say("Answers", "Réponses")),
            Heading(say("3. The evolution of h_t", "3. L'évolution de h_t")),
            Text(say(f"h_t[1] goes {fmt(h[0, 0], p)} → {fmt(h[1, 0], p)} → {fmt(h[2, 0], p)}: it follows the "
                     "input (x = 0.5, 0.8, 0.2) plus the bias 0.1, damped by the small recurrent weights "
                     f"(0.2, 0.1). h_t[2] goes {fmt(h[0, 1], p)} → {fmt(h[1, 1], p)} → {fmt(h[2, 1], p)}: no "
                     "bias, it is driven by 0.4 × x_t and keeps a little of its past through W_hh[2,2] = "
                     "0.3, so at t = 3 it stays above 0.4 × 0.2 = 0.08. Both fall at t = 3 when the "
                     "input drops to 0.2.",
                     f"h_t[1] passe de {fmt(h[0, 0], p)} à {fmt(h[1, 0], p)} puis {fmt(h[2, 0], p)} : il "
                     "suit l'entrée (x = 0.5 ; 0.8 ; 0.2) plus le biais 0.1, amorti par les petits poids "
                     f"récurrents (0.2 ; 0.1). h_t[2] passe de {fmt(h[0, 1], p)} à {fmt(h[1, 1], p)} puis "
                     f"{fmt(h[2, 1], p)} : sans biais, il est porté par 0.4 × x_t et garde un peu de son "
                     "passé par W_hh[2,2] = 0.3 ; à t = 3 il reste au-dessus de 0.4 × 0.2 = 0.08. Les deux "
                     "baissent à t = 3 quand l'entrée retombe à 0.2.")),
            Figure("h", lambda: hidden_state_figure(trace), say("h_t and y_t for t = 0…3 (TP, ex. 1.1)",
                                                                 "h_t et y_t pour t = 0…3 (TP, ex. 1.1)")))
    return doc


# --- ex. 1.2 ------------------------------------------------------------------------------------


def ex12_numbers(W_hh=None, slope=None, k_max=40):
    """The Jacobian product (diag(tanh') · W_hh)^k for k = 1…k_max, and its norms."""
    W = np.array(EX12["W_hh"] if W_hh is None else W_hh, dtype=np.float64)
    s = EX12["tanh_slope"] if slope is None else slope
    J = np.diag([s] * W.shape[0]) @ W  # ∂h_t/∂h_{t-1} = diag(tanh'(z_t)) · W_hh, tanh' ≈ 0.9
    P = np.eye(W.shape[0])
    rows = []
    for k in range(1, k_max + 1):
        P = J @ P  # ∂h_k/∂h_0
        rows.append({"k": k, "spectral": np.linalg.norm(P, 2), "frobenius": np.linalg.norm(P, "fro"),
                     "max_entry": np.abs(P).max(), "diagonal": (W[0, 0] * s) ** k})
    return J, rows


def _first_below(rows, key, threshold):
    return next((r["k"] for r in rows if r[key] < threshold), None)


def ex12(precision=4) -> Document:
    p = precision
    doc = Document("tp-1.2", say("TP, exercise 1.2: the vanishing gradient, in numbers",
                                  "TP, exercice 1.2 : le gradient qui disparaît, en chiffres"), precision=p)
    W = np.array(EX12["W_hh"])
    J, rows = ex12_numbers(k_max=60)
    eig = np.linalg.eigvals(W)
    rho = float(np.abs(eig).max())
    theta = math.degrees(math.atan2(0.1, 0.8))
    below = {key: _first_below(rows, key, 0.01) for key in ("spectral", "frobenius", "max_entry", "diagonal")}
    big = W * (1.2 / rho)  # the same rotation with eigenvalues of modulus 1.2
    _, rows_big = ex12_numbers(big, k_max=60)
    mid = W * (1.05 / rho)
    _, rows_mid = ex12_numbers(mid, k_max=60)
    doc.data = {"J": J, "rows": rows, "eigenvalues": eig, "rho": rho, "below": below,
                "rows_exploding": rows_big, "rows_between": rows_mid}
    by_k = {r["k"]: r for r in rows}
    doc.add(Formula("∂L/∂h_0 = ∂L/∂h_k × (∂h_k/∂h_{k-1}) × … × (∂h_1/∂h_0)\n"
                    "∂h_t/∂h_{t-1} = diag(1 − tanh²(z_t)) × W_hh  ≈  0.9 × W_hh   (tanh' ≈ 0.9)"),
            Text(say("With tanh' replaced by its average 0.9, every factor is the same matrix `J = 0.9 × "
                     f"W_hh = {fmt_vector(J[0], 2)}, {fmt_vector(J[1], 2)}`, so the gradient that reaches k "
                     f"steps back is `∂L/∂h_k × J^k`. How big is a matrix? We give three norms and the "
                     "elementwise view: the spectral norm `‖J^k‖₂` (the largest factor by which any upstream "
                     "gradient can be multiplied: the measure that answers the question), the Frobenius norm "
                     "`‖J^k‖_F` (all entries together), the largest entry `max|J^k|` and the scalar view "
                     "`(0.8 × 0.9)^k` which keeps only the diagonal weight 0.8.",
                     "En remplaçant tanh' par sa moyenne 0.9, chaque facteur est la même matrice `J = 0.9 × "
                     f"W_hh = {fmt_vector(J[0], 2)}, {fmt_vector(J[1], 2)}`, et le gradient qui remonte de k "
                     f"pas vaut `∂L/∂h_k × J^k`. Quelle taille pour une matrice ? Nous donnons trois normes "
                     "et la vue élément par élément : la norme spectrale `‖J^k‖₂` (le plus grand facteur par "
                     "lequel un gradient amont peut être multiplié : la mesure qui répond à la question), la "
                     "norme de Frobenius `‖J^k‖_F` (tous les coefficients ensemble), le plus grand "
                     "coefficient `max|J^k|` et la vue scalaire `(0.8 × 0.9)^k` qui ne garde que le poids "
                     "diagonal 0.8.")),
            Heading(say("1. The gradient after 3, 5 and 10 steps", "1. Le gradient après 3, 5 et 10 pas")),
            Table((say("steps k", "pas k"), "‖J^k‖₂", "‖J^k‖_F", "max|J^k|", "(0.8×0.9)^k"),
                  tuple((str(k), by_k[k]["spectral"], by_k[k]["frobenius"], by_k[k]["max_entry"],
                         by_k[k]["diagonal"]) for k in EX12["steps"]),
                  say("norms of the Jacobian product", "normes du produit des jacobiennes")),
            Text(say("W_hh = 0.8·I + 0.1·(rotation by 90°) is a scaled rotation: its eigenvalues are 0.8 ± "
                     f"0.1i, of modulus √0.65 = {fmt(rho, p)}, and it is normal, so its spectral norm is "
                     f"also {fmt(rho, p)} and `‖J^k‖₂ = (0.9 × {fmt(rho, p)})^k = {fmt(0.9 * rho, p)}^k` "
                     f"exactly, the Frobenius norm is √2 times that, and J^k turns by k × {theta:.2f}° (so "
                     "single entries oscillate under that envelope).",
                     "W_hh = 0.8·I + 0.1·(rotation de 90°) est une rotation mise à l'échelle : ses valeurs "
                     f"propres sont 0.8 ± 0.1i, de module √0.65 = {fmt(rho, p)}, et elle est normale, donc "
                     f"sa norme spectrale vaut aussi {fmt(rho, p)} et "
                     f"`‖J^k‖₂ = (0.9 × {fmt(rho, p)})^k = {fmt(0.9 * rho, p)}^k` exactement ; la norme de "
                     f"Frobenius vaut √2 fois plus, et J^k tourne de k × {theta:.2f}° (chaque coefficient "
                     "oscille sous cette enveloppe).")),
            Heading(say("2. When does the gradient fall below 0.01?",
                        "2. À partir de combien de pas le gradient est-il < 0.01 ?")),
            Text(say(f"Spectral norm: at k = {below['spectral']} (`{fmt(0.9 * rho, p)}^{below['spectral']} = "
                     f"{fmt(by_k[below['spectral']]['spectral'], p)}`, while k = {below['spectral'] - 1} "
                     f"still gives {fmt(by_k[below['spectral'] - 1]['spectral'], p)}); solving "
                     f"`{fmt(0.9 * rho, p)}^k < 0.01` gives k > ln 0.01 / ln {fmt(0.9 * rho, p)} = "
                     f"{math.log(0.01) / math.log(0.9 * rho):.2f}. Frobenius norm: k = {below['frobenius']}. "
                     f"Largest entry: k = {below['max_entry']}. Scalar view 0.72^k: k = {below['diagonal']}. "
                     "Whatever the measure, about 15 steps back the gradient has lost 99 % of its size.",
                     f"Norme spectrale : à k = {below['spectral']} "
                     f"(`{fmt(0.9 * rho, p)}^{below['spectral']} = "
                     f"{fmt(by_k[below['spectral']]['spectral'], p)}`, alors que k = {below['spectral'] - 1} "
                     f"donne encore {fmt(by_k[below['spectral'] - 1]['spectral'], p)}) ; résoudre "
                     f"`{fmt(0.9 * rho, p)}^k < 0.01` donne k > ln 0.01 / ln {fmt(0.9 * rho, p)} = "
                     f"{math.log(0.01) / math.log(0.9 * rho):.2f}. Norme de Frobenius : k = "
                     f"{below['frobenius']}. Plus grand coefficient : k = {below['max_entry']}. Vue scalaire "
                     f"0.72^k : k = {below['diagonal']}. Quelle que soit la mesure, vers 15 pas en arrière "
                     f"le gradient a perdu 99 % de sa taille.")),
            Heading(say("3. Eigenvalues of W_hh greater than 1",
                        "3. Valeurs propres de W_hh supérieures à 1")),
            Text(say("Each step multiplies by 0.9 × W_hh, so what matters is 0.9 × |λ|. With the same "
                     "rotation scaled to |λ| = 1.2, the factor per step is 1.08: after 10 steps the gradient "
                     f"is {fmt(rows_big[9]['spectral'], p)} times larger, after 50 steps "
                     f"{fmt(rows_big[49]['spectral'], 2)} times: it explodes geometrically (updates jump, "
                     "the loss becomes NaN; remedy: clip the gradient's norm). Eigenvalues just above 1 are "
                     "not enough when tanh' < 1: with |λ| = 1.05 the factor is 0.945 and the gradient still "
                     f"vanishes ({fmt(rows_mid[9]['spectral'], p)} after 10 steps). It explodes only when "
                     "|λ| > 1/0.9 ≈ 1.111; and since a saturated tanh has a smaller slope, large weights "
                     "also push tanh' towards 0, which fights the explosion.",
                     "Chaque pas multiplie par 0.9 × W_hh : c'est 0.9 × |λ| qui compte. Avec la même "
                     "rotation mise à l'échelle |λ| = 1.2, le facteur par pas vaut 1.08 : après 10 pas le "
                     f"gradient est {fmt(rows_big[9]['spectral'], p)} fois plus grand, après 50 pas "
                     f"{fmt(rows_big[49]['spectral'], 2)} fois : il explose géométriquement (mises à jour "
                     "qui sautent, perte NaN ; remède : écrêter la norme du gradient). Des valeurs propres à "
                     "peine supérieures à 1 ne suffisent pas quand tanh' < 1 : avec |λ| = 1.05 le facteur "
                     f"vaut 0.945 et le gradient disparaît encore ({fmt(rows_mid[9]['spectral'], p)} après "
                     "10 pas). Il n'explose que si |λ| > 1/0.9 ≈ 1.111 ; et comme une tanh saturée a une "
                     "pente plus faible, de grands poids poussent aussi tanh' vers 0, ce qui "
                     "freine l'explosion.")),
            Figure("gradient", lambda: gradient_decay_figure({
                "‖J^k‖₂, |λ| = 0.806": ([r["k"] for r in rows], [r["spectral"] for r in rows]),
                "max|J^k|": ([r["k"] for r in rows], [r["max_entry"] for r in rows]),
                "(0.8×0.9)^k": ([r["k"] for r in rows], [r["diagonal"] for r in rows]),
                "‖J^k‖₂, |λ| = 1.05": ([r["k"] for r in rows_mid], [r["spectral"] for r in rows_mid]),
                "‖J^k‖₂, |λ| = 1.2": ([r["k"] for r in rows_big], [r["spectral"] for r in rows_big]),
            }), say("Size of the gradient k steps back, log scale",
                    "Taille du gradient k pas en arrière, échelle log")),
            Erratum(say("TP, ex. 1.2, formula", "TP, ex. 1.2, formule"),
                    "∂h_t/∂h_{t-1} = W_hh × diag(1 − tanh²(z_t))",
                    "∂h_t/∂h_{t-1} = diag(1 − tanh²(z_t)) × W_hh",
                    say("Row i of the Jacobian is tanh'(z_t[i]) times row i of W_hh, so the diagonal "
                        "multiplies on the left. With a constant tanh' ≈ 0.9 both orders give 0.9 × W_hh and "
                        "the same numbers; with real, different slopes they differ.",
                        "La ligne i de la jacobienne vaut tanh'(z_t[i]) fois la ligne i de W_hh : la "
                        "diagonale multiplie à gauche. Avec une pente constante 0.9 les deux ordres donnent "
                        "0.9 × W_hh et les mêmes nombres ; avec des pentes réelles "
                        "différentes, ils diffèrent.")))
    return doc


# --- ex. 2.1 and 2.2 ----------------------------------------------------------------------------


def ex21_trace():
    ex = EX21
    return trace_forward("lstm", _lstm_params(ex), np.array(ex["x"])[:, None],
                         (np.array([ex["h0"]]), np.array([ex["C0"]])))


def ex21(precision=4) -> Document:
    p = precision
    doc = Document("tp-2.1", say("TP, exercise 2.1: a one-neuron LSTM, three steps",
                                  "TP, exercice 2.1 : un LSTM à un neurone, trois pas"), precision=p)
    trace = ex21_trace()
    s1 = trace.steps[0].values
    doc.data = {k: trace.series(k)[:, 0] for k in trace.steps[0].values}
    doc.add(Formula(say(LSTM_EQUATIONS, LSTM_EQUATIONS_FR)),
            Text(say("Each W has two columns, over `[h_{t-1}, x_t]`. At t = 1 the concatenated input is "
                     "`[h_0, x_1] = [0.0, 1.0]`, so only the second column counts, and `C_0 = 0` makes the "
                     f"forget gate irrelevant: `z_f = 0.2`, `f_1 = σ(0.2) = {fmt(s1['f'][0], p)}`; "
                     "`z_i = 0.0`, `i_1 = 0.5`; `z_C = 0.4`, "
                     f"`C̃_1 = tanh(0.4) = {fmt(s1['C_tilde'][0], p)}`; "
                     f"`C_1 = f_1 × 0 + 0.5 × {fmt(s1['C_tilde'][0], p)} = {fmt(s1['C'][0], p)}`; "
                     f"`z_o = 0.3`, `o_1 = {fmt(s1['o'][0], p)}`, "
                     f"`h_1 = o_1 × tanh(C_1) = {fmt(s1['h'][0], p)}`. Steps 2 and 3 repeat the same "
                     "computation with h_1, C_1 (then h_2, C_2) carried over.",
                     "Chaque W a deux colonnes, sur `[h_{t-1}, x_t]`. À t = 1 l'entrée concaténée est "
                     "`[h_0, x_1] = [0.0, 1.0]` : seule la seconde colonne compte, et `C_0 = 0` rend la "
                     f"porte d'oubli sans effet : `z_f = 0.2`, `f_1 = σ(0.2) = {fmt(s1['f'][0], p)}` ; "
                     "`z_i = 0.0`, `i_1 = 0.5` ; `z_C = 0.4`, "
                     f"`C̃_1 = tanh(0.4) = {fmt(s1['C_tilde'][0], p)}` ; "
                     f"`C_1 = f_1 × 0 + 0.5 × {fmt(s1['C_tilde'][0], p)} = {fmt(s1['C'][0], p)}` ; "
                     f"`z_o = 0.3`, `o_1 = {fmt(s1['o'][0], p)}`, "
                     f"`h_1 = o_1 × tanh(C_1) = {fmt(s1['h'][0], p)}`. Les pas 2 et 3 refont le même calcul "
                     "avec h_1, C_1 (puis h_2, C_2) reportés.")),
            TraceBlock(trace),
            Table(("t", "x_t", "f_t", "i_t", "C̃_t", "C_t", "o_t", "h_t"),
                  tuple((str(s.t), fmt(s.x[0], 1),
                         *(s.values[k][0] for k in ("f", "i", "C_tilde", "C", "o", "h")))
                        for s in trace.steps), say("Summary", "Récapitulatif")),
            Text(say("At t = 3 the input turns negative (x_3 = −0.3): the candidate C̃_3 = "
                     f"{fmt(trace.steps[2].values['C_tilde'][0], p)} is negative and, with f_3 = "
                     f"{fmt(trace.steps[2].values['f'][0], p)}, the cell state drops to C_3 = "
                     f"{fmt(trace.steps[2].values['C'][0], p)}.",
                     "À t = 3 l'entrée devient négative (x_3 = −0.3) : le candidat C̃_3 = "
                     f"{fmt(trace.steps[2].values['C_tilde'][0], p)} est négatif et, avec f_3 = "
                     f"{fmt(trace.steps[2].values['f'][0], p)}, l'état de cellule retombe à C_3 = "
                     f"{fmt(trace.steps[2].values['C'][0], p)}.")))
    return doc


def ex22_trace():
    ex = EX22
    return trace_forward("lstm", _lstm_params(ex), np.array(ex["x"])[:, None],
                         (np.array(ex["h0"]), np.array(ex["C0"])))


def ex22(precision=4) -> Document:
    p = precision
    doc = Document("tp-2.2", say("TP, exercise 2.2: a two-neuron LSTM", "TP, exercice 2.2 : un LSTM à deux "
                   "neurones"),
                   precision=p)
    trace = ex22_trace()
    v = trace.steps[0].values
    doc.data = {k: trace.series(k) for k in trace.steps[0].values}
    doc.add(Formula(say(LSTM_EQUATIONS, LSTM_EQUATIONS_FR)),
            Text(say("The matrices are 2×3 over `[h_1, h_2, x]`: row j gives neuron j. At t = 1, "
                     "`[h_0, x_1] = [0.1, -0.1, 0.8]`. The question asks for t = 1; t = 2 (x_2 = −0.2) "
                     "follows the same way and is shown too.",
                     "Les matrices sont 2×3 sur `[h_1, h_2, x]` : la ligne j donne le neurone j. À t = 1, "
                     "`[h_0, x_1] = [0.1, -0.1, 0.8]`. La question porte sur t = 1 ; t = 2 (x_2 = −0.2) suit "
                     "le même chemin et est montré aussi.")),
            TraceBlock(trace),
            Text(say(f"All values at t = 1: f_1 = {fmt_vector(v['f'], p)}, i_1 = {fmt_vector(v['i'], p)}, "
                     f"C̃_1 = {fmt_vector(v['C_tilde'], p)}, C_1 = {fmt_vector(v['C'], p)}, o_1 = "
                     f"{fmt_vector(v['o'], p)}, h_1 = {fmt_vector(v['h'], p)}. Neuron 1 keeps f_1[1] × "
                     f"C_0[1] = {fmt(v['f'][0] * EX22['C0'][0], p)} of its old memory; neuron 2 starts "
                     "from C_0[2] = 0.",
                     f"Toutes les valeurs à t = 1 : f_1 = {fmt_vector(v['f'], p)}, i_1 = "
                     f"{fmt_vector(v['i'], p)}, C̃_1 = {fmt_vector(v['C_tilde'], p)}, C_1 = "
                     f"{fmt_vector(v['C'], p)}, o_1 = {fmt_vector(v['o'], p)}, h_1 = "
                     f"{fmt_vector(v['h'], p)}. Le neurone 1 garde f_1[1] × C_0[1] = "
                     f"{fmt(v['f'][0] * EX22['C0'][0], p)} de sa mémoire ; le neurone 2 "
                     "part de C_0[2] = 0.")))
    return doc


# --- ex. 2.3 ------------------------------------------------------------------------------------


def state_jacobian(trace, t):
    """The full Jacobian ∂(h_t, C_t)/∂(h_{t-1}, C_{t-1}) at step t (2H × 2H), column by column from
    the core's step_backward (a row of ones at a time)."""
    H = trace.hidden_size
    cell = make_cell("lstm")
    W_hh = trace.params["weight_hh_l0"]
    rows = []
    for k in range(2 * H):
        e = np.zeros(2 * H)
        e[k] = 1.0
        _, _, (d_h, d_c) = cell.step_backward((e[None, :H], e[None, H:]), trace.tape.caches[t - 1], W_hh)
        rows.append(np.concatenate([d_h[0], d_c[0]]))
    return np.array(rows)  # row k: ∂(output k)/∂(previous state)


def ex23(precision=4) -> Document:
    p = precision
    doc = Document("tp-2.3", say("TP, exercise 2.3: gradient flow in the LSTM",
                                  "TP, exercice 2.3 : le flux du gradient dans le LSTM"), precision=p)
    f, n = EX23["f"], EX23["steps"]
    trace = ex21_trace()
    back = trace_backward(trace, d_h={1: [EX23["d_h1"]]})
    b1 = next(s for s in back.steps if s.t == 1).values
    later = ex21_trace()
    back2 = trace_backward(later, d_h={2: [EX23["d_h1"]]})
    jac = [state_jacobian(trace, t) for t in (1, 2, 3)]
    _, rnn_rows = ex12_numbers(k_max=n)
    doc.data = {"f_power": f ** n, "grads": back.grads, "grads_t2": back2.grads, "d_C1": b1["d_C"][0],
                "jacobians": jac}
    doc.add(Formula("C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t     ⇒     ∂C_t/∂C_{t-1} = f_t   "
                    + say("(h_{t-1} held fixed)", "(h_{t-1} fixé)") + "\n"
                    "∂L/∂W_f = Σ_t ∂L/∂f_t × σ'(z_f,t) × [h_{t-1}, x_t]"),
            Heading(say("1. Why does this gradient not vanish as in the RNN?",
                        "1. Pourquoi ce gradient ne disparaît-il pas comme dans le RNN ?")),
            Text(say("Along the cell state the step back is a plain elementwise product by f_t: no weight "
                     "matrix and no activation slope (the RNN multiplies by `diag(tanh') × W_hh` at every "
                     "step, 0.73 in ex. 1.2). The network sets f_t itself: when it learns f_t ≈ 1 the error "
                     "flows back unchanged over many steps (the 'constant error carousel'), and it can still "
                     "cut the flow where forgetting is useful. The other paths (through h_{t-1} and the "
                     "gates) do decay like an RNN's; the cell path is the one that does not have to.",
                     "Le long de l'état de cellule, un pas en arrière est un simple produit élément par "
                     "élément par f_t : aucune matrice de poids ni pente de la fonction d'activation (le RNN "
                     "multiplie à chaque pas par `diag(tanh') × W_hh`, 0.73 dans l'ex. 1.2). C'est le réseau "
                     "qui fixe f_t : s'il apprend f_t ≈ 1, l'erreur remonte intacte sur de nombreux pas (le "
                     "« carrousel d'erreur constante »), et il peut couper le flux là où oublier est utile. "
                     "Les autres chemins (par h_{t-1} et les portes) décroissent comme dans un RNN ; le "
                     "chemin de la cellule n'y est pas obligé.")),
            Heading(say("2. f_t = 0.9 for 10 steps", "2. f_t = 0.9 pendant 10 pas")),
            Text(say(f"`∂C_10/∂C_0 = 0.9^10 = {f ** n:.10f}`, about {fmt(f ** n, 2)}: a third of the "
                     f"gradient survives 10 steps, against {fmt(rnn_rows[n - 1]['spectral'], p)} for the RNN "
                     f"of ex. 1.2 ({fmt(f ** n / rnn_rows[n - 1]['spectral'], 1)} times more). It falls "
                     f"below 0.01 only after {math.ceil(math.log(0.01) / math.log(f))} steps (RNN: 15).",
                     f"`∂C_10/∂C_0 = 0.9^10 = {f ** n:.10f}`, environ {fmt(f ** n, 2)} : un tiers du "
                     f"gradient survit à 10 pas, contre {fmt(rnn_rows[n - 1]['spectral'], p)} pour le RNN de "
                     f"l'ex. 1.2 ({fmt(f ** n / rnn_rows[n - 1]['spectral'], 1)} fois plus). Il ne passe "
                     f"sous 0.01 qu'après {math.ceil(math.log(0.01) / math.log(f))} pas (RNN : 15).")),
            Heading(say("3. The condition to avoid the explosion",
                        "3. La condition pour éviter l'explosion")),
            Text(say("Along the cell path the factor is a product of forget gates, each in (0, 1): it can "
                     "never exceed 1, so that path cannot explode. The whole state Jacobian "
                     "`∂(h_t, C_t)/∂(h_{t-1}, C_{t-1})` also has the recurrent weights of the gates; the "
                     "gradient stays bounded when its norm stays ≤ 1 on average over the steps, i.e. "
                     "recurrent weights of moderate size. With the weights of ex. 2.1 its spectral norm is "
                     + ", ".join(f"{fmt(np.linalg.norm(J, 2), p)} (t = {t})" for t, J in zip((1, 2, 3), jac))
                     + ": far below 1. In practice one also clips the gradient's global norm.",
                     "Le long de la cellule le facteur est un produit de portes d'oubli, chacune dans "
                     "(0, 1) : il ne peut jamais dépasser 1, ce chemin ne peut pas exploser. La jacobienne "
                     "complète `∂(h_t, C_t)/∂(h_{t-1}, C_{t-1})` contient aussi les poids récurrents des "
                     "portes ; le gradient reste borné si sa norme reste ≤ 1 en moyenne sur les pas, donc "
                     "des poids récurrents de taille modérée. Avec les poids de l'ex. 2.1 sa "
                     "norme spectrale vaut "
                     + ", ".join(f"{fmt(np.linalg.norm(J, 2), p)} (t = {t})" for t, J in zip((1, 2, 3), jac))
                     + " : bien en dessous de 1. En pratique on écrête aussi la norme globale du gradient.")),
            Heading(say("∂L/∂W_f with the values of ex. 2.1 and ∂L/∂h_1 = 0.1",
                        "∂L/∂W_f avec les valeurs de l'ex. 2.1 et ∂L/∂h_1 = 0.1")),
            Text(say("The backward trace below starts from `∂L/∂h_1 = 0.1` (nothing at t = 2, 3, so those "
                     "steps carry zeros). "
                     f"`∂L/∂C_1 = 0.1 × o_1 × (1 − tanh²(C_1)) = {fmt(b1['d_C'][0], p)}`, then "
                     f"`∂L/∂f_1 = ∂L/∂C_1 × C_0 = {fmt(b1['d_C'][0], p)} × 0.0 = 0`: since C_0 = 0 the "
                     "forget gate had nothing to forget at t = 1, its value does not change C_1, and its "
                     f"weights get no gradient: `∂L/∂W_f = {fmt_vector(back.grads['W_f'][0], p)}`, "
                     f"`∂L/∂b_f = {fmt(back.grads['b_f'][0], p)}`. The other gates do receive one, e.g. "
                     f"`∂L/∂W_i = {fmt_vector(back.grads['W_i'][0], p)}` (first column 0 because h_0 = 0). "
                     "Had the loss been on h_2 instead (∂L/∂h_2 = 0.1), C_1 ≠ 0 and "
                     f"`∂L/∂W_f = {fmt_vector(back2.grads['W_f'][0], p)}`.",
                     "La trace arrière ci-dessous part de `∂L/∂h_1 = 0.1` (rien à t = 2, 3 : ces pas portent "
                     f"des zéros). `∂L/∂C_1 = 0.1 × o_1 × (1 − tanh²(C_1)) = {fmt(b1['d_C'][0], p)}`, puis "
                     f"`∂L/∂f_1 = ∂L/∂C_1 × C_0 = {fmt(b1['d_C'][0], p)} × 0.0 = 0` : comme C_0 = 0, la "
                     "porte d'oubli n'avait rien à oublier à t = 1, sa valeur ne change pas C_1, et ses "
                     "poids ne reçoivent aucun gradient : "
                     f"`∂L/∂W_f = {fmt_vector(back.grads['W_f'][0], p)}`, "
                     f"`∂L/∂b_f = {fmt(back.grads['b_f'][0], p)}`. Les autres portes en reçoivent un, par "
                     f"exemple `∂L/∂W_i = {fmt_vector(back.grads['W_i'][0], p)}` (première colonne nulle car "
                     "h_0 = 0). Si la perte portait sur h_2 (∂L/∂h_2 = 0.1), C_1 ≠ 0 et "
                     f"`∂L/∂W_f = {fmt_vector(back2.grads['W_f'][0], p)}`.")),
            TraceBlock(trace, say("Backward trace, ∂L/∂h_1 = 0.1", "Trace arrière, ∂L/∂h_1 = 0.1"),
                       forward=False))
    return doc
