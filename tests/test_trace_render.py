"""Renderers and the CLI: golden Markdown/LaTeX, JSON keys, the HTML page in headless Chromium,
`rnnlab exercise` and `rnnlab trace` with good and bad configs."""

import json
import os
import shutil
import subprocess

import pytest

from rnnlab.cli import main
from rnnlab.i18n import set_language
from rnnlab.trace.presets import PRESETS, build
from rnnlab.trace.render import render

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")


@pytest.fixture(autouse=True)
def english():
    set_language("en")
    yield
    set_language(None)


@pytest.mark.parametrize("preset,fmt,ext", [("tp-2.1", "md", "md"), ("tp-2.1", "latex", "tex"),
                                            ("cours-lstm", "md", "md"), ("cours-lstm", "latex", "tex")])
def test_golden_files(preset, fmt, ext):
    text = render(build(preset), fmt)
    path = os.path.join(GOLDEN, f"{preset}.{ext}")
    if os.environ.get("RNNLAB_UPDATE_GOLDEN") == "1":
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    with open(path, encoding="utf-8") as fh:
        assert text == fh.read(), f"{path} differs; rerun with RNNLAB_UPDATE_GOLDEN=1 after checking the change"


def test_json_keys_are_the_course_names():
    data = json.loads(render(build("000-2.1"), "json"))
    step = data["traces"][0]["steps"][0]
    assert list(step) == ["t", "x", "z_f", "f", "z_i", "i", "z_C", "C_tilde", "C", "z_o", "o", "tanh_C", "h"]
    assert step["t"] == 1 and step["z_f"] == [pytest.approx(0.2)]
    rnn = json.loads(render(build("000-1.1"), "json"))["traces"][0]["steps"][0]
    assert {"t", "z", "h", "y"} <= set(rnn)
    gru = json.loads(render(build("004-gru"), "json"))["traces"][0]["steps"][0]
    assert {"t", "z", "r", "h_tilde", "h"} <= set(gru)
    back = json.loads(render(build("000-2.3"), "json"))["traces"][0]["backward"]
    assert back["grads"]["d_W_f"] == [[0.0, 0.0]]


