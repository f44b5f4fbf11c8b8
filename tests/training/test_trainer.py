"""The Trainer: determinism, exact resume, accumulation, early stopping, nan/inf, logs, signals."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import torch

from models import NextTokenObjective, delay_copy_data, stream_data, tiny_trainer
from rnnkit.errors import CheckpointError, ConfigError, TrainingDiverged
from rnnkit.training import (
    StepResult,
    TrainerConfig,
    read_checkpoint,
    read_metrics,
    write_checkpoint,
)
from rnnkit.training.loop_state import LoopState

BASE = {"quiet": True, "device": "cpu", "log_every": 1}


def _config(**fields: Any) -> TrainerConfig:
    return TrainerConfig(**{**BASE, **fields})


def _losses(rows: list[dict[str, Any]]) -> list[float]:
    return [row["loss"] for row in rows]


def test_a_seeded_cpu_run_is_bit_identical() -> None:
    config = _config(max_steps=10, lr=0.01, warmup_steps=3, schedule="cosine")
    runs = []
    for seed in (11, 11, 12):  # seed, build and train one run after the other
        trainer, rows = tiny_trainer(config, seed=seed, dropout=0.3)
        trainer.fit()
        runs.append((trainer, rows))
    (first, rows_a), (second, rows_b), (_, rows_c) = runs
    assert _losses(rows_a) == _losses(rows_b)
    assert _losses(rows_a) != _losses(rows_c)
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(a, b)


class CrashError(Exception):
    """Raised by a callback to interrupt a run in the middle."""


def _crash_at(step: int):
    def callback(trainer: Any, row: dict[str, Any]) -> None:
        if row["step"] == step:
            raise CrashError

    return callback


RESUME_CASES = {
    "full BPTT, accumulation, dropout, cosine": {
        "config": {"accumulate_steps": 2, "schedule": "cosine", "warmup_steps": 2, "lr": 0.01},
        "setup": {"dropout": 0.3},
    },
    "plateau schedule and best checkpoints from evaluations": {
        "config": {
            "schedule": "plateau",
            "plateau_patience": 1,
            "min_delta": 0.05,
            "eval_every": 2,
            "early_stopping_patience": 50,
            "lr": 0.02,
            "decay_factor": 0.5,  # decays at the evaluations of steps 4 and 8; best at 6
        },
        "setup": {"eval_data": "batches"},
    },
    "truncated BPTT k2 > k1, state carried, mid-batch checkpoint": {
        "config": {"tbptt_k1": 2, "tbptt_k2": 3, "optimizer": "sgd", "lr": 0.1},
        "setup": {
            "data": stream_data(4, 6, 7, 8, seed=1),
            "batch_size": 4,
            "shuffle": False,
            "objective": "stateful",
        },
    },
}


@pytest.mark.parametrize("case", sorted(RESUME_CASES))
def test_a_resumed_run_continues_exactly(tmp_path: Path, case: str) -> None:
    config = _config(max_steps=12, checkpoint_every=5, **RESUME_CASES[case]["config"])

    def setup(**extra: Any) -> dict[str, Any]:
        options = dict(RESUME_CASES[case]["setup"])
        if options.get("objective") == "stateful":
            options["objective"] = NextTokenObjective(carry_state=True)
        if options.get("eval_data") == "batches":
            options["eval_data"] = _eval_batches()
        return {**options, **extra}

    unbroken, expected = tiny_trainer(config, seed=3, **setup())
    unbroken.fit()
    crashed, _ = tiny_trainer(config, seed=3, run_dir=tmp_path, **setup())
    crashed.callbacks.append(_crash_at(8))
    with pytest.raises(CrashError):
        crashed.fit()
    data = setup().get("data", delay_copy_data(64, 12, 8, seed=3))
    resumed, rows = tiny_trainer(config, seed=99, run_dir=tmp_path, **setup(data=data))
    resumed.load_checkpoint()
    start = resumed.loop.step  # 5, or 6 when the evaluation at step 6 was a new best
    assert 5 <= start < 8
    resumed.fit()
    assert _losses(rows) == _losses(expected)[start:]
    logged = [row for row in read_metrics(tmp_path) if row["kind"] == "train"]
    assert [row["step"] for row in logged] == list(range(1, 13))  # each step once
    assert [row["loss"] for row in logged] == _losses(expected)
    for a, b in zip(unbroken.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_accumulation_equals_one_big_batch_weighted_by_tokens(float64: torch.dtype) -> None:
    inputs, targets = delay_copy_data(64, 12, 8, seed=4)
    targets[torch.rand(targets.shape) < 0.3] = -100  # unequal token counts per micro-batch
    config = {"optimizer": "sgd", "momentum": 0.5, "lr": 0.5, "clip_norm": None, "max_steps": 4}
    big, rows_big = tiny_trainer(_config(**config), seed=2, data=(inputs, targets), batch_size=8)
    small, rows_small = tiny_trainer(
        _config(accumulate_steps=2, **config), seed=2, data=(inputs, targets), batch_size=4
    )
    big.fit()
    small.fit()
    assert _losses(rows_small) == pytest.approx(_losses(rows_big), abs=1e-12)
    for a, b in zip(big.model.parameters(), small.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def _eval_batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    inputs, targets = delay_copy_data(8, 12, 8, seed=9)
    return [(inputs, targets)]


def test_early_stopping_keeps_the_best_checkpoint(tmp_path: Path) -> None:
    config = _config(
        max_steps=50, lr=1e-9, eval_every=2, early_stopping_patience=2, min_delta=1.0,
        checkpoint_every=0, keep_last=1,
    )  # fmt: skip
    trainer, _ = tiny_trainer(config, eval_data=_eval_batches(), run_dir=tmp_path)
    result = trainer.fit()
    assert (result.reason, result.step) == ("early_stopping", 6)
    assert trainer.checkpoints.best().name == "step-00000002"
    evaluations = [row for row in read_metrics(tmp_path) if row["kind"] == "eval"]
    assert [row["step"] for row in evaluations] == [2, 4, 6]
    assert {"val_loss", "val_perplexity", "val_accuracy"} <= set(evaluations[0])
    assert result.best_metric == evaluations[0]["val_loss"]


def test_max_epochs_stops_at_the_end_of_an_epoch() -> None:
    trainer, rows = tiny_trainer(_config(max_steps=100, max_epochs=2))  # 8 batches per epoch
    result = trainer.fit()
    assert (result.reason, result.step) == ("max_epochs", 16)
    assert [row["epoch"] for row in rows] == [0] * 8 + [1] * 8


class NanAt(NextTokenObjective):
    """Returns a nan loss on the listed calls."""

    def __init__(self, bad_calls: set[int]) -> None:
        super().__init__()
        self.bad_calls = bad_calls

    def loss(self, model: Any, batch: Any, state: Any, *, loss_from: int = 0) -> StepResult:
        result = super().loss(model, batch, state, loss_from=loss_from)
        if self.calls in self.bad_calls:
            return result._replace(loss=result.loss * math.nan)
        return result


class ScaledAt(NextTokenObjective):
    """Multiplies the loss of the listed calls by a factor."""

    def __init__(self, factors: dict[int, float]) -> None:
        super().__init__()
        self.factors = factors

    def loss(self, model: Any, batch: Any, state: Any, *, loss_from: int = 0) -> StepResult:
        result = super().loss(model, batch, state, loss_from=loss_from)
        return result._replace(loss=result.loss * self.factors.get(self.calls, 1.0))


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    trainer, _ = tiny_trainer(
        _config(max_steps=10, checkpoint_every=2), objective=NanAt({5}), run_dir=tmp_path
    )
    with pytest.raises(TrainingDiverged, match=r"step 5: loss is nan.*step-00000004") as caught:
        trainer.fit()
    assert "--on-nonfinite skip" in str(caught.value)
    assert trainer.checkpoints.latest().name == "step-00000004"
    assert [p.name for p in trainer.checkpoints.checkpoints()][-1] == "step-00000004"


def test_a_nan_gradient_stops_the_run() -> None:
    trainer, _ = tiny_trainer(_config(max_steps=10))
    weight = trainer.model.head.weight
    weight.register_hook(lambda grad: grad * math.nan if trainer.loop.step == 2 else grad)
    with pytest.raises(TrainingDiverged, match=r"step 3: gradient norm is nan.*none"):
        trainer.fit()


def test_skipping_nonfinite_updates_counts_them_and_gives_up_at_the_limit() -> None:
    trainer, rows = tiny_trainer(_config(max_steps=6, on_nonfinite="skip"), objective=NanAt({2, 4}))
    before = [p.detach().clone() for p in trainer.model.parameters()]
    result = trainer.fit()
    assert result.step == 6
    assert trainer.loop.skipped == 2
    assert [row["skipped"] for row in rows] == [0, 1, 2, 2, 2, 2]  # calls 2 and 4 fail
    assert all(math.isfinite(p.detach().sum()) for p in trainer.model.parameters())
    assert any(
        not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True)
    )
    strict, _ = tiny_trainer(
        _config(max_steps=6, on_nonfinite="skip", max_skipped=1), objective=NanAt({2, 4})
    )
    with pytest.raises(TrainingDiverged, match="after skipping 1 updates"):
        strict.fit()


def test_a_loss_far_above_the_first_stops_before_the_update_is_applied() -> None:
    config = _config(max_steps=10, optimizer="sgd", lr=1e30, momentum=0.0, clip_norm=None)
    trainer, rows = tiny_trainer(config)
    after_first: list[torch.Tensor] = []
    trainer.callbacks.append(
        lambda t, row: after_first.extend(p.detach().clone() for p in t.model.parameters())
    )
    with pytest.raises(TrainingDiverged, match=r"step 2: loss .* over the divergence limit"):
        trainer.fit()
    assert len(rows) == 1
    assert math.isfinite(rows[0]["loss"])
    assert trainer.loop.first_loss == rows[0]["loss"]
    for kept, param in zip(after_first, trainer.model.parameters(), strict=True):
        assert torch.equal(kept, param)  # the diverged update was not applied
    unchecked, rows = tiny_trainer(
        _config(max_steps=4, optimizer="sgd", lr=1e30, momentum=0.0, clip_norm=None,
                divergence_ratio=None)
    )  # fmt: skip
    unchecked.fit()  # finite, absurd losses: only the ratio catches them
    assert all(math.isfinite(row["loss"]) for row in rows)
    assert max(row["loss"] for row in rows) > 1e20 * rows[0]["loss"]


def test_a_diverging_loss_is_skipped_like_a_nan_one() -> None:
    config = _config(max_steps=6, on_nonfinite="skip", max_skipped=3, divergence_ratio=1.05)
    trainer, rows = tiny_trainer(config, objective=ScaledAt({3: 10.0}))
    trainer.fit()
    assert trainer.loop.skipped == 1
    assert [row["skipped"] for row in rows] == [0, 0, 1, 1, 1, 1]


def test_the_first_loss_survives_a_resume_and_older_checkpoints_load(tmp_path: Path) -> None:
    trainer, _ = tiny_trainer(_config(max_steps=4, checkpoint_every=2), run_dir=tmp_path)
    trainer.fit()
    resumed, _ = tiny_trainer(_config(max_steps=6, checkpoint_every=2), run_dir=tmp_path)
    resumed.load_checkpoint(tmp_path / "checkpoints" / "step-00000002")
    assert resumed.loop.first_loss == trainer.loop.first_loss is not None
    older = {k: v for k, v in trainer.loop.to_json().items() if k != "first_loss"}
    assert LoopState.from_json(older, source="old").first_loss is None


def test_parameters_gone_nan_are_never_checkpointed(tmp_path: Path) -> None:
    trainer, _ = tiny_trainer(_config(max_steps=6, checkpoint_every=2), run_dir=tmp_path)

    def poison(t: Any, row: dict[str, Any]) -> None:
        if row["step"] == 4:
            with torch.no_grad():
                t.model.head.bias[0] = math.inf

    trainer.callbacks.append(poison)
    with pytest.raises(TrainingDiverged, match=r"head.bias hold nan or inf.*step-00000002"):
        trainer.fit()
    assert [p.name for p in trainer.checkpoints.checkpoints()] == ["step-00000002"]
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))


def test_resuming_from_an_older_checkpoint_replaces_the_later_ones(tmp_path: Path) -> None:
    config = _config(max_steps=6, checkpoint_every=2, keep_last=5)
    trainer, _ = tiny_trainer(config, run_dir=tmp_path)
    trainer.fit()
    root = tmp_path / "checkpoints"
    (root / "step-00000006" / "model.safetensors").write_bytes(b"damaged")
    (root / "best").write_text("step-00000006\n")
    resumed, _ = tiny_trainer(config, run_dir=tmp_path)
    resumed.load_checkpoint(root / "step-00000002")
    names = ["step-00000002", "step-00000004", "step-00000006"]
    assert [p.name for p in resumed.checkpoints.checkpoints()] == names  # not before a save
    assert resumed.checkpoints.latest().name == "step-00000006"
    resumed.fit()
    assert [p.name for p in resumed.checkpoints.checkpoints()] == names
    assert resumed.checkpoints.latest().name == "step-00000006"
    assert not (root / "best").exists()  # it named a replaced checkpoint, and none is best now
    assert not list(root.glob(".tmp-*"))
    final = read_checkpoint(root / "step-00000006")  # written again, whole
    for name, tensor in final.tensors["model.safetensors"].items():
        assert torch.equal(tensor, trainer.model.state_dict()[name])


def test_a_checkpoint_with_nan_weights_is_refused_on_resume(tmp_path: Path) -> None:
    trainer, _ = tiny_trainer(_config(max_steps=2, checkpoint_every=2), run_dir=tmp_path)
    trainer.fit()
    path = trainer.checkpoints.latest()
    checkpoint = read_checkpoint(path)
    weights = dict(checkpoint.tensors["model.safetensors"])
    weights["head.bias"] = weights["head.bias"].clone().fill_(math.nan)
    forged = path.with_name("step-00000009")
    state = {key: value for key, value in checkpoint.state.items() if key != "files"}
    write_checkpoint(forged, {**checkpoint.tensors, "model.safetensors": weights}, state)
    resumed, _ = tiny_trainer(_config(max_steps=4), run_dir=tmp_path)
    with pytest.raises(CheckpointError, match=r"head.bias hold nan or inf"):
        resumed.load_checkpoint(forged)


def test_clipping_is_reported_before_and_after() -> None:
    trainer, rows = tiny_trainer(_config(max_steps=4, clip_norm=0.01, lr=0.01))
    trainer.fit()
    for row in rows:
        assert row["grad_norm"] > 0.01
        assert row["grad_norm_clipped"] == pytest.approx(0.01, rel=1e-5)
    valued, rows = tiny_trainer(_config(max_steps=2, clip_norm=None, clip_value=1e-4))
    valued.fit()
    assert all(row["grad_norm_clipped"] < row["grad_norm"] for row in rows)


def test_run_dir_files(tmp_path: Path) -> None:
    trainer, _ = tiny_trainer(
        _config(max_steps=4, log_every=2, eval_every=4, checkpoint_every=2),
        eval_data=_eval_batches(),
        run_dir=tmp_path,
        run_config={"task": "tiny", "task_config": {"hidden_size": 16}, "data": None},
    )
    trainer.fit()
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["task"] == "tiny"
    assert config["trainer"]["max_steps"] == 4
    assert config["model"]["parameters"] == sum(p.numel() for p in trainer.model.parameters())
    assert set(config["versions"]) == {"rnnkit", "torch", "python"}
    rows = read_metrics(tmp_path)
    train = [row for row in rows if row["kind"] == "train"]
    assert [row["step"] for row in train] == [2, 4]
    required = {"step", "loss", "lr", "grad_norm", "grad_norm_clipped", "tokens_per_s", "epoch"}
    assert all(required <= set(row) for row in train)
    assert [row["step"] for row in rows if row["kind"] == "eval"] == [4]
    state = json.loads((tmp_path / "checkpoints" / "step-00000004" / "state.json").read_text())
    assert state["step"] == 4
    assert state["config"]["task_config"] == {"hidden_size": 16}
    assert set(state["rng"]) >= {"python", "numpy", "torch"}
    assert state["data_position"]["index"] == 4


def test_sigint_stops_after_the_update_with_a_checkpoint(tmp_path: Path) -> None:
    def interrupt(trainer: Any, row: dict[str, Any]) -> None:
        if row["step"] == 3:
            os.kill(os.getpid(), signal.SIGINT)

    trainer, _ = tiny_trainer(_config(max_steps=10, checkpoint_every=0), run_dir=tmp_path)
    trainer.callbacks.append(interrupt)
    previous = signal.getsignal(signal.SIGINT)
    result = trainer.fit()
    assert (result.reason, result.step, result.signal) == ("signal", 3, signal.SIGINT)
    assert trainer.checkpoints.latest().name == "step-00000003"
    assert signal.getsignal(signal.SIGINT) is previous  # handler restored


def test_log_lines_without_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    trainer, _ = tiny_trainer(TrainerConfig(max_steps=4, log_every=2, device="cpu"))
    with caplog.at_level(logging.INFO, logger="rnnkit.training.trainer"):
        trainer.fit()
    lines = [r.getMessage() for r in caplog.records if r.name == "rnnkit.training.trainer"]
    assert len(lines) == 2
    assert lines[0].startswith("step 2/4  epoch 0  loss ")
    assert "tok/s" in lines[0]


class PerExampleObjective(NextTokenObjective):
    """Counts like a classifier: the trainer must report examples, not tokens."""

    unit = "example"


def test_throughput_and_loss_label_are_in_the_objectives_unit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = TrainerConfig(max_steps=2, log_every=1, device="cpu", checkpoint_every=0)
    trainer, _ = tiny_trainer(config, objective=PerExampleObjective(), run_dir=tmp_path)
    with caplog.at_level(logging.INFO, logger="rnnkit.training.trainer"):
        trainer.fit()
    lines = [r.getMessage() for r in caplog.records if r.name == "rnnkit.training.trainer"]
    assert lines[0].endswith(" ex/s")
    assert "tok/s" not in " ".join(lines)
    train = [row for row in read_metrics(tmp_path) if row["kind"] == "train"]
    assert {"examples", "examples_per_s"} <= set(train[0])
    assert "tokens_per_s" not in train[0]
    objective = json.loads((tmp_path / "config.json").read_text())["objective"]
    assert objective == {"unit": "example", "loss": "mean cross-entropy per example (nats)"}


@pytest.mark.parametrize(
    ("max_steps", "reached"),
    [(3, "never reaches lr=0.01"), (5, "reaches lr=0.01 only at the last")],
)
def test_a_run_that_ends_in_warm_up_says_so_in_one_line_at_the_start(
    caplog: pytest.LogCaptureFixture, max_steps: int, reached: str
) -> None:  # fmt: skip
    config = _config(max_steps=max_steps, warmup_steps=5, lr=0.01)
    started: list[int] = []
    trainer, _ = tiny_trainer(config)
    trainer.callbacks.append(lambda *_: started.append(len(caplog.records)))
    with caplog.at_level(logging.WARNING, logger="rnnkit.training.trainer"):
        trainer.fit()
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    message = warning.getMessage()
    assert message.startswith(f"max_steps={max_steps} ")
    assert f"the run ends in warm-up: the learning rate {reached}" in message
    assert message.endswith("lower --warmup-steps below --max-steps")
    assert "\n" not in message
    assert started[0] == 1  # logged before the first update
    quiet, _ = tiny_trainer(_config(max_steps=6, warmup_steps=5, lr=0.01))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rnnkit.training.trainer"):
        quiet.fit()
    assert not caplog.records


def test_bf16_autocast_on_cpu_trains_and_fp16_needs_cuda() -> None:
    # torch's LSTM: this checks the trainer's autocast, independent of rnnkit's layers
    trainer, rows = tiny_trainer(_config(max_steps=6, precision="bf16", lr=0.02), torch_layer=True)
    trainer.fit()
    assert all(math.isfinite(row["loss"]) for row in rows)
    assert trainer.updater.scaler is None
    with pytest.raises(ConfigError, match=r"fp16.*CUDA"):
        tiny_trainer(_config(precision="fp16"))


def test_configs_that_need_evaluation_data_or_a_known_metric() -> None:
    with pytest.raises(ConfigError, match="need evaluation data"):
        tiny_trainer(_config(early_stopping_patience=2))
    trainer, _ = tiny_trainer(
        _config(max_steps=2, eval_every=2, monitor="val_bleu"), eval_data=_eval_batches()
    )
    with pytest.raises(ConfigError, match=r"val_bleu.*val_accuracy"):
        trainer.fit()


@pytest.mark.gpu
def test_fp16_with_grad_scaler_on_cuda() -> None:
    trainer, rows = tiny_trainer(
        TrainerConfig(max_steps=20, precision="fp16", device="cuda", log_every=1, lr=0.01),
        torch_layer=True,
    )
    trainer.fit()
    assert trainer.updater.scaler is not None
    assert trainer.updater.scaler.get_scale() > 0
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert next(trainer.model.parameters()).dtype == torch.float32
