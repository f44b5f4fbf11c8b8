"""Mixed precision: run the forward pass in bfloat16 or float16 where it is safe, keep fp32 weights.

Under `torch.autocast`, matrix products run in the low-precision type while reductions and the
loss stay in float32. float16 has a narrow exponent range, so small gradients underflow to 0;
a GradScaler multiplies the loss by a scale s before backward and divides the gradients by s
before the update, skipping updates whose gradients overflowed (Micikevicius et al. 2018).
bfloat16 has float32's exponent range and needs no scaler.

References:
    Micikevicius et al. 2018, "Mixed Precision Training", https://arxiv.org/abs/1710.03740
    https://pytorch.org/docs/stable/amp.html
"""

from __future__ import annotations

import contextlib
from typing import Literal

import torch

from rnnkit.errors import ConfigError

Precision = Literal["fp32", "bf16", "fp16"]
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_precision(name: str, device: torch.device) -> Precision:
    """ "auto" → bf16 on a GPU that supports it, fp16 on other GPUs, fp32 on CPU.

    >>> resolve_precision("auto", torch.device("cpu"))
    'fp32'
    """
    if name == "auto":
        if device.type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if name == "fp16" and device.type != "cuda":
        raise ConfigError("precision 'fp16' needs a CUDA device; use 'bf16' or 'fp32' on CPU")
    if name not in ("fp32", "bf16", "fp16"):
        raise ConfigError(f"precision must be auto, fp32, bf16 or fp16; got {name!r}")
    return name  # type: ignore[return-value]


def autocast(precision: Precision, device: torch.device) -> contextlib.AbstractContextManager:
    """The autocast context of `precision` (a null context for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=_DTYPES[precision])


def make_scaler(precision: Precision, device: torch.device) -> torch.amp.GradScaler | None:
    """A GradScaler for fp16, None otherwise."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler(device.type)
