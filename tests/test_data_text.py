"""rnnlab.data: vocabulary (NFC, unseen-character policy), corpora, split, char-rnn batches,
the seed's windows."""

import gzip
import hashlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.data import (CORPORA, StreamBatcher, Vocabulary, load_corpus, one_hot, split_train_val,
                         windowed_dataset)
from rnnlab.data.corpora import BUNDLED, bundled_path, corpus_description
from rnnlab.i18n import set_language
from rnnlab.errors import ConfigError, DataError, RnnlabError, ValueRangeError

SEED_TEXT = "exemple de texte pour entraîner un RNN."

# --- vocabulary ------------------------------------------------------------------------------


def test_vocabulary_is_the_seeds_char_to_idx():
    v = Vocabulary.from_text(SEED_TEXT)
    assert v.char_to_idx == {' ': 0, '.': 1, 'N': 2, 'R': 3, 'a': 4, 'd': 5, 'e': 6, 'l': 7, 'm': 8,
                             'n': 9, 'o': 10, 'p': 11, 'r': 12, 't': 13, 'u': 14, 'x': 15, 'î': 16}
    assert len(v) == v.size == 17 and v.idx_to_char[16] == "î" and "î" in v and "z" not in v
    ids = v.encode(SEED_TEXT)
    assert ids.dtype == np.int64 and ids.shape == (len(SEED_TEXT),)
    assert [v.chars[i] for i in ids] == list(SEED_TEXT) and v.decode(ids) == SEED_TEXT


def test_nfc_accented_french_encodes_the_same_whatever_the_composition():
    composed = "Où est la côte ? À l'été, Ça ira."
    decomposed = "Ou\u0300 est la co\u0302te ? A\u0300 l'e\u0301te\u0301, C\u0327a ira."
    assert composed != decomposed
    v = Vocabulary.from_text(decomposed)  # built from decomposed text: holds the composed chars
    assert "é" in v and "\u0301" not in v
    np.testing.assert_array_equal(v.encode(composed), v.encode(decomposed))
    assert v.decode(v.encode(decomposed)) == composed


def test_unseen_character_error_names_it_and_its_position():
    v = Vocabulary.from_text(SEED_TEXT)
    with pytest.raises(DataError, match=r"'z' \(U\+007A LATIN SMALL LETTER Z\) at position 3 .*17 characters"):
        v.encode("ent" + "zèbre")
    # positions count characters of the NFC text: "te\u0301" is "té", é at position 1
    with pytest.raises(DataError, match=r"'é' \(U\+00E9 .*\) at position 1 .*1 other unseen"):
        v.encode("te\u0301zt")


def test_replace_policy_uses_the_declared_fallback():
    v = Vocabulary.from_text("abc", unknown="replace")
    assert v.fallback == "\ufffd" and v.chars == ("a", "b", "c", "\ufffd")
    assert v.decode(v.encode("abxc")) == "ab\ufffdc"
    w = Vocabulary.from_text("ab?", unknown="replace", fallback="?")
    assert w.chars == ("?", "a", "b") and w.decode(w.encode("zab")) == "?ab"
    with pytest.raises(ConfigError):
        Vocabulary.from_text("abc", unknown="ignore")
    with pytest.raises(ConfigError):
        Vocabulary.from_text("abc", unknown="replace", fallback="xy")


def test_json_round_trip_and_malformed_json():
    v = Vocabulary.from_text("Notre-Dame « à » \n", unknown="replace")
    d = json.loads(json.dumps(v.to_json()))
    assert Vocabulary.from_json(d) == v
    with pytest.raises(DataError, match="version"):
        Vocabulary.from_json(dict(d, version=99))
    with pytest.raises(DataError, match="'chars'"):
        Vocabulary.from_json(dict(d, chars="abc"))
    with pytest.raises(DataError, match="sorted"):
        Vocabulary.from_json(dict(d, chars=["b", "a"], unknown="error", fallback=None))
    with pytest.raises(DataError):
        Vocabulary.from_text("")


def test_decode_rejects_bad_indices():
    v = Vocabulary.from_text("abc")
    assert v.decode([]) == "" and v.decode(np.array([[2, 0], [1, 1]])) == "cabb"
    with pytest.raises(ValueRangeError, match="0..2"):
        v.decode([0, 3])
    with pytest.raises(ValueRangeError):
        v.decode([-1])
    with pytest.raises(ValueRangeError, match="integer"):
        v.decode([0.0])


TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=200)


@settings(max_examples=60, deadline=None)
@given(TEXT)
def test_round_trip_on_arbitrary_text_within_its_vocabulary(text):
    v = Vocabulary.from_text(text)
    ids = v.encode(text)
    assert v.decode(ids) == v.decode(v.encode(v.decode(ids)))
    import unicodedata
    assert v.decode(ids) == unicodedata.normalize("NFC", text)
    assert ids.min() >= 0 and ids.max() < len(v)


