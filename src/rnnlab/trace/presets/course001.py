"""The Cours (« RNN », the lecture notes): the LSTM unit walked through with numbers, reproduced exactly,
with the lecture's rounded values beside the exact ones."""

from __future__ import annotations

import numpy as np

from ... import lstm_params_from_course
from ...functional import sigmoid
from ...i18n import say
from ..document import Document, Erratum, Formula, Table, Text, TraceBlock, fmt
from ..record import trace_forward

# STM = short-term memory h_{t-1}, LTM = long-term memory C_{t-1}; weights (STM, input), bias
UNIT = dict(h0=1.0, C0=2.0, x=1.0, W_f=[2.7, 1.63], b_f=1.62, W_i=[2.00, 1.65], b_i=0.62,
            W_C=[1.41, 0.94], b_C=-0.32, W_o=[4.38, -0.19], b_o=0.59)

# what the lecture prints, at its own precision: (key, label, printed text, printed value, decimals)
SEED_PRINTS = (
    ("z_f", "STM × 2.7 + input × 1.63 + 1.62", "5.95", 5.95, 2),
    ("f", "σ(5.95)", "0.997", 0.997, 3),
    ("fC", "LTM × f = 2 × f", "1.99", 1.99, 2),
    ("z_C", "1 × 1.41 + 1 × 0.94 − 0.32", "2.03", 2.03, 2),
    ("C_tilde", "tanh(2.03)", "0.97", 0.97, 2),
    ("z_i", "1 × 2 + 1 × 1.65 + 0.62", "4.27", 4.27, 2),
    ("i", "σ(4.27)", "1.0", 1.0, 2),
    ("iC", "i × C̃", "0.97", 0.97, 2),
    ("C", "1.99 + 0.97", "2.96", 2.96, 2),
    ("tanh_C", "tanh(C)", "0.99", 0.99, 2),
    ("z_o", "1 × 4.38 + 1 × (−0.19) + 0.59", "4,78", 4.78, 2),
    ("o", "σ(4.78)", "0.99", 0.99, 2),
    ("h", "o × tanh(C)", "0.98", 0.98, 2),
)


def unit_trace():
    u = UNIT
    names = ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o")
    params = lstm_params_from_course(**{k: u[k] for k in names})
    return trace_forward("lstm", params, np.array([[u["x"]]]), (np.array([u["h0"]]), np.array([u["C0"]])))


def exact_values(trace) -> dict:
    v = {k: float(val[0]) for k, val in trace.steps[0].values.items()}
    v["fC"] = v["f"] * UNIT["C0"]
    v["iC"] = v["i"] * v["C_tilde"]
    return v


