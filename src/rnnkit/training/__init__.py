"""Training: the Trainer, truncated BPTT, clipping, schedules, checkpoints, metrics, DDP, plots.

A task hands the Trainer a model, an Objective (how a batch becomes a loss) and a resumable
BatchSource; `TrainerConfig` holds every option of the loop. `Trainer.fit` returns a FitResult
whose `history` (a `History`, as Keras's) holds every row the run logged to metrics.jsonl.
"""

from rnnkit.lazy import lazy_exports

# name -> the module that defines it, imported on first access (see __getattr__ below)
_EXPORTS = {
    "Checkpoint": "rnnkit.training.checkpoint",
    "read_checkpoint": "rnnkit.training.checkpoint",
    "write_checkpoint": "rnnkit.training.checkpoint",
    "CheckpointManager": "rnnkit.training.checkpoint_manager",
    "ClipResult": "rnnkit.training.clipping",
    "clip_grad_norm": "rnnkit.training.clipping",
    "clip_grad_value": "rnnkit.training.clipping",
    "global_grad_norm": "rnnkit.training.clipping",
    "TrainerConfig": "rnnkit.training.config",
    "BatchSource": "rnnkit.training.data",
    "DistributedContext": "rnnkit.training.distributed",
    "init_distributed": "rnnkit.training.distributed",
    "process_group": "rnnkit.training.distributed",
    "WeightedMean": "rnnkit.training.metrics",
    "accuracy": "rnnkit.training.metrics",
    "f1_score": "rnnkit.training.metrics",
    "History": "rnnkit.training.history",
    "Objective": "rnnkit.training.objective",
    "StepResult": "rnnkit.training.objective",
    "TrainingSetup": "rnnkit.training.objective",
    "read_metrics": "rnnkit.training.runs",
    "read_run_config": "rnnkit.training.runs",
    "LRSchedule": "rnnkit.training.schedules",
    "build_optimizer": "rnnkit.training.schedules",
    "Window": "rnnkit.training.tbptt",
    "detach_state": "rnnkit.training.tensor_trees",
    "iter_tensors": "rnnkit.training.tensor_trees",
    "map_tensors": "rnnkit.training.tensor_trees",
    "to_device": "rnnkit.training.tensor_trees",
    "plan_windows": "rnnkit.training.tbptt",
    "run_window": "rnnkit.training.tbptt",
    "FitResult": "rnnkit.training.trainer",
    "Trainer": "rnnkit.training.trainer",
}

__all__ = [
    "BatchSource",
    "Checkpoint",
    "CheckpointManager",
    "ClipResult",
    "DistributedContext",
    "FitResult",
    "History",
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
    "iter_tensors",
    "map_tensors",
    "plan_windows",
    "process_group",
    "read_checkpoint",
    "read_metrics",
    "read_run_config",
    "run_window",
    "to_device",
    "write_checkpoint",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
