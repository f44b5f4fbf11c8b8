"""Model, optimizer and recurrent-state tensors to and from flat `name → tensor` dicts.

safetensors stores a flat dict of tensors and nothing else, so everything a checkpoint holds
is split in two: tensors under flattened names (`state.3.exp_avg`) and the rest as JSON
(learning rates, betas, the shape of a nested state). Loading checks names and shapes first
and says what does not match, instead of torch's long strict-loading error.

References:
    https://pytorch.org/docs/stable/generated/torch.optim.Optimizer.state_dict.html
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.errors import CheckpointError


def model_tensors(model: nn.Module) -> dict[str, Tensor]:
    """The model's state_dict as CPU tensors; tied weights become separate copies."""
    tensors: dict[str, Tensor] = {}
    seen: set[int] = set()
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu()
        if tensor.untyped_storage().data_ptr() in seen:
            tensor = tensor.clone()  # safetensors refuses shared storage
        seen.add(tensor.untyped_storage().data_ptr())
        tensors[name] = tensor.contiguous()
    return tensors


def load_model_tensors(
    model: nn.Module, tensors: dict[str, Tensor], *, source: Path, hint: str = ""
) -> None:
    """Copy checkpoint weights into `model` after checking every name and shape.

    Raises:
        CheckpointError: naming `source`, the missing, unexpected and mis-shaped weights, and
            `hint` (e.g. the config fields that differ from the checkpoint's).
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    shapes = [
        f"{name}: checkpoint {tuple(tensors[name].shape)} vs model {tuple(value.shape)}"
        for name, value in expected.items()
        if name in tensors and tensors[name].shape != value.shape
    ]
    if missing or unexpected or shapes:
        problems = [
            f"missing {missing}" if missing else "",
            f"unexpected {unexpected}" if unexpected else "",
            f"shape mismatch {shapes}" if shapes else "",
        ]
        raise CheckpointError(
            f"{source} does not match the model built from the config: "
            + "; ".join(p for p in problems if p)
            + (f". {hint}" if hint else "")
        )
    model.load_state_dict(tensors)


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split `optimizer.state_dict()` into tensors `state.<param>.<key>` and JSON metadata."""
    state_dict = optimizer.state_dict()
    tensors: dict[str, Tensor] = {}
    extra: dict[str, dict[str, Any]] = {}
    for param_id, param_state in state_dict["state"].items():
        for key, value in param_state.items():
            if isinstance(value, Tensor):
                tensors[f"state.{param_id}.{key}"] = value.detach().cpu().contiguous()
            else:
                extra.setdefault(str(param_id), {})[key] = value
    meta = {
        "class": type(optimizer).__name__,
        "param_groups": state_dict["param_groups"],
        "extra": extra,
    }
    return tensors, meta


def load_optimizer_tensors(
    optimizer: torch.optim.Optimizer,
    tensors: dict[str, Tensor],
    meta: dict[str, Any],
    *,
    source: Path,
) -> None:
    """Restore an optimizer from `optimizer_tensors` output, refusing a different optimizer."""
    if meta.get("class") != type(optimizer).__name__:
        raise CheckpointError(
            f"{source} holds {meta.get('class')} state but the trainer uses "
            f"{type(optimizer).__name__}; resume with the optimizer the run was started with"
        )
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        _, param_id, key = name.split(".", 2)
        state.setdefault(int(param_id), {})[key] = tensor
    for param_id, values in meta.get("extra", {}).items():
        state.setdefault(int(param_id), {}).update(values)
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
        for group in meta["param_groups"]
    ]
    try:
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError) as err:
        raise CheckpointError(f"{source} does not fit this optimizer: {err}") from err


def structure_to_tensors(value: Any, prefix: str = "carry") -> tuple[dict[str, Tensor], Any]:
    """Flatten None, a tensor, or (named) tuples, lists and dicts of them.

    Returns the tensors under names `prefix.0`, `prefix.1`, … and a JSON description of the
    structure, from which `tensors_to_structure` rebuilds the value.
    """
    tensors: dict[str, Tensor] = {}

    def walk(item: Any) -> Any:
        if item is None:
            return {"kind": "none"}
        if isinstance(item, Tensor):
            name = f"{prefix}.{len(tensors)}"
            tensors[name] = item.detach().cpu().contiguous()
            return {"kind": "tensor", "name": name}
        if isinstance(item, dict):
            return {"kind": "dict", "items": {str(k): walk(v) for k, v in item.items()}}
        if isinstance(item, list | tuple):
            kind = "list" if isinstance(item, list) else "tuple"
            named = f"{type(item).__module__}:{type(item).__qualname__}"
            return {
                "kind": kind,
                "items": [walk(v) for v in item],
                "namedtuple": named if hasattr(item, "_fields") else None,
            }
        raise CheckpointError(
            f"cannot checkpoint a recurrent state of type {type(item).__name__}; use tensors "
            "in tuples, lists or dicts"
        )

    return tensors, walk(value)


def _namedtuple_class(name: str | None) -> type | None:
    """The NamedTuple class `module:qualname`, only from rnnkit or torch (else a plain tuple)."""
    if not name or not name.startswith(("rnnkit.", "torch.")):
        return None
    module_name, _, qualname = name.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) and issubclass(found, tuple) else None


def tensors_to_structure(tensors: dict[str, Tensor], structure: Any, device: torch.device) -> Any:
    """Rebuild a value flattened by `structure_to_tensors`, with its tensors on `device`."""
    kind = structure["kind"]
    if kind == "none":
        return None
    if kind == "tensor":
        return tensors[structure["name"]].to(device)
    if kind == "dict":
        return {k: tensors_to_structure(tensors, v, device) for k, v in structure["items"].items()}
    items = [tensors_to_structure(tensors, v, device) for v in structure["items"]]
    if kind == "list":
        return items
    named = _namedtuple_class(structure.get("namedtuple"))
    return named(*items) if named is not None else tuple(items)