def lstm_unit(precision=4) -> Document:
    p = precision
    doc = Document("cours-lstm", say("Cours: the LSTM unit of the lecture notes, exactly",
                                     "Cours : l'unité LSTM du cours, exactement"), precision=p)
    trace = unit_trace()
    exact = exact_values(trace)
    rows = []
    for key, label, printed, value, decimals in SEED_PRINTS:
        agrees = round(exact[key], decimals) == round(value, decimals)
        # French quotes what the lecture printed (its 4,78 among decimal points included)
        rows.append((key, say(label, label.replace("input", "entrée")), say(printed, f"« {printed} »"),
                     exact[key], fmt(exact[key], decimals),
                     "✓" if agrees else say("✗ differs", "✗ diffère")))
    doc.data = {"exact": exact, "seed": {k: v for k, _, _, v, _ in SEED_PRINTS}}
    doc.add(Text(say("The notes walk one LSTM unit through with short-term memory (STM, h_{t-1}) = 1, "
                     "long-term memory (LTM, C_{t-1}) = 2 and input 1. In the course's notation these are "
                     "one-neuron matrices over `[h_{t-1}, x_t]`: `W_f = [2.7, 1.63], b_f = 1.62`, "
                     "`W_i = [2.00, 1.65], b_i = 0.62`, `W_C = [1.41, 0.94], b_C = -0.32`, "
                     "`W_o = [4.38, -0.19], b_o = 0.59`. rnnlab runs that unit through its LSTM cell and "
                     "compares every printed number with the exact one.",
                     "Le cours déroule une unité LSTM avec mémoire à court terme (STM, h_{t-1}) = 1, mémoire "
                     "à long terme (LTM, C_{t-1}) = 2 et entrée 1. Dans la notation du cours ce sont des "
                     "matrices à un neurone sur `[h_{t-1}, x_t]` : `W_f = [2.7, 1.63], b_f = 1.62`, "
                     "`W_i = [2.00, 1.65], b_i = 0.62`, `W_C = [1.41, 0.94], b_C = -0.32`, "
                     "`W_o = [4.38, -0.19], b_o = 0.59`. rnnlab fait passer cette unité dans sa cellule LSTM "
                     "et compare chaque nombre imprimé au nombre exact.")),
            TraceBlock(trace),
            Table((say("quantity", "grandeur"), say("as in the notes", "comme dans le cours"),
                   say("the Cours prints", "le Cours imprime"), say("exact", "exact"),
                   say("exact, at the Cours' precision", "exact, à la précision du Cours"), ""),
                  tuple(rows), say("The Cours' numbers beside the exact ones", "Les nombres du cours à côté "
                                   "des nombres exacts")),
            Text(say(f"The forget gate keeps f = {fmt(exact['f'], 5)} of the long-term memory: 2 × f = "
                     f"{fmt(exact['fC'], 4)} (the notes: 1.99). The new long-term memory is C = "
                     f"{fmt(exact['C'], 4)}, not 2.96, and the final short-term memory (the unit's output) "
                     f"is h = {fmt(exact['h'], 4)}, which rounds to 0.99, not 0.98.",
                     f"La porte d'oubli garde f = {fmt(exact['f'], 5)} de la mémoire à long terme : 2 × f = "
                     f"{fmt(exact['fC'], 4)} (le cours : 1.99). La nouvelle mémoire à long terme vaut C = "
                     f"{fmt(exact['C'], 4)}, pas 2.96, et la mémoire à court terme finale (la sortie de "
                     f"l'unité) vaut h = {fmt(exact['h'], 4)}, qui s'arrondit à 0.99, pas 0.98.")),
            Formula("z_f = 2.7 + 1.63 + 1.62 = 5.95     f = σ(5.95)          C̃ = tanh(1.41 + 0.94 − 0.32)\n"
                    "i = σ(2 + 1.65 + 0.62 = 4.27)      C = 2 f + i C̃         "
                    "h = σ(4.38 − 0.19 + 0.59) tanh(C)"),
            Erratum(say("Cours, Input Gate", "Cours, porte d'entrée (« Input Gate »)"), "σ(4.27) = 1.0",
                    f"σ(4.27) = {fmt(exact['i'], 4)}",
                    say("σ never reaches 1; rounded to two decimals it is 0.99. The notes then add the whole "
                        "0.97 as if i = 1; the input gate actually lets through i × C̃ = "
                        f"{fmt(exact['iC'], 4)}.",
                        "σ n'atteint jamais 1 ; à deux décimales il vaut 0.99. Le cours ajoute ensuite 0.97 "
                        "entier comme si i = 1 ; la porte d'entrée laisse en fait passer i × C̃ = "
                        f"{fmt(exact['iC'], 4)}.")),
            Erratum(say("Cours, Update Gate", "Cours, mise à jour (« Update Gate »)"), "1.99 + 0.97 = 2.96",
                    f"C = {fmt(exact['fC'], 4)} + {fmt(exact['iC'], 4)} = {fmt(exact['C'], 4)} (2.95)",
                    say("The sum adds rounded terms and drops the input gate. (This step is not a gate: "
                        "'update gate' is the GRU's z.)",
                        "La somme ajoute des termes arrondis et oublie la porte d'entrée. (Cette étape n'est "
                        "pas une porte : l'« update gate » est le z du GRU.)")),
            Erratum(say("Cours, Output Gate", "Cours, porte de sortie (« Output Gate »)"), "h = 0.98",
                    f"h = {fmt(exact['o'], 4)} × {fmt(exact['tanh_C'], 4)} = {fmt(exact['h'], 4)} (0.99)",
                    say("0.98 is 0.99 × 0.99 computed from rounded factors; the exact product rounds to "
                        "0.99. The notes also write the input of σ as '4,78' (decimal comma) "
                        "among decimal points.",
                        "0.98 est 0.99 × 0.99 calculé sur des facteurs arrondis ; le produit exact "
                        "s'arrondit à 0.99. Le cours écrit aussi l'entrée de σ « 4,78 » (virgule) au milieu "
                        "de points décimaux.")),
            Erratum(say("Cours, Forget Gate, text", "Cours, porte d'oubli (« Forget Gate »), texte"),
                    say("for an input of −10 the sigmoid outputs 0",
                        "pour une entrée de −10 la sigmoïde donne 0"),
                    f"σ(−10) = {1.0 / (1.0 + np.exp(10.0)):.2e}",
                    say("σ is never exactly 0 or 1: at −10 it keeps 0.005 % of the memory ('almost "
                        "completely forgotten').",
                        "σ ne vaut jamais exactement 0 ni 1 : à −10 elle garde 0.005 % de la mémoire "
                        "(« presque entièrement oubliée »).")),
            Erratum(say("Cours, Input Gate, text", "Cours, porte d'entrée (« Input Gate »), texte"),
                    say("the tanh determines the proportion of the potential memory to add",
                        "la tanh détermine la proportion de cette mémoire potentielle à ajouter"),
                    say("the sigmoid (input gate i) determines the proportion; tanh makes the candidate C̃",
                        "la sigmoïde (porte d'entrée i) détermine la proportion ; tanh "
                        "fabrique le candidat C̃"),
                    say("tanh outputs values in (−1, 1): the candidate; σ outputs a fraction in (0, 1): how "
                        "much of it is kept.",
                        "tanh donne une valeur dans (−1, 1) : le candidat ; σ donne une fraction dans "
                        "(0, 1) : la part gardée.")))
    return doc


