"""Training backends. The NumPy backend is :class:`rnnlab.train.Trainer` itself;
:mod:`rnnlab.backends.torch_train` runs the same loop (same data, schedule and checkpoint
format) with PyTorch on a CPU or a GPU, and data-parallel under ``torchrun``."""

BACKENDS = ("numpy", "torch")


def trainer_class(backend: str):
    """The trainer class of a backend name (``"numpy"`` or ``"torch"``)."""
    from ..errors import ConfigError
    from ..i18n import say

    if backend == "numpy":
        from ..train import Trainer

        return Trainer
    if backend == "torch":
        from .torch_train import TorchTrainer

        return TorchTrainer
    raise ConfigError(say(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}",
                          f"moteur : l'un de {', '.join(BACKENDS)} attendu, reçu « {backend} »"))
