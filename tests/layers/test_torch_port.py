"""A port of PyTorch's own tests of nn.RNN / nn.LSTM / nn.GRU: each case runs on both libraries.

References:
    https://github.com/pytorch/pytorch/blob/74f2fa6/test/test_nn.py (the RNN, LSTM, GRU tests)
    https://github.com/pytorch/pytorch/blob/main/test/test_modules.py (TestModule, run on the
        inputs below)
    https://github.com/pytorch/pytorch/blob/main/test/nn/test_packed_sequence.py
    https://github.com/pytorch/pytorch/blob/main/torch/testing/_internal/common_modules.py
        (`module_inputs_torch_nn_RNN_GRU`, `module_inputs_torch_nn_LSTM`)

Each case is built once, in float64, and run on torch.nn.X and on rnnkit.X with the same weights
(`from_torch`, or `load_state_dict` where the case builds both by hand). It demands equal outputs
(PackedSequence fields included), h_n and c_n, equal gradients with respect to the input, hx and
every parameter, and, where torch raises, an exception of the type torch raises (so
`except RuntimeError` written for torch.nn still catches rnnkit's error). Every test names, in its
comment, the PyTorch test it ports. The cells' cases are in test_torch_cells.py.
"""

from __future__ import annotations

import copy
import io
import itertools
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
)

import rnnkit

KINDS = ("RNN", "LSTM", "GRU")
ATOL = 1e-10  # float64 throughout


@pytest.fixture(autouse=True)
def _float64(float64: torch.dtype) -> None:
    """Every case runs with float64 as the default dtype (the conftest fixture)."""


# -- running one case on both libraries --------------------------------------------------------
def _pair(kind: str, *args: Any, **kwargs: Any) -> tuple[nn.RNNBase, nn.Module]:
    """torch.nn.<kind>(*args, **kwargs) and rnnkit.<kind> with its configuration and weights."""
    reference = getattr(nn, kind)(*args, **kwargs)
    return reference, getattr(rnnkit, kind).from_torch(reference)


def _leaf(value: Any) -> Any:
    """A fresh leaf that requires grad (strides kept, so non-contiguous stays non-contiguous)."""
    if isinstance(value, PackedSequence):
        data = value.data.detach().requires_grad_()
        return PackedSequence(data, value.batch_sizes, value.sorted_indices, value.unsorted_indices)
    if isinstance(value, tuple | list):
        return tuple(_leaf(part) for part in value)
    return value.detach().requires_grad_()


def _tensors(value: Any) -> list[Tensor]:
    """The tensors inside an output, a state or an input, in a fixed order."""
    if isinstance(value, PackedSequence):
        return [value.data]
    if isinstance(value, tuple | list):
        return [tensor for part in value for tensor in _tensors(part)]
    return [value] if isinstance(value, Tensor) else []


def _assert_packed_equal(actual: Any, expected: Any) -> None:
    assert isinstance(actual, PackedSequence) == isinstance(expected, PackedSequence)
    if isinstance(expected, PackedSequence):
        for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            mine, theirs = getattr(actual, field), getattr(expected, field)
            assert (mine is None and theirs is None) or torch.equal(mine, theirs), field


def _assert_all_close(actual: list[Any], expected: list[Any], what: str) -> None:
    assert len(actual) == len(expected), what
    for index, (mine, theirs) in enumerate(zip(actual, expected, strict=True)):
        assert (mine is None) == (theirs is None), f"{what}[{index}]: one gradient is None"
        if theirs is None:
            continue
        assert mine.shape == theirs.shape, f"{what}[{index}]: {mine.shape} vs {theirs.shape}"
        error = (mine - theirs).abs().max().item() if theirs.numel() else 0.0
        assert error <= ATOL, f"{what}[{index}]: max |difference| {error:.3g} > {ATOL}"


def _forward_backward(module: nn.Module, inputs: tuple[Any, ...], seed: int) -> dict[str, Any]:
    """Outputs, states and every gradient of one forward and backward with seeded cotangents."""
    module.zero_grad()
    leaves = tuple(_leaf(value) if value is not None else None for value in inputs)
    output, state = module(*leaves)
    results = _tensors(output) + _tensors(state)
    generator = torch.Generator().manual_seed(seed)
    cotangents = [torch.randn(t.shape, generator=generator, dtype=t.dtype) for t in results]
    torch.autograd.backward(results, cotangents)
    return {
        "output": output,
        "values": [t.detach() for t in results],
        "grad_inputs": [leaf.grad for leaf in _tensors(leaves)],
        "grad_parameters": {name: p.grad for name, p in module.named_parameters()},
    }