# --- the unit unrolled over four days (the Cours' closing figure) -------------------------------

# the figure's two sequences: the same days 2–4, a different day 1; both start from h_0 = C_0 = 0
DAYS = {"A": [0.0, 0.5, 0.25, 1.0], "B": [1.0, 0.5, 0.25, 1.0]}


def days_trace(values):
    """The Cours' LSTM unit (its weights, zero initial state) over the days ``values``."""
    params = unit_trace().params
    return trace_forward("lstm", params, np.array(values)[:, None], (np.zeros(1), np.zeros(1)))


def days(precision=4) -> Document:
    p = precision
    title = say("Cours: the LSTM unit over four days, predicting day 5",
                "Cours : l'unité LSTM sur quatre jours, pour prédire le jour 5")
    doc = Document("cours-days", title, precision=p)
    traces = {name: days_trace(v) for name, v in DAYS.items()}
    h = {name: t.series("h")[:, 0] for name, t in traces.items()}
    C = {name: t.series("C")[:, 0] for name, t in traces.items()}
    f = {name: t.series("f")[:, 0] for name, t in traces.items()}
    doc.data = {"h": h, "C": C, "f": f, "prediction": {name: float(v[-1]) for name, v in h.items()}}
    doc.add(Text(say("The Cours closes by unrolling its LSTM unit over four days, with the same weights and "
                     "biases at every step (those of its worked unit), to predict day 5 as the last "
                     "short-term memory h_4. Its figure runs two sequences that differ only on day 1: A = "
                     "[0, 0.5, 0.25, 1] and B = [1, 0.5, 0.25, 1], both from h_0 = C_0 = 0.",
                     "Le Cours termine en déroulant son unité LSTM sur quatre jours, avec les mêmes poids et "
                     "biais à chaque pas (ceux de son unité détaillée), pour prédire le jour 5 comme "
                     "dernière mémoire à court terme h_4. Sa figure fait tourner deux séquences qui ne "
                     "diffèrent que par le jour 1 : A = [0, 0.5, 0.25, 1] et B = [1, 0.5, 0.25, 1], toutes "
                     "deux depuis h_0 = C_0 = 0.")),
            Table(("t", "x_t (A)", "C_t (A)", "h_t (A)", "x_t (B)", "C_t (B)", "h_t (B)"),
                  tuple((str(t + 1), fmt(DAYS["A"][t], 2), C["A"][t], h["A"][t],
                         fmt(DAYS["B"][t], 2), C["B"][t], h["B"][t]) for t in range(4)),
                  say("Long-term (C_t) and short-term (h_t) memory, day after day",
                      "Mémoire à long terme (C_t) et à court terme (h_t), jour après jour")),
            Text(say(f"Prediction for day 5: h_4 = {fmt(h['A'][-1], p)} for A (≈ 0) and {fmt(h['B'][-1], p)} "
                     f"for B (≈ 0.97). The whole difference comes from day 1, carried by the long-term "
                     f"memory. For A, x_1 = 0 leaves only the bias in the candidate, C̃_1 = tanh(−0.32) < 0: "
                     f"C_1 = {fmt(C['A'][0], p)}, and the memory stays negative through day 3 (C_3 = "
                     f"{fmt(C['A'][2], p)}); day 4's input adds about as much as that memory takes away, C_4 "
                     f"= {fmt(C['A'][-1], p)} and h_4 ≈ 0. For B, x_1 = 1 gives C̃_1 = tanh(0.94 − 0.32) > "
                     f"0: C_1 = {fmt(C['B'][0], p)}, which the forget gates keep (f_t ≥ "
                     f"{fmt(f['B'].min(), 2)}) and the next days add to: C_4 = {fmt(C['B'][-1], p)}, so h_4 "
                     f"= o_4 tanh(C_4) is close to 1. The same days 2–4 lead to opposite predictions because "
                     f"the unit remembers day 1.",
                     f"Prédiction du jour 5 : h_4 = {fmt(h['A'][-1], p)} pour A (≈ 0) et "
                     f"{fmt(h['B'][-1], p)} pour B (≈ 0.97). Toute la différence vient du jour 1, portée par "
                     f"la mémoire à long terme. Pour A, x_1 = 0 ne laisse que le biais dans le candidat, "
                     f"C̃_1 = tanh(−0.32) < 0 : C_1 = {fmt(C['A'][0], p)}, et la mémoire reste négative "
                     f"jusqu'au jour 3 (C_3 = {fmt(C['A'][2], p)}) ; l'entrée du jour 4 ajoute à peu près ce "
                     f"que cette mémoire retire, C_4 = {fmt(C['A'][-1], p)} et h_4 ≈ 0. Pour B, x_1 = 1 "
                     f"donne C̃_1 = tanh(0.94 − 0.32) > 0 : C_1 = {fmt(C['B'][0], p)}, que les portes "
                     f"d'oubli conservent (f_t ≥ {fmt(f['B'].min(), 2)}) et auquel les jours suivants "
                     f"s'ajoutent : C_4 = {fmt(C['B'][-1], p)}, donc h_4 = o_4 tanh(C_4) est proche de 1. "
                     f"Les mêmes jours 2 à 4 mènent à des prédictions opposées parce que l'unité se souvient "
                     f"du jour 1.")),
            TraceBlock(traces["A"], say("Sequence A, gate by gate", "Séquence A, porte par porte")),
            TraceBlock(traces["B"], say("Sequence B, gate by gate", "Séquence B, porte par porte")))
    return doc


