"""The unroll's buffers are reused from one training step to the next (sequence.SpareArrays):
reuse must never change a number, and an array someone still sees is never reused."""

import numpy as np
import pytest

import rnnlab
from rnnlab import sequence
from rnnlab.cells import make_cell


class CountingSpares(sequence.SpareArrays):
    hits = 0  # arrays handed out from the spares

    def empty(self, shape, dtype):
        before = self.nbytes
        array = super().empty(shape, dtype)
        self.hits += self.nbytes < before
        return array


@pytest.fixture
def small_spares(monkeypatch):
    """Spares for arrays of any size, so the small test shapes are recycled too."""
    spare = CountingSpares(max_bytes=64 << 20, min_bytes=1)
    monkeypatch.setattr(sequence, "SPARE", spare)
    return spare


@pytest.mark.parametrize("cls", [rnnlab.RNN, rnnlab.LSTM, rnnlab.GRU])
def test_reused_buffers_give_the_same_numbers(cls, small_spares):
    rng = np.random.default_rng(0)
    layer = cls(3, 5, num_layers=2, bidirectional=True, dtype=np.float64, seed=1)
    fresh = cls(3, 5, num_layers=2, bidirectional=True, dtype=np.float64, seed=1)
    for _ in range(3):  # the second and third steps run on the first step's buffers
        x, d_out = rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 2, 10))
        out, _ = layer.forward(x)
        d_x = layer.backward(d_out)
        fresh_out, _ = fresh.forward(x)
        fresh_d_x = fresh.backward(d_out)
        np.testing.assert_array_equal(out, fresh_out)
        np.testing.assert_array_equal(d_x, fresh_d_x)
        for k in layer.grads:
            np.testing.assert_array_equal(layer.grads[k], fresh.grads[k])
    assert small_spares.hits > 0  # the later steps did run on recycled buffers


def test_a_view_that_outlives_its_tape_keeps_its_values(small_spares):
    rng = np.random.default_rng(0)
    cell = make_cell("lstm")
    W_ih, W_hh = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    state0 = (np.zeros((1, 2)), np.zeros((1, 2)))
    _, _, tape = sequence.unroll(cell, rng.normal(size=(4, 1, 3)), state0, W_ih, W_hh)
    gates = tape.caches[1]["gates"]
    kept = gates.copy()
    del tape  # its other buffers become spares; the one behind `gates` must not
    for _ in range(3):
        sequence.unroll(cell, rng.normal(size=(4, 1, 3)), state0, W_ih, W_hh)
    np.testing.assert_array_equal(gates, kept)


def test_spares_are_bounded():
    spare = sequence.SpareArrays(max_bytes=1000, min_bytes=1)
    spare.keep([np.empty(100), np.empty(90)])  # 800 + 720 bytes: the older (90,) goes
    assert spare.nbytes == 800
    assert spare.empty((90,), np.float64).shape == (90,)  # a new array
    assert spare.nbytes == 800
    spare.empty((100,), np.float64)  # the spare one
    assert spare.nbytes == 0
