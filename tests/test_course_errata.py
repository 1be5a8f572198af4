"""The course's errata, proved: each erratum about code is shown on the course's own code (copied
here verbatim from the documents: the project never reads them at run or test time), each
erratum about a formula is checked against an independent computation, and every format of
every exercise and of the errata list carries the same rows and numbers."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

from rnnlab.i18n import set_language
from rnnlab.trace.document import Erratum, Table, fmt
from rnnlab.trace.presets import ALIASES, PRESETS, build, errata
from rnnlab.trace.render import FORMATS, render
from rnnlab.trace.render.latex import tex_text

# --- the Notebook's code cells, verbatim ---------------------------------------------------------

NOTEBOOK_CODE = '''
text = "exemple de texte pour entraîner un RNN."  # Données
chars = sorted(list(set(text)))
char_to_idx = {ch: i for i, ch in enumerate(chars)}
idx_to_char = {i: ch for i, ch in enumerate(chars)}
char_to_idx

seq_length = 5  # Longueur de la séquence
inputs = []  # Contiendra les séquences d'entrée
targets = []  # Contiendra les sorties correspondantes

for i in range(len(text) - seq_length):
    inputs.append(text[i:i + seq_length])  # Séquence de 5 caractères
    targets.append(text[i + seq_length])  # Caractère suivant

# Exemple de résultat
print("Entrée:", inputs[:5])
print("Sortie:", targets[:5])

def one_hot_dict(vocab_size:int, chars:list):
    """One-hot encoding of a each character in the list."""
    dict_one = {}
    for i, char in enumerate(chars):
        encoding = [0] * vocab_size
        encoding[i] = 1
        dict_one[char] = encoding
    return dict_one

one_hot_dict(len(chars), chars)

import numpy as np

hidden_size = 50
vocab_size = len(chars)

# Initialisation des poids
W_xh = np.random.randn(hidden_size, vocab_size) * 0.01
W_hh = np.random.randn(hidden_size, hidden_size) * 0.01
W_hy = np.random.randn(vocab_size, hidden_size) * 0.01

# Initialisation des biais
b_h = np.zeros((hidden_size, 1))
b_y = np.zeros((vocab_size, 1))

# État caché initial
hprev = np.zeros((hidden_size, 1))

def forward_pass(inputs, hprev, W_xh, W_hh, W_hy, b_h, b_y, vocab_size, one_hot_dict):
    h = hprev  # État caché initial
    outputs = []  # Stocker les probabilités de sortie
    hs = {}  # Stocker les états cachés pour chaque étape
    hs[-1] = np.copy(h)  # État caché initial

    for t, char in enumerate(inputs):
        # Encoder le caractère en one-hot
        x_t = np.array(one_hot_dict[char]).reshape(-1, 1)

        # Calculer le nouvel état caché
        h = np.tanh(np.dot(W_xh, x_t) + np.dot(W_hh, h) + b_h)
        hs[t] = np.copy(h)

        # Calculer la sortie brute et appliquer softmax
        y_raw = np.dot(W_hy, h) + b_y
        y = np.exp(y_raw) / np.sum(np.exp(y_raw))  # Softmax
        outputs.append(y)

    return outputs, hs

def backward_pass(inputs, targets, outputs, hs, W_xh, W_hh, W_hy, b_h, b_y, vocab_size, one_hot_dict, learning_rate):
    # Initialiser les gradients
    dW_xh, dW_hh, dW_hy = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(W_hy)
    db_h, db_y = np.zeros_like(b_h), np.zeros_like(b_y)
    dh_next = np.zeros_like(hs[0])  # Gradient de l'état caché suivant

    # Boucle inverse (du dernier caractère au premier)
    for t in reversed(range(len(inputs))):
        # Calcul de l'erreur de sortie
        dy = np.copy(outputs[t])
        target_idx = char_to_idx[targets[t]]
        dy[target_idx] -= 1  # Gradient de la perte par rapport à la sortie

        # Gradient pour W_hy et b_y
        dW_hy += np.dot(dy, hs[t].T)
        db_y += dy

        # Gradient de l'état caché
        dh = np.dot(W_hy.T, dy) + dh_next  # Gradient total pour h_t
        dh_raw = (1 - hs[t] ** 2) * dh  # Gradient après tanh

        # Gradient pour W_xh, W_hh, et b_h
        dW_xh += np.dot(dh_raw, one_hot_dict[inputs[t]].reshape(1, -1))
        dW_hh += np.dot(dh_raw, hs[t - 1].T)
        db_h += dh_raw

        # Propager le gradient vers l'état caché précédent
        dh_next = np.dot(W_hh.T, dh_raw)

    # Clipping des gradients (pour éviter exploding gradients)
    for dparam in [dW_xh, dW_hh, dW_hy, db_h, db_y]:
        np.clip(dparam, -5, 5, out=dparam)

    # Mise à jour des paramètres
    W_xh -= learning_rate * dW_xh
    W_hh -= learning_rate * dW_hh
    W_hy -= learning_rate * dW_hy
    b_h -= learning_rate * db_h
    b_y -= learning_rate * db_y

    return W_xh, W_hh, W_hy, b_h, b_y

def train_rnn(inputs, targets, vocab_size, one_hot_dict, n_epochs, learning_rate):
    W_xh, W_hh, W_hy, b_h, b_y = initialize_parameters(vocab_size)  # Initialise les paramètres
    for epoch in range(n_epochs):
        loss = 0  # Pour suivre la perte de chaque époque
        hprev = np.zeros((hidden_size, 1))  # Réinitialise l'état caché pour chaque époque

        for i in range(len(inputs)):
            # Propagation avant
            outputs, hs = forward_pass(inputs[i], hprev, W_xh, W_hh, W_hy, b_h, b_y, vocab_size, one_hot_dict)

            # Calcul de la perte (entropie croisée)
            target_idx = char_to_idx[targets[i]]
            loss += -np.log(outputs[-1][target_idx])

            # Rétropropagation
            W_xh, W_hh, W_hy, b_h, b_y = backward_pass(inputs[i], targets[i], outputs, hs, W_xh, W_hh, W_hy, b_h, b_y, vocab_size, one_hot_dict, learning_rate)

        # Affichage de la perte à chaque époque
        print(f'Époque {epoch+1}/{n_epochs}, Perte : {loss}')

    return W_xh, W_hh, W_hy, b_h, b_y

def generate_text(start_char, length, W_xh, W_hh, W_hy, b_h, b_y, one_hot_dict, idx_to_char):
    hprev = np.zeros((hidden_size, 1))  # Initialisation de l'état caché
    generated_text = start_char  # Commencer avec le caractère initial

    for i in range(length):
        x_t = np.array(one_hot_dict[start_char]).reshape(-1, 1)  # Encoder le caractère initial
        h = np.tanh(np.dot(W_xh, x_t) + np.dot(W_hh, hprev) + b_h)  # Propagation avant

        # Calcul de la sortie et application de softmax
        y_raw = np.dot(W_hy, h) + b_y
        y = np.exp(y_raw) / np.sum(np.exp(y_raw))  # Softmax

        # Choisir le caractère suivant (maximum de la probabilité)
        next_char_idx = np.argmax(y)
        next_char = idx_to_char[next_char_idx]

        # Ajouter le caractère à la séquence générée
        generated_text += next_char
        start_char = next_char  # Utiliser le prochain caractère comme entrée pour la suivante génération
        hprev = h  # Mettre à jour l'état caché

    return generated_text
'''


# --- the TD's myRNN (exercise 2), verbatim (its cells joined into one class) -----------------------

TD_MY_RNN = """
class myRNN(nn.Module):
    def __init__(self, in_size, h_size, out_size):
        super().__init__()
        self.U = nn.Linear(in_size, h_size, bias=False)
        self.V = nn.Linear(h_size, out_size)
        self.W = nn.Linear(h_size, h_size)

    def forward(self, x):
        h = torch.zeros(self.h_size)
        T = x.size(-1)
        for t in range(T):
            h = torch.relu(self.V(x[:,t]) + self.W(h))
        y = torch.softmax(self.V(h, dim=-1))
        return y
