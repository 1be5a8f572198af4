"""The Cours (« RNN », the lecture notes): the LSTM unit walked through with numbers, reproduced exactly,
with the lecture's rounded values beside the exact ones."""

from __future__ import annotations

import numpy as np

from ... import lstm_params_from_course
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
    params = lstm_params_from_course(**{k: u[k] for k in ("W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o")})
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
        rows.append((key, label, printed, exact[key], fmt(exact[key], decimals),
                     "✓" if agrees else say("✗ differs", "✗ diffère")))
    doc.data = {"exact": exact, "seed": {k: v for k, _, _, v, _ in SEED_PRINTS}}
    doc.add(Text(say("The notes walk one LSTM unit through with short-term memory (STM, h_{t-1}) = 1, long-term memory "
                     "(LTM, C_{t-1}) = 2 and input 1. In the course's notation these are one-neuron matrices over "
                     "`[h_{t-1}, x_t]`: `W_f = [2.7, 1.63], b_f = 1.62`, `W_i = [2.00, 1.65], b_i = 0.62`, "
                     "`W_C = [1.41, 0.94], b_C = -0.32`, `W_o = [4.38, -0.19], b_o = 0.59`. rnnlab runs that unit through "
                     "its LSTM cell and compares every printed number with the exact one.",
                     "Le cours déroule une unité LSTM avec mémoire à court terme (STM, h_{t-1}) = 1, mémoire à long "
                     "terme (LTM, C_{t-1}) = 2 et entrée 1. Dans la notation du cours ce sont des matrices à un neurone "
                     "sur `[h_{t-1}, x_t]` : `W_f = [2.7, 1.63], b_f = 1.62`, `W_i = [2.00, 1.65], b_i = 0.62`, "
                     "`W_C = [1.41, 0.94], b_C = -0.32`, `W_o = [4.38, -0.19], b_o = 0.59`. rnnlab fait passer cette unité "
                     "dans sa cellule LSTM et compare chaque nombre imprimé au nombre exact.")),
            TraceBlock(trace),
            Table((say("quantity", "grandeur"), say("as in the notes", "comme dans le cours"),
                   say("the Cours prints", "le Cours imprime"), say("exact", "exact"),
                   say("exact, at the Cours' precision", "exact, à la précision du Cours"), ""),
                  tuple(rows), say("The Cours' numbers beside the exact ones", "Les nombres du cours à côté "
                                   "des nombres exacts")),
            Text(say(f"The forget gate keeps f = {fmt(exact['f'], 5)} of the long-term memory: 2 × f = {fmt(exact['fC'], 4)} "
                     f"(the notes: 1.99). The new long-term memory is C = {fmt(exact['C'], 4)}, not 2.96, and the final "
                     f"short-term memory (the unit's output) is h = {fmt(exact['h'], 4)}, which rounds to 0.99, not 0.98.",
                     f"La porte d'oubli garde f = {fmt(exact['f'], 5)} de la mémoire à long terme : 2 × f = {fmt(exact['fC'], 4)} "
                     f"(le cours : 1,99). La nouvelle mémoire à long terme vaut C = {fmt(exact['C'], 4)}, pas 2,96, et la "
                     f"mémoire à court terme finale (la sortie de l'unité) vaut h = {fmt(exact['h'], 4)}, qui s'arrondit à "
                     f"0,99, pas 0,98.")),
            Formula("z_f = 2.7 + 1.63 + 1.62 = 5.95     f = σ(5.95)          C̃ = tanh(1.41 + 0.94 − 0.32)\n"
                    "i = σ(2 + 1.65 + 0.62 = 4.27)      C = 2 f + i C̃         h = σ(4.38 − 0.19 + 0.59) tanh(C)"),
            Erratum(say("Cours, Input Gate", "Cours, porte d'entrée (Input Gate)"), "σ(4.27) = 1.0",
                    f"σ(4.27) = {fmt(exact['i'], 4)}",
                    say("σ never reaches 1; rounded to two decimals it is 0.99. The notes then add the whole 0.97 as if "
                        f"i = 1; the input gate actually lets through i × C̃ = {fmt(exact['iC'], 4)}.",
                        "σ n'atteint jamais 1 ; à deux décimales il vaut 0,99. Le cours ajoute ensuite 0,97 entier comme si "
                        f"i = 1 ; la porte d'entrée laisse en fait passer i × C̃ = {fmt(exact['iC'], 4)}.")),
            Erratum(say("Cours, Update Gate", "Cours, mise à jour (Update Gate)"), "1.99 + 0.97 = 2.96",
                    f"C = {fmt(exact['fC'], 4)} + {fmt(exact['iC'], 4)} = {fmt(exact['C'], 4)} (2.95)",
                    say("The sum adds rounded terms and drops the input gate. (This step is not a gate: 'update gate' "
                        "is the GRU's z.)",
                        "La somme ajoute des termes arrondis et oublie la porte d'entrée. (Cette étape n'est pas une "
                        "porte : l'« update gate » est le z du GRU.)")),
            Erratum(say("Cours, Output Gate", "Cours, porte de sortie (Output Gate)"), "h = 0.98",
                    f"h = {fmt(exact['o'], 4)} × {fmt(exact['tanh_C'], 4)} = {fmt(exact['h'], 4)} (0.99)",
                    say("0.98 is 0.99 × 0.99 computed from rounded factors; the exact product rounds to 0.99. The notes "
                        "also write the input of σ as '4,78' (decimal comma) among decimal points.",
                        "0,98 est 0,99 × 0,99 calculé sur des facteurs arrondis ; le produit exact s'arrondit à 0,99. Le "
                        "cours écrit aussi l'entrée de σ « 4,78 » (virgule) au milieu de points décimaux.")),
            Erratum(say("Cours, Forget Gate, text", "Cours, porte d'oubli (Forget Gate), texte"),
                    say("for an input of −10 the sigmoid outputs 0", "pour une entrée de −10 la sigmoïde donne 0"),
                    f"σ(−10) = {1.0 / (1.0 + np.exp(10.0)):.2e}",
                    say("σ is never exactly 0 or 1: at −10 it keeps 0.005 % of the memory ('almost completely forgotten').",
                        "σ ne vaut jamais exactement 0 ni 1 : à −10 elle garde 0,005 % de la mémoire (« presque entièrement "
                        "oubliée »).")),
            Erratum(say("Cours, Input Gate, text", "Cours, porte d'entrée (Input Gate), texte"),
                    say("the tanh determines the proportion of the potential memory to add",
                        "la tanh détermine la proportion de cette mémoire potentielle à ajouter"),
                    say("the sigmoid (input gate i) determines the proportion; tanh makes the candidate C̃",
                        "la sigmoïde (porte d'entrée i) détermine la proportion ; tanh fabrique le candidat C̃"),
                    say("tanh outputs values in (−1, 1): the candidate; σ outputs a fraction in (0, 1): how much of it is kept.",
                        "tanh donne une valeur dans (−1, 1) : le candidat ; σ donne une fraction dans (0, 1) : la part gardée.")))
    return doc
