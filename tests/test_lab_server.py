"""``rnnlab lab``'s server through Starlette's TestClient: every endpoint answers the core's own
numbers (a trace equals ``rnnlab trace``'s, h₃ of exercise 2.1 after an edit of W_f equals a direct
LSTM layer, gradients equal finite differences, norms equal rnnlab.analysis, activations equal the
model's caches, samples equal rnnlab.sample), bad requests get a 4xx JSON error naming the field,
only the run folders given are served, and nothing is written into them."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest

from helpers import run_cli, train_tiny_run, tree_hashes

pytest.importorskip("starlette")
pytest.importorskip("httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # newer Starlettes prefer httpx2 for the TestClient
    from starlette.testclient import TestClient

import rnnlab  # noqa: E402
from rnnlab import analysis  # noqa: E402
from rnnlab.lab import create_app  # noqa: E402
from rnnlab.trace import config as trace_config  # noqa: E402
from rnnlab.trace.layout import gradient_rows, step_rows  # noqa: E402
from rnnlab.typeset import decimal_aligned_cells, formula_mathml  # noqa: E402

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny run of ``rnnlab train`` (LSTM, H = 8, 12 steps), made once."""
    return train_tiny_run(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def client(trained):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with TestClient(create_app([trained], "en")) as c:
            yield c


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def refused(response, status, *words):
    """A 4xx JSON answer ``{"error"}`` whose message names each of ``words``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()["error"]
    for word in words:
        assert word in message, (word, message)
    assert "Traceback" not in message
    return message


# --- the cell explorer ------------------------------------------------------------------------


def preset_config(client, pid, k=0):
    return ok(client.get(f"/api/preset/{pid}"))["traces"][k]["config"]


def test_info_lists_runs_cells_and_presets(client, trained):
    info = ok(client.get("/api/info"))
    assert info["runs"] == [{"index": 0, "name": "run", "kind": "charlm"}]
    assert set(info["variants"]) == {"rnn", "lstm", "gru", "gru-pytorch"}
    from rnnlab.trace.presets import PRESETS

    assert [p["id"] for p in info["presets"]] == list(PRESETS)
    assert str(trained) not in json.dumps(info)  # the client never sees a path


def test_h3_of_exercise_21_after_editing_W_f_equals_the_lstm_layer(client):
    cfg = preset_config(client, "tp-2.1")
    cfg["weights"]["W_f"] = [[0.7, -0.4]]
    got = ok(client.post("/api/trace", json={"config": cfg}))
    w = {k: np.asarray(v, dtype=np.float64) for k, v in cfg["weights"].items()}
    layer = rnnlab.LSTM(1, 1, dtype=np.float64)
    layer.load_state_dict(rnnlab.lstm_params_from_course(**w))
    out, _ = layer.forward(np.asarray(cfg["inputs"], dtype=np.float64)[:, None, :])  # (T, 1, 1)
    assert got["values"]["steps"][2]["h"][0] == pytest.approx(out[2, 0, 0], abs=1e-15)
    before = ok(client.post("/api/trace", json={"config": preset_config(client, "tp-2.1")}))
    assert before["values"]["steps"][2]["h"][0] != pytest.approx(out[2, 0, 0], abs=1e-6)  # the edit mattered


@pytest.mark.parametrize("pid", ["tp-1.1", "tp-2.2", "tp-2.3", "cours-days", "chapitre-gru", "td-1"])
def test_presets_give_the_traces_rnnlab_trace_prints(client, pid):
    from rnnlab.trace import presets
    from rnnlab.trace.document import TraceBlock

    blocks = [b for b in presets.build(pid).blocks if isinstance(b, TraceBlock)]
    found = ok(client.get(f"/api/preset/{pid}"))["traces"]
    assert len(found) == len(blocks) > 0
    for block, item in zip(blocks, found):
        got = ok(client.post("/api/trace", json={"config": item["config"], "precision": 4}))
        tr = block.trace
        for step, shown in zip(tr.steps, got["values"]["steps"]):
            for key, value in step.values.items():
                np.testing.assert_allclose(shown[key], value, rtol=0, atol=1e-15)
        mine = trace_config.trace_from_config(item["config"])
        assert [s["rows"] for s in got["steps"]] == [
            [{"label": r.label, "formula": r.formula, "arithmetic": r.arithmetic, "value": r.value,
              "label_markup": formula_mathml(r.label),
              "formula_markup": formula_mathml(r.formula) if r.formula else "", "value_markup": aligned}
             for r, aligned in
             zip(step_rows(mine, s, 4), decimal_aligned_cells([r.value for r in step_rows(mine, s, 4)]))]
            for s in mine.steps]
        assert got["steps"][0]["rows"][0]["formula_markup"].startswith("<math")  # typeset, not text
        if tr.backward is not None:
            shown = [r["value"] for r in got["backward"]["gradients"]]
            assert shown == [r.value for r in gradient_rows(mine)]
            for name, grad in tr.backward.grads.items():
                assert got["backward"]["grad_norms"][name] == pytest.approx(np.linalg.norm(grad), abs=1e-15)


def test_backward_gradients_equal_finite_differences(client):
    """∂L/∂W_f for L = u·h_2 (an upstream gradient at t = 2), against central differences of the
    LSTM layer in float64."""
    cfg = json.loads(json.dumps(trace_config.example("lstm")))
    u = 0.7
    cfg["upstream"] = {"h": {"2": [u]}}
    got = ok(client.post("/api/trace", json={"config": cfg}))
    grads = [r for r in got["backward"]["gradients"] if r["label"].startswith("∂L/∂W_f")]

    def loss(W_f):
        w = {k: np.asarray(v, dtype=np.float64) for k, v in cfg["weights"].items()} | {"W_f": W_f}
        layer = rnnlab.LSTM(1, 1, dtype=np.float64)
        layer.load_state_dict(rnnlab.lstm_params_from_course(**w))
        out, _ = layer.forward(np.asarray(cfg["inputs"], dtype=np.float64).reshape(-1, 1, 1))
        return u * out[1, 0, 0]

    W = np.asarray(cfg["weights"]["W_f"], dtype=np.float64)
    exact = trace_config.trace_from_config(cfg).backward.grads["W_f"]
    for j in range(W.shape[1]):
        e = np.zeros_like(W)
        e[0, j] = 1e-6
        fd = (loss(W + e) - loss(W - e)) / 2e-6
        assert exact[0, j] == pytest.approx(fd, rel=1e-6, abs=1e-10)
        assert float(grads[j]["value"]) == pytest.approx(exact[0, j], abs=5e-5)  # shown to 4 decimals
    path = {p["t"]: p for p in got["backward"]["path"]}
    assert path[2]["d_h"] == pytest.approx(u) and path[3]["d_h"] == 0.0 == path[3]["d_h_prev"]
    d_h1 = trace_config.trace_from_config(cfg).backward.steps[1].values["d_h_prev"]  # step 2 → step 1
    assert path[2]["d_h_prev"] == pytest.approx(np.linalg.norm(d_h1), abs=1e-15) and path[1]["d_h"] > 0


def test_gru_variants_and_notations(client):
    """Both GRUs: the course's (reset before) converted to PyTorch's notation gives the same numbers;
    the PyTorch GRU's h equals rnnlab.GRU (torch.nn.GRU's convention) on the same fused weights."""
    course = ok(client.get("/api/example/gru"))["config"]
    as_torch = ok(client.post("/api/convert", json={"config": course, "notation": "pytorch"}))["config"]
    a = ok(client.post("/api/trace", json={"config": course}))["values"]["steps"]
    b = ok(client.post("/api/trace", json={"config": as_torch}))["values"]["steps"]
    np.testing.assert_allclose([s["h"] for s in a], [s["h"] for s in b], rtol=0, atol=1e-15)
    torch_gru = ok(client.get("/api/example/gru-pytorch"))["config"]
    assert torch_gru["notation"] == "pytorch" and torch_gru["options"] == {"reset": "after"}
    shown = ok(client.post("/api/trace", json={"config": torch_gru}))["values"]
    layer = rnnlab.GRU(1, 2, dtype=np.float64)
    layer.load_state_dict({f"{k}_l0": np.asarray(v) for k, v in torch_gru["weights"].items()})
    out, _ = layer.forward(np.asarray(torch_gru["inputs"]).reshape(-1, 1, 1),
                           np.asarray(torch_gru["initial_state"]["h"]).reshape(1, 1, 2))
    np.testing.assert_allclose([s["h"] for s in shown["steps"]], out[:, 0], rtol=0, atol=1e-15)
    back = ok(client.post("/api/convert", json={"config": as_torch, "notation": "course"}))["config"]
    np.testing.assert_allclose(back["weights"]["W_z"], course["weights"]["W_z"], atol=1e-15)
    refused(client.post("/api/convert", json={"config": torch_gru, "notation": "course"}), 400, "notation")


def test_export_matches_rnnlab_trace(client, tmp_path):
    cfg = trace_config.example("rnn") | {"title": "Mine"}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    for fmt in ("md", "latex"):
        got = ok(client.post("/api/export", json={"config": cfg, "format": fmt}))
        printed = run_cli(["trace", path, "--format", fmt, "--lang", "en"])
        assert printed.code == 0, printed
        assert got["text"].strip() == printed.out.strip()
    again = ok(client.post("/api/export", json={"config": cfg, "format": "json"}))
    assert trace_config.trace_from_config(json.loads(again["text"])).steps[-1].values["h"] == pytest.approx(
        trace_config.trace_from_config(cfg).steps[-1].values["h"], abs=0)


# --- gradient flow ----------------------------------------------------------------------------


def test_flow_equals_the_analysis_and_exercise_12(client):
    ex = ok(client.get("/api/flow/exercise"))
    got = ok(client.post("/api/flow", json={"W_hh": ex["W_hh"], "slope": ex["slope"], "n_max": 40}))
    flow = analysis.linearised_flow(ex["W_hh"], ex["slope"])
    for ord in analysis.NORMS:
        np.testing.assert_allclose(got["norms"][ord], flow.norms(40, ord), rtol=1e-15, atol=0)
        assert got["steps_below"][ord] == flow.steps_below(0.01, ord)
    from rnnlab.trace.presets import build

    assert got["steps_below"]["2"] == build("tp-1.2").data["below"]["spectral"]  # the TP's answer
    big = ok(client.post("/api/flow", json={"W_hh": ex["W_hh"], "slope": 1.0, "radius": 1.2}))
    assert big["W_spectral_radius"] == pytest.approx(1.2, abs=1e-12)
    assert big["steps_above"]["2"] == analysis.linearised_flow(big["W_hh"], 1.0).steps_above(100.0)


def test_flow_cells_random_and_trained(client, trained):
    got = ok(client.post("/api/flow/cells", json={"source": "random", "steps": 12, "hidden": 4, "seed": 3}))
    probe, _ = analysis.first_input_task(np.random.default_rng(4), 12, 4)
    for mode in ("rnn", "lstm", "gru"):
        layer = rnnlab.layers.make_layer(mode, 2, 4, dtype=np.float64, rng=np.random.default_rng(3))
        np.testing.assert_allclose(got["profiles"][mode], analysis.state_jacobians(layer, probe).mean_norms(),
                                   rtol=1e-13, atol=0)
    mine = ok(client.post("/api/flow/cells", json={"source": "run", "steps": 10}))
    from rnnlab.lab import runs
    from rnnlab.train import load_model

    model, vocab, meta = load_model(trained)
    ids = vocab.encode(runs.validation_text(meta, vocab, 10))
    jac = analysis.state_jacobians(model.rnn, model.embedding.forward(ids[:, None]))
    np.testing.assert_allclose(mine["profiles"]["lstm"], jac.mean_norms(), rtol=1e-12)


# --- the training monitor ---------------------------------------------------------------------


def test_monitor_reads_history_samples_and_config(client, trained, tmp_path):
    import csv

    got = ok(client.get("/api/runs/0/monitor"))
    with open(trained / "loss.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert got["columns"] == rows[0] and got["total_rows"] == len(rows) - 1 == 12
    assert got["rows"][-1][rows[0].index("train_loss")] == float(rows[-1][rows[0].index("train_loss")])
    assert got["meta"]["kind"] == "charlm" and got["meta"]["config"]["hidden_size"] == 8
    assert got["samples"][-1]["header"].startswith("step 12")
    assert ok(client.get("/api/runs/run/monitor?since=11"))["rows"] == got["rows"][11:]


def test_monitor_sees_a_line_appended_to_a_live_run(tmp_path, trained):
    import shutil

    live = tmp_path / "live"
    shutil.copytree(trained, live)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = TestClient(create_app([live], "en"))
    n = ok(c.get("/api/runs/0/monitor"))["total_rows"]
    with open(live / "loss.csv", "a", encoding="utf-8") as fh:
        fh.write("13,1.0,9999,9.9,0.001,1.25,,\n")
    got = ok(c.get(f"/api/runs/0/monitor?since={n}"))
    assert got["total_rows"] == n + 1 and got["rows"] == [[13.0, 1.0, 9999.0, 9.9, 0.001, 1.25, None, None]]


# --- the model inspector ----------------------------------------------------------------------


def test_activations_and_top5_equal_the_model(client, trained):
    from rnnlab.sample import next_char_probabilities
    from rnnlab.train import load_model

    text = 'the "cat" (sat)\n'
    model, vocab, _ = load_model(trained)
    logits, _ = model.forward(vocab.encode(text)[:, None])
    h = model.rnn.forward(model.embedding.forward(vocab.encode(text)[:, None]))[0][:, 0]  # (T, H)
    caches = model.rnn.step_caches()
    got = ok(client.post("/api/runs/0/activations", json={"text": text, "series": "h", "unit": 5}))
    np.testing.assert_array_equal(got["values"], h[:, 5].astype(np.float64))
    got = ok(client.post("/api/runs/0/activations", json={"text": text, "series": "f", "unit": 2}))
    np.testing.assert_array_equal(got["values"], [c["gates"][0, 8 + 2] for c in caches])  # f: rows H…2H
    probs = next_char_probabilities(logits[3, 0].astype(np.float64))
    best = np.argsort(-probs)[:5]
    assert got["top"][3] == [[vocab.decode([int(i)]), pytest.approx(float(probs[i]), abs=1e-12)]
                             for i in best]
    described = ok(client.get("/api/runs/0/model"))
    assert described["cell"] == "lstm" and described["hidden_size"] == 8
    assert {"h", "c", "i", "f", "g", "o"} <= set(described["series"])


def test_feature_units_are_real_correlations(client, trained):
    from rnnlab.lab import runs
    from rnnlab.train import load_model

    got = ok(client.get("/api/runs/0/features"))
    model, vocab, meta = load_model(trained)
    text = runs.validation_text(meta, vocab)
    series = runs.unit_series(model, vocab.encode(text))["series"]
    features = runs.text_features(text)
    assert len(got["units"]) == runs.TOP_UNITS
    for unit in got["units"][:4]:
        r = np.corrcoef(series[unit["series"]][:, unit["unit"]], features[unit["feature"]])[0, 1]
        assert unit["r"] == pytest.approx(r, abs=1e-9)
    assert abs(got["units"][0]["r"]) == max(abs(u["r"]) for u in got["units"])
    assert features["inside_quotes"][text.index('"') + 1] == 1.0


def test_sampling_equals_rnnlab_sample(client, trained):
    from rnnlab.sample import generate
    from rnnlab.train import load_model

    got = ok(client.post("/api/runs/0/sample", json={"prime": "the ", "length": 40, "temperature": 0.7,
                                                     "top_k": 5, "seed": 11}))
    model, vocab, _ = load_model(trained)
    assert got["text"] == generate(model, vocab, 40, prime="the ", temperature=0.7, top_k=5, seed=11)


# --- safety and bad requests --------------------------------------------------------------------


def test_every_endpoint_leaves_the_run_folder_untouched(client, trained):
    before = tree_hashes(trained)
    ok(client.get("/api/runs/0/monitor"))
    ok(client.get("/api/runs/0/model"))
    ok(client.get("/api/runs/0/features"))
    ok(client.post("/api/runs/0/activations", json={"text": "the cat"}))
    ok(client.post("/api/runs/0/sample", json={"length": 5, "seed": 0}))
    ok(client.post("/api/flow/cells", json={"source": "0", "steps": 5}))
    assert tree_hashes(trained) == before


@pytest.mark.parametrize("path", [
    "/api/runs/..%2F..%2Fetc%2Fpasswd/monitor", "/api/runs/%2Fetc%2Fpasswd/monitor",
    "/api/runs/../run/monitor",
    "/api/runs/1/monitor", "/api/runs/-1/monitor", "/api/runs/run%2F..%2Frun/model", "/static/../app.py",
    "/static/%2e%2e/app.py", "/static/..%2F..%2F..%2Fetc%2Fpasswd", "/api/runs/~/monitor",
])
def test_only_the_given_run_folders_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "error" in response.json()
    assert "root:" not in response.text and "create_app" not in response.text


def test_unknown_run_is_named(client):
    refused(client.get("/api/runs/nope/model"), 404, "'nope'", "0 (run)")
    refused(client.post("/api/runs/nope/sample", json={}), 404, "'nope'")


BAD_CONFIGS = [
    (lambda c: c["weights"].update(W_i=[[0.1, 0.2, 0.3]]), "W_i", "shape"),
    (lambda c: c.update(cell="transformer"), "cell", "transformer"),
    (lambda c: c["weights"].update(W_f=[["a", 0.2]]), "W_f", "numbers"),
    (lambda c: c.update(inputs=[]), "inputs", "non-empty"),
    (lambda c: c.update(upstream={"h": {"9": [1.0]}}), "upstream.h.9", "between 1 and 3"),
    (lambda c: c["weights"].pop("b_o"), "b_o", "missing"),
    (lambda c: c.update(options={"reset": "after"}), "options.reset", "not an option"),
]


@pytest.mark.parametrize("damage, key, what", BAD_CONFIGS)
def test_bad_configs_are_refused_naming_the_key(client, damage, key, what):
    cfg = copy.deepcopy(trace_config.example("lstm"))
    damage(cfg)
    refused(client.post("/api/trace", json={"config": cfg}), 400, key, what)


def test_bad_requests_get_clear_4xx_json(client):
    lstm = trace_config.example("lstm")
    refused(client.post("/api/trace", content=b'{"config": {"cell": "lstm", "inputs": [NaN]}}'), 400, "NaN")
    refused(client.post("/api/trace", content=b'{"config": Infinity}'), 400, "Infinity")
    refused(client.post("/api/trace", content=b"{not json"), 400, "invalid JSON")
    refused(client.post("/api/trace", content=b"[1, 2]"), 400, "JSON object", "list")
    refused(client.post("/api/trace", json={}), 400, "'config'", "missing")
    refused(client.post("/api/trace", json={"config": lstm, "precision": 99}), 400, "'precision'", "[0, 15]")
    refused(client.post("/api/trace", json={"config": lstm, "precision": "4"}), 400, "'precision'", "integer")
    refused(client.post("/api/trace", json={"config": "lstm"}), 400, "'config'", "object")
    refused(client.post("/api/export", json={"config": lstm, "format": "docx"}), 400, "format", "docx")
    refused(client.get("/api/example/elman"), 400, "cell", "elman")
    refused(client.get("/api/preset/tp-9.9"), 404, "tp-9.9")
    refused(client.post("/api/flow", json={"W_hh": [[1, 2, 3]]}), 400, "W_hh", "square")
    refused(client.post("/api/flow", json={"W_hh": [[1, 0], [0]]}), 400, "W_hh", "square")
    refused(client.post("/api/flow", json={"W_hh": [[1]], "n_max": 10**6}), 400, "n_max")
    refused(client.post("/api/flow", json={"W_hh": [[0.0]], "radius": 1.0}), 400, "radius")
    refused(client.post("/api/flow/cells", json={"source": "random", "hidden": 0}), 400, "hidden")
    refused(client.post("/api/runs/0/activations", json={"text": "the", "unit": 8}), 400, "'unit'", "0 and 7")
    refused(client.post("/api/runs/0/activations", json={"text": "the", "series": "q"}), 400, "'series'")
    refused(client.post("/api/runs/0/activations", json={"text": "€uro"}), 400, "'€'")
    refused(client.post("/api/runs/0/activations", json={"text": ""}), 400, "'text'")
    refused(client.post("/api/runs/0/sample", json={"temperature": -1}), 400, "'temperature'")
    refused(client.post("/api/runs/0/sample", json={"top_p": 1.5}), 400, "'top_p'")
    refused(client.post("/api/runs/0/sample", json={"length": 10**7}), 400, "'length'")
    refused(client.get("/api/runs/0/monitor?since=-3"), 400, "'since'")
    refused(client.get("/api/info?lang=de"), 400, "'lang'")
    refused(client.get("/nowhere"), 404, "/explorer")


def test_oversized_requests_get_413(client):
    from rnnlab.lab.app import MAX_BODY, MAX_TEXT

    refused(client.post("/api/trace", content=b" " * (MAX_BODY + 1),
                        headers={"content-type": "application/json"}), 413, str(MAX_BODY))

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(MAX_BODY // 4096 + 2):
            yield b" " * 4096

    refused(client.post("/api/trace", content=chunks()), 413, str(MAX_BODY))
    refused(client.post("/api/runs/0/activations", json={"text": "a" * (MAX_TEXT + 1)}), 413, str(MAX_TEXT))


def test_errors_speak_the_language_asked(client):
    fr = refused(client.post("/api/runs/0/sample", json={"top_p": 1.5, "lang": "fr"}), 400, "« top_p »")
    assert "attendu" in fr
    assert "expected" in refused(client.post("/api/runs/0/sample?lang=en", json={"top_p": 1.5}), 400)
    assert ok(client.get("/api/info?lang=fr"))["presets"][0]["title"].startswith("RNN simple")


def test_tabs_do_not_share_state(client):
    """Two tabs editing different cells at once: each answer depends only on its own request."""
    lstm, rnn = trace_config.example("lstm"), trace_config.example("rnn")
    a1 = ok(client.post("/api/trace", json={"config": lstm}))
    b1 = ok(client.post("/api/trace", json={"config": rnn, "lang": "fr"}))
    a2 = ok(client.post("/api/trace", json={"config": lstm}))
    assert a1 == a2 and b1["values"]["cell"] == "rnn" and a1["facts"][0][0] == "cell"
    assert b1["facts"][0][0] == "cellule"


def test_tabs_at_once_answer_in_their_own_language(client):
    """Requests answered at the same time in worker threads: each in its own language (the
    language is a context variable), each model read by one request at a time (its caches)."""
    from concurrent.futures import ThreadPoolExecutor

    lstm = trace_config.example("lstm")
    requests = [("/api/trace", {"config": lstm, "lang": lang}) for lang in ("en", "fr")] + \
               [("/api/runs/0/activations", {"text": "the cat", "series": "h", "unit": unit, "lang": lang})
                for unit in (0, 1) for lang in ("en", "fr")]
    alone = [client.post(url, json=body).json() for url, body in requests]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda item: client.post(item[0], json=item[1]).json(), requests * 4))
    assert together == alone * 4
    assert alone[0]["facts"][0][0] == "cell" and alone[1]["facts"][0][0] == "cellule"


def test_pages_and_static_files(client):
    for page in ("explorer", "flow", "inspector", "monitor"):
        html = client.get(f"/{page}")
        assert html.status_code == 200 and f"/static/{page}.js" in html.text
        assert "http://" not in html.text and "https://" not in html.text  # nothing from the network
        assert client.get(f"/static/{page}.js").status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == "/explorer"
    assert '<html lang="en">' in client.get("/flow").text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        french = TestClient(create_app([], "fr"))
    assert '<html lang="fr">' in french.get("/flow").text  # rnnlab lab --lang fr
    assert "math{" in client.get("/typeset.css").text


def test_command_binds_localhost_and_warns_otherwise(monkeypatch, trained):
    import uvicorn

    bound = []

    def fake_run(self, sockets=None):
        bound.append(sockets[0].getsockname())
        sockets[0].close()

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    got = run_cli(["lab", trained, "--port", 0, "--no-browser"])
    assert got.code == 0, got
    assert bound[-1][0] == "127.0.0.1" and "http://127.0.0.1:" in got.out and "warning" not in got.err
    got = run_cli(["lab", "--host", "0.0.0.0", "--port", 0, "--no-browser", "--lang", "fr"])
    assert got.code == 0 and "attention" in got.err and "0.0.0.0" in got.err
    got = run_cli(["lab", "--port", 70000, "--no-browser"])
    assert got.code == 2 and "--port" in got.err