def _compare(reference: nn.Module, ours: nn.Module, *inputs: Any, seed: int = 0) -> None:
    """Same outputs, states and gradients (input, hx, every parameter) on both modules."""
    expected = _forward_backward(reference, inputs, seed)
    actual = _forward_backward(ours, inputs, seed)
    _assert_packed_equal(actual["output"], expected["output"])
    _assert_all_close(actual["values"], expected["values"], "output and state")
    _assert_all_close(actual["grad_inputs"], expected["grad_inputs"], "grad of input and hx")
    assert actual["grad_parameters"].keys() == expected["grad_parameters"].keys()
    names = list(expected["grad_parameters"])
    _assert_all_close(
        [actual["grad_parameters"][name] for name in names],
        [expected["grad_parameters"][name] for name in names],
        f"grad of parameters {names}",
    )


def _torch_error(call: Callable[[], Any]) -> type[Exception]:
    """The type of the exception torch.nn raises for `call` (the case fails if it raises none)."""
    try:
        call()
    except Exception as error:  # the type is what the case is about
        return type(error)
    raise AssertionError("torch.nn raised no exception, so the case is wrong")


def _assert_same_error(torch_call: Callable[[], Any], rnnkit_call: Callable[[], Any]) -> None:
    """rnnkit raises an instance of the type torch raised (a subclass counts)."""
    with pytest.raises(_torch_error(torch_call)):
        rnnkit_call()


def _noncontiguous(tensor: Tensor) -> Tensor:
    """The same values with a stride of 2 in the last dimension (test_nn's make_noncontig)."""
    doubled = torch.stack([torch.zeros_like(tensor), tensor], tensor.dim())
    return doubled.select(tensor.dim(), 1)


# -- common_modules: module_inputs_torch_nn_RNN_GRU and module_inputs_torch_nn_LSTM ------------
def _rnn_gru_inputs() -> list[Any]:
    """(kind, constructor kwargs, forward inputs) for every sample of module_inputs_*_RNN_GRU."""
    cases = []
    for kind, nonlinearity in (("RNN", "relu"), ("RNN", "tanh"), ("GRU", None)):
        for bias, batch_first, bidirectional in itertools.product((False, True), repeat=3):
            options = {"num_layers": 2, "batch_first": batch_first, "bias": bias}
            options["bidirectional"] = bidirectional
            if nonlinearity:
                options["nonlinearity"] = nonlinearity
            rows = 4 if bidirectional else 2
            name = f"{kind}-{nonlinearity}-{bias=}-{batch_first=}-{bidirectional=}"
            cases += [
                pytest.param(kind, dict(options, input_size=2, hidden_size=2),
                             ((3, 2),), id=f"{name}-unbatched"),
                pytest.param(kind, dict(options, input_size=2, hidden_size=3),
                             ((3, 2), (rows, 3)), id=f"{name}-unbatched-hx"),
                pytest.param(kind, dict(options, input_size=2, hidden_size=2),
                             (("packed", (5, 2, 2), [5, 3]),), id=f"{name}-packed-2"),
                pytest.param(kind, dict(options, input_size=2, hidden_size=2),
                             (("packed", (5, 5, 2), [5, 3, 3, 2, 2]),), id=f"{name}-packed-5"),
            ]  # fmt: skip
    return cases


def _lstm_inputs() -> list[Any]:
    """(kind, constructor kwargs, forward inputs) for every sample of module_inputs_*_LSTM."""
    cases = []
    for bias, batch_first, bidirectional, proj_size in itertools.product(
        (False, True), (False, True), (False, True), (0, 2)
    ):
        options = {"input_size": 2, "hidden_size": 3, "num_layers": 2, "proj_size": proj_size}
        options |= {"batch_first": batch_first, "bias": bias, "bidirectional": bidirectional}
        rows, h_out = (4 if bidirectional else 2), (proj_size or 3)
        name = f"LSTM-{bias=}-{batch_first=}-{bidirectional=}-{proj_size=}"
        cases += [
            pytest.param("LSTM", options, ((2, 2),), id=f"{name}-unbatched"),
            pytest.param(
                "LSTM", options, ((3, 2), ((rows, h_out), (rows, 3))), id=f"{name}-unbatched-hx"
            ),
        ]
    return cases


