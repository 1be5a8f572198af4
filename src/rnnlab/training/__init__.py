"""The one training engine (:mod:`rnnlab.training.run`): a :class:`Run` trains a job (the
language model's :class:`rnnlab.train.Trainer`, a sequence task's :class:`rnnlab.tasks.TaskJob`)
within a :class:`Budget`, with one history format (:mod:`rnnlab.training.history`), one
checkpoint format (:class:`RunFolder`, told apart by ``kind``), exact resume, Ctrl-C and the
divergence stop; :mod:`rnnlab.training.torch_bridge` is the one bridge to PyTorch's side."""

from .history import History
from .run import (FORMAT, VERSION, Budget, Diverged, Progress, Run, RunFolder, TrainingInterrupted, load_run,
                  save_run)

__all__ = ["Budget", "Diverged", "FORMAT", "History", "Progress", "Run", "RunFolder", "TrainingInterrupted",
           "VERSION", "load_run", "save_run"]