"""


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language(None)


def erratum(doc, fragment):
    """The one erratum of ``doc`` whose 'what the document says' holds ``fragment``."""
    found = [e for e in doc.errata if fragment in e.seed_says]
    assert len(found) == 1, (fragment, [e.seed_says for e in doc.errata])
    return found[0]


def raised(call):
    with pytest.raises(Exception) as info:
        call()
    return info.value


# --- the Notebook ------------------------------------------------------------------------------


def notebook(capsys):
    ns = {}
    exec(NOTEBOOK_CODE, ns)
    capsys.readouterr()
    return ns


def test_notebook_errors_in_the_order_a_run_meets_them(capsys):
    doc = build("notebook-code")
    nb = notebook(capsys)
    def run(table):
        return nb["train_rnn"](nb["inputs"], nb["targets"], nb["vocab_size"], table, 1, 0.1)

    exc = raised(lambda: run(nb["one_hot_dict"]))
    assert isinstance(exc, NameError) and "initialize_parameters" in str(exc)
    why = erratum(doc, "initialize_parameters").why
    assert "NameError" in why and str(exc) in why

    # fix 1: the step-3 cell as a function
    nb["initialize_parameters"] = lambda V: (nb["W_xh"].copy(), nb["W_hh"].copy(), nb["W_hy"].copy(),
                                             nb["b_h"].copy(), nb["b_y"].copy())
    exc = raised(lambda: run(nb["one_hot_dict"]))
    assert isinstance(exc, TypeError) and str(exc) in erratum(doc, "one_hot_dict(len(chars)").why

    # fix 2: keep the table
    table = nb["one_hot_dict"](nb["vocab_size"], nb["chars"])
    exc = raised(lambda: run(table))
    assert isinstance(exc, IndexError) and str(exc) in erratum(doc, "targets[i]").why
    assert "IndexError" in erratum(doc, "targets[i]").why

    # given a target per step, the loop runs until the one-hot lists
    weights = [nb[k] for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")]
    outputs, hs = nb["forward_pass"](nb["inputs"][0], nb["hprev"], *weights, nb["vocab_size"], table)
    args = (outputs, hs, *(w.copy() for w in weights), nb["vocab_size"], table, 0.1)
    exc = raised(lambda: nb["backward_pass"](nb["inputs"][0], nb["inputs"][1], *args))
    assert isinstance(exc, AttributeError) and str(exc) in erratum(doc, ".reshape(1, -1)").why


def _notebook_loss(nb, table, window, target, p):
    outputs, _ = nb["forward_pass"](window, nb["hprev"], p["W_xh"], p["W_hh"], p["W_hy"], p["b_h"], p["b_y"],
                                    nb["vocab_size"], table)
    return float(-np.log(outputs[-1][nb["char_to_idx"][target], 0]))


def _finite_differences(f, p, eps=1e-5):
    grads = {}
    for name, value in p.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            keep = value[idx]
            value[idx] = keep + eps
            up = f(p)
            value[idx] = keep - eps
            down = f(p)
            value[idx] = keep
            g[idx] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def test_notebook_backward_is_not_the_gradient_of_its_loss(capsys):
    """The Notebook's own backward_pass (the four crashes fixed, nothing else), read off its update
    with learning rate 1, against central differences of the loss train_rnn prints."""
    from rnnlab.trace.presets import course003

    nb = notebook(capsys)
    lists = nb["one_hot_dict"](nb["vocab_size"], nb["chars"])
    table = {ch: np.array(v, dtype=np.float64) for ch, v in lists.items()}
    rng = np.random.default_rng(3)
    p = course003.notebook_parameters(nb["vocab_size"], rng, scale=0.3)  # gradients well above rounding
    window, target = nb["inputs"][0], nb["targets"][0]
    next_chars = nb["text"][1:6]
    names = ("W_xh", "W_hh", "W_hy", "b_h", "b_y")
    outputs, hs = nb["forward_pass"](window, nb["hprev"], *(p[k] for k in names), nb["vocab_size"], table)
    copies = (p[k].copy() for k in names)
    after = nb["backward_pass"](window, next_chars, outputs, hs, *copies, nb["vocab_size"], table, 1.0)
    theirs = {k: p[k] - a for k, a in zip(names, after)}
    assert max(np.abs(g).max() for g in theirs.values()) < 5  # the clipping did not act
    true = _finite_differences(lambda q: _notebook_loss(nb, table, window, target, q),
                               {k: v.copy() for k, v in p.items()})
    c2i = nb["char_to_idx"]
    ours_every = course003.notebook_backward(window, next_chars, outputs, hs, p, c2i, every_output=True)
    ours_last = course003.notebook_backward(window, target, outputs, hs, p, c2i, every_output=False)
    ref = course003.rnnlab_gradients(window, target, p, c2i)
    for k in theirs:
        scale = np.abs(true[k]).max()
        faithful = np.abs(ours_every[k] - theirs[k]).max() <= 1e-12 * max(1.0, np.abs(theirs[k]).max())
        assert faithful  # course003's copy of the Notebook's loop
        assert np.abs(theirs[k] - true[k]).max() > 0.5 * scale  # the erratum: not the loss's gradient
        assert np.abs(ours_last[k] - true[k]).max() <= 1e-6 * scale  # the fix
        assert np.abs(ref[k] - true[k]).max() <= 1e-6 * scale
    doc = build("notebook-code")
    worst = max(r[1] for r in doc.data["rows"])
    assert worst > 0.5 and max(r[2] for r in doc.data["rows"]) < 1e-12
    assert f"{worst:.2f}" in erratum(doc, "−log y_T").why


# --- the TD's myRNN ----------------------------------------------------------------------------


def _my_rnn(torch, code):
    ns = {"nn": torch.nn, "torch": torch}
    exec(code, ns)
    torch.manual_seed(0)
    return ns["myRNN"](7, 10, 3)


@pytest.fixture
def torch64(torch):
    """torch with float64 as its default dtype (the TD's torch.zeros then matches the input)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(default)


def test_td_my_rnn_errata_on_the_tds_code(torch64):
    torch = torch64
    doc = build("td-2")
    x = torch.randn(5, 13, 7, dtype=torch.float64)
    code = TD_MY_RNN
    exc = raised(lambda: _my_rnn(torch, code)(x))
    assert isinstance(exc, AttributeError) and "h_size" in str(exc)
    why = erratum(doc, "torch.zeros(self.h_size)").why
    assert "AttributeError" in why and str(exc) in why

    code = code.replace("        self.W = nn.Linear(h_size, h_size)\n",
                        "        self.W = nn.Linear(h_size, h_size)\n        self.h_size = h_size\n")
    exc = raised(lambda: _my_rnn(torch, code)(x))
    assert isinstance(exc, RuntimeError) and "(5x7 and 10x3)" in str(exc)
    why = erratum(doc, "self.V(x[:,t])").why
    assert "RuntimeError" in why and str(exc) in why

    code = code.replace("self.V(x[:,t])", "self.U(x[:,t])")
    exc = raised(lambda: _my_rnn(torch, code)(x))
    assert isinstance(exc, TypeError) and "dim" in str(exc)
    why = erratum(doc, "torch.softmax(self.V(h, dim=-1))").why
    assert "TypeError" in why and str(exc) in why

    code = code.replace("torch.softmax(self.V(h, dim=-1))", "torch.softmax(self.V(h), dim=-1)")
    model = _my_rnn(torch, code)
    out = model(x)
    assert tuple(out.shape) == (5, 3)
    late = x.clone()
    late[:, 7:] += 1.0  # T = x.size(-1) = 7: the last 6 steps are never read
    assert torch.equal(model(late), out)
    assert "7 of the 13" in erratum(doc, "x.size(-1)").why

    code = code.replace("T = x.size(-1)", "T = x.size(1)")
    model = _my_rnn(torch, code)
    assert not torch.equal(model(late), model(x))
    states = [torch.zeros(10)]
    with torch.no_grad():
        for t in range(13):  # relu: the states are not bounded by 1 as tanh's are
            states.append(torch.relu(model.U(10 * x[:, t]) + model.W(states[-1])))
    assert max(float(s.abs().max()) for s in states) > 1.0
    assert "unbounded" in erratum(doc, "torch.relu").why

    tanh_code = code.replace("torch.relu(", "torch.tanh(")
    one_row = _my_rnn(torch, tanh_code)  # the 1-D zero state, kept: it broadcasts
    batch = _my_rnn(torch, tanh_code.replace("torch.zeros(self.h_size)", "torch.zeros(len(x), self.h_size)"))
    assert torch.allclose(one_row(x), batch(x), atol=0, rtol=0)
    assert "broadcasts" in erratum(doc, "torch.zeros(self.h_size)").why

    # the corrected model equals the TD's cell computed in NumPy
    U, W, b_W = (a.detach().numpy() for a in (batch.U.weight, batch.W.weight, batch.W.bias))
    V, b_V = batch.V.weight.detach().numpy(), batch.V.bias.detach().numpy()
    h = np.zeros((5, 10))
    for t in range(13):
        h = np.tanh(x[:, t].numpy() @ U.T + h @ W.T + b_W)
    logits = h @ V.T + b_V
    expect = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.abs(batch(x).detach().numpy() - expect).max() < 1e-12


def test_td_my_rnn_has_no_erratum_that_is_not_a_bug():
    says = [e.seed_says for e in build("td-2").errata]
    assert len(says) == 5
    assert not any("B, self.h_size" in e.correct for e in build("td-2").errata)


# --- the TD's tape ---------------------------------------------------------------------------


def test_td_tape_numberings_side_by_side():
    from rnnlab.tape import elman_scalar_graph
    from rnnlab.trace.presets.course002 import EX3, H0_NUMBERING

    tape, _ = elman_scalar_graph(EX3["x"][:1], EX3["U"], EX3["w"])
    listing = tape.listing()
    ours = {"U": "w_0 = U", "x_0": "w_1 = x_0", "U x_0": "w_2 = w_0 × w_1",
            "h_0 = tanh(U x_0)": "w_3 = tanh(w_2)"}
    # the TD's list for ∂h_0/∂U: w_1 = x_0, w_2 = U, w_3 = w_1 w_2, w_4 = tanh(w_3)
    td = {"x_0": 1, "U": 2, "U x_0": 3, "h_0 = tanh(U x_0)": 4}
    for node, td_index, our_index in H0_NUMBERING:
        assert ours[node].startswith(f"w_{our_index} ") and ours[node] in listing
        assert td[node] == td_index
    doc = build("td-3")
    e = erratum(doc, "dw_4/dw_3")
    assert "w̄_4" in e.correct and "w̄_3 = ∂w_3/∂w_3 = 1" in e.correct  # both numberings


# --- the Chapitre ------------------------------------------------------------------------------


def test_chapitre_sum_starts_at_the_first_state():
    from rnnlab.trace.presets.course004 import SCALAR

    def h_T(W_h):
        h = 0.0
        for x in SCALAR["x"]:
            h = np.tanh(W_h * h + SCALAR["W_x"] * x + SCALAR["b"])
        return h

    eps = 1e-6
    fd = (h_T(SCALAR["W_h"] + eps) - h_T(SCALAR["W_h"] - eps)) / (2 * eps)
    d = build("chapitre-gradient").data
    for key in ("recursion", "bptt", "sum_from_0"):
        assert d[key] == pytest.approx(fd, rel=1e-8)
    assert abs(d["sum_from_1"] - fd) > 0.05 * abs(fd)


def test_gru_attribution_everywhere():
    doc = build("chapitre-gru")
    text = render(doc, "text", width=200)
    assert "Chung et al. 2014" in text and "h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t" in text
    assert any("Cho" in e.seed_says and "Chung" in e.correct for e in doc.errata)
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    paths = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in paths]
    texts.append(("exercise list", PRESETS["chapitre-gru"].title))
    for name, body in texts:
        for sentence in re.split(r"(?<=[.:;])\s+(?=[A-Z])|\n\n", body):
            if re.search(r"\bCho\b", sentence):  # Cho is cited for the reset, never alone for the update
                assert re.search(r"reset|Chung|z", sentence), (name, sentence)


