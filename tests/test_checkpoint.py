"""rnnlab.checkpoint: round trips (tensors, metadata, optimiser state, RNG), atomic writes that
keep the previous checkpoint on any failure, and a clear error for every damaged file."""

import dataclasses
import hashlib
import json
import os
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnlab.checkpoint as ckpt
from rnnlab.checkpoint import (atomic_path, atomic_write, flatten_state, load_checkpoint, rng_from_state,
                               rng_state, save_checkpoint, unflatten_state)
from rnnlab.data import Vocabulary
from rnnlab.errors import CheckpointError, WriteError
from rnnlab.optim import make_optimizer


@dataclasses.dataclass(frozen=True)
class Config:
    cell: str = "lstm"
    hidden: int = 16
    betas: tuple = (0.9, 0.999)


def _tensors(seed=0):
    rng = np.random.default_rng(seed)
    return {"embed.weight": rng.standard_normal((7, 4)).astype(np.float32),
            "rnn.weight_hh_l0": rng.standard_normal((16, 4)),
            "counts": np.arange(5, dtype=np.int64), "scalar": np.array(3.5),
            "empty": np.zeros((0, 3), dtype=np.float32)}


def _meta():
    return {"config": Config(), "step": np.int64(12), "best_loss": np.float32(1.25), "lr": 0.01,
            "vocabulary": Vocabulary.from_text("Notre-Dame « été »\n").to_json(), "note": None,
            "losses": [np.float64(2.5), 2.25], "ok": np.bool_(True)}


def _listing(d):
    return sorted(os.listdir(d))


def test_round_trip(tmp_path):
    tensors = _tensors()
    path = save_checkpoint(tmp_path / "run", "last", tensors, _meta())
    assert path == tmp_path / "run" / "last.json"
    assert _listing(tmp_path / "run") == ["last.json", "last.safetensors"]
    loaded, meta = load_checkpoint(tmp_path / "run", "last")
    assert loaded.keys() == tensors.keys()
    for k, a in tensors.items():
        assert loaded[k].dtype == a.dtype and loaded[k].shape == a.shape
        np.testing.assert_array_equal(loaded[k], a)
        assert loaded[k].flags.writeable
    assert meta == {"config": {"cell": "lstm", "hidden": 16, "betas": [0.9, 0.999]}, "step": 12,
                    "best_loss": 1.25, "lr": 0.01, "vocabulary": _meta()["vocabulary"], "note": None,
                    "losses": [2.5, 2.25], "ok": True}
    assert Vocabulary.from_json(meta["vocabulary"]) == Vocabulary.from_text("Notre-Dame « été »\n")
    doc = json.loads((tmp_path / "run" / "last.json").read_text(encoding="utf-8"))
    assert doc["format"] == "rnnlab-checkpoint" and doc["version"] == 1
    assert doc["weights"]["sha256"] == hashlib.sha256((tmp_path / "run" / "last.safetensors").read_bytes()).hexdigest()
    assert (tmp_path / "run" / "last.safetensors").read_bytes()[8:9] == b"{"  # safetensors header, not pickle


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text("abcdefgh._/", min_size=1, max_size=12),
                       hnp.arrays(st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]),
                                  hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
                       max_size=5))
def test_round_trip_arbitrary_tensors(tmp_path_factory, tensors):
    d = tmp_path_factory.mktemp("ck")
    save_checkpoint(d, "x", tensors, {"n": len(tensors)})
    loaded, meta = load_checkpoint(d, "x")
    assert meta == {"n": len(tensors)} and loaded.keys() == tensors.keys()
    for k, a in tensors.items():
        assert loaded[k].dtype == a.dtype
        np.testing.assert_array_equal(loaded[k], a)


def test_optimizer_state_resumes_exactly(tmp_path):
    rng = np.random.default_rng(3)
    shapes = {"w": (4, 3), "b": (4,)}
    grads = [{k: rng.standard_normal(s) for k, s in shapes.items()} for _ in range(6)]
    start = {k: np.random.default_rng(9).standard_normal(s) for k, s in shapes.items()}

    straight = {k: v.copy() for k, v in start.items()}
    opt = make_optimizer("adam", straight, lr=0.01, weight_decay=0.1)
    for g in grads:
        opt.step(g)

    params = {k: v.copy() for k, v in start.items()}
    opt = make_optimizer("adam", params, lr=0.01, weight_decay=0.1)
    for g in grads[:3]:
        opt.step(g)
    opt_tensors, skeleton = flatten_state("optim", opt.state_dict())
    assert set(opt_tensors) == {"optim/state/exp_avg/w", "optim/state/exp_avg/b",
                                "optim/state/exp_avg_sq/w", "optim/state/exp_avg_sq/b"}
    save_checkpoint(tmp_path, "last", {**params, **opt_tensors}, {"optimizer": skeleton})

    tensors, meta = load_checkpoint(tmp_path, "last")
    params2 = {k: tensors[k] for k in shapes}
    opt2 = make_optimizer("adam", params2, lr=0.5)
    opt2.load_state_dict(unflatten_state(meta["optimizer"], tensors))
    for g in grads[3:]:
        opt2.step(g)
    for k in shapes:
        np.testing.assert_array_equal(params2[k], straight[k])  # bit for bit
    with pytest.raises(CheckpointError, match="optim/state/exp_avg/w"):
        unflatten_state(meta["optimizer"], {})


