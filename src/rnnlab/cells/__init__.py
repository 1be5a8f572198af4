"""The three recurrent cells, one file each (equations, step forward, step backward), and
:class:`Cell`, which binds a cell file to its options (``nonlinearity``, ``reset``) so that
:mod:`rnnlab.sequence` can unroll any of them the same way."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from types import ModuleType

from ..errors import ConfigError
from . import gru, lstm, rnn

MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru}


@dataclass(frozen=True)
class Cell:
    """A cell file with its options; ``mode`` is ``"rnn"``, ``"lstm"`` or ``"gru"``."""

    mode: str
    options: dict = field(default_factory=dict)

    @property
    def module(self) -> ModuleType:
        return MODULES[self.mode]

    @property
    def gates(self) -> int:
        """Blocks of H rows in ``weight_ih``/``weight_hh`` (1, 4, 3)."""
        return self.module.GATES

    @property
    def state_names(self) -> tuple:
        return self.module.STATE

    @property
    def fold_b_hh(self) -> bool:
        fold = self.module.FOLD_B_HH if hasattr(self.module, "FOLD_B_HH") else self.module.fold_b_hh(**self.options)
        return bool(fold)

    def step(self, xw, state, W_hh, b_hh=None):
        return self.module.step(xw, state, W_hh, b_hh, **self.options)

    def step_backward(self, d_state, cache, W_hh):
        return self.module.step_backward(d_state, cache, W_hh, **self.options)

    def weight_hh_grad(self, d_hw, h_prev, caches):
        """∂L/∂W_hh over all N = T·B rows at once (one GEMM, two for GRU reset="before")."""
        if hasattr(self.module, "weight_hh_grad"):
            return self.module.weight_hh_grad(d_hw, h_prev, caches, **self.options)
        return d_hw.T @ h_prev


def make_cell(mode: str, **options) -> Cell:
    """``make_cell("gru", reset="before")``; checks the mode and the options."""
    if mode not in MODULES:
        raise ConfigError(f"cell: expected one of {sorted(MODULES)}, got {mode!r}")
    module = MODULES[mode]
    options = {k: v for k, v in options.items() if v is not None}
    if hasattr(module, "check_options"):
        try:
            module.check_options(**options)
        except TypeError as exc:
            allowed = sorted(inspect.signature(module.check_options).parameters)
            raise ConfigError(f"{mode} cell: expected options among {allowed}, got {sorted(options)}") from exc
    elif options:
        raise ConfigError(f"{mode} cell: expected no options, got {sorted(options)}")
    return Cell(mode, options)


__all__ = ["Cell", "make_cell", "rnn", "lstm", "gru"]