# --- every format, the same rows and numbers ---------------------------------------------------

NUMBER = re.compile(r"\d+\.\d+(?:e[+-]\d+)?")


def _cells(doc):
    """Every table cell and erratum field of ``doc`` as the text a reader sees."""
    out = []
    for block in doc.blocks:
        if isinstance(block, Table):
            out += [c if isinstance(c, str) else fmt(c, doc.precision) for row in block.rows for c in row]
        elif isinstance(block, Erratum):
            out += [block.where, block.seed_says, block.correct, block.why]
    return out


def _documents():
    return [build(pid) for pid in PRESETS] + [errata()]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_format_carries_the_same_rows_and_numbers(lang):
    set_language(lang)
    for doc in _documents():
        data = json.loads(render(doc, "json"))
        tables = [b for b in doc.blocks if isinstance(b, Table)]
        plain = [t for t in tables if not t.key]
        assert len(data["tables"]) == len(plain)
        for t, j in zip(plain, data["tables"]):
            assert len(j["rows"]) == len(t.rows) and j["headers"] == [str(h) for h in t.headers]
            for row, jrow in zip(t.rows, j["rows"]):
                for c, jc in zip(row, jrow):
                    p = doc.precision
                    same = (c == jc) if isinstance(c, str) else (fmt(c, p) == fmt(jc, p))
                    assert same, (doc.id, c, jc)
        for t in (t for t in tables if t.key):
            assert data[t.key] == [dict(zip(t.fields, row)) for row in t.rows]
        fields = ("where", "seed_says", "correct", "why")
        assert [tuple(e[f] for f in fields) for e in data["errata"] if "id" not in e] == \
            [(e.where, e.seed_says, e.correct, e.why) for e in doc.errata]
        numbers = sorted({n for cell in _cells(doc) for n in NUMBER.findall(cell)})
        outputs = {f: render(doc, f, width=400) if f == "text" else render(doc, f) for f in FORMATS}
        for fmt_, out in outputs.items():
            if fmt_ == "json":  # unrounded numbers: compared cell by cell above
                continue
            missing = [n for n in numbers if n not in out]
            assert not missing, (doc.id, fmt_, missing[:5])
        # the same rows: every row's first cell, as each format writes it
        firsts = [row[0] for t in tables for row in t.rows if isinstance(row[0], str) and row[0]]
        for first in firsts:
            assert first in outputs["md"].replace("\\|", "|"), (doc.id, first)
            assert html.escape(first) in outputs["html"], (doc.id, first)
            assert tex_text(first) in outputs["latex"], (doc.id, first)
            assert first in outputs["text"], (doc.id, first)


