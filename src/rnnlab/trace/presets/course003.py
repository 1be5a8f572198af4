"""The Notebook (« Build RNN from scratch », a character-level RNN in NumPy): its code run as is,
each error it stops on, and its BPTT checked against the loss it prints.

The Notebook's model reads a window of 5 characters and predicts the next one (many-to-one):

    h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),   y = softmax(W_hy h_T + b_y),   L = −log y[target]

:func:`notebook_backward` is the Notebook's ``backward_pass`` with only what stops it fixed (and
without its clipping and update, to compare gradients): ``every_output=True`` keeps its output
error at every step, as the Notebook writes it; ``False`` puts it at the last step only, where the
loss is. rnnlab's own BPTT (:func:`rnnlab.sequence.unroll_backward`) gives the reference.
"""

from __future__ import annotations

import numpy as np

from ...cells import make_cell
from ...i18n import say
from ...sequence import unroll, unroll_backward
from ..document import Document, Erratum, Formula, Table, Text

SENTENCE = "exemple de texte pour entraîner un RNN."  # the Notebook's own training text
SEQ_LENGTH, HIDDEN = 5, 50


def vocabulary(text=SENTENCE):
    """The Notebook's ``char_to_idx``: the sorted distinct characters."""
    return {ch: i for i, ch in enumerate(sorted(set(text)))}


def notebook_parameters(vocab_size, rng, hidden_size=HIDDEN, scale=0.01):
    """The Notebook's initialisation (step 3), from an explicit generator: W ~ N(0, scale²), biases 0."""
    return {"W_xh": rng.standard_normal((hidden_size, vocab_size)) * scale,
            "W_hh": rng.standard_normal((hidden_size, hidden_size)) * scale,
            "W_hy": rng.standard_normal((vocab_size, hidden_size)) * scale,
            "b_h": np.zeros((hidden_size, 1)), "b_y": np.zeros((vocab_size, 1))}


def notebook_forward(window, p, char_to_idx):
    """The Notebook's ``forward_pass`` (column vectors, ``hs[-1]`` the zero initial state)."""
    V = len(char_to_idx)
    h = np.zeros((p["W_hh"].shape[0], 1))
    hs, outputs = {-1: h}, []
    for t, ch in enumerate(window):
        x_t = np.eye(V)[char_to_idx[ch]].reshape(-1, 1)
        h = np.tanh(p["W_xh"] @ x_t + p["W_hh"] @ h + p["b_h"])
        hs[t] = h
        y_raw = p["W_hy"] @ h + p["b_y"]
        outputs.append(np.exp(y_raw) / np.sum(np.exp(y_raw)))
    return outputs, hs


def notebook_backward(window, targets, outputs, hs, p, char_to_idx, every_output=True):
    """The Notebook's ``backward_pass``, gradients only. ``targets`` holds one character per step
    when ``every_output`` (the Notebook's loop reads ``targets[t]``), else the one target of the
    window, whose error enters at the last step only."""
    V = len(char_to_idx)
    g = {k: np.zeros_like(v) for k, v in p.items()}
    dh_next = np.zeros_like(hs[0])
    T = len(window)
    for t in reversed(range(T)):
        dy = np.copy(outputs[t]) if every_output or t == T - 1 else np.zeros_like(outputs[t])
        if every_output or t == T - 1:
            dy[char_to_idx[targets[t] if every_output else targets]] -= 1
        g["W_hy"] += dy @ hs[t].T
        g["b_y"] += dy
        dh_raw = (1 - hs[t] ** 2) * (p["W_hy"].T @ dy + dh_next)
        g["W_xh"] += dh_raw @ np.eye(V)[char_to_idx[window[t]]].reshape(1, -1)
        g["W_hh"] += dh_raw @ hs[t - 1].T
        g["b_h"] += dh_raw
        dh_next = p["W_hh"].T @ dh_raw
    return g


