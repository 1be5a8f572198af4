"""The torch training backend (rnnlab.backends.torch_train): the same losses as the NumPy
backend from the same weights and batches (float64, 1e-9), checkpoints that move between the
two backends, data-parallel training under torchrun (gloo, 2 CPU processes) equal to one
process on the same global batch, and clear errors."""

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from rnnlab.errors import ConfigError
from rnnlab.train import Trainer, TrainConfig, load_model

from helpers import quiet

TEXT = ("Le corbeau et le renard. Maître corbeau, sur un arbre perché, tenait en son bec un fromage. "
        "Maître renard, par l'odeur alléché, lui tint à peu près ce langage. ") * 12


def make_config(tmp_path, **kw):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    opts = dict(corpus=str(corpus), cell="lstm", hidden_size=8, num_layers=2, embedding_dim=6, seq_len=8,
                batch_size=4, steps=4, eval_every=100, eval_chars=200, sample_length=20, warmup_steps=1,
                dtype="float64", lr=1e-2, seed=3,
                dropout=0.0)  # the backends draw their dropout masks from different generators
    opts.update(kw)
    return TrainConfig(**opts)


def losses(trainer):
    return np.array([r["train_loss"] for r in trainer.history])


@pytest.mark.parametrize("cell,optimizer", [("lstm", "adam"), ("gru", "rmsprop"), ("rnn", "momentum")])
def test_torch_backend_gives_the_numpy_losses(torch, tmp_path, cell, optimizer):
    from rnnlab.backends.torch_train import TorchTrainer

    cfg = make_config(tmp_path, cell=cell, optimizer=optimizer)
    ref = Trainer(cfg, tmp_path / "numpy", **quiet())
    ref.run()
    run = TorchTrainer(cfg, tmp_path / "torch", device="cpu", **quiet())
    result = run.run()
    assert len(run.history) == cfg.steps
    np.testing.assert_allclose(losses(run), losses(ref), rtol=0, atol=1e-9)
    for name, p in ref.model.params.items():
        np.testing.assert_allclose(run.model.params[name], p, rtol=0, atol=1e-9, err_msg=name)
    assert abs(result.val_loss - ref.history[-1]["val_loss"]) < 1e-9
    # the checkpoint is the NumPy backend's: it loads, and samples, with the NumPy model
    model, vocab, meta = load_model(tmp_path / "torch", "last")
    assert meta["step"] == cfg.steps and model.config() == ref.model.config()
    from rnnlab.sample import generate

    text = generate(model, vocab, 30, temperature=0.8, rng=np.random.default_rng(0))
    assert len(text) >= 30 and set(text) <= set(TEXT)


def test_resume_across_backends(torch, tmp_path):
    """NumPy for 2 steps, torch resumes to 5, NumPy resumes that to 7: the losses of one
    uninterrupted NumPy run (optimiser state and carried hidden state move across). No decay:
    a cosine follows the total budget, which each resume changes here."""
    from rnnlab.backends.torch_train import TorchTrainer

    cfg = make_config(tmp_path, steps=7, decay="none")
    ref = Trainer(cfg, tmp_path / "ref", **quiet())
    ref.run()
    first = Trainer(make_config(tmp_path, steps=2, decay="none"), tmp_path / "mixed", **quiet())
    first.run()
    second = TorchTrainer.resume(tmp_path / "mixed", steps=5, device="cpu", **quiet())
    assert second.step == 2 and second.optimizer.steps == 2
    second.run()
    third = Trainer.resume(tmp_path / "mixed", steps=7, **quiet())
    assert third.step == 5
    third.run()
    np.testing.assert_allclose(losses(third), losses(ref), rtol=0, atol=1e-9)


def test_torch_backend_errors(torch, tmp_path):
    from rnnlab.backends import trainer_class
    from rnnlab.backends.torch_train import TorchTrainer, resolve_device

    cfg = make_config(tmp_path)
    with pytest.raises(ConfigError, match="expected cpu or cuda"):
        resolve_device("tpu")
    with pytest.raises(ConfigError, match="amp.*needs --device cuda"):
        TorchTrainer(cfg, tmp_path / "r", device="cpu", amp=True, **quiet())
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="expected a CUDA GPU, got none"):
            resolve_device("cuda")
    with pytest.raises(ConfigError, match="backend: expected one of numpy, torch, got 'jax'"):
        trainer_class("jax")
    assert trainer_class("torch") is TorchTrainer and trainer_class("numpy") is Trainer


