"""The course's notation typeset as mathematics: one parse of rnnlab's formula strings (the Unicode
notation of traces and exercises, ``f_1 = σ(0.7·0.1 + 0.45·1 + 0.1) = σ(0.62) = 0.6502``) into a
small tree, written out as MathML Core (which current browsers render natively, no JavaScript)
or as LaTeX. Pure functions, no I/O; every piece of text is escaped.

The notation, as rnnlab prints it:

- ``h_t``, ``W_hh``, ``h_{t-1}``, ``z_f,1`` (gate f at t = 1): subscripts; ``J^k``, ``0.9^10``,
  ``h_t²``, ``W_hyᵀ``, ``tanh'``: superscripts and primes; ``‖J^k‖₂``: Unicode subscripts;
- ``C̃``, ``h̃``, ``w̄``: accents (a combining tilde or bar after the letter);
- ``σ``, ``tanh``, ``softmax``, ``exp``, ``diag`` …: functions, applied to what follows;
- ``∂L/∂h_t``, ``exp(a) / (exp(a) + exp(b))``: fractions (``/`` between two operands);
- ``Σ_t``, ``Σ_{t'}``: sums with their index under the sign in display;
- ``×``, ``⊙``, ``·``, ``−``, ``=``, ``≈``, ``→`` …: operators; ``[h_{t-1}, x_t]``: brackets;
- words (``forget gate``, ``held fixed``): text; two or more spaces: a wide space.

Numbers in columns are aligned on their decimal point by :func:`decimal_aligned_cells`. A page
showing them includes :data:`CSS` (the decimal pad, the math font); the MathML itself needs no
style sheet (a matrix draws its own brackets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from .i18n import say

def _not_a_node(node) -> TypeError:
    return TypeError(say(f"typeset: expected a formula node, got {node!r}",
                         f"composition : nœud de formule attendu, reçu {node!r}"))


# --- the tree -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    text: str


@dataclass(frozen=True)
class Ident:
    """A name: ``h``, ``W``, ``C̃`` (accent ``"~"``), ``w̄`` (accent ``"-"``), ``target_idx``."""

    text: str
    accent: str = ""


@dataclass(frozen=True)
class Func:
    """A function name applied to what follows: ``σ``, ``tanh``, ``softmax``."""

    name: str


@dataclass(frozen=True)
class Op:
    text: str
    prefix: bool = False  # a sign (``−0.3``), not a binary operator


@dataclass(frozen=True)
class Words:
    """Prose inside a formula (``forget gate``, ``held fixed``)."""

    text: str


@dataclass(frozen=True)
class Space:
    """Two or more spaces in the source: the gap between a formula and its comment."""


@dataclass(frozen=True)
class Group:
    """``(…)``, ``[…]``, ``‖…‖``, ``|…|``; ``open == ""`` for a braced script ``{…}``."""

    open: str
    body: tuple
    close: str


@dataclass(frozen=True)
class Script:
    base: object
    sub: object = None
    sup: object = None


@dataclass(frozen=True)
class Frac:
    num: object
    den: object


@dataclass(frozen=True)
class Apply:
    """A function applied to its argument: ``σ(z_f)``, ``tanh²(C_t)``."""

    func: object
    arg: object


@dataclass(frozen=True)
class Row:
    items: tuple


# --- reading the notation ------------------------------------------------------------------------

FUNCTIONS = {"σ": r"\sigma", "tanh": r"\tanh", "softmax": r"\mathrm{softmax}", "exp": r"\exp", "log": r"\log",
             "ln": r"\ln", "diag": r"\operatorname{diag}", "onehot": r"\operatorname{onehot}", "max": r"\max",
             "min": r"\min", "ReLU": r"\mathrm{ReLU}", "arccos": r"\arccos",
             "sigmoid": r"\operatorname{sigmoid}"}
LARGE = {"Σ": "∑", "∑": "∑", "∏": "∏"}  # Greek capital sigma in the source, the summation sign in print
_OPS = {"-": "−", "*": "×", "->": "→", "-->": "⟶", "<--": "⟵", "<-": "←", "<=": "≤", ">=": "≥",
        "!=": "≠", "...": "…", "'": "′"}
_SUPERSCRIPTS = {"²": "2", "³": "3", "ᵀ": "T"}
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_FENCES = {"(": ")", "[": "]", "{": "}"}
_LETTER = r"[A-Za-zÀ-ÖØ-öø-ÿœŒ]"

_TOKEN = re.compile(
    r"(?P<space>[ \t\u00a0]+)"
    r"|(?P<num>\d+\.\d+(?:e[+-]\d+)?|\d+)"
    r"|(?P<quoted>\"[^\"\n]*\")"
    rf"|(?P<code>{_LETTER}{{2,}}_[A-Za-z]{{3,}}\b|{_LETTER}+_[A-Za-z]{{4,}}\b|(?:tanh|softmax|exp|log)_\w+)"
    rf"|(?P<word>{_LETTER}[\u0303\u0304]?(?:{_LETTER}[\u0303\u0304]?|'(?={_LETTER}))*\d*)"
    r"|(?P<sub>_(?:\{|[A-Za-z0-9]+(?:,[A-Za-z0-9]+)*))"
    r"|(?P<sup>\^(?:\{|-?[A-Za-z0-9]+))"
    r"|(?P<unisup>[²³ᵀ′']+)"
    r"|(?P<unisub>[₀-₉]+)"
    r"|(?P<op>-->|<--|->|<-|<=|>=|!=|\+=|\.\.\.|.)"
)


def _braced(text: str, start: int) -> int:
    """The index just past the ``}`` closing the ``{`` at ``start - 1``."""
    depth = 1
    for k in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return k + 1
    return len(text)


def _tokens(text: str) -> list:
    """``(kind, value)`` pairs; the argument of a braced script is kept as its source text."""
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        kind, value = m.lastgroup, m.group(0)
        pos = m.end()
        if kind in ("sub", "sup"):
            if value.endswith("{"):
                end = _braced(text, pos)
                value, pos = text[pos:end - 1], end
            else:
                value = value[1:]
        out.append((kind, value))
    return out


def _word(value: str):
    """A word token as a name, a function, a subscripted name (``w16`` -> w₁₆) or prose."""
    letters, digits = re.fullmatch(r"(.*?)(\d*)", value).groups()
    accent = ""
    if letters.endswith(("\u0303", "\u0304")):
        accent = "~" if letters[-1] == "\u0303" else "-"
        letters = letters[:-1]
    if letters in FUNCTIONS and not digits:
        return Func(letters)
    name = Ident(letters, accent)
    if digits:
        return Script(name, sub=Num(digits))
    if (len(letters) > 1 or not letters.isascii()) and not accent:  # a word, or French "à"
        return Words(letters)
    return name


def _flat(text: str) -> list:
    """Tokens -> a flat list of nodes, with scripts still loose (``("sub", node)``)."""
    items = []
    for kind, value in _tokens(text):
        if kind == "space":
            items.append(Space() if len(value) >= 2 else None)
        elif kind == "num":
            items.append(Num(value))
        elif kind == "quoted":
            items.append(Words(value.replace('"', "“", 1).replace('"', "”", 1)))
        elif kind == "code":
            items.append(Ident(value))
        elif kind == "word":
            items.append(_word(value))
        elif kind in ("sub", "sup"):
            items.append((kind, _row(_parse_script(value, kind == "sub"))))
        elif kind == "unisup":
            for ch in value:
                items.append(("sup", Op("′") if ch in "′'" else
                              Ident("⊤") if ch == "ᵀ" else Num(_SUPERSCRIPTS[ch])))
        elif kind == "unisub":
            items.append(("sub", Num(value.translate(_SUBSCRIPT_DIGITS))))
        elif value == "σ":
            items.append(Func("σ"))
        elif value in LARGE:
            items.append(Op(LARGE[value]))
        elif value in "λρθαβγδεημπφψωΔΦΘΛ∇":
            items.append(Ident(value))
        else:
            items.append(Op(_OPS.get(value, value)))
    return items


def _nest(items: list) -> list:
    """Brackets -> groups: ``(``, ``[``, ``{`` with their closers; ``|`` and ``‖`` in pairs."""
    out, stack = [], []
    for item in items:
        if isinstance(item, Op) and item.text in _FENCES:
            stack.append((item.text, out))
            out = []
        elif isinstance(item, Op) and stack and item.text == _FENCES[stack[-1][0]]:
            opener, outer = stack.pop()
            outer.append(Group(opener, tuple(out), item.text))
            out = outer
        else:
            out.append(item)
    while stack:  # an unclosed bracket stays an operator
        opener, outer = stack.pop()
        out = outer + [Op(opener)] + out
    return _pair_bars(out)


def _pair_bars(items: list) -> list:
    """``‖J^k‖`` and ``|λ|``: the first bar and the next one of the same kind at this level."""
    out = []
    k = 0
    while k < len(items):
        item = items[k]
        if isinstance(item, Op) and item.text in "|‖":
            close = next((j for j in range(k + 1, len(items))
                          if isinstance(items[j], Op) and items[j].text == item.text), None)
            if close is not None:
                out.append(Group(item.text, tuple(_pair_bars(items[k + 1:close])), item.text))
                k = close + 1
                continue
        if isinstance(item, Group):
            item = Group(item.open, tuple(_pair_bars(list(item.body))), item.close)
        out.append(item)
        k += 1
    return out


def _attach_scripts(items: list) -> list:
    """``("sub", x)`` and ``("sup", x)`` become scripts of the node before them."""
    out = []
    for item in items:
        if isinstance(item, Group):
            item = Group(item.open, tuple(_structure(list(item.body))), item.close)
        last = out[-1] if out else None
        if isinstance(item, tuple) and isinstance(last, Words) and last.text.isalpha():
            kind, arg = item  # dw_4: the differential d of w_4, one operand
            head = Ident(last.text[:-1]) if len(last.text) == 2 else Words(last.text[:-1])
            scripts = (arg, None) if kind == "sub" else (None, arg)
            out[-1] = Row((head, Script(Ident(last.text[-1]), *scripts)))
            continue
        has_base = out and out[-1] is not None and not isinstance(out[-1], (Space, Words))
        if isinstance(item, tuple) and has_base:
            kind, arg = item
            base = out.pop()
            if not isinstance(base, Script):
                base = Script(base)
            if kind == "sub" and base.sub is None:
                out.append(Script(base.base, arg, base.sup))
            elif kind == "sub" and base.sup is None:  # h4_in: h with the indices 4, in
                out.append(Script(base.base, Row((base.sub, Op(","), arg))))
            elif kind == "sup" and base.sup is None:
                out.append(Script(base.base, base.sub, arg))
            else:  # a second script of the same kind goes on top of the first
                out.append(Script(base, arg if kind == "sub" else None, arg if kind == "sup" else None))
        elif isinstance(item, tuple):
            out.append(item[1])
        else:
            out.append(item)
    return out


def _is_operand(node) -> bool:
    return node is not None and not isinstance(node, (Op, Space, Words))


def _combine(items: list) -> list:
    """Functions with their argument, ``∂`` with what it differentiates, then ``a / b``."""
    out = []
    for item in items:
        prev = out[-1] if out else None
        head = prev.base if isinstance(prev, Script) else prev
        if isinstance(item, Group) and item.open == "(" and isinstance(head, Func):
            out[-1] = Apply(out[-1], item)
        elif _is_operand(item) and isinstance(prev, Op) and prev.text == "∂":
            out[-1] = Row((prev, item))
        else:
            out.append(item)
    return _fractions(out)


def _strip(node):
    """The body of a parenthesised operand, which a fraction bar makes redundant."""
    if isinstance(node, Group) and node.open == "(":
        return Row(node.body)
    return node


def _fractions(items: list) -> list:
    out = []
    k = 0
    while k < len(items):
        item = items[k]
        nxt = next((j for j in range(k + 1, len(items)) if items[j] is not None), None)
        if (isinstance(item, Op) and item.text == "/" and out and _is_operand(_last(out))
                and nxt is not None and _is_operand(items[nxt])):
            while out and out[-1] is None:
                out.pop()
            out[-1] = Frac(_strip(out[-1]), _strip(items[nxt]))
            k = nxt + 1
            continue
        out.append(item)
        k += 1
    return out


def _last(items):
    return next((i for i in reversed(items) if i is not None), None)


def _signs(items: list) -> list:
    """A minus or plus with no operand before it is a sign: ``(−0.2)``, ``= −log y``."""
    out = []
    for item in items:
        prev = _last(out)
        if isinstance(item, Op) and item.text in ("−", "+", "±") and not _is_operand(prev):
            item = Op(item.text, prefix=True)
        out.append(item)
    return out


def _join_words(items: list) -> list:
    """Neighbouring words (single spaces between them) become one run of prose."""
    out = []
    for item in items:
        if isinstance(item, Words) and len(out) >= 2 and out[-1] is None and isinstance(out[-2], Words):
            out.pop()
            out[-1] = Words(out[-1].text + " " + item.text)
        elif isinstance(item, Words) and out and isinstance(out[-1], Words):
            out[-1] = Words(out[-1].text + item.text)
        else:
            out.append(item)
    return out


def _structure(items: list) -> list:
    return _join_words(_signs(_combine(_attach_scripts(items))))


def _row(nodes: list):
    nodes = [n for n in nodes if n is not None]
    return nodes[0] if len(nodes) == 1 else Row(tuple(nodes))


def _letters(node):
    """A subscript of letters (``hh``, ``hn``, ``in``) is a string of indices, not a word."""
    if isinstance(node, Words) and " " not in node.text:
        return Ident(node.text)
    if isinstance(node, Row):
        return Row(tuple(_letters(n) for n in node.items))
    return node


def parse(text: str) -> list:
    """One line of the notation -> its nodes (``None`` marks a single space between them)."""
    nodes = _structure(_nest(_flat(text.strip())))
    while nodes and nodes[-1] is None:
        nodes.pop()
    return nodes


def _parse_script(text: str, subscript: bool) -> list:
    """A script's argument; in a subscript, letters are indices (``W_hh``: h and h)."""
    nodes = parse(text)
    return [_letters(n) for n in nodes] if subscript else nodes


def split_lines(text: str) -> list:
    """A displayed block: its lines, each as ``(left, right)`` split at the first ``=`` (or
    ``(None, line)``); continuation lines (``    = …``) have an empty left side."""
    rows = []
    for line in text.splitlines():
        stripped = line.strip()
        m = re.match(r"(.*?\S)?\s*(=(?!=).*)$", stripped)
        if m and "=" in stripped and (m.group(1) is None or "(" not in m.group(1) or
                                      m.group(1).count("(") == m.group(1).count(")")):
            rows.append((m.group(1) or "", m.group(2)))
        else:
            rows.append((None, stripped))
    return rows


# --- MathML -------------------------------------------------------------------------------------

_THIN = '<mspace width="0.17em"></mspace>'
_WIDE = '<mspace width="1.5em"></mspace>'
_WORD_GAP = '<mspace width="0.3em"></mspace>'


def _ml_items(nodes, script=False) -> str:
    out = []
    prev, spaced = None, False
    for node in nodes:
        if node is None:
            spaced = True
            continue
        if spaced and (isinstance(node, Words) or isinstance(prev, Words)):
            out.append(_WORD_GAP)
        elif not script and ((_is_operand(prev) and _is_function(node)) or
                             (_is_function(prev) and not isinstance(prev, Apply) and _is_operand(node))):
            out.append(_THIN)  # "V tanh(…)", "log y": a thin space around a function name, as in print
        out.append(_ml(node, script))
        prev, spaced = node, False
    return "".join(out)


def _is_function(node) -> bool:
    return isinstance(node, (Func, Apply)) or isinstance(getattr(node, "base", None), Func)


# the brackets of a matrix, drawn by the box itself: they span its rows in any font (a stretched "["
# needs a font with a MATH table, which many systems lack)
_BRACKETS = ";".join([
    "padding:0 0.3em",
    "background:" + ",".join(f"linear-gradient(currentColor,currentColor) {where} no-repeat" for where in (
        "left top/1.5px 100%", "right top/1.5px 100%", "left top/0.3em 1.5px", "left bottom/0.3em 1.5px",
        "right top/0.3em 1.5px", "right bottom/0.3em 1.5px"))])


def _entries(group) -> list:
    """``[a, b, c]`` -> ``[a, b, c]`` as nodes (each entry one operand, signs included)."""
    entries, current = [], []
    for item in group.body:
        if isinstance(item, Op) and item.text == ",":
            entries.append(current)
            current = []
        elif item is not None:
            current.append(item)
    entries.append(current)
    return [_row(e) for e in entries if e]


def _matrix_rows(group):
    """``[[0.8, 0.1], [-0.1, 0.8]]`` (rows of numbers in brackets) -> its rows, else ``None``."""
    if group.open != "[":
        return None
    rows = _entries(group)
    if not rows or not all(isinstance(r, Group) and r.open == "[" for r in rows):
        return None
    cells = [_entries(r) for r in rows]
    numeric = all(isinstance(c, Num) or (isinstance(c, Row) and isinstance(c.items[-1], Num))
                  for row in cells for c in row)
    return cells if numeric and len({len(row) for row in cells}) == 1 else None


def _mi(text: str) -> str:
    return f"<mi>{escape(text)}</mi>"


def _ml(node, script=False) -> str:
    if isinstance(node, Num):
        return f"<mn>{escape(node.text)}</mn>"
    if isinstance(node, Ident):
        if script and len(node.text) in (2, 3) and node.text.isalpha():
            return "<mrow>" + "".join(_mi(c) for c in node.text) + "</mrow>"  # W_hh: two indices
        base = _mi(node.text)
        if node.accent:
            mark = "˜" if node.accent == "~" else "¯"
            return f'<mover accent="true">{base}<mo stretchy="false">{mark}</mo></mover>'
        return base
    if isinstance(node, Func):
        return _mi(node.name)
    if isinstance(node, Op):
        form = ' form="prefix"' if node.prefix else ""
        if node.text in LARGE.values():
            return f'<mo largeop="true" movablelimits="true"{form}>{node.text}</mo>'
        return f"<mo{form}>{escape(node.text)}</mo>"
    if isinstance(node, Words):
        return f"<mtext>{escape(node.text)}</mtext>"
    if isinstance(node, Space):
        return _WIDE
    if isinstance(node, Group):
        rows = _matrix_rows(node)
        if rows:
            cell = '<mtd style="padding:0.1em 0.4em;text-align:right">{}</mtd>'
            cells = "".join("<mtr>" + "".join(cell.format(_ml(c, script)) for c in row) + "</mtr>"
                            for row in rows)
            return f'<mtable class="matrix" style="{_BRACKETS}">{cells}</mtable>'
        if node.open == "(" and len([n for n in node.body if n is not None]) == 1 and isinstance(
                _last(node.body), Frac):  # (∂h_k/∂h_{k-1}): the bar groups, as in print
            return _ml(_last(node.body), script)
        inner = f"<mrow>{_ml_items(node.body, script)}</mrow>"
        if not node.open:
            return inner
        return (f'<mrow><mo fence="true" form="prefix">{escape(node.open)}</mo>{inner}'
                f'<mo fence="true" form="postfix">{escape(node.close)}</mo></mrow>')
    if isinstance(node, Script):
        return _ml_script(node, script)
    if isinstance(node, Frac):
        return f"<mfrac><mrow>{_ml(node.num, script)}</mrow><mrow>{_ml(node.den, script)}</mrow></mfrac>"
    if isinstance(node, Apply):
        return f"<mrow>{_ml(node.func, script)}<mo>\u2061</mo>{_ml(node.arg, script)}</mrow>"
    if isinstance(node, Row):
        return f"<mrow>{_ml_items(node.items, script)}</mrow>"
    raise _not_a_node(node)


def _ml_script(node, script) -> str:
    base = _ml(node.base, script)
    sub = node.sub is not None and f"<mrow>{_ml(node.sub, True)}</mrow>"
    sup = node.sup is not None and f"<mrow>{_ml(node.sup, True)}</mrow>"
    large = isinstance(node.base, Op) and node.base.text in LARGE.values()
    under, over = ("munder", "mover") if large else ("msub", "msup")
    if sub and sup:
        tag = "munderover" if large else "msubsup"
        return f"<{tag}>{base}{sub}{sup}</{tag}>"
    if sub:
        return f"<{under}>{base}{sub}</{under}>"
    return f"<{over}>{base}{sup}</{over}>"


def _ml_line(text: str) -> str:
    return f"<mrow>{_ml_items(parse(text))}</mrow>"


def formula_mathml(text: str, display: bool = False) -> str:
    """One formula of the notation as one MathML ``<math>`` element.

    ``display=True``: a displayed equation (``display="block"``); a text of several lines becomes
    an ``<mtable>``, its lines aligned on their first ``=``. The source text is kept as the
    element's ``alttext`` and its LaTeX as an annotation (copy, search, screen readers)."""
    lines = [line for line in text.splitlines() if line.strip()] or [""]
    if len(lines) == 1:
        body = _ml_line(lines[0])
    else:
        rows = split_lines("\n".join(lines))
        aligned = sum(left is not None for left, _ in rows) >= 2
        cells = []
        for left, right in rows:
            if aligned and left is not None:
                cells.append(f'<mtr><mtd style="text-align:right;padding:0.1em 0">{_ml_line(left)}</mtd>'
                             f'<mtd style="text-align:left;padding:0.1em 0">{_ml_line(right)}</mtd></mtr>')
            else:
                span = ' columnspan="2"' if aligned else ""
                cells.append(f'<mtr><mtd{span} style="text-align:left;padding:0.1em 0">'
                             f"{_ml_line(right)}</mtd></mtr>")
        style = ' displaystyle="true"' if display else ""  # a table's cells are compact unless told
        body = f"<mtable{style}>{''.join(cells)}</mtable>"
    tex = formula_latex(text)
    mode = ' display="block"' if display else ""
    return (f'<math{mode} alttext="{escape(text)}"><semantics>{body}'
            f'<annotation encoding="application/x-tex">{escape(tex)}</annotation></semantics></math>')


def split_wide(text: str) -> list:
    """A one-line formula cut at its wide gaps (two or more spaces, or ``; ``, outside brackets):
    pieces a narrow column may put on lines of their own, since a browser does not break MathML."""
    if "\n" in text.strip():
        return [text]
    pieces, depth, start = [], 0, 0
    for m in re.finditer(r"[([{]|[)\]}]| {2,}|; +", text):
        if m.group()[0] in "([{":
            depth += 1
        elif m.group()[0] in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0:
            pieces.append(text[start:m.end()].rstrip())
            start = m.end()
    pieces.append(text[start:])
    return [p for p in pieces if p.strip()] or [text]


def inline_mathml(text: str) -> str:
    """A formula in running text or a table cell: :func:`formula_mathml` of each piece of
    :func:`split_wide`, separated by spaces, so that a long formula may wrap between them."""
    return " ".join(formula_mathml(piece) for piece in split_wide(text))


# --- LaTeX, from the same tree ------------------------------------------------------------------

_TEX_OPS = {"×": r"\times", "⊙": r"\odot", "·": r"\cdot", "−": "-", "≈": r"\approx", "→": r"\to",
            "⟶": r"\longrightarrow", "⟵": r"\longleftarrow", "←": r"\leftarrow", "⇒": r"\Rightarrow",
            "≤": r"\le", "≥": r"\ge", "≠": r"\neq", "∈": r"\in", "±": r"\pm", "…": r"\dots", "⋯": r"\cdots",
            "∂": r"\partial", "∑": r"\sum", "∏": r"\prod", "′": r"\prime", "∞": r"\infty", "%": r"\%",
            "#": r"\#", "&": r"\&", "$": r"\$", "~": r"\sim", "√": r"\surd", "✓": r"\checkmark",
            "✗": r"\times", "°": r"^\circ", "↔": r"\leftrightarrow", "⇔": r"\Leftrightarrow",
            "↦": r"\mapsto", "≡": r"\equiv", "∝": r"\propto", "∘": r"\circ", "⊗": r"\otimes",
            "⊕": r"\oplus", "∉": r"\notin", "⊂": r"\subset", "∪": r"\cup", "∩": r"\cap", "∀": r"\forall",
            "∃": r"\exists", "_": r"\_", "^": r"\hat{}", "\\": r"\backslash"}
_TEX_IDENTS = {"λ": r"\lambda", "ρ": r"\rho", "θ": r"\theta", "α": r"\alpha", "β": r"\beta",
               "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "η": r"\eta", "μ": r"\mu", "π": r"\pi",
               "φ": r"\varphi", "ψ": r"\psi", "ω": r"\omega", "Δ": r"\Delta", "Φ": r"\Phi",
               "Θ": r"\Theta", "Λ": r"\Lambda", "∇": r"\nabla", "⊤": r"\top"}
_TEX_FENCES = {"(": "(", ")": ")", "[": "[", "]": "]", "{": r"\{", "}": r"\}", "|": "|", "‖": r"\|"}
_TEX_TEXT = str.maketrans({"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                           "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                           "^": r"\textasciicircum{}"})


def _tex_items(nodes) -> str:
    out = []
    for node in nodes:
        if node is None:
            continue
        piece = _tex(node)
        if out and out[-1][-1:].isalpha() and piece[:1].isalpha():
            out.append(" ")  # "\cdot x", not "\cdotx"
        out.append(piece)
    return "".join(out)


def _tex(node) -> str:
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Ident) and not node.text.isascii() and node.text not in _TEX_IDENTS:
        return r"\text{" + node.text + "}"  # à, î: text letters (T1), not symbols of math mode
    if isinstance(node, Ident):
        name = _TEX_IDENTS.get(node.text, node.text)
        if (len(name) > 3 or "_" in name) and not name.startswith("\\"):  # a name in code
            name = r"\mathrm{" + name.translate(_TEX_TEXT) + "}"
        return {"~": rf"\tilde{{{name}}}", "-": rf"\bar{{{name}}}"}.get(node.accent, name)
    if isinstance(node, Func):
        return FUNCTIONS[node.name]
    if isinstance(node, Op):
        tex = _TEX_OPS.get(node.text, _TEX_FENCES.get(node.text))
        if tex is None:
            return node.text if node.text.isascii() else r"\text{" + node.text.translate(_TEX_TEXT) + "}"
        return tex
    if isinstance(node, Words):
        return r"\text{ " + node.text.translate(_TEX_TEXT) + " }"
    if isinstance(node, Space):
        return r"\qquad "
    if isinstance(node, Group):
        rows = _matrix_rows(node)
        if rows:
            return (r"\begin{bmatrix}" + r" \\ ".join(" & ".join(_tex(c) for c in row) for row in rows)
                    + r"\end{bmatrix}")
        inner = _tex_items(node.body)
        return f"{_TEX_FENCES[node.open]}{inner}{_TEX_FENCES[node.close]}" if node.open else f"{{{inner}}}"
    if isinstance(node, Script):
        out = "{" + _tex(node.base) + "}"
        if node.sub is not None:
            out += "_{" + _tex(node.sub) + "}"
        if node.sup is not None:
            out += "^{" + _tex(node.sup) + "}"
        return out
    if isinstance(node, Frac):
        return rf"\frac{{{_tex(node.num)}}}{{{_tex(node.den)}}}"
    if isinstance(node, Apply):
        return _tex(node.func) + _tex(node.arg)
    if isinstance(node, Row):
        return _tex_items(node.items)
    raise _not_a_node(node)


def formula_latex(text: str) -> str:
    """The same formula as LaTeX mathematics (without the dollars), from the same parse; several
    lines become an ``aligned`` block."""
    lines = [line for line in text.splitlines() if line.strip()] or [""]
    if len(lines) == 1:
        return _tex_items(parse(lines[0]))
    rows = []
    for left, right in split_lines("\n".join(lines)):
        rows.append(f"{_tex_items(parse(left))} &".lstrip() + _tex_items(parse(right)) if left is not None
                    else f"&{_tex_items(parse(right))}")
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


# --- what is a formula -------------------------------------------------------------------------

_CODE = re.compile(r"^\s*(?:class|def|for|if|while)\b[^\n]*:\s*(?:#[^\n]*)?$|^\s*return\b|self\.|\+-{3,}"
                   r"|-->|<--|(?<!_[A-Za-z])\[:,"
                   r"|\w\(\.\.\.|\b(?:sorted|set|len|range|print|torch|nn|np)\s*[.(]"
                   r"|\b[A-Za-z]\w*\([^()]*\w=\S|[\w\])]\.[A-Za-z_]{2,}\(|\b[a-z]{2,}_[a-z_]{3,}\s*[(\[]"
                   r"|\b[A-Za-z]\.[A-Za-z_]{2,}\b|^[A-Za-z]\w*_[a-z]{4,}$|^(?:tanh|exp|log)_\w+$", re.M)
_STRONG = re.compile(r"[_^=×·⊙σ∂Σ∑²³ᵀ≈∇‖→]|\btanh\b|\bsoftmax\b")
_SHAPE = re.compile(r"[\w\s.,()\[\]+−\-×/|'′\u0303\u0304]+")


def is_code(text: str) -> bool:
    """Program text (the Notebook's code, ASCII drawings, ``U.weight``, ``sorted(set(text))``),
    to be shown as code, not typeset."""
    return _CODE.search(text) is not None


def _prose_share(text: str) -> float:
    """How much of ``text`` (not counting spaces) is words: runs of two letters or more that name no
    function, snake_case names of code included, subscripts (``h_t``, ``W_hh``) not."""
    # a name in code (train_rnn) is a word
    text = re.sub(r"\b[A-Za-z]{2,}_[A-Za-z]{2,}\w*", lambda m: "a" * len(m.group()), text)
    bare = re.sub(r"_(?:\{[^{}]*\}|\w+)", "", text)  # subscripts are not words
    words = [w for w in re.findall(r"[A-Za-zÀ-ÿ]{2,}", bare) if w not in FUNCTIONS]
    return sum(map(len, words)) / max(1, len(re.sub(r"\s", "", text)))


def looks_like_formula(text: str) -> bool:
    """A table cell or header in the course's notation (``W_hh``, ``i × C̃``, ``(2, 8) → (2, 5)``,
    ``dy = y_T − onehot(target) at t = T only``), not prose (``classify a single image``,
    ``TD, ex. 3, forward list of ∂h_1/∂U``: mostly words), code or a quoted character (``'a'``)."""
    text = text.strip()
    if (not text or is_number(text) or is_code(text) or text[0] in "'\"" or re.fullmatch(r"\d+,\d+", text)
            or re.fullmatch(r"[a-z]{2,}-[\w.-]+", text)):  # a misprinted "4,78", an id such as tp-1.2
        return False
    share = _prose_share(text)
    if _STRONG.search(text):
        return share <= 0.55
    return share == 0 and _SHAPE.fullmatch(text) is not None and re.search(r"[A-Za-z()\[]", text) is not None


# --- numbers in columns -------------------------------------------------------------------------

NUMBER = re.compile(r"[-−]?\d+(?:\.\d+)?(?:e[+-]\d+)?|[-−]?inf|nan")


def is_number(text) -> bool:
    """``0.5498``, ``-3``, ``1.1e-19``, ``inf``: a number as a table shows it."""
    return isinstance(text, str) and NUMBER.fullmatch(text.strip()) is not None


def decimal_aligned_cells(values, precision: int = 4) -> list:
    """A column of numbers as HTML, aligned on the decimal point.

    Each cell is the number as written (numbers not yet strings at ``precision`` decimals), then an
    empty ``<span class="dp" data-pad="…">`` whose CSS ``::after`` content, invisible, fills the
    place of the decimals it lacks against the longest fraction in the column; with the cell
    right-aligned and figures of one width (``font-variant-numeric: tabular-nums``) every point
    falls on one vertical line. The pad is not text: copying a cell copies the number only."""
    texts = [v.strip() if isinstance(v, str) else _fixed(v, precision) for v in values]

    def after_point(text):
        """How many characters from the decimal point to the end (``None``: not a number)."""
        if not is_number(text):
            return None
        return len(text) - text.index(".") if "." in text else 0

    tails = [after_point(t) for t in texts]
    width = max((n for n in tails if n is not None), default=0)
    out = []
    for text, have in zip(texts, tails):
        pad = "" if have is None or have == width else ("." if have == 0 else "") + "0" * (
            width - have - (1 if have == 0 else 0))
        out.append(escape(text) + (f'<span class="dp" data-pad="{pad}"></span>' if pad else ""))
    return out


def _fixed(value, precision) -> str:
    from .trace.document import fmt

    return fmt(value, precision)


# --- the CSS the markup above needs --------------------------------------------------------------

CSS = """
math{font-family:"STIX Two Math","Latin Modern Math","Cambria Math",math;font-size:1.08em}
math[display=block]{margin:.5em 0 .5em 1em;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.dp::after{content:attr(data-pad);visibility:hidden}
"""


__all__ = ["CSS", "decimal_aligned_cells", "formula_latex", "formula_mathml", "inline_mathml", "is_code",
           "is_number", "looks_like_formula", "parse", "split_wide"]