def test_errata_lists_every_exercises_errata_in_every_format():
    doc = errata()
    rows = doc.blocks[0].rows
    assert len(rows) == sum(len(build(pid).errata) for pid in PRESETS) >= 21
    data = json.loads(render(doc, "json"))
    assert len(data["errata"]) == len(rows) and {e["id"] for e in data["errata"]} >= {
        "tp-1.2", "cours-lstm", "td-2", "td-3", "notebook-code", "chapitre-gradient", "chapitre-gru"}
    for kind in ("NameError", "TypeError", "IndexError", "AttributeError"):
        assert any(kind in e["why"] and e["id"] == "notebook-code" for e in data["errata"])
    for fmt_ in ("text", "md", "html", "latex"):
        out = render(doc, fmt_, width=400) if fmt_ == "text" else render(doc, fmt_)
        for pid in PRESETS:
            assert out.count(f"{pid} ") + out.count(f"{pid}<") + out.count(f"{pid}&") >= \
                len(build(pid).errata), (fmt_, pid)


# --- every formula printed agrees with the errata ------------------------------------------------

WRONG_JACOBIAN = re.compile(r"W_hh\s*[×·*]?\s*diag\(|W\s*[×·*]?\s*diag\(")


def _without_errata(doc):
    doc.blocks = [b for b in doc.blocks if not isinstance(b, Erratum)]
    return doc


