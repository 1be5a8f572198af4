"""The cell explorer's computations: a ``rnnlab trace`` config in, the trace out (the same rows
as ``rnnlab trace``: quantity, formula, numbers substituted, value), through the trace record
(:mod:`rnnlab.trace.record`, :mod:`rnnlab.trace.backward`) and its renderers; the exercise
presets turned into configs; a config exported as JSON, Markdown or LaTeX."""

from __future__ import annotations

import functools

import numpy as np

from ..errors import ConfigError
from ..i18n import say
from ..trace import config as trace_config
from ..trace.cells import hooks
from ..trace.layout import gradient_rows, step_rows
from ..typeset import decimal_aligned_cells, formula_mathml

# the explorer's cell menu: a registered cell, the notation of its config, its options
VARIANTS = {
    "rnn": ("rnn", "course", {}),
    "lstm": ("lstm", "course", {}),
    "gru": ("gru", "course", {"reset": "before"}),  # the Chapitre's GRU (Cho's reset, Chung's z)
    "gru-pytorch": ("gru", "pytorch", {"reset": "after"}),  # torch.nn.GRU
}
EXPORTS = ("json", "md", "latex")


@functools.lru_cache(maxsize=4096)
def _mathml(text: str) -> str:
    """A label or formula typeset once: they repeat from edit to edit, only the values change."""
    return formula_mathml(text)


def _rows(rows, precision) -> list:
    """``rnnlab trace``'s rows for the page: the text, and the quantity and formula typeset as
    MathML (:mod:`rnnlab.typeset`), the values as a column aligned on the decimal point."""
    values = decimal_aligned_cells([r.value for r in rows], precision)
    return [{"label": r.label, "formula": r.formula, "arithmetic": r.arithmetic, "value": r.value,
             "label_markup": _mathml(r.label), "value_markup": value,
             "formula_markup": _mathml(r.formula) if r.formula else ""} for r, value in zip(rows, values)]


def _norm(v) -> float:
    return float(np.linalg.norm(np.ravel(v)))


def trace(cfg: dict):
    """The trace of ``cfg`` (a ``rnnlab trace`` config; ConfigError naming the key)."""
    if not isinstance(cfg, dict):
        got = type(cfg).__name__
        raise ConfigError(say(f"config: expected an object (a rnnlab trace config), got {got}",
                              f"config : objet attendu (une config de rnnlab trace), reçu {got}"))
    return trace_config.trace_from_config(cfg, "config")


def trace_payload(cfg: dict, precision: int = 4) -> dict:
    """Everything the explorer draws: the exact values (the JSON renderer's), the rows of each
    step as ``rnnlab trace`` prints them, the backward rows and weight gradients, the magnitude
    of ∂L/∂state at each step (the path back through time) and a config of the same state."""
    from ..trace.render.common import trace_facts
    from ..trace.render.json import trace_to_dict

    tr = trace(cfg)
    out = {
        "values": trace_to_dict(tr),
        "facts": [[label, text] for label, text in trace_facts(tr, precision)],
        "steps": [{"t": s.t, "rows": _rows(step_rows(tr, s, precision), precision)} for s in tr.steps],
        "state_keys": list(hooks(tr.cell).STATE_KEYS),
        "config": config_from_trace(tr, cfg.get("notation")),
    }
    given = cfg.get("upstream") or {}
    if "C_final" in given:  # ∂L/∂C_T: not kept by the backward trace, kept in the config
        out["config"].setdefault("upstream", {})["C_final"] = np.ravel(given["C_final"]).tolist()
    back = tr.backward
    if back is not None:
        out["backward"] = {
            "steps": [{"t": s.t, "rows": _rows(step_rows(tr, s, precision, backward=True), precision)}
                      for s in back.steps],
            "gradients": _rows(gradient_rows(tr, precision), precision),
            # the path back through time: at each step t = T … 1, ‖∂L/∂h_t‖ (and ‖∂L/∂C_t‖) and what
            # flows on to step t − 1, ‖∂L/∂h_{t-1}‖ from t (and ‖∂L/∂C_{t-1}‖)
            "path": [{"t": s.t, **{k: _norm(s.values[k]) for k in s.values
                                   if k in ("d_h", "d_C", "d_h_prev", "d_C_prev")}} for s in back.steps],
            "grad_norms": {k: _norm(v) for k, v in back.grads.items()},
        }
    return out


