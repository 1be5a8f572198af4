r"""Keras (``tf.keras`` 2.x and Keras 3) recurrent weights, both ways, in pure NumPy.

Keras keeps one matrix per role, transposed with respect to PyTorch, gates side by side in
columns (``layer.get_weights()`` returns ``[kernel, recurrent_kernel, bias]``)::

    kernel            (D, G·H)      rnnlab: weight_ih (G·H, D) = kernelᵀ, gate blocks reordered
    recurrent_kernel  (H, G·H)      rnnlab: weight_hh (G·H, H) = recurrent_kernelᵀ, reordered
    bias              (G·H,)        one bias (GRU reset_after=True: (2, 3H), input row then recurrent row)

**LSTM** (``keras.layers.LSTM``), gate columns i, f, c, o — PyTorch's i, f, g, o (Keras's c is
rnnlab's g = the course's C̃), so only the transposition changes::

    [a_i, a_f, a_c, a_o] = x_t · kernel + h_{t-1} · recurrent_kernel + bias
    i = σ(a_i)   f = σ(a_f)   c_t = f ⊙ c_{t-1} + i ⊙ tanh(a_c)   o = σ(a_o)   h_t = o ⊙ tanh(c_t)

The single bias becomes ``bias_ih``; ``bias_hh`` is zero. Export writes ``bias_ih + bias_hh``.

**GRU** (``keras.layers.GRU``), gate columns z, r, h (update, reset, candidate)::

    z = σ(x_t W_z + b_z + h_{t-1} U_z)       r = σ(x_t W_r + b_r + h_{t-1} U_r)
    reset_after=False:  hh = tanh(x_t W_h + b_h + (r ⊙ h_{t-1}) U_h)                (Cho 2014 v3)
    reset_after=True:   hh = tanh(x_t W_h + b_h^in + r ⊙ (h_{t-1} U_h + b_h^rec))   (cuDNN)
    h_t = z ⊙ h_{t-1} + (1 − z) ⊙ hh

Keras's z is *PyTorch's* z (both keep ``h_{t-1}`` with weight z; the course's z is 1 − z):
no sign change, only the order z, r, h → r, z, n. ``reset_after=False`` is rnnlab's
``GRU(reset="before")``, bias (3H,) → ``bias_ih`` (``bias_hh`` zero; on export the two are
summed, exact because b_hn sits outside r there); ``reset_after=True`` (Keras 3 and TF 2 default)
is ``GRU(reset="after")``, bias row 0 → ``bias_ih``, row 1 → ``bias_hh``.

**SimpleRNN**: ``h_t = tanh(x_t · kernel + h_{t-1} · recurrent_kernel + bias)``.

Only the default activations are representable (tanh, and sigmoid for the gates; SimpleRNN
may use ReLU through ``nonlinearity``). Old Keras 2.0 models trained with
``recurrent_activation="hard_sigmoid"`` compute something else: arrays carry no activation,
so check the model's config before importing.

A stack (``return_sequences=True`` layers one after another) is the flat list
``model.get_weights()``; a ``Bidirectional`` wrapper lists the forward layer's arrays, then the
backward layer's — rnnlab's ``_l0``, ``_l0_reverse`` order, and the same concatenation
[forward, backward] of the outputs as ``merge_mode="concat"``.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, ShapeError, describe_shape
from ..i18n import integer, say
from .. import cells
from ._gates import check_array, gate_order, pick_dtype, reorder_gates


def keras_order(mode):
    """Keras's gate order of a registered cell, in rnnlab's gate names (its file's ``KERAS``:
    Keras's LSTM "c" is g, its GRU "h" is n); ConfigError for a cell Keras does not have."""
    spec = cells.REGISTRY.get(mode)
    if spec is None or spec.keras is None:
        able = [s.name for s in cells.REGISTRY.values() if s.keras]
        why = "" if spec is None else say(f": {spec.describe()} has no Keras counterpart",
                                          f" : {spec.describe()} n'a pas d'équivalent Keras")
        raise ConfigError(say(f"Keras weights: expected mode among {', '.join(map(repr, able))} (SimpleRNN, "
                              f"LSTM, GRU), got {mode!r}",
                              f"poids Keras : mode parmi {', '.join(able)} (SimpleRNN, LSTM, GRU) attendu, "
                              f"reçu « {mode} »") + why)
    return spec.keras


def _check_mode(mode):
    keras_order(mode)


def _has_reset(mode):
    """A cell with a ``reset`` option (the GRU): Keras's ``reset_after`` (two bias rows when True)."""
    return "reset" in cells.get(mode).default_options()


def params_from_keras(mode, kernel, recurrent_kernel, bias=None, *, suffix="_l0", reset_after=None,
                      dtype=None, name="keras"):
    """rnnlab parameters for one layer and direction from Keras's arrays.

    Returns ``(params, reset)``: ``params`` keyed ``weight_ih{suffix}``, … and, for a GRU, the
    rnnlab ``reset`` it needs (``"after"`` for ``reset_after=True``, ``"before"`` otherwise),
    read from the bias shape when ``reset_after`` is None. ``None`` for RNN and LSTM.
    """
    _check_mode(mode)
    G = len(keras_order(mode))
    names = {key: say(f"{name} {key}", f"{name}, « {key} »")  # how the messages name each array
             for key in ("kernel", "recurrent_kernel", "bias")}
    kernel = check_array(names["kernel"], kernel, 2)
    recurrent_kernel = check_array(names["recurrent_kernel"], recurrent_kernel, 2)
    GH = kernel.shape[1]
    if GH % G or GH == 0:
        raise ShapeError(say(f"{name} kernel: expected shape (input_size, {G}·units) for a Keras "
                             f"{mode.upper()}, got {describe_shape(kernel.shape)}",
                             f"{names['kernel']} : forme (input_size, {G}·unités) attendue pour un "
                             f"{mode.upper()} Keras, reçu {describe_shape(kernel.shape)}"))
    H = GH // G
    if recurrent_kernel.shape != (H, GH):
        raise ShapeError(say(f"{name} recurrent_kernel: expected shape {describe_shape((H, GH))} "
                             f"(units, {G}·units) to match kernel {describe_shape(kernel.shape)}, "
                             f"got {describe_shape(recurrent_kernel.shape)}",
                             f"{names['recurrent_kernel']} : forme {describe_shape((H, GH))} (unités, "
                             f"{G}·unités) attendue, accordée à « kernel » {describe_shape(kernel.shape)}, "
                             f"reçu {describe_shape(recurrent_kernel.shape)}"))
    dtype = pick_dtype(dtype, kernel, recurrent_kernel, *([] if bias is None else [bias]))
    reset = None
    if _has_reset(mode):  # Keras's GRU: reset_after read from the bias shape
        reset_after = _gru_reset_after(bias, reset_after, H, name, names["bias"])
        reset = "after" if reset_after else "before"
    elif bias is not None:
        bias = check_array(names["bias"], bias, 1)
        if bias.shape != (GH,):
            raise ShapeError(say(f"{name} bias: expected shape {describe_shape((GH,))}, "
                                 f"got {describe_shape(bias.shape)}",
                                 f"{names['bias']} : forme {describe_shape((GH,))} attendue, "
                                 f"reçu {describe_shape(bias.shape)}"))
    order = (keras_order(mode), gate_order(mode))
    params = {
        f"weight_ih{suffix}": reorder_gates(kernel.T, *order, name=names["kernel"]),
        f"weight_hh{suffix}": reorder_gates(recurrent_kernel.T, *order, name=names["recurrent_kernel"]),
    }
    if bias is not None:
        bias = np.asarray(bias)
        rows = bias if bias.ndim == 2 else np.stack([bias, np.zeros_like(bias)])  # (2, G·H): input, recurrent
        params[f"bias_ih{suffix}"] = reorder_gates(rows[0], *order, name=names["bias"])
        params[f"bias_hh{suffix}"] = reorder_gates(rows[1], *order, name=names["bias"])
    return {k: np.ascontiguousarray(v, dtype=dtype) for k, v in params.items()}, reset


def _gru_reset_after(bias, reset_after, H, name, bias_name):
    """Keras's ``reset_after`` from the bias shape, checked against the one given (``bias_name``:
    how the messages name the bias)."""
    if bias is None:
        if reset_after is None:
            raise ConfigError(say(f"{name}: a Keras GRU without bias does not say whether reset_after is "
                                  f"True or False; pass reset_after=",
                                  f"{name} : un GRU Keras sans biais ne dit pas si reset_after vaut True ou "
                                  f"False ; passer reset_after="))
        return bool(reset_after)
    bias = np.asarray(bias)
    if bias.shape == (2, 3 * H):
        found = True
    elif bias.shape == (3 * H,):
        found = False
    else:
        raise ShapeError(say(f"{name} bias: expected shape {describe_shape((3 * H,))} (reset_after=False) or "
                             f"{describe_shape((2, 3 * H))} (reset_after=True), "
                             f"got {describe_shape(bias.shape)}",
                             f"{bias_name} : forme {describe_shape((3 * H,))} (reset_after=False) ou "
                             f"{describe_shape((2, 3 * H))} (reset_after=True) attendue, "
                             f"reçu {describe_shape(bias.shape)}"))
    if reset_after is not None and bool(reset_after) != found:
        want = describe_shape((2, 3 * H) if reset_after else (3 * H,))
        raise ShapeError(say(f"{name} bias: reset_after={reset_after} expects shape {want}, "
                             f"got {describe_shape(bias.shape)}",
                             f"{bias_name} : reset_after={reset_after} demande la forme {want}, "
                             f"reçu {describe_shape(bias.shape)}"))
    return found


def params_to_keras(mode, params, *, suffix="_l0", reset="after"):
    """Keras's ``[kernel, recurrent_kernel, bias]`` (no bias if ``params`` has none) for one
    layer and direction of rnnlab parameters; the inverse of :func:`params_from_keras`."""
    _check_mode(mode)
    if f"weight_hr{suffix}" in params:
        raise ConfigError(say(f"to_keras: an LSTM with projections (weight_hr{suffix}, h_t = W_hr (o_t ⊙ "
                              f"tanh(C_t))) has no Keras counterpart (expected an LSTM with proj_size=0)",
                              f"to_keras : un LSTM à projection (weight_hr{suffix}, h_t = W_hr (o_t ⊙ "
                              f"tanh(C_t))) n'a pas d'équivalent Keras (LSTM avec proj_size=0 attendu)"))
    order = (gate_order(mode), keras_order(mode))
    W_ih, W_hh = params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"]
    out = [reorder_gates(W_ih, *order).T.copy(), reorder_gates(W_hh, *order).T.copy()]
    if f"bias_ih{suffix}" in params:
        b_ih, b_hh = params[f"bias_ih{suffix}"], params[f"bias_hh{suffix}"]
        if _has_reset(mode) and reset == "after":
            out.append(np.stack([reorder_gates(b_ih, *order), reorder_gates(b_hh, *order)]))  # (2, 3H)
        else:
            out.append(reorder_gates(b_ih + b_hh, *order))  # (G·H,)
    return out


def from_keras(mode, weights, *, bias=True, bidirectional=False, reset_after=None, batch_first=True,
               nonlinearity="tanh", dtype=None):
    """An rnnlab layer from Keras's flat weight list (``model.get_weights()`` of a stack).

    ``weights`` holds ``[kernel, recurrent_kernel, bias]`` per layer (``[kernel,
    recurrent_kernel]`` with ``bias=False``), and per ``Bidirectional`` wrapper the forward
    layer's arrays then the backward layer's. ``batch_first=True`` by default, as Keras.
    """
    from ..layers import make_layer

    _check_mode(mode)
    per = 3 if bias else 2
    dirs = 2 if bidirectional else 1
    weights = list(weights)
    if not weights or len(weights) % (per * dirs):
        raise ShapeError(say(f"Keras weights: expected a multiple of {per * dirs} arrays ({per} per layer"
                             f"{' and direction' if dirs == 2 else ''}), got {len(weights)}",
                             f"poids Keras : un multiple de {per * dirs} tableaux attendu ({per} par niveau"
                             f"{' et par direction' if dirs == 2 else ''}), reçu {integer(len(weights))}"))
    num_layers = len(weights) // (per * dirs)
    params, resets, sizes = {}, set(), []
    for k in range(num_layers * dirs):
        layer, direction = divmod(k, dirs)
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        group = weights[k * per:(k + 1) * per]
        span = f"[{k * per}:{(k + 1) * per}]"
        label = say(f"Keras weights{span} (layer {layer}{', backward' if direction else ''})",
                    f"poids Keras{span} (niveau {layer}{', sens inverse' if direction else ''})")
        p, reset = params_from_keras(mode, group[0], group[1], group[2] if bias else None, suffix=suffix,
                                     reset_after=reset_after, dtype=dtype, name=label)
        params.update(p)
        resets.add(reset)
        sizes.append((label, p[f"weight_ih{suffix}"].shape[1], p[f"weight_hh{suffix}"].shape[1]))
    H = sizes[0][2]
    for k, (label, in_size, hidden) in enumerate(sizes):
        want_in = sizes[0][1] if k < dirs else H * dirs
        if hidden != H or in_size != want_in:
            raise ShapeError(say(f"{label}: expected input size {want_in} and units {H}, "
                                 f"got input size {in_size} and units {hidden}",
                                 f"{label} : taille d'entrée {want_in} et {H} unités attendues, "
                                 f"reçu une taille d'entrée {in_size} et {hidden} unités"))
    if len(resets) > 1:
        raise ShapeError(say("Keras weights: the GRU layers mix reset_after=True and reset_after=False",
                             "poids Keras : les niveaux GRU mêlent reset_after=True et reset_after=False"))
    first = next(iter(params.values()))
    opts = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
                dtype=first.dtype)
    reset = resets.pop()
    if reset is not None:  # the GRU: read from the bias shape
        opts["reset"] = reset
    if "nonlinearity" in cells.get(mode).default_options():  # SimpleRNN's activation
        opts["nonlinearity"] = nonlinearity
    layer = make_layer(mode, sizes[0][1], H, **opts)
    layer.load_state_dict(params)
    return layer


def to_keras(layer):
    """Keras's flat weight list for an rnnlab layer (the inverse of :func:`from_keras`): per layer
    ``[kernel, recurrent_kernel, bias]``, per direction forward first."""
    reset = layer.cell.options.get("reset", "after")
    out = []
    for layer_index in range(layer.num_layers):
        for direction in range(layer.num_directions):
            suffix = f"_l{layer_index}" + ("_reverse" if direction else "")
            out += params_to_keras(layer.mode, layer.params, suffix=suffix, reset=reset)
    return out
