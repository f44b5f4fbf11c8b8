"""The Triton recurrent kernels on the CPU under Triton's interpreter, and compiled for sm_90.

How the interpreter is switched on without leaking: the kernel modules compile nothing at
import (`triton_common.LazyKernel` wraps a body in `triton.jit` at its first launch, once per
value of TRITON_INTERPRET read then). The autouse fixture below sets TRITON_INTERPRET=1 with
`monkeypatch` for each test of this module only, so torch.compile and every other test of the
session see the environment as it was. The compile tests need no GPU either: `triton.compile`
builds a cubin for sm_90 with the ptxas shipped in the triton wheel.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from layer_helpers import assert_close
from torch import nn

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.errors import ConfigError
from rnnkit.layers.fast import triton_elman, triton_gru, triton_lstm
from rnnkit.layers.fast.triton_common import MAX_HIDDEN, triton_available
from rnnkit.layers.lengths import SequenceLengths
from rnnkit.layers.recurrent import run_cell

pytestmark = [
    pytest.mark.kernels,
    pytest.mark.skipif(
        importlib.util.find_spec("triton") is None,
        reason="triton is not installed (the dev extra pins it: pip install -e '.[dev]')",
    ),
]

T, B, F, H = 3, 2, 3, 5  # small: every kernel runs in the interpreter in well under a second
KINDS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "lstm": (lambda f, h, **kw: LSTMCell(f, h, **kw), triton_lstm.lstm_triton),
    "gru": (lambda f, h, **kw: GRUCell(f, h, **kw), triton_gru.gru_triton),
    "elman_tanh": (lambda f, h, **kw: ElmanCell(f, h, **kw), triton_elman.elman_triton),
    "elman_relu": (
        lambda f, h, **kw: ElmanCell(f, h, nonlinearity="relu", **kw),
        triton_elman.elman_triton,
    ),
    "elman_identity": (
        lambda f, h, **kw: ElmanCell(f, h, nonlinearity="identity", **kw),
        triton_elman.elman_triton,
    ),
}
LENGTHS = {"full": None, "padded": [3, 1], "unsorted": [1, 3]}


@pytest.fixture(autouse=True)
def _interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    """TRITON_INTERPRET=1 for this test alone (restored afterwards by monkeypatch)."""
    monkeypatch.setenv("TRITON_INTERPRET", "1")


def _state(cell: Any, batch: int, dtype: torch.dtype = torch.float32) -> Any:
    """A random initial state that requires grad."""
    fields = (torch.randn(batch, cell.hidden_size, dtype=dtype) for _ in cell.state_type._fields)
    return cell.state_type(*(field.requires_grad_() for field in fields))


def _padding(lengths: list[int] | None, steps: int) -> SequenceLengths | None:
    return None if lengths is None else SequenceLengths.build(torch.tensor(lengths), steps, "cpu")


def _loss_grads(outputs: torch.Tensor, final: Any, leaves: list[torch.Tensor], seed: int) -> list:
    """∂L/∂ leaves for L = Σ w ⊙ outputs + Σ v ⊙ final state, w and v fixed by `seed`."""
    generator = torch.Generator().manual_seed(seed)
    loss = (outputs * torch.randn(outputs.shape, generator=generator).to(outputs.dtype)).sum()
    for field in final:
        loss = loss + (field * torch.randn(field.shape, generator=generator).to(field.dtype)).sum()
    return list(torch.autograd.grad(loss, leaves))


def _compare_with_cell_step(
    kind: str, lengths: list[int] | None, reverse: bool, batch: int, hidden: int, steps: int
) -> None:
    make, sequence = KINDS[kind]
    cell = make(F, hidden)
    x = torch.randn(steps, batch, F, requires_grad=True)  # (T, B, F)
    state = _state(cell, batch)
    padding = _padding(lengths, steps)
    leaves = [x, *state, *cell.parameters()]
    outputs, final = sequence(cell, x, state, padding, reverse)
    expected, expected_final = run_cell(cell, x, state, padding, reverse=reverse)
    assert_close(outputs, expected, atol=1e-5)
    for field, expected_field in zip(final, expected_final, strict=True):
        assert_close(field, expected_field, atol=1e-5)
    grads = _loss_grads(outputs, final, leaves, seed=7)
    expected_grads = _loss_grads(expected, expected_final, leaves, seed=7)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert_close(grad, expected_grad, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("lengths", sorted(LENGTHS))
@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_kernels_equal_the_cell_step(kind: str, lengths: str, reverse: bool) -> None:
    """Outputs, final state and ∂L/∂(x, state, every weight and bias), float32, to 1e-5."""
    _compare_with_cell_step(kind, LENGTHS[lengths], reverse, batch=2, hidden=H, steps=T)


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman_tanh"])
def test_several_programs_and_padded_tiles(kind: str) -> None:
    """B = 20 > BLOCK_B (two programs) and H = 17 (a 32-wide tile, 15 columns masked)."""
    lengths = torch.randint(1, 5, (20,)).tolist()
    _compare_with_cell_step(kind, lengths, reverse=True, batch=20, hidden=17, steps=4)


def _torch_layer(kind: str, forward_cell: Any, reverse_cell: Any) -> nn.Module:
    """torch.nn.LSTM / GRU / RNN, bidirectional, with the two cells' weights."""
    if kind == "lstm":
        layer: nn.Module = nn.LSTM(F, H, bidirectional=True)
    elif kind == "gru":
        layer = nn.GRU(F, H, bidirectional=True)
    else:
        layer = nn.RNN(F, H, nonlinearity=kind.removeprefix("elman_"), bidirectional=True)
    with torch.no_grad():
        for suffix, cell in (("", forward_cell), ("_reverse", reverse_cell)):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(layer, f"{name}_l0{suffix}").copy_(getattr(cell, name))
    return layer


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman_tanh", "elman_relu"])
def test_kernels_equal_torch_nn(kind: str) -> None:
    """Both directions with lengths against torch.nn's bidirectional layer on a packed batch."""
    make, sequence = KINDS[kind]
    forward_cell, reverse_cell = make(F, H), make(F, H)
    layer = _torch_layer(kind, forward_cell, reverse_cell)
    x = torch.randn(T, 3, F, requires_grad=True)  # (T, B, F)
    lengths = [2, 3, 1]
    initial = [torch.randn(2, 3, H, requires_grad=True) for _ in forward_cell.state_type._fields]
    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    torch_initial = tuple(initial) if kind == "lstm" else initial[0]
    packed_outputs, torch_final = layer(packed, torch_initial)
    expected, _ = nn.utils.rnn.pad_packed_sequence(packed_outputs, total_length=T)  # (T, B, 2H)
    expected_final = torch_final if kind == "lstm" else (torch_final,)  # each (2, B, H)

    padding = _padding(lengths, T)
    runs = [
        sequence(cell, x, cell.state_type(*(field[d] for field in initial)), padding, d == 1)
        for d, cell in enumerate((forward_cell, reverse_cell))
    ]
    outputs = torch.cat([runs[0][0], runs[1][0]], dim=-1)  # (T, B, 2H)
    final = [torch.stack([runs[0][1][i], runs[1][1][i]]) for i in range(len(initial))]
    assert_close(outputs, expected, atol=1e-5)
    for field, expected_field in zip(final, expected_final, strict=True):
        assert_close(field, expected_field, atol=1e-5)
    ours = [x, *initial, *forward_cell.parameters(), *reverse_cell.parameters()]
    theirs = [x, *initial, *layer.parameters()]  # the same order: l0 then l0_reverse
    grads = _loss_grads(outputs, final, ours, seed=3)
    expected_grads = _loss_grads(expected, expected_final, theirs, seed=3)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        assert_close(grad, expected_grad, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman_tanh"])
def test_gradcheck_float64(kind: str) -> None:
    """The interpreter's tl.dot runs float64 (np.matmul), so gradcheck applies, reversed, padded."""
    make, sequence = KINDS[kind]
    cell = make(2, 3, dtype=torch.float64)
    x = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)
    state = _state(cell, 2, torch.float64)
    padding = _padding([3, 2], 3)

    def run(x: torch.Tensor, *fields: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs, final = sequence(cell, x, cell.state_type(*fields), padding, True)
        return (outputs, *final)

    assert torch.autograd.gradcheck(run, (x, *state), fast_mode=True)
    weights = tuple(cell.parameters())

    def by_weights(*parameters: torch.Tensor) -> torch.Tensor:
        return sequence(cell, x.detach(), state, padding, True)[0]

    assert torch.autograd.gradcheck(by_weights, weights, fast_mode=True)


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman_tanh"])
def test_double_backward_replays_the_cell(kind: str) -> None:
    """A gradient penalty ‖∂L/∂x‖² reaches the weights as through the cell's own step."""
    make, sequence = KINDS[kind]
    cell = make(F, H)
    x = torch.randn(T, B, F, requires_grad=True)
    state = _state(cell, B)
    padding = _padding([3, 2], T)

    def penalty_grads(function: Callable[..., Any]) -> list[torch.Tensor]:
        outputs, _ = function()
        (grad_x,) = torch.autograd.grad(outputs.tanh().sum(), x, create_graph=True)
        return list(torch.autograd.grad(grad_x.square().sum(), list(cell.parameters())))

    ours = penalty_grads(lambda: sequence(cell, x, state, padding, False))
    expected = penalty_grads(lambda: run_cell(cell, x, state, padding))
    for grad, expected_grad in zip(ours, expected, strict=True):
        assert_close(grad, expected_grad, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman_tanh"])
@pytest.mark.parametrize(
    ("dtype", "atol"), [(torch.float16, 3e-3), (torch.bfloat16, 3e-2)], ids=["fp16", "bf16"]
)
def test_half_precision_inputs(kind: str, dtype: torch.dtype, atol: float) -> None:
    """16-bit weights and inputs, float32 state inside: near the float32 step of the same weights.

    The outputs, the final state and the gradients come back in the 16-bit dtype.
    """
    make, sequence = KINDS[kind]
    cell = make(F, H, dtype=dtype)
    reference = make(F, H)
    reference.load_state_dict({k: v.float() for k, v in cell.state_dict().items()})
    x = torch.randn(T, B, F).to(dtype)
    state = _state(cell, B, dtype)
    padding = _padding([3, 2], T)
    outputs, final = sequence(cell, x, state, padding, False)
    assert outputs.dtype == dtype
    assert all(field.dtype == dtype for field in final)
    float_state = reference.state_type(*(field.detach().float() for field in state))
    expected, expected_final = run_cell(reference, x.float(), float_state, padding)
    assert_close(outputs.float(), expected, atol=atol)
    for field, expected_field in zip(final, expected_final, strict=True):
        assert_close(field.float(), expected_field, atol=atol)
    grads = torch.autograd.grad(outputs.float().sum(), list(cell.parameters()))
    assert [grad.dtype for grad in grads] == [dtype] * len(grads)


def test_cpu_tensors_without_the_interpreter_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET")
    cell = LSTMCell(F, H)
    with pytest.raises(ConfigError, match=r"CUDA tensors .* got a cpu tensor"):
        triton_lstm.lstm_triton(cell, torch.randn(T, B, F), cell.init_state(B), None, False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="with CUDA, triton is available anyway")
def test_triton_available_follows_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    assert triton_available()
    monkeypatch.delenv("TRITON_INTERPRET")
    assert not triton_available()


def test_hidden_size_above_the_persistent_limit_is_refused() -> None:
    cell = GRUCell(F, MAX_HIDDEN + 1)
    with pytest.raises(ConfigError, match=f"H ≤ {MAX_HIDDEN}; got H = {MAX_HIDDEN + 1}"):
        triton_gru.gru_triton(cell, torch.randn(T, B, F), cell.init_state(B), None, False)


BODIES = {
    "elman_forward": triton_elman.ELMAN_FORWARD.body,
    "elman_backward": triton_elman.ELMAN_BACKWARD.body,
    "lstm_forward": triton_lstm.LSTM_FORWARD.body,
    "lstm_backward": triton_lstm.LSTM_BACKWARD.body,
    "gru_forward": triton_gru.GRU_FORWARD.body,
    "gru_backward": triton_gru.GRU_BACKWARD.body,
}
IN_INPUT_DTYPE = {"gx_ptr", "w_ptr", "b_ptr", "h0_ptr", "c0_ptr", "out_ptr", "gout_ptr"}
IN_INPUT_DTYPE |= {"ghn_ptr", "gcn_ptr", "gfinal_ptr"}  # the rest are float32/64 buffers
SM90_SHARED_BYTES = 227 * 1024  # the most shared memory one block may use on an H100/H200


@pytest.mark.parametrize("name", sorted(BODIES))
@pytest.mark.parametrize(
    ("pointer", "accumulate", "precision"),
    [("fp32", "float32", "tf32"), ("bf16", "float32", "tf32"), ("fp64", "float64", "ieee")],
    ids=["fp32", "bf16", "fp64"],
)
def test_kernels_compile_for_sm90(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    name: str,
    pointer: str,
    accumulate: str,
    precision: str,
) -> None:
    """Each kernel builds a cubin for sm_90 at BLOCK_H = MAX_HIDDEN and fits one block's memory."""
    monkeypatch.delenv("TRITON_INTERPRET")  # triton.jit reads it: compile, do not interpret
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path))  # a fresh build, not a cached one
    import triton
    import triton.language as tl
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    kernel = triton.jit(BODIES[name])
    constants = {
        "REVERSE": 1,
        "NONLIN": 0,
        "BLOCK_B": 16,
        "BLOCK_H": MAX_HIDDEN,
        "ACC": getattr(tl, accumulate),
        "PRECISION": precision,
    }
    buffer = "fp64" if accumulate == "float64" else "fp32"  # the saved states and the δ
    signature = {}
    for argument in kernel.arg_names:
        if argument in constants:
            signature[argument] = "constexpr"
        elif argument == "len_ptr":
            signature[argument] = "*i32"
        elif argument.endswith("_ptr"):
            signature[argument] = f"*{pointer if argument in IN_INPUT_DTYPE else buffer}"
        else:
            signature[argument] = "i32"  # T, B, H
    constexprs = {
        (kernel.arg_names.index(key),): value
        for key, value in constants.items()
        if key in kernel.arg_names
    }
    source = ASTSource(fn=kernel, signature=signature, constexprs=constexprs)
    compiled = triton.compile(source, target=GPUTarget("cuda", 90, 32))
    assert "cubin" in compiled.asm
    assert compiled.metadata.shared <= SM90_SHARED_BYTES


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman_tanh"])
def test_empty_batch_launches_nothing(kind: str) -> None:
    """B = 0: empty outputs and state, zero weight gradients (no grid of zero programs)."""
    make, sequence = KINDS[kind]
    cell = make(F, H)
    x = torch.randn(T, 0, F, requires_grad=True)
    outputs, final = sequence(cell, x, cell.init_state(0), None, False)
    assert outputs.shape == (T, 0, H)
    assert all(field.shape == (0, H) for field in final)
    outputs.sum().backward()
    assert all(bool(parameter.grad.eq(0).all()) for parameter in cell.parameters())


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_the_layers_switch_selects_the_kernels(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """rnnkit.RNN/LSTM/GRU run the Triton kernel through the table's one switch (here under the
    interpreter, on CUDA without it), equal to torch.nn; H above MAX_HIDDEN keeps the CPU row."""
    import rnnkit
    from rnnkit.layers.fast import TABLE

    calls: list[str] = []
    for row in {id(row): row for row in TABLE.values() if row.kernel is not None}.values():
        module_name, function = row.kernel.split(":")
        module = importlib.import_module(f"rnnkit.layers.fast.{module_name}")
        original = getattr(module, function)

        def counted(*args: Any, _original: Any = original, _name: str = function) -> Any:
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(module, function, counted)
    torch.manual_seed(0)
    reference = getattr(nn, kind)(F, H, batch_first=True, bidirectional=True)
    ours = getattr(rnnkit, kind).from_torch(reference)
    x = torch.randn(2, 4, F)
    (outputs, state), (expected_outputs, expected_state) = ours(x), reference(x)
    assert_close(outputs, expected_outputs, atol=1e-5)
    assert_close(state, expected_state, atol=1e-5)
    assert len(calls) == 2  # one per direction
    wide = getattr(rnnkit, kind)(F, MAX_HIDDEN + 1, batch_first=True)
    wide(x)
    assert len(calls) == 2  # H > MAX_HIDDEN: the CPU sequence function ran