def _make(spec: Any) -> Any:
    """A random input from a shape, a tuple of shapes, or ("packed", shape, lengths)."""
    if isinstance(spec, tuple) and spec and spec[0] == "packed":  # common_modules' packing
        return pack_padded_sequence(torch.randn(spec[1]), torch.tensor(spec[2]))
    if isinstance(spec, tuple) and all(isinstance(size, int) for size in spec):
        return torch.randn(spec)
    return tuple(_make(part) for part in spec)


@pytest.mark.parametrize(("kind", "options", "inputs"), _rnn_gru_inputs() + _lstm_inputs())
def test_module_inputs_forward_and_grad(kind: str, options: dict[str, Any], inputs: tuple) -> None:
    # common_modules module_inputs_torch_nn_RNN_GRU / _LSTM, run as TestModule.test_forward and
    # test_grad do: every sample, outputs and all gradients against torch.nn
    reference, ours = _pair(kind, **options)
    _compare(reference, ours, *(_make(spec) for spec in inputs))


@pytest.mark.parametrize("kind", KINDS)  # RNN, LSTM: through the hand-derived replay
def test_module_inputs_gradgrad(kind: str) -> None:
    # TestModule.test_gradgrad on the first hx sample of common_modules (T = 3): second
    # derivatives through rnnkit's layer must equal torch.nn's
    reference, ours = _pair(kind, 2, 3, num_layers=2, bidirectional=True)
    x = torch.randn(3, 2)
    for module in (reference, ours):
        torch.autograd.gradgradcheck(lambda x, m=module: m(x)[0], (x.clone().requires_grad_(),))
    _compare_double_backward(reference, ours, torch.randn(3, 2))


def _double_backward(module: nn.Module, x: Tensor) -> list[Tensor]:
    """Gradients of Σ(∂Σoutput/∂x)² with respect to every parameter (a gradient penalty)."""
    x = x.clone().requires_grad_()
    output = module(x)[0]
    (grad_x,) = torch.autograd.grad(output.sum(), x, create_graph=True)
    return list(torch.autograd.grad(grad_x.pow(2).sum(), list(module.parameters())))


def _compare_double_backward(reference: nn.Module, ours: nn.Module, x: Tensor) -> None:
    _assert_all_close(_double_backward(ours, x), _double_backward(reference, x), "double grad")


# -- test_nn.TestNN: argument and shape checks --------------------------------------------------
def _args_check_cases() -> list[Any]:
    """test_rnn_args_check's five wrong shapes per mode; LSTM gets the bad one in h, then in c."""
    good_input, good_hidden = (6, 4, 3), (2, 4, 5)  # (T, B, F), (L, B, H); bad size 7
    wrong = {
        "input-batch": ((6, 7, 3), good_hidden),
        "hidden-batch": (good_input, (2, 7, 5)),
        "input-size": ((6, 4, 7), good_hidden),
        "hidden-size": (good_input, (2, 4, 7)),
        "hidden-layers": (good_input, (7, 4, 5)),
    }
    cases = []
    for kind, (label, (input_shape, hidden_shape)) in itertools.product(KINDS, wrong.items()):
        places = ("h", "c") if kind == "LSTM" and hidden_shape != good_hidden else ("",)
        for place in places:
            suffix = f"-{place}" if place else ""
            cases.append(
                pytest.param(kind, input_shape, hidden_shape, place, id=f"{kind}-{label}{suffix}")
            )
    return cases


@pytest.mark.parametrize(("kind", "input_shape", "hidden_shape", "place"), _args_check_cases())
def test_rnn_args_check(kind: str, input_shape: tuple, hidden_shape: tuple, place: str) -> None:
    # test_nn.py TestNN.test_rnn_args_check: torch raises RuntimeError for each wrong shape
    reference, ours = _pair(kind, 3, 5, 2)
    x, hidden, good = torch.randn(input_shape), torch.randn(hidden_shape), torch.randn(2, 4, 5)
    hx = hidden if kind != "LSTM" else ((hidden, good) if place != "c" else (good, hidden))
    if kind == "LSTM" and not place:
        hx = (hidden, hidden)
    _assert_same_error(lambda: reference(x, hx), lambda: ours(x, hx))


PROJECTION_SHAPES = {  # test_projections_lstm_args_check: (input, h_0, c_0), P = 2, H = 5
    "input-batch": ((6, 7, 3), (2, 4, 2), (2, 4, 5)),
    "hidden-batch": ((6, 4, 3), (2, 7, 2), (2, 7, 5)),
    "input-size": ((6, 4, 7), (2, 4, 2), (2, 4, 5)),
    "hidden-size": ((6, 4, 3), (2, 4, 7), (2, 4, 7)),
    "hidden-layers": ((6, 4, 3), (7, 4, 2), (7, 4, 5)),
    "h-rows-equal-hidden-size": ((6, 4, 3), (5, 4, 2), (2, 4, 5)),
    "h-rows-bad": ((6, 4, 3), (7, 4, 2), (2, 4, 5)),
    "c-rows-bad": ((6, 4, 3), (2, 4, 2), (7, 4, 5)),
}