@pytest.mark.parametrize("bit_generator", ["PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937"])
def test_rng_state_round_trip_through_json(tmp_path, bit_generator):
    rng = np.random.Generator(getattr(np.random, bit_generator)(1234))
    rng.standard_normal(7)
    rng.integers(0, 10, size=3)  # leaves a buffered uint32 in some generators
    state = rng_state(rng)
    save_checkpoint(tmp_path, "r", {}, {"rng": state})
    _, meta = load_checkpoint(tmp_path, "r")
    restored = rng_from_state(meta["rng"])
    np.testing.assert_array_equal(restored.standard_normal(20), rng.standard_normal(20))
    assert restored.integers(0, 2 ** 31, size=5).tolist() == rng.integers(0, 2 ** 31, size=5).tolist()


def test_rng_state_refuses_unknown_generators():
    with pytest.raises(CheckpointError, match="'bit_generator'"):
        rng_from_state({"bit_generator": "os.system"})


# --- atomic writes ----------------------------------------------------------------------------


def _fail_replace_into(monkeypatch, target_suffix, exc=OSError(28, "No space left on device")):
    real = os.replace

    def replace(src, dst):
        if str(dst).endswith(target_suffix):
            raise exc
        return real(src, dst)

    monkeypatch.setattr(ckpt.os, "replace", replace)


@pytest.mark.parametrize("failing", ["last.safetensors", "last.json"])
def test_failed_rename_keeps_the_previous_checkpoint(tmp_path, monkeypatch, failing):
    old = _tensors(0)
    save_checkpoint(tmp_path, "last", old, {"step": 1})
    _fail_replace_into(monkeypatch, failing)
    with pytest.raises(WriteError, match="last.json.*previous checkpoint is kept"):
        save_checkpoint(tmp_path, "last", _tensors(1), {"step": 2})
    monkeypatch.undo()
    loaded, meta = load_checkpoint(tmp_path, "last")
    assert meta == {"step": 1}
    for k, a in old.items():
        np.testing.assert_array_equal(loaded[k], a)
    assert _listing(tmp_path) == ["last.json", "last.safetensors"]  # no temporary file left
    save_checkpoint(tmp_path, "last", _tensors(1), {"step": 2})  # and the next save works
    assert load_checkpoint(tmp_path, "last")[1] == {"step": 2}


def _full_disk_while_flushing(monkeypatch, exc=OSError(28, "No space left on device")):
    """Every fsync fails, as on a full disk: the data never reaches it."""
    def fsync(fd):
        raise exc

    monkeypatch.setattr(ckpt.os, "fsync", fsync)