@pytest.mark.slow  # an end-to-end run of several seconds: pytest -m slow
def test_torchrun_two_processes_equal_one_process(torch, tmp_path):
    """torchrun --nproc_per_node=2 (gloo): both ranks end with identical weights, and weights
    and losses equal a single process on the same global batch."""
    from rnnlab.backends.torch_train import TorchTrainer

    cfg = make_config(tmp_path, steps=3)
    worker = Path(__file__).with_name("_ddp_worker.py")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--rdzv-backend=c10d",
           "--rdzv-endpoint=localhost:0", str(worker), str(tmp_path / "ddp"), json.dumps(asdict(cfg))]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [np.load(tmp_path / "ddp" / f"rank{r}.npz") for r in (0, 1)]
    infos = [json.loads((tmp_path / "ddp" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [i["world"] for i in infos] == [2, 2]
    for name in ranks[0].files:
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=name)
    single = TorchTrainer(cfg, tmp_path / "single", device="cpu", **quiet())
    single.run()
    np.testing.assert_allclose(infos[0]["losses"], losses(single), rtol=0, atol=1e-9)
    for name, p in single.net.named_parameters():
        np.testing.assert_allclose(ranks[0][name], p.detach().numpy(), rtol=0, atol=1e-9, err_msg=name)
    assert (tmp_path / "ddp" / "run" / "last.json").exists()  # rank 0 wrote the checkpoint


def test_float32_torch_backend_close_to_numpy(torch, tmp_path):
    from rnnlab.backends.torch_train import TorchTrainer

    cfg = make_config(tmp_path, dtype="float32", steps=3)
    ref = Trainer(cfg, tmp_path / "numpy", **quiet())
    ref.run()
    run = TorchTrainer(cfg, tmp_path / "torch", device="cpu", **quiet())
    run.run()
    assert run.net.head.weight.dtype == torch.float32 and not run.amp
    np.testing.assert_allclose(losses(run), losses(ref), rtol=0, atol=1e-4)


@pytest.mark.gpu
def test_cuda_backend(torch, tmp_path):
    """On a GPU: float64 gives the NumPy losses; float32 with bfloat16 autocast trains."""
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    from rnnlab.backends.torch_train import TorchTrainer

    cfg = make_config(tmp_path)
    ref = Trainer(cfg, tmp_path / "numpy", **quiet())
    ref.run()
    run = TorchTrainer(cfg, tmp_path / "cuda64", device="cuda", **quiet())
    run.run()
    assert not run.amp and run.net.head.weight.is_cuda
    np.testing.assert_allclose(losses(run), losses(ref), rtol=0, atol=1e-9)
    amp = TorchTrainer(make_config(tmp_path, dtype="float32"), tmp_path / "cuda32", device="cuda", **quiet())
    assert amp.amp
    amp.run()
    assert np.all(np.isfinite(losses(amp))) and abs(losses(amp)[0] - losses(ref)[0]) < 0.05
    model, _, _ = load_model(tmp_path / "cuda32", "last")
    assert model.dtype == np.float32


def test_cli_train_with_the_torch_backend_then_sample_with_numpy(torch, tmp_path, capsys):
    from rnnlab.cli import main

    corpus = tmp_path / "tiny.txt"
    corpus.write_text("hello rnnlab, hello torch. " * 40, encoding="utf-8")
    run_dir = tmp_path / "run"
    assert main(["train", "--backend", "torch", "--device", "cpu", "--corpus", str(corpus), "--steps", "3",
                 "--hidden", "8", "--seq-len", "8", "--batch", "2", "--out", str(run_dir), "--no-progress"]) == 0
    assert (run_dir / "last.safetensors").exists() and (run_dir / "last.json").exists()
    capsys.readouterr()
    assert main(["sample", str(run_dir), "--length", "20", "--seed", "0", "--warmup", "0"]) == 0
    assert len(capsys.readouterr().out.strip()) > 0


def test_cli_device_needs_the_torch_backend(tmp_path, capsys):
    from rnnlab.cli import main

    assert main(["train", "--device", "cuda", "--steps", "1", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--backend torch" in err and "Traceback" not in err