def config_from_trace(tr, notation: str | None = None) -> dict:
    """A ``rnnlab trace`` config that gives back ``tr`` (its weights in ``notation``: the course's
    when the cell has them all, else PyTorch's fused ones), its upstream gradients included."""
    hook = hooks(tr.cell)
    if notation is None:
        complete = hook.COURSE_WEIGHTS and all(k in tr.course for k in hook.COURSE_WEIGHTS)
        notation = "course" if complete else "pytorch"
    cfg = {"cell": tr.cell, "notation": notation}
    if tr.options:
        cfg["options"] = dict(tr.options)
    if notation == "course":
        cfg["weights"] = {k: np.asarray(tr.course[k]).tolist() for k in hook.COURSE_WEIGHTS}
    else:
        cfg["weights"] = {k: tr.params[f"{k}_l0"].tolist() for k in trace_config.PYTORCH_WEIGHTS
                          if f"{k}_l0" in tr.params}
    cfg["inputs"] = tr.x.tolist()
    cfg["initial_state"] = {k: s.tolist() for k, s in zip(hook.STATE_KEYS, tr.state0)}
    if tr.output_layer is not None:
        cfg["output"] = {"W_hy": tr.output_layer["W_hy"].tolist(), "b_y": tr.output_layer["b_y"].tolist(),
                         "softmax": tr.output_layer["softmax"]}
    back = tr.backward
    if back is not None:
        if back.loss is not None:
            targets = {str(t): np.asarray(v).tolist() for t, v in back.loss["targets"].items()}
            cfg["upstream"] = {"loss": {"type": back.loss["type"], "targets": targets}}
        else:
            cfg["upstream"] = {"h": {str(t): v.tolist() for t, v in sorted(back.upstream.items())}}
            if back.upstream_y:
                cfg["upstream"]["y"] = {str(t): v.tolist() for t, v in sorted(back.upstream_y.items())}
    return cfg


def variant_config(variant: str) -> dict:
    """The example config of one entry of the cell menu (:data:`VARIANTS`); the GRU of PyTorch is
    the example GRU's fused weights with the reset after the matmul."""
    if variant not in VARIANTS:
        raise ConfigError(say(f"cell: expected one of {', '.join(VARIANTS)}, got {variant!r}",
                              f"cellule : une valeur parmi {', '.join(VARIANTS)} attendue, reçu {variant!r}"))
    cell, notation, options = VARIANTS[variant]
    base = trace_config.example(cell)
    if notation == "course":
        return base
    cfg = config_from_trace(trace(base), "pytorch")
    cfg["options"] = dict(options)
    return cfg


def convert(cfg: dict, notation: str) -> dict:
    """The same state in the other notation (course ↔ PyTorch's fused weights)."""
    if notation not in ("course", "pytorch"):
        raise ConfigError(say(f"notation: expected 'course' or 'pytorch', got {notation!r}",
                              f"notation : « course » ou « pytorch » attendu, reçu « {notation} »"))
    tr = trace(cfg)
    if notation == "course" and not all(k in tr.course for k in (hooks(tr.cell).COURSE_WEIGHTS or ("-",))):
        raise ConfigError(say(f"notation: the {tr.cell} cell with options {tr.options} has no course "
                              "notation here (the GRU with reset 'after' is PyTorch's); expected 'pytorch'",
                              f"notation : la cellule {tr.cell} avec les options {tr.options} n'a pas de "
                              "notation du cours ici (le GRU avec la porte de réinitialisation « after » "
                              "est celui de PyTorch) ; « pytorch » attendu"))
    return config_from_trace(tr, notation)


def preset_traces(preset_id: str) -> dict:
    """The traces of one exercise of the course, each as a config the explorer starts from."""
    from ..trace import presets
    from ..trace.document import TraceBlock

    pid = presets.resolve(preset_id)
    doc = presets.build(pid)
    blocks = [b for b in doc.blocks if isinstance(b, TraceBlock)]
    return {"id": pid, "title": doc.title,
            "traces": [{"title": b.title or doc.title, "config": config_from_trace(b.trace)} for b in blocks]}


def export(cfg: dict, fmt: str, precision: int = 4) -> dict:
    """The current state as a config (JSON) or as ``rnnlab trace`` renders it (Markdown, LaTeX)."""
    from ..i18n import language
    from ..trace.document import Document, TraceBlock
    from ..trace.render import render

    if fmt not in EXPORTS:
        raise ConfigError(say(f"format: expected one of {', '.join(EXPORTS)}, got {fmt!r}",
                              f"format : une valeur parmi {', '.join(EXPORTS)} attendue, reçu {fmt!r}"))
    tr = trace(cfg)
    if fmt == "json":
        return {"format": fmt, "filename": "trace.json",
                "text": trace_config.dump_config(config_from_trace(tr, cfg.get("notation"))) + "\n"}
    title = str(cfg.get("title") or say("Trace from rnnlab lab", "Trace depuis rnnlab lab"))
    doc = Document("trace", title, precision=precision, lang=language())
    doc.add(TraceBlock(tr))
    return {"format": fmt, "filename": "trace." + {"md": "md", "latex": "tex"}[fmt], "text": render(doc, fmt)}
