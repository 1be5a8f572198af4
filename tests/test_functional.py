"""rnnlab.functional: stability up to ±1e4, derivatives against finite differences, and
softmax / log-softmax / cross-entropy against PyTorch in float64."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rnnlab import functional as F
from rnnlab.errors import RnnlabError, ShapeError
from rnnlab.gradcheck import check_gradients, numerical_gradient

EXTREMES = np.array([-1e4, -1e3, -710.0, -100.0, -20.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 20.0, 100.0, 710.0, 1e3, 1e4])


class strict_numerics:
    """Every floating-point warning is an error inside the block: overflow, invalid (NaN),
    division by zero, and any warning at all. Underflow to 0 (e^{-2e4}) is the right answer
    and NumPy does not warn about it, so it stays allowed."""

    def __enter__(self):
        self._err = np.seterr(all="raise", under="ignore")
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        self._warn.__exit__(*exc)
        np.seterr(**self._err)
        return False


def _finite(*arrays):
    return all(np.all(np.isfinite(np.asarray(a))) for a in arrays)


# --- stability -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_activations_are_stable_and_exact_at_the_extremes(dtype):
    z = EXTREMES.astype(dtype)
    with strict_numerics():
        s, t, r = F.sigmoid(z), F.tanh(z), F.relu(z)
        grads = [F.sigmoid_grad(z), F.tanh_grad(z), F.relu_grad(z),
                 F.sigmoid_grad_from_output(s), F.tanh_grad_from_output(t), F.relu_grad_from_output(r)]
    assert _finite(s, t, r, *grads)
    assert s[0] == 0.0 and s[-1] == 1.0 and t[0] == -1.0 and t[-1] == 1.0
    assert np.all((s >= 0) & (s <= 1))
    assert np.all(np.diff(s) >= 0), "sigmoid must be monotone"
    np.testing.assert_array_equal(r, np.maximum(z, 0))
    # the derivatives vanish at the saturated ends and are 1/4, 1 at 0
    zero = list(EXTREMES).index(0.0)
    assert grads[0][zero] == pytest.approx(0.25) and grads[1][zero] == 1.0
    assert grads[0][0] == 0.0 and grads[0][-1] == 0.0 and grads[1][0] == 0.0
    np.testing.assert_array_equal(grads[2], (z > 0).astype(dtype))  # ReLU'(0) = 0, as PyTorch


def test_sigmoid_matches_the_textbook_formula_where_that_is_safe():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(F.sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-14, atol=1e-16)
    out = np.empty_like(z)
    assert F.sigmoid(z, out=out) is out


@pytest.mark.parametrize("scale", [1.0, 1e2, 1e4])
def test_softmax_family_is_stable_for_large_logits(scale):
    rng = np.random.default_rng(0)
    logits = rng.uniform(-1, 1, size=(6, 5)) * scale
    logits[0] = [1e4, -1e4, 0.0, 1e4, -1e4]  # ties at the top and huge gaps
    logits[1] = -1e4  # all equal
    targets = np.array([1, 0, 4, 2, 3, 0])
    with strict_numerics():
        p = F.softmax(logits)
        lp = F.log_softmax(logits)
        d = F.softmax_backward(rng.normal(size=p.shape), p)
        losses = {red: F.cross_entropy(logits, targets, reduction=red) for red in ("mean", "sum", "none")}
    assert _finite(p, lp, d, *[v for pair in losses.values() for v in pair])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    assert np.all(lp <= 0)
    np.testing.assert_allclose(p[0], [0.5, 0.0, 0.0, 0.5, 0.0])
    log2 = math.log(2)
    np.testing.assert_allclose(lp[0], [-log2, -2e4 - log2, -1e4 - log2, -log2, -2e4 - log2])
    np.testing.assert_allclose(p[1], 0.2)
    # a row whose target has probability e^{-2e4}: finite loss 2e4 + log 2, not inf
    assert losses["none"][0][0] == pytest.approx(2e4 + math.log(2))


def test_cross_entropy_and_mse_are_stable_in_float32():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=np.float32)
    with strict_numerics():
        loss, d = F.cross_entropy(logits, np.array([1, 2]))
        l2, d2 = F.mse(np.float32([1e4, -1e4]), np.float32([-1e4, 1e4]))
    assert _finite(loss, d, l2, d2)
    assert loss == pytest.approx((2e4 + math.log(3)) / 2, rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)),
              elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)))
def test_softmax_properties_hold_for_any_logits_up_to_1e4(z):
    with strict_numerics():
        p, lp = F.softmax(z), F.log_softmax(z)
    assert _finite(p, lp)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(lp), p, rtol=1e-12, atol=1e-300)
    # invariance to a shift of every logit
    np.testing.assert_allclose(F.log_softmax(z + 3.0), lp, atol=1e-9)


# --- derivatives against central differences ------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_activation_derivatives_match_central_differences(name):
    z = np.array([-8.0, -3.0, -1.2, -0.4, -0.05, 0.03, 0.3, 1.1, 2.5, 7.0])
    f, f_grad, f_grad_out = getattr(F, name), getattr(F, f"{name}_grad"), getattr(F, f"{name}_grad_from_output")
    x = z.copy()
    numeric = np.array([numerical_gradient(lambda: f(x)[k], x)[k] for k in range(x.size)])
    np.testing.assert_allclose(f_grad(z), numeric, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(f_grad_out(f(z)), numeric, rtol=1e-7, atol=1e-10)


def test_softmax_backward_matches_central_differences():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(3, 5)) * 3
    weights = rng.normal(size=z.shape)
    analytic = F.softmax_backward(weights, F.softmax(z))
    report = check_gradients(lambda: np.sum(F.softmax(z) * weights), {"z": z}, {"z": analytic}, tol=1e-8)
    assert report.passed, str(report)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("ignore_index", [None, -100, 2])
def test_cross_entropy_gradient_matches_central_differences(reduction, ignore_index):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(7, 4)) * 2
    targets = np.array([0, 2, 3, -100, 1, 2, 0])
    if ignore_index != -100:
        targets[3] = 1
    loss, d_logits = F.cross_entropy(logits, targets, reduction=reduction, ignore_index=ignore_index)
    report = check_gradients(lambda: F.cross_entropy(logits, targets, reduction, ignore_index)[0],
                             {"logits": logits}, {"logits": d_logits}, tol=1e-8)
    assert report.passed, str(report)


def test_cross_entropy_none_reduction_gradient_is_that_of_the_sum():
    rng = np.random.default_rng(3)
    logits, targets = rng.normal(size=(4, 3)), np.array([0, 1, 2, 1])
    losses, d = F.cross_entropy(logits, targets, reduction="none")
    total, d_sum = F.cross_entropy(logits, targets, reduction="sum")
    assert losses.shape == (4,) and losses.sum() == pytest.approx(total)
    np.testing.assert_allclose(d, d_sum)


def test_mse_value_and_gradient():
    rng = np.random.default_rng(4)
    pred, target = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    for reduction, scale in (("mean", 1 / 6), ("sum", 1.0)):
        loss, d = F.mse(pred, target, reduction=reduction)
        assert loss == pytest.approx(np.sum((pred - target) ** 2) * scale)
        report = check_gradients(lambda: F.mse(pred, target, reduction)[0], {"pred": pred}, {"pred": d}, tol=1e-8)
        assert report.passed, str(report)


# --- ignore_index ---------------------------------------------------------------------------


def test_ignored_rows_count_for_nothing():
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(5, 3))
    targets = np.array([0, -1, 2, -1, 1])
    loss, d = F.cross_entropy(logits, targets, ignore_index=-1)
    kept_loss, kept_d = F.cross_entropy(logits[[0, 2, 4]], targets[[0, 2, 4]])
    assert loss == pytest.approx(kept_loss, rel=1e-15)  # mean over the 3 counted rows
    np.testing.assert_array_equal(d[[1, 3]], 0.0)
    np.testing.assert_allclose(d[[0, 2, 4]], kept_d, rtol=1e-15)
    # an ignore_index that is a real class: those rows are dropped too
    loss2, d2 = F.cross_entropy(logits, np.array([0, 1, 2, 1, 1]), ignore_index=1)
    assert loss2 == pytest.approx(F.cross_entropy(logits[[0, 2]], np.array([0, 2]))[0])
    np.testing.assert_array_equal(d2[[1, 3, 4]], 0.0)


def test_all_rows_ignored_gives_zero_loss_and_gradient():
    logits = np.ones((3, 4))
    loss, d = F.cross_entropy(logits, np.full(3, -100), ignore_index=-100)
    assert loss == 0.0 and not np.any(d)


@pytest.mark.parametrize("targets, ignore_index", [([0, 3], None), ([0, -1], None), ([-100, 5], -100), ([1, 3], 0)])
def test_cross_entropy_rejects_targets_outside_the_classes(targets, ignore_index):
    """A target outside 0..K−1 (and not ignore_index) is an error, never a silent wrap-around
    (NumPy would read class −1 as the last one)."""
    logits = np.zeros((2, 3))
    with pytest.raises(RnnlabError, match=r"expected .*0\.\.2.*got"):
        F.cross_entropy(logits, np.array(targets), ignore_index=ignore_index)


@pytest.mark.parametrize("logits_shape, targets_shape",
                         [((5,), (5,)), ((4, 3), (3,)), ((4, 3), (4, 1)), ((2, 3, 4), (2, 3))])
def test_cross_entropy_rejects_mismatched_shapes(logits_shape, targets_shape):
    with pytest.raises(ShapeError, match=r"expected logits \(N, K\).*got") as info:
        F.cross_entropy(np.zeros(logits_shape), np.zeros(targets_shape, dtype=int))
    assert isinstance(info.value, RnnlabError)
    assert str(logits_shape[0]) in str(info.value)


# --- against PyTorch (float64) --------------------------------------------------------------


def test_softmax_and_log_softmax_match_torch(torch):
    rng = np.random.default_rng(6)
    z = np.concatenate([rng.normal(size=(4, 6)) * 5, [[1e4, -1e4, 3.0, 0.0, 1e4, -5e3]]])
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    np.testing.assert_allclose(F.softmax(z), torch.softmax(zt, dim=1).detach().numpy(), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(F.log_softmax(z), torch.log_softmax(zt, dim=1).detach().numpy(), rtol=1e-13, atol=1e-12)
    g = rng.normal(size=z.shape)
    (torch.softmax(zt, dim=1) * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(F.softmax_backward(g, F.softmax(z)), zt.grad.numpy(), rtol=1e-10, atol=1e-14)
    # along another axis
    np.testing.assert_allclose(F.softmax(z, axis=0), torch.softmax(zt, dim=0).detach().numpy(), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [None, -100, 0])
def test_cross_entropy_matches_torch(torch, reduction, ignore_index):
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(8, 5)) * 4
    logits[2] = [1e4, -1e4, 0, 0, 5e3]
    targets = np.array([1, 0, 1, 4, -100, 2, 0, 3])
    if ignore_index != -100:
        targets[4] = 2
    loss, d_logits = F.cross_entropy(logits, targets, reduction=reduction, ignore_index=ignore_index)
    lt = torch.tensor(logits, requires_grad=True)
    kwargs = {} if ignore_index is None else {"ignore_index": ignore_index}
    ref = torch.nn.functional.cross_entropy(lt, torch.from_numpy(targets), reduction=reduction, **kwargs)
    ref.sum().backward()
    np.testing.assert_allclose(loss, ref.detach().numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(d_logits, lt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_mse_matches_torch(torch):
    rng = np.random.default_rng(8)
    pred, target = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    for reduction in ("mean", "sum"):
        loss, d = F.mse(pred, target, reduction=reduction)
        pt = torch.tensor(pred, requires_grad=True)
        ref = torch.nn.functional.mse_loss(pt, torch.from_numpy(target), reduction=reduction)
        ref.backward()
        assert loss == pytest.approx(ref.item(), rel=1e-14)
        np.testing.assert_allclose(d, pt.grad.numpy(), rtol=1e-14)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 6), k=st.integers(1, 6), scale=st.sampled_from([1.0, 30.0, 1e4]), seed=st.integers(0, 2**16))
def test_cross_entropy_matches_torch_on_random_shapes(torch, n, k, scale, seed):
    rng = np.random.default_rng(seed)
    logits = rng.uniform(-1, 1, size=(n, k)) * scale
    targets = rng.integers(0, k, size=n)
    with strict_numerics():
        loss, d = F.cross_entropy(logits, targets)
    lt = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(lt, torch.from_numpy(targets))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(d, lt.grad.numpy(), rtol=1e-11, atol=1e-14)
