"""rnnkit.RNNCell / LSTMCell / GRUCell against torch.nn's cells: a port of PyTorch's module tests.

The cases follow torch/testing/_internal/common_modules.py (torch 2.13): the inputs of
`module_inputs_torch_nn_RNN_GRU_Cell` and `module_inputs_torch_nn_LSTMCell` (unbatched (F,) input
with an hx, `bias=True`, RNNCell's `nonlinearity="relu"`, checked against the batch-of-one result
as its `no_batch_dim_reference_*` functions do) and the errors of `module_error_inputs_torch_nn_
RNN_GRU_Cell` / `_LSTMCell` (same exception type and torch's own message pattern), plus batched
input, no hx, `bias=False`, B = 1 and further bad inputs. Each case runs on torch.nn's cell and on
rnnkit's with the same weights, in float64: equal outputs, equal gradients, gradcheck.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.func import functional_call

import rnnkit
from rnnkit import cells, layers
from rnnkit.errors import ConfigError, RnnkitError
from rnnkit.layers import torch_cells

KINDS = {"RNNCell": nn.RNNCell, "LSTMCell": nn.LSTMCell, "GRUCell": nn.GRUCell}


@dataclass(frozen=True)
class CellCase:
    """One constructor call and one forward input, as a ModuleInput of common_modules."""

    kind: str  # "RNNCell", "LSTMCell" or "GRUCell"
    arguments: tuple[Any, ...] = (5, 10)  # (F, H, …) as torch's positional arguments
    keywords: dict[str, Any] = field(default_factory=dict)
    batch: int | None = None  # None: unbatched input (F,) and hx (H,)
    with_hx: bool = True

    @property
    def id(self) -> str:
        batch = "unbatched" if self.batch is None else f"B{self.batch}"
        options = "-".join(f"{key}={value}" for key, value in self.keywords.items())
        return "-".join(
            part for part in (self.kind, batch, "hx" if self.with_hx else "no-hx", options) if part
        )

    def modules(self) -> tuple[nn.Module, nn.Module]:
        """torch.nn's cell and rnnkit's, with the same weights."""
        reference = KINDS[self.kind](*self.arguments, **self.keywords)
        return reference, getattr(rnnkit, self.kind).from_torch(reference)

    def inputs(self) -> tuple[Tensor, Any]:
        """input (B, F) or (F,) and hx: None, a tensor, or an (h, c) pair for LSTMCell."""
        F_in, H = self.arguments[:2]
        lead = () if self.batch is None else (self.batch,)
        x = torch.randn(*lead, F_in, requires_grad=True)
        if not self.with_hx:
            return x, None
        states = [torch.randn(*lead, H, requires_grad=True) for _ in self.state_names()]
        return x, tuple(states) if self.kind == "LSTMCell" else states[0]

    def state_names(self) -> tuple[str, ...]:
        return ("h", "c") if self.kind == "LSTMCell" else ("h",)


PORTED = [  # common_modules.module_inputs_torch_nn_RNN_GRU_Cell / _LSTMCell: unbatched with hx
    *(CellCase(kind) for kind in KINDS),
    *(CellCase(kind, keywords={"bias": True}) for kind in KINDS),
    CellCase("RNNCell", keywords={"bias": True, "nonlinearity": "relu"}),
]
OURS = [
    *(CellCase(kind, batch=3) for kind in KINDS),
    *(CellCase(kind, batch=3, with_hx=False) for kind in KINDS),
    *(CellCase(kind, with_hx=False) for kind in KINDS),
    *(CellCase(kind, keywords={"bias": False}, batch=4) for kind in KINDS),
    *(CellCase(kind, (2, 3), batch=1) for kind in KINDS),
    CellCase("RNNCell", keywords={"nonlinearity": "relu"}, batch=3, with_hx=False),
    CellCase("RNNCell", keywords={"bias": False, "nonlinearity": "relu"}),
]
CASES = PORTED + OURS


def flat(output: Any) -> list[Tensor]:
    return list(output) if isinstance(output, tuple) else [output]


def leaves(x: Tensor, hx: Any) -> list[Tensor]:
    return [x] if hx is None else [x, *flat(hx)]


def copy_of(tensor: Tensor) -> Tensor:
    return tensor.detach().clone().requires_grad_()


def fresh(x: Tensor, hx: Any) -> tuple[Tensor, Any]:
    """The same values as new leaves, so each module gets its own gradients."""
    if hx is None:
        return copy_of(x), None
    return copy_of(x), tuple(map(copy_of, hx)) if isinstance(hx, tuple) else copy_of(hx)


def outputs_and_gradients(module: nn.Module, x: Tensor, hx: Any) -> tuple[list[Tensor], ...]:
    """The outputs, and the gradients of Σ w·output w.r.t. input, hx and each parameter."""
    x, hx = fresh(x, hx)
    outputs = flat(module(x, hx))
    torch.manual_seed(99)  # the same weights w for both modules
    loss = sum((output * torch.randn_like(output)).sum() for output in outputs)
    wrt = leaves(x, hx) + [parameter for _, parameter in sorted(module.named_parameters())]
    return outputs, list(torch.autograd.grad(loss, wrt))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_outputs_and_gradients_equal_torch(float64: torch.dtype, case: CellCase) -> None:
    reference, cell = case.modules()
    x, hx = case.inputs()
    expected, expected_gradients = outputs_and_gradients(reference, x, hx)
    got, gradients = outputs_and_gradients(cell, x, hx)
    assert isinstance(cell(x, hx), tuple) == (case.kind == "LSTMCell")
    assert [t.shape for t in got] == [t.shape for t in expected]
    for value, expected_value in zip(got + gradients, expected + expected_gradients, strict=True):
        torch.testing.assert_close(value, expected_value, atol=1e-10, rtol=0)
    if case.batch is None:  # common_modules' no_batch_dim_reference_fn: a batch of one
        batched_hx = None if hx is None else [t.unsqueeze(0) for t in flat(hx)]  # (1, H)
        if batched_hx is not None:
            batched_hx = tuple(batched_hx) if case.kind == "LSTMCell" else batched_hx[0]
        batch_of_one = cell(x.unsqueeze(0), batched_hx)
        for value, batched in zip(flat(cell(x, hx)), flat(batch_of_one), strict=True):
            torch.testing.assert_close(value, batched.squeeze(0), atol=0, rtol=0)


def cell_function(
    cell: nn.Module, case: CellCase
) -> tuple[Callable[..., tuple[Tensor, ...]], list[Tensor]]:
    """f(x, *hx, *parameters) -> outputs, for gradcheck over inputs and parameters alike."""
    names = [name for name, _ in cell.named_parameters()]
    states = len(case.state_names()) if case.with_hx else 0

    def function(x: Tensor, *tensors: Tensor) -> tuple[Tensor, ...]:
        hx = None
        if states:
            hx = tuple(tensors[:states]) if case.kind == "LSTMCell" else tensors[0]
        values = dict(zip(names, tensors[states:], strict=True))
        return tuple(flat(functional_call(cell, values, (x, hx))))

    parameters = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    return function, parameters


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_gradcheck(float64: torch.dtype, case: CellCase) -> None:
    _, cell = case.modules()
    function, parameters = cell_function(cell, case)
    x, hx = case.inputs()
    fast = case.batch not in (None, 1)  # a random projection of the Jacobian for B > 1 (speed)
    inputs = (*leaves(x, hx), *parameters)
    assert torch.autograd.gradcheck(function, inputs, atol=1e-8, fast_mode=fast)


@pytest.mark.parametrize("kind", KINDS)
def test_gradgradcheck_and_a_gradient_penalty_equal_torch(float64: torch.dtype, kind: str) -> None:
    """Double backward (test_modules' test_gradgrad), and its parameter gradients against torch."""
    case = CellCase(kind, (3, 4), batch=2)
    reference, cell = case.modules()
    function, parameters = cell_function(cell, case)
    x, hx = case.inputs()
    assert torch.autograd.gradgradcheck(function, (*leaves(x, hx), *parameters), atol=1e-8)
    penalties = []
    for module in (reference, cell):
        x_copy, hx_copy = fresh(x, hx)
        (gradient,) = torch.autograd.grad(
            sum(t.sum() for t in flat(module(x_copy, hx_copy))), x_copy, create_graph=True
        )
        penalty = (gradient**2).sum()  # a gradient penalty ‖∂L/∂x‖²
        penalties.append(torch.autograd.grad(penalty, list(module.parameters())))
    for got, expected in zip(*penalties, strict=True):
        torch.testing.assert_close(got, expected, atol=1e-10, rtol=0)


RNN_GRU_ERRORS = [  # common_modules.module_error_inputs_torch_nn_RNN_GRU_Cell
    ((10, 20), (3, 11), (3, 20), "input has inconsistent input_size: got 11 expected 10"),
    ((10, 20), (3, 10), (3, 21), "hidden0 has inconsistent hidden_size: got 21, expected 20"),
    ((10, 20), (3, 10), (5, 20), "Input batch size 3 doesn't match hidden0 batch size 5"),
    ((10, 20), (3, 10), (3, 1, 1, 20), "Expected hidden to be 1D or 2D, got 4D instead"),
    ((10, 20), (2, 3, 10), (3, 20), "Expected input to be 1D or 2D, got 3D instead"),
    ((10, 20), (3, 10), (20,), "got"),  # hx (H,) with batched input
    ((10, 20), (10,), (1, 20), "got"),  # hx (1, H) with unbatched input
    ((10, 20), (11,), None, "input has inconsistent input_size: got 11 expected 10"),
]
RNN_ONLY_ERRORS = [
    (
        (10, 20, "relu"),
        (3, 10),
        (3, 21),
        "hidden0 has inconsistent hidden_size: got 21, expected 20",
    ),
    (
        (10, 20, "tanh"),
        (3, 10),
        (3, 21),
        "hidden0 has inconsistent hidden_size: got 21, expected 20",
    ),
]
LSTM_ERRORS = [  # common_modules.module_error_inputs_torch_nn_LSTMCell, then ours
    ((10, 20), (3, 11), [(3, 20)] * 2, "input has inconsistent input_size: got 11 expected 10"),
    ((10, 20), (3, 10), [(3, 21)] * 2, "hidden0 has inconsistent hidden_size: got 21, expected 20"),
    ((10, 20), (3, 10), [(5, 20)] * 2, "Input batch size 3 doesn't match hidden0 batch size 5"),
    ((10, 20), (3, 10), [(3, 1, 1, 20)] * 2, r"Expected hx\[0\] to be 1D or 2D, got 4D instead"),
    ((10, 20), (3, 10), [(3, 20), (3, 1, 20)], r"Expected hx\[1\] to be 1D or 2D, got 3D instead"),
    ((10, 20), (3, 10), [(3, 20), (3, 19)], "hidden1 has inconsistent hidden_size: got 19"),
    (
        (10, 20),
        (3, 10),
        [(3, 20), (4, 20)],
        "Input batch size 3 doesn't match hidden1 batch size 4",
    ),
    ((10, 20), (2, 3, 10), [(3, 20)] * 2, "Expected input to be 1D or 2D, got 3D instead"),
    ((10, 20), (3, 10), (3, 20), "pair"),  # hx a tensor, not (h, c): TypeError in both
]
ERRORS = [
    *((kind, *error) for kind in ("RNNCell", "GRUCell") for error in RNN_GRU_ERRORS),
    *(("RNNCell", *error) for error in RNN_ONLY_ERRORS),
    *(("LSTMCell", *error) for error in LSTM_ERRORS),
]


def make_hx(shape: Any) -> Any:
    if shape is None:
        return None
    if isinstance(shape, list):
        return tuple(torch.randn(*each) for each in shape)
    return torch.randn(*shape)


@pytest.mark.parametrize(("kind", "arguments", "input_shape", "hx_shape", "pattern"), ERRORS)
def test_bad_input_raises_torch_exception_type(
    kind: str, arguments: tuple, input_shape: tuple, hx_shape: Any, pattern: str
) -> None:
    reference = KINDS[kind](*arguments)
    cell = getattr(rnnkit, kind).from_torch(reference)
    x, hx = torch.randn(*input_shape), make_hx(hx_shape)
    with pytest.raises(Exception) as torch_error:  # noqa: PT011  (any type: torch's is the spec)
        reference(x, hx)
    with pytest.raises(type(torch_error.value), match=pattern) as error:
        cell(x, hx)
    assert isinstance(error.value, RnnkitError)
    assert "expected" in str(error.value).lower() or "must" in str(error.value)


def test_dtype_mismatch_is_a_runtime_error_as_in_torch() -> None:
    for kind, torch_class in KINDS.items():
        reference = torch_class(3, 4)
        cell = getattr(rnnkit, kind).from_torch(reference)
        for x in (torch.randn(2, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.long)):
            with pytest.raises(RuntimeError):
                reference(x)
            with pytest.raises(RuntimeError, match="dtype and device") as error:
                cell(x)
            assert isinstance(error.value, RnnkitError)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", KINDS)
def test_state_dicts_interchange_with_torch(kind: str, bias: bool) -> None:
    reference, cell = KINDS[kind](3, 4, bias=bias), getattr(rnnkit, kind)(3, 4, bias=bias)
    assert list(cell.state_dict()) == list(reference.state_dict())
    cell.load_state_dict(reference.state_dict())
    other = KINDS[kind](3, 4, bias=bias)
    other.load_state_dict(cell.state_dict())
    x = torch.randn(2, 3)
    for got, expected in zip(flat(cell(x)), flat(other(x)), strict=True):
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_initialisation_draws_torch_numbers(kind: str) -> None:
    """U(−1/√H, 1/√H) for every parameter, in torch's order: the same seed gives the same cell."""
    torch.manual_seed(5)
    reference = KINDS[kind](7, 100)
    torch.manual_seed(5)
    cell = getattr(rnnkit, kind)(7, 100)
    for (name, got), (_, expected) in zip(
        cell.state_dict().items(), reference.state_dict().items(), strict=True
    ):
        assert torch.equal(got, expected), name
    values = torch.cat([p.flatten() for p in cell.parameters()])
    bound = 1 / 100**0.5
    assert values.abs().max() <= bound
    assert values.max() > 0.95 * bound  # the whole interval is used
    assert values.min() < -0.95 * bound


@pytest.mark.parametrize("kind", KINDS)
def test_from_torch_and_to_torch_keep_weights_dtype_and_mode(kind: str) -> None:
    reference = KINDS[kind](3, 4, bias=False, dtype=torch.float64).eval()
    cell = getattr(rnnkit, kind).from_torch(reference)
    assert (cell.weight_ih.dtype, cell.training, cell.bias) == (torch.float64, False, False)
    back = cell.to_torch()
    assert type(back) is KINDS[kind]
    assert not back.training
    pairs = zip(back.parameters(), reference.parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    wrong = nn.GRUCell(3, 4) if kind != "GRUCell" else nn.RNNCell(3, 4)
    with pytest.raises(ConfigError, match=f"needs a torch.nn.{kind}; got"):
        getattr(rnnkit, kind).from_torch(wrong)


def test_constructor_and_repr_are_torchs() -> None:
    configurations = [
        ("RNNCell", (5, 10), {}),
        ("RNNCell", (5, 10, False, "relu"), {}),  # torch's positional order
        ("RNNCell", (5, 10), {"nonlinearity": "relu"}),
        ("LSTMCell", (3, 4, False), {}),
        ("GRUCell", (3, 4), {"bias": True}),
    ]
    for kind, arguments, keywords in configurations:
        cell = getattr(rnnkit, kind)(*arguments, **keywords)
        assert repr(cell) == repr(KINDS[kind](*arguments, **keywords))
    with pytest.raises(ConfigError, match=r"nonlinearity.*\['tanh', 'relu'\], got 'identity'"):
        rnnkit.RNNCell(3, 4, nonlinearity="identity")


def test_factory_kwargs_and_zero_state_dtype() -> None:
    for kind in KINDS:
        cell = getattr(rnnkit, kind)(3, 4, device="cpu", dtype=torch.float64)
        assert {p.dtype for p in cell.parameters()} == {torch.float64}
        assert {t.dtype for t in flat(cell(torch.randn(3, dtype=torch.float64)))} == {torch.float64}


@pytest.mark.parametrize("kind", KINDS)
def test_copy_pickle_non_contiguous_empty_batch_and_modes(kind: str) -> None:
    """test_modules' test_pickle / test_non_contiguous_tensors / train-eval, and B = 0."""
    reference, cell = KINDS[kind](4, 5), getattr(rnnkit, kind)(4, 5)
    cell.load_state_dict(reference.state_dict())
    x = torch.randn(4, 3).t()  # (3, 4), not contiguous
    assert not x.is_contiguous()
    expected = flat(reference(x))
    for module in (copy.deepcopy(cell), pickle.loads(pickle.dumps(cell)), cell.eval()):
        for got, want in zip(flat(module(x)), expected, strict=True):
            torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    empty = torch.randn(0, 4)  # B = 0
    assert [t.shape for t in flat(cell(empty))] == [t.shape for t in flat(reference(empty))]


def test_exports_and_the_taught_cells_underneath() -> None:
    assert (rnnkit.RNNCell, rnnkit.LSTMCell, rnnkit.GRUCell) == (
        torch_cells.RNNCell,
        torch_cells.LSTMCell,
        torch_cells.GRUCell,
    )
    assert layers.LSTMCell is rnnkit.LSTMCell
    assert rnnkit.LSTMCell is not cells.LSTMCell
    for drop_in, taught in [
        (rnnkit.RNNCell, cells.ElmanCell),
        (rnnkit.LSTMCell, cells.LSTMCell),
        (rnnkit.GRUCell, cells.GRUCell),
    ]:
        assert issubclass(drop_in, taught)
        assert drop_in.step is taught.step  # the equations are the taught cell's, not a copy


def test_a_drop_in_cell_steps_a_sequence_like_torch(float64: torch.dtype) -> None:
    """The time loop of the torch.nn.LSTMCell docs, with rnnkit's cell in place of torch's."""
    reference = nn.LSTMCell(10, 20)
    cell = rnnkit.LSTMCell.from_torch(reference)
    x = torch.randn(2, 3, 10)  # (T, B, F)
    state, expected = None, None
    for x_t in x:
        state = cell(x_t, state)
        expected = reference(x_t, expected)
    torch.testing.assert_close(tuple(state), expected, atol=1e-10, rtol=0)
