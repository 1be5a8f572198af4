"""``rnnlab train``, ``rnnlab sample`` and ``rnnlab evaluate`` through :func:`rnnlab.cli.main`:
a real (tiny) run, and one clear line with exit status 2 for every bad input."""

import json

import pytest

from rnnlab.cli import main

TEXT = "le renard brun saute par-dessus le chien paresseux. " * 20
SMALL = ["--hidden", "16", "--embedding", "8", "--batch", "4", "--seq-len", "12", "--no-progress"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One finished run (40 steps) shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "tiny.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    out = root / "run"
    assert main(["train", "--corpus", str(corpus), "--steps", "40", "--eval-every", "20", "--out", str(out), *SMALL]) == 0
    return out


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TEXT, encoding="utf-8")
    return str(path)


def _fails(capsys, argv, *needles):
    """The command exits with 2 and prints one clear ``error:`` line (no traceback)."""
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.startswith("error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def _usage_error(capsys, argv, *needles):
    """argparse refuses the value: exit status 2 and a message naming the option."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


def test_train_writes_the_run_and_sample_reproduces(run_dir, capsys):
    files = {p.name for p in run_dir.iterdir()}
    assert {"best.json", "best.safetensors", "last.json", "last.safetensors", "loss.csv", "loss.png",
            "samples.txt"} <= files
    meta = json.loads((run_dir / "last.json").read_text())["meta"]
    assert meta["step"] == 40 and meta["config"]["hidden_size"] == 16
    assert main(["sample", str(run_dir), "--prime", "le ", "--length", "50", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("le ") and len(first.rstrip("\n")) == 53
    assert main(["sample", str(run_dir), "--prime", "le ", "--length", "50", "--seed", "3"]) == 0
    assert capsys.readouterr().out == first
    assert main(["sample", str(run_dir), "--temperature", "0", "--top-k", "3", "--top-p", "0.9", "--length", "20"]) == 0
    assert main(["evaluate", str(run_dir)]) == 0
    assert "bits per character" in capsys.readouterr().out


def test_train_prints_progress_evaluations_and_summary(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--lang", "en", "train", "--corpus", corpus, "--steps", "10", "--eval-every", "5", "--out", str(out),
                 "--cell", "gru", "--optimizer", "rmsprop", "--lr", "0.01", *SMALL]) == 0
    text = capsys.readouterr().out
    assert "GRU 1×16" in text and "step      5" in text and "bits/char" in text and "perplexity" in text
    assert "Run summary" in text and f"rnnlab sample {out}" in text


def test_resume_through_the_cli(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--corpus", corpus, "--steps", "6", "--eval-every", "3", "--out", str(out), *SMALL]) == 0
    _fails(capsys, ["train", "--resume", str(out), "--no-progress"], "spent its budget", "--steps")
    _fails(capsys, ["train", "--resume", str(out), "--hidden", "32"], "--hidden", "own options")
    assert main(["train", "--resume", str(out), "--steps", "9", "--no-progress"]) == 0
    assert "Resuming" in capsys.readouterr().out
    assert json.loads((out / "last.json").read_text())["meta"]["step"] == 9


def test_missing_and_corrupt_checkpoints(run_dir, tmp_path, capsys):
    _fails(capsys, ["sample", str(tmp_path / "nope")], "no such directory")
    _fails(capsys, ["train", "--resume", str(tmp_path / "nope")], "no such directory")
    _fails(capsys, ["evaluate", str(tmp_path / "nope")], "no such directory")
    (tmp_path / "empty").mkdir()
    _fails(capsys, ["sample", str(tmp_path / "empty")], "last.json", "not found")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("best.json", "best.safetensors"):
        (broken / name).write_bytes((run_dir / name).read_bytes())
    weights = (broken / "best.safetensors").read_bytes()
    (broken / "best.safetensors").write_bytes(weights[: len(weights) // 2])
    _fails(capsys, ["sample", str(broken)], "best.safetensors", "truncated")
    (broken / "best.json").write_text("{not json")
    _fails(capsys, ["sample", str(broken)], "best.json", "corrupt JSON")


def test_checkpoint_from_another_model(run_dir, tmp_path, capsys):
    from rnnlab.checkpoint import load_checkpoint, save_checkpoint

    tensors, meta = load_checkpoint(run_dir, "best")
    other = tmp_path / "other"
    save_checkpoint(other, "best", tensors, {**meta, "model": {**meta["model"], "hidden_size": 32}})
    _fails(capsys, ["sample", str(other)], "best.json", "do not fit")
    save_checkpoint(other, "best", tensors, {"format": "something else"})
    _fails(capsys, ["sample", str(other)], "best.json", "expected a checkpoint of format 'rnnlab.run' version 2")
    save_checkpoint(other, "best", tensors, {**meta, "format": "rnnlab.charlm-run"})  # a run of rnnlab 0.1
    _fails(capsys, ["sample", str(other)], "best.json", "written by rnnlab 0.1", "train it again")


def test_prime_with_unseen_characters(run_dir, capsys):
    err = _fails(capsys, ["sample", str(run_dir), "--prime", "Zèbre"], "'Z'", "vocabulary")
    assert capsys.readouterr().out == ""  # nothing printed before the error
    assert "'è'" in err


@pytest.mark.parametrize("argv,needles", [
    (["train", "--hidden", "0"], ["--hidden", "≥ 1", "'0'"]),
    (["train", "--lr", "nan"], ["--lr", "'nan'"]),
    (["train", "--lr", "abc"], ["--lr", "'abc'"]),
    (["train", "--dropout", "1"], ["--dropout", "< 1"]),
    (["train", "--steps", "5", "--minutes", "1"], ["not allowed with"]),
    (["train", "--cell", "tcn"], ["--cell", "tcn"]),
    (["sample", "x", "--temperature", "-1"], ["--temperature"]),
    (["sample", "x", "--top-k", "0"], ["--top-k"]),
    (["sample", "x", "--top-p", "0"], ["--top-p", "> 0"]),
    (["sample", "x", "--length", "-5"], ["--length"]),
])
def test_bad_numbers(capsys, argv, needles):
    _usage_error(capsys, argv, *needles)


def test_bad_corpora(tmp_path, capsys):
    empty, one, binary = tmp_path / "empty.txt", tmp_path / "one.txt", tmp_path / "data.bin"
    empty.write_text("")
    one.write_text("a" * 500)
    binary.write_bytes(bytes(range(256)) * 4)
    _fails(capsys, ["train", "--corpus", str(tmp_path / "missing.txt"), "--steps", "2"], "missing.txt", "no such file")
    _fails(capsys, ["train", "--corpus", str(empty), "--steps", "2"], "empty.txt", "at least 2 characters")
    _fails(capsys, ["train", "--corpus", str(one), "--steps", "2", *SMALL], "one.txt", "2 distinct characters")
    _fails(capsys, ["train", "--corpus", str(binary), "--steps", "2"], "data.bin", "binary")
    short = tmp_path / "short.txt"
    short.write_text("abcdefghij" * 3)
    _fails(capsys, ["train", "--corpus", str(short), "--steps", "2", "--batch", "64", "--seq-len", "64"], "--batch")


def test_out_folder_with_a_run_is_not_overwritten(run_dir, capsys):
    before = (run_dir / "last.json").read_bytes()
    _fails(capsys, ["train", "--corpus", "shakespeare", "--steps", "2", "--out", str(run_dir)], "already holds a run",
           "--resume")
    assert (run_dir / "last.json").read_bytes() == before


def test_resume_after_the_corpus_changed(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--corpus", corpus, "--steps", "4", "--eval-every", "2", "--out", str(out), *SMALL]) == 0
    with open(corpus, "a", encoding="utf-8") as f:
        f.write("le chien saute. ")  # known characters, other text
    _fails(capsys, ["train", "--resume", str(out), "--steps", "8", "--no-progress"], "last.json", "cannot resume",
           corpus, "expected", "as recorded in", "not the text the run was trained on")