# --- the backpropagation recap: w16, w7 and h4 ---------------------------------------------------

# The Cours' recap names O_in = … + w16·h4 + …, h4_in = … + w7·h1 + … and h1 = σ(x1·w1 + x2·w4), on a
# figure that is not in the text. The smallest network in which all three hold, weights numbered by
# their source neuron: inputs x1, x2 → h1, h2, h3 (w1…w6) → h4, h5, h6 (w7…w15) → O (w16…w18), sigmoid
# everywhere, no biases, E = (O_out − target)². The Cours gives no numbers: these are ours.
BACKPROP = dict(x=[1.0, 0.5], target=1.0,
                w=[0.2, -0.3, 0.4, 0.5, 0.1, -0.2,
                   0.3, 0.6, -0.1, -0.4, 0.2, 0.5, 0.7, -0.3, 0.1,
                   0.8, -0.5, 0.4])


def backprop_layers(w):
    """The three weight matrices of the recap's network from w1…w18 (row = target neuron)."""
    w = np.asarray(w, dtype=np.float64)
    W1 = w[0:6].reshape(2, 3).T  # h_j_in = x1 w_j + x2 w_{3+j}
    W2 = w[6:15].reshape(3, 3).T  # h_{3+k}_in = h1 w_{6+k} + h2 w_{9+k} + h3 w_{12+k}
    W3 = w[15:18].reshape(1, 3)  # O_in = h4 w16 + h5 w17 + h6 w18
    return W1, W2, W3


