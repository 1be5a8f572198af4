"""The character language model against PyTorch and min-char-rnn.

(a) training throughput, chars/s: the step ``rnnlab train`` runs (the training engine's
    ``Run.step_once`` over the language model's job) and the same model in PyTorch
    (nn.Embedding → nn.LSTM → nn.Dropout → nn.Linear, same sizes, AdamW, global-norm clipping, state carried),
    CPU, same thread count, medians of alternated rounds and their ratio, measured two ways (as
    ``bench_cells.py``): each library in its own worker process, torch with its default OpenMP
    settings, and both in this process with torch's OpenMP threads passive;
(b) with ``--minutes M``: validation loss (nats/char, Tiny Shakespeare, 90/10 split) after the
    default ``rnnlab train`` run of M minutes, and of the PyTorch model trained on the same
    batches with the same schedule for the same wall time (scored by the same function);
(c) min-char-rnn's configuration (vanilla RNN, H = 100, T = 25, B = 1, Adagrad lr 0.1, clip 5):
    the engine's step in that configuration, chars/s, and that of min-char-rnn's own algorithm (column vectors, one step at a
    time, re-implemented below as in Karpathy's gist) in the same run.

    python benchmarks/bench_charlm.py                 # (a) both ways and (c), about two minutes
    python benchmarks/bench_charlm.py --methods process --threads 1
    python benchmarks/bench_charlm.py --minutes 5     # and (b): 2 × 5 minutes more
"""

from __future__ import annotations

import argparse
import io
import os
from dataclasses import replace
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (Workers, blas_info, interleaved_medians, markdown_table, pin_threads,  # noqa: E402
                     print_table, serve)

from rnnlab.data.corpora import load_corpus  # noqa: E402
from rnnlab.data.text import StreamBatcher, Vocabulary, split_train_val  # noqa: E402
from rnnlab.models import CharLM  # noqa: E402
from rnnlab.optim import Schedule  # noqa: E402
from rnnlab.train import TIME_SCHEDULE_STEPS, TrainConfig, Trainer, evaluate, time_schedule_step  # noqa: E402


def shakespeare():
    text = load_corpus("shakespeare")
    vocab = Vocabulary.from_text(text)
    train_ids, val_ids = split_train_val(vocab.encode(text), 0.1)
    return vocab, train_ids, val_ids


# --- the PyTorch twin -------------------------------------------------------------------------


def torch_model(torch, model: CharLM):
    """nn.Embedding → nn.RNN/LSTM/GRU → nn.Dropout → nn.Linear with the weights of ``model`` (float32)."""
    nn = torch.nn
    cfg = model.config()

    class TorchCharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(cfg["vocab_size"], cfg["embedding_dim"])
            self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cfg["cell"]](
                cfg["embedding_dim"], cfg["hidden_size"], cfg["num_layers"])
            self.drop = nn.Dropout(cfg["dropout"])  # before the head, as CharLM's
            self.head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"])

        def forward(self, ids, state=None):
            h, state = self.rnn(self.embedding(ids), state)
            return self.head(self.drop(h)), state

    tm = TorchCharLM()
    tm.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in model.params.items()})
    return tm


def torch_step_fn(torch, tm, batcher, cfg: TrainConfig):
    """The twin's training step with ``cfg``'s optimiser (Adam or AdamW, its λ), lr and clipping."""
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[cfg.optimizer]
    opt = kind(tm.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    clip = cfg.clip_norm
    box = {"state": None}

    def step(lr_now=None):
        if batcher.position == 0:
            box["state"] = None
        x, y = batcher.next_batch()
        if lr_now is not None:
            for g in opt.param_groups:
                g["lr"] = lr_now
        logits, state = tm(torch.from_numpy(x), box["state"])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
        opt.zero_grad(set_to_none=False)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tm.parameters(), clip)
        opt.step()
        box["state"] = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        return loss.item()

    return step


def engine_step_fn(cfg: TrainConfig):
    """The step ``rnnlab train`` runs: the training engine's :meth:`rnnlab.training.Run.step_once`
    over the language model's job (batch, loss, BPTT, clipping, schedule, AdamW, history row)."""
    import tempfile

    from rich.console import Console

    trainer = Trainer(cfg, Path(tempfile.mkdtemp(prefix="bench-charlm-")) / "run",
                      console=Console(file=io.StringIO()), progress=False)
    return trainer, (lambda: trainer.engine.step_once()["train_loss"])


# --- (a) throughput -------------------------------------------------------------------------------


METHODS = {"process": "own processes", "interleaved": "one process, torch passive"}


def default_model() -> TrainConfig:
    """``rnnlab train``'s default model, with a budget that never ends."""
    return replace(TrainConfig(), steps=10**9, minutes=0)