@pytest.mark.parametrize("shapes", PROJECTION_SHAPES.values(), ids=PROJECTION_SHAPES.keys())
def test_projections_lstm_args_check(shapes: tuple[tuple[int, ...], ...]) -> None:
    # test_nn.py TestNN.test_projections_lstm_args_check: RuntimeError for each wrong shape
    reference, ours = _pair("LSTM", 3, 5, 2, proj_size=2)
    x, hidden, cell = (torch.randn(shape) for shape in shapes)
    _assert_same_error(lambda: reference(x, (hidden, cell)), lambda: ours(x, (hidden, cell)))


@pytest.mark.parametrize(("kind", "proj_size"), list(itertools.product(["RNN", "GRU"], [10, 0])))
def test_projections_errors_on_gru_and_rnn(kind: str, proj_size: int) -> None:
    # test_nn.py TestNN.test_projections_errors_on_gru_and_rnn: a ValueError for any proj_size
    # passed to RNN or GRU (torch refuses proj_size=0 there too)
    _assert_same_error(
        lambda: getattr(nn, kind)(30, 20, 2, proj_size=proj_size),
        lambda: getattr(rnnkit, kind)(30, 20, 2, proj_size=proj_size),
    )


@pytest.mark.parametrize(("kind", "bidirectional"), list(itertools.product(KINDS, (False, True))))
def test_error_rnn_seq_len_zero(kind: str, bidirectional: bool) -> None:
    # test_nn.py TestNN.test_error_RNN_seq_len_zero: T = 0 is a RuntimeError
    reference, ours = _pair(kind, 5, 6, bidirectional=bidirectional)
    x = torch.ones(0, 10, 5)
    _assert_same_error(lambda: reference(x), lambda: ours(x))


CONSTRUCTOR_ERRORS = {  # RNNBase.__init__'s argument checks
    "hidden_size-0": ("LSTM", (3, 0), {}),
    "num_layers-0": ("GRU", (3, 4, 0), {}),
    "dropout-above-1": ("RNN", (3, 4, 2), {"dropout": 1.5}),
    "dropout-below-0": ("RNN", (3, 4, 2), {"dropout": -0.1}),
    "proj_size-negative": ("LSTM", (3, 4), {"proj_size": -1}),
    "proj_size-not-below-hidden": ("LSTM", (3, 4), {"proj_size": 4}),
    "nonlinearity-unknown": ("RNN", (3, 4), {"nonlinearity": "sigmoid"}),
}


@pytest.mark.parametrize("case", CONSTRUCTOR_ERRORS.values(), ids=CONSTRUCTOR_ERRORS.keys())
def test_rnn_constructor_errors(case: tuple[str, tuple, dict]) -> None:
    # no single PyTorch test: the ValueErrors of RNNBase.__init__ (torch/nn/modules/rnn.py)
    kind, args, kwargs = case
    _assert_same_error(
        lambda: getattr(nn, kind)(*args, **kwargs), lambda: getattr(rnnkit, kind)(*args, **kwargs)
    )


FORWARD_ERRORS = {  # check_input / check_hidden_size / the batched-vs-unbatched hx rule
    "input-4d": ("GRU", (5, 2, 3, 1), None),
    "input-1d": ("LSTM", (5,), None),
    "hx-2d-for-batched-input": ("GRU", (5, 2, 3), (1, 4)),
    "hx-3d-for-unbatched-input": ("RNN", (5, 3), (1, 1, 4)),
    "lstm-c-bad": ("LSTM", (5, 2, 3), ((1, 2, 4), (1, 2, 7))),
    "packed-hx-batch": ("GRU", ("packed", (5, 2, 3), [5, 3]), (1, 3, 4)),
}


@pytest.mark.parametrize("case", FORWARD_ERRORS.values(), ids=FORWARD_ERRORS.keys())
def test_rnn_forward_shape_errors(case: tuple[str, Any, Any]) -> None:
    # test_nn.py test_rnn_args_check's rule on the other shape checks of RNNBase.forward:
    # the same exception type as torch
    kind, input_spec, hx_spec = case
    reference, ours = _pair(kind, 3, 4)
    x, hx = _make(input_spec), (None if hx_spec is None else _make(hx_spec))
    _assert_same_error(lambda: reference(x, hx), lambda: ours(x, hx))