def test_every_printed_formula_agrees_with_the_errata(capsys):
    from rnnlab.cli import main

    said = [e.seed_says for pid in PRESETS for e in build(pid).errata if "=" in e.seed_says]
    outputs = {}
    for pid in PRESETS:
        doc = _without_errata(build(pid))
        for fmt_ in ("text", "md", "json"):
            outputs[f"{pid} {fmt_}"] = render(doc, fmt_, width=400) if fmt_ == "text" else render(doc, fmt_)
    commands = (["gradients", "--exercise"], ["gradients"], ["exercise", "list"],
                ["trace", "--example", "rnn"], ["tape"], ["plot", "list"])
    for argv in commands:
        assert main(argv) == 0
        outputs[" ".join(argv)] = capsys.readouterr().out
    for name, out in outputs.items():
        assert not WRONG_JACOBIAN.search(out), (name, WRONG_JACOBIAN.search(out).group(0))
        for wrong in said:
            assert not re.search(re.escape(wrong) + r"(?![\d\w])", out), (name, wrong)
    assert "diag(1 − tanh²(z_t)) × W_hh" in outputs["gradients --exercise"]
    tp12 = build("tp-1.2")
    J = tp12.data["J"]
    W = np.array([[0.8, 0.1], [-0.1, 0.8]])
    assert np.array_equal(J, np.diag([0.9, 0.9]) @ W)