def rnnlab_lm_step(cfg: TrainConfig):
    return engine_step_fn(cfg)[1]


def torch_lm_step(cfg: TrainConfig):
    """The PyTorch twin's training step, from the same initial weights as the engine's model."""
    import torch

    vocab, train_ids, _ = shakespeare()
    model = CharLM(vocab.size, cfg.cell, cfg.hidden_size, cfg.num_layers, cfg.embedding_dim, cfg.dropout,
                   seed=cfg.seed)
    return torch_step_fn(torch, torch_model(torch, model), StreamBatcher(train_ids, cfg.batch_size, cfg.seq_len), cfg)


def worker(lib, threads):
    """A worker process (:func:`_common.serve`): times the default model's step of one library."""
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
    else:
        pin_threads(threads, torch_too=False)
    serve(lambda request: (torch_lm_step if lib == "torch" else rnnlab_lm_step)(default_model()))


def throughput(cfg: TrainConfig, rounds: int, method: str, workers=None):
    """chars/s of each library's training step of ``cfg``'s model: medians of ``rounds``
    alternated rounds, each library in its own worker process (``method="process"``) or both in
    this process (``"interleaved"``, torch's OpenMP threads passive)."""
    if method == "process":
        seconds = workers.medians({"min_seconds": 1.0}, rounds)
    else:
        fns = {"rnnlab": rnnlab_lm_step(cfg), "torch": torch_lm_step(cfg)}
        for fn in fns.values():  # warm-up
            fn()
            fn()
        seconds = interleaved_medians(fns, rounds, min_seconds=1.0)
    chars = cfg.batch_size * cfg.seq_len
    return {name: chars / s for name, s in seconds.items()}


# --- (c) min-char-rnn -------------------------------------------------------------------------------