@pytest.mark.parametrize("kind", KINDS)
def test_rnn_dtype_mismatch(kind: str) -> None:
    # no single PyTorch test: RNNBase.forward's dtype check (input float32, weights float64)
    reference, ours = _pair(kind, 3, 4)
    x = torch.randn(5, 2, 3, dtype=torch.float32)
    _assert_same_error(lambda: reference(x), lambda: ours(x))


# -- test_nn.TestNN: numbers -------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_rnn_initial_hidden_state(kind: str) -> None:
    # test_nn.py TestNN.test_rnn_initial_hidden_state: zeros as hx == no hx, and == torch
    reference, ours = _pair(kind, 30, 20, 2)
    x, zeros = torch.randn(10, 32, 30), torch.zeros(2, 32, 20)
    hidden = (zeros, zeros) if kind == "LSTM" else zeros
    given, default = ours(x, hidden), ours(x)
    assert torch.equal(given[0], default[0])
    _assert_all_close(_tensors(given[1]), _tensors(default[1]), "h_n")
    _compare(reference, ours, x, hidden)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_projections_lstm_initial_hidden_state(bidirectional: bool) -> None:
    # test_nn.py TestNN.test_projections_lstm_initial_hidden_state
    reference, ours = _pair("LSTM", 30, 20, 2, bidirectional=bidirectional, proj_size=10)
    rows = 4 if bidirectional else 2
    x, hidden = torch.randn(10, 32, 30), (torch.zeros(rows, 32, 10), torch.zeros(rows, 32, 20))
    assert torch.equal(ours(x, hidden)[0], ours(x)[0])
    _compare(reference, ours, x, hidden)


@pytest.mark.parametrize("kind", ["RNN-tanh", "RNN-relu", "LSTM", "GRU", "LSTM-proj"])
@pytest.mark.parametrize("dropout", [0.0, 1.0], ids=["no_dropout", "with_dropout"])
def test_rnn_cpu_vs_cudnn(kind: str, dropout: float) -> None:
    # test_nn.py TestNN._test_RNN_cpu_vs_cudnn (test_RNN_cpu_vs_cudnn_no_dropout /
    # _with_dropout), rnnkit in place of cuDNN (dropout 1 is deterministic). torch runs all 64
    # combinations of its six flags; these 8 rows meet every pair of flags in all four ways
    mode, _, variant = kind.partition("-")
    extra = {"nonlinearity": variant} if mode == "RNN" else {}
    extra |= {"proj_size": 3} if variant == "proj" else {}
    for row in range(8):
        a, b, c = row & 1, row >> 1 & 1, row >> 2 & 1  # an orthogonal array OA(8, 6, 2, 2)
        flags = (a, b, c, a ^ b, a ^ c, b ^ c)
        bias, bidirectional, batch_first, contiguous, variable_length, as_tensor = map(bool, flags)
        options = {"bias": bias, "bidirectional": bidirectional, "batch_first": batch_first}
        reference, ours = _pair(mode, 10, 6, 2, dropout=dropout, **options, **extra)
        rows, h_out = (4 if bidirectional else 2), extra.get("proj_size", 6)
        x = torch.randn((6, 7, 10) if batch_first else (7, 6, 10))
        hidden = torch.randn(rows, 6, h_out)
        if not contiguous:
            x, hidden = _noncontiguous(x), _noncontiguous(hidden)
        hx = (hidden, torch.randn(rows, 6, 6) + 1) if mode == "LSTM" else hidden
        if variable_length:
            lengths = [7, 5, 5, 2, 1, 1]
            lengths = torch.tensor(lengths) if as_tensor else lengths
            x = pack_padded_sequence(x, lengths, batch_first=batch_first)
        _compare(reference, ours, x, hx)


def _constant_relu_rnn(dropout: float, training: bool) -> tuple[nn.RNN, nn.Module]:
    reference = nn.RNN(10, 1000, 2, bias=False, dropout=dropout, nonlinearity="relu")
    for weight in reference.parameters():
        weight.data.fill_(1)
    ours = rnnkit.RNN.from_torch(reference)
    return reference.train(training), ours.train(training)