def test_readme_and_docs_write_the_jacobian_in_the_errata_order():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for path in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if WRONG_JACOBIAN.search(line):  # only where the text says that the TP writes it so
                assert "TP" in line and ("writes" in line or "écrit" in line), (path.name, line)


# --- ids -----------------------------------------------------------------------------------------


def test_old_ids_are_aliases(capsys):
    from rnnlab.cli import main

    for old, new in ALIASES.items():
        assert render(build(old), "md") == render(build(new), "md")
        assert main(["exercise", old, "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["id"] == new


def test_exercise_list_names_each_exercise_where_it_is(capsys):
    from rnnlab.cli import main

    assert main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    for pid, p in PRESETS.items():
        line = next(l for l in out.splitlines() if f" {pid} " in l)
        assert p.source in line
        number = re.search(r"\d\.\d", pid)
        if pid.startswith("tp-"):
            assert f"ex. {number.group(0)}" in p.source
    assert "§2.2, ex. 2.1" in PRESETS["tp-2.1"].source and "000" not in out


# --- the documents are called by their names -----------------------------------------------------

FILE_NUMBER = re.compile(r"\bseed\s+0\d*\b|\bseeds/|\bdocument\s+00\d\b"
                         r"|\b00[0-4]-(?:\d|lstm|gru)|\b00[0-4]\s+§", re.I)
# the training commands' help belongs to the training engine's branch
NOT_HERE = {"train", "task", "classify", "forecast", "sweep"}


def _user_facing_texts(capsys):
    from pathlib import Path

    from rnnlab.cli import main

    root = Path(__file__).resolve().parents[1]
    texts = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
             for p in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]}
    reference = texts["docs/reference.md"]  # without rnnlab.train's section: the training engine's branch
    start = reference.index("## `rnnlab.train`")
    texts["docs/reference.md"] = reference[:start] + reference[reference.index("\n## ", start + 1):]
    for lang in ("en", "fr"):
        runs = [["exercise", "list"], ["exercise", "errata"], ["gradients", "--exercise"], ["tape"],
                ["plot", "list"], *(["exercise", pid] for pid in PRESETS),
                *(["trace", "--example", c] for c in ("rnn", "lstm", "gru"))]
        for argv in runs:
            assert main(["--lang", lang, *argv]) == 0, argv
            texts[f"rnnlab {' '.join(argv)} [{lang}]"] = capsys.readouterr().out
        with pytest.raises(SystemExit):
            main(["--lang", lang, "--help"])
        top = capsys.readouterr().out
        texts[f"rnnlab --help [{lang}]"] = top
        for command in sorted(set(re.findall(r"^    (\w+)\s", top, re.M)) - NOT_HERE):
            with pytest.raises(SystemExit):
                main(["--lang", lang, command, "--help"])
            texts[f"rnnlab {command} --help [{lang}]"] = capsys.readouterr().out
    return texts


