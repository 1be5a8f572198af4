"""Write docs/reference.md: rnnlab's public API, from the docstrings of its public modules.

The source is read with :mod:`ast`, never imported, so the reference is the same on every
machine (with or without PyTorch) and a module's import-time work cannot change it. For each
module: its docstring, then each public class and function (``__all__`` when the module
defines it, else every top-level name without a leading underscore), with its signature and
its docstring; for a class, its public methods and properties.

    python docs/gen_reference.py            # rewrite docs/reference.md
    python docs/gen_reference.py --check    # exit 1 if docs/reference.md is out of date

``tests/test_docs.py`` runs the check.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "rnnlab"
OUTPUT = ROOT / "docs" / "reference.md"

# (module, what it is for), in the order a reader meets them
MODULES = (
    ("rnnlab.functional", "activations and losses with their derivatives"),
    ("rnnlab.cells.rnn", "the Elman cell"),
    ("rnnlab.cells.lstm", "the LSTM cell"),
    ("rnnlab.cells.gru", "the GRU cell, both reset variants"),
    ("rnnlab.cells.lnlstm", "the layer-normalised LSTM cell"),
    ("rnnlab.cells", "the cell registry: choosing a cell, adding one"),
    ("rnnlab.sequence", "the one unroll and its BPTT"),
    ("rnnlab.module", "the one module base: live parameters, in-place state dicts"),
    ("rnnlab.layers", "RNN, LSTM, GRU layers (PyTorch's arguments and shapes)"),
    ("rnnlab.weights", "a layer's weights read from a file"),
    ("rnnlab.gradcheck", "finite-difference gradient checks"),
    ("rnnlab.errors", "the errors rnnlab raises"),
    ("rnnlab.schema", "JSON read with bounds, checked against a declarative schema"),
    ("rnnlab.memory", "the memory a run needs, checked before allocating"),
    ("rnnlab.i18n", "French and English output"),
    ("rnnlab.trace.record", "forward traces"),
    ("rnnlab.trace.backward", "backward traces"),
    ("rnnlab.trace.cells", "each cell's trace hooks, and the generic trace"),
    ("rnnlab.trace.presets", "the course's exercises, solved"),
    ("rnnlab.trace.render", "rendering traces (text, Markdown, LaTeX, JSON, HTML)"),
    ("rnnlab.typeset", "the course's notation typeset as MathML (and LaTeX), numbers aligned on the point"),
    ("rnnlab.trace.config", "traces from a user's configuration file"),
    ("rnnlab.analysis", "gradient flow through time"),
    ("rnnlab.course", "the TP's exercise 1.2 (vanishing gradient)"),
    ("rnnlab.autodiff", "scalar reverse-mode automatic differentiation"),
    ("rnnlab.tape", "the course's Wengert lists, formulas typed by a user, the TD's graph"),
    ("rnnlab.plots", "the course's figures"),
    ("rnnlab.models", "Linear, Embedding, Dropout, the character language model"),
    ("rnnlab.seqmodels", "many-to-one, many-to-many, one-to-many models"),
    ("rnnlab.optim", "optimisers, clipping, schedules"),
    ("rnnlab.data.text", "vocabularies, one-hot, windows, batches"),
    ("rnnlab.data.corpora", "the bundled corpora"),
    ("rnnlab.data.table", "CSV files read strictly"),
    ("rnnlab.data.series", "time series"),
    ("rnnlab.data.tasks", "synthetic long-memory tasks"),
    ("rnnlab.training.run", "the one training engine: budget, evaluations, checkpoints, resume"),
    ("rnnlab.training.history", "the history of a run: one format, one CSV, one figure"),
    ("rnnlab.train", "training a character language model"),
    ("rnnlab.sample", "generating text"),
    ("rnnlab.checkpoint", "checkpoints"),
    ("rnnlab.tasks", "training sequence models on tasks"),
    ("rnnlab.forecast", "forecasting"),
    ("rnnlab.interop.pytorch", "PyTorch state dicts and modules, the corrected myRNN"),
    ("rnnlab.interop.torch_models", "PyTorch counterparts of the models"),
    ("rnnlab.interop.keras", "Keras weights"),
    ("rnnlab.interop.charrnn", "char-rnn (Lua) weights"),
)


def module_path(name: str) -> Path:
    rel = Path(*name.split(".")[1:])
    package = PACKAGE / rel / "__init__.py"
    return package if package.exists() else PACKAGE / rel.with_suffix(".py")


def literal_all(tree: ast.Module) -> list | None:
    """The names of a literal ``__all__`` (starred parts are skipped), or None."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            if isinstance(node.value, (ast.List, ast.Tuple)):
                return [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return None


def signature(node) -> str:
    args = ast.unparse(node.args)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{node.name}({args}){returns}"


def docstring_block(doc: str | None, indent: str = "") -> list:
    if not doc:
        return [indent + "*(no docstring)*", ""]
    return [indent + "```text", *((indent + line).rstrip() for line in doc.splitlines()), indent + "```", ""]


def is_property(node) -> bool:
    return any(ast.unparse(d) in ("property", "cached_property", "functools.cached_property") for d in node.decorator_list)


def document_class(node: ast.ClassDef, module: str) -> list:
    bases = ", ".join(ast.unparse(b) for b in node.bases)
    init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    head = signature(init).replace("__init__(self, ", f"{node.name}(").replace("__init__(self)", f"{node.name}()") \
        if init else f"{node.name}" + (f"({bases})" if bases else "")
    lines = [f"### class `{module}.{node.name}`", "", "```python", head, "```", ""]
    if bases:
        lines += [f"Bases: `{bases}`", ""]
    lines += docstring_block(ast.get_docstring(node))
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) or item.name.startswith("_"):
            continue
        kind = "property" if is_property(item) else ("classmethod" if any(
            ast.unparse(d) == "classmethod" for d in item.decorator_list) else "method")
        shown = item.name if kind == "property" else signature(item).replace("(self, ", "(").replace("(self)", "()") \
            .replace("(cls, ", "(").replace("(cls)", "()")
        lines += [f"- {kind} `{shown}`", ""]
        doc = ast.get_docstring(item)
        if doc:
            lines += docstring_block(doc, "  ")
    return lines


