"""The course's notation typeset as MathML (and LaTeX) by :mod:`rnnlab.typeset`: the structure of the
markup for the course's formulas, escaping, and numbers aligned on the decimal point."""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from rnnlab.trace.presets import PRESETS
from rnnlab.typeset import (decimal_aligned_cells, formula_latex, formula_mathml, inline_mathml, is_code,
                            looks_like_formula, split_wide)


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
    _, dw = tree("dw_4/dw_3")
    frac = next(dw.iter("mfrac"))
    assert text_of(frac[0], "mi") == ["d", "w"] and text_of(frac[1], "mi") == ["d", "w"]
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


def test_long_inline_formulas_may_wrap_between_pieces():
    text = "w_6 = w × w_5 (= w h_0),  w_7 = w_4 + w_6 (= U x_1 + w h_0)"
    assert split_wide(text) == ["w_6 = w × w_5 (= w h_0),", "w_7 = w_4 + w_6 (= U x_1 + w h_0)"]
    assert split_wide("a = [1,  2]; b = (3;  4)") == ["a = [1,  2];", "b = (3;  4)"]  # not inside brackets
    assert split_wide("h_t") == ["h_t"] and split_wide("  ") == ["  "]
    out = inline_mathml(text)
    assert out.count("<math") == 2 and '<math alttext="w_6 = w × w_5 (= w h_0),">' in out


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
                                       ("W_xh, … = initialize_parameters(vocab_size)", True),
                                       ("onehot_dict[inputs[t]].reshape(1, -1)", True),
                                       ("L = −log y[target]   (train_rnn: loss += −log(outputs[-1]))", False),
                                       ("y_t = W_hy × h_t + b_y", False), ("W_g[:, h]ᵀ", False),
                                       ("class A:\n    def f(self):\n        return 1", True),
                                       ("h_t = tanh(U x_t + w h_{t-1})", False),
                                       ("x1 = 1.0, x2 = 0.5, target = 1.0", False)])
def test_code_is_told_from_formulas(text, code):
    assert is_code(text) is code


@pytest.mark.parametrize("text,math", [("W_hh", True), ("i × C̃", True), ("(2, 8) → (2, 5)", True),
                                       ("U", True), ("h1·w7 + h2·w10 + h3·w13", True),
                                       ("classify a single image", False), ("'a'", False), ("✓", False),
                                       ("4,78", False), ("C_tilde", False), ("tp-1.2", False),
                                       ("-0.25", False), ("rnnlab's BPTT", False), ("ID", False),
                                       ("dy = y_T − onehot(target) at t = T only (0 before)", True),
                                       ("TD, ex. 3, forward list of ∂h_1/∂U", False),
                                       ("Notebook, backward_pass, one-hot", False)])
def test_table_cells_that_are_formulas(text, math):
    assert looks_like_formula(text) is math


# --- every page rnnlab writes: every formula typeset --------------------------------------------------


def _expected_formulas(doc):
    """What the document holds as mathematics: displayed formulas, `…` spans, the trace tables'
    quantities, formulas and numbers substituted, and the table cells in the notation."""
    from rnnlab.trace.document import Formula, Table, Text, TraceBlock
    from rnnlab.trace.layout import gradient_rows, step_rows

    out = []
    for block in doc.blocks:
        if isinstance(block, Formula) and not is_code(block.text):
            out.append(block.text)
        elif isinstance(block, Text):
            out += [p for k, p in enumerate(block.text.split("`")) if k % 2 and not is_code(p)]
        elif isinstance(block, Table):
            out += [c for row in block.rows for c in row if isinstance(c, str) and looks_like_formula(c)]
        elif isinstance(block, TraceBlock):
            trace = block.trace
            p = doc.precision
            rows = [r for s in trace.steps for r in step_rows(trace, s, p)] if block.forward else []
            if trace.backward is not None:
                rows += [r for s in trace.backward.steps for r in step_rows(trace, s, p, backward=True)]
                rows += gradient_rows(trace, p)
            out += [t for r in rows for t in (r.label, r.formula, r.arithmetic) if t]
    return out