def min_char_rnn_step_fn(data_ids, V, H=100, T=25, lr=0.1, seed=0):
    """min-char-rnn's algorithm line for line as in the gist (``np.dot`` on one-hot column
    vectors, a Python loop over the T steps forward and backward, clip to [−5, 5], Adagrad with
    eps 1e-8), without its printing and sampling every 100 iterations."""
    rng = np.random.default_rng(seed)
    Wxh, Whh, Why = (rng.standard_normal(s) * 0.01 for s in ((H, V), (H, H), (V, H)))
    bh, by = np.zeros((H, 1)), np.zeros((V, 1))
    params = [Wxh, Whh, Why, bh, by]
    mem = [np.zeros_like(p) for p in params]
    box = {"p": 0, "h": np.zeros((H, 1))}

    def step():
        p = box["p"]
        if p + T + 1 >= len(data_ids):
            p, box["h"] = 0, np.zeros((H, 1))
        inputs, targets = data_ids[p:p + T], data_ids[p + 1:p + T + 1]
        xs, hs, ps = {}, {-1: box["h"]}, {}
        loss = 0.0
        for t in range(T):
            xs[t] = np.zeros((V, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
            ys = np.dot(Why, hs[t]) + by
            ps[t] = np.exp(ys) / np.sum(np.exp(ys))
            loss += -np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby, dhnext = np.zeros_like(bh), np.zeros_like(by), np.zeros_like(hs[0])
        for t in reversed(range(T)):
            dy = np.copy(ps[t])
            dy[targets[t]] -= 1
            dWhy += np.dot(dy, hs[t].T)
            dby += dy
            dh = np.dot(Why.T, dy) + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            dWhh += np.dot(dhraw, hs[t - 1].T)
            dhnext = np.dot(Whh.T, dhraw)
        for d in (dWxh, dWhh, dWhy, dbh, dby):
            np.clip(d, -5, 5, out=d)
        for prm, d, m in zip(params, (dWxh, dWhh, dWhy, dbh, dby), mem):
            m += d * d
            prm += -lr * d / np.sqrt(m + 1e-8)
        box["h"], box["p"] = hs[T - 1], p + T
        return loss

    return step


def min_char_rnn_config(rounds: int):
    """min-char-rnn's configuration through ``rnnlab train``'s step: vanilla RNN, H = 100, T = 25,
    B = 1, Adagrad lr 0.1, float64 as the gist, one-hot-sized embedding (E = V), no dropout (the gist
    has none; ``rnnlab train``'s default is 0.2). One difference: the engine clips the global
    gradient norm at 5 where the gist clips each value to [−5, 5] (both one pass over the gradients)."""
    vocab, train_ids, _ = shakespeare()
    V, H, T = vocab.size, 100, 25
    cfg = TrainConfig(cell="rnn", hidden_size=H, seq_len=T, batch_size=1, embedding_dim=V, optimizer="adagrad",
                      lr=0.1, clip_norm=5.0, dtype="float64", dropout=0.0, steps=10**9, minutes=0,
                      warmup_steps=0, decay="none")
    _, ours = engine_step_fn(cfg)
    fns = {"rnnlab": ours, "min-char-rnn": min_char_rnn_step_fn(train_ids, V, H, T)}
    for fn in fns.values():
        fn()
    seconds = interleaved_medians(fns, rounds, min_seconds=1.0)
    return {name: T / s for name, s in seconds.items()}


# --- (b) quality after the default budget -------------------------------------------------------------


def quality(minutes: float):
    import torch

    cfg = TrainConfig(minutes=minutes)
    from rich.console import Console

    run_dir = Path("runs") / f"bench-default-{time.strftime('%Y%m%d-%H%M%S')}"
    result = Trainer(cfg, run_dir, console=Console(file=io.StringIO()), progress=False).run()
    # the PyTorch model: same initial weights, batches, schedule (by the fraction of time), clipping
    vocab, train_ids, val_ids = shakespeare()
    model = CharLM(vocab.size, cfg.cell, cfg.hidden_size, cfg.num_layers, cfg.embedding_dim, cfg.dropout, seed=cfg.seed)
    tm = torch_model(torch, model)
    step = torch_step_fn(torch, tm, StreamBatcher(train_ids, cfg.batch_size, cfg.seq_len), cfg)
    schedule = Schedule(cfg.lr, cfg.warmup_steps, cfg.decay, total_steps=TIME_SCHEDULE_STEPS, min_lr=cfg.lr * cfg.min_lr_ratio)
    start, n, warmed, W = time.perf_counter(), 0, 0.0, cfg.warmup_steps
    while (elapsed := time.perf_counter() - start) < 60 * minutes:
        if n == W:
            warmed = elapsed  # the clock at the end of the warm-up, as the Trainer's schedule reads it
        step(schedule.lr_at(n if n < W else time_schedule_step(elapsed, warmed, 60 * minutes, W)))
        n += 1
    model.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    torch_val = evaluate(model, val_ids, batch_size=cfg.batch_size, seq_len=max(cfg.seq_len, 128))
    return result, torch_val, n


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=0.0, help="(b): train for M minutes (default: skip)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="threads for NumPy's BLAS and torch (default: BLAS's)")
    parser.add_argument("--methods", default="process,interleaved",
                        help="(a) measured with each library in its own process (process), in one process with "
                             "torch's threads passive (interleaved), or both (the default)")
    parser.add_argument("--worker", choices=["rnnlab", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.threads or blas_info().threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods or any(m not in METHODS for m in methods):
        parser.error(f"--methods: expected names among {sorted(METHODS)}, got {args.methods!r}")
    user_env = dict(os.environ)  # the workers run torch as the user has it
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # before torch is imported (this process only)
    threads = pin_threads(args.threads)
    info = blas_info()
    cfg = default_model()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"threads {threads} · BLAS {info.name} {info.core} (OPENBLAS_CORETYPE={info.coretype_env or 'unset'}) · "
          f"default model {cfg.cell.upper()} {cfg.num_layers}×{cfg.hidden_size}, E={cfg.embedding_dim}, "
          f"T={cfg.seq_len}, B={cfg.batch_size}, float32 · load average {load}")
    rows = []
    for method in methods:
        workers = Workers(__file__, ("rnnlab", "torch"), threads, user_env) if method == "process" else None
        try:
            cps = throughput(cfg, args.rounds, method, workers)
        finally:
            if workers:
                workers.close()
        rows.append([f"(a) training chars/s, default model ({METHODS[method]})", "rnnlab", f"{cps['rnnlab']:,.0f}",
                     f"{cps['rnnlab'] / cps['torch']:.2f}× torch ({cps['torch']:,.0f})"])
    mc = min_char_rnn_config(args.rounds)
    rows.append(["(c) min-char-rnn config (RNN H=100 T=25 B=1, Adagrad; one process)", "rnnlab",
                 f"{mc['rnnlab']:,.0f}",
                 f"{mc['rnnlab'] / mc['min-char-rnn']:.2f}× min-char-rnn ({mc['min-char-rnn']:,.0f})"])
    if args.minutes > 0:
        result, torch_val, torch_steps = quality(args.minutes)
        rows.append([f"(b) validation nats/char after {args.minutes:g} min", "rnnlab", f"{result.val_loss:.4f}",
                     f"{result.step} steps; torch {torch_val:.4f} ({torch_steps} steps)"])
    columns = ["measure", "who", "value", "comparison (same run)"]
    print_table("rnnlab CharLM benchmark", columns, rows, caption="medians of alternated rounds; CPU")
    print(markdown_table(columns, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
