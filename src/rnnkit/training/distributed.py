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

When a process dies (SIGKILL, the OOM killer) the others must not wait for it forever. A dead
peer's sockets are closed by its kernel, so gloo fails the next collective at once; a peer that
stops answering without closing them (a stopped process, a lost machine) fails it after the
collective timeout T, `RNNKIT_COLLECTIVE_TIMEOUT` seconds (default 300; torch's own default is
30 minutes). Either way `process_group` turns the backend's error into one `LostProcessError`
line, and the CLI exits with status 2; torchrun then reports the rank that failed first and
stops. Process 0 writes every checkpoint atomically, so the run continues from the latest one
with `torchrun ... -m rnnkit resume RUN_DIR` (`bench/reliability/distributed_kill.py`).

References:
    Li et al. 2020, "PyTorch Distributed: Experiences on Accelerating Data Parallel Training",
    https://arxiv.org/abs/2006.15704
    https://pytorch.org/docs/stable/elastic/run.html (torchrun)
    https://pytorch.org/docs/stable/distributed.html#torch.distributed.init_process_group
    (its `timeout`: how long a collective waits for the other processes)
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from rnnkit.errors import ConfigError, LostProcessError, RnnkitError

logger = logging.getLogger(__name__)

TIMEOUT_ENV = "RNNKIT_COLLECTIVE_TIMEOUT"  # seconds a collective waits for the other processes
DEFAULT_TIMEOUT_S = 300.0
# Words of the gloo / NCCL / store errors that say a peer is gone or silent, not a bug of ours.
_PEER_FAILURE_WORDS = (
    "connection reset by peer",
    "connection closed by peer",
    "broken pipe",
    "timed out",
    "timeout",
    "socket closed",
    "nccl communicator was aborted",
)


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


def collective_timeout(seconds: float | None = None) -> timedelta:
    """T, the longest a collective waits for the other processes: `seconds`, else the
    RNNKIT_COLLECTIVE_TIMEOUT environment variable, else DEFAULT_TIMEOUT_S."""
    source = "timeout_s"
    if seconds is None:
        raw = os.environ.get(TIMEOUT_ENV, "").strip()
        if not raw:
            return timedelta(seconds=DEFAULT_TIMEOUT_S)
        source = TIMEOUT_ENV
        try:
            seconds = float(raw)
        except ValueError:
            seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"{source} must be a positive number of seconds, got {seconds!r}")
    return timedelta(seconds=seconds)


def init_distributed(device: str = "auto", *, timeout_s: float | None = None) -> DistributedContext:
    """Join the process group torchrun set up (WORLD_SIZE > 1), else a single-process context.

    The backend is NCCL when the device is a GPU and gloo otherwise; a collective waits at most
    `collective_timeout(timeout_s)` for the others. Calling it again once the group exists
    returns the context without initialising twice.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if world_size <= 1 and not dist.is_initialized():
        return DistributedContext(device=resolved)
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    if not dist.is_initialized():
        timeout = collective_timeout(timeout_s)
        backend = "nccl" if resolved.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=timeout)
        logger.info(
            "process %d of %d joined (%s, collective timeout %.0f s)",
            dist.get_rank(), world_size, resolved, timeout.total_seconds(),
        )  # fmt: skip
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


def is_peer_failure(err: BaseException) -> bool:
    """Whether `err` is the backend saying that another process is gone or silent.

    torch raises DistError subclasses for some of these and a plain RuntimeError carrying
    gloo's message for others (a collective inside DDP's backward pass), so the message decides.
    """
    if not isinstance(err, RuntimeError) or isinstance(err, RnnkitError):
        return False
    text = str(err).lower()
    return any(word in text for word in _PEER_FAILURE_WORDS)


def lost_process(err: BaseException, context: DistributedContext) -> LostProcessError:
    """The one-line error of process r when a peer failed: the cause, and how to continue."""
    cause = " ".join(str(err).split())
    cause = cause.split("] ", 1)[-1] if cause.startswith("[") else cause  # drop gloo's file:line
    cause = cause.split(". This is typically", 1)[0]  # gloo's generic advice
    return LostProcessError(
        f"process {context.rank} of {context.world_size} stopped: another process of the run "
        f"is gone or stopped answering ({cause[:200]}). Checkpoints written so far are "
        "complete; continue with `torchrun ... -m rnnkit resume RUN_DIR`"
    )


@contextlib.contextmanager
def process_group(
    device: str = "auto", *, timeout_s: float | None = None
) -> Iterator[DistributedContext]:
    """`init_distributed` for the duration of a block; destroys a group it created.

    A peer failure inside the block (`is_peer_failure`) leaves as a `LostProcessError`.
    """
    created = not (dist.is_available() and dist.is_initialized())
    context = init_distributed(device, timeout_s=timeout_s)
    try:
        yield context
        if created and context.is_distributed:  # no process leaves while another still
            dist.barrier()  # needs it (rank 0's last evaluation and save come after the rest)
    except RuntimeError as err:
        if context.is_distributed and is_peer_failure(err):
            raise lost_process(err, context) from err
        raise
    finally:
        if created and dist.is_initialized():
            dist.destroy_process_group()
