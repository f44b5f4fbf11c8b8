"""What the Triton recurrent kernels share: availability, lazy compilation, launch settings.

References:
    https://triton-lang.org/main/programming-guide/chapter-3/debugging.html (TRITON_INTERPRET)
    https://arxiv.org/abs/1604.01946 (Diamos et al. 2016, Persistent RNNs)

Design (`triton_lstm.py`, `triton_gru.py`, `triton_elman.py`). A recurrent layer's rows are
independent sequences, so one Triton program that owns a block of BLOCK_B batch rows and all H
hidden units needs nothing from any other program: it loads W_hh once, keeps h_{t-1} (and
c_{t-1}) as loop-carried tiles, and runs all T steps in one launch (a persistent kernel with no
grid-wide synchronisation, which Triton does not offer). Each step fuses the recurrent product
h_{t-1} W_hhᵀ (`tl.dot`), the gate activations, the state update, the mask of `lengths` and the
output write; x W_ihᵀ + b for all steps is one torch GEMM before the launch. The backward
kernel is the hand-derived BPTT of `fused_lstm.py` / `elman_bptt.py`, one launch over t = T…1,
writing δa_t; the weight gradients are then one torch GEMM each over all T·B rows.

The cost of this design: W_hh (G × H) stays on chip in one program, so it suits small H
(BLOCK_H = the next power of two ≥ H, at most `MAX_HIDDEN`). Compiled for sm_90 on the CPU
(`triton.compile(..., target=GPUTarget("cuda", 90, 32))`, float32 LSTM forward with TF32), a
program uses 68 KiB of shared memory at BLOCK_H = 64 and 264 KiB at BLOCK_H = 128, above the
227 KiB an H100/H200 block may have; a larger H needs a grid over hidden tiles with one launch per
step, not written yet. Its speed on a GPU is unmeasured (issue 25).

Numerics: inside the kernels every quantity is in the accumulation dtype (float32, or float64
for float64 inputs), whatever the input dtype (bfloat16, float16, float32); outputs and the
final state come back in the input's dtype. A float32 `tl.dot` uses TF32 exactly when torch
allows it for matrix products (`torch.backends.cuda.matmul.allow_tf32`), as cuDNN does.

Compilation is lazy: the kernels are plain functions until first launched, then wrapped by
`triton.jit` once per value of TRITON_INTERPRET (read then, not at import), so a test can turn
on the interpreter for itself alone (`monkeypatch.setenv`) and run the kernels on CPU tensors.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import torch
from torch import Tensor

from rnnkit.errors import ConfigError

try:
    import triton.language as tl
except ImportError:  # the kernel bodies still define (annotations only); nothing compiles
    tl = SimpleNamespace(constexpr="constexpr")

MAX_HIDDEN = 64  # H above this needs more shared memory than a GPU block has (docstring)
BLOCK_B = 16  # batch rows per program; tl.dot needs tiles of at least 16


def interpreting() -> bool:
    """Whether TRITON_INTERPRET asks for Triton's CPU interpreter (read now, at every call)."""
    return os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")


@functools.cache
def _triton_imports() -> bool:
    try:
        import triton
        import triton.language  # noqa: F401
    except ImportError:
        return False
    return True


def triton_available() -> bool:
    """Whether the Triton kernels can run: triton imports and CUDA is there (or the interpreter).

    Example:
        >>> isinstance(triton_available(), bool)
        True
    """
    return _triton_imports() and (interpreting() or torch.cuda.is_available())


class LazyKernel:
    """A kernel body compiled by `triton.jit` at its first launch, once per interpreter mode."""

    def __init__(self, body: Callable[..., None]) -> None:
        self.body = body
        self._compiled: dict[bool, Any] = {}

    def __getitem__(self, grid: tuple[int, ...]) -> Any:
        mode = interpreting()
        if mode not in self._compiled:
            import triton  # only here: importing this module must not need triton

            self._compiled[mode] = triton.jit(self.body)
        return self._compiled[mode][grid]


