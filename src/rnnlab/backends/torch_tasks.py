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


def pull_optimizer_state(torch_optimizer, net, optimizer, steps):
    """Copy the buffers of ``torch_optimizer`` (over ``net``) into rnnlab's ``optimizer``, whose
    state names are torch's (what checkpoints hold); ``steps`` updates done."""
    state = {s: {} for s in optimizer.state_names}
    for name, p in net.named_parameters():
        for s, value in torch_optimizer.state.get(p, {}).items():
            if s in state and torch.is_tensor(value):
                state[s][name] = to_numpy(value)
    optimizer.load_state_dict(dict(optimizer.state_dict(), steps=steps, state=state))


def push_optimizer_state(optimizer, torch_optimizer, net):
    """The inverse of :func:`pull_optimizer_state` (after a checkpoint was read into ``optimizer``)."""
    if not optimizer.steps:  # a fresh optimiser keeps torch's own initial state (Adagrad's sums)
        return
    torch_optimizer.state.clear()
    for name, p in net.named_parameters():
        entry = {s: torch.tensor(table[name], device=p.device) for s, table in optimizer.state.items() if name in table}
        if optimizer.name != "sgd":
            entry["step"] = torch.tensor(float(optimizer.steps))
        torch_optimizer.state[p] = entry


def train_model(model, draw_batch, config, evaluate=None, callback=None, *, checkpoint=None, device="cpu", amp=None):
    """:func:`rnnlab.tasks.train_model` on PyTorch: same arguments, same :class:`~rnnlab.taskrun.History`;
    ``model`` (NumPy) holds the trained weights on return.

    ``amp``: bfloat16 autocast of the forward (default: on for CUDA with float32 weights;
    refused on the CPU). ``checkpoint``: the same checkpoints as the NumPy loop (the weights and
    torch's optimiser buffers are copied into the NumPy model and rnnlab's optimiser before each
    save, and back when resuming); refused with dropout, whose masks come from torch's generator,
    which a checkpoint does not hold.
    """
    from ..taskrun import TrainingRun

    device = resolve_device(device)
    amp = (device.type == "cuda" and torch_dtype(model.dtype) == torch.float32) if amp is None else bool(amp)
    if amp and device.type != "cuda":
        raise ConfigError(say("mixed precision (--amp) needs --device cuda", "la précision mixte (--amp) demande --device cuda"))
    if checkpoint is not None and model.config.dropout > 0:
        raise ConfigError(say(f"checkpoints of the torch backend: dropout={model.config.dropout} draws its masks from "
                              "torch's generator, which they do not hold; use --backend numpy",
                              f"points de reprise du backend torch : dropout={model.config.dropout} tire ses masques du "
                              "générateur de torch, qu'ils ne gardent pas ; utiliser --backend numpy"))
    rng = np.random.default_rng(config.seed)
    optimizer = make_optimizer(config.optimizer, model.params, lr=config.lr)  # rnnlab's twin: what checkpoints hold
    run = TrainingRun(model, optimizer, rng, config, checkpoint)  # restores model, optimizer, rng when resuming
    net = seqmodel_to_torch(model, device).train()
    torch_optimizer = torch_optimizer_like(optimizer, net)
    push_optimizer_state(optimizer, torch_optimizer, net)

    def sync():
        copy_back(net, model)
        pull_optimizer_state(torch_optimizer, net, optimizer, run.step)

    run.sync = sync

    def one_step():
        net.train()
        x, y, lengths = draw_batch(rng, config.batch_size)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = torch_loss(net, x, y, lengths, device)
        torch_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip_norm:
            nn.utils.clip_grad_norm_(net.parameters(), config.clip_norm)
        torch_optimizer.step()
        return float(loss.detach())

    run.loop(one_step, evaluate, callback, before_eval=lambda: copy_back(net, model))
    copy_back(net, model)
    model.eval()
    return run.history


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