@pytest.mark.parametrize(
    ("dropout", "training"), list(itertools.product((0, 0.276, 0.731, 1), (1, 0)))
)
def test_rnn_dropout(dropout: float, training: int) -> None:
    # test_nn.py TestNN.test_RNN_dropout: dropout sits between the layers, inverted-scaled
    modules = _constant_relu_rnn(dropout, bool(training))
    x, hx = torch.ones(1, 1, 10), torch.zeros(2, 1, 1000)
    for module in modules:
        output, h_n = module(x, hx)
        value = output[0, 0, 0].item()
        assert output.min() == output.max()
        if dropout == 0 or not training:
            assert value == 10000
        elif dropout == 1:
            assert value == 0
        else:
            assert 8000 < value < 12000
            scaled = (value * (1 - dropout)) % 10
            assert min(scaled, 10 - scaled) < 1e-2
        assert h_n[0].min() == h_n[0].max() == 10
        assert h_n[1].min() == h_n[1].max() == value


@pytest.mark.parametrize(
    ("dropout", "training"), list(itertools.product((0, 0.1234), (True, False)))
)
def test_rnn_dropout_state(dropout: float, training: bool) -> None:
    # test_nn.py TestNN.test_RNN_dropout_state: same twice unless dropout is active; a
    # torch.save / torch.load round trip of the whole module keeps the behaviour
    reference = nn.RNN(100, 100, 2, bias=False, dropout=dropout, nonlinearity="relu")
    ours = rnnkit.RNN.from_torch(reference.train(training))
    x, hx = torch.rand(1, 1, 100), torch.rand(2, 1, 100)
    buffer = io.BytesIO()
    torch.save(ours, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    first, second, third = ours(x, hx), ours(x, hx), loaded(x, hx)
    deterministic = dropout == 0 or not training
    for one, other in ((first, second), (first, third)):
        assert torch.equal(one[0], other[0]) == deterministic
        assert torch.equal(one[1], other[1]) == deterministic
    if deterministic:
        _assert_all_close(_tensors(first), _tensors(reference(x, hx)), "output and h_n")


@pytest.mark.parametrize("training", [False])  # training=True fails today (issue 24's report)
def test_rnn_change_dropout(training: bool) -> None:
    # test_nn.py TestNN.test_RNN_change_dropout: `layer.dropout = p` takes effect at once
    reference = nn.RNN(100, 100, 2, dropout=0, nonlinearity="relu")
    ours = rnnkit.RNN.from_torch(reference).train(training)
    x, previous = torch.rand(3, 2, 100), None
    for dropout in (0, 0.5, 0, 0.7, 0.2, 1, 0.2, 0):
        ours.dropout = dropout
        first, second = ours(x), ours(x)
        same = dropout in (0, 1) or not training
        assert torch.equal(first[0], second[0]) == same
        assert torch.equal(first[1], second[1]) == same
        if previous is not None:
            assert torch.equal(first[0], previous) == (not training)
        previous = first[0]
    reference.dropout = ours.dropout = 0  # the end state agrees with torch.nn
    _compare(reference, ours, x)


@pytest.mark.parametrize("kind", KINDS)
def test_rnn_input_size_zero(kind: str) -> None:
    # test_nn.py TestNN.test_RNN_input_size_zero: an empty batch runs forward and backward
    reference, ours = _pair(kind, input_size=3, hidden_size=4)
    x = torch.zeros(5, 0, 3)
    assert ours(x)[0].shape == (5, 0, 4)
    _compare(reference, ours, x)


def test_rnn_nonlinearity() -> None:
    # test_nn.py TestNN.test_RNN_nonlinearity and test_RNN_nonlinearity_passed_as_arg
    assert rnnkit.RNN(1, 10).nonlinearity == nn.RNN(1, 10).nonlinearity == "tanh"
    assert rnnkit.RNN(1, 10, nonlinearity="relu").nonlinearity == "relu"
    reference = nn.RNN(1, 10, 1, "relu")
    ours = rnnkit.RNN(1, 10, 1, "relu")
    assert ours.nonlinearity == "relu"
    ours.load_state_dict(reference.state_dict())
    _compare(reference, ours, torch.randn(4, 2, 1))


# -- test_nn.TestNNDeviceType ------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_rnn_retain_variables(kind: str) -> None:
    # test_nn.py TestNNDeviceType.test_rnn_retain_variables: backward twice through one graph
    reference, ours = _pair(kind, 10, 20, num_layers=2)
    x = torch.randn(5, 6, 10)
    grads = []
    for module in (reference, ours):
        leaf = x.clone().requires_grad_()
        output = module(leaf)
        output[0].sum().backward(retain_graph=True)
        first = [leaf.grad.clone()] + [p.grad.clone() for p in module.parameters()]
        module.zero_grad()
        leaf.grad = None
        output[0].sum().backward()
        second = [leaf.grad] + [p.grad for p in module.parameters()]
        _assert_all_close(second, first, f"{type(module).__name__} second backward")
        grads.append(second)
    _assert_all_close(grads[1], grads[0], "rnnkit vs torch")


def test_variable_sequence() -> None:
    # test_nn.py TestNNDeviceType._test_variable_sequence: a packed bidirectional 2-layer LSTM
    # equals running each sequence on its own, and torch.nn
    lengths = [10, 10, 6, 2, 2, 1, 1]
    reference, ours = _pair("LSTM", 3, 4, bidirectional=True, num_layers=2)
    x = torch.randn(10, len(lengths), 3)
    packed = pack_padded_sequence(x, lengths)
    _compare(reference, ours, packed)
    padded, _ = pad_packed_sequence(ours(packed)[0])
    for index, length in enumerate(lengths):
        alone, _ = ours(x[:length, index : index + 1])
        _assert_all_close([padded[:length, index]], [alone[:, 0]], f"sequence {index}")
        assert padded[length:, index].eq(0).all()


def _flat_outputs(module: nn.Module, x: Tensor) -> tuple[Tensor, ...]:
    """The output and every state tensor of a call (test_nn's flatten_out)."""
    return tuple(_tensors(module(x)))


@pytest.mark.parametrize(("kind", "bias"), list(itertools.product(["LSTM", "GRU"], [True, False])))
def test_lstm_gru_grad_and_gradgrad(kind: str, bias: bool) -> None:
    # test_nn.py TestNNDeviceType.test_LSTM_grad_and_gradgrad / test_GRU_grad_and_gradgrad
    # (_test_rnn_mod): gradcheck and gradgradcheck of the layer, input (1, 3, 4)
    reference, ours = _pair(kind, 4, 4, bias=bias)
    x = torch.randn(1, 3, 4, requires_grad=True)
    for module in (reference, ours):
        function = partial(_flat_outputs, module)
        assert torch.autograd.gradcheck(function, (x,), check_batched_grad=False)
        assert torch.autograd.gradgradcheck(function, (x,), check_batched_grad=False)
    _compare(reference, ours, x)
    _compare_double_backward(reference, ours, torch.randn(1, 3, 4))


# -- test/nn/test_packed_sequence.py -----------------------------------------------------------
@pytest.mark.parametrize(("kind", "enforce_sorted"), list(itertools.product(KINDS, (True, False))))
def test_pack_sequence(kind: str, enforce_sorted: bool) -> None:
    # test_packed_sequence.py TestPackedSequence.test_pack_sequence (sorted and unsorted
    # batches), fed through the layers: the PackedSequence out keeps torch's indices
    lengths = [5, 4, 3, 1] if enforce_sorted else [3, 5, 1, 4]
    sequences = [torch.randn(length, 3) for length in lengths]
    packed = pack_sequence(sequences, enforce_sorted=enforce_sorted)
    reference, ours = _pair(kind, 3, 4, num_layers=2, bidirectional=True)
    _compare(reference, ours, packed)


@pytest.mark.parametrize(("kind", "batch_first"), list(itertools.product(KINDS, (False, True))))
def test_total_length(kind: str, batch_first: bool) -> None:
    # test_packed_sequence.py TestPackedSequence.test_total_length: pad_packed_sequence of the
    # layer's packed output with total_length, batch_first both ways
    reference, ours = _pair(kind, 3, 4, batch_first=batch_first)
    x = torch.randn((4, 6, 3) if batch_first else (6, 4, 3))
    packed = pack_padded_sequence(x, [6, 3, 2, 1], batch_first=batch_first)
    padded = [
        pad_packed_sequence(module(packed)[0], batch_first=batch_first, total_length=9)[0]
        for module in (reference, ours)
    ]
    _assert_all_close([padded[1]], [padded[0]], "padded output")
    assert padded[1].shape[1 if batch_first else 0] == 9


# -- common_modules' TestModule: copies and conversions -----------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_save_load_and_deepcopy(kind: str) -> None:
    # test_modules.py TestModule.test_pickle: torch.save / torch.load of the whole module, and
    # a deepcopy, give the same numbers
    reference, ours = _pair(kind, 3, 4, num_layers=2)
    buffer = io.BytesIO()
    torch.save(ours, buffer)
    buffer.seek(0)
    for copied in (copy.deepcopy(ours), torch.load(buffer, weights_only=False)):
        _compare(reference, copied, torch.randn(5, 2, 3))


@pytest.mark.parametrize("kind", KINDS)
def test_factory_kwargs(kind: str) -> None:
    # TestModule.test_factory_kwargs / test_to: dtype at construction and .to(dtype) afterwards
    reference = getattr(nn, kind)(3, 4, 2, dtype=torch.float32)
    ours = getattr(rnnkit, kind)(3, 4, 2, dtype=torch.float32)
    assert [p.dtype for p in ours.parameters()] == [p.dtype for p in reference.parameters()]
    ours.load_state_dict(reference.state_dict())
    reference, ours = reference.to(torch.float64), ours.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in ours.parameters())
    _compare(
        reference, ours, torch.randn(5, 2, 3), torch.randn(2, 2, 4) if kind != "LSTM" else None
    )


