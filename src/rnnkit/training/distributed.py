"""Data-parallel training through torch.distributed: one process per device, launched by torchrun.

Every process holds a full copy of the model and takes its own shard of each batch; after the
backward pass DistributedDataParallel averages the gradients, so every copy makes the same
update. Process 0 alone writes checkpoints, config.json and metrics.jsonl. On CPU the processes
talk over gloo, on GPUs over NCCL. torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT; `init_distributed` reads them.

Every process is seeded with the same seed, so all start from the same weights (DDP also
broadcasts process 0's) and draw the same dropout masks for their different examples. A
checkpoint holds process 0's RNG and carried state, which every process restores: exact
resume is guaranteed for single-process CPU runs, not for several processes.

References:
    Li et al. 2020, "PyTorch Distributed: Experiences on Accelerating Data Parallel Training",
    https://arxiv.org/abs/2006.15704
    https://pytorch.org/docs/stable/elastic/run.html (torchrun)
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from rnnkit.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DistributedContext:
    """Where this process sits: rank r of W processes, and its device."""

    rank: int = 0
    world_size: int = 1  # W
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """True on the process that writes files and logs (rank 0)."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        """True when W > 1."""
        return self.world_size > 1


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """ "cpu", "cuda" (the local rank's GPU) or "auto" (cuda when available)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device 'cuda' was asked for, but CUDA is not available; use cpu")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device(name)


def init_distributed(device: str = "auto") -> DistributedContext:
    """Join the process group torchrun set up (WORLD_SIZE > 1), else a single-process context.

    The backend is NCCL when the device is a GPU and gloo otherwise. Calling it again once the
    group exists returns the context without initialising twice.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if world_size <= 1 and not dist.is_initialized():
        return DistributedContext(device=resolved)
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if resolved.type == "cuda" else "gloo")
        logger.info("process %d of %d joined (%s)", dist.get_rank(), world_size, resolved)
    return DistributedContext(
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=local_rank,
        device=resolved,
    )


def current_context(device: str = "auto") -> DistributedContext:
    """The context of an already initialised process group, or a single-process one."""
    if dist.is_available() and dist.is_initialized():
        return init_distributed(device)
    return DistributedContext(device=resolve_device(device))


def wrap_model(model: nn.Module, context: DistributedContext) -> nn.Module:
    """DistributedDataParallel(model) when W > 1, else the model itself."""
    if not context.is_distributed:
        return model
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def no_sync(model: nn.Module, skip: bool) -> contextlib.AbstractContextManager[None]:
    """Skip DDP's gradient all-reduce for a micro-batch that is not the last of an update."""
    if skip and isinstance(model, DistributedDataParallel):
        return model.no_sync()
    return contextlib.nullcontext()


def all_reduce_sum(values: list[float], context: DistributedContext) -> list[float]:
    """Σ over processes of each number (float64); the numbers themselves when W = 1."""
    if not context.is_distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=context.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def broadcast_values(values: list[float], context: DistributedContext) -> list[float]:
    """Process 0's numbers on every process, so that all take the same decisions."""
    if not context.is_distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=context.device)
    dist.broadcast(tensor, src=0)
    return tensor.tolist()


def barrier(context: DistributedContext) -> None:
    """Wait for every process (no-op when W = 1)."""
    if context.is_distributed:
        dist.barrier()


@contextlib.contextmanager
def process_group(device: str = "auto") -> Iterator[DistributedContext]:
    """`init_distributed` for the duration of a block; destroys a group it created."""
    created = not (dist.is_available() and dist.is_initialized())
    context = init_distributed(device)
    try:
        yield context
    finally:
        if created and dist.is_initialized():
            dist.destroy_process_group()
