"""Run by tests/test_backend_torch.py under ``torchrun --nproc_per_node=2`` (gloo, CPU): a few
data-parallel steps of the torch backend, then every rank writes its weights and losses."""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from rich.console import Console

from rnnlab.backends.torch_train import TorchTrainer
from rnnlab.interop.pytorch import to_numpy
from rnnlab.train import TrainConfig


def main(out, config_json):
    torch.set_num_threads(1)
    config = TrainConfig(**json.loads(config_json))
    trainer = TorchTrainer(config, Path(out) / "run", device="cpu", console=Console(quiet=True), progress=False)
    trainer.run()
    rank = trainer.dist.rank
    np.savez(Path(out) / f"rank{rank}.npz", **{k: to_numpy(p) for k, p in trainer.net.named_parameters()})
    losses = [r["train_loss"] for r in trainer.history]
    (Path(out) / f"rank{rank}.json").write_text(json.dumps({"losses": losses, "world": trainer.dist.world_size}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
