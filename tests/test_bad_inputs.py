"""Bad values are refused cleanly: one line naming the culprit, a non-zero exit, no traceback, and
no file changed (issue 14, "Nothing lost, no traceback, no hang").

Table-driven, in process (``helpers.run_cli``): every subcommand's options (the shared option
vocabulary of ``rnnlab.commands._options`` given out-of-range, non-finite and non-numeric values),
the semantic checks each command makes (options that contradict, lists that are empty, sizes that
cannot fit in memory), CSV series and classification files, corpora, weights files, trace configs,
crafted checkpoints of a task run and of a language model, and the Python API (each case the right
:class:`~rnnlab.errors.RnnlabError` subclass and message). Hypothesis mutates valid trace configs
and checkpoints at random: each mutant either loads or is refused with an ``RnnlabError``, never
another exception. Everything is tiny (one or two steps, H = 2), built once per module.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil

import numpy as np
import pytest
from french_rules import terminal_problems
from helpers import assert_refused, run_cli, tree_hashes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnlab import errors

# --- the workspace: files every case may name, built once --------------------------------------------

TASK = ["adding", "-T", "3", "--hidden", "2", "--batch", "2", "--steps", "2", "--eval-every", "1", "--no-progress"]
LM = ["--steps", "2", "--hidden", "4", "--embedding", "3", "--seq-len", "5", "--batch", "2", "--no-progress"]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _series(rows):
    return "day,value\n" + "".join(f"{d},{v}\n" for d, v in rows)


def _sequences(rows):
    return "sequence,t,label,x\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


GOOD_SEQUENCES = [(f"s{i // 4}", i % 4, (i // 4) % 2, round(0.1 * i, 2)) for i in range(40)]


def _reweigh(folder, name, change):
    """Rewrite ``<name>.safetensors`` with ``change(tensors)`` and its JSON record (sha256, bytes,
    dtypes, shapes) to match: a checkpoint whose weights were edited by someone who knew the format."""
    from safetensors.numpy import load, save

    weights, doc_path = folder / f"{name}.safetensors", folder / f"{name}.json"
    tensors = dict(load(weights.read_bytes()))
    change(tensors)
    data = save(tensors)
    weights.write_bytes(data)
    doc = json.loads(doc_path.read_text(encoding="utf-8"))
    doc["weights"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data),
                          tensors={k: {"dtype": str(a.dtype), "shape": list(a.shape)} for k, a in tensors.items()})
    doc_path.write_text(json.dumps(doc), encoding="utf-8")


def _retype(dtype):
    def change(tensors):
        for k in tensors:
            tensors[k] = tensors[k].astype(dtype)
    return change


def _scale(value):
    def change(tensors):
        for k in tensors:
            if not k.startswith("optimizer/"):
                tensors[k] = np.full_like(tensors[k], value)
    return change


def _splice(doc, path, text):
    """The JSON of ``doc`` with the meta's value at ``path`` written as ``text`` (what no JSON writer
    would write: NaN, 200,000 brackets)."""
    table = doc["meta"]
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = "@SPLICE@"
    return json.dumps(doc).replace('"@SPLICE@"', text)


def _first(table):
    return next(iter(table.values()))


def _deep(depth):
    return "[" * depth + "]" * depth


# (id, what to do to the JSON document of last.json, words the refusal names)
META_MUTATIONS = [
    ("history-garbage", lambda d: d["meta"].update(history="garbage"), ["history", "object"]),
    ("history-rows-numbers", lambda d: d["meta"]["history"].update(rows=[1, 2]), ["history.rows[0]", "object"]),
    ("history-row-step-text", lambda d: d["meta"]["history"]["rows"][0].update(step="x"), ["step"]),
    ("history-row-loss-text", lambda d: d["meta"]["history"]["rows"][0].update(train_loss="x"), ["train_loss"]),
    ("history-no-rows", lambda d: d["meta"]["history"].pop("rows"), ["history.rows"]),
    ("history-score-keys-number", lambda d: d["meta"]["history"].update(score_keys=3), ["score_keys"]),
    ("step-negative", lambda d: d["meta"].update(step=-1), ["step"]),
    ("step-text", lambda d: d["meta"].update(step="3"), ["step"]),
    ("step-float", lambda d: d["meta"].update(step=1.5), ["step"]),
    ("step-bool", lambda d: d["meta"].update(step=True), ["step"]),
    ("step-not-history", lambda d: d["meta"].update(step=1), ["history", "1 rows"]),
    ("elapsed-negative", lambda d: d["meta"].update(elapsed_seconds=-5), ["elapsed_seconds"]),
    ("elapsed-text", lambda d: d["meta"].update(elapsed_seconds="x"), ["elapsed_seconds"]),
    ("config-list", lambda d: d["meta"].update(config=[]), ["config"]),
    ("config-nested", lambda d: d["meta"]["config"].update(lr={"a": 1}), ["config.lr"]),
    ("model-list", lambda d: d["meta"].update(model=[1]), ["model"]),
    ("model-other-size", lambda d: d["meta"]["model"].update(hidden_size=5), ["model", "hidden_size"]),
    ("optimizer-text", lambda d: d["meta"].update(optimizer="adam"), ["optimizer"]),
    ("optimizer-steps-negative", lambda d: d["meta"]["optimizer"].update(steps=-3), ["optimizer.steps"]),
    ("optimizer-state-list", lambda d: d["meta"]["optimizer"].update(state=[]), ["optimizer.state"]),
    ("rng-missing", lambda d: d["meta"].pop("rng"), ["meta.rng"]),
    ("rng-empty", lambda d: d["meta"].update(rng={}), ["missing"]),
    ("rng-generator-unknown", lambda d: _first(d["meta"]["rng"]).update(bit_generator="Mersenne"),
     ["bit_generator"]),
    ("rng-state-garbage", lambda d: _first(d["meta"]["rng"]).update(state="x"), ["rng state"]),
    ("settings-list", lambda d: d["meta"].update(settings=[]), ["settings"]),
    ("job-text", lambda d: d["meta"].update(job="x"), ["job"]),
    ("kind-other", lambda d: d["meta"].update(kind="charlm"), ["kind"]),
    ("format-other", lambda d: d["meta"].update(format="rnnlab.task-run"), ["rnnlab 0.1"]),
    ("version-other", lambda d: d["meta"].update(version=7), ["version"]),
    ("meta-list", lambda d: d.update(meta=[]), ["meta"]),
    ("no-meta", lambda d: d.pop("meta"), ["meta"]),
    ("doc-format", lambda d: d.update(format="keras"), ["format"]),
    ("doc-version-newer", lambda d: d.update(version=99), ["newer"]),
    ("doc-version-text", lambda d: d.update(version="1"), ["version"]),
    ("weights-bytes-text", lambda d: d["weights"].update(bytes="x"), ["weights.bytes"]),
    ("weights-tensors-list", lambda d: d["weights"].update(tensors=[]), ["weights.tensors"]),
    ("weights-shape-negative", lambda d: next(iter(d["weights"]["tensors"].values())).update(shape=[-1]),
     ["shape"]),
    ("weights-sha-number", lambda d: d["weights"].update(sha256=5), ["weights.sha256"]),
]
# (id, the whole text of last.json given the document, words)
TEXT_MUTATIONS = [
    ("nesting-200000", lambda d: _splice(d, ("job", "x"), _deep(200_000)), ["nested"]),
    ("nesting-100", lambda d: _splice(d, ("job", "x"), '{"a": ' + _deep(100) + "}"), ["nested"]),
    ("nan-literal", lambda d: _splice(d, ("elapsed_seconds",), "NaN"), ["NaN"]),
    ("infinity-literal", lambda d: _splice(d, ("best",), "-Infinity"), ["Infinity"]),
    ("huge-number", lambda d: _splice(d, ("best",), "1e999"), ["best"]),
    ("top-level-array", lambda d: "[1, 2]", ["JSON object"]),
    ("truncated", lambda d: json.dumps(d)[:-10], ["corrupt JSON"]),
    ("empty", lambda d: "", ["corrupt JSON"]),
    ("not-utf8", lambda d: "\udcff", ["UTF-8"]),
]
WEIGHT_MUTATIONS = [
    ("weights-int", _retype(np.int32), ["int32"]),
    ("weights-bool", _retype(np.bool_), ["bool"]),
    ("weights-nan", _scale(np.nan), ["NaN"]),
    ("weights-inf", _scale(np.inf), ["NaN or infinite"]),
]


def ONLY_LAST(folder, names):
    """What a crafted copy of a run leaves out: all but the checkpoint ``last.*`` a resume reads."""
    return [n for n in names if not n.startswith("last.")]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """Corpora, CSV files, weights files, trace configs, a finished task run and a finished
    language model, and crafted copies of both checkpoints."""
    root = tmp_path_factory.mktemp("bad")
    _write(root / "tiny.txt", "hello world, a tiny corpus. " * 40)
    _write(root / "one.txt", "aaaa" * 50)
    (root / "binary.dat").write_bytes(bytes(range(256)) * 4)
    (root / "latin1.txt").write_bytes("héllo wörld ".encode("latin-1") * 30)
    rising = [(d, 100 + d) for d in range(40)]
    csvs = {
        "good.csv": _series(rising),
        "extra-field.csv": _series(rising[:5]) + "5,105,9\n" + _series(rising[6:]).split("\n", 1)[1],
        "missing-field.csv": _series(rising[:5]) + "5\n" + _series(rising[6:]).split("\n", 1)[1],
        "duplicate-day.csv": _series(rising[:5] + [(4, 104.5)] + rising[5:]),
        "huge.csv": _series(rising[:-1] + [(39, "1e300")]),
        "nan.csv": _series(rising[:-1] + [(39, "nan")]),
        "inf.csv": _series(rising[:-1] + [(39, "-inf")]),
        "word.csv": _series(rising[:-1] + [(39, "many")]),
        "empty.csv": "",
        "header-only.csv": "day,value\n",
        "short.csv": _series(rising[:5]),
        "bom-binary.csv": "day,value\n1,\x002\n",
    }
    for name, text in csvs.items():
        _write(root / name, text)
    sequences = {
        "cls-good.csv": _sequences(GOOD_SEQUENCES),
        "cls-extra-field.csv": _sequences(GOOD_SEQUENCES) + "s99,0,1,0.5,7\n",
        "cls-duplicate-step.csv": _sequences(GOOD_SEQUENCES + [("s0", 1, 0, 0.7)]),
        "cls-huge.csv": _sequences(GOOD_SEQUENCES + [("s99", 0, 1, "1e200")]),
        "cls-nan.csv": _sequences(GOOD_SEQUENCES + [("s99", 0, 1, "nan")]),
        "cls-label-float.csv": _sequences(GOOD_SEQUENCES + [("s99", 0, "1.5", 0.2)]),
        "cls-label-changes.csv": _sequences(GOOD_SEQUENCES + [("s0", 9, 1, 0.2)]),
        "cls-no-feature.csv": "sequence,t,label\ns0,0,1\n",
        "cls-header-only.csv": "sequence,t,label,x\n",
    }
    for name, text in sequences.items():
        _write(root / name, text)
    # weights files for gradients --weights
    from rnnlab import RNN

    state = RNN(1, 2, dtype=np.float64, seed=0).state_dict()
    np.savez(root / "w-good.npz", **state)
    np.savez(root / "w-bool.npz", **{k: v > 0 for k, v in state.items()})
    np.savez(root / "w-int.npz", **{k: (v * 10).astype(np.int64) for k, v in state.items()})
    np.savez(root / "w-complex.npz", **{k: v + 1j for k, v in state.items()})
    np.savez(root / "w-nan.npz", **{k: np.full_like(v, np.nan) for k, v in state.items()})
    np.savez(root / "w-no-hh.npz", other=np.zeros(2))
    _write(root / "w.txt", "not weights")
    (root / "w-garbage.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00garbage!")
    # trace configs
    from rnnlab.trace import config

    example = config.example("lstm")
    for name, cfg in _trace_configs(example).items():
        _write(root / f"{name}.json", cfg if isinstance(cfg, str) else json.dumps(cfg))
    big = tmp_path_factory.mktemp("big")  # outside the folder each case hashes: 9 MiB read twice a case
    _write(big / "trace-big.json", " " * (9 * 2**20) + json.dumps(example))
    _write(root / "big-folder.txt", str(big))
    _write(root / "trace-bad.toml", "cell = \n")
    # a finished task run and a finished language model
    assert run_cli(["task", *TASK, "--out", root / "task-run"], cwd=root).code == 0
    assert run_cli(["train", "--corpus", root / "tiny.txt", *LM, "--out", root / "lm-run"], cwd=root).code == 0
    for kind, run in (("task", root / "task-run"), ("lm", root / "lm-run")):
        doc = json.loads((run / "last.json").read_text(encoding="utf-8"))
        for name, mutate, _ in META_MUTATIONS:
            folder = root / f"crafted-{kind}" / name
            shutil.copytree(run, folder, ignore=ONLY_LAST)
            changed = copy.deepcopy(doc)
            mutate(changed)
            _write(folder / "last.json", json.dumps(changed))
        for name, text, _ in TEXT_MUTATIONS:
            folder = root / f"crafted-{kind}" / name
            shutil.copytree(run, folder, ignore=ONLY_LAST)
            (folder / "last.json").write_bytes(text(copy.deepcopy(doc)).encode("utf-8", "surrogateescape"))
        for name, change, _ in WEIGHT_MUTATIONS + [("weights-1e38", _scale(1e38), [])]:
            folder = root / f"crafted-{kind}" / name
            shutil.copytree(run, folder, ignore=ONLY_LAST)
            _reweigh(folder, "last", change)
    shutil.copytree(root / "task-run", root / "task-run-no-last", ignore=shutil.ignore_patterns("last.*"))
    return root


def _trace_configs(example):
    def changed(edit):
        cfg = copy.deepcopy(example)
        edit(cfg)
        return cfg

    return {
        "trace-weight-true": changed(lambda c: c["weights"].update(b_f=[True])),
        "trace-weight-false-matrix": changed(lambda c: c["weights"].update(W_f=[[False, 0.2]])),
        "trace-weight-string": changed(lambda c: c["weights"].update(W_i=[["0.3", -0.1]])),
        "trace-input-null": changed(lambda c: c.update(inputs=[1.0, None, 0.2])),
        "trace-input-dict": changed(lambda c: c.update(inputs={"a": 1})),
        "trace-inputs-empty": changed(lambda c: c.update(inputs=[])),
        "trace-inputs-ragged": changed(lambda c: c.update(inputs=[[1.0], [1.0, 2.0]])),
        "trace-inputs-20000": changed(lambda c: c.update(inputs=[0.1] * 20000)),
        "trace-hidden-size-text": changed(lambda c: c.update(hidden_size="1")),
        "trace-hidden-size-mismatch": changed(lambda c: c.update(hidden_size=3)),
        "trace-cell-unknown": changed(lambda c: c.update(cell="transformer")),
        "trace-cell-number": changed(lambda c: c.update(cell=3)),
        "trace-notation": changed(lambda c: c.update(notation="keras")),
        "trace-unknown-key": changed(lambda c: c.update(colour="blue")),
        "trace-missing-weights": changed(lambda c: c.pop("weights")),
        "trace-weights-list": changed(lambda c: c.update(weights=[1, 2])),
        "trace-weight-shape": changed(lambda c: c["weights"].update(W_o=[[0.1, 0.3, 0.5]])),
        "trace-state-unknown": changed(lambda c: c["initial_state"].update(z=[0.0])),
        "trace-state-true": changed(lambda c: c["initial_state"].update(h=[True])),
        "trace-options-list": changed(lambda c: c.update(options=["relu"])),
        "trace-upstream-step-0": changed(lambda c: c["upstream"].update(h={"0": [0.1]})),
        "trace-upstream-step-word": changed(lambda c: c["upstream"].update(h={"one": [0.1]})),
        "trace-upstream-list": changed(lambda c: c.update(upstream=[1])),
        "trace-upstream-nan": '{"cell": "lstm", "weights": {}, "inputs": [NaN]}',
        "trace-output-lstm": changed(lambda c: c.update(output={"W_hy": [[1.0]]})),
        "trace-title-list": changed(lambda c: c.update(title=["a"])),
        "trace-deep": '{"cell": "lstm", "weights": ' + _deep(100_000) + "}",
        "trace-top-list": "[1, 2, 3]",
        "trace-syntax": '{"cell": "lstm",,}',
    }


# --- the cases: (argv, words the one-line refusal must name) ---------------------------------------------

SHARED_BAD = [  # option, values the shared vocabulary refuses
    ("--hidden", ["0", "-1", "1.5", "x"]), ("--layers", ["0", "-2"]), ("--batch", ["0", "-3"]),
    ("--lr", ["0", "-1", "nan", "inf"]), ("--clip", ["-1", "nan"]),
    ("--dropout", ["1", "-0.1", "nan"]), ("--recurrent-dropout", ["1.5"]), ("--eval-every", ["0"]),
    ("--seed", ["-1", "x"]), ("--steps", ["0", "-5"]), ("--minutes", ["0", "nan", "-1"]), ("--threads", ["0"]),
]
TRAINING_COMMANDS = {"task": ["task", "adding"], "classify": ["classify"], "forecast": ["forecast"],
                     "sweep": ["sweep", "adding"], "train": ["train"]}
OWN_BAD = [  # command, option, bad values
    ("task", "--length", ["x", "1.5"]), ("train", "--embedding", ["0", "x"]), ("train", "--seq-len", ["0"]),
    ("train", "--weight-decay", ["-0.1", "nan", "inf", "x"]),
    ("classify", "--samples", ["-5", "0", "x"]), ("classify", "--test-fraction", ["1", "-0.1", "nan", "x"]),
    ("forecast", "--period", ["0", "-12", "x"]), ("forecast", "--window", ["0", "-1"]),
    ("forecast", "--test-fraction", ["1.5", "inf"]), ("forecast", "--transform", ["sqrt"]),
    ("sweep", "--lengths", ["", ",", "a", "0", "-5", "10,x"]),
    ("gradients", "--slope", ["nan", "inf", "x"]), ("gradients", "--hidden", ["0", "-1"]),
    ("gradients", "--steps", ["0", "-3", "x"]), ("gradients", "--spectral-radius", ["-1", "nan"]),
    ("gradients", "--level", ["-1"]), ("gradients", "--input-scale", ["inf", "0", "-1", "nan"]),
    ("gradients", "--batch", ["0"]), ("gradients", "--threshold", ["-1", "nan", "0", "inf"]),
    ("gradients", "--seed", ["-1"]), ("gradients", "--norm", ["1"]), ("gradients", "--cell", ["transformer"]),
    ("tape", "--U", ["nan", "inf", "x"]), ("tape", "--w", ["-inf", "nan"]), ("tape", "--digits", ["0", "18", "x"]),
    ("tape", "--x", ["", "nan", "1,inf", "a,b", ";"]),
    ("trace", "--precision", ["-1", "16", "x"]), ("trace", "--format", ["pdf"]),
    ("exercise", "--precision", ["99"]),
    ("sample", "--temperature", ["-1", "nan"]), ("sample", "--top-k", ["0"]), ("sample", "--top-p", ["0", "1.5"]),
    ("sample", "--length", ["-1"]), ("sample", "--warmup", ["-2"]), ("sample", "--seed", ["-1"]),
    ("sample", "--checkpoint", ["first"]), ("evaluate", "--checkpoint", ["middle"]),
]
POSITIONAL = {"trace": ["trace-example.json"], "exercise": ["tp-1.1"], "sample": ["lm-run"], "evaluate": ["lm-run"]}


def _option_cases():
    cases = []
    for name, argv in TRAINING_COMMANDS.items():
        for option, values in SHARED_BAD:
            for value in values:
                cases.append(pytest.param(argv + [option, value], [option], id=f"{name} {option} {value!r}"))
    for name, option, values in OWN_BAD:
        argv = TRAINING_COMMANDS.get(name, [name]) + POSITIONAL.get(name, [])
        for value in values:
            cases.append(pytest.param(argv + [option, value], [option], id=f"{name} {option} {value!r}"))
    return cases


S = ["--steps", "1", "--no-progress", "--hidden", "2", "--batch", "2"]
SEMANTIC = [  # (id, argv, words)
    # tape
    ("tape --at without --expr", ["tape", "--at", "a=1"], ["--at", "--expr"]),
    ("tape --at nan", ["tape", "--expr", "a+1", "--at", "a=nan"], ["--at", "finite"]),
    ("tape --at no value", ["tape", "--expr", "a+1", "--at", "a"], ["--at"]),
    ("tape --at bad name", ["tape", "--expr", "a+1", "--at", "1a=2"], ["--at"]),
    ("tape power overflow", ["tape", "--expr", "a**100000", "--at", "a=10"], ["a**100000", "overflow"]),
    ("tape exp overflow", ["tape", "--expr", "exp(exp(a))", "--at", "a=10"], ["exp"]),
    ("tape product overflow", ["tape", "--expr", "a*a*a", "--at", "a=1e200"], ["a*a*a", "finite"]),
    ("tape 20000 terms", ["tape", "--expr", "+".join(["a"] * 20000), "--at", "a=1"], ["expression", "2,000"]),
    ("tape deep unary", ["tape", "--expr=" + "-" * 1990 + "a", "--at", "a=1"], ["nested"]),
    ("tape deep parentheses", ["tape", "--expr", "(" * 300 + "a" + ")" * 300, "--at", "a=1"], ["expression"]),
    ("tape log of negative", ["tape", "--expr", "log(0-a)", "--at", "a=1"], ["log"]),
    ("tape division by zero", ["tape", "--expr", "a/0", "--at", "a=1"], ["a/0"]),
    ("tape unknown name", ["tape", "--expr", "a*b", "--at", "a=1"], ["'b'"]),
    ("tape syntax", ["tape", "--expr", "a+", "--at", "a=1"], ["a+"]),
    ("tape call", ["tape", "--expr", "print(a)", "--at", "a=1"], ["print"]),
    ("tape attribute", ["tape", "--expr", "a.real", "--at", "a=1"], ["a.real"]),
    ("tape variable exponent", ["tape", "--expr", "a**a", "--at", "a=1"], ["exponent"]),
    ("tape too many x", ["tape", "--x", ",".join(["1"] * 5001)], ["--x", "5000"]),
    # gradients
    ("gradients --matrix nan", ["gradients", "--matrix", "nan,0;0,1"], ["--matrix", "finite"]),
    ("gradients --matrix inf", ["gradients", "--matrix", "1,inf;0,1"], ["--matrix"]),
    ("gradients --matrix ragged", ["gradients", "--matrix", "1,2;3"], ["--matrix", "square"]),
    ("gradients --matrix words", ["gradients", "--matrix", "a,b;c,d"], ["--matrix"]),
    ("gradients --matrix empty", ["gradients", "--matrix", ""], ["--matrix"]),
    ("gradients --matrix plot long", ["gradients", "--matrix", "1,0;0,1", "--steps", "200000", "--plot", "f.png"],
     ["--steps", "--plot"]),
    ("gradients --steps 1e8", ["gradients", "--steps", "100000000"], ["--steps", "memory"]),
    ("gradients --hidden 1e5", ["gradients", "--hidden", "100000"], ["--hidden", "memory"]),
    ("gradients --batch 1e9", ["gradients", "--batch", "1000000000"], ["--batch", "memory"]),
    ("gradients --level 3", ["gradients", "--level", "3"], ["--level"]),
    ("gradients radius lstm", ["gradients", "--spectral-radius", "1", "--cell", "lstm"], ["--spectral-radius"]),
    ("gradients --plot suffix", ["gradients", "--plot", "figure.txt"], ["figure.txt"]),
    ("gradients weights missing", ["gradients", "--weights", "missing.npz"], ["missing.npz"]),
    ("gradients weights bool", ["gradients", "--weights", "w-bool.npz"], ["w-bool.npz", "bool"]),
    ("gradients weights int", ["gradients", "--weights", "w-int.npz"], ["w-int.npz", "int64"]),
    ("gradients weights complex", ["gradients", "--weights", "w-complex.npz"], ["w-complex.npz", "complex"]),
    ("gradients weights nan", ["gradients", "--weights", "w-nan.npz"], ["w-nan.npz", "finite"]),
    ("gradients weights no hh", ["gradients", "--weights", "w-no-hh.npz"], ["w-no-hh.npz", "weight_hh_l0"]),
    ("gradients weights txt", ["gradients", "--weights", "w.txt"], ["w.txt", ".npz"]),
    ("gradients weights garbage", ["gradients", "--weights", "w-garbage.safetensors"], ["w-garbage"]),
    ("gradients weights other cell", ["gradients", "--weights", "w-good.npz", "--cell", "lstm"], ["--cell lstm"]),
    ("gradients weights level", ["gradients", "--weights", "w-good.npz", "--level", "2"], ["--level"]),
    # classify
    ("classify --label-column synthetic", ["classify", "--label-column", "kind", *S], ["--label-column", "synthetic"]),
    ("classify --sequence-column synthetic", ["classify", "--sequence-column", "id", *S], ["--sequence-column"]),
    ("classify --samples csv", ["classify", "--data", "cls-good.csv", "--samples", "50", *S], ["--samples"]),
    ("classify --samples huge", ["classify", "--samples", "1000000000000", *S], ["--samples", "memory"]),
    ("classify --samples one", ["classify", "--samples", "1", *S], ["--test-fraction"]),
    ("classify binary", ["classify", "--data", "binary.dat", *S], ["binary.dat", "UTF-8"]),
    ("classify latin-1", ["classify", "--data", "latin1.txt", *S], ["latin1.txt", "UTF-8"]),
    ("classify missing", ["classify", "--data", "missing.csv", *S], ["missing.csv"]),
    ("classify extra field", ["classify", "--data", "cls-extra-field.csv", *S], ["cls-extra-field.csv", "row 42"]),
    ("classify duplicate step", ["classify", "--data", "cls-duplicate-step.csv", *S], ["row 42", "repeats"]),
    ("classify huge value", ["classify", "--data", "cls-huge.csv", *S], ["'x'", "row 42", "magnitude"]),
    ("classify nan value", ["classify", "--data", "cls-nan.csv", *S], ["'x'", "row 42", "finite"]),
    ("classify float label", ["classify", "--data", "cls-label-float.csv", *S], ["'label'", "row 42"]),
    ("classify label changes", ["classify", "--data", "cls-label-changes.csv", *S], ["row 42", "label"]),
    ("classify no feature", ["classify", "--data", "cls-no-feature.csv", *S], ["feature"]),
    ("classify header only", ["classify", "--data", "cls-header-only.csv", *S], ["cls-header-only.csv"]),
    ("classify no such column", ["classify", "--data", "cls-good.csv", "--label-column", "kind", *S], ["'kind'"]),
    ("classify layer-norm gru", ["classify", "--cell", "gru", "--layer-norm", *S], ["layer_norm", "gru"]),
    ("classify device numpy", ["classify", "--device", "cpu", *S], ["--device"]),
    # forecast
    ("forecast extra field", ["forecast", "--series", "extra-field.csv", *S], ["extra-field.csv", "row 7", "3"]),
    ("forecast missing field", ["forecast", "--series", "missing-field.csv", *S], ["row 7"]),
    ("forecast duplicate day", ["forecast", "--series", "duplicate-day.csv", *S], ["'4'", "repeats"]),
    ("forecast 1e300", ["forecast", "--series", "huge.csv", *S], ["huge.csv", "row 41", "magnitude"]),
    ("forecast nan", ["forecast", "--series", "nan.csv", *S], ["row 41", "finite"]),
    ("forecast -inf", ["forecast", "--series", "inf.csv", *S], ["row 41", "finite"]),
    ("forecast word", ["forecast", "--series", "word.csv", *S], ["row 41", "'many'"]),
    ("forecast empty", ["forecast", "--series", "empty.csv", *S], ["empty.csv", "empty"]),
    ("forecast header only", ["forecast", "--series", "header-only.csv", *S], ["header-only.csv"]),
    ("forecast too short", ["forecast", "--series", "short.csv", *S], ["short.csv", "window"]),
    ("forecast nul byte", ["forecast", "--series", "bom-binary.csv", *S], ["bom-binary.csv", "NUL"]),
    ("forecast binary", ["forecast", "--series", "binary.dat", *S], ["binary.dat"]),
    ("forecast missing", ["forecast", "--series", "missing.csv", *S], ["missing.csv"]),
    ("forecast column", ["forecast", "--series", "good.csv", "--column", "price", *S], ["'price'"]),
    ("forecast window too long", ["forecast", "--series", "good.csv", "--window", "100", *S], ["window of 100"]),
    ("forecast log of negatives", ["forecast", "--series", "good.csv", "--column", "day", "--transform", "log", *S],
     ["log"]),
    ("forecast layer-norm rnn", ["forecast", "--cell", "rnn", "--layer-norm", *S], ["--layer-norm"]),
    ("forecast amp numpy", ["forecast", "--amp", *S], ["--amp"]),
    # task and sweep
    ("task no name", ["task", *S], ["adding or copy"]),
    ("task -T 0", ["task", "adding", "-T", "0", *S], ["T"]),
    ("task -T 1", ["task", "adding", "-T", "1", *S], ["T", "2"]),
    ("task -T 1e9", ["task", "adding", "-T", "1000000000", *S], ["T=1000000000", "memory"]),
    ("task copy --hidden 1e5", ["task", "copy", "--hidden", "100000", "--no-progress"], ["--hidden", "memory"]),
    ("task --batch 1e9", ["task", "adding", "--batch", "1000000000", "--no-progress"], ["--batch", "memory"]),
    ("task layer-norm gru", ["task", "adding", "--cell", "gru", "--layer-norm", *S], ["--layer-norm"]),
    ("task device numpy", ["task", "adding", "--device", "cuda", *S], ["--device"]),
    ("task resume missing", ["task", "--resume", "nowhere", *S], ["nowhere"]),
    ("task resume no last", ["task", "--resume", "task-run-no-last", "--steps", "5"], ["last.json"]),
    ("task resume contradicts", ["task", "--resume", "task-run", "--hidden", "3"], ["--hidden"]),
    ("task resume other task", ["task", "copy", "--resume", "task-run"], ["task"]),
    ("task resume spent", ["task", "--resume", "task-run"], ["budget"]),
    ("task resume fewer steps", ["task", "--resume", "task-run", "--steps", "1"], ["--steps 1"]),
    ("task resume a lm", ["task", "--resume", "lm-run", "--steps", "5"], ["charlm"]),
    ("classify resume a task", ["classify", "--resume", "task-run", "--steps", "5"], ["rnnlab task"]),
    ("sweep cells empty", ["sweep", "adding", "--cells", "", *S], ["--cells"]),
    ("sweep cells unknown", ["sweep", "adding", "--cells", "rnn,transformer", *S], ["transformer"]),
    ("sweep lengths one", ["sweep", "adding", "--cells", "rnn", "--lengths", "1", *S], ["T"]),
    ("sweep lengths huge", ["sweep", "copy", "--cells", "rnn", "--lengths", "5,100000000", *S], ["memory"]),
    ("sweep layer-norm rnn", ["sweep", "adding", "--cells", "rnn", "--layer-norm", *S], ["--layer-norm"]),
    # train, sample, evaluate
    ("train corpus missing", ["train", "--corpus", "missing.txt", *LM], ["missing.txt"]),
    ("train corpus binary", ["train", "--corpus", "binary.dat", *LM], ["binary.dat"]),
    ("train corpus one char", ["train", "--corpus", "one.txt", *LM], ["one.txt", "2 distinct"]),
    ("train --hidden 1e10", ["train", "--corpus", "tiny.txt", *LM, "--hidden", "10000000000"],
     ["--hidden", "memory"]),
    ("train --layers 1e7", ["train", "--corpus", "tiny.txt", "--layers", "10000000", *LM],
     ["--layers", "memory"]),
    ("train batch too large", ["train", "--corpus", "tiny.txt", "--batch", "100000", "--steps", "1"], ["--batch"]),
    ("train layer-norm rnn", ["train", "--corpus", "tiny.txt", "--cell", "rnn", "--layer-norm", *LM],
     ["layer_norm", "rnn"]),
    ("train resume missing", ["train", "--resume", "nowhere", "--steps", "5"], ["nowhere"]),
    ("train resume with options", ["train", "--resume", "lm-run", "--hidden", "8"], ["--hidden"]),
    ("train resume spent", ["train", "--resume", "lm-run"], ["budget"]),
    ("train resume a task", ["train", "--resume", "task-run", "--steps", "5"], ["kind"]),
    ("train out is a run", ["train", "--corpus", "tiny.txt", "--out", "lm-run", "--steps", "1"], ["lm-run"]),
    ("sample missing", ["sample", "nowhere"], ["nowhere"]),
    ("sample a task run", ["sample", "task-run"], ["task-run"]),
    ("sample unseen prime", ["sample", "lm-run", "--prime", "§§"], ["§"]),
    ("evaluate missing", ["evaluate", "nowhere"], ["nowhere"]),
    ("evaluate a task run", ["evaluate", "task-run"], ["task-run"]),
    ("evaluate unseen text", ["evaluate", "lm-run", "--text", "latin1.txt"], ["latin1.txt"]),
    ("evaluate missing text", ["evaluate", "lm-run", "--text", "missing.txt"], ["missing.txt"]),
    # trace, exercise, plot
    ("trace no config", ["trace"], ["CONFIG"]),
    ("trace missing", ["trace", "missing.json"], ["missing.json"]),
    ("trace more than 8 MiB", ["trace", "@big/trace-big.json"], ["trace-big.json", "8 MiB"]),
    ("trace toml syntax", ["trace", "trace-bad.toml"], ["trace-bad.toml", "toml"]),
    ("exercise unknown", ["exercise", "tp-9.9"], ["tp-9.9"]),
    ("plot unknown", ["plot", "nope"], ["nope"]),
]
TRACE_CASES = [  # config file, words
    ("trace-weight-true", ["weights.b_f", "true"]), ("trace-weight-false-matrix", ["weights.W_f", "false"]),
    ("trace-weight-string", ["weights.W_i", '"0.3"']), ("trace-input-null", ["inputs", "null"]),
    ("trace-input-dict", ["inputs"]), ("trace-inputs-empty", ["inputs"]), ("trace-inputs-ragged", ["inputs"]),
    ("trace-inputs-20000", ["T = 20,000", "200 steps"]), ("trace-hidden-size-text", ["hidden_size"]),
    ("trace-hidden-size-mismatch", ["hidden_size"]), ("trace-cell-unknown", ["cell", "transformer"]),
    ("trace-cell-number", ["cell"]), ("trace-notation", ["notation"]), ("trace-unknown-key", ["colour"]),
    ("trace-missing-weights", ["weights"]), ("trace-weights-list", ["weights"]), ("trace-weight-shape", ["W_o"]),
    ("trace-state-unknown", ["initial_state.z"]), ("trace-state-true", ["initial_state.h"]),
    ("trace-options-list", ["options"]), ("trace-upstream-step-0", ["upstream.h.0"]),
    ("trace-upstream-step-word", ["upstream.h.one"]), ("trace-upstream-list", ["upstream"]),
    ("trace-upstream-nan", ["NaN"]), ("trace-output-lstm", ["output"]), ("trace-title-list", ["title"]),
    ("trace-deep", ["nested"]), ("trace-top-list", ["top level"]), ("trace-syntax", ["trace-syntax.json"]),
]
CRAFTED = ([(name, words) for name, _, words in META_MUTATIONS + TEXT_MUTATIONS + WEIGHT_MUTATIONS])


def _cli_cases():
    cases = _option_cases()
    cases += [pytest.param(argv, words, id=name) for name, argv, words in SEMANTIC]
    for name, words in TRACE_CASES:
        cases.append(pytest.param(["trace", f"{name}.json"], [f"{name}.json", *words], id=f"trace {name}"))
        if name in ("trace-weight-true", "trace-inputs-20000", "trace-deep"):
            cases.append(pytest.param(["trace", f"{name}.json", "--format", "html", "--out", "t.html"],
                                      [f"{name}.json", *words], id=f"trace html {name}"))
    for name, words in CRAFTED:
        where = f"crafted-task/{name}"
        cases.append(pytest.param(["task", "--resume", where, "--steps", "5", "--no-progress"], ["last", *words],
                                  id=f"task --resume {name}"))
        if name not in ("kind-other", "model-other-size", "step-not-history"):  # the language model's own
            where = f"crafted-lm/{name}"
            argv = (["evaluate", where, "--checkpoint", "last"] if "weights" in name or "history" in name
                    else ["train", "--resume", where, "--steps", "5", "--no-progress"])
            cases.append(pytest.param(argv, ["last", *words], id=f"{argv[0]} {name}"))
    cases.append(pytest.param(["evaluate", "crafted-lm/weights-1e38", "--checkpoint", "last"],
                              ["crafted-lm/weights-1e38", "overflow"], id="evaluate weights of 1e38"))
    return cases


CLI_CASES = _cli_cases()


@pytest.mark.parametrize("argv, words", CLI_CASES)
def test_refused_in_one_line_and_nothing_changed(ws, argv, words):
    big = (ws / "big-folder.txt").read_text(encoding="utf-8")
    argv = [a.replace("@big", big) if isinstance(a, str) else a for a in argv]
    before = tree_hashes(ws)
    result = run_cli(argv, cwd=ws)
    assert_refused(result, *words)
    assert tree_hashes(ws) == before


def test_the_table_is_large():
    assert len(CLI_CASES) + len(API_CASES) >= 300


# --- the same refusals in French ---------------------------------------------------------------------------

def _french_cases():
    """The refusals read in French: every semantic check, trace config and crafted checkpoint, and
    the first bad value of each option (its other values take the same path to the message)."""
    options, seen, cases = {c.id for c in _option_cases()}, set(), []
    for case in CLI_CASES:
        if case.id in options:
            option = tuple(case.id.split(" ")[:2])
            if option in seen:
                continue
            seen.add(option)
        cases.append(pytest.param(case.values[0], id=case.id))
    return cases


@pytest.mark.parametrize("argv", _french_cases())
def test_refused_in_french(ws, argv):
    """``--lang fr``: the refusal reads as French (french_rules: no English words outside « », a
    space before ``:``, counts grouped, French quotes) — a message written in English only fails."""
    big = (ws / "big-folder.txt").read_text(encoding="utf-8")
    argv = [a.replace("@big", big) if isinstance(a, str) else a for a in argv]
    result = run_cli(["--lang", "fr", *argv], cwd=ws)
    assert_refused(result)
    found = terminal_problems(result.err, help=True)
    assert not found, f"{result.err}\n" + "\n".join(found)


def test_the_french_cases_cover_every_kind():
    ids = {c.id for c in _french_cases()}
    for name, _ in TRACE_CASES:
        assert f"trace {name}" in ids
    for name, _ in CRAFTED:
        assert f"task --resume {name}" in ids
    assert {"forecast extra field", "forecast nul byte", "classify label changes", "task resume spent",
            "sweep lengths one", "forecast --transform 'sqrt'"} <= ids
    assert 150 < len(ids) < len(CLI_CASES)


# --- the Python API: the right error class, a message naming the culprit ---------------------------------


def _api_cases():
    import rnnlab
    from rnnlab import analysis, cell_modules, models, schema, tape, tasks
    from rnnlab.seqmodels import SeqModelConfig, build_model

    lstm = rnnlab.LSTM(2, 3, seed=0)
    out, _ = lstm(np.ones((4, 2, 2)))
    cell = cell_modules.LSTMCell(2, 3, seed=0)
    cell(np.ones((2, 2)))
    regressor = build_model(SeqModelConfig("regressor", 2, 2, 1), seed=0)
    x = np.ones((3, 2, 2))
    E, R, S, C, D, K = (errors.ConfigError, errors.ValueRangeError, errors.ShapeError, errors.CheckpointError,
                        errors.DataError, errors.RnnlabError)
    cases = []
    for cls in (rnnlab.RNN, rnnlab.LSTM, rnnlab.GRU):
        for dtype in (np.int32, "float17", np.complex128, bool, "int8", object):
            cases.append((f"{cls.__name__} dtype {dtype}", lambda c=cls, d=dtype: c(2, 3, dtype=d), E, "dtype"))
        cases.append((f"{cls.__name__} hidden 1e10", lambda c=cls: c(2, 10**10), R, "memory"))
    for cls in (cell_modules.RNNCell, cell_modules.LSTMCell, cell_modules.GRUCell):
        cases.append((f"{cls.__name__} dtype", lambda c=cls: c(2, 3, dtype="float17"), E, "dtype"))
        cases.append((f"{cls.__name__} complex input", lambda c=cls: c(2, 3)(np.ones(2) * 1j), S, "complex"))
    for name, value, error, word in [
        ("batch of size 0", np.ones((3, 0, 2)), S, "one sequence"), ("no time step", np.ones((0, 2, 2)), S, "time"),
        ("complex input", x * 1j, S, "complex"), ("boolean input", x > 0, S, "bool"),
        ("text input", np.full((3, 2, 2), "a"), S, "numeric"), ("object input", np.full((3, 2, 2), None), S, "object"),
        ("nan input", x * np.nan, R, "finite"), ("inf input", x * np.inf, R, "finite"),
        ("huge input", np.broadcast_to(np.zeros((1, 1, 2), np.float32), (10**7, 10**4, 2)), R, "memory"),
        ("wrong width", np.ones((3, 2, 5)), S, "input_size"), ("four dimensions", np.ones((3, 2, 2, 1)), S, "shape"),
    ]:
        cases.append((f"LSTM forward {name}", lambda v=value: rnnlab.LSTM(2, 3)(v), error, word))
        cases.append((f"regressor forward {name}", lambda v=value: regressor(v), error, word))
    for name, kwargs, error, word in [
        ("nan d_output", {"d_output": np.full(out.shape, np.nan)}, R, "d_output"),
        ("complex d_output", {"d_output": out * 1j}, S, "d_output"),
        ("inf d_h_n", {"d_output": None, "d_h_n": np.full((1, 2, 3), np.inf)}, R, "d_h_n"),
        ("boolean d_c_n", {"d_output": None, "d_c_n": np.ones((1, 2, 3), bool)}, S, "d_c_n"),
        ("wrong shape", {"d_output": np.ones((1, 1, 1))}, S, "d_output"),
    ]:
        cases.append((f"LSTM backward {name}", lambda k=kwargs: lstm.backward(**k), error, word))
    cases += [
        ("LSTM hx complex", lambda: rnnlab.LSTM(2, 3)(x, (np.ones((1, 2, 3)) * 1j, np.ones((1, 2, 3)))), S, "h_0"),
        ("LSTM hx nan", lambda: rnnlab.LSTM(2, 3)(x, (np.ones((1, 2, 3)), np.full((1, 2, 3), np.nan))), R, "c_0"),
        ("LSTM lengths 0", lambda: rnnlab.LSTM(2, 3)(x, lengths=np.array([0, 1])), R, "lengths"),
        ("LSTM lengths float", lambda: rnnlab.LSTM(2, 3)(x, lengths=np.array([1.0, 1.0])), S, "lengths"),
        ("LSTMCell backward nan", lambda: cell.backward(np.full((2, 3), np.nan)), R, "d_h"),
        ("load_state_dict complex", lambda: rnnlab.RNN(1, 2).load_state_dict(
            {k: v + 1j for k, v in rnnlab.RNN(1, 2).state_dict().items()}), S, "complex"),
        ("load_state_dict bool", lambda: rnnlab.RNN(1, 2).load_state_dict(
            {k: v > 0 for k, v in rnnlab.RNN(1, 2).state_dict().items()}), S, "bool"),
        ("Linear complex", lambda: models.Linear(2, 2)(np.ones(2) * 1j), S, "complex"),
        ("CharLM dtype", lambda: models.CharLM(5, dtype="float17"), E, "dtype"),
        ("regressor dtype", lambda: build_model(SeqModelConfig("regressor", 2, 2, 1), dtype=np.int64), E, "dtype"),
        ("tape overflow", lambda: tape.expression_tape("a**100000", {"a": 10.0}), R, "overflow"),
        ("tape long", lambda: tape.expression_tape("+".join(["a"] * 20000), {"a": 1.0}), E, "2,000"),
        ("adding T 1e9", lambda: tasks.run_adding("lstm", 10**9, tasks.TrainConfig(steps=1)), R, "memory"),
        ("copy T 1e8", lambda: tasks.run_copy("gru", 10**8, tasks.TrainConfig(steps=1)), R, "memory"),
        ("synthetic 1e12", lambda: tasks.make_classification(10**12, np.random.default_rng(0)), R, "--samples"),
        ("jacobians huge", lambda: analysis.state_jacobians(rnnlab.RNN(1, 3000, dtype=np.float64),
                                                            np.zeros((500, 50, 1))), R, "memory"),
        ("json too deep", lambda: schema.load_json(_deep(100_000), "f.json"), C, "nested"),
        ("json nan", lambda: schema.load_json('{"a": NaN}', "f.json"), C, "NaN"),
        ("schema wrong type", lambda: schema.validate("3", schema.RUN["properties"]["step"], "f.json"), C,
         "integer"),
        ("schema missing key", lambda: schema.validate({"step": 3}, schema.RUN, "f.json"), C, "'format'"),
        ("schema below minimum", lambda: schema.validate({"step": -1}, {"type": "object", "properties": {
            "step": {"type": "integer", "minimum": 0}}}, "f.json"), C, "≥ 0"),
        ("schema too many items", lambda: schema.validate([1, 2, 3], {"type": "array", "maxItems": 2}, "f.json"),
         C, "at most 2"),
        ("schema enum", lambda: schema.validate("x", {"enum": ["a"]}, "f.json"), C, '"a"'),
        ("schema no extra", lambda: schema.validate({"b": 1}, {"type": "object", "properties": {},
                                                               "additionalProperties": False}, "f.json"),
         C, "'b'"),
        ("schema bool is no number", lambda: schema.validate(True, {"type": "number"}, "f.json"), C, "true"),
        ("series extra field", lambda: _series_from("t,v\n1,2\n2,3,4\n"), D, "row 3"),
        ("series duplicate", lambda: _series_from("t,v\n1,2\n1,3\n"), D, "repeats"),
        ("series huge", lambda: _series_from("t,v\n1,2\n2,1e300\n"), D, "magnitude"),
        ("series binary", lambda: _series_from(b"\xff\xfe\x00"), D, "UTF-8"),
        ("TrainConfig batch 0", lambda: tasks.TrainConfig(batch_size=0), E, "batch_size"),
        ("TrainConfig lr nan", lambda: tasks.TrainConfig(lr=float("nan")), E, "lr"),
    ]
    assert all(issubclass(c[2], K) for c in cases)
    return cases


def _series_from(content):
    import tempfile
    from pathlib import Path

    from rnnlab.data.series import load_series

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return load_series(str(path))


API_CASES = _api_cases()


@pytest.mark.parametrize("call, error, word", [pytest.param(*c[1:], id=c[0]) for c in API_CASES])
def test_api_refuses_with_the_right_error(call, error, word):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert word.lower() in message.lower() and "\n" not in message, message
    assert "expected" in message, message


# --- hypothesis: random mutations either load or are refused with an RnnlabError ------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=8)


def _paths(value, prefix=()):
    """Every path to a value inside a JSON document (keys and list indices)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from _paths(v, prefix + (i,))