def test_full_disk_while_writing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, "last", _tensors(0), {"step": 1})
    _full_disk_while_flushing(monkeypatch)
    with pytest.raises(WriteError, match="no space left"):
        save_checkpoint(tmp_path, "last", _tensors(1), {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(tmp_path, "last")[1] == {"step": 1}
    assert _listing(tmp_path) == ["last.json", "last.safetensors"]  # the temporary files are gone


def test_ctrl_c_during_the_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, "last", _tensors(0), {"step": 1})
    _fail_replace_into(monkeypatch, "last.json", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, "last", _tensors(1), {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(tmp_path, "last")[1] == {"step": 1}
    assert _listing(tmp_path) == ["last.json", "last.safetensors"]


def test_killed_between_the_two_renames_loads_the_previous_weights(tmp_path):
    """State left by a process killed after the weights rename, before the JSON rename."""
    old = _tensors(0)
    save_checkpoint(tmp_path / "a", "last", old, {"step": 1})
    save_checkpoint(tmp_path / "b", "last", _tensors(1), {"step": 2})
    shutil.copyfile(tmp_path / "a" / "last.safetensors", tmp_path / "a" / "last.safetensors.prev")
    shutil.copyfile(tmp_path / "b" / "last.safetensors", tmp_path / "a" / "last.safetensors")
    loaded, meta = load_checkpoint(tmp_path / "a", "last")
    assert meta == {"step": 1}
    for k, a in old.items():
        np.testing.assert_array_equal(loaded[k], a)
    save_checkpoint(tmp_path / "a", "last", _tensors(2), {"step": 3})  # the next save cleans up
    assert _listing(tmp_path / "a") == ["last.json", "last.safetensors"]


def test_bad_metadata_fails_before_touching_files(tmp_path):
    save_checkpoint(tmp_path, "last", _tensors(0), {"step": 1})
    before = {p: (tmp_path / p).read_bytes() for p in _listing(tmp_path)}
    with pytest.raises(CheckpointError, match=r"meta\['extra'\]\['h'\].*array"):
        save_checkpoint(tmp_path, "last", _tensors(1), {"extra": {"h": np.zeros(3)}})
    with pytest.raises(CheckpointError, match="'w'"):
        save_checkpoint(tmp_path, "last", {"w": [1.0, 2.0]}, {})
    with pytest.raises(CheckpointError, match="plain file name"):
        save_checkpoint(tmp_path, "../escape", _tensors(1), {})
    assert {p: (tmp_path / p).read_bytes() for p in _listing(tmp_path)} == before


# --- damaged checkpoints ----------------------------------------------------------------------


def _damage(d, how):
    w, j = d / "last.safetensors", d / "last.json"
    doc = json.loads(j.read_text(encoding="utf-8"))
    if how == "no json":
        j.unlink()
    elif how == "no weights":
        w.unlink()
    elif how == "corrupt json":
        j.write_text(j.read_text(encoding="utf-8")[:40], encoding="utf-8")
    elif how == "not an object":
        j.write_text("[1, 2]", encoding="utf-8")
    elif how == "wrong format":
        j.write_text(json.dumps(dict(doc, format="keras")), encoding="utf-8")
    elif how == "newer version":
        j.write_text(json.dumps(dict(doc, version=2)), encoding="utf-8")
    elif how == "no meta":
        j.write_text(json.dumps({k: v for k, v in doc.items() if k != "meta"}), encoding="utf-8")
    elif how == "flipped byte":
        data = bytearray(w.read_bytes())
        data[-3] ^= 0xFF
        w.write_bytes(bytes(data))
    elif how == "truncated":
        w.write_bytes(w.read_bytes()[:-20])
    elif how == "garbage matching hash":  # a JSON that vouches for a file safetensors cannot read
        junk = b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!"
        w.write_bytes(junk)
        doc["weights"].update(sha256=hashlib.sha256(junk).hexdigest(), bytes=len(junk))
        j.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize("how, file, message", [
    ("no json", "last.json", "checkpoint not found"),
    ("no weights", "last.safetensors", "weights file not found"),
    ("corrupt json", "last.json", "corrupt JSON at line"),
    ("not an object", "last.json", "expected a JSON object"),
    ("wrong format", "last.json", "'format': expected 'rnnlab-checkpoint', got 'keras'"),
    ("newer version", "last.json", "'version': written by a newer rnnlab"),
    ("no meta", "last.json", "key 'meta' is missing"),
    ("flipped byte", "last.safetensors", "'weights.sha256'"),
    ("truncated", "last.safetensors", "truncated.*'weights.bytes'.*got"),
    ("garbage matching hash", "last.safetensors", "not a readable safetensors file"),
])
def test_damaged_checkpoints_raise_a_clear_error(tmp_path, how, file, message):
    save_checkpoint(tmp_path, "last", _tensors(0), {"step": 1})
    _damage(tmp_path, how)
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(tmp_path, "last")
    assert str(tmp_path / file) in str(info.value)


def test_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nowhere", "best")


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "history.csv"
    assert atomic_write(target, "step,loss\n1,2.5\n") == target
    assert target.read_text(encoding="utf-8") == "step,loss\n1,2.5\n"
    _fail_replace_into(monkeypatch, "history.csv")
    with pytest.raises(WriteError, match="history.csv.*previous file is kept"):
        atomic_write(target, b"half")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "step,loss\n1,2.5\n"
    assert _listing(tmp_path / "sub") == ["history.csv"]


@pytest.mark.parametrize("failure", ["full disk", "rename refused", "Ctrl-C at the rename"])
def test_atomic_write_removes_its_temporary_file_on_every_failure(tmp_path, monkeypatch, failure):
    target = tmp_path / "history.csv"
    atomic_write(target, "step,loss\n1,2.5\n")
    if failure == "full disk":
        _full_disk_while_flushing(monkeypatch)
    else:
        _fail_replace_into(monkeypatch, "history.csv", KeyboardInterrupt() if "Ctrl-C" in failure else
                           OSError(13, "Permission denied"))
    with pytest.raises(KeyboardInterrupt if "Ctrl-C" in failure else WriteError):
        atomic_write(target, "step,loss\n1,2.5\n2,2.0\n")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "step,loss\n1,2.5\n"
    assert _listing(tmp_path) == ["history.csv"]


def test_atomic_path_renames_on_success_and_removes_on_an_error(tmp_path):
    target = tmp_path / "figure.svg"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".figure.svg.") and tmp.exists()
        tmp.write_text("<svg/>", encoding="utf-8")
        assert not target.exists()  # nothing at the final name before the block ends
    assert target.read_text(encoding="utf-8") == "<svg/>"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file's mode, not mkstemp's 0600
    with pytest.raises(ValueError, match="drawing failed"):
        with atomic_path(target) as tmp:
            tmp.write_text("<sv", encoding="utf-8")
            raise ValueError("drawing failed")
    assert target.read_text(encoding="utf-8") == "<svg/>"
    assert _listing(tmp_path) == ["figure.svg"]
