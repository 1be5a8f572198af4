"""rnnlab.optim against torch.optim: the same parameters, the same gradients, several steps,
float64, agreement to 1e-12; state_dict round trips; clipping against torch.nn.utils."""

import copy
import math

import numpy as np
import pytest

from rnnlab.errors import ConfigError, ShapeError
from rnnlab.optim import (OPTIMIZERS, SGD, Adagrad, Adam, AdamW, RMSprop, Schedule, clip_grad_norm,
                          clip_grad_value, make_optimizer)

SHAPES = {"weight_ih_l0": (8, 3), "weight_hh_l0": (8, 2), "bias_ih_l0": (8,), "head.weight": (5, 2)}
STEPS = 6


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(s) for k, s in SHAPES.items()}


def _grad_sequence(seed=1, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [{k: rng.standard_normal(s) * (1 + t) for k, s in SHAPES.items()} for t in range(steps)]


# (rnnlab name, rnnlab kwargs, torch class name, torch kwargs)
CASES = [
    ("sgd", dict(lr=0.1), "SGD", dict(lr=0.1)),
    ("sgd", dict(lr=0.1, weight_decay=0.05), "SGD", dict(lr=0.1, weight_decay=0.05)),
    ("momentum", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
     "SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("nesterov", dict(lr=0.05, weight_decay=0.01), "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("adagrad", dict(lr=0.1), "Adagrad", dict(lr=0.1)),
    ("adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.1),
     "Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.1)),
    ("rmsprop", dict(lr=0.01), "RMSprop", dict(lr=0.01)),
    ("rmsprop", dict(lr=0.01, momentum=0.8, centered=True, weight_decay=0.01, alpha=0.9),
     "RMSprop", dict(lr=0.01, momentum=0.8, centered=True, weight_decay=0.01, alpha=0.9)),
    ("adam", dict(lr=0.01), "Adam", dict(lr=0.01)),
    ("adam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True),
     "Adam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, amsgrad=True)),
    ("adamw", dict(lr=0.01), "AdamW", dict(lr=0.01)),
    ("adamw", dict(lr=0.01, weight_decay=0.3, eps=1e-6), "AdamW", dict(lr=0.01, weight_decay=0.3, eps=1e-6)),
]


def _torch_run(torch, tname, tkwargs, params, grad_seq, lrs=None):
    tparams = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    opt = getattr(torch.optim, tname)(list(tparams.values()), foreach=False, **tkwargs)
    history = []
    for t, grads in enumerate(grad_seq):
        if lrs is not None:
            opt.param_groups[0]["lr"] = lrs[t]
        for k, p in tparams.items():
            p.grad = torch.tensor(grads[k])
        opt.step()
        history.append({k: p.detach().numpy().copy() for k, p in tparams.items()})
    return history


def _assert_close(mine, theirs, tol=1e-12):
    for k in theirs:
        err = np.max(np.abs(mine[k] - theirs[k]))
        assert err <= tol, f"{k}: max |rnnlab − torch| = {err:.3e}"


@pytest.mark.parametrize("name, kwargs, tname, tkwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch_over_several_steps(torch, name, kwargs, tname, tkwargs):
    params = _params()
    grad_seq = _grad_sequence()
    expected = _torch_run(torch, tname, tkwargs, copy.deepcopy(params), grad_seq)
    arrays = {k: v for k, v in params.items()}  # the live arrays the optimiser must update in place
    ids = {k: id(v) for k, v in arrays.items()}
    opt = make_optimizer(name, arrays, **kwargs)
    for t, grads in enumerate(grad_seq):
        opt.step({k: g.copy() for k, g in grads.items()})
        _assert_close(arrays, expected[t])
    assert {k: id(v) for k, v in arrays.items()} == ids  # updated in place, same objects


@pytest.mark.parametrize("name, kwargs, tname, tkwargs", CASES[::2], ids=[f"{c[0]}-{2 * i}" for i, c in enumerate(CASES[::2])])
def test_state_dict_round_trip_resumes_exactly(torch, name, kwargs, tname, tkwargs):
    grad_seq = _grad_sequence()
    expected = _torch_run(torch, tname, tkwargs, _params(), grad_seq)
    params = _params()
    opt = make_optimizer(name, params, **kwargs)
    for grads in grad_seq[:3]:
        opt.step(grads)
    saved = opt.state_dict()
    saved_copy = copy.deepcopy(saved)
    opt.step(grad_seq[3])  # a step after saving must not change the saved state
    for s in saved["state"]:
        for k in saved["state"][s]:
            np.testing.assert_array_equal(saved["state"][s][k], saved_copy["state"][s][k])
    # resume in a fresh optimiser from parameters as they were after 3 steps
    params2 = {k: v.copy() for k, v in expected[2].items()}
    opt2 = make_optimizer(name, params2, lr=123.0)  # the saved hyperparameters win, as in torch
    opt2.load_state_dict(saved)
    assert opt2.lr == kwargs["lr"] and opt2.steps == 3
    for t in range(3, STEPS):
        opt2.step(grad_seq[t])
        _assert_close(params2, expected[t])


def test_lr_is_settable_and_follows_a_schedule_like_torch(torch):
    sched = Schedule(0.02, warmup_steps=2, decay="cosine", total_steps=STEPS, min_lr=0.001)
    lrs = [sched.lr_at(t) for t in range(STEPS)]
    expected = _torch_run(torch, "Adam", dict(lr=0.02), _params(), _grad_sequence(), lrs)
    params = _params()
    opt = Adam(params, lr=0.02)
    for t, grads in enumerate(_grad_sequence()):
        assert sched.apply(opt, t) == lrs[t]
        opt.step(grads)
        _assert_close(params, expected[t])


def test_adagrad_as_min_char_rnn():
    """min-char-rnn: mem += dparam * dparam; param += -learning_rate * dparam / np.sqrt(mem + 1e-8)."""
    params = _params()
    ref = {k: v.copy() for k, v in params.items()}
    mem = {k: np.zeros_like(v) for k, v in params.items()}
    opt = Adagrad(params, lr=0.1, eps=1e-8, eps_inside_sqrt=True)
    for grads in _grad_sequence():
        opt.step(grads)
        for k, dparam in grads.items():
            mem[k] += dparam * dparam
            ref[k] += -0.1 * dparam / np.sqrt(mem[k] + 1e-8)
    _assert_close(params, ref, tol=1e-14)


def test_float32_parameters_stay_float32_and_in_place():
    params = {k: v.astype(np.float32) for k, v in _params().items()}
    before = {k: v.copy() for k, v in params.items()}
    opt = make_optimizer("adam", params, lr=0.1)
    opt.step({k: g.astype(np.float32) for k, g in _grad_sequence()[0].items()})
    for k, v in params.items():
        assert v.dtype == np.float32
        assert not np.array_equal(v, before[k])
    assert all(a.dtype == np.float32 for a in opt.state["exp_avg"].values())
    grads = {k: np.ones_like(v) for k, v in params.items()}
    opt.zero_grad(grads)
    assert all(not g.any() for g in grads.values())


def test_bad_gradients_and_options_are_named():
    params = _params()
    opt = SGD(params, lr=0.1)
    grads = _grad_sequence()[0]
    with pytest.raises(ConfigError, match="missing \\['head.weight'\\]"):
        opt.step({k: g for k, g in grads.items() if k != "head.weight"})
    bad = dict(grads, bias_ih_l0=np.zeros(7))
    with pytest.raises(ShapeError, match="bias_ih_l0.*expected shape \\(8,\\), got \\(7,\\)"):
        opt.step(bad)
    with pytest.raises(ConfigError, match="expected one of sgd, momentum"):
        make_optimizer("adamax", params)
    with pytest.raises(ConfigError, match="nesterov"):
        SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ConfigError, match="betas"):
        Adam(params, betas=(0.9, 1.5))
    with pytest.raises(ConfigError, match="expected the state of a 'adam'"):
        Adam(params).load_state_dict(SGD(params).state_dict())
    with pytest.raises(ConfigError, match="optimizer sgd"):
        make_optimizer("sgd", params, betas=(0.9, 0.9))
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}
    assert isinstance(make_optimizer("AdamW", params), AdamW) and isinstance(make_optimizer("rmsprop", params), RMSprop)


# --- clipping --------------------------------------------------------------------------------


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e6])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_clip_grad_norm_matches_torch(torch, max_norm, norm_type):
    grads = _grad_sequence()[2]
    tgrads = [torch.tensor(g, requires_grad=False) for g in grads.values()]
    tparams = [torch.zeros_like(g, requires_grad=True) for g in tgrads]
    for p, g in zip(tparams, tgrads):
        p.grad = g.clone()
    expected_norm = float(torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type, foreach=False))
    mine = {k: g.copy() for k, g in grads.items()}
    total = clip_grad_norm(mine, max_norm, norm_type=norm_type)
    assert abs(total - expected_norm) <= 1e-12 * expected_norm
    for (k, g), p in zip(mine.items(), tparams):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=0, atol=1e-12)
    if max_norm < expected_norm:  # the clipped global norm is max_norm (up to the 1e-6 guard)
        after = math.sqrt(sum(float(np.sum(g * g)) for g in mine.values())) if norm_type == 2.0 \
            else max(float(np.max(np.abs(g))) for g in mine.values())
        assert after == pytest.approx(max_norm, rel=1e-6)
    else:
        for k in grads:
            np.testing.assert_array_equal(mine[k], grads[k])


