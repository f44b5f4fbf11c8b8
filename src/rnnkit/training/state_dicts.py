"""Model, optimizer and recurrent-state tensors to and from flat `name → tensor` dicts.

safetensors stores a flat dict of tensors and nothing else, so everything a checkpoint holds
is split in two: tensors under flattened names (`state.3.exp_avg`) and the rest as JSON
(learning rates, betas, the shape of a nested state). Loading checks names and shapes first
and says what does not match, instead of torch's long strict-loading error.

References:
    https://pytorch.org/docs/stable/generated/torch.optim.Optimizer.state_dict.html
"""

from __future__ import annotations

import sys
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
            `hint` (e.g. the config fields that differ from the checkpoint's); or parameters
            holding nan or inf.
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
    broken = nonfinite_parameters(model)
    if broken:  # rnnkit never writes these (Trainer.save_checkpoint): damaged, or foreign
        raise CheckpointError(
            f"{source}: the parameters {', '.join(broken[:5])} hold nan or inf; use an earlier "
            "checkpoint (--checkpoint PATH)"
        )


def nonfinite_parameters(model: nn.Module) -> list[str]:
    """Names of the parameters holding a nan or ±inf (buffers, e.g. a CRF's −inf mask, aside)."""
    return [name for name, param in model.named_parameters() if not bool(param.isfinite().all())]


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
    """Restore an optimizer from `optimizer_tensors` output, refusing a different optimizer.

    Raises:
        CheckpointError: naming `source`, when the optimizer class differs, or the tensor names
            or the metadata (state.json's "optimizer") are malformed or do not fit.
    """
    found = meta.get("class") if isinstance(meta, dict) else type(meta).__name__
    if found != type(optimizer).__name__:
        raise CheckpointError(
            f"{source} holds {found} state but the trainer uses "
            f"{type(optimizer).__name__}; resume with the optimizer the run was started with"
        )
    groups = meta.get("param_groups")
    if not isinstance(groups, list) or not all(isinstance(group, dict) for group in groups):
        raise CheckpointError(
            f"{source}: state.json's optimizer.param_groups is not a list of objects"
        )
    groups = [
        {k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
        for group in groups
    ]
    try:
        state = _optimizer_state(tensors, meta.get("extra", {}))
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise CheckpointError(f"{source} does not fit this optimizer: {err}") from err


def _optimizer_state(tensors: dict[str, Tensor], extra: Any) -> dict[int, dict[str, Any]]:
    """Per-parameter state from tensors `state.<id>.<key>` and JSON `extra` {id: {key: value}}.

    ValueError or AttributeError when a name or `extra` is malformed.
    """
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        _, param_id, key = name.split(".", 2)
        state.setdefault(int(param_id), {})[key] = tensor
    for param_id, values in extra.items():
        state.setdefault(int(param_id), {}).update(values)
    return state


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


def _namedtuple_class(name: object) -> type | None:
    """The NamedTuple class `module:qualname` of a loaded rnnkit or torch module, else None.

    Only modules already imported are searched: a checkpoint never makes Python import (and so
    run) a module it names, such as `rnnkit.__main__`. Unknown names give a plain tuple.
    """
    if not isinstance(name, str) or not name.startswith(("rnnkit.", "torch.")):
        return None
    module_name, _, qualname = name.partition(":")
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found if isinstance(found, type) and issubclass(found, tuple) else None


def tensors_to_structure(tensors: dict[str, Tensor], structure: Any, device: torch.device) -> Any:
    """Rebuild a value flattened by `structure_to_tensors`, with its tensors on `device`.

    Raises:
        CheckpointError: the description (state.json's "carry") is malformed, too deep, or
            names a tensor that `tensors` lacks.
    """
    try:
        return _rebuild(tensors, structure, device)
    except RecursionError as err:
        raise CheckpointError("state.json's 'carry' is nested too deeply to be a state") from err


def _rebuild(tensors: dict[str, Tensor], structure: Any, device: torch.device) -> Any:
    kind = structure.get("kind") if isinstance(structure, dict) else None
    items = structure.get("items") if isinstance(structure, dict) else None
    if kind == "none":
        return None
    if kind == "tensor":
        name = structure.get("name")
        if not isinstance(name, str) or name not in tensors:
            raise CheckpointError(
                f"state.json's 'carry' names the tensor {name!r:.60}, which "
                f"loop.safetensors lacks (it holds {sorted(tensors)[:5]})"
            )
        return tensors[name].to(device)
    if kind == "dict" and isinstance(items, dict):
        return {k: _rebuild(tensors, v, device) for k, v in items.items()}
    if kind not in ("list", "tuple") or not isinstance(items, list):
        raise CheckpointError(
            f"state.json's 'carry' holds {structure!r:.80}; expected a kind of none, tensor, "
            "dict, list or tuple with its items"
        )
    values = [_rebuild(tensors, v, device) for v in items]
    named = _namedtuple_class(structure.get("namedtuple")) if kind == "tuple" else None
    if kind == "list" or named is None:
        return values if kind == "list" else tuple(values)
    try:
        return named(*values)
    except TypeError as err:  # a different number of fields
        raise CheckpointError(
            f"state.json's 'carry': {named.__name__} does not fit: {err}"
        ) from err
