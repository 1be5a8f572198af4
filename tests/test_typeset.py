"""The course's notation typeset as MathML (and LaTeX) by :mod:`rnnlab.typeset`: the structure of the
markup for the course's formulas, escaping, and numbers aligned on the decimal point."""

import re
import xml.etree.ElementTree as ET

import pytest

from rnnlab.typeset import decimal_aligned_cells, formula_latex, formula_mathml, is_code, looks_like_formula


def tree(text, display=False):
    """The ``<math>`` element, parsed as XML (it must be well formed), and its rendered part."""
    math = ET.fromstring(formula_mathml(text, display))
    assert math.tag == "math"
    semantics = math[0]
    assert semantics.tag == "semantics" and semantics[-1].tag == "annotation"
    return math, semantics[0]


def tags(node):
    return [e.tag for e in node.iter()]


def text_of(node, tag):
    return [e.text for e in node.iter(tag)]


def test_subscripts_are_msub_and_the_step_is_a_row():
    _, body = tree("C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t")
    subs = list(body.iter("msub"))
    assert len(subs) == 5
    assert [s[0].tag for s in subs] == ["mi", "mi", "mi", "mi", "mover"]
    assert text_of(subs[2][1], "mi") == ["t"] and text_of(subs[2][1], "mo") == ["−"]  # t − 1, a real minus
    assert text_of(subs[2][1], "mn") == ["1"]
    assert text_of(body, "mo").count("⊙") == 2 and "+" in text_of(body, "mo") and "=" in text_of(body, "mo")


def test_c_tilde_is_an_accent_over_c():
    _, body = tree("C̃_t")
    over = next(body.iter("mover"))
    assert over.get("accent") == "true"
    assert over[0].tag == "mi" and over[0].text == "C" and over[1].tag == "mo" and over[1].text == "˜"
    _, bar = tree("w̄_3 = 1")
    assert next(bar.iter("mover"))[1].text == "¯" and next(bar.iter("mover"))[0].text == "w"


def test_gate_formula_sigma_times_and_brackets():
    _, body = tree("f_t = σ(W_f × [h_{t-1}, x_t] + b_f)")
    mis = text_of(body, "mi")
    assert "σ" in mis and "\u2061" in text_of(body, "mo")  # σ applied to its argument
    assert "×" in text_of(body, "mo")
    fences = [e.text for e in body.iter("mo") if e.get("fence") == "true"]
    assert fences == ["(", "[", "]", ")"]
    assert "tanh" in text_of(tree("h_t = o_t ⊙ tanh(C_t)")[1], "mi")


def test_numbers_substituted_are_mn_with_their_digits():
    _, body = tree("f_1 = σ(0.7·0.1 + 0.45·1 + 0.1) = σ(0.62) = 0.6502")
    assert text_of(body, "mn") == ["1", "0.7", "0.1", "0.45", "1", "0.1", "0.62", "0.6502"]
    assert text_of(body, "mo").count("·") == 2
    _, neg = tree("0.1×(-0.2) + -0.3")
    minus = [e for e in neg.iter("mo") if e.text == "−"]
    assert len(minus) == 2 and all(e.get("form") == "prefix" for e in minus)  # signs, not subtractions
    assert text_of(neg, "mn") == ["0.1", "0.2", "0.3"]


def test_derivatives_and_divisions_are_fractions():
    _, body = tree("∂L/∂z_f,1")
    frac = next(body.iter("mfrac"))
    assert text_of(frac[0], "mo") == ["∂"] and text_of(frac[0], "mi") == ["L"]
    assert text_of(frac[1], "mo") == ["∂", ","] and text_of(frac[1], "mi") == ["z", "f"]
    _, soft = tree("exp(0.1) / (exp(0.1) + exp(0.2))")
    frac = next(soft.iter("mfrac"))
    assert text_of(frac[1], "mn") == ["0.1", "0.2"] and "+" in text_of(frac[1], "mo")
    assert len([e for e in frac[1].iter("mo") if e.text == "("]) == 2  # the outer parentheses dropped
    _, chain = tree("∂L/∂h_k × (∂h_k/∂h_{k-1}) × … × (∂h_1/∂h_0)")
    assert len(list(chain.iter("mfrac"))) == 3 and "(" not in text_of(chain, "mo")  # the bar groups
    _, jac = tree("∂(h_t, C_t)/∂(h_{t-1}, C_{t-1})")
    assert len(list(jac.iter("mfrac"))) == 1


def test_superscripts_primes_transposes_and_norms():
    _, body = tree("‖J^k‖₂ = (0.9 × 0.8062)^k")
    assert len(list(body.iter("msup"))) == 2
    norm = next(body.iter("msub"))
    assert norm[0][0].text == "‖" and norm[1][0].text == "2"
    _, sq = tree("1 − tanh²(C_t)")
    assert next(sq.iter("msup"))[0].text == "tanh"
    _, tr = tree("W_hyᵀ ∂L/∂z")
    sub_sup = next(tr.iter("msubsup"))
    assert sub_sup[0].text == "W" and text_of(sub_sup[1], "mi") == ["h", "y"] and sub_sup[2][0].text == "⊤"
    _, prime = tree("tanh'(o_t)")
    assert next(prime.iter("msup"))[1][0].text == "′"


