"""Tiny real checkpoints for the fuzz targets `checkpoint` and `resume`, and their mutations.

`checkpoint` mutates a directory written by `write_checkpoint` from a small LSTM language
model, its Adam state after one update and a carried `LSTMState`; `resume` feeds a fuzzed
state.json to `Trainer.load_checkpoint` beside the tensor files of a two-step training run.
Each iteration works on a fresh copy of the pristine directory.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.cells.base import LSTMState
from rnnkit.training import BatchSource, Objective, StepResult, Trainer, TrainerConfig
from rnnkit.training.checkpoint import (
    DIGEST_KEY,
    STATE_FILE,
    TENSOR_FILES,
    state_digest,
    write_checkpoint,
)
from rnnkit.training.state_dicts import model_tensors, optimizer_tensors, structure_to_tensors

VOCAB_SIZE = 6  # V


class TinyLM(nn.Module):
    """Embedding (V, 4) → LSTM (H = 5) → linear: token ids (B, T) → logits (B, T, V), state."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB_SIZE, 4)
        self.recurrent = nn.LSTM(4, 5, batch_first=True)
        self.head = nn.Linear(5, VOCAB_SIZE)

    def forward(self, token_ids: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        outputs, state = self.recurrent(self.embedding(token_ids), state)  # (B, T, H)
        return self.head(outputs), state  # (B, T, V)


class NextToken(Objective):
    """Cross-entropy of next-token logits; the state carries over between batches."""

    carry_state = True

    def loss(self, model: nn.Module, batch: Any, state: Any, *, loss_from: int = 0) -> StepResult:
        inputs, targets = batch
        logits, state = model(inputs, state)  # (B, T, V)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return StepResult(loss, targets.numel(), state)


@cache
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="rnnkit-fuzz-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def fresh_model() -> tuple[TinyLM, torch.optim.Optimizer]:
    """A seeded TinyLM and an Adam optimizer that has made one update."""
    torch.manual_seed(0)
    model = TinyLM()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    logits, _ = model(torch.arange(VOCAB_SIZE).reshape(2, 3))
    logits.sum().backward()
    optimizer.step()
    return model, optimizer


@cache
def target_model() -> tuple[TinyLM, torch.optim.Optimizer]:
    """The model and optimizer the `checkpoint` target loads into (made once)."""
    return fresh_model()


@cache
def pristine() -> Path:
    """A checkpoint of TinyLM, its Adam state and a carried LSTMState (2 sequences)."""
    model, optimizer = fresh_model()
    optimizer_state, meta = optimizer_tensors(optimizer)
    carry, structure = structure_to_tensors(LSTMState(torch.zeros(1, 2, 5), torch.ones(1, 2, 5)))
    tensors = {
        "model.safetensors": model_tensors(model),
        "optimizer.safetensors": optimizer_state,
        "loop.safetensors": carry,
    }
    state = {"step": 1, "optimizer": meta, "carry": structure, "config": {"lr": 1e-2}}
    return write_checkpoint(_folder() / "pristine" / "step-00000001", tensors, state)


@cache
def trainer() -> Trainer:
    """A Trainer of TinyLM that has run two steps and written a checkpoint after each."""
    torch.manual_seed(0)
    inputs = torch.randint(VOCAB_SIZE, (8, 5))  # (N, T)
    config = TrainerConfig(
        max_steps=2, checkpoint_every=1, log_every=1, quiet=True, device="cpu", seed=0
    )
    run = Trainer(
        TinyLM(),
        NextToken(),
        BatchSource((inputs, inputs.roll(-1, 1)), 4, seed=0),
        config=config,
        run_dir=_folder() / "run",
        handle_signals=False,
    )
    run.fit()
    return run


def _trainer_checkpoint() -> Path:
    latest = trainer().checkpoints.latest()  # type: ignore[union-attr]
    assert latest is not None
    return latest


def fresh_copy(destination: Path, *, trainer: bool = False) -> Path:
    """A copy of the pristine (or the trainer's latest) checkpoint at `destination`."""
    shutil.rmtree(destination, ignore_errors=True)
    source = _trainer_checkpoint() if trainer else pristine()
    return Path(shutil.copytree(source, destination))


def seeds() -> list[bytes]:
    """`checkpoint` inputs: every mutation of every file, re-signed or not (replace: real file)."""
    found = []
    for flags in range(32):
        mode, name = flags % 4, (STATE_FILE, *TENSOR_FILES)[(flags >> 2) % 4]
        payload = (pristine() / name).read_bytes() if mode == 0 else b"\x7f"
        found.append(bytes([flags]) + (40).to_bytes(2) + payload)
    return found


def resume_seeds() -> list[bytes]:
    """`resume` inputs: the trainer checkpoint's real state.json, signed again or not."""
    state = (_trainer_checkpoint() / STATE_FILE).read_bytes()
    return [b"\0" + state, b"\1" + state]


def mutate(data: bytes, mode: int, position: int, payload: bytes) -> bytes:
    """Mode 0: `payload` instead; 1: cut at `position`; 2: xor one byte; 3: insert `payload`."""
    if mode == 0:
        return payload
    at = position % (len(data) + 1)
    if mode == 1:
        return data[:at]
    if mode == 2 and at < len(data):
        return data[:at] + bytes([data[at] ^ (payload[:1] or b"\x01")[0] or 1]) + data[at + 1 :]
    return data[:at] + payload + data[at:]


def rehash(path: Path, name: str, data: bytes) -> None:
    """Record `data` as tensor file `name` in state.json (sha256 and size), then re-sign."""
    state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
    state["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (path / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    resign(path / STATE_FILE)


def resign(path: Path) -> None:
    """Give a state.json that is a JSON object a state_sha256 that matches its content."""
    try:
        state = json.loads(path.read_bytes())
        if isinstance(state, dict):
            state[DIGEST_KEY] = state_digest(state)
            path.write_text(json.dumps(state), encoding="utf-8")
    except (ValueError, RecursionError):
        return