def test_clip_grad_value_matches_torch_and_the_seed(torch):
    grads = _grad_sequence()[4]
    tparams = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for p, g in zip(tparams, grads.values()):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_value_(tparams, 5.0, foreach=False)
    mine = {k: g.copy() for k, g in grads.items()}
    clip_grad_value(mine, 5.0)
    for g, p, raw in zip(mine.values(), tparams, grads.values()):
        np.testing.assert_array_equal(g, p.grad.numpy())
        np.testing.assert_array_equal(g, np.clip(raw, -5, 5))  # the seed's np.clip(dparam, -5, 5)
    assert any(np.any(np.abs(raw) > 5) for raw in grads.values())  # the test does clip something


def test_clip_grad_norm_non_finite_is_reported_and_leaves_grads():
    grads = {"a": np.array([1.0, np.inf]), "b": np.array([3.0])}
    assert clip_grad_norm(grads, 1.0) == math.inf
    assert grads["b"][0] == 3.0
    with pytest.raises(ConfigError):
        clip_grad_norm(grads, 0.0)
    with pytest.raises(ConfigError):
        clip_grad_value(grads, -1.0)


# --- schedules -------------------------------------------------------------------------------


def _torch_lrs(torch, make_scheduler, steps, base_lr=0.1):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_cosine_and_step_decay_match_torch(torch):
    S = 40
    cos = Schedule(0.1, decay="cosine", total_steps=S, min_lr=0.002)
    theirs = _torch_lrs(torch, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=S, eta_min=0.002), S)
    np.testing.assert_allclose([cos.lr_at(s) for s in range(S)], theirs, rtol=0, atol=1e-12)
    assert cos.lr_at(S) == cos.lr_at(10 * S) == 0.002
    step = Schedule(0.1, decay="step", step_size=7, gamma=0.3)
    theirs = _torch_lrs(torch, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.3), S)
    np.testing.assert_allclose([step.lr_at(s) for s in range(S)], theirs, rtol=0, atol=1e-12)


def test_warmup_then_decay():
    s = Schedule(0.01, warmup_steps=4, decay="cosine", total_steps=14, min_lr=0.0)
    lrs = [s.lr_at(t) for t in range(16)]
    assert lrs[:4] == pytest.approx([0.0025, 0.005, 0.0075, 0.01], abs=1e-15)
    assert lrs[4] == 0.01 and lrs[9] == pytest.approx(0.005, abs=1e-15) and lrs[14] == lrs[15] == 0.0
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))
    flat = Schedule(0.3)
    assert [flat.lr_at(t) for t in (0, 10, 10 ** 6)] == [0.3, 0.3, 0.3]
    st = Schedule(1.0, warmup_steps=2, decay="step", step_size=3, gamma=0.5)
    assert [st.lr_at(t) for t in range(9)] == [0.5, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    with pytest.raises(ConfigError, match="total_steps"):
        Schedule(0.1, decay="cosine")
    with pytest.raises(ConfigError, match="decay"):
        Schedule(0.1, decay="linear")
