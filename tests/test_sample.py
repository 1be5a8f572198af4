"""Sampling: greedy is the limit of temperature → 0, top-k and top-p never leave their set,
draws follow the softmax (chi-square), a seed reproduces the text, primes are checked."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.data.text import Vocabulary
from rnnlab.errors import ConfigError, DataError
from rnnlab.functional import softmax
from rnnlab.models import CharLM
from rnnlab.sample import draw, generate, next_char_probabilities

VOCAB = Vocabulary.from_text("abcdefgh \n")


def _model(seed=0):
    return CharLM(VOCAB.size, cell="lstm", hidden_size=16, dtype=np.float64, seed=seed)


def _greedy_seed_way(model, prime, length):
    """The seed's generate_text: arg max at each step, state carried."""
    state, current, out = None, VOCAB.encode(prime)[-1], []
    if len(prime) > 1:
        _, state = model(VOCAB.encode(prime[:-1])[:, None])
    for _ in range(length):
        logits, state = model.step(np.array([current]), state)
        current = int(np.argmax(logits[0]))
        out.append(VOCAB.chars[current])
    return "".join(out)


def test_temperature_to_zero_gives_greedy():
    model = _model(1)
    greedy = _greedy_seed_way(model, "ab", 40)
    assert generate(model, VOCAB, 40, prime="ab", temperature=0, seed=0) == greedy
    for seed in range(3):  # a very low temperature draws the arg max at every step
        assert generate(model, VOCAB, 40, prime="ab", temperature=1e-4, seed=seed) == greedy
    assert generate(model, VOCAB, 40, prime="ab", temperature=1.0, seed=0) != greedy


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), k=st.integers(1, 10), temperature=st.floats(0.1, 5.0))
def test_top_k_never_leaves_the_k_best(seed, k, temperature):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(10) * 3
    best = set(np.argsort(-logits)[:k])
    probs = next_char_probabilities(logits, temperature, top_k=k)
    assert set(np.flatnonzero(probs)) <= best and np.isclose(probs.sum(), 1.0)
    assert all(draw(probs, rng) in best for _ in range(200))


def test_top_p_keeps_the_smallest_nucleus():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    np.testing.assert_allclose(next_char_probabilities(logits, top_p=0.5), [1, 0, 0, 0])
    np.testing.assert_allclose(next_char_probabilities(logits, top_p=0.7), [0.625, 0.375, 0, 0])
    np.testing.assert_allclose(next_char_probabilities(logits, top_p=0.9), np.array([0.5, 0.3, 0.15, 0]) / 0.95)
    np.testing.assert_allclose(next_char_probabilities(logits, top_p=1.0), [0.5, 0.3, 0.15, 0.05])


def test_frequencies_match_softmax_chi_square():
    """Pearson's chi-square of 20,000 draws against softmax(z / τ); 7 degrees of freedom, the
    0.999 quantile is 24.32 (a correct sampler fails 1 time in 1000; the seed is fixed)."""
    rng = np.random.default_rng(2024)
    logits = np.array([2.0, 1.0, 0.5, 0.0, -0.5, -1.0, 1.5, 0.2])
    for temperature in (1.0, 0.7):
        expected_p = softmax(logits / temperature)
        probs = next_char_probabilities(logits, temperature)
        n = 20_000
        counts = np.bincount([draw(probs, rng) for _ in range(n)], minlength=8)
        chi2 = float(np.sum((counts - n * expected_p) ** 2 / (n * expected_p)))
        assert chi2 < 24.32, (counts, n * expected_p)
    # and a wrong distribution is rejected by the same test
    counts = np.bincount([draw(softmax(logits), rng) for _ in range(n)], minlength=8)
    wrong = softmax(logits / 0.7)
    assert float(np.sum((counts - n * wrong) ** 2 / (n * wrong))) > 24.32


def test_seed_reproduces_and_streaming_matches_the_result():
    model = _model(2)
    streamed = []
    a = generate(model, VOCAB, 60, prime="abc", temperature=0.9, top_k=5, top_p=0.9, seed=7, on_text=streamed.append)
    assert a == generate(model, VOCAB, 60, prime="abc", temperature=0.9, top_k=5, top_p=0.9, seed=7)
    assert "".join(streamed) == a and len(a) == 60
    assert a != generate(model, VOCAB, 60, prime="abc", temperature=0.9, top_k=5, top_p=0.9, seed=8)
    assert model.training  # the mode is restored


def test_warmup_reads_the_prime_from_a_written_state():
    """With a warm-up the prime is read after text the model wrote (not from zeros): another
    state, so another text, reproducible with the seed; warmup=0 is the zero start."""
    model = _model(3)
    kw = dict(prime="ab", temperature=0.9, seed=5)
    cold, warm = generate(model, VOCAB, 40, **kw), generate(model, VOCAB, 40, warmup=30, **kw)
    assert warm == generate(model, VOCAB, 40, warmup=30, **kw) and warm != cold
    assert generate(model, VOCAB, 40, warmup=0, **kw) == cold


def test_bad_options_and_primes():
    model = _model()
    with pytest.raises(DataError, match="'z'"):
        generate(model, VOCAB, 5, prime="abz")
    with pytest.raises(DataError, match="empty"):
        generate(model, VOCAB, 5, prime="")
    with pytest.raises(ConfigError, match="temperature"):
        generate(model, VOCAB, 5, temperature=-1.0)
    with pytest.raises(ConfigError, match="temperature"):
        generate(model, VOCAB, 5, temperature=float("nan"))
    with pytest.raises(ConfigError, match="top-k"):
        generate(model, VOCAB, 5, top_k=0)
    with pytest.raises(ConfigError, match="top-p"):
        generate(model, VOCAB, 5, top_p=1.5)
    with pytest.raises(ConfigError, match="length"):
        generate(model, VOCAB, -3)
