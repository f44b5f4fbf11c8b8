"""Hand-derived BPTT for the Elman RNN equals autograd on the same recurrence written plainly."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.fast.elman_bptt import elman_sequence

NONLINEARITIES = ["tanh", "relu", "identity"]
PHI = {"tanh": torch.tanh, "relu": torch.relu, "identity": lambda a: a}
ARGUMENTS = ["x", "hidden0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def reference(
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    nonlinearity: str,
    lengths: Tensor | None = None,
) -> Tensor:
    """The same recurrence with plain torch ops, differentiated by autograd."""
    hidden = hidden0
    outputs = []
    for t in range(x.shape[0]):
        pre = x[t] @ weight_ih.T + hidden @ weight_hh.T  # a_t without biases
        pre = pre if bias_ih is None else pre + bias_ih
        pre = pre if bias_hh is None else pre + bias_hh
        new = PHI[nonlinearity](pre)
        if lengths is None:
            hidden = new
            outputs.append(new)
        else:
            real = (t < lengths)[:, None]  # (B, 1)
            hidden = torch.where(real, new, hidden)
            outputs.append(torch.where(real, new, torch.zeros_like(new)))
    return torch.stack(outputs)  # (T, B, H)


def make_arguments(
    steps: int,
    batch: int,
    features: int,
    hidden: int,
    *,
    bias: bool = True,
    dtype: torch.dtype = torch.float64,
) -> list[Tensor | None]:
    """x (T, B, F), hidden0 (B, H), weight_ih, weight_hh, bias_ih, bias_hh, all requiring grad."""
    T, B, F, H = steps, batch, features, hidden
    shapes = [(T, B, F), (B, H), (H, F), (H, H), (H,), (H,)]
    tensors = [(0.6 * torch.randn(shape, dtype=dtype)).requires_grad_() for shape in shapes]
    return tensors if bias else [*tensors[:4], None, None]


def outputs_and_grads(
    function: Callable[..., Tensor],
    arguments: list[Tensor | None],
    nonlinearity: str,
    lengths: Tensor | None,
    grad_outputs: Tensor,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """The outputs, and the gradients of Σ g ⊙ outputs with respect to every tensor argument."""
    outputs = function(*arguments, nonlinearity, lengths)
    leaves = [a for a in arguments if a is not None]
    grads = torch.autograd.grad(outputs, leaves, grad_outputs)
    return outputs, grads


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_equals_autograd_in_float64(nonlinearity: str, bias: bool, with_lengths: bool) -> None:
    T, B = 7, 4
    arguments = make_arguments(T, B, 3, 5, bias=bias)
    lengths = torch.tensor([7, 3, 1, 5]) if with_lengths else None
    grad_outputs = torch.randn(T, B, 5, dtype=torch.float64)
    ours, our_grads = outputs_and_grads(
        elman_sequence, arguments, nonlinearity, lengths, grad_outputs
    )
    theirs, their_grads = outputs_and_grads(
        reference, arguments, nonlinearity, lengths, grad_outputs
    )
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-10)
    assert len(our_grads) == (6 if bias else 4)
    for mine, expected in zip(our_grads, their_grads, strict=True):
        assert expected.abs().max() > 0  # every gradient is exercised
        torch.testing.assert_close(mine, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("with_lengths", [False, True])
def test_gradcheck(nonlinearity: str, with_lengths: bool) -> None:
    arguments = make_arguments(4, 3, 2, 3)
    lengths = torch.tensor([4, 1, 2]) if with_lengths else None

    def run(*tensors: Tensor) -> Tensor:
        return elman_sequence(*tensors, nonlinearity, lengths)

    assert torch.autograd.gradcheck(run, tuple(arguments), eps=1e-6, atol=1e-7)


def test_golden_values_by_hand() -> None:
    """H = F = 1, identity, W_ih = 1, W_hh = 0.5, x = 1, 2, 3, L = Σ_t h_t, worked on paper."""
    x = torch.tensor([[[1.0]], [[2.0]], [[3.0]]], dtype=torch.float64, requires_grad=True)
    hidden0 = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    weight_ih = torch.ones(1, 1, dtype=torch.float64, requires_grad=True)
    weight_hh = torch.full((1, 1), 0.5, dtype=torch.float64, requires_grad=True)
    outputs = elman_sequence(x, hidden0, weight_ih, weight_hh, None, None, "identity")
    assert outputs.flatten().tolist() == [1.0, 2.5, 4.25]  # h_t = x_t + 0.5 h_{t-1}
    outputs.sum().backward()
    # δ_3 = 1, δ_2 = 1 + 0.5·1 = 1.5, δ_1 = 1 + 0.5·1.5 = 1.75
    assert x.grad.flatten().tolist() == [1.75, 1.5, 1.0]  # δ_t W_ih
    assert hidden0.grad.item() == 0.875  # δ_1 W_hh
    assert weight_ih.grad.item() == 7.75  # 1.75·1 + 1.5·2 + 1·3
    assert weight_hh.grad.item() == 4.0  # 1.75·0 + 1.5·1 + 1·2.5


def test_lengths_equal_running_each_sequence_alone() -> None:
    T, B, H = 6, 3, 4
    arguments = make_arguments(T, B, 2, H)
    x, hidden0, *parameters = arguments
    lengths = torch.tensor([6, 2, 0])
    outputs = elman_sequence(*arguments, "tanh", lengths)
    (outputs * torch.randn_like(outputs)).sum().backward()
    for b, length in enumerate(lengths.tolist()):
        assert outputs[length:, b].eq(0).all()
        assert x.grad[length:, b].eq(0).all()  # no gradient reaches padded inputs
        if length == 0:
            assert hidden0.grad[b].eq(0).all()
            continue
        alone = elman_sequence(x[:length, b : b + 1], hidden0[b : b + 1], *parameters, "tanh")
        torch.testing.assert_close(outputs[:length, b], alone[:, 0], rtol=0, atol=1e-12)


def test_padding_values_do_not_matter() -> None:
    """NaN in padded inputs and in gradients arriving at padded outputs changes nothing."""
    T, B = 5, 3
    lengths = torch.tensor([5, 2, 3])
    padded = (torch.arange(T)[:, None] >= lengths[None, :])[..., None]  # (T, B, 1)
    clean = make_arguments(T, B, 3, 4)
    with torch.no_grad():
        clean[0].masked_fill_(padded, 0.0)
    dirty = [a.detach().clone().requires_grad_() for a in clean]
    with torch.no_grad():
        dirty[0].masked_fill_(padded, float("nan"))
    grad_outputs = torch.randn(T, B, 4, dtype=torch.float64)
    dirty_grad_outputs = grad_outputs.masked_fill(padded, float("nan"))
    ours = outputs_and_grads(elman_sequence, dirty, "relu", lengths, dirty_grad_outputs)
    expected = outputs_and_grads(reference, clean, "relu", lengths, grad_outputs)
    torch.testing.assert_close(ours[0], expected[0], rtol=0, atol=1e-10)
    for mine, theirs in zip(ours[1], expected[1], strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-10)


def test_float32_and_partial_requires_grad() -> None:
    arguments = make_arguments(8, 2, 3, 4, dtype=torch.float32)
    x = arguments[0].detach().transpose(0, 1).contiguous().transpose(0, 1)  # non-contiguous
    x.requires_grad_()
    frozen = [x, *(a.detach() for a in arguments[1:])]  # only x needs a gradient
    outputs = elman_sequence(*frozen, "tanh")
    expected = reference(*frozen, "tanh")
    assert outputs.dtype == torch.float32
    torch.testing.assert_close(outputs, expected, rtol=0, atol=1e-5)
    (grad_x,) = torch.autograd.grad(outputs.sum(), [x])
    (expected_grad_x,) = torch.autograd.grad(expected.sum(), [x])
    torch.testing.assert_close(grad_x, expected_grad_x, rtol=0, atol=1e-5)


def test_bias_gradients_do_not_alias() -> None:
    arguments = make_arguments(3, 2, 2, 3)
    elman_sequence(*arguments, "tanh").sum().backward()
    bias_ih, bias_hh = arguments[4], arguments[5]
    torch.testing.assert_close(bias_ih.grad, bias_hh.grad, rtol=0, atol=0)
    before = bias_hh.grad.clone()
    bias_ih.grad.add_(1.0)
    torch.testing.assert_close(bias_hh.grad, before, rtol=0, atol=0)


def test_double_backward_is_refused() -> None:
    arguments = make_arguments(3, 2, 2, 3)
    outputs = elman_sequence(*arguments, "tanh")
    loss = outputs.pow(2).sum()  # g_t = 2 h_t depends on the graph
    with pytest.raises(RuntimeError, match="first derivatives only"):
        torch.autograd.grad(loss, [arguments[0]], create_graph=True)


@pytest.mark.parametrize("name", ARGUMENTS[1:])
def test_wrong_shape_names_the_argument(name: str) -> None:
    arguments = dict(zip(ARGUMENTS, make_arguments(4, 2, 3, 5), strict=True))
    wrong = arguments[name].detach()
    arguments[name] = wrong[..., :-1] if wrong.dim() > 1 else wrong[:-1]  # last size minus one
    with pytest.raises(ShapeError, match=rf"{name} must be .*; got \("):
        elman_sequence(**arguments, nonlinearity="tanh")


def test_wrong_dtype_rank_lengths_and_nonlinearity() -> None:
    arguments = make_arguments(4, 2, 3, 5)
    with pytest.raises(ShapeError, match=r"hidden0 must have the dtype .*got \(torch.float32"):
        elman_sequence(arguments[0], arguments[1].float(), *arguments[2:], "tanh")
    with pytest.raises(ShapeError, match=r"weight_ih must be \(H, F\) with F = x.shape\[2\]"):
        elman_sequence(arguments[0][..., :2], *arguments[1:], "tanh")
    with pytest.raises(ShapeError, match=r"hidden0 must be \(B, H\) with B = x.shape\[1\]"):
        elman_sequence(arguments[0][:, :1], *arguments[1:], "tanh")
    with pytest.raises(ShapeError, match=r"x must be a floating tensor \(T, B, F\); got \(4, 6\)"):
        elman_sequence(arguments[0].reshape(4, 6), *arguments[1:], "tanh")
    with pytest.raises(ShapeError, match=r"x must have T ≥ 1 .*got \(0, 2, 3\)"):
        elman_sequence(arguments[0][:0], *arguments[1:], "tanh")
    for lengths in (torch.tensor([4, 5]), torch.tensor([-1, 2])):
        with pytest.raises(ShapeError, match=r"lengths must be integers in \[0, T\]"):
            elman_sequence(*arguments, "tanh", lengths)
    for lengths in (torch.tensor([4, 2, 1]), torch.tensor([4.0, 2.0])):
        with pytest.raises(ShapeError, match=r"lengths must be an integer tensor \(B,\) = \(2,\)"):
            elman_sequence(*arguments, "tanh", lengths)
    with pytest.raises(ConfigError, match=r"nonlinearity must be one of .*got 'sigmoid'"):
        elman_sequence(*arguments, "sigmoid")  # type: ignore[arg-type]


@pytest.mark.gpu
@pytest.mark.parametrize("with_lengths", [False, True])
def test_cuda_equals_cpu(with_lengths: bool) -> None:
    arguments = make_arguments(9, 3, 4, 6)
    lengths = torch.tensor([9, 4, 6]) if with_lengths else None
    grad_outputs = torch.randn(9, 3, 6, dtype=torch.float64)
    on_cpu = outputs_and_grads(elman_sequence, arguments, "tanh", lengths, grad_outputs)
    on_gpu_arguments = [a.detach().cuda().requires_grad_() for a in arguments]
    on_gpu = outputs_and_grads(
        elman_sequence, on_gpu_arguments, "tanh", lengths, grad_outputs.cuda()
    )
    torch.testing.assert_close(on_gpu[0].cpu(), on_cpu[0], rtol=0, atol=1e-10)
    for mine, theirs in zip(on_gpu[1], on_cpu[1], strict=True):
        assert mine.is_cuda
        torch.testing.assert_close(mine.cpu(), theirs, rtol=0, atol=1e-10)