def test_rnn_constructor_errors_hidden_size_float() -> None:
    # RNNBase.__init__: torch raises TypeError("hidden_size should be of type int, got: float").
    _assert_same_error(lambda: nn.LSTM(3, 2.5), lambda: rnnkit.LSTM(3, 2.5))


def test_rnn_forward_shape_errors_lstm_hx_three_tensors() -> None:
    # torch.nn.LSTM.forward: RuntimeError("lstm expects two hidden states").
    reference, ours = _pair("LSTM", 3, 4)
    x, hx = torch.randn(5, 2, 3), tuple(torch.randn(1, 2, 4) for _ in range(3))
    _assert_same_error(lambda: reference(x, hx), lambda: ours(x, hx))


def test_rnn_forward_shape_errors_packed_input_size() -> None:
    # check_input on a PackedSequence: RuntimeError("input.size(-1) must be equal to input_size").
    reference, ours = _pair("GRU", 3, 4)
    x = pack_padded_sequence(torch.randn(5, 2, 7), [5, 3])
    _assert_same_error(lambda: reference(x), lambda: ours(x))


def test_rnn_change_dropout_training() -> None:
    # test_nn.py TestNN.test_RNN_change_dropout (train=True): `layer.dropout = p` after
    # construction takes effect at the next call.
    reference = nn.RNN(100, 100, 2, dropout=0, nonlinearity="relu")
    ours = rnnkit.RNN.from_torch(reference)
    x = torch.rand(3, 2, 100)
    for module in (reference, ours):
        previous = None
        for dropout in (0, 0.5, 0, 0.7, 0.2, 1, 0.2, 0):
            module.dropout = dropout
            first, second = module(x), module(x)
            assert torch.equal(first[0], second[0]) == (dropout in (0, 1)), (module, dropout)
            if previous is not None:
                assert not torch.equal(first[0], previous), (module, dropout)
            previous = first[0]
    _compare(reference, ours, x)