def test_precision_and_french():
    text = render(build("000-2.1", precision=6), "md")
    assert "0.549834" in text
    set_language("fr")
    fr = render(build("000-2.1"), "md")
    assert "grandeur" in fr and "calcul détaillé" in fr and "porte d'oubli" in fr


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_html_page_in_headless_chromium(tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no chromium is installed")
        pytest.skip("no chromium installed")
    page = tmp_path / "ex.html"
    html = render(build("000-2.1"), "html")
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,1600",
           "--dump-dom", page.as_uri()]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    dom = out.stdout
    assert "<table>" in dom and "t = 1" in dom, out.stderr[-2000:]
    assert "0.1×0.0 + 0.2×1.0 + 0.0" in dom and "0.5498" in dom and "<svg" in dom
    # typeset: the arithmetic is MathML (its source kept as alttext), the value in an aligned cell
    assert '<math alttext="0.1×0.0 + 0.2×1.0 + 0.0">' in dom and "<mn>0.2</mn><mo>×</mo><mn>1.0</mn>" in dom
    assert '<td class="num">0.5498</td>' in dom and "<msub><mi>z</mi>" in dom
    if not shot.exists():  # some builds take the screenshot only without --dump-dom
        cmd.remove("--dump-dom")
        subprocess.run(cmd, capture_output=True, timeout=90)
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_exercise_list_and_run(capsys, tmp_path):
    assert main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    for pid in PRESETS:
        assert pid in out
    out_file = tmp_path / "ex11.md"
    assert main(["exercise", "000-1.1", "--format", "md", "--out", str(out_file)]) == 0
    assert (tmp_path / "ex11-h.png").exists() and (tmp_path / "ex11-h.svg").exists()
    assert "![" in out_file.read_text(encoding="utf-8")
    assert main(["exercise", "000-2.3", "--lang", "fr", "--precision", "3"]) == 0
    assert "Passe arrière" in capsys.readouterr().out
    assert main(["exercise", "errata", "--format", "md"]) == 0
    assert "σ(4.27) = 1.0" in capsys.readouterr().out
    assert main(["exercise", "9.9"]) == 2
    assert "exercise: expected one of" in capsys.readouterr().err


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_cli_trace_examples_run(tmp_path, capsys):
    for cell in ("rnn", "lstm", "gru"):
        assert main(["trace", "--example", cell]) == 0
        example = json.loads(capsys.readouterr().out)
        path = _write(tmp_path, f"{cell}.json", example)
        assert main(["trace", path, "--format", "json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["traces"][0]["cell"] == cell and "backward" in data["traces"][0]
    toml = _write(tmp_path, "lstm.toml", 'cell = "lstm"\ninputs = [1.0]\n[weights]\nW_f = [0.1, 0.2]\nb_f = 0.0\n'
                  'W_i = [0.3, -0.1]\nb_i = 0.1\nW_C = [0.2, 0.4]\nb_C = 0.0\nW_o = [0.1, 0.3]\nb_o = 0.0\n')
    assert main(["trace", toml]) == 0
    assert "0.5498" in capsys.readouterr().out


LSTM = json.loads(json.dumps({"cell": "lstm", "weights": {"W_f": [[0.1, 0.2]], "b_f": [0.0], "W_i": [[0.3, -0.1]], "b_i": [0.1],
                                                         "W_C": [[0.2, 0.4]], "b_C": [0.0], "W_o": [[0.1, 0.3]], "b_o": [0.0]},
                              "inputs": [1.0, 0.5]}))


@pytest.mark.parametrize("change,message", [
    (lambda c: c.pop("inputs"), "missing key 'inputs'"),
    (lambda c: c.update(colour="red"), "unknown key 'colour'"),
    (lambda c: c["weights"].pop("W_o"), "missing key 'weights.W_o'"),
    (lambda c: c["weights"].update(W_o=[[0.1, 0.3, 0.5]]), "key 'weights.W_o': expected shape (1, 2), got (1, 3)"),
    (lambda c: c["weights"].update(b_i=["a"]), "key 'weights.b_i': expected numbers"),
    (lambda c: c.update(inputs=[]), "key 'inputs': expected a non-empty sequence"),
    (lambda c: c.update(cell="transformer"), "key 'cell': expected 'rnn', 'lstm' or 'gru'"),
    (lambda c: c.update(upstream={"h": {"5": [0.1]}}), "key 'upstream.h.5': expected a step between 1 and 2"),
])
def test_cli_trace_bad_configs(tmp_path, capsys, change, message):
    cfg = json.loads(json.dumps(LSTM))
    change(cfg)
    path = _write(tmp_path, "bad.json", cfg)
    assert main(["trace", path]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert path in err and message in err, err


def test_cli_trace_unparsable_file(tmp_path, capsys):
    path = _write(tmp_path, "broken.json", "{ not json")
    assert main(["trace", path]) == 2
    assert "cannot parse" in capsys.readouterr().err


def test_cli_trace_pytorch_notation_equals_course(tmp_path, capsys):
    import numpy as np

    import rnnlab

    course = json.loads(json.dumps(LSTM))
    p = rnnlab.lstm_params_from_course(**course["weights"])
    fused = {"cell": "lstm", "notation": "pytorch", "inputs": course["inputs"],
             "weights": {k[: -len("_l0")]: v.tolist() for k, v in p.items()}}
    outputs = []
    for name, cfg in (("course.json", course), ("pytorch.json", fused)):
        assert main(["trace", _write(tmp_path, name, cfg), "--format", "json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out)["traces"][0]["steps"])
    for a, b in zip(*outputs):
        np.testing.assert_allclose(a["h"], b["h"], rtol=0, atol=1e-15)
    gru = {"cell": "gru", "notation": "pytorch", "options": {"reset": "after"}, "inputs": [[0.5], [-1.0]],
           "weights": {"weight_ih": [[0.1], [0.2], [0.3]], "weight_hh": [[0.4], [-0.5], [0.6]],
                       "bias_ih": [0.0, 0.1, 0.0], "bias_hh": [0.1, 0.0, 0.2]}, "upstream": {"h": {"2": [1.0]}}}
    assert main(["trace", _write(tmp_path, "gru.json", gru)]) == 0
    assert "W_hn h + b_hn" in capsys.readouterr().out


def test_cli_trace_yaml_needs_pyyaml(tmp_path, capsys):
    try:
        import yaml  # noqa: F401
    except ImportError:
        path = _write(tmp_path, "c.yaml", "cell: lstm\n")
        assert main(["trace", path]) == 2
        assert "PyYAML" in capsys.readouterr().err
    else:
        path = _write(tmp_path, "c.yaml", "cell: lstm\ninputs: [1.0]\nweights:\n  W_f: [0.1, 0.2]\n  b_f: 0.0\n  W_i: [0.3, -0.1]\n"
                      "  b_i: 0.1\n  W_C: [0.2, 0.4]\n  b_C: 0.0\n  W_o: [0.1, 0.3]\n  b_o: 0.0\n")
        assert main(["trace", path]) == 0


@pytest.mark.parametrize("preset,lang", [("001-lstm", "en"), ("000-2.3", "fr")])
def test_latex_compiles_with_pdflatex(tmp_path, preset, lang):
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("no pdflatex installed")
    set_language(lang)
    (tmp_path / "doc.tex").write_text(render(build(preset), "latex"), encoding="utf-8")
    out = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, timeout=120)
    assert out.returncode == 0 and (tmp_path / "doc.pdf").exists(), out.stdout[-3000:].decode("latin-1")


def test_trace_example_prints_a_matrix_one_row_per_line(capsys):
    from rnnlab.trace import config

    assert set(config.example_cells()) >= {"rnn", "lstm", "gru"}
    for cell, example in ((c, config.example(c)) for c in config.example_cells()):
        assert main(["trace", "--example", cell]) == 0
        text = capsys.readouterr().out
        assert json.loads(text) == example  # it parses back unchanged
        lines = [line.strip().rstrip(",") for line in text.splitlines()]
        for name, value in example["weights"].items():
            rows = value if isinstance(value[0], list) else [value]
            for row in rows:  # each row of each matrix is one line of the file
                assert json.dumps(row) in lines or f'"{name}": {json.dumps(row)}' in lines, (cell, name, row)
        assert len(lines) <= 40, (cell, len(lines))


def test_dump_config_round_trips_any_config():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rnnlab.trace.config import dump_config

    leaves = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.text(max_size=5),
                       st.booleans(), st.none())
    def branches(inner):
        return st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4))

    trees = st.recursive(leaves, branches, max_leaves=20)

    @settings(max_examples=200, deadline=None)
    @given(trees)
    def round_trip(value):
        assert json.loads(dump_config(value)) == value

    round_trip()
