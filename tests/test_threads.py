"""The thread knob (rnnlab.threads): it really sets what threadpoolctl reports for the BLAS and
numba's thread count, reads RNNLAB_NUM_THREADS on first use, refuses bad values by name, and
``limit_threads`` restores the previous choice. The default policy is checked as the function
it is (free cores in, threads out) and on the load meter's arithmetic; its speed under load is
measured by ``benchmarks/bench_contention.py``, not here (no wall-clock thresholds in tests)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import rnnlab
from rnnlab import kernels, threads
from rnnlab.errors import ConfigError


def blas_threads():
    """What threadpoolctl reports for every BLAS loaded (one value when they agree)."""
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def compute():
    """A small forward and backward: what starts the knob on first use."""
    layer = rnnlab.LSTM(3, 4, seed=0)
    x = np.ones((2, 1, 3), np.float32)
    layer.forward(x)
    layer.backward(np.ones((2, 1, 4), np.float32))


@pytest.fixture(autouse=True)
def fresh_knob(monkeypatch):
    """Each test starts the knob anew from its own environment, and leaves it as the suite set it."""
    monkeypatch.delenv(threads.ENV, raising=False)
    threads._forget()
    yield
    monkeypatch.undo()
    threads._forget()
    threads.get_threads()


@pytest.mark.parametrize("n", [1, 2, 3])
def test_set_threads_sets_the_blas_count(n):
    assert threads.set_threads(n) == n
    assert threads.get_threads() == n
    assert blas_threads() == {n}


@pytest.mark.skipif(not kernels.ENABLED, reason="kernels disabled (RNNLAB_NO_NUMBA=1)")
def test_set_threads_sets_numba_count():
    numba = pytest.importorskip("numba")
    kernels._KERNELS or kernels._compile()  # numba loaded, its threading layer chosen
    most = numba.config.NUMBA_NUM_THREADS
    threads.set_threads(1)
    assert numba.get_num_threads() == 1
    threads.set_threads(2)
    assert numba.get_num_threads() == min(2, most)


def test_the_environment_is_read_on_first_computation(monkeypatch):
    monkeypatch.setenv(threads.ENV, "1")
    compute()
    assert threads.get_threads() == 1 and blas_threads() == {1}
    threads.set_threads(2)
    assert blas_threads() == {2}
    threads.set_threads(None)  # None: back to the environment's count
    assert threads.get_threads() == 1 and blas_threads() == {1}


def test_import_is_light_and_the_environment_waits_for_first_computation():
    """``import rnnlab`` neither imports threadpoolctl nor reads the variable: a bad value
    surfaces at the first computation, naming the variable."""
    code = ("import sys, rnnlab; assert 'threadpoolctl' not in sys.modules\n"
            "import numpy as np\n"
            "try:\n    rnnlab.RNN(2, 3).forward(np.ones((1, 1, 2), np.float32))\n"
            "except rnnlab.ConfigError as e:\n    print(e)\n")
    env = dict(os.environ, RNNLAB_NUM_THREADS="many", RNNLAB_LANG="en")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "RNNLAB_NUM_THREADS: expected a positive whole number of threads" in out.stdout
    assert "'many'" in out.stdout


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_bad_counts_are_refused_by_name(bad):
    with pytest.raises(ConfigError, match=r"threads: expected a positive whole number of threads.*got"):
        threads.set_threads(bad)


@pytest.mark.parametrize("bad", ["0", "-1", "two", "2.5"])
def test_bad_environment_values_are_refused_by_name(monkeypatch, bad):
    monkeypatch.setenv(threads.ENV, bad)
    with pytest.raises(ConfigError, match=f"RNNLAB_NUM_THREADS: expected a positive whole number.*{bad!r}"):
        compute()


def test_errors_speak_french_when_asked(monkeypatch):
    from rnnlab.i18n import set_language

    set_language("fr")
    with pytest.raises(ConfigError, match="threads : attendu un nombre entier positif"):
        threads.set_threads(0)


def test_limit_threads_restores_a_fixed_count():
    threads.set_threads(2)
    with threads.limit_threads(1) as n:
        assert n == 1 and threads.get_threads() == 1 and blas_threads() == {1}
    assert threads.get_threads() == 2 and blas_threads() == {2}


def test_limit_threads_restores_after_an_error():
    threads.set_threads(3)
    with pytest.raises(RuntimeError), threads.limit_threads(1):
        raise RuntimeError("inside")
    assert blas_threads() == {3}


def test_limit_threads_returns_to_the_default_policy():
    start = threads.get_threads()
    assert 1 <= start <= threads._knob.ceiling
    with threads.limit_threads(1):
        assert threads.policy().endswith("fixed")
    assert "default policy" in threads.policy()
    assert 1 <= threads.get_threads() <= threads._knob.ceiling
    assert blas_threads() == {threads.get_threads()}


@pytest.mark.parametrize("free, ceiling, expected", [
    (2.0, 2, 2),    # idle 2-core machine: both cores
    (1.8, 2, 2),    # others use 0.2 of a core: still free
    (1.6, 2, 1),    # 0.4: that core is taken
    (1.0, 2, 1),    # one competing CPU-bound process
    (0.0, 2, 1),    # two of them: never fewer than one thread
    (7.0, 8, 7),    # an 8-core laptop with one busy core
    (8.0, 4, 4),    # OPENBLAS_NUM_THREADS=4 caps the policy
])
def test_default_policy_one_thread_per_free_core(free, ceiling, expected):
    assert threads.threads_for(free, ceiling) == expected


def test_busy_time_counts_only_our_cpus_and_busy_fields(tmp_path):
    # fields: user nice system idle iowait irq softirq steal guest guest_nice
    stat = tmp_path / "stat"
    stat.write_text("cpu  900 900 900 900 900 900 900 900 0 0\n"
                    "cpu0 10 1 2 500 40 3 4 5 0 0\n"
                    "cpu1 20 0 0 500 0 0 0 0 0 0\n"
                    "cpu2 7000 0 0 0 0 0 0 0 0 0\n"
                    "intr 1 2 3\n")
    tick = os.sysconf("SC_CLK_TCK")
    assert threads._busy_seconds({0, 1}, str(stat)) == pytest.approx((10 + 1 + 2 + 3 + 4 + 5 + 20) / tick)
    assert threads._busy_seconds({0}, str(tmp_path / "missing")) is None


def test_the_meter_subtracts_our_own_cpu_time(monkeypatch):
    """Machine busy 1.5 core-seconds over 1 s, of which we used 0.5: the others used 1 core."""
    readings = iter([(10.0, 100.0, 3.0), (11.0, 101.5, 3.5)])
    monkeypatch.setattr(threads.LoadMeter, "_read", lambda self: next(readings))
    meter = threads.LoadMeter({0, 1})
    assert meter.others() == pytest.approx(1.0)