def _check_page(page, expected):
    import html

    maths = re.findall(r"<math\b.*?</math>", page, re.S)
    for m in maths:
        ET.fromstring(m)  # well formed, so the browser's MathML parser builds what we wrote
    alts = {html.unescape(a) for a in re.findall(r'<math[^>]*? alttext="([^"]*)"', page)}
    missing = [e for e in expected if e not in alts and not all(piece in alts for piece in split_wide(e))]
    assert not missing, missing[:5]
    # nothing in the notation is left as text in a cell, a <pre> or a <code>: only program text is
    assert 'class="m"' not in page and 'class="v"' not in page  # the monospace formula cells are gone
    for tag, body in re.findall(r"<(pre|code)>(.*?)</\1>", page, re.S):
        assert is_code(html.unescape(body)), (tag, body)
    no_math = re.sub(r"<math\b.*?</math>", "", page, flags=re.S)
    for cell in re.findall(r"<t[dh](?: class=\"num\")?>([^<]*)</t[dh]>", no_math):
        assert not looks_like_formula(html.unescape(cell)), cell
    for cell in re.findall(r'<td class="num">(.*?)</td>', page):  # aligned columns hold numbers only
        assert re.fullmatch(r'[-−]?\d+(\.\d+)?(e[+-]\d+)?|[-−]?inf|nan', re.sub(r"<[^>]+>", "", cell)), cell
    return maths


@pytest.mark.parametrize("pid", sorted(PRESETS))
def test_every_formula_of_every_exercise_page_is_typeset(pid):
    from rnnlab.i18n import set_language
    from rnnlab.trace.presets import build
    from rnnlab.trace.render import render

    set_language("en")
    doc = build(pid)
    expected = _expected_formulas(doc)
    maths = _check_page(render(doc, "html"), expected)
    assert len(maths) >= len(set(expected))
    if any(True for _ in doc.traces):
        assert any("<msub>" in m for m in maths) and any("<mn>" in m for m in maths)


def test_the_trace_command_page_is_typeset(tmp_path, capsys):
    from rnnlab.cli import main
    from rnnlab.trace import config

    for cell in ("rnn", "lstm", "gru"):
        path = tmp_path / f"{cell}.json"
        cfg = dict(config.example(cell), title=f"<script>alert(1)</script> {cell} & `h_t` <b>")
        path.write_text(json.dumps(cfg), encoding="utf-8")
        out = tmp_path / f"{cell}.html"
        assert main(["trace", str(path), "--format", "html", "--lang", "fr", "--out", str(out)]) == 0
        page = out.read_text(encoding="utf-8")
        assert '<html lang="fr">' in page and "calcul détaillé" in page
        assert "<script>" not in page and "<b>" not in page  # the user's title is escaped
        assert f"<title>&lt;script&gt;alert(1)&lt;/script&gt; {cell} &amp; `h_t` &lt;b&gt;</title>" in page
        maths = _check_page(page, [])
        assert any("<mfrac>" in m for m in maths)  # the backward pass: ∂L/∂h_t as fractions
        assert any("<mo>⊙</mo>" in m or "<mo>×</mo>" in m for m in maths)


def _tex_is_well_formed(tex):
    """Braces balanced (``\\{``, ``\\}`` aside), every script sign followed by its braced argument."""
    bare = tex
    for escaped in ("\\\\", "\\{", "\\}", "\\_", "\\^"):
        bare = bare.replace(escaped, "")
    depth = 0
    for ch in bare:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, tex
    assert depth == 0, tex
    assert not re.search(r"[_^](?!\{)", bare), tex


def test_every_formula_of_the_course_gives_well_formed_latex():
    from rnnlab.trace.presets import build

    for pid in PRESETS:
        for text in _expected_formulas(build(pid)):
            _tex_is_well_formed(formula_latex(text))


def test_any_text_gives_one_well_formed_math_element():
    """The lab passes what a user types: whatever the text, one well-formed ``<math>`` element comes
    back, holding the text's characters only as escaped text."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("abxhWCtf_^{}()[]|‖,.:;=+-−×·⊙/∂σΣ²ᵀ'\"<>&0123456789 \n")
                               + ["\u0303", "tanh", "exp", "  ", "<script>", "&amp;"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(alphabet, max_size=30).map("".join), st.booleans())
    def check(text, display):
        out = formula_mathml(text, display)
        math = ET.fromstring(out)
        assert math.tag == "math" and len(list(math)) == 1
        assert "<script>" not in out
        _tex_is_well_formed(formula_latex(text))

    check()


def test_running_text_typesets_its_names_and_spans_and_keeps_code():
    from rnnlab.trace.document import Document, Text
    from rnnlab.trace.render import render

    doc = Document("t", "T").add(Text("The state h_t, `C_t = f_t ⊙ C_{t-1}` and ∂L/∂W_f; "
                                      "Linear(h_size, out_size) and `sorted(set(text))` stay code."))
    page = render(doc, "html")
    for alt in ("h_t", "C_t = f_t ⊙ C_{t-1}", "∂L/∂W_f"):
        assert f'<math alttext="{alt}">' in page
    assert 'alttext="h_size"' not in page and "Linear(h_size, out_size)" in page
    assert "<code>sorted(set(text))</code>" in page
