"""JSON rendering: machine-readable, exact float64 values (not rounded).

Each trace is ``{"cell", "options", "input_size", "hidden_size", "parameters", "initial_state",
"steps": [{"t": 1, "x": […], "z_f": […], "f": […], …}], "backward": {…}}`` with the course's
names in ASCII (LSTM ``z_f, f, z_i, i, z_C, C_tilde, C, z_o, o, tanh_C, h``; RNN ``z, h, y``;
GRU ``a_z, z, a_r, r, rh, a_h, h_tilde, h``); backward keys are ``d_<name>``.

Every other block is kept too: paragraphs in ``"answers"``, displayed formulas in ``"formulas"``,
tables in ``"tables"`` (``{"caption", "headers", "rows"}``, numbers unrounded), errata in
``"errata"`` (and a table with a ``key`` under that key, one object per row).
"""

from __future__ import annotations

import json

import numpy as np

from ..document import Erratum, Formula, Table, Text, TraceBlock
from ..layout import state_names


def _plain(value):
    if isinstance(value, np.ndarray) and np.iscomplexobj(value):
        return {"real": value.real.tolist(), "imag": value.imag.tolist()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, complex):
        return {"real": value.real, "imag": value.imag}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def trace_to_dict(trace) -> dict:
    names = state_names(trace)
    out = {
        "cell": trace.cell,
        "options": dict(trace.options),
        "input_size": trace.input_size,
        "hidden_size": trace.hidden_size,
        "parameters": _plain(trace.course),
        "initial_state": {n: s.tolist() for n, s in zip(names, trace.state0)},
        "steps": [{"t": s.t, "x": s.x.tolist(), **_plain(s.values)} for s in trace.steps],
    }
    if trace.output_layer is not None:
        out["output_layer"] = _plain(trace.output_layer)
    back = trace.backward
    if back is not None:
        out["backward"] = {
            "upstream": {f"d_h_{t}": v.tolist() for t, v in sorted(back.upstream.items())}
            | {f"d_y_{t}": v.tolist() for t, v in sorted(back.upstream_y.items())},
            "steps": [{"t": s.t, **_plain(s.values)} for s in back.steps],
            "grads": {f"d_{k}": v.tolist() for k, v in back.grads.items()},
            "initial_state_grads": {f"d_{n}": d.tolist() for n, d in zip(names, back.d_state0)},
        }
        if back.loss is not None:
            out["backward"]["loss"] = _plain(back.loss)
    return out


def table_to_dict(table) -> dict:
    return {"caption": table.caption, "headers": [str(h) for h in table.headers], "rows": _plain(table.rows)}


def document_to_dict(doc) -> dict:
    out = {
        "id": doc.id,
        "title": doc.title,
        "lang": doc.lang,
        "traces": [trace_to_dict(b.trace) for b in doc.blocks if isinstance(b, TraceBlock)],
        "answers": [b.text for b in doc.blocks if isinstance(b, Text)],
        "formulas": [b.text for b in doc.blocks if isinstance(b, Formula)],
        "tables": [table_to_dict(b) for b in doc.blocks if isinstance(b, Table) and not b.key],
        "errata": [{"where": e.where, "seed_says": e.seed_says, "correct": e.correct, "why": e.why}
                   for e in doc.blocks if isinstance(e, Erratum)],
    }
    for table in (b for b in doc.blocks if isinstance(b, Table) and b.key):
        out.setdefault(table.key, []).extend(dict(zip(table.fields, _plain(row))) for row in table.rows)
    out["data"] = _plain(doc.data)
    return out


def render_json(doc) -> str:
    return json.dumps(document_to_dict(doc), ensure_ascii=False, indent=1) + "\n"