def test_sums_put_their_index_under_the_sign():
    _, body = tree("Σ_t ∂L/∂a_t x_tᵀ")
    under = next(body.iter("munder"))
    assert under[0].text == "∑" and under[0].get("movablelimits") == "true"
    assert under[1][0].text == "t"


def test_words_are_text_and_wide_gaps_are_spaces():
    _, body = tree("f_t = σ(W_f × [h_{t-1}, x_t] + b_f)      forget gate")
    assert text_of(body, "mtext") == ["forget gate"]
    assert any(e.get("width") == "1.5em" for e in body.iter("mspace"))
    _, note = tree("∂C_t/∂C_{t-1} = f_t   (h_{t-1} held fixed)")
    assert text_of(note, "mtext") == ["held fixed"]


def test_matrices_are_tables_in_brackets():
    _, body = tree("W_hh = [[0.8, 0.1], [-0.1, 0.8]]")
    table = next(body.iter("mtable"))
    assert [[text_of(td, "mn")[0] for td in tr] for tr in table] == [["0.8", "0.1"], ["0.1", "0.8"]]
    assert table.get("class") == "matrix" and "linear-gradient" in table.get("style")  # its brackets
    assert "[" not in "".join(text_of(body, "mo"))
    _, vec = tree("[h_0, x_1] = [0.1, -0.1, 0.8]")
    assert not list(vec.iter("mtable"))  # a vector stays a bracketed list, as the course writes it


def test_display_block_and_lines_aligned_on_equals():
    math, body = tree("y_2 = softmax(V h_2)\n    = softmax(V tanh(U x_2 + W h_1))", display=True)
    assert math.get("display") == "block" and body.tag == "mtable"
    first, second = list(body)
    assert len(first) == 2 and len(second) == 2
    assert first[1][0][0].text == "=" and second[1][0][0].text == "=" and list(second[0][0]) == []


def test_everything_is_escaped():
    text = '<script>alert("x")</script> & a_<b> = "q"'
    out = formula_mathml(text)
    assert "<script" not in out and "<b>" not in out
    ET.fromstring(out)  # still well formed
    assert ('alttext="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; a_&lt;b&gt; = &quot;q&quot;"'
            in out)
    assert "&lt;" in decimal_aligned_cells(["<1.0>"])[0]


def test_latex_comes_from_the_same_parse():
    assert (formula_latex("C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t")
            == r"{C}_{t}={f}_{t}\odot{C}_{t-1}+{i}_{t}\odot{\tilde{C}}_{t}")
    assert formula_latex("∂L/∂W_f") == r"\frac{\partial L}{\partial{W}_{f}}"
    assert formula_latex("σ(z_f)") == r"\sigma({z}_{f})"
    matrix = formula_latex("[[0.8, 0.1], [-0.1, 0.8]]")
    assert r"\begin{bmatrix}0.8 & 0.1 \\ -0.1 & 0.8\end{bmatrix}" in matrix
    assert formula_latex("a = 1\n  = 2").startswith(r"\begin{aligned}a &=1 \\ &=2")
    out = formula_mathml("σ(z_f)")
    assert r'<annotation encoding="application/x-tex">\sigma({z}_{f})</annotation>' in out


def test_decimal_aligned_cells_pad_to_the_longest_fraction():
    cells = decimal_aligned_cells([0.5, "0.25", "1683.00", "-3", "x"], precision=4)
    pads = [re.search(r'data-pad="([^"]*)"', c) for c in cells]
    assert cells[0].startswith("0.5000") and pads[0] is None  # formatted at the precision, longest
    assert cells[1].startswith("0.25") and pads[1].group(1) == "00"
    assert cells[2].startswith("1683.00") and pads[2].group(1) == "00"
    assert cells[3].startswith("-3") and pads[3].group(1) == ".0000"  # the point's place, then four
    assert cells[4] == "x"
    # the visible text of a cell is the number itself: the pad is CSS generated content
    assert [re.sub(r"<[^>]+>", "", c) for c in cells] == ["0.5000", "0.25", "1683.00", "-3", "x"]


@pytest.mark.parametrize("text,code", [("chars = sorted(set(text))", True),
                                       ('GRU(..., reset="before")', True),
                                       ("U(x[:, t])", True), ("V.weight", True),
                                       ("class A:\n    def f(self):\n        return 1", True),
                                       ("h_t = tanh(U x_t + w h_{t-1})", False),
                                       ("x1 = 1.0, x2 = 0.5, target = 1.0", False)])
def test_code_is_told_from_formulas(text, code):
    assert is_code(text) is code


@pytest.mark.parametrize("text,math", [("W_hh", True), ("i × C̃", True), ("(2, 8) → (2, 5)", True),
                                       ("U", True), ("h1·w7 + h2·w10 + h3·w13", True),
                                       ("classify a single image", False), ("'a'", False), ("✓", False),
                                       ("4,78", False), ("C_tilde", False), ("tp-1.2", False), ("rnnlab's BPTT", False)])
def test_table_cells_that_are_formulas(text, math):
    assert looks_like_formula(text) is math
