r"""The torch backend of ``rnnlab train``: :class:`TorchTrainer`, the NumPy trainer's loop on PyTorch.

What stays the same as :class:`rnnlab.train.Trainer` (it is a subclass): the corpus, vocabulary,
split and stream batcher; the learning-rate schedule and the gradient clipping (torch's
``clip_grad_norm_`` is rnnlab's ``clip_grad_norm``); the optimiser's equations and
hyperparameters (``torch.optim`` twins of :mod:`rnnlab.optim`, same state names); the
initial weights (drawn by rnnlab from the config's seed, then copied); the checkpoint files
(``last``/``best`` ``.safetensors`` + ``.json``, keys ``embedding.weight``, ``rnn.…``,
``head.…``, optimiser state in rnnlab's layout). So a run trained here samples and resumes
with the NumPy backend and the other way round.

What changes: the model is :class:`~rnnlab.interop.torch_models.TorchCharLM` on ``device``
(cuDNN's LSTM/GRU kernels on a GPU), gradients come from autograd, and on a GPU with float32
weights the forward runs in bfloat16 autocast (``amp``; the loss and the weights stay float32).
Recurrent dropout and the layer-normalised LSTM exist only in the NumPy backend: asking for
them here is a ConfigError. Dropout masks come from torch's generator (seeded from the config's
seed and the rank when the trainer is built), so with dropout the two backends draw different
masks, and a resumed run draws a fresh stream.

Data parallel (``torchrun --nproc_per_node=N``, PyTorch DistributedDataParallel, NCCL on GPUs
and gloo on CPUs): every rank reads the same global batch of B streams and keeps its B/N
columns; DDP averages the gradients, so one step equals a single-process step on the global
batch. Rank 0 alone evaluates, samples and writes checkpoints and reports.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import ConfigError
from ..i18n import integer, say
from ..interop.pytorch import load_into_torch, nn, to_numpy, to_torch, torch
from ..train import Trainer, validation_streams
from ..training import Diverged
from ..training.torch_bridge import (copy_back, match_threads, pull_optimizer_state, push_optimizer_state,
                                     resolve_device, torch_optimizer_like)

F = nn.functional

def refuse_numpy_only_options(config):
    """ConfigError for the options torch's recurrent layers (cuDNN's kernels) do not have:
    ``recurrent_dropout`` and ``layer_norm`` (rather than silently training another model)."""
    wanted = [f"--{name.replace('_', '-')} ({name}={getattr(config, name)})"
              for name in ("recurrent_dropout", "layer_norm") if getattr(config, name)]
    if wanted:
        raise ConfigError(say(f"--backend torch: no PyTorch counterpart for {' and '.join(wanted)} "
                              "(torch's RNN, LSTM and GRU have neither recurrent dropout nor layer "
                              "normalisation); train with --backend numpy, or without these options",
                              f"--backend torch : pas d'équivalent PyTorch pour {' et '.join(wanted)} "
                              "(les RNN, LSTM et GRU de torch n'ont ni « dropout » récurrent ni "
                              "normalisation par couche) ; entraîner avec --backend numpy, ou sans ces "
                              "options"))


class Distributed:
    """Where this process stands in a ``torchrun`` job (rank, world size), from the environment."""

    def __init__(self, rank=0, world_size=1, local_rank=0, owns_group=False):
        self.rank, self.world_size, self.local_rank = rank, world_size, local_rank
        self.owns_group = owns_group  # this process made the process group: it closes it

    @classmethod
    def from_env(cls, device):
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch.distributed as dist

        owns = not dist.is_initialized()
        if owns:
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), owns)

    def close(self):
        """Wait for every rank, then close the process group this process made (a process that
        exits with gloo's threads still running aborts: "terminate called without an active
        exception")."""
        if self.world_size > 1:
            import torch.distributed as dist

            dist.barrier()
            if self.owns_group:
                dist.destroy_process_group()
                self.owns_group = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


class TorchTrainer(Trainer):
    """:class:`rnnlab.train.Trainer` with the model, gradients and updates in PyTorch.

    ``device``: ``"cpu"`` or ``"cuda[:N]"`` (under ``torchrun`` on GPUs, each rank takes
    ``cuda:LOCAL_RANK``). ``amp``: bfloat16 autocast of the forward (default: on for CUDA with
    float32 weights).
    """

    backend = "torch"

    def __init__(self, config, run_dir, *, device="cpu", amp=None, **kwargs):
        refuse_numpy_only_options(config)
        super().__init__(config, run_dir, **kwargs)
        device = resolve_device(device)
        match_threads()
        self.dist = Distributed.from_env(device)
        if device.type == "cuda" and self.dist.world_size > 1:
            device = torch.device("cuda", self.dist.local_rank)
        self.device = device
        if config.batch_size % self.dist.world_size:
            raise ConfigError(say(f"--batch-size {config.batch_size}: expected a multiple of the "
                                  f"{self.dist.world_size} processes",
                                  f"--batch-size {config.batch_size} : multiple des "
                                  f"{self.dist.world_size} processus attendu"))
        self.amp = (device.type == "cuda" and config.dtype == "float32") if amp is None else bool(amp)
        if self.amp and device.type != "cuda":
            raise ConfigError(say("mixed precision (amp) needs --device cuda",
                                  "la précision mixte (amp) demande --device cuda"))
        if not self.dist.is_main:  # only rank 0 speaks
            from rich.console import Console

            self.console, self.show_progress = Console(quiet=True), False
            self.engine.progress = None
        torch.manual_seed(config.seed * 1000 + self.dist.rank)  # dropout masks: torch's generator
        self.net = to_torch(self.model, device).train()
        self.ddp = self.net
        if self.dist.world_size > 1:
            self.ddp = nn.parallel.DistributedDataParallel(
                self.net, device_ids=[device.index] if device.type == "cuda" else None)
        self.torch_optimizer = torch_optimizer_like(self.optimizer, self.net)
        self._carry = None  # the hidden state carried between batches, on the device
        self._synced_step = None  # the step whose state pull() copied to the NumPy side
        self.is_main = self.dist.is_main

    # --- one step (steps 1–5 of rnnlab.train), in torch ---------------------------------------

    def _local(self, ids):
        """This rank's columns of a global (T, B) batch, as a tensor on the device."""
        per = ids.shape[1] // self.dist.world_size
        part = ids[:, self.dist.rank * per:(self.dist.rank + 1) * per]
        return torch.from_numpy(np.ascontiguousarray(part)).to(self.device, torch.int64)

    def train_step(self, run=None) -> dict:
        if self.batcher.position == 0:
            self._carry = None
        epoch = self._epoch()
        inputs, targets = self.batcher.next_batch()  # (T, B) global
        x, y = self._local(inputs), self._local(targets)  # (T, B/N)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            logits, carry = self.ddp(x, self._carry)  # (T, B/N, V)
        logits = logits.to(self.net.head.weight.dtype)  # bfloat16 under amp -> the weights' dtype
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.torch_optimizer.zero_grad(set_to_none=True)
        loss.backward()  # DDP: gradients averaged over the ranks here
        loss_value = loss.detach()
        if self.dist.world_size > 1:
            import torch.distributed as dist

            dist.all_reduce(loss_value)
            loss_value /= self.dist.world_size
        loss_value = float(loss_value)
        lr = self.learning_rate()
        if not math.isfinite(loss_value):
            return self._row(epoch, lr, loss_value)  # the engine stops the run
        norm = float(nn.utils.clip_grad_norm_(self.net.parameters(), self.config.clip_norm))
        if not math.isfinite(norm):
            raise Diverged(say(f"the gradient norm is {norm} at step {self.step + 1}",
                               f"la norme du gradient vaut {norm} au pas {integer(self.step + 1)}"))
        for group in self.torch_optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.lr = lr
        self.torch_optimizer.step()
        self._carry = tuple(s.detach() for s in carry) if isinstance(carry, tuple) else carry.detach()
        self._synced_step = None
        return self._row(epoch, lr, loss_value)

    # --- NumPy side: weights, optimiser state and carry, both ways ------------------------------

    def pull(self):
        """Copy the torch weights, optimiser state and carried state into the NumPy model,
        optimiser and ``carry`` (what checkpoints, evaluation and sampling read)."""
        copy_back(self.net, self.model)
        pull_optimizer_state(self.torch_optimizer, self.net, self.optimizer, self.step)
        if self._carry is not None:
            parts = self._carry if isinstance(self._carry, tuple) else (self._carry,)
            full = [self._gather_columns(p) for p in parts]
            self.carry = tuple(full) if len(full) == 2 else full[0]

    def push(self):
        """The inverse of :meth:`pull` (after :meth:`restore` read a checkpoint into NumPy)."""
        load_into_torch(self.net, self.model.params)
        push_optimizer_state(self.optimizer, self.torch_optimizer, self.net)
        self._carry = None
        if self.carry is not None:
            parts = self.carry if isinstance(self.carry, tuple) else (self.carry,)
            per = self.config.batch_size // self.dist.world_size
            local = [torch.tensor(np.asarray(c)[:, self.dist.rank * per:(self.dist.rank + 1) * per],
                                  device=self.device) for c in parts]
            self._carry = tuple(local) if len(local) == 2 else local[0]

    def _gather_columns(self, part):
        """The global (L, B, H) carried state from every rank's (L, B/N, H)."""
        if self.dist.world_size == 1:
            return to_numpy(part)
        import torch.distributed as dist

        pieces = [torch.empty_like(part) for _ in range(self.dist.world_size)]
        dist.all_gather(pieces, part.contiguous())
        return to_numpy(torch.cat(pieces, dim=1))

    def restore(self, tensors, data, where):
        super().restore(tensors, data, where)
        self.push()

    def sync(self):
        """:meth:`pull`, once per step (under torchrun it is collective: every rank calls it at
        each evaluation, before rank 0 alone saves)."""
        if self._synced_step != self.step:
            self.pull()
            self._synced_step = self.step

    # --- evaluation, samples, checkpoints: rank 0, on the NumPy side -----------------------------

    def validate(self) -> float:
        """Validation loss computed with the torch model (eval mode, no dropout), same streams
        as :func:`rnnlab.train.evaluate`; NaN on the ranks other than 0."""
        if not self.dist.is_main:
            return float("nan")
        cfg = self.config
        ids = self.val_ids[: cfg.eval_chars + 1] if cfg.eval_chars else self.val_ids
        B = validation_streams(len(ids) - 1)
        L = (len(ids) - 1) // B
        inputs = torch.from_numpy(np.ascontiguousarray(ids[: B * L].reshape(B, L).T))
        targets = torch.from_numpy(np.ascontiguousarray(ids[1: B * L + 1].reshape(B, L).T))
        inputs, targets = inputs.to(self.device, torch.int64), targets.to(self.device, torch.int64)
        seq_len, total, state = max(cfg.seq_len, 128), 0.0, None
        self.net.eval()
        try:
            with torch.no_grad(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
                for k in range(0, L, seq_len):
                    logits, state = self.net(inputs[k:k + seq_len], state)
                    logits = logits.to(self.net.head.weight.dtype)
                    total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                   targets[k:k + seq_len].reshape(-1), reduction="sum"))
        finally:
            self.net.train()
        return total / (B * L)

    # --- decisions that read the clock: rank 0's, on every rank -------------------------------

    def agree(self, decision: bool) -> bool:
        """Rank 0's decision (budget left, evaluation due) for every rank."""
        if self.dist.world_size == 1:
            return decision
        import torch.distributed as dist

        flag = torch.tensor([1.0 if decision else 0.0], device=self.device)
        dist.broadcast(flag, src=0)
        return bool(flag.item())

    def learning_rate(self) -> float:
        """η of the schedule; with a time budget, rank 0's clock decides for every rank."""
        lr = super().learning_rate()
        if self.dist.world_size == 1 or self.config.budget_is_steps:
            return lr
        import torch.distributed as dist

        value = torch.tensor([lr], dtype=torch.float64, device=self.device)
        dist.broadcast(value, src=0)
        return float(value.item())

    def run(self):
        try:
            return super().run()
        finally:
            self.dist.close()
