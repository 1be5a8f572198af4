r"""The torch backend of the task commands (``rnnlab task``, ``sweep``, ``classify``,
``forecast``): :class:`TorchTaskJob`, the task job of the training engine on PyTorch.

What stays the same: the model (built by rnnlab from the seed, copied with
:func:`~rnnlab.interop.torch_models.seqmodel_to_torch`), the batches (``draw_batch`` with the
same ``numpy.random.Generator``), the loss of each kind (classifier and tagger: cross-entropy;
regressor and generator: MSE ``mean((ŷ − y)²)``), the clipping of the global gradient norm,
the optimiser (the ``torch.optim`` twin of :mod:`rnnlab.optim`), the test scores (computed by
``evaluate`` on the NumPy model after the torch weights are copied back) and the checkpoint
(the NumPy model, written as before). What changes: gradients come from autograd, the model
lives on ``device`` (cuDNN on a GPU), and with ``amp`` the forward runs in bfloat16 autocast.

``rnnlab.tasks.train_model(..., backend=Backend("torch", device, amp))`` trains with it (what
``--backend torch`` does).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..i18n import say
from ..interop.pytorch import load_into_torch, nn, torch, torch_dtype
from ..interop.torch_models import seqmodel_to_torch
from ..tasks import Backend, TaskJob
from ..tasks import train_model as tasks_train_model
from ..training.torch_bridge import (copy_back, match_threads, pull_optimizer_state, push_optimizer_state,
                                     resolve_device, torch_optimizer_like)

F = nn.functional


def _tensor(a, device, dtype=None):
    return torch.as_tensor(np.ascontiguousarray(a), device=device, dtype=dtype)


def torch_loss(net, x, y, lengths, device, ignore_index=-1):
    """The loss of :func:`rnnlab.tasks.loss_and_grad` for the torch model ``net`` (a scalar tensor)."""
    cfg, dtype = net.config, net.head.weight.dtype
    if cfg.kind == "generator":
        from ..seqmodels import SequenceGenerator

        target = _tensor(y, device, dtype)  # (T, B, K)
        out = net.forward_generator(_tensor(x, device, dtype),
                                    _tensor(SequenceGenerator.teacher_inputs(y), device, dtype))
        return F.mse_loss(out.to(dtype), target)
    out = net(_tensor(x, device, dtype), lengths).to(dtype)
    if cfg.kind == "tagger":
        K = out.shape[-1]
        target = _tensor(y, device, torch.int64)  # (T, B) or (B, T)
        return F.cross_entropy(out.reshape(-1, K), target.reshape(-1), ignore_index=ignore_index)
    if cfg.kind == "classifier":
        return F.cross_entropy(out, _tensor(y, device, torch.int64))
    return F.mse_loss(out, _tensor(y, device, dtype))


class TorchTaskJob(TaskJob):
    """:class:`rnnlab.tasks.TaskJob` with the gradients and updates in PyTorch.

    ``amp``: bfloat16 autocast of the forward (default: on for CUDA with float32 weights;
    refused on the CPU). ``checkpointed``: the run saves checkpoints (the weights and torch's
    optimiser buffers are copied into the NumPy model and rnnlab's optimiser before each save
    and evaluation, and back when resuming); refused with dropout, whose masks come from torch's
    generator, which a checkpoint does not hold.
    """

    def __init__(self, model, draw_batch, config, evaluate=None, *, device="cpu", amp=None,
                 checkpointed=False):
        device = resolve_device(device)
        match_threads()
        amp = ((device.type == "cuda" and torch_dtype(model.dtype) == torch.float32) if amp is None
               else bool(amp))
        if amp and device.type != "cuda":
            raise ConfigError(say("mixed precision (--amp) needs --device cuda",
                                  "la précision mixte (--amp) demande --device cuda"))
        if checkpointed and model.config.dropout > 0:
            raise ConfigError(say(f"checkpoints of the torch backend: dropout={model.config.dropout} "
                                  "draws its masks from torch's generator, which they do not hold; "
                                  "use --backend numpy",
                                  f"points de reprise du moteur torch : dropout={model.config.dropout} tire "
                                  "ses masques du générateur de torch, qu'ils ne gardent pas ; "
                                  "utiliser --backend numpy"))
        super().__init__(model, draw_batch, config, evaluate)  # rnnlab's optimiser: what checkpoints hold
        self.device, self.amp = device, amp
        self.net = seqmodel_to_torch(model, device).train()
        self.torch_optimizer = torch_optimizer_like(self.optimizer, self.net)
        self.steps_done = 0

    def train_step(self, run=None) -> dict:
        config = self.train_config
        self.net.train()
        x, y, lengths = self.draw_batch(self.rng, config.batch_size)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            loss = torch_loss(self.net, x, y, lengths, self.device)
        self.torch_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip_norm:
            nn.utils.clip_grad_norm_(self.net.parameters(), config.clip_norm)
        self.torch_optimizer.step()
        self.steps_done += 1
        return {"lr": config.lr, "train_loss": float(loss.detach())}

    def sync(self) -> None:
        """Weights and optimiser state into the NumPy model and optimiser (what evaluations and
        checkpoints read)."""
        copy_back(self.net, self.model)
        pull_optimizer_state(self.torch_optimizer, self.net, self.optimizer, self.steps_done)

    def restore(self, tensors, data, where) -> None:
        load_into_torch(self.net, self.model.params)
        self.steps_done = self.optimizer.steps
        push_optimizer_state(self.optimizer, self.torch_optimizer, self.net)


def train_model(model, draw_batch, config, evaluate=None, callback=None, *, checkpoint=None, device="cpu",
                amp=None):
    """:func:`rnnlab.tasks.train_model` on PyTorch (``backend=Backend("torch", device, amp)``): same
    arguments, same :class:`~rnnlab.training.History`; ``model`` (NumPy) holds the trained weights
    on return."""
    return tasks_train_model(model, draw_batch, config, evaluate, callback, checkpoint,
                             backend=Backend("torch", device, amp))