@pytest.mark.parametrize(
    ("kind", "name"),
    [("LSTM", "weight_ih_l0"), ("LSTM-proj", "weight_hr_l0"), ("GRU", "weight_hh_l0")],
)
def test_rnn_weight_norm(kind: str, name: str) -> None:
    # test_nn.py TestNN.test_rnn_weight_norm: weight_norm replaces the parameter under torch's
    # name (`del module._parameters[name]`), which must reach the cell that computes with it.
    mode, _, variant = kind.partition("-")
    reference, ours = _pair(mode, 32, 32, **({"proj_size": 16} if variant else {}))
    reference, ours = (nn.utils.weight_norm(module, name=name) for module in (reference, ours))
    _compare(reference, ours, torch.randn(4, 3, 32))
    reference, ours = (
        nn.utils.remove_weight_norm(module, name=name) for module in (reference, ours)
    )
    assert name in dict(ours.named_parameters())
    _compare(reference, ours, torch.randn(4, 3, 32))


def test_lstm_differentiable_backward_using_onednn() -> None:
    # test_nn.py TestNNDeviceType.test_LSTM_differentiable_backward_using_oneDNN.
    reference, ours = _pair("LSTM", 3, 3, 20, batch_first=True)
    x = torch.rand(10, 12, 3)
    gradients = []
    for module in (reference, ours):
        leaf = x.clone().requires_grad_()
        output, _ = module(leaf)
        (grad_x,) = torch.autograd.grad(output, leaf, torch.ones_like(output), create_graph=True)
        grad_x.sum().backward()
        gradients.append([p.grad for p in module.parameters()])
    _assert_all_close(gradients[1], gradients[0], "grad of sum d output / d x")
