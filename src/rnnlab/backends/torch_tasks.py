r"""The torch backend of the task commands (``rnnlab task``, ``sweep``, ``classify``,
``forecast``): :func:`train_model`, the loop of :func:`rnnlab.tasks.train_model` on PyTorch.

What stays the same: the model (built by rnnlab from the seed, copied with
:func:`~rnnlab.interop.torch_models.seqmodel_to_torch`), the batches (``draw_batch`` with the
same ``numpy.random.Generator``), the loss of each kind (classifier and tagger: cross-entropy;
regressor and generator: MSE ``mean((ŷ − y)²)``), the clipping of the global gradient norm,
the optimiser (the ``torch.optim`` twin of :mod:`rnnlab.optim`), the test scores (computed by
``evaluate`` on the NumPy model after the torch weights are copied back) and the checkpoint
(the NumPy model, written as before). What changes: gradients come from autograd, the model
lives on ``device`` (cuDNN on a GPU), and with ``amp`` the forward runs in bfloat16 autocast.

:func:`active` makes every :func:`rnnlab.tasks.train_model` call inside a ``with`` block use
this loop (what ``--backend torch`` does).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..errors import ConfigError
from ..i18n import say
from ..interop.pytorch import nn, to_numpy, torch, torch_dtype
from ..interop.torch_models import seqmodel_to_torch
from ..optim import make_optimizer
from .torch_train import resolve_device, torch_optimizer_like

F = nn.functional


def _tensor(a, device, dtype=None):
    return torch.as_tensor(np.ascontiguousarray(a), device=device, dtype=dtype)


def torch_loss(net, x, y, lengths, device, ignore_index=-1):
    """The loss of :func:`rnnlab.tasks.loss_and_grad` for the torch model ``net`` (a scalar tensor)."""
    cfg, dtype = net.config, net.head.weight.dtype
    if cfg.kind == "generator":
        from ..seqmodels import SequenceGenerator

        target = _tensor(y, device, dtype)  # (T, B, K)
        out = net.forward_generator(_tensor(x, device, dtype), _tensor(SequenceGenerator.teacher_inputs(y), device, dtype))
        return F.mse_loss(out.to(dtype), target)
    out = net(_tensor(x, device, dtype), lengths).to(dtype)
    if cfg.kind == "tagger":
        K = out.shape[-1]
        target = _tensor(y, device, torch.int64)  # (T, B) or (B, T)
        return F.cross_entropy(out.reshape(-1, K), target.reshape(-1), ignore_index=ignore_index)
    if cfg.kind == "classifier":
        return F.cross_entropy(out, _tensor(y, device, torch.int64))
    return F.mse_loss(out, _tensor(y, device, dtype))


def copy_back(net, model):
    """Write the torch weights into the NumPy model's live arrays (what ``evaluate`` and the
    checkpoint read)."""
    for name, p in net.named_parameters():
        np.copyto(model.params[name], to_numpy(p), casting="unsafe")


def train_model(model, draw_batch, config, evaluate=None, callback=None, *, device="cpu", amp=None):
    """:func:`rnnlab.tasks.train_model` on PyTorch: same arguments, same :class:`History`;
    ``model`` (NumPy) holds the trained weights on return.

    ``amp``: bfloat16 autocast of the forward (default: on for CUDA with float32 weights;
    refused on the CPU).
    """
    from ..tasks import History, record_step

    device = resolve_device(device)
    amp = (device.type == "cuda" and torch_dtype(model.dtype) == torch.float32) if amp is None else bool(amp)
    if amp and device.type != "cuda":
        raise ConfigError(say("mixed precision (--amp) needs --device cuda", "la précision mixte (--amp) demande --device cuda"))
    rng = np.random.default_rng(config.seed)
    net = seqmodel_to_torch(model, device).train()
    optimizer = torch_optimizer_like(make_optimizer(config.optimizer, model.params, lr=config.lr), net)
    history = History()
    for step in range(1, config.steps + 1):
        net.train()
        x, y, lengths = draw_batch(rng, config.batch_size)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = torch_loss(net, x, y, lengths, device)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip_norm:
            nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
        optimizer.step()
        loss = float(loss.detach())
        if not record_step(history, model, step, loss, config, evaluate, callback,
                           before_eval=lambda: copy_back(net, model)):
            break
    copy_back(net, model)
    model.eval()
    return history


@contextlib.contextmanager
def active(device="cpu", amp=None):
    """Inside the block, :func:`rnnlab.tasks.train_model` trains with this backend."""
    from .. import tasks

    resolve_device(device)  # a clear error before any data is prepared
    token = tasks.TRAINING_LOOP.set(lambda *a, **k: train_model(*a, **k, device=device, amp=amp))
    try:
        yield
    finally:
        tasks.TRAINING_LOOP.reset(token)
