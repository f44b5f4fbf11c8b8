"""Small real models, objectives and data for the training tests, and a registered test task.

The recurrent layer comes from `recurrent_layer`: `rnnkit.LSTM` once the layers exist, else
`torch.nn.LSTM` (same signature and outputs), so the tests do not wait for the layers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.losses import perplexity, sequence_cross_entropy
from rnnkit.seeding import make_generator
from rnnkit.tasks import register_task
from rnnkit.training import BatchSource, Objective, StepResult, TrainingSetup
from rnnkit.training.metrics import accuracy


def recurrent_layer(
    input_size: int, hidden_size: int, *, dropout: float = 0.0, torch_layer: bool = False
) -> nn.Module:
    """An LSTM, batch_first=True: rnnkit's if importable and not `torch_layer`, else torch's."""
    try:
        if torch_layer:
            raise ImportError
        from rnnkit import LSTM  # type: ignore[attr-defined]
    except ImportError:
        from torch.nn import LSTM
    num_layers = 2 if dropout > 0 else 1  # torch applies dropout between layers only
    return LSTM(input_size, hidden_size, num_layers=num_layers, dropout=dropout, batch_first=True)


class TinyLM(nn.Module):
    """Embedding → LSTM → linear: token ids (B, T) → logits (B, T, V), state."""

    def __init__(
        self,
        vocab_size: int = 8,
        embed_dim: int = 8,
        hidden_size: int = 16,
        dropout: float = 0.0,
        *,
        torch_layer: bool = False,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.recurrent = recurrent_layer(
            embed_dim, hidden_size, dropout=dropout, torch_layer=torch_layer
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, token_ids: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        outputs, state = self.recurrent(self.embedding(token_ids), state)  # (B, T, H)
        return self.head(self.dropout(outputs)), state  # (B, T, V)


class NextTokenObjective(Objective):
    """Cross-entropy of the logits against targets; batch = (inputs (B, T), targets (B, T))."""

    def __init__(self, *, carry_state: bool = False, delay: float = 0.0) -> None:
        self.carry_state = carry_state
        self.delay = delay  # seconds to sleep per call: slows a run down for the kill tests
        self.calls = 0

    def loss(self, model: nn.Module, batch: Any, state: Any, *, loss_from: int = 0) -> StepResult:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        inputs, targets = batch
        logits, state = model(inputs, state)  # (B, T, V)
        targets = targets.clone()
        targets[:, :loss_from] = -100  # context steps are not scored
        loss = sequence_cross_entropy(logits, targets)
        return StepResult(loss, int((targets != -100).sum()), state)

    def evaluate(self, model: nn.Module, batches: Any) -> dict[str, float]:
        total, count, correct = 0.0, 0, 0.0
        for inputs, targets in batches:
            logits, _ = model(inputs)
            n = int((targets != -100).sum())
            total += float(sequence_cross_entropy(logits, targets)) * n
            correct += accuracy(logits.argmax(-1), targets, mask=targets != -100) * n
            count += n
        loss = total / max(count, 1)
        return {"loss": loss, "perplexity": perplexity(loss), "accuracy": correct / max(count, 1)}


def delay_copy_data(
    num_sequences: int, seq_len: int, vocab_size: int, seed: int
) -> tuple[Tensor, Tensor]:
    """Random tokens; the target at step t is the input at t − 1 (the first step is ignored)."""
    generator = make_generator(seed)
    inputs = torch.randint(vocab_size, (num_sequences, seq_len), generator=generator)  # (N, T)
    targets = torch.full_like(inputs, -100)
    targets[:, 1:] = inputs[:, :-1]
    return inputs, targets


def stream_data(
    num_streams: int, num_chunks: int, chunk_len: int, vocab_size: int, seed: int
) -> tuple[Tensor, Tensor]:
    """B parallel token streams cut into consecutive chunks; chunk i is example i.

    Returns inputs and targets (num_chunks·B, chunk_len) ordered so that a BatchSource with
    batch_size=B and shuffle=False yields the chunks of all streams in time order. The next
    token repeats the token two steps back, so the model needs the carried state.
    """
    generator = make_generator(seed)
    total = num_chunks * chunk_len + 1
    stream = torch.randint(vocab_size, (num_streams, total), generator=generator)  # (B, L)
    stream[:, 2:] = torch.where(torch.rand(num_streams, total - 2, generator=generator) < 0.8,
                                stream[:, :-2], stream[:, 2:])  # fmt: skip
    inputs = stream[:, :-1].reshape(num_streams, num_chunks, chunk_len).transpose(0, 1)
    targets = stream[:, 1:].reshape(num_streams, num_chunks, chunk_len).transpose(0, 1)
    return inputs.reshape(-1, chunk_len), targets.reshape(-1, chunk_len)  # (num_chunks·B, T)


@dataclass(frozen=True, kw_only=True)
class TinyTaskConfig:
    """The test task: a tiny LSTM language model on delay-copy data."""

    vocab_size: int = 8  # V
    embed_dim: int = 8  # E
    hidden_size: int = 16  # H
    dropout: float = 0.0
    batch_size: int = 8  # B per process
    num_sequences: int = 64
    seq_len: int = 12  # T
    step_delay: float = 0.0  # seconds slept per loss call (kill tests)

    def __post_init__(self) -> None:
        if self.hidden_size < 1:
            raise ConfigError(f"hidden_size must be a positive integer, got {self.hidden_size}")


def build_tiny_task(config: TinyTaskConfig, *, data: Path | None, seed: int) -> TrainingSetup:
    """Model, objective and batches of the test task (`data` is ignored: it is generated)."""
    model = TinyLM(config.vocab_size, config.embed_dim, config.hidden_size, config.dropout)
    train = delay_copy_data(config.num_sequences, config.seq_len, config.vocab_size, seed)
    valid = delay_copy_data(16, config.seq_len, config.vocab_size, seed + 1)
    return TrainingSetup(
        model=model,
        objective=NextTokenObjective(delay=config.step_delay),
        train_data=BatchSource(train, config.batch_size, seed=seed),
        eval_data=BatchSource(valid, 8, shuffle=False),
    )


def register_tiny_task(name: str = "tiny") -> None:
    """Register the test task under `name` (replacing an earlier registration)."""
    register_task(name, build_tiny_task, config_cls=TinyTaskConfig, help="test task", replace=True)


def tiny_trainer(
    config: Any,
    *,
    seed: int = 0,
    data: tuple[Tensor, Tensor] | None = None,
    batch_size: int = 8,
    shuffle: bool = True,
    objective: Objective | None = None,
    eval_data: Any = None,
    dropout: float = 0.0,
    torch_layer: bool = False,
    **kwargs: Any,
) -> tuple[Any, list[dict[str, Any]]]:
    """A Trainer of a freshly seeded TinyLM and the list its callback fills with step rows."""
    from rnnkit.seeding import seed_everything
    from rnnkit.training import Trainer

    seed_everything(seed)
    model = TinyLM(dropout=dropout, torch_layer=torch_layer)
    if data is None:
        data = delay_copy_data(64, 12, 8, seed)
    rows: list[dict[str, Any]] = []
    trainer = Trainer(
        model,
        objective or NextTokenObjective(),
        BatchSource(data, batch_size, seed=seed, shuffle=shuffle),
        config=config,
        eval_data=eval_data,
        callbacks=[lambda _trainer, row: rows.append(row)],
        **kwargs,
    )
    return trainer, rows