@settings(max_examples=40, deadline=None)
@given(TEXT, st.text(st.characters(codec="utf-8"), max_size=50))
def test_unseen_characters_follow_the_policy(train, other):
    strict = Vocabulary.from_text(train)
    lenient = Vocabulary.from_text(train, unknown="replace")
    import unicodedata
    other_nfc = unicodedata.normalize("NFC", other)
    unseen = [c for c in other_nfc if c not in strict]
    if unseen:
        with pytest.raises(DataError):
            strict.encode(other)
    else:
        assert strict.decode(strict.encode(other)) == other_nfc
    replaced = lenient.decode(lenient.encode(other))
    assert len(replaced) == len(other_nfc)
    assert all(r == c or (c not in lenient and r == lenient.fallback) for r, c in zip(replaced, other_nfc))


def test_one_hot_as_the_seed():
    v = Vocabulary.from_text(SEED_TEXT)
    oh = v.one_hot(v.encode("RNN"))
    assert oh.shape == (3, 17) and oh.sum() == 3 and oh[0, 3] == 1 and oh[1, 2] == oh[2, 2] == 1
    assert one_hot(4, 6).tolist() == [0, 0, 0, 0, 1, 0]


# --- corpora ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["shakespeare", "hugo"])
def test_bundled_corpora_are_the_documented_texts(name):
    text = load_corpus(name)
    entry = BUNDLED[name]
    assert len(text) == entry.chars and name in CORPORA
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == entry.sha256  # == shared/data/README.md
    with bundled_path(name).open("rb") as f:
        assert f.read(2) == b"\x1f\x8b"  # shipped compressed (gzip)
    origins = bundled_path(name).parent.joinpath("ORIGINS.md").read_text(encoding="utf-8")
    assert entry.file in origins and entry.sha256 in origins and "licence" in origins.lower()


def test_corpus_descriptions_in_both_languages():
    try:
        set_language("fr")
        assert "français" in corpus_description("hugo")
        set_language("en")
        assert "English" in corpus_description("shakespeare") and CORPORA["hugo"].startswith("Victor Hugo")
    finally:
        set_language(None)


def test_hugo_is_french_and_encodes():
    text = load_corpus("hugo")
    v = Vocabulary.from_text(text)
    assert len(v) == 107 and all(c in v for c in "éèêàçÉ«»")
    assert text.startswith("Victor Hugo\n\nNOTRE-DAME DE PARIS--1482")


def test_user_files(tmp_path):
    f = tmp_path / "mine.txt"
    f.write_bytes("\ufeffLigne un\r\nLigne deux\rfin e\u0301te\u0301".encode("utf-8"))
    assert load_corpus(f) == "Ligne un\nLigne deux\nfin été"  # BOM dropped, newlines unified, NFC
    assert load_corpus(str(f)) == load_corpus(f)


