"""The recurrent cells, one file each (equations, step forward, step backward): the three of the
course and the layer-normalised LSTM; and :class:`Cell`, which binds a cell file to its options
(``nonlinearity``, ``reset``) so that :mod:`rnnlab.sequence` can unroll any of them the same way."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from types import ModuleType

from ..errors import ConfigError
from . import gru, lnlstm, lstm, rnn

MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru, "lnlstm": lnlstm}


@dataclass(frozen=True)
class Cell:
    """A cell file with its options; ``mode`` is ``"rnn"``, ``"lstm"``, ``"gru"`` or ``"lnlstm"``."""

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
    def extra_params(self) -> tuple:
        """The cell's own parameters beside W_ih, W_hh and the biases: ``(name, length in units
        of H, initial value)`` each (the layer-normalised LSTM's gains)."""
        return getattr(self.module, "PARAMS", ())

    @property
    def direct_path(self) -> bool:
        """Whether h_{t-1} also reaches h_t other than through W_hh (the GRU's z ⊙ h_{t-1}): a
        recurrent dropout mask must then spare that path, so the cell applies it itself."""
        return getattr(self.module, "DIRECT_PATH", False)

    @property
    def fold_b_hh(self) -> bool:
        fold = self.module.FOLD_B_HH if hasattr(self.module, "FOLD_B_HH") else self.module.fold_b_hh(**self.options)
        return bool(fold)

    def step(self, xw, state, W_hh, b_hh=None, **extra):
        return self.module.step(xw, state, W_hh, b_hh, **self.options, **extra)

    def step_backward(self, d_state, cache, W_hh, **extra):
        return self.module.step_backward(d_state, cache, W_hh, **self.options, **extra)

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


__all__ = ["Cell", "make_cell", "rnn", "lstm", "gru", "lnlstm"]
