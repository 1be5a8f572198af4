"""The recurrent cells, one file each, and THE registry every other part reads.

A cell file holds its equations, ``step``/``step_backward`` (and ``workspace``), the course's
notation as a view of the fused parameters, and the facts the rest of rnnlab needs, as
module-level names (the defaults in brackets)::

    NAME          "lstm"                       the registry key (--cell choice, config "cell")
    LABEL         ("LSTM", "LSTM")             English and French display names
    GATE_NAMES    ("i", "f", "g", "o")         the blocks of H rows of weight_ih/weight_hh, in order
    STATE         ("h", "c")                   the state; h first (what the next layer reads)
    direct_factor(cache, H) -> (B, H)          the factor of ∂s_t/∂s_{t-1} along the cell's direct path
    DIRECT_LABEL  "Π f"                        its name in tables and figures
    DIRECT_NOTE   (en, fr)  [None]             what it is, in figures ("direct cell path")
    FORGET_GATE   "f"  [None]                  the gate whose bias opens the direct path
    LINEAR_VIEW   True  [False]                ∂h_t/∂h_{t-1} = diag(tanh') W_hh: the course's linearised view
    TORCH         {"LSTM": {}}  [{}]           torch classes computing the cell -> the cell options they fix
    TORCH_OPTIONS ("nonlinearity",)  [()]      cell options passed to the torch class as they are
    KERAS         ("i", "f", "g", "o")  [None] Keras's gate order, in rnnlab's gate names
    TRACE         "rnnlab.trace.cells.lstm"  [None: the generic trace]   the trace hooks
    LAYER_NORM_OF "lstm"  [None]               this cell is the layer-normalised variant of that one
    COLOR         "tab:blue"  [None]           its colour in figures

A new cell of rnnlab is its file plus its name in :data:`BUILT_IN` (and, for traces in the
course's notation with substituted arithmetic, ``trace/cells/<name>.py``; without it the trace
records the cache's quantities): the layers, models, ``--cell`` choices, analysis, figures,
interop and traces read the rest from here. :func:`register` adds one at run time (a cell file,
or any object with these names: ``tests/test_registry_new_cell.py`` defines one in a test),
:func:`get` returns its :class:`CellSpec`, :func:`names` the cells a user chooses among.
:class:`Cell` binds a cell to its options (``nonlinearity``, ``reset``) so that
:mod:`rnnlab.sequence` can unroll any of them the same way.

The layer-normalised LSTM has one spelling, ``cell "lstm"`` with ``layer_norm=True``
(``--cell lstm --layer-norm``); its file is registered as ``"lnlstm"``, a variant that
:func:`resolve` reaches and :func:`names` does not offer.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from types import ModuleType

from ..errors import ConfigError
from ..i18n import say

BUILT_IN = ("rnn", "lstm", "gru", "lnlstm")  # THE registry line: the cell files of rnnlab, in this order

_REQUIRED = ("NAME", "LABEL", "GATE_NAMES", "STATE", "step", "step_backward", "workspace", "direct_factor")


@dataclass(frozen=True)
class CellSpec:
    """What the registry knows of one cell; read from its file by :func:`register`."""

    name: str
    module: object  # the cell file (step, step_backward, workspace, course views)
    label: tuple  # (English, French)
    gate_names: tuple
    state_names: tuple
    direct_label: str = "Π direct"
    direct_note: tuple | None = None
    forget_gate: str | None = None
    linear_view: bool = False
    torch: dict = field(default_factory=dict)
    torch_options: tuple = ()
    keras: tuple | None = None
    trace: str | None = None
    layer_norm_of: str | None = None
    color: str | None = None

    @property
    def gates(self) -> int:
        """Blocks of H rows in ``weight_ih``/``weight_hh`` (1, 4, 3, …)."""
        return len(self.gate_names)

    def gate_rows(self, gate: str, H: int) -> slice:
        """The rows of gate ``gate`` in the fused matrices (and the columns of a cache's gate array)."""
        if gate not in self.gate_names:
            raise ConfigError(say(f"{self.name} cell: expected a gate among {list(self.gate_names)}, "
                                  f"got {gate!r}",
                                  f"cellule {self.name} : une porte parmi {', '.join(self.gate_names)} "
                                  f"attendue, reçu « {gate} »"))
        k = self.gate_names.index(gate)
        return slice(k * H, (k + 1) * H)

    def direct_factor(self, cache, H):
        """``(B, H)``: the factor of this step along the direct path (LSTM f_t, GRU z_t, RNN tanh')."""
        return self.module.direct_factor(cache, H)

    def label_in(self, lang=None) -> str:
        return say(*self.label, lang)

    @property
    def base(self) -> str:
        """The name a user chooses: ``"lstm"`` for the layer-normalised LSTM too."""
        return self.layer_norm_of or self.name

    @property
    def layer_norm(self) -> bool:
        return self.layer_norm_of is not None

    def describe(self, lang=None) -> str:
        """``"the GRU cell ('gru')"``; ``"the layer-normalised LSTM (layer_norm=True)"`` (in French
        ``"la cellule GRU (« gru »)"``, ``"le LSTM normalisé par couche (layer_norm=True)"``)."""
        if self.layer_norm:
            label = get(self.base).label_in(lang)
            return say(f"the layer-normalised {label} (layer_norm=True)",
                       f"le {label} normalisé par couche (layer_norm=True)", lang)
        return say(f"the {self.label[0]} cell ({self.name!r})",
                   f"la cellule {self.label[1]} (« {self.name} »)", lang)

    def default_options(self) -> dict:
        """The cell's options with their default values (``{"reset": "after"}`` for the GRU)."""
        check = getattr(self.module, "check_options", None)
        if check is None:
            return {}
        return {k: p.default for k, p in inspect.signature(check).parameters.items()
                if p.default is not inspect.Parameter.empty}


REGISTRY: dict = {}  # name -> CellSpec, in registration order
MODULES: dict = {}  # name -> cell file (a live view of the registry)


def register(module) -> CellSpec:
    """Add a cell (a module, or any object with the names listed above) to the registry."""
    missing = [key for key in _REQUIRED if not hasattr(module, key)]
    if missing:
        got = getattr(module, "NAME", module)
        raise ConfigError(say(f"register: a cell needs {list(_REQUIRED)}, got {got!r} without {missing}",
                              f"register : une cellule doit avoir {', '.join(_REQUIRED)}, reçu {got!r} "
                              f"sans {', '.join(missing)}"))
    name = module.NAME
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(say(f"register: expected a cell NAME that is an identifier, got {name!r}",
                              f"register : un nom de cellule (« NAME ») qui soit un identifiant Python "
                              f"attendu, reçu « {name} »"))
    if name in REGISTRY and REGISTRY[name].module is not module:
        raise ConfigError(say(f"register: a cell named {name!r} is already registered",
                              f"register : une cellule nommée « {name} » est déjà enregistrée"))
    variant_of = getattr(module, "LAYER_NORM_OF", None)
    if variant_of is not None and variant_of not in REGISTRY:
        raise ConfigError(say(f"register: {name!r} is the layer-normalised variant of {variant_of!r}, "
                              f"which is not registered",
                              f"register : « {name} » est la variante normalisée par couche de "
                              f"« {variant_of} », qui n'est pas enregistrée"))
    given = lambda key, default=None: getattr(module, key, default)  # noqa: E731  (an optional fact)
    spec = CellSpec(name, module, tuple(module.LABEL), tuple(module.GATE_NAMES), tuple(module.STATE),
                    given("DIRECT_LABEL", CellSpec.direct_label), given("DIRECT_NOTE"), given("FORGET_GATE"),
                    bool(given("LINEAR_VIEW", False)), dict(given("TORCH") or {}),
                    tuple(given("TORCH_OPTIONS", ())), given("KERAS"), given("TRACE"), variant_of,
                    given("COLOR"))
    REGISTRY[name] = spec
    MODULES[name] = module
    return spec


def unregister(name: str) -> None:
    """Remove a cell added by :func:`register` (the tests' own cells)."""
    get(name)
    if any(spec.layer_norm_of == name for spec in REGISTRY.values()):
        raise ConfigError(say(f"unregister: {name!r} has a layer-normalised variant registered",
                              f"unregister : « {name} » a une variante normalisée par couche enregistrée"))
    del REGISTRY[name], MODULES[name]


def names(*, variants: bool = False) -> tuple:
    """The cells a user chooses among (``--cell``): every registered one but the layer-normalised
    variants (those too with ``variants=True``)."""
    return tuple(name for name, spec in REGISTRY.items() if variants or not spec.layer_norm)


def get(name: str) -> CellSpec:
    """The :class:`CellSpec` of a registered cell, else a ConfigError naming the choices."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise ConfigError(say(f"cell: expected one of {sorted(REGISTRY)}, got {name!r}",
                              f"cellule : l'une de {', '.join(sorted(REGISTRY))} attendue, reçu « {name} »"))
    return spec


def resolve(cell: str, layer_norm: bool = False) -> str:
    """The registered cell for a user's ``cell`` and ``layer_norm``: ``("lstm", True)`` ->
    ``"lnlstm"``. Checks both; the old spelling ``"lnlstm"`` is read as ``("lstm", True)``."""
    if not isinstance(layer_norm, bool):
        raise ConfigError(say(f"layer_norm: expected True or False, got {layer_norm!r}",
                              f"layer_norm : True ou False attendu, reçu « {layer_norm} »"))
    spec = get(cell)
    if not layer_norm:
        return spec.name
    if spec.layer_norm:
        return spec.name
    for other in REGISTRY.values():
        if other.layer_norm_of == spec.name:
            return other.name
    bases = " or ".join(repr(s.layer_norm_of) for s in REGISTRY.values() if s.layer_norm)
    raise ConfigError(say(f"layer_norm: expected cell {bases} (the cells with a layer-normalised variant), "
                          f"got cell {cell!r}",
                          f"layer_norm : cellule {bases} attendue (les cellules ayant une variante "
                          f"normalisée par couche), reçu la cellule {cell!r}"))


def spelling(name: str) -> tuple:
    """``(cell, layer_norm)`` as a user writes it: ``"lnlstm"`` -> ``("lstm", True)``."""
    spec = get(name)
    return spec.base, spec.layer_norm


@dataclass(frozen=True)
class Cell:
    """A registered cell with its options; ``mode`` is its registry name."""

    mode: str
    options: dict = field(default_factory=dict)

    @property
    def spec(self) -> CellSpec:
        return get(self.mode)

    @property
    def module(self) -> ModuleType:
        return get(self.mode).module

    @property
    def gates(self) -> int:
        """Blocks of H rows in ``weight_ih``/``weight_hh`` (1, 4, 3)."""
        return self.spec.gates

    @property
    def state_names(self) -> tuple:
        return self.spec.state_names

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
        fold = (self.module.FOLD_B_HH if hasattr(self.module, "FOLD_B_HH")
                else self.module.fold_b_hh(**self.options))
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


def _quoted(names) -> str:
    """Option names in a French sentence: ``« reset », « nonlinearity »`` (English words, quoted)."""
    return ", ".join(f"« {name} »" for name in names)


def make_cell(mode: str, **options) -> Cell:
    """``make_cell("gru", reset="before")``; checks the mode and the options."""
    module = get(mode).module
    options = {k: v for k, v in options.items() if v is not None}
    if hasattr(module, "check_options"):
        try:
            module.check_options(**options)
        except TypeError as exc:
            allowed = sorted(inspect.signature(module.check_options).parameters)
            raise ConfigError(say(f"{mode} cell: expected options among {allowed}, got {sorted(options)}",
                                  f"cellule {mode} : options parmi {_quoted(allowed)} attendues, "
                                  f"reçu {_quoted(sorted(options))}")) from exc
    elif options:
        raise ConfigError(say(f"{mode} cell: expected no options, got {sorted(options)}",
                              f"cellule {mode} : aucune option attendue, reçu {_quoted(sorted(options))}"))
    return Cell(mode, options)


for _name in BUILT_IN:
    register(importlib.import_module(f".{_name}", __name__))

__all__ = ["Cell", "CellSpec", "REGISTRY", "BUILT_IN", "make_cell", "register", "unregister", "names", "get",
           "resolve", "spelling", *BUILT_IN]