def test_no_user_facing_text_names_a_document_by_its_file_number(capsys):
    texts = _user_facing_texts(capsys)
    assert len(texts) > 40 and any("exercise --help" in k for k in texts)
    found = {name: sorted(set(FILE_NUMBER.findall(text)))
             for name, text in texts.items() if FILE_NUMBER.search(text)}
    assert not found, found
    listing = texts["rnnlab exercise list [en]"]
    for title in ("TP", "Cours", "TD", "Notebook", "Chapitre"):
        assert title in listing


def test_the_file_number_pattern_catches_what_users_never_saw():
    for said in ("Seed 000, exercise 2.1", "(seed 004)", "document 002, ex. 3", "rnnlab exercise 000-2.1",
                 "000 §2.2", "see seeds/003"):
        assert FILE_NUMBER.search(said), said
    for fine in ("seed=0", "random seed", "w̄_8 = 1 (\"seed\")", "docs/en/000_tp.md", "1,003,854"):
        assert not FILE_NUMBER.search(fine), fine


# --- what compare_cells(T=20) shows, as the README says it ----------------------------------------


def _short(value):
    return f"{value:.1e}" if abs(value) < 0.01 else f"{value:.2f}"


def test_readme_states_what_compare_cells_measures():
    from pathlib import Path

    from rnnlab.analysis import compare_cells

    c = compare_cells(steps=20)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for cell in ("rnn", "lstm", "gru"):
        before, after = c.profiles[cell]
        row = next(line for line in readme.splitlines() if line.startswith(f"| {cell.upper()} |"))
        cells = [x.strip() for x in row.strip("|").split("|")]
        assert cells[1] == _short(before[-1]) and cells[2] == _short(after[-1]), (row, before[-1], after[-1])
        assert cells[3].split()[0] == _short(c.losses[cell][1]), (row, c.losses[cell])
    # what the text explains: the GRU vanishes like the RNN at initialisation, the LSTM grows past 1
    assert c.profiles["gru"][0][-1] < 1e-3 and c.profiles["rnn"][0][-1] < 1e-3
    assert c.profiles["lstm"][0][-1] > 1 and c.profiles["lstm"][1][-1] > 1
    root = Path(__file__).resolve().parents[1]
    for path in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert "keep a gradient of size 1" not in text and "gardent un gradient de taille 1" not in text, path
