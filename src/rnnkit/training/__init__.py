"""Training: the Trainer, truncated BPTT, clipping, schedules, checkpoints, metrics, DDP, plots.

A task hands the Trainer a model, an Objective (how a batch becomes a loss) and a resumable
BatchSource; `TrainerConfig` holds every option of the loop.
"""

from rnnkit.training.checkpoint import Checkpoint, read_checkpoint, write_checkpoint
from rnnkit.training.checkpoint_manager import CheckpointManager
from rnnkit.training.clipping import ClipResult, clip_grad_norm, clip_grad_value, global_grad_norm
from rnnkit.training.config import TrainerConfig
from rnnkit.training.data import BatchSource
from rnnkit.training.distributed import DistributedContext, init_distributed, process_group
from rnnkit.training.metrics import WeightedMean, accuracy, f1_score
from rnnkit.training.program import Objective, StepResult, TrainingSetup, detach_state
from rnnkit.training.runs import read_metrics, read_run_config
from rnnkit.training.schedules import LRSchedule, build_optimizer
from rnnkit.training.tbptt import Window, plan_windows, run_window
from rnnkit.training.trainer import FitResult, Trainer

__all__ = [
    "BatchSource",
    "Checkpoint",
    "CheckpointManager",
    "ClipResult",
    "DistributedContext",
    "FitResult",
    "LRSchedule",
    "Objective",
    "StepResult",
    "Trainer",
    "TrainerConfig",
    "TrainingSetup",
    "WeightedMean",
    "Window",
    "accuracy",
    "build_optimizer",
    "clip_grad_norm",
    "clip_grad_value",
    "detach_state",
    "f1_score",
    "global_grad_norm",
    "init_distributed",
    "plan_windows",
    "process_group",
    "read_checkpoint",
    "read_metrics",
    "read_run_config",
    "run_window",
    "write_checkpoint",
]