def backprop_numbers(x=None, target=None, w=None):
    """Forward values and the chain-rule factors of ∂E/∂w16, ∂E/∂w7 and ∂E/∂w1."""
    e = BACKPROP
    x = np.asarray(e["x"] if x is None else x, dtype=np.float64)
    target = e["target"] if target is None else target
    W1, W2, W3 = backprop_layers(e["w"] if w is None else w)
    a1 = W1 @ x
    h1 = sigmoid(a1)
    a2 = W2 @ h1
    h2 = sigmoid(a2)
    o_in = float((W3 @ h2)[0])
    o = float(sigmoid(np.array([o_in]))[0])
    d_o = 2.0 * (o - target)  # ∂E/∂O_out
    d_o_in = d_o * o * (1 - o)  # ∂E/∂O_in
    d_h2 = d_o_in * W3[0]  # ∂E/∂h4_out, ∂E/∂h5_out, ∂E/∂h6_out
    d_a2 = d_h2 * h2 * (1 - h2)
    d_h1 = W2.T @ d_a2  # ∂E/∂h1_out … (every path through the second layer)
    d_a1 = d_h1 * h1 * (1 - h1)
    return {"x": x, "a1": a1, "h1": h1, "a2": a2, "h2": h2, "o_in": o_in, "o": o, "E": (o - target) ** 2,
            "dE_do": d_o, "do_doin": o * (1 - o), "dE_dw16": d_o_in * h2[0],
            "dE_dh4": d_h2[0], "dh4_da4": h2[0] * (1 - h2[0]), "dE_dw7": d_a2[0] * h1[0],
            "dE_dh1": d_h1[0], "dh1_da1": h1[0] * (1 - h1[0]), "dE_dw1": d_a1[0] * x[0]}


def _op(v) -> str:
    """A given number as an operand: negative ones in parentheses."""
    return f"({v})" if v < 0 else f"{v}"


def _layer1(x, w, j) -> str:
    """``x1·w_j + x2·w_{j+3}`` with the numbers substituted (j from 0)."""
    return f"x1·w{j + 1} + x2·w{j + 4} = {x[0]}·{_op(w[j])} + {x[1]}·{_op(w[j + 3])}"