def _mutate(doc, data):
    """One random change: a value replaced, a key removed, or a list emptied."""
    doc = copy.deepcopy(doc)
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "remove", "replace"]))
    if action == "remove" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON_VALUES)
    return doc


def _only_rnnlab_errors(call):
    try:
        call()
    except errors.RnnlabError as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)


@pytest.fixture(scope="module")
def saved_task(tmp_path_factory):
    """A run of the engine on a tiny regressor, saved after two steps, and how to resume it."""
    from rnnlab.seqmodels import SeqModelConfig, build_model
    from rnnlab.tasks import TaskJob, TrainConfig, train_model
    from rnnlab.training import Budget, Run, RunFolder

    folder = tmp_path_factory.mktemp("saved")
    config = TrainConfig(steps=2, batch_size=2, eval_every=1, seed=0)
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3, 8, 2)), rng.normal(size=(8, 1))

    def draw(rng, b):
        idx = rng.integers(0, 8, size=b)
        return data[0][:, idx], data[1][idx], None

    def model():
        return build_model(SeqModelConfig("regressor", 2, 2, 1), seed=0)

    train_model(model(), draw, config, lambda m: {"mse": 0.5}, checkpoint=RunFolder(folder / "run"))

    def resume(where):
        job = TaskJob(model(), draw, TrainConfig(steps=4, batch_size=2, eval_every=1, seed=0))
        Run(job, Budget(steps=4, eval_every=1), RunFolder(where, resume=True))

    resume(folder / "run")  # the unchanged checkpoint resumes
    return folder, json.loads((folder / "run" / "last.json").read_text(encoding="utf-8")), resume


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_checkpoints_load_or_are_refused(saved_task, data):
    folder, doc, resume = saved_task
    where = folder / "mutant"
    if not where.exists():
        shutil.copytree(folder / "run", where)
    (where / "last.json").write_text(json.dumps(_mutate(doc, data)), encoding="utf-8")
    _only_rnnlab_errors(lambda: resume(where))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), cell=st.sampled_from(["rnn", "lstm", "gru"]))
def test_mutated_trace_configs_trace_or_are_refused(tmp_path, data, cell):
    from rnnlab.trace import config

    path = tmp_path / "mutant.json"
    path.write_text(json.dumps(_mutate(config.example(cell), data)), encoding="utf-8")
    _only_rnnlab_errors(lambda: config.trace_from_config(config.read_config(str(path)), str(path)))