@dataclass(frozen=True)
class Launch:
    """Grid and compile-time settings of one kernel launch."""

    grid: tuple[int]
    block_h: int  # BLOCK_H, a power of two ≥ max(H, 16)
    accumulate: Any  # the tl dtype of every in-kernel quantity
    precision: str  # tl.dot input_precision: "tf32" or "ieee"


def launch_settings(name: str, x: Tensor, hidden_size: int) -> tuple[Launch, torch.dtype]:
    """The launch for a batch x (T, B, F) and H, and the accumulation dtype; checks the device.

    Raises:
        ConfigError: triton is missing, x is on the CPU without TRITON_INTERPRET=1, or H is
            above `MAX_HIDDEN`.
    """
    if not _triton_imports():
        raise ConfigError(f"{name}: the Triton kernels need triton; got none. pip install triton.")
    if x.device.type != "cuda" and not interpreting():
        raise ConfigError(
            f"{name}: the Triton kernels run on CUDA tensors (or on the CPU under "
            f"TRITON_INTERPRET=1); got a {x.device.type} tensor. Move it with .cuda() or use "
            f"the CPU path."
        )
    if hidden_size > MAX_HIDDEN:
        raise ConfigError(
            f"{name}: the persistent kernels hold W_hh in registers, for H ≤ {MAX_HIDDEN}; got "
            f"H = {hidden_size}. Use the other backends for this layer."
        )
    import triton.language as tl

    wide = x.dtype == torch.float64
    tf32 = x.dtype == torch.float32 and torch.backends.cuda.matmul.allow_tf32
    block_h = max(16, 1 << (hidden_size - 1).bit_length())
    grid = ((x.shape[1] + BLOCK_B - 1) // BLOCK_B,)
    launch = Launch(grid, block_h, tl.float64 if wide else tl.float32, "tf32" if tf32 else "ieee")
    return launch, torch.float64 if wide else torch.float32


def lengths_on(lengths: Tensor | None, x: Tensor) -> Tensor:
    """len_b (B,) int32 on x's device; T for every row when `lengths` is None."""
    T, B, _ = x.shape
    if lengths is None:
        return torch.full((B,), T, dtype=torch.int32, device=x.device)
    return lengths.to(device=x.device, dtype=torch.int32)


def masked_input(x: Tensor, lengths: Tensor) -> Tensor:
    """x with its padding set to 0 (padding may hold NaN, and 0 · NaN would leak into ∂L/∂W)."""
    real = torch.arange(x.shape[0], device=x.device)[:, None] < lengths[None, :]  # (T, B)
    return x.masked_fill(~real.unsqueeze(-1), 0.0)


def processing_order(tensor: Tensor, reverse: bool) -> Tensor:
    """A (T, …) tensor indexed by time, reindexed by the step order of the recurrence."""
    return tensor.flip(0) if reverse else tensor


def cell_replay(cell: Any, lengths: Any, reverse: bool) -> Callable[..., tuple[Tensor, ...]]:
    """The `replay` of a kernel's Function for second derivatives (`first_order`).

    replay(x, *state_0, …) runs the cell's own step over the same inputs (`run_cell`) and
    returns the outputs and the final state's fields, lined up with the Function's outputs.
    """

    def replay(x: Tensor, *inputs: Any) -> tuple[Tensor, ...]:
        from rnnkit.layers.recurrent import run_cell  # recurrent imports the fast table

        state = cell.state_type(*inputs[: len(cell.state_type._fields)])  # h_0 (and c_0)
        outputs, final = run_cell(cell, x, state, lengths, reverse=reverse)
        return (outputs, *final)

    return replay


def cast_like(grad: Tensor | None, like: Tensor | None) -> Tensor | None:
    """A gradient in the dtype of the tensor it belongs to."""
    return None if grad is None or like is None else grad.to(like.dtype)


__all__ = [
    "BLOCK_B",
    "MAX_HIDDEN",
    "Launch",
    "LazyKernel",
    "cast_like",
    "cell_replay",
    "interpreting",
    "launch_settings",
    "lengths_on",
    "masked_input",
    "processing_order",
    "tl",
    "triton_available",
]