def backprop(precision=4) -> Document:
    p = precision
    title = say("Cours: the backpropagation recap, ∂E/∂w16 and ∂E/∂w7 step by step",
                "Cours : le rappel de rétropropagation, ∂E/∂w16 et ∂E/∂w7 pas à pas")
    doc = Document("cours-backprop", title, precision=p)
    n = backprop_numbers()
    e = BACKPROP
    w = e["w"]
    doc.data = n
    doc.add(Text(say("The Cours recalls backpropagation on a small network it draws: O_in = … + w16·h4 + …, "
                     "h4_in = … + w7·h1 + …, h1 = σ(x1·w1 + x2·w4), E = (output − target)². The smallest "
                     "network where all three hold numbers the weights by their source neuron: inputs x1, x2 "
                     "→ h1, h2, h3 (w1…w6) → h4, h5, h6 (w7…w15) → O (w16, w17, w18), sigmoid everywhere, no "
                     "biases. The Cours gives no numbers; these are ours:",
                     "Le Cours rappelle la rétropropagation sur un petit réseau qu'il dessine : O_in = … + "
                     "w16·h4 + …, h4_in = … + w7·h1 + …, h1 = σ(x1·w1 + x2·w4), E = (sortie − cible)². Le "
                     "plus petit réseau où les trois tiennent numérote les poids par leur neurone source : "
                     "entrées x1, x2 → h1, h2, h3 (w1…w6) → h4, h5, h6 (w7…w15) → O (w16, w17, w18), "
                     "sigmoïde partout, sans biais. Le Cours ne donne pas de nombres ; voici les nôtres :")),
            Formula(f"x1 = {e['x'][0]}, x2 = {e['x'][1]}, target = {e['target']}\n"
                    + ", ".join(f"w{k + 1} = {v}" for k, v in enumerate(w[:6])) + "\n"
                    + ", ".join(f"w{k + 7} = {v}" for k, v in enumerate(w[6:15])) + "\n"
                    + ", ".join(f"w{k + 16} = {v}" for k, v in enumerate(w[15:]))),
            Table((say("neuron", "neurone"), say("input (weighted sum)", "entrée (somme pondérée)"), "in",
                   "out = σ(in)"),
                  (("h1", _layer1(e["x"], w, 0), n["a1"][0], n["h1"][0]),
                   ("h2", _layer1(e["x"], w, 1), n["a1"][1], n["h1"][1]),
                   ("h3", _layer1(e["x"], w, 2), n["a1"][2], n["h1"][2]),
                   ("h4", "h1·w7 + h2·w10 + h3·w13", n["a2"][0], n["h2"][0]),
                   ("h5", "h1·w8 + h2·w11 + h3·w14", n["a2"][1], n["h2"][1]),
                   ("h6", "h1·w9 + h2·w12 + h3·w15", n["a2"][2], n["h2"][2]),
                   ("O", "h4·w16 + h5·w17 + h6·w18", n["o_in"], n["o"])),
                  say("Forward pass", "Passe avant")),
            Text(say(f"E = (O_out − target)² = ({fmt(n['o'], p)} − {e['target']})² = {fmt(n['E'], p)}.",
                     f"E = (O_out − cible)² = ({fmt(n['o'], p)} − {e['target']})² = {fmt(n['E'], p)}.")),
            Table((say("factor", "facteur"), say("formula", "formule"), say("value", "valeur")), (
                ("∂E/∂O_out", "2 (O_out − target)", n["dE_do"]),
                ("∂O_out/∂O_in", "σ'(O_in) = O_out (1 − O_out)", n["do_doin"]),
                ("∂O_in/∂w16", "h4", n["h2"][0]),
                ("∂E/∂w16", say("product of the three", "produit des trois"), n["dE_dw16"]),
                ("∂E/∂h4_out", "∂E/∂O_out × ∂O_out/∂O_in × w16", n["dE_dh4"]),
                ("∂h4_out/∂h4_in", "σ'(h4_in) = h4 (1 − h4)", n["dh4_da4"]),
                ("∂h4_in/∂w7", "h1", n["h1"][0]),
                ("∂E/∂w7", say("product of the three", "produit des trois"), n["dE_dw7"])),
                  say("The Cours' two chains", "Les deux chaînes du Cours")),
            Text(say(f"∂E/∂w16 = {fmt(n['dE_do'], p)} × {fmt(n['do_doin'], p)} × {fmt(n['h2'][0], p)} = "
                     f"{fmt(n['dE_dw16'], p)}: one σ' on the way. ∂E/∂w7 = {fmt(n['dE_dh4'], p)} × "
                     f"{fmt(n['dh4_da4'], p)} × {fmt(n['h1'][0], p)} = {fmt(n['dE_dw7'], p)}: two σ', each ≤ "
                     f"0.25. One layer further back, ∂E/∂w1 = {fmt(n['dE_dw1'], p)} (three σ', summed over "
                     f"the three paths through h4, h5, h6): the deeper the weight, the more factors ≤ 0.25 "
                     f"its gradient carries, which is the vanishing gradient the Cours turns to next.",
                     f"∂E/∂w16 = {fmt(n['dE_do'], p)} × {fmt(n['do_doin'], p)} × {fmt(n['h2'][0], p)} = "
                     f"{fmt(n['dE_dw16'], p)} : un σ' en chemin. ∂E/∂w7 = {fmt(n['dE_dh4'], p)} × "
                     f"{fmt(n['dh4_da4'], p)} × {fmt(n['h1'][0], p)} = {fmt(n['dE_dw7'], p)} : deux σ', "
                     f"chacun ≤ 0.25. Une couche plus loin, ∂E/∂w1 = {fmt(n['dE_dw1'], p)} (trois σ', sommés "
                     f"sur les trois chemins par h4, h5, h6) : plus le poids est profond, plus son gradient "
                     f"porte de facteurs ≤ 0.25 ; c'est le gradient qui disparaît, que le Cours aborde "
                     f"ensuite.")))
    return doc


# --- the architectures table ---------------------------------------------------------------------