def rnnlab_gradients(window, target, p, char_to_idx):
    """∂L/∂θ of the Notebook's loss L = −log y_T[target] by rnnlab's core BPTT (the reference)."""
    V = len(char_to_idx)
    x = np.eye(V)[[char_to_idx[ch] for ch in window]][:, None, :]  # (T, 1, V)
    h0 = np.zeros((1, p["W_hh"].shape[0]))
    _, (h_T,), tape = unroll(make_cell("rnn"), x, (h0,), p["W_xh"], p["W_hh"], p["b_h"][:, 0],
                          np.zeros_like(p["b_h"][:, 0]))
    logits = h_T[0] @ p["W_hy"].T + p["b_y"][:, 0]
    y = np.exp(logits - logits.max())
    y /= y.sum()
    d_logits = y - np.eye(V)[char_to_idx[target]]
    _, _, grads = unroll_backward(tape, None, (d_logits @ p["W_hy"],))
    return {"W_xh": grads["W_ih"], "W_hh": grads["W_hh"], "b_h": grads["b_ih"][:, None],
            "W_hy": np.outer(d_logits, h_T[0]), "b_y": d_logits[:, None],
            "loss": -np.log(y[char_to_idx[target]])}


def gradient_check(seed=0):
    """The first window of the sentence ('exemp' → 'l'): the Notebook's gradients (every output, and
    last output only) against rnnlab's, as the largest relative difference per parameter."""
    char_to_idx = vocabulary()
    window, target = SENTENCE[:SEQ_LENGTH], SENTENCE[SEQ_LENGTH]
    p = notebook_parameters(len(char_to_idx), np.random.default_rng(seed))
    outputs, hs = notebook_forward(window, p, char_to_idx)
    next_chars = SENTENCE[1:SEQ_LENGTH + 1]  # what targets[t] would have to be for the loop to run
    every = notebook_backward(window, next_chars, outputs, hs, p, char_to_idx, every_output=True)
    last = notebook_backward(window, target, outputs, hs, p, char_to_idx, every_output=False)
    ref = rnnlab_gradients(window, target, p, char_to_idx)

    def rel(a, b):
        return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))

    rows = [(k, rel(every[k], ref[k]), rel(last[k], ref[k])) for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")]
    loss = float(-np.log(outputs[-1][char_to_idx[target], 0]))
    return {"window": window, "target": target, "next_chars": next_chars, "rows": rows, "loss": loss,
            "loss_rnnlab": float(ref["loss"])}


# the Notebook's bugs, in the order a run meets them: (where, what it writes, correct, (why en, why fr))
NOTEBOOK_BUGS = (
    (("Notebook, train_rnn", "Notebook, train_rnn"), "W_xh, … = initialize_parameters(vocab_size)",
     "def initialize_parameters(vocab_size): … (the step-3 cell, as a function)",
     ("initialize_parameters is never defined: train_rnn stops at its first line with NameError (name "
      "'initialize_parameters' is not defined).",
      "initialize_parameters n'est jamais défini : train_rnn s'arrête dès sa première ligne sur NameError "
      "(name 'initialize_parameters' is not defined).")),
    (("Notebook, one-hot", "Notebook, one-hot"),
     "one_hot_dict(len(chars), chars)   # then one_hot_dict[char]",
     "one_hot = one_hot_dict(len(chars), chars), passed to forward_pass",
     ("The table is displayed, not kept: the name one_hot_dict is the function, and forward_pass's "
      "one_hot_dict[char] stops with TypeError ('function' object is not subscriptable).",
      "La table est affichée, pas gardée : le nom one_hot_dict désigne la fonction, et le one_hot_dict[char] "
      "de forward_pass s'arrête sur TypeError ('function' object is not subscriptable).")),
    (("Notebook, backward_pass, targets[t]", "Notebook, backward_pass, targets[t]"),
     "backward_pass(inputs[i], targets[i], …)   # reads targets[t] at every t",
     "the error y − onehot(targets[i]) at the last step only",
     ("targets[i] is one character; the loop starts at t = 4 and targets[4] stops with IndexError (string "
      "index out of range).",
      "targets[i] est un seul caractère ; la boucle commence à t = 4 et targets[4] s'arrête sur IndexError "
      "(string index out of range).")),
    (("Notebook, backward_pass, one-hot", "Notebook, backward_pass, one-hot"),
     "one_hot_dict[inputs[t]].reshape(1, -1)", "np.array(one_hot_dict[inputs[t]]).reshape(1, -1)",
     ("The table holds Python lists: .reshape stops with AttributeError ('list' object has no attribute "
      "'reshape').",
      "La table contient des listes Python : .reshape s'arrête sur AttributeError ('list' object has no "
      "attribute 'reshape').")),
)


def code(precision=4) -> Document:
    p = precision
    title = say("Notebook: its code run as is, and its BPTT checked",
                "Notebook : son code exécuté tel quel, et sa BPTT vérifiée")
    doc = Document("notebook-code", title, precision=p)
    check = gradient_check()
    doc.data = check
    every_max = max(r[1] for r in check["rows"])
    last_max = max(r[2] for r in check["rows"])
    doc.add(Formula("h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)      y = softmax(W_hy h_T + b_y)\n"
                    "L = −log y[target]      (train_rnn: loss += −log(outputs[-1][target_idx]))"),
            Text(say("The Notebook's steps 1 and 2 (vocabulary, windows) run. The rest stops on four errors, "
                     "met in this order when train_rnn is called; each one, what it breaks, and the smallest "
                     "fix:",
                     "Les étapes 1 et 2 du Notebook (vocabulaire, fenêtres) tournent. Le reste s'arrête sur "
                     "quatre erreurs, rencontrées dans cet ordre quand on appelle train_rnn ; chacune, ce "
                     "qu'elle casse, et la plus petite correction :")))
    for where, wrong, right, why in NOTEBOOK_BUGS:
        doc.add(Erratum(say(*where), wrong, right, say(*why)))
    doc.add(Text(say(f"With those fixed, the gradients can be compared. The loss train_rnn prints uses the "
                     f"last output only, but backward_pass adds an output error at every step. On the first "
                     f"window ('{check['window']}' → '{check['target']}', 50 hidden units, the Notebook's "
                     f"N(0, 0.01²) weights from a fixed generator), made to run by giving it the next "
                     f"character at every step ('{check['next_chars']}'), its gradients differ from those of "
                     f"its loss by up to {every_max:.2f} (relative); with the error at the last step only "
                     f"they agree with rnnlab's BPTT to {last_max:.1e}:",
                     f"Une fois celles-ci corrigées, on peut comparer les gradients. La perte qu'affiche "
                     f"train_rnn n'utilise que la dernière sortie, mais backward_pass ajoute une erreur de "
                     f"sortie à chaque pas. Sur la première fenêtre ('{check['window']}' → "
                     f"'{check['target']}', 50 neurones cachés, les poids N(0, 0.01²) du Notebook tirés d'un "
                     f"générateur fixé), exécutée en lui donnant le caractère suivant à chaque pas "
                     f"('{check['next_chars']}'), ses gradients diffèrent de ceux de sa perte jusqu'à "
                     f"{every_max:.2f} (en relatif) ; avec l'erreur au dernier pas seulement, ils concordent "
                     f"avec la BPTT de rnnlab à {last_max:.1e} près :")),
            Table((say("parameter", "paramètre"), say("every output (Notebook)", "chaque sortie (Notebook)"),
                   say("last output only", "dernière sortie seulement")),
                  tuple((k, f"{a:.2e}", f"{b:.2e}") for k, a, b in check["rows"]),
                  say("largest relative difference from rnnlab's gradient of L", "plus grand écart relatif "
                      "au gradient de L selon rnnlab")),
            Erratum(say("Notebook, backward_pass against train_rnn's loss", "Notebook, backward_pass contre "
                        "la perte de train_rnn"),
                    "loss = −log y_T[target];  backward: dy = y_t − onehot(targets[t]) at every t",
                    say("dy = y_T − onehot(target) at t = T only (0 before)", "dy = y_T − onehot(cible) à t "
                        "= T seulement (0 avant)"),
                    say(f"The gradient is not that of the loss printed: up to {every_max:.2f} relative "
                        f"difference on the first window. It is the gradient of another loss, Σ_t −log "
                        f"y_t[next character], a many-to-many model the Notebook does not train.",
                        f"Le gradient n'est pas celui de la perte affichée : jusqu'à {every_max:.2f} d'écart "
                        f"relatif sur la première fenêtre. C'est le gradient d'une autre perte, Σ_t −log "
                        f"y_t[caractère suivant], un modèle plusieurs-à-plusieurs que le Notebook n'entraîne "
                        f"pas.")))
    return doc