def document_module(name: str, purpose: str) -> tuple[list, int, list]:
    path = module_path(name)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    defined = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    names = literal_all(tree)
    if names is None:
        names = [n for n in defined if not n.startswith("_")]
    names = [n for n in names if n in defined]  # re-exports are documented where they are defined
    rel = path.relative_to(ROOT).as_posix()
    lines = [f"## `{name}` — {purpose}", "", f"Source: [`{rel}`](../{rel})", ""]
    lines += docstring_block(ast.get_docstring(tree))
    missing = []
    for n in names:
        node = defined[n]
        if ast.get_docstring(node) is None:
            missing.append(f"{name}.{n}")
        if isinstance(node, ast.ClassDef):
            lines += document_class(node, name)
        else:
            lines += [f"### `{name}.{n}`", "", "```python", signature(node), "```", ""]
            lines += docstring_block(ast.get_docstring(node))
    return lines, len(names), missing


def top_level_exports() -> list:
    """``rnnlab.X`` for each name of ``rnnlab.__all__``, with the module it comes from."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    origin = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                origin[alias.asname or alias.name] = (f"rnnlab.{node.module}" if node.module else "rnnlab", alias.name)
    rows = []
    for n in literal_all(tree) or []:
        mod, real = origin.get(n, ("rnnlab", n))
        target = mod if real == n or mod == "rnnlab" else f"{mod}.{real}"
        rows.append(f"| `rnnlab.{n}` | `{target if real != n else mod + '.' + n}` |")
    return rows


def generate() -> str:
    lines = ["<!-- generated by docs/gen_reference.py from the docstrings; do not edit by hand -->", "",
             "# rnnlab API reference", "",
             "The public modules of rnnlab, each with its docstring and the signature and docstring of "
             "every public class and function. The equations are written in the course's notation; shapes "
             "are time-major `(T, B, D)` unless `batch_first=True`. Regenerate with "
             "`python docs/gen_reference.py` (a test checks that this file is up to date).", "",
             "## Names exported by `import rnnlab`", "", "| name | defined in |", "|---|---|",
             *top_level_exports(), "", "## Modules", ""]
    body, count, missing = [], 0, []
    for name, purpose in MODULES:
        lines.append(f"- [`{name}`](#{anchor(name, purpose)}) — {purpose}")
        part, n, miss = document_module(name, purpose)
        body += part
        count += n
        missing += miss
    lines += ["", f"{count} public classes and functions in {len(MODULES)} modules.", ""]
    return "\n".join(lines + body).rstrip() + "\n"


def anchor(name: str, purpose: str) -> str:
    """GitHub's anchor for the heading ``## `name` — purpose``."""
    text = f"{name} — {purpose}".lower()
    return "".join(c for c in text.replace(" ", "-") if c.isalnum() or c in "-_")


def missing_docstrings() -> list:
    return [m for name, purpose in MODULES for m in document_module(name, purpose)[2]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/reference.md is out of date")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is out of date: run python docs/gen_reference.py", file=sys.stderr)
            return 1
        return 0
    fd, tmp = tempfile.mkstemp(dir=OUTPUT.parent, prefix=".reference.", suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; the reference is an ordinary file
    os.replace(tmp, OUTPUT)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    undocumented = missing_docstrings()
    if undocumented:
        print(f"{len(undocumented)} public name(s) without a docstring: {', '.join(undocumented)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