# (architecture, the Cours' input, output and example in French and English, rnnlab's model)
ARCHITECTURES = (
    (("many-to-many", "plusieurs-à-plusieurs (« many-to-many »)"),
     ("a sequence", "une séquence"), ("a sequence", "une séquence"),
     ("predict the next words in a sentence", "Prédire les mots suivants dans une phrase"), "tagger"),
    (("many-to-one", "plusieurs-à-un (« many-to-one »)"),
     ("a sequence", "une séquence"), ("one output", "une seule sortie"),
     ("predict the next word in a sentence", "Prédire le prochain mot dans une phrase"), "classifier"),
    (("one-to-many", "un-à-plusieurs (« one-to-many »)"),
     ("one input", "une seule entrée"), ("a sequence", "une séquence"),
     ("generate a caption for an image", "Générer une légende pour une image"), "generator"),
    (("one-to-one", "un-à-un (« one-to-one »)"),
     ("one input", "une seule entrée"), ("one output", "une seule sortie"),
     ("classify a single image", "Classification d'image unique"), "linear"),
)


def architecture_shapes(B=2, T=6, D=8, H=16, K=5, steps=4, seed=0):
    """Run each architecture's model once: ``{kind: (input shape, output shape)}``, time-major."""
    from ...models import Linear
    from ...seqmodels import SeqModelConfig, build_model

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, D))
    shapes = {}
    for kind in ("tagger", "classifier"):
        model = build_model(SeqModelConfig(kind, D, H, K, cell="lstm"), dtype=np.float64, rng=rng)
        shapes[kind] = (x.shape, model.forward(x).shape)
    generator = build_model(SeqModelConfig("generator", D, H, K, cell="lstm"), dtype=np.float64, rng=rng)
    v = rng.standard_normal((B, D))
    shapes["generator"] = (v.shape, generator.generate(v, steps).shape)
    linear = Linear(D, K, dtype=np.float64, rng=rng)
    shapes["linear"] = (v.shape, linear.forward(v).shape)
    return shapes


def architectures(precision=4) -> Document:
    title = say("Cours: the four architectures, with the Cours' examples", "Cours : les quatre "
                "architectures, avec les exemples du Cours")
    doc = Document("cours-architectures", title, precision=precision)
    shapes = architecture_shapes()
    doc.data = {"shapes": shapes}
    models = {"tagger": "SequenceTagger", "classifier": "SequenceClassifier / SequenceRegressor",
              "generator": "SequenceGenerator",
              "linear": say("Linear (no recurrence)", "Linear (sans récurrence)")}
    rows = tuple((say(*name), say(*inp), say(*out), say(*example), models[kind],
                  f"{tuple(shapes[kind][0])} → {tuple(shapes[kind][1])}")
                 for name, inp, out, example, kind in ARCHITECTURES)
    doc.add(Text(say("The Cours lists four ways to arrange a recurrent network by what goes in and what "
                     "comes out, each with an example. rnnlab has a model for each (rnnlab.seqmodels); each "
                     "one is run here on a batch of B = 2 (time-major shapes: T = 6 steps, 8 input features, "
                     "5 outputs; the generator unrolls 4 steps from one vector):",
                     "Le Cours distingue quatre façons d'agencer un réseau récurrent selon ce qui entre et "
                     "ce qui sort, chacune avec un exemple. rnnlab a un modèle pour chacune "
                     "(rnnlab.seqmodels) ; chacun tourne ici sur un lot de B = 2 (formes en temps d'abord : "
                     "T = 6 pas, 8 caractéristiques d'entrée, 5 sorties ; le générateur déroule 4 pas à "
                     "partir d'un vecteur) :")),
            Table((say("architecture", "architecture"), say("input", "entrée"), say("output", "sortie"),
                   say("the Cours' example", "l'exemple du Cours"), say("rnnlab model", "modèle rnnlab"),
                   say("shapes, run", "formes, exécuté")), rows),
            Text(say("Predicting the next word is many-to-one when the model reads a whole sentence and "
                     "gives one word, many-to-many when it predicts after every word (the language model of "
                     "rnnlab train does the latter: one prediction per character). One-to-one has no "
                     "sequence: a recurrent cell run for one step from a zero state is a feed-forward layer.",
                     "Prédire le mot suivant est plusieurs-à-un quand le modèle lit une phrase entière et "
                     "donne un mot, plusieurs-à-plusieurs quand il prédit après chaque mot (le modèle de "
                     "langue de rnnlab train fait le second : une prédiction par caractère). Un-à-un n'a pas "
                     "de séquence : une cellule récurrente qui tourne un seul pas depuis un état nul est une "
                     "couche ordinaire.")))
    return doc
