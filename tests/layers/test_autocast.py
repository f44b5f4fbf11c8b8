"""rnnkit.RNN / LSTM / GRU under torch.autocast: torch.nn's dtypes, close values, float32 grads.

Each case copies the weights of a torch.nn layer, runs both under the same autocast, and demands
the dtypes torch.nn returns (layers/autocast.py has the table), outputs and states within bf16
(or fp16) tolerances of torch's, and gradients that reach the float32 parameters close to
torch's. The CPU bfloat16 cases run everywhere; the CUDA ones are marked `gpu`.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit
from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.errors import ShapeError

MODES = ["RNN", "LSTM", "GRU"]
PATHS = ["auto", "autograd", "hand"]
CPU_BF16 = ("cpu", torch.bfloat16)
CUDA_CASES = [
    pytest.param(("cuda", torch.float16), marks=pytest.mark.gpu, id="cuda-fp16"),
    pytest.param(("cuda", torch.bfloat16), marks=pytest.mark.gpu, id="cuda-bf16"),
]


def _make(mode: str, bptt: str, device: str, **options: object) -> tuple[nn.Module, nn.Module]:
    reference = getattr(nn, mode)(3, 5, **options).to(device)
    layer = getattr(rnnkit, mode)(3, 5, bptt=bptt, **options).to(device)
    layer.load_state_dict(reference.state_dict())
    return reference, layer


def _run(module: nn.Module, x: torch.Tensor, lengths: torch.Tensor | None, case: tuple) -> tuple:
    """(output padded (T, B, ·), final states) of `module` under autocast; packed if lengths."""
    device, dtype = case
    with torch.autocast(device, dtype=dtype):
        if lengths is None:
            output, state = module(x)
        else:
            packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
            output, state = module(packed)
            output = pad_packed_sequence(output)[0]
    states = tuple(state) if isinstance(state, tuple) else (state,)
    return output, states


def _tolerance(dtype: torch.dtype) -> float:
    return 4e-2 if dtype == torch.bfloat16 else 5e-3


def _check_against_torch(mode: str, bptt: str, case: tuple, *, bidirectional: bool,
                         with_lengths: bool, **options: object) -> None:  # fmt: skip
    device, dtype = case
    reference, layer = _make(
        mode, bptt, device, num_layers=2, bidirectional=bidirectional, **options
    )
    x = torch.randn(6, 4, 3, device=device)  # (T, B, F)
    lengths = torch.tensor([6, 2, 4, 1]) if with_lengths else None
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    expected, expected_states = _run(reference, x_ref, lengths, case)
    output, states = _run(layer, x_ours, lengths, case)
    assert output.dtype == expected.dtype
    assert [s.dtype for s in states] == [s.dtype for s in expected_states]
    tol = _tolerance(dtype)
    torch.testing.assert_close(output.float(), expected.float(), atol=tol, rtol=0)
    for ours, theirs in zip(states, expected_states, strict=True):
        torch.testing.assert_close(ours.float(), theirs.float(), atol=tol, rtol=0)
    weight = torch.linspace(-1, 1, output.numel(), device=device).view_as(output)
    (expected.float() * weight).sum().backward()
    (output.float() * weight).sum().backward()
    for (name, ours), theirs in zip(layer.named_parameters(), reference.parameters(), strict=True):
        assert ours.dtype == torch.float32, name
        assert ours.grad.dtype == torch.float32, name
        scale = float(theirs.grad.abs().max()) + 1.0
        torch.testing.assert_close(ours.grad, theirs.grad, atol=4 * tol * scale, rtol=0)
    torch.testing.assert_close(x_ours.grad, x_ref.grad, atol=4 * tol, rtol=0)


def _paths(mode: str) -> list[str]:
    return [p for p in PATHS if not (mode == "GRU" and p == "hand")]


CASES = [(m, p) for m in MODES for p in _paths(m)]


@pytest.mark.parametrize(("mode", "bptt"), CASES)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "packed"])
def test_cpu_bf16_matches_torch(mode: str, bptt: str, bidirectional: bool,
                                with_lengths: bool) -> None:  # fmt: skip
    _check_against_torch(mode, bptt, CPU_BF16, bidirectional=bidirectional,
                         with_lengths=with_lengths)  # fmt: skip


@pytest.mark.parametrize("case", CUDA_CASES)
@pytest.mark.parametrize(("mode", "bptt"), CASES)
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "packed"])
def test_cuda_autocast_matches_torch(case: tuple, mode: str, bptt: str,
                                     with_lengths: bool) -> None:  # fmt: skip
    _check_against_torch(mode, bptt, case, bidirectional=True, with_lengths=with_lengths)


@pytest.mark.parametrize("bptt", ["auto", "autograd"])
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "packed"])
def test_cpu_bf16_projected_lstm_matches_torch(bptt: str, with_lengths: bool) -> None:
    """torch keeps c_t in float32 and h_t = W_hr(…) in bfloat16 here; so must we."""
    _check_against_torch("LSTM", bptt, CPU_BF16, bidirectional=True, with_lengths=with_lengths,
                         proj_size=3)  # fmt: skip


@pytest.mark.parametrize(("mode", "bptt"), CASES)
def test_low_precision_input_is_accepted_under_autocast_as_torch(mode: str, bptt: str) -> None:
    """A bfloat16 input (say, from a Linear under autocast) runs, as in torch.nn; dtypes agree."""
    reference, layer = _make(mode, bptt, "cpu", batch_first=True)
    x = torch.randn(2, 5, 3).bfloat16()  # (B, T, F)
    expected, expected_states = _run(reference, x, None, CPU_BF16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output, state = layer(x)
    states = tuple(state) if isinstance(state, tuple) else (state,)
    assert output.dtype == expected.dtype
    assert [s.dtype for s in states] == [s.dtype for s in expected_states]
    torch.testing.assert_close(output.float(), expected.float(), atol=4e-2, rtol=0)


@pytest.mark.parametrize("mode", MODES)
def test_without_autocast_a_dtype_mismatch_is_still_refused(mode: str) -> None:
    layer = getattr(rnnkit, mode)(3, 5)
    with pytest.raises(ShapeError, match="got"):
        layer(torch.randn(4, 2, 3).bfloat16())


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("LSTM", {"peephole": True}),
        ("LSTM", {"coupled_gates": True}),
        ("LSTM", {"proj_size": 3}),
        ("GRU", {"reset_after": False}),
        ("RNN", {"nonlinearity": "identity"}),
    ],
)
def test_rnnkit_variants_run_under_autocast_with_float32_gradients(
    mode: str, options: dict
) -> None:
    """The variants torch.nn lacks: close to their own float32 run, gradients in float32."""
    layer = getattr(rnnkit, mode)(3, 5, bidirectional=True, **options)
    x = torch.randn(6, 2, 3)
    expected, _ = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output, _ = layer(x)
    torch.testing.assert_close(output.float(), expected, atol=5e-2, rtol=0)
    output.float().sum().backward()
    for name, parameter in layer.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.dtype == torch.float32, name
        assert bool(parameter.grad.isfinite().all()), name


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (ElmanCell, nn.RNNCell),
        (LSTMCell, nn.LSTMCell),
        (GRUCell, nn.GRUCell),
    ],
)
@pytest.mark.parametrize("case", [CPU_BF16, *CUDA_CASES])
def test_taught_cells_under_autocast_give_torch_cells_dtypes(
    ours: type, theirs: type, case: tuple
) -> None:
    device, dtype = case
    reference = theirs(3, 5).to(device)
    cell = ours(3, 5).to(device)
    cell.load_state_dict(reference.state_dict())
    x_t = torch.randn(2, 3, device=device)
    with torch.autocast(device, dtype=dtype):
        expected = reference(x_t)
        state = cell(x_t)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert [s.dtype for s in state] == [s.dtype for s in expected]
    for mine, reference_value in zip(state, expected, strict=True):
        torch.testing.assert_close(mine.float(), reference_value.float(), atol=2e-2, rtol=0)


@pytest.mark.parametrize(
    "options",
    [{"forget_gate": False}, {"output_activation": "identity"}, {"full_gate_recurrence": True}],
)
def test_greff_variants_are_not_torchs_lstm_under_autocast(options: dict) -> None:
    from rnnkit.cells import LSTMCell
    from rnnkit.layers.autocast import kind_of

    assert kind_of(LSTMCell(3, 4)) == "LSTM"
    assert kind_of(LSTMCell(3, 4, **options)) == "composite"
