"""The torch backend of the task commands (rnnlab.backends.torch_tasks): the same losses as the
NumPy loop from the same weights and batches (float64, 1e-9) on the adding problem and on
classification, the CLI path (`rnnlab task adding --backend torch`) whose checkpoint loads on
the NumPy side, and clear errors."""

import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.data.tasks import adding_problem, copy_task
from rnnlab.errors import ConfigError
from rnnlab.seqmodels import SeqModelConfig, build_model
from rnnlab.tasks import TrainConfig, make_classification, train_model


def adding_draw(rng, b):
    x, y = adding_problem(b, 7, rng)
    return x, y, None


def classification_draw(rng, b):
    x, y, lengths = make_classification(b, rng, T_min=3, T_max=8)
    return x, y, lengths


def copy_draw(rng, b):
    x, y = copy_task(b, 4, rng, 3, 2)
    return x, y, None


def generator_draw(rng, b):
    v = rng.normal(size=(b, 2))
    t = np.linspace(0.0, 1.0, 5)[:, None, None]  # (T, 1, 1)
    return v, np.sin(3 * t + v[None, :, :1]) * v[None, :, 1:], None  # (T, B, 1)


CASES = {
    "adding": (SeqModelConfig("regressor", 2, 6, 1, cell="lstm"), adding_draw),
    "classify-gru": (SeqModelConfig("classifier", 3, 5, 3, cell="gru", bidirectional=True), classification_draw),
    "classify-rnn": (SeqModelConfig("classifier", 3, 5, 3, cell="rnn", num_layers=2), classification_draw),
    "copy-tagger": (SeqModelConfig("tagger", 5, 6, 5, cell="lstm"), copy_draw),
    "generator": (SeqModelConfig("generator", 2, 4, 1, cell="gru"), generator_draw),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_same_losses_and_weights_as_numpy(torch, case, optimizer):
    from rnnlab.backends.torch_tasks import train_model as torch_train_model

    config, draw = CASES[case]
    train = TrainConfig(steps=5, batch_size=4, optimizer=optimizer, lr=0.05, clip_norm=0.5, eval_every=2, seed=3)
    numpy_model = build_model(config, dtype=np.float64, seed=11)
    torch_model = build_model(config, dtype=np.float64, seed=11)
    scored = []

    def evaluate(m):  # the NumPy model, with the weights of that step
        scored.append({k: v.copy() for k, v in m.params.items()})
        return {"norm": float(sum(np.sum(v * v) for v in m.params.values()))}

    h_np = train_model(numpy_model, draw, train, evaluate)
    h_t = torch_train_model(torch_model, draw, train, evaluate)
    np.testing.assert_allclose(h_t.train_loss, h_np.train_loss, rtol=0, atol=1e-9)
    assert h_t.eval_steps == h_np.eval_steps == [2, 4, 5]
    np.testing.assert_allclose([s["norm"] for s in h_t.eval_scores], [s["norm"] for s in h_np.eval_scores], atol=1e-9)
    for name, value in numpy_model.params.items():
        np.testing.assert_allclose(torch_model.params[name], value, rtol=0, atol=1e-9, err_msg=name)
    assert h_np.train_loss[0] != h_np.train_loss[-1]  # it trained


def test_the_backend_is_an_explicit_argument(torch):
    """``train_model(..., backend=Backend("torch"))`` trains on PyTorch; nothing else in the call
    chooses the backend (no hidden context), so a later call without it is NumPy's again."""
    from rnnlab.backends.torch_tasks import TorchTaskJob
    from rnnlab.tasks import Backend

    calls = []
    config, draw = CASES["adding"]
    model = build_model(config, dtype=np.float64, seed=0)
    train = TrainConfig(steps=2, batch_size=3, eval_every=1, seed=0)
    made = []
    original = TorchTaskJob.__init__

    def spy(self, *a, **k):
        made.append(self)
        original(self, *a, **k)

    TorchTaskJob.__init__ = spy
    try:
        train_model(model, draw, train, callback=lambda s, loss, sc: calls.append(loss), backend=Backend("torch"))
        reference = train_model(build_model(config, dtype=np.float64, seed=0), draw, train)
    finally:
        TorchTaskJob.__init__ = original
    assert len(made) == 1  # the torch job for the first call only
    np.testing.assert_allclose(calls, reference.train_loss, atol=1e-9)
    with pytest.raises(ConfigError, match="backend: expected numpy or torch"):
        Backend("jax")


def test_cli_task_torch_checkpoint_loads_with_numpy(torch, tmp_path, capsys):
    from rnnlab.commands._seqtasks import load_run

    out = tmp_path / "run"
    assert main(["task", "adding", "--backend", "torch", "--device", "cpu", "--steps", "3", "--length", "6",
                 "--hidden", "4", "--batch-size", "4", "--eval-every", "2", "--no-progress", "--out", str(out)]) == 0
    assert "adding T=6" in capsys.readouterr().out
    model, meta = load_run(out, "adding")
    assert meta["train"]["steps"] == 3 and model.config.cell == "lstm"
    x, y = adding_problem(5, 6, np.random.default_rng(0))
    assert model(x).shape == (5, 1) and np.all(np.isfinite(model(x)))
    # the same run on the NumPy backend: the same weights up to float32 rounding
    assert main(["task", "adding", "--steps", "3", "--length", "6", "--hidden", "4", "--batch-size", "4",
                 "--eval-every", "2", "--no-progress", "--out", str(tmp_path / "np")]) == 0
    reference, _ = load_run(tmp_path / "np", "adding")
    for name, value in reference.params.items():
        np.testing.assert_allclose(model.params[name], value, atol=1e-4, err_msg=name)


def test_cli_classify_torch_runs(torch, tmp_path):
    out = tmp_path / "cls"
    assert main(["classify", "--backend", "torch", "--steps", "2", "--samples", "40", "--hidden", "4",
                 "--no-progress", "--out", str(out)]) == 0
    assert (out / "classifier.safetensors").is_file()


def test_cli_forecast_and_sweep_torch_run(torch, tmp_path):
    assert main(["forecast", "--backend", "torch", "--steps", "2", "--hidden", "4", "--no-progress",
                 "--out", str(tmp_path / "fc")]) == 0
    assert (tmp_path / "fc" / "forecast.safetensors").is_file()
    assert main(["sweep", "copy", "--backend", "torch", "--cells", "gru", "--lengths", "3", "--steps", "2",
                 "--hidden", "4", "--no-progress", "--out", str(tmp_path / "sw")]) == 0
    assert (tmp_path / "sw" / "sweep.json").is_file()


@pytest.mark.parametrize("extra", [["--device", "cpu"], ["--amp"], ["--no-amp"]])
def test_device_and_amp_need_backend_torch(tmp_path, capsys, extra):
    code = main(["task", "adding", "--steps", "1", "--no-progress", "--out", str(tmp_path / "x"), *extra])
    assert code == 2
    assert "--device and --amp need --backend torch" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # nothing written for a mistake in the options


def test_amp_on_cpu_and_unknown_device_are_clear_errors(torch, tmp_path, capsys):
    base = ["task", "adding", "--backend", "torch", "--steps", "1", "--no-progress", "--out", str(tmp_path / "x")]
    assert main([*base, "--amp"]) == 2
    assert "needs --device cuda" in capsys.readouterr().err
    assert main([*base, "--device", "tpu"]) == 2
    assert "expected cpu or cuda" in capsys.readouterr().err
    for command in (["classify"], ["forecast"], ["sweep", "adding"]):
        assert main([*command, "--backend", "torch", "--device", "tpu", "--out", str(tmp_path / "y")]) == 2
        assert "expected cpu or cuda" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()  # no empty run folder left behind


def test_recurrent_dropout_has_no_torch_counterpart(torch, tmp_path, capsys):
    code = main(["task", "adding", "--backend", "torch", "--recurrent-dropout", "0.2", "--steps", "1",
                 "--no-progress", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "no torch counterpart" in capsys.readouterr().err


@pytest.mark.gpu
def test_cuda_task_backend(torch, tmp_path):
    """On a GPU: float64 gives the NumPy losses; the CLI with float32 and bfloat16 autocast trains."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    from rnnlab.backends.torch_tasks import train_model as torch_train_model
    from rnnlab.commands._seqtasks import load_run

    config, draw = CASES["classify-gru"]
    train = TrainConfig(steps=4, batch_size=4, lr=0.05, eval_every=2, seed=3)
    ref = train_model(build_model(config, dtype=np.float64, seed=1), draw, train)
    run = torch_train_model(build_model(config, dtype=np.float64, seed=1), draw, train, device="cuda")
    np.testing.assert_allclose(run.train_loss, ref.train_loss, rtol=0, atol=1e-9)
    assert main(["task", "adding", "--backend", "torch", "--device", "cuda", "--amp", "--steps", "5", "--length", "6",
                 "--hidden", "8", "--no-progress", "--out", str(tmp_path / "cuda")]) == 0
    model, _ = load_run(tmp_path / "cuda", "adding")
    assert model.dtype == np.float32 and all(np.all(np.isfinite(v)) for v in model.params.values())