@pytest.mark.parametrize("content, message", [
    (b"", "at least 2 characters"),
    (b"a", "at least 2 characters"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ("Café noir".encode("latin-1"), "byte 0xE9 at offset 3"),
])
def test_bad_user_files_name_the_file(tmp_path, content, message):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        load_corpus(f)
    assert str(f) in str(info.value)


def test_missing_corpus_names_the_bundled_ones(tmp_path):
    with pytest.raises(DataError, match="shakespeare, hugo"):
        load_corpus("moliere")
    with pytest.raises(DataError, match="no such file"):
        load_corpus(tmp_path / "absent.txt")
    with pytest.raises(DataError, match="directory"):
        load_corpus(tmp_path)


def test_a_damaged_bundle_is_detected(monkeypatch, tmp_path):
    import rnnlab.data.corpora as corpora
    fake = tmp_path / "corpora"
    fake.mkdir()
    (fake / "tinyshakespeare.txt.gz").write_bytes(gzip.compress(b"First Citizen: tampered\n"))
    monkeypatch.setattr(corpora, "bundled_path", lambda name: fake / BUNDLED[name].file)
    with pytest.raises(DataError, match="sha256"):
        load_corpus("shakespeare")


# --- split -----------------------------------------------------------------------------------


def test_contiguous_split_as_nanogpt():
    ids = np.arange(1003)
    train, val = split_train_val(ids, 0.1)
    assert len(train) == int(1003 * 0.9) == 902
    np.testing.assert_array_equal(np.concatenate([train, val]), ids)
    train0, val0 = split_train_val(ids, 0.0)
    assert len(train0) == 1003 and len(val0) == 0
    with pytest.raises(DataError, match="at least 2"):
        split_train_val(np.arange(10), 0.1)
    with pytest.raises(ConfigError):
        split_train_val(ids, 1.0)


# --- char-rnn streams ------------------------------------------------------------------------


def test_stream_batches_continue_each_stream_and_wrap():
    ids = np.arange(103)  # N = 103, B = 4 → L = 25; T = 6 → 4 batches, 1 char per stream unread
    b = StreamBatcher(ids, batch_size=4, seq_len=6)
    assert (b.stream_len, b.batches_per_epoch, len(b)) == (25, 4, 4)
    batches = [b.next_batch() for _ in range(4)]
    for k, (x, y) in enumerate(batches):
        assert x.shape == y.shape == (6, 4) and x.dtype == np.int64 and x.flags.c_contiguous
        for j in range(4):  # stream j, time t: ids[j·L + k·T + t]
            np.testing.assert_array_equal(x[:, j], ids[j * 25 + k * 6: j * 25 + k * 6 + 6])
        np.testing.assert_array_equal(y, x + 1)
    # column j of batch k+1 starts where column j of batch k stopped: state can be carried
    for (x0, _), (x1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(x1[0], x0[-1] + 1)
    # one stream's inputs over the epoch are a contiguous piece of the text
    np.testing.assert_array_equal(np.concatenate([x[:, 2] for x, _ in batches]), ids[50:74])
    assert b.position == 0 and b.epoch == 1
    x, _ = b.next_batch()
    np.testing.assert_array_equal(x, batches[0][0])


def test_iteration_gives_the_rest_of_the_epoch():
    b = StreamBatcher(np.arange(200), batch_size=3, seq_len=5)
    b.next_batch()
    rest = list(b)
    assert len(rest) == b.batches_per_epoch - 1 and b.position == 0 and b.epoch == 1
    assert len(list(b)) == b.batches_per_epoch and b.epoch == 2


def test_exact_resume_through_state_dict():
    ids = np.random.default_rng(0).integers(0, 30, size=1000)
    a = StreamBatcher(ids, batch_size=5, seq_len=7)
    uninterrupted = [a.next_batch() for _ in range(70)]  # crosses two epoch ends (28 per epoch)
    b = StreamBatcher(ids, batch_size=5, seq_len=7)
    for _ in range(33):
        b.next_batch()
    saved = json.loads(json.dumps(b.state_dict()))  # goes through a JSON checkpoint
    c = StreamBatcher(ids, batch_size=5, seq_len=7)
    c.load_state_dict(saved)
    assert (c.position, c.epoch) == (5, 1)
    for k in range(33, 70):
        x, y = c.next_batch()
        np.testing.assert_array_equal(x, uninterrupted[k][0])
        np.testing.assert_array_equal(y, uninterrupted[k][1])


def test_resume_on_other_data_or_shape_is_refused():
    ids = np.arange(500) % 17
    saved = StreamBatcher(ids, 4, 8).state_dict()
    with pytest.raises(DataError, match="'batch_size'"):
        StreamBatcher(ids, 5, 8).load_state_dict(saved)
    other = ids.copy()
    other[100] = 3
    with pytest.raises(DataError, match="'data_sha256'"):
        StreamBatcher(other, 4, 8).load_state_dict(saved)
    with pytest.raises(DataError, match="position"):
        StreamBatcher(ids, 4, 8).load_state_dict(dict(saved, position=10 ** 6))
    with pytest.raises(DataError, match="'epoch' is missing"):
        StreamBatcher(ids, 4, 8).load_state_dict({k: v for k, v in saved.items() if k != "epoch"})


def test_too_little_text_for_the_batch_says_what_is_needed():
    with pytest.raises(DataError, match="at least 33"):
        StreamBatcher(np.arange(32), batch_size=4, seq_len=8)
    StreamBatcher(np.arange(33), batch_size=4, seq_len=8)
    with pytest.raises(ConfigError):
        StreamBatcher(np.arange(100), batch_size=0, seq_len=8)
    with pytest.raises(RnnlabError):
        StreamBatcher(np.arange(100.0), batch_size=2, seq_len=8)


# --- the seed's windows ----------------------------------------------------------------------


def test_windowed_dataset_reproduces_seed_003():
    v = Vocabulary.from_text(SEED_TEXT)
    X, y = windowed_dataset(v.encode(SEED_TEXT), 5)
    assert X.shape == (len(SEED_TEXT) - 5, 5) and y.shape == (len(SEED_TEXT) - 5,)
    assert [v.decode(x) for x in X[:5]] == ['exemp', 'xempl', 'emple', 'mple ', 'ple d']
    assert list(v.decode(y[:5])) == ['l', 'e', ' ', 'd', 'e']
    seed_inputs = [SEED_TEXT[i:i + 5] for i in range(len(SEED_TEXT) - 5)]
    assert [v.decode(x) for x in X] == seed_inputs
    with pytest.raises(DataError, match="at least 6"):
        windowed_dataset(np.arange(5), 5)
