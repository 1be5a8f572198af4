"""PyTorch's own test inputs for its recurrent modules, through rnnlab.

``torch.testing._internal.common_modules.module_db`` holds, for ``nn.RNN``, ``nn.GRU``,
``nn.LSTM``, ``nn.RNNCell``, ``nn.GRUCell`` and ``nn.LSTMCell``, the constructor arguments and
forward inputs torch tests them with (unbatched inputs, given ``hx``, every option, LSTM
projections). For each case, rnnlab's class of the same name is built with the same arguments
and torch's weights, fed the very same tensors (rnnlab reads them detached), and compared in
float64 within 1e-9: outputs, final states, ∂L/∂input, ∂L/∂hx and every weight gradient, for
L = Σ_k ⟨G_k, out_k⟩ with random G_k. A case is skipped only where torch's own ModuleInfo skips
(or expects a failure) on the CPU in float64, and the reason is torch's.

Not covered: the PackedSequence inputs that ``module_inputs_func(..., with_packed_sequence=True)``
adds for some torch tests (rnnlab takes ``lengths`` instead; ``tests/test_torch_oracle.py``
compares those with ``pack_padded_sequence``).
"""


import numpy as np
import pytest

import rnnlab

TOL = 1e-9
CLASSES = ("RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell")
TESTS = ("test_forward", "test_grad")  # the torch tests whose skips apply to what this one checks


def _module_db(torch):
    """torch's ``module_db`` (its module needs ``expecttest``, in the ``test`` extra)."""
    from torch.testing._internal.common_modules import module_db

    return module_db


OTHER_DEVICES = ("MPS", "CUDA", "XPU", "HPU", "Meta")


def _acts_on_the_cpu(decorator):
    """False for torch's decorators that skip on another device only (``skipMPS``, …)."""
    return not any(getattr(decorator, "__name__", "") == f"skip{device}" for device in OTHER_DEVICES)


def _torch_skip(info, torch):
    """torch's reason for skipping (or expecting a failure of) this module on the CPU in float64."""
    from torch.testing._internal.opinfo.core import DecorateInfo

    for item in info.decorators:
        if isinstance(item, DecorateInfo):
            active = any(item.is_active("TestModule", name, "cpu", torch.float64, {}) for name in TESTS)
            acting = [d for d in item.decorators if _acts_on_the_cpu(d)]
            if active and acting:
                return f"torch's ModuleInfo for {info.name}: {acting} on {item.device_type or 'every device'}"
        elif _acts_on_the_cpu(item):
            return f"torch's ModuleInfo for {info.name}: {getattr(item, '__name__', item)}"
    return None


def _flat(value):
    """The arrays of an output structure, in order: ``(out, (h, c))`` -> ``[out, h, c]``."""
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in _flat(v)]
    return [value]


def _numpy(tensor):
    return tensor.detach().numpy()


def _close(what, mine, ref):
    mine, ref = np.asarray(mine), _numpy(ref)
    assert mine.shape == ref.shape, f"{what}: shape {mine.shape}, torch {ref.shape}"
    err = float(np.max(np.abs(mine - ref), initial=0.0))
    assert err <= TOL, f"{what}: max |rnnlab − torch| = {err:.3e}\nrnnlab:\n{mine}\ntorch:\n{ref}"


@pytest.mark.parametrize("name", CLASSES)
def test_torchs_module_inputs_give_torchs_numbers(torch, name):
    infos = [info for info in _module_db(torch) if info.module_cls.__name__ == name]
    assert len(infos) == 1, f"module_db has {len(infos)} entries for nn.{name}"
    info = infos[0]
    assert torch.float64 in info.dtypes
    reason = _torch_skip(info, torch)
    if reason:
        pytest.skip(reason)
    cases = info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True, training=True)
    assert len(cases) >= 2
    rng = np.random.default_rng(0)
    for k, case in enumerate(cases):
        args, kwargs = case.constructor_input.args, case.constructor_input.kwargs
        what = f"nn.{name}({', '.join([*map(repr, args), *(f'{a}={v!r}' for a, v in kwargs.items())])}) case {k}"
        torch.manual_seed(k)
        module = info.module_cls(*args, **kwargs, dtype=torch.float64)
        mine = getattr(rnnlab, name)(*args, **kwargs, dtype=np.float64)
        mine.load_state_dict({p: _numpy(v) for p, v in module.state_dict().items()})
        inputs = case.forward_input.args
        assert not case.forward_input.kwargs
        ref_out = module(*inputs)
        out = mine(*inputs)  # the same tensors: rnnlab reads them as arrays
        ref_flat, flat = _flat(ref_out), _flat(out)
        assert len(flat) == len(ref_flat), what
        for j, (a, r) in enumerate(zip(flat, ref_flat)):
            _close(f"{what}: output {j}", a, r)
        ups = [rng.normal(size=a.shape) for a in flat]
        torch.autograd.backward(ref_flat, [torch.from_numpy(u) for u in ups])
        d_x = mine.backward(*ups)
        _close(f"{what}: ∂L/∂input", d_x, inputs[0].grad)
        if len(inputs) > 1:
            for j, (d, h) in enumerate(zip(_flat(mine.d_hx), _flat(inputs[1]))):
                _close(f"{what}: ∂L/∂hx[{j}]", d, h.grad)
        params = dict(module.named_parameters())
        assert set(params) == set(mine.grads), what
        for p, tensor in params.items():
            _close(f"{what}: ∂L/∂{p}", mine.grads[p], tensor.grad)
