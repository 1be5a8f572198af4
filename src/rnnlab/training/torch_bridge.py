"""The one bridge between rnnlab's NumPy side and PyTorch during training: the device, the
``torch.optim`` twin of an rnnlab optimiser, and the copies of weights and optimiser state both
ways (what checkpoints, evaluation and sampling read lives on the NumPy side; the torch
backends of :class:`rnnlab.train.Trainer` and :func:`rnnlab.tasks.train_model` train on the
torch side)."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..i18n import say
from ..interop.pytorch import to_numpy, torch

# rnnlab optimiser name -> torch.optim class (same equations, same state names)
_TORCH_OPTIM = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
                "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


def match_threads() -> None:
    """PyTorch's intra-op threads: as many as rnnlab computes with (:mod:`rnnlab.threads`), so
    the two never fight over the cores."""
    from ..threads import get_threads

    torch.set_num_threads(get_threads())


def resolve_device(device) -> "torch.device":
    """``"cpu"``, ``"cuda"``, ``"cuda:1"`` … as a torch device; ConfigError if CUDA is asked for
    and absent."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ConfigError(say(f"--device: expected cpu or cuda[:N], got {device!r}",
                              f"--device : cpu ou cuda[:N] attendu, reçu {device!r}")) from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(say(f"--device {device}: expected a CUDA GPU, got none (torch {torch.__version__}, "
                              "CUDA not available); use --device cpu",
                              f"--device {device} : GPU CUDA attendu, aucun trouvé "
                              f"(torch {torch.__version__}, "
                              "CUDA indisponible) ; utiliser --device cpu"))
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(say(f"--device: expected cpu or cuda[:N], got {device!r}",
                              f"--device : cpu ou cuda[:N] attendu, reçu {device!r}"))
    return dev


def torch_optimizer_like(optimizer, module):
    """The ``torch.optim`` optimiser computing what rnnlab's ``optimizer`` computes, over
    ``module``'s parameters (same order as the rnnlab model's ``params``)."""
    name = optimizer.name
    hyper = {h: getattr(optimizer, h) for h in optimizer.hyper_names}
    if name == "adagrad" and hyper.pop("eps_inside_sqrt"):
        raise ConfigError(say("adagrad with eps inside the square root (min-char-rnn's) has no torch "
                              "counterpart",
                              "adagrad avec ε sous la racine (celui de min-char-rnn) n'a pas d'équivalent "
                              "torch"))
    if name not in _TORCH_OPTIM:
        raise ConfigError(say(f"optimizer {name!r}: no torch counterpart",
                              f"optimiseur {name!r} : pas d'équivalent torch"))
    return _TORCH_OPTIM[name](module.parameters(), **hyper)


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
        entry = {s: torch.tensor(table[name], device=p.device)
                 for s, table in optimizer.state.items() if name in table}
        if optimizer.name != "sgd":
            entry["step"] = torch.tensor(float(optimizer.steps))
        torch_optimizer.state[p] = entry
