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

from functools import lru_cache

import numpy as np

from ...cells import make_cell
from ...i18n import say
from ...sequence import unroll, unroll_backward
from ..document import Document, Erratum, Formula, Heading, Table, Text, fmt

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


# the Notebook's bugs, in the order a run meets them: ((where en, fr), what it writes, (correct en, fr),
# (why en, fr))
NOTEBOOK_BUGS = (
    (("Notebook, train_rnn", "Notebook, train_rnn"), "W_xh, … = initialize_parameters(vocab_size)",
     ("def initialize_parameters(vocab_size): … (the step-3 cell, as a function)",
      "def initialize_parameters(vocab_size): … (la cellule de l'étape 3, en fonction)"),
     ("initialize_parameters is never defined: train_rnn stops at its first line with NameError (name "
      "'initialize_parameters' is not defined).",
      "initialize_parameters n'est jamais défini : train_rnn s'arrête dès sa première ligne sur NameError "
      "(« name 'initialize_parameters' is not defined »).")),
    (("Notebook, one-hot", "Notebook, vecteurs « one-hot »"),
     "one_hot_dict(len(chars), chars)   # then one_hot_dict[char]",
     ("one_hot = one_hot_dict(len(chars), chars), passed to forward_pass",
      "one_hot = one_hot_dict(len(chars), chars), passé à forward_pass"),
     ("The table is displayed, not kept: the name one_hot_dict is the function, and forward_pass's "
      "one_hot_dict[char] stops with TypeError ('function' object is not subscriptable).",
      "La table est affichée, pas gardée : le nom one_hot_dict désigne la fonction, et le one_hot_dict[char] "
      "de forward_pass s'arrête sur TypeError (« 'function' object is not subscriptable »).")),
    (("Notebook, backward_pass, targets[t]", "Notebook, backward_pass, targets[t]"),
     "backward_pass(inputs[i], targets[i], …)   # reads targets[t] at every t",
     ("the error y − onehot(targets[i]) at the last step only",
      "l'erreur y − onehot(targets[i]) au dernier pas seulement"),
     ("targets[i] is one character; the loop starts at t = 4 and targets[4] stops with IndexError (string "
      "index out of range).",
      "targets[i] est un seul caractère ; la boucle commence à t = 4 et targets[4] s'arrête sur IndexError "
      "(« string index out of range »).")),
    (("Notebook, backward_pass, one-hot", "Notebook, backward_pass, vecteurs « one-hot »"),
     "one_hot_dict[inputs[t]].reshape(1, -1)", ("np.array(one_hot_dict[inputs[t]]).reshape(1, -1)",) * 2,
     ("The table holds Python lists: .reshape stops with AttributeError ('list' object has no attribute "
      "'reshape').",
      "La table contient des listes Python : .reshape s'arrête sur AttributeError (« 'list' object has no "
      "attribute 'reshape' »).")),
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
        doc.add(Erratum(say(*where), wrong, say(*right), say(*why)))
    doc.add(Text(say(f"With those fixed, the gradients can be compared. The loss train_rnn prints uses the "
                     f"last output only, but backward_pass adds an output error at every step. On the first "
                     f"window ('{check['window']}' → '{check['target']}', 50 hidden units, the Notebook's "
                     f"N(0, 0.01²) weights from a fixed generator), made to run by giving it the next "
                     f"character at every step ('{check['next_chars']}'), its gradients differ from those of "
                     f"its loss by up to {every_max:.2f} (relative); with the error at the last step only "
                     f"they agree with rnnlab's BPTT to {last_max:.1e}:",
                     f"Une fois celles-ci corrigées, on peut comparer les gradients. La perte qu'affiche "
                     f"train_rnn n'utilise que la dernière sortie, mais backward_pass ajoute une erreur de "
                     f"sortie à chaque pas. Sur la première fenêtre ({_shown(check['window'])} → "
                     f"{_shown(check['target'])}, 50 neurones cachés, les poids N(0, 0.01²) du Notebook "
                     "tirés d'un "
                     f"générateur fixé), exécutée en lui donnant le caractère suivant à chaque pas "
                     f"({_shown(check['next_chars'])}), ses gradients diffèrent de ceux de sa perte jusqu'à "
                     f"{every_max:.2f} (en relatif) ; avec l'erreur au dernier pas seulement, ils concordent "
                     f"avec la BPTT de rnnlab à {last_max:.1e} près :")),
            Table((say("parameter", "paramètre"), say("every output (Notebook)", "chaque sortie (Notebook)"),
                   say("last output only", "dernière sortie seulement")),
                  tuple((k, f"{a:.2e}", f"{b:.2e}") for k, a, b in check["rows"]),
                  say("largest relative difference from rnnlab's gradient of L", "plus grand écart relatif "
                      "au gradient de L selon rnnlab")),
            Erratum(say("Notebook, backward_pass against train_rnn's loss", "Notebook, backward_pass contre "
                        "la perte de train_rnn"),
                    say("loss = −log y_T[target];  backward: dy = y_t − onehot(targets[t]) at every t",
                        "perte = −log y_T[cible] ; rétropropagation : dy = y_t − onehot(targets[t]) à "
                        "chaque t"),
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


# --- the Notebook's steps on its own sentence ------------------------------------------------------


def windows(text=SENTENCE, seq_length=SEQ_LENGTH):
    """The Notebook's step 2: every window of ``seq_length`` characters and the character after it."""
    return [text[i:i + seq_length] for i in range(len(text) - seq_length)], list(text[seq_length:])


def sgd_step(p, g, lr, clip=5.0):
    """The Notebook's update: each gradient coordinate clipped to [−clip, clip], then θ ← θ − lr ∂L/∂θ."""
    for k in p:
        p[k] -= lr * np.clip(g[k], -clip, clip)


def train(lr, epochs, seed=0, use_rnnlab=False):
    """The Notebook's ``train_rnn``, minimally corrected (its four errors fixed, the output error at
    the last step only), with its N(0, 0.01²) initialisation from ``seed``: the loss summed over the
    windows, epoch by epoch. ``use_rnnlab`` takes the gradients from rnnlab's BPTT instead."""
    char_to_idx = vocabulary()
    inputs, targets = windows()
    p = notebook_parameters(len(char_to_idx), np.random.default_rng(seed))
    losses = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(epochs):
            total = 0.0
            for window, target in zip(inputs, targets):
                outputs, hs = notebook_forward(window, p, char_to_idx)
                total += float(-np.log(outputs[-1][char_to_idx[target], 0]))
                g = (rnnlab_gradients(window, target, p, char_to_idx) if use_rnnlab else
                     notebook_backward(window, target, outputs, hs, p, char_to_idx, every_output=False))
                sgd_step(p, {k: g[k] for k in p}, lr)
            losses.append(total)
            if not np.isfinite(total):
                break
    return np.array(losses), p


def generate(p, start, length, char_to_idx):
    """The Notebook's ``generate_text``: greedy (argmax), one character at a time, the state carried."""
    idx_to_char = {i: ch for ch, i in char_to_idx.items()}
    V = len(char_to_idx)
    h = np.zeros((p["W_hh"].shape[0], 1))
    text, ch = start, start
    for _ in range(length):
        h = np.tanh(p["W_xh"] @ np.eye(V)[char_to_idx[ch]].reshape(-1, 1) + p["W_hh"] @ h + p["b_h"])
        y = p["W_hy"] @ h + p["b_y"]
        ch = idx_to_char[int(np.argmax(y))]
        text += ch
    return text


def _shown(ch) -> str:
    """A character or a window in quotes, so that a space is visible: ``' '`` in English, « ␣ » in
    French (which quotes with guillemets)."""
    return say(repr(ch), f"« {ch.replace(' ', '␣')} »")


def steps(precision=4) -> Document:
    p = precision
    doc = Document("notebook-steps", say("Notebook: its steps on its own sentence, from vocabulary to BPTT",
                                         "Notebook : ses étapes sur sa propre phrase, du vocabulaire à la "
                                         "BPTT"),
                   precision=p)
    char_to_idx = vocabulary()
    V = len(char_to_idx)
    inputs, targets = windows()
    window, target = inputs[0], targets[0]
    params = notebook_parameters(V, np.random.default_rng(0))
    outputs, hs = notebook_forward(window, params, char_to_idx)
    y = outputs[-1][:, 0]
    loss = float(-np.log(y[char_to_idx[target]]))
    grads = notebook_backward(window, target, outputs, hs, params, char_to_idx, every_output=False)
    ref = rnnlab_gradients(window, target, params, char_to_idx)
    top = np.argsort(-y)[:3]
    idx_to_char = {i: ch for ch, i in char_to_idx.items()}
    doc.data = {"char_to_idx": char_to_idx, "inputs": inputs, "targets": targets, "y": y, "loss": loss,
                "grads": grads, "rnnlab": ref}
    doc.add(Heading(say("1. Vocabulary", "1. Vocabulaire")),
            Text(say(f"`chars = sorted(set(text))` on \"{SENTENCE}\": {V} characters, indexed in sorting "
                     f"order (space and punctuation first, capitals before small letters, î last).",
                     f"`chars = sorted(set(text))` sur « {SENTENCE} » : {V} caractères, numérotés dans "
                     f"l'ordre du tri (espace et ponctuation d'abord, majuscules avant minuscules, î à la "
                     f"fin).")),
            Table((say("character", "caractère"), say("index", "indice")),
                  tuple((_shown(ch), str(i)) for ch, i in char_to_idx.items())),
            Heading(say("2. Windows", "2. Fenêtres")),
            Text(say(f"Every window of {SEQ_LENGTH} characters and the character after it: "
                     f"{len(inputs)} pairs (the sentence has {len(SENTENCE)} characters). The first five:",
                     f"Chaque fenêtre de {SEQ_LENGTH} caractères et le caractère qui la suit : {len(inputs)} "
                     f"paires (la phrase a {len(SENTENCE)} caractères). Les cinq premières :")),
            Table((say("input", "entrée"), say("target", "cible")),
                  tuple((_shown(a), _shown(b)) for a, b in zip(inputs[:5], targets[:5]))),
            Heading(say("3. One-hot", "3. Vecteurs « one-hot »")),
            Text(say(f"x_t = e_index: {V} zeros with a 1 at the character's index; 'e' (index "
                     f"{char_to_idx['e']}) is {np.eye(V, dtype=int)[char_to_idx['e']].tolist()}.",
                     f"x_t = e_indice : {V} zéros avec un 1 à l'indice du caractère ; « e » (indice "
                     f"{char_to_idx['e']}) vaut {np.eye(V, dtype=int)[char_to_idx['e']].tolist()}.")),
            Heading(say("4. Forward pass and loss", "4. Passe avant et perte")),
            Formula("h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),  h_0 = 0\n"
                    "y = softmax(W_hy h_T + b_y)      L = −log y[target]"),
            Text(say(f"On the first window '{window}' → '{target}', with the Notebook's weights N(0, 0.01²) "
                     f"({HIDDEN} hidden units, drawn from a fixed generator): the output is nearly uniform "
                     f"(1/{V} = {fmt(1 / V, p)}), so L = {fmt(loss, p)} ≈ ln {V} = {fmt(np.log(V), p)}.",
                     f"Sur la première fenêtre {_shown(window)} → {_shown(target)}, avec les poids "
                     "N(0, 0.01²) du "
                     f"Notebook ({HIDDEN} neurones cachés, tirés d'un générateur fixé) : la sortie est "
                     f"presque uniforme (1/{V} = {fmt(1 / V, p)}), donc L = {fmt(loss, p)} ≈ ln {V} = "
                     f"{fmt(np.log(V), p)}.")),
            Table((say("character", "caractère"), "y"),
                  tuple((_shown(idx_to_char[int(k)]), y[k]) for k in top)
                  + ((_shown(target) + say(" (target)", " (cible)"), y[char_to_idx[target]]),),
                  say("the three most probable characters, and the target", "les trois caractères les plus "
                      "probables, et la cible")),
            Heading(say("5. BPTT with clipping", "5. BPTT avec écrêtage")),
            Formula(say("∂L/∂z = y − onehot(target)   (at t = T only)",
                        "∂L/∂z = y − onehot(cible)   (à t = T seulement)")
                    + "\n∂L/∂h_t = W_hyᵀ ∂L/∂z [t = T] + W_hhᵀ ∂L/∂a_{t+1},   "
                    "∂L/∂a_t = (1 − h_t²) ⊙ ∂L/∂h_t\n∂L/∂W_xh = Σ_t ∂L/∂a_t x_tᵀ,   "
                    "∂L/∂W_hh = Σ_t ∂L/∂a_t h_{t-1}ᵀ,   ∂L/∂b_h = Σ_t ∂L/∂a_t\n"
                    + say("clip: each coordinate to [−5, 5];   θ ← θ − lr ∂L/∂θ",
                          "écrêtage : chaque coordonnée dans [−5, 5] ;   θ ← θ − lr ∂L/∂θ")),
            Table((say("parameter", "paramètre"), "max |∂L/∂θ|", say("clipped coordinates", "coordonnées "
                       "écrêtées"),
                   say("difference from rnnlab", "écart à rnnlab")),
                  tuple((k, float(np.abs(grads[k]).max()), str(int((np.abs(grads[k]) > 5).sum())),
                         f"{float(np.abs(grads[k] - ref[k]).max()):.1e}") for k in params)),
            Text(say("At this initialisation the gradients are far below 5: clipping changes nothing. It "
                     "acts only when the weights have grown (see notebook-training), and then coordinate by "
                     "coordinate, which bends the gradient's direction; clipping the global norm (rnnlab's "
                     "clip_grad_norm) keeps it.",
                     "À cette initialisation les gradients sont bien en dessous de 5 : l'écrêtage ne change "
                     "rien. Il n'agit que lorsque les poids ont grandi (voir notebook-training), et alors "
                     "coordonnée par coordonnée, ce qui tord la direction du gradient ; écrêter la norme "
                     "globale (clip_grad_norm de rnnlab) la conserve.")))
    return doc


RATES = (0.01, 0.03, 0.05, 0.1, 0.3, 1.0, 10.0)  # the learning rates tried
EPOCHS = 100


def verdict(losses) -> str:
    """'converges' (the last epoch's loss below 5 % of the first's), 'diverges' (above the first's, or
    not finite) or 'slow' (in between)."""
    if not np.all(np.isfinite(losses)) or losses[-1] > losses[0]:
        return "diverges"
    return "converges" if losses[-1] < 0.05 * losses[0] else "slow"


def generate_sliding(p, start, length, char_to_idx, seq_length=SEQ_LENGTH):
    """Greedy generation as the model was trained: each character predicted from the last
    ``seq_length`` characters, read from a zero state."""
    idx_to_char = {i: ch for ch, i in char_to_idx.items()}
    text = start
    for _ in range(length):
        outputs, _ = notebook_forward(text[-seq_length:], p, char_to_idx)
        text += idx_to_char[int(np.argmax(outputs[-1]))]
    return text


@lru_cache(maxsize=2)
def training_numbers(rates=RATES, epochs=EPOCHS, seed=0, best=0.05):
    """Everything the training preset reports (computed once): the loss by epoch at each learning
    rate, the largest loss difference between the Notebook's gradients and rnnlab's over 20 epochs,
    and what the model trained at ``best`` predicts and generates."""
    sweep = {lr: train(lr, epochs, seed)[0] for lr in rates}
    ours, _ = train(best, 20, seed)
    theirs, _ = train(best, 20, seed, use_rnnlab=True)
    _, trained = train(best, epochs, seed)
    char_to_idx = vocabulary()
    inputs, targets = windows()
    right = sum(int(np.argmax(notebook_forward(w, trained, char_to_idx)[0][-1])) == char_to_idx[t]
                for w, t in zip(inputs, targets))
    n = len(SENTENCE) - SEQ_LENGTH
    return {"sweep": sweep, "verdicts": {lr: verdict(v) for lr, v in sweep.items()}, "best": best,
            "notebook_vs_rnnlab": float(np.abs(ours - theirs).max()), "right": right,
            "greedy": generate(trained, SENTENCE[0], len(SENTENCE) - 1, char_to_idx),
            "sliding": generate_sliding(trained, SENTENCE[:SEQ_LENGTH], n, char_to_idx)}


def training(precision=4) -> Document:
    title = say("Notebook: training its corrected code, learning rates and generation",
                "Notebook : entraîner son code corrigé, taux d'apprentissage et génération")
    doc = Document("notebook-training", title, precision=precision)
    d = training_numbers()
    doc.data = d
    sweep, inputs = d["sweep"], windows()[0]
    words = {"converges": say("converges", "converge"), "diverges": say("diverges", "diverge"),
             "slow": say("slow", "lent")}
    rows = tuple((f"{lr:g}", fmt(v[0], 2), str(len(v)), fmt(v[-1], 2) if np.isfinite(v[-1]) else "inf",
                  fmt(np.nanmin(v), 2) if np.isfinite(np.nanmin(v)) else "inf", words[d["verdicts"][lr]])
                 for lr, v in sweep.items())
    fell = [(lr, float(np.min(v))) for lr, v in sweep.items()
            if d["verdicts"][lr] == "diverges" and np.isfinite(v).all() and np.min(v) < v[0]]
    fell_en = ", ".join(f"{fmt(m, 2)} at {lr:g}" for lr, m in fell)
    fell_fr = ", ".join(f"{fmt(m, 2)} à {lr:g}" for lr, m in fell)
    slow = [f"{lr:g}" for lr in sweep if d["verdicts"][lr] == "slow"]
    good = [f"{lr:g}" for lr in sweep if d["verdicts"][lr] == "converges"]
    bad = [lr for lr in sweep if d["verdicts"][lr] == "diverges"]
    overflow = [f"{lr:g}" for lr in bad if not np.isfinite(sweep[lr]).all()]
    doc.add(Text(say(f"The Notebook's train_rnn with its four errors fixed and the output error at the last "
                     f"step only: {len(inputs)} windows per epoch, one plain SGD step per window, each "
                     f"gradient coordinate clipped to [−5, 5], the weights drawn N(0, 0.01²) from a fixed "
                     f"generator. The loss is summed over the windows, as train_rnn prints it: ln 17 per "
                     f"window at the start, {fmt(sweep[RATES[0]][0], 2)} in all. A rate converges when the "
                     f"last epoch's loss is below 5 % of the first's, diverges when it ends above the "
                     f"first's (or is not finite).",
                     f"Le train_rnn du Notebook, ses quatre erreurs corrigées et l'erreur de sortie au "
                     f"dernier pas seulement : {len(inputs)} fenêtres par époque, un pas de SGD simple par "
                     f"fenêtre, chaque coordonnée du gradient écrêtée à [−5, 5], les poids tirés N(0, 0.01²) "
                     f"d'un générateur fixé. La perte est sommée sur les fenêtres, comme l'affiche train_rnn "
                     f": ln 17 par fenêtre au départ, {fmt(sweep[RATES[0]][0], 2)} en tout. Un taux converge "
                     f"quand la perte de la dernière époque est sous 5 % de celle de la première, diverge "
                     f"quand elle finit au-dessus (ou n'est pas finie).")),
            Table((say("learning rate", "taux d'apprentissage"), say("loss, epoch 1", "perte, époque 1"),
                   say("epochs run", "époques faites"), say("last loss", "dernière perte"),
                   say("lowest loss", "plus basse perte"), say("verdict", "verdict")), rows,
                  say(f"{EPOCHS} epochs at each learning rate (stopped at a non-finite loss)",
                      f"{EPOCHS} époques à chaque taux (arrêt à une perte non finie)")),
            Text(say(f"Converges at {', '.join(good)}; too slow for {EPOCHS} epochs at "
                     f"{', '.join(slow) or '—'}; diverges from {bad[0]:g} on: one step per window is then "
                     f"too large, the loss may fall first ({fell_en}) but ends above its start (the clipping "
                     f"keeps the steps finite, not small); at {', '.join(overflow) or '—'} the first epoch's "
                     f"loss is infinite (the Notebook's softmax, without subtracting the largest score, "
                     f"overflows). With rnnlab's BPTT for the gradients the same training gives the same "
                     f"losses to {d['notebook_vs_rnnlab']:.1e} over 20 epochs at {d['best']:g}.",
                     f"Converge à {', '.join(good)} ; trop lent en {EPOCHS} époques à "
                     f"{', '.join(slow) or '—'} ; diverge à partir de {bad[0]:g} : un pas par fenêtre est "
                     f"alors trop grand, la perte peut d'abord baisser ({fell_fr}) mais finit au-dessus de "
                     f"son départ (l'écrêtage garde les pas finis, pas petits) ; à "
                     f"{', '.join(overflow) or '—'} la perte de la première époque est infinie (la softmax "
                     f"du Notebook, sans soustraire le plus grand score, déborde). Avec la BPTT de rnnlab "
                     f"pour les gradients, le même entraînement donne les mêmes pertes à "
                     f"{d['notebook_vs_rnnlab']:.1e} près sur 20 époques à {d['best']:g}.")),
            Heading(say("Generation", "Génération")),
            Text(say(f"Trained at {d['best']:g} for {EPOCHS} epochs, the model predicts the right next "
                     f"character for {d['right']} of the {len(inputs)} windows. The Notebook's "
                     f"generate_text, greedy from 'e' and fed one character at a time with its state carried "
                     f"over, writes {_shown(d['greedy'])}: the model was trained on windows of 5 characters "
                     f"read from a zero state, not on a state carried over a whole text, so after a few "
                     f"characters it drifts. Predicting each character from the last 5, as in training, "
                     f"writes {_shown(d['sliding'])}.",
                     f"Entraîné à {d['best']:g} pendant {EPOCHS} époques, le modèle prédit le bon caractère "
                     f"suivant pour {d['right']} des {len(inputs)} fenêtres. Le generate_text du Notebook, "
                     "glouton à partir de « e » et nourri un caractère à la fois avec son état reporté, "
                     "écrit "
                     f"{_shown(d['greedy'])} : le modèle a été entraîné sur des fenêtres de 5 caractères "
                     f"lues depuis un état nul, pas sur un état reporté le long d'un texte, donc après "
                     f"quelques caractères il dérive. Prédire chaque caractère à partir des 5 derniers, "
                     f"comme à l'entraînement, écrit {_shown(d['sliding'])}.")))
    return doc
