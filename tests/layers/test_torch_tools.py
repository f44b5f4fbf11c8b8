"""rnnkit's layers under PyTorch's tools, each against torch.nn with the same weights.

torch.func (vmap, jacrev, grad over parameters), the vectorised Jacobian of torch.autograd,
torch.compile(fullgraph=True), torch.export with gradients, ONNX export run by onnxruntime, and
the single operators the compilers trace (`rnnkit.layers.fast.traceable`, checked by
torch.library.opcheck). The layers run their fast paths by default ("auto"), so each test goes
through the table's rows (`rnnkit.layers.fast`).
"""

from __future__ import annotations

import time

import pytest
import torch
from torch import Tensor, nn

import rnnkit
from rnnkit.layers.fast import traceable

KINDS = ["RNN", "LSTM", "GRU"]


def _pair(kind: str, **options: object) -> tuple[nn.RNNBase, nn.Module]:
    """torch.nn's layer and rnnkit's with the same weights, in float64."""
    torch.manual_seed(0)
    reference = getattr(nn, kind)(3, 4, batch_first=True, **options).double()
    ours = getattr(rnnkit, kind)(3, 4, batch_first=True, **options).double()
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def _outputs(module: nn.Module):
    return lambda x: module(x)[0]


@pytest.mark.parametrize("kind", KINDS)
def test_jacrev_equals_torch(kind: str) -> None:
    reference, ours = _pair(kind, bidirectional=True)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    expected = torch.func.jacrev(_outputs(reference))(x)
    torch.testing.assert_close(torch.func.jacrev(_outputs(ours))(x), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_vectorised_jacobian_equals_torch(kind: str) -> None:
    """autograd's vmap over the backward: the hand-derived backward replays the cell."""
    reference, ours = _pair(kind, num_layers=2)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian
    expected = jacobian(_outputs(reference), x, vectorize=True)
    torch.testing.assert_close(jacobian(_outputs(ours), x, vectorize=True), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_vmap_equals_torch_per_sample(kind: str) -> None:
    """torch.nn's fused operators have no batching rule; rnnkit's layer vmaps over samples."""
    reference, ours = _pair(kind)
    x = torch.randn(3, 2, 5, 3, dtype=torch.float64)  # 3 independent batches of (2, 5, 3)
    expected = torch.stack([reference(sample)[0] for sample in x])
    torch.testing.assert_close(torch.vmap(_outputs(ours))(x), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_func_grad_of_parameters_equals_torch(kind: str) -> None:
    reference, ours = _pair(kind)
    x = torch.randn(2, 5, 3, dtype=torch.float64)

    def loss(module: nn.Module):
        return lambda params: torch.func.functional_call(module, params, (x,))[0].square().sum()

    expected = torch.func.grad(loss(reference))(dict(reference.named_parameters()))
    found = torch.func.grad(loss(ours))(dict(ours.named_parameters()))
    assert found.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(found[name], expected[name], msg=name)


def _gradients(module: nn.Module, x: Tensor) -> list[Tensor]:
    x = x.detach().requires_grad_()
    module.zero_grad()
    outputs, _ = module(x)
    (outputs * torch.linspace(-1, 1, outputs.shape[-1], dtype=x.dtype)).square().sum().backward()
    return [outputs.detach(), x.grad, *(p.grad for p in module.parameters())]


@pytest.mark.parametrize("kind", KINDS)
def test_export_runs_with_gradients_as_torch(kind: str) -> None:
    reference, ours = _pair(kind, bidirectional=True)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    exported = torch.export.export(ours, (x,)).module()
    names = [f"rnnkit::{name}" for name in ("elman_sequence", "lstm_sequence", "gru_sequence")]
    graph = str(exported.graph)
    assert any(name.replace("::", ".") in graph for name in names), "the fast operator is traced"
    found = _gradients(exported, x)
    expected = _gradients(reference, x)
    for actual, wanted in zip(found[:2], expected[:2], strict=True):  # outputs, ∂L/∂x
        torch.testing.assert_close(actual, wanted)
    exported_grads = {n: p.grad for n, p in exported.named_parameters()}
    for name, parameter in reference.named_parameters():
        torch.testing.assert_close(exported_grads[name], parameter.grad, msg=name)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_compile_fullgraph_equals_eager_and_torch(kind: str) -> None:
    """One graph (fullgraph=True) with the sequence as one operator: compile time stays small."""
    torch._dynamo.reset()
    reference, ours = _pair(kind, num_layers=2, bidirectional=True)
    reference, ours = reference.float(), ours.float()
    x = torch.randn(4, 30, 3)
    compiled = torch.compile(ours, fullgraph=True)
    start = time.perf_counter()
    found = _gradients(compiled, x)
    seconds = time.perf_counter() - start
    expected = _gradients(reference, x)
    for actual, wanted in zip(found, expected, strict=True):
        torch.testing.assert_close(actual, wanted, atol=1e-5, rtol=1e-4)
    print(f"{kind}: compile + first step {seconds:.1f} s")  # bench/compile.py times it


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_export_runs_in_onnxruntime_as_eager(kind: str, tmp_path) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    reference, ours = _pair(kind, num_layers=2, bidirectional=True)
    ours = ours.float()
    x = torch.randn(2, 5, 3)
    path = tmp_path / f"{kind}.onnx"
    torch.onnx.export(ours.eval(), (x,), str(path), dynamo=True, verbose=False)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    expected = ours(x)[0].detach().numpy()
    assert abs(outputs[0] - expected).max() < 1e-5
    reference_outputs = reference.float()(x)[0].detach().numpy()
    assert abs(outputs[0] - reference_outputs).max() < 1e-5


def _operator_arguments(kind: str) -> tuple[object, tuple[object, ...]]:
    torch.manual_seed(1)
    T, B, F, H = 4, 3, 2, 5
    x = torch.randn(T, B, F, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind]
    w_ih = torch.randn(gates * H, F, dtype=torch.float64, requires_grad=True)
    w_hh = torch.randn(gates * H, H, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(gates * H, dtype=torch.float64, requires_grad=True)
    if kind == "RNN":
        return traceable.elman_op, (x, h0, w_ih, w_hh, bias, "tanh")
    if kind == "LSTM":
        c0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
        return traceable.lstm_op, (x, h0, c0, w_ih, w_hh, bias)
    return traceable.gru_op, (x, h0, w_ih, w_hh, bias, bias.detach().clone().requires_grad_())


@pytest.mark.parametrize("kind", KINDS)
def test_traced_operators_pass_opcheck_and_gradcheck(kind: str) -> None:
    """Fake shapes, schema and registered autograd (opcheck), and the hand backward (gradcheck)."""
    operator, arguments = _operator_arguments(kind)
    torch.library.opcheck(operator, arguments)

    def first_output(*tensors: Tensor) -> Tensor:
        result = operator(*tensors, *arguments[len(tensors) :])
        return result if isinstance(result, Tensor) else result[0]

    tensors = tuple(a for a in arguments if isinstance(a, Tensor))
    assert torch.autograd.gradcheck(first_output, tensors)


def test_traced_sequence_equals_the_fast_path_reversed_and_stacked() -> None:
    """The operators, called eagerly through traced_sequence, give the fast rows' numbers."""
    from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
    from rnnkit.layers.fast import lookup

    torch.manual_seed(2)
    for cell in (ElmanCell(3, 4, nonlinearity="relu"), LSTMCell(3, 4), GRUCell(3, 4)):
        cell = cell.double()
        x = torch.randn(6, 2, 3, dtype=torch.float64)
        state = cell.init_state(2, dtype=torch.float64)
        for reverse in (False, True):
            outputs, final = traceable.traced_sequence(cell, x, state, reverse)
            fast_outputs, fast_final = lookup(cell).run(cell, x, state, None, reverse)
            torch.testing.assert_close(outputs, fast_outputs)
            for field, fast_field in zip(final, fast_final, strict=True):
                torch.testing.assert_close(field, fast_field)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")  # the checks' Python booleans
@pytest.mark.parametrize("kind", KINDS)
def test_jit_trace_equals_torch_and_script_is_refused_loudly(kind: str) -> None:
    """torch.jit.trace records the cells' steps; torch.jit.script names the supported tools."""
    reference, ours = _pair(kind, bidirectional=True)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    with pytest.warns(DeprecationWarning, match="jit.trace"):  # torch 2.13 deprecates it
        traced = torch.jit.trace(ours, (x,), check_trace=False)
    for actual, expected in zip(traced(x), reference(x), strict=True):
        torch.testing.assert_close(actual, expected)
    with pytest.raises(NotImplementedError, match=r"torch\.compile.*torch\.export"):
        torch.jit.script(ours)
    with pytest.raises(NotImplementedError, match="not TorchScript"):
        torch.jit.script(getattr(rnnkit, f"{kind}Cell")(3, 4))
