"""Backpropagation through time derived by hand for a whole Elman RNN sequence.

References:
    https://doi.org/10.1109/5.58337 (Werbos 1990, BPTT)
    https://doi.org/10.1207/s15516709cog1402_1 (Elman 1990, the simple recurrent network)

The forward pass runs the Elman recurrence over all T steps; the backward pass does not ask
autograd to replay the loop but applies the gradient equations below, one reversed loop for the
δ_t and then one matrix product over all T·B rows for each parameter gradient.

Forward, for t = 1…T (one row per batch sample, so W x_t is written x_t Wᵀ in the code):
    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh      pre-activation  (Elman 1990)
    h_t = φ(a_t)

Backward. The loss L reads every output, so h_t reaches L directly (g_t = ∂L/∂h_t as it arrives
from the outputs' gradient) and through h_{t+1}. The lecture form sums over time,
    ∂L/∂W = Σ_t ∂L/∂h_t · ∂h_t/∂W      with ∂L/∂h_t the total derivative,
and collecting ∂L/∂h_t ⊙ φ'(a_t) into one error signal per step gives the recursion
    δ_t = ∂L/∂a_t = (g_t + δ_{t+1} W_hh) ⊙ φ'(a_t),   δ_{T+1} = 0,  t = T…1  (Werbos 1990)
    ∂L/∂W_hh = Σ_t δ_tᵀ h_{t-1}
    ∂L/∂W_ih = Σ_t δ_tᵀ x_t
    ∂L/∂b_ih = ∂L/∂b_hh = Σ_t Σ_batch δ_t
    ∂L/∂x_t = δ_t W_ih
    ∂L/∂h_0 = δ_1 W_hh
φ' is read off the saved outputs: tanh' = 1 − h_t², relu' = [h_t > 0], identity' = 1.
Storing δ for all t and summing afterwards is the "epochwise BPTT" of Williams & Zipser (1995).

Variable lengths len_b (one per sequence b). With m_t = [t ≤ len_b] (1 on real steps, 0 on padding),
    h_t = m_t ⊙ φ(a_t) + (1 − m_t) ⊙ h_{t-1}     the state freezes after the last real step
    y_t = m_t ⊙ h_t                               outputs are zero on padding
    δ_t = m_t ⊙ (g_t + δ_{t+1} W_hh) ⊙ φ'(a_t)
Padded steps must stop the gradient: a loss that reads a padded output (it is zero, but a loss
may still weight it) must not reach the real steps, and the frozen copies of h_{len_b} feed only
padded outputs. The mask in δ_t does both, so the result equals running each sequence alone.

where x_t (B, F) is the input at step t, h_t (B, H) the hidden state (h_0 given), a_t (B, H) the
pre-activation, φ the nonlinearity, W_ih (H, F), W_hh (H, H), b_ih, b_hh (H,) the parameters,
g_t (B, H) the gradient arriving at output t, δ_t (B, H) the error signal at a_t, ⊙ the
elementwise product, and Σ_batch a sum over the B rows.

Full titles:
    Werbos, P. J. (1990). Backpropagation through time: what it does and how to do it.
        Proceedings of the IEEE 78(10), 1550-1560.
    Williams, R. J. & Zipser, D. (1995). Gradient-based learning algorithms for recurrent
        networks and their computational complexity. In Chauvin & Rumelhart (eds.),
        Backpropagation: Theory, Architectures, and Applications. Erlbaum.
    Elman, J. L. (1990). Finding structure in time. Cognitive Science 14(2), 179-211.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx

from rnnkit.cells.base import RNNState
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.autocast import cast_all, recurrence_dtype
from rnnkit.layers.fast.first_order import Replay, hand_derived_backward
from rnnkit.layers.lengths import lengths_mask

Nonlinearity = Literal["tanh", "relu", "identity"]
NONLINEARITIES = ("tanh", "relu", "identity")


def _activate_(pre: Tensor, out: Tensor, nonlinearity: str) -> None:
    """h_t = φ(a_t), written into `out`."""
    if nonlinearity == "tanh":
        torch.tanh(pre, out=out)
    elif nonlinearity == "relu":
        torch.clamp_min(pre, 0.0, out=out)
    else:
        out.copy_(pre)


def elman_once(cell: Any, x: Tensor, state: RNNState) -> RNNState:
    """One Elman step from x (B, F), h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh): the cell's
    step (`rnnkit.cells.rnn.ElmanCell.step`, the same operations in the same order, so the same
    numbers) with each parameter read from the cell's dictionary once.

    Streaming (B = 1, one call a step) is bound by fixed costs, and nn.Module's attribute
    lookup of a parameter costs about a microsecond, as much as one of the step's kernels.
    """
    weights = cell._parameters
    recurrent = F.linear(state.hidden, weights["weight_hh"], weights["bias_hh"])  # W_hh h + b_hh
    projected = F.linear(x, weights["weight_ih"], weights["bias_ih"])  # W_ih x_t + b_ih
    return RNNState(cell._phi(projected + recurrent))  # h_t


def _activation_derivative(outputs: Tensor, nonlinearity: str) -> Tensor:
    """φ'(a_t) for all t at once, from h_t = φ(a_t): a fresh (T, B, H) tensor."""
    if nonlinearity == "tanh":
        return 1.0 - outputs * outputs  # tanh'(a_t) = 1 − h_t²
    if nonlinearity == "relu":
        return (outputs > 0).to(outputs.dtype)  # relu'(a_t) = [h_t > 0]
    return torch.ones_like(outputs)  # identity'(a_t) = 1


def _run_forward(
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias: Tensor | None,
    nonlinearity: str,
    mask: Tensor | None,
) -> Tensor:
    """The Elman recurrence over all T steps; returns y_1…y_T (T, B, H).

    For φ = tanh the loop runs tanh(a) = 1 − 2σ(−2a) (torch.tanh is several times slower than
    σ on CPU): the products are scaled by −2 as they are made (addmm's alpha and beta), so a
    step is the product, σ in place and one subtraction, with no per-step view taken in the loop.
    """
    T, B, F = x.shape
    H = weight_hh.shape[0]
    flat_x = x.reshape(T * B, F)  # (T·B, F)
    squash = nonlinearity == "tanh" and mask is None
    scale = -2.0 if squash else 1.0  # the pre-activations are −2a_t when squashing by σ
    # one product for all steps, (T·B, F) -> (T·B, H)
    if bias is None:
        pre = torch.mm(flat_x, weight_ih.t()).mul_(scale) if squash else flat_x @ weight_ih.t()
    else:
        pre = torch.addmm(bias, flat_x, weight_ih.t(), beta=scale, alpha=scale)
    pre = pre.view(T, B, H)  # (W_ih x_t + b_ih + b_hh) · scale for every t, (T, B, H)
    outputs = torch.empty_like(pre)  # (T, B, H)
    weight_hh_t = weight_hh.t()
    hidden_prev = hidden0
    if squash:
        one = pre.new_ones(())  # a 0-dim operand: no conversion of a Python number per step
        for pre_t, output in zip(pre.unbind(0), outputs.unbind(0), strict=True):
            pre_t.addmm_(hidden_prev, weight_hh_t, alpha=scale).sigmoid_()  # σ(−2a_t)
            hidden_prev = torch.sub(one, pre_t, alpha=2.0, out=output)  # h_t = 1 − 2σ(−2a_t)
        return outputs
    for t in range(T):
        pre[t].addmm_(hidden_prev, weight_hh_t)  # a_t
        _activate_(pre[t], outputs[t], nonlinearity)  # h_t = φ(a_t)
        if mask is None:
            hidden_prev = outputs[t]
        else:
            hidden_prev = torch.where(mask[t], outputs[t], hidden_prev)  # frozen past len_b
            outputs[t].masked_fill_(~mask[t], 0.0)  # y_t = m_t ⊙ h_t
    return outputs


def _run_backward(
    grad_outputs: Tensor, outputs: Tensor, weight_hh: Tensor, nonlinearity: str, mask: Tensor | None
) -> Tensor:
    """δ_t = m_t ⊙ (g_t + δ_{t+1} W_hh) ⊙ φ'(a_t) for t = T…1; returns δ (T, B, H)."""
    delta = _activation_derivative(outputs, nonlinearity)  # φ'(a_t), becomes δ_t in place
    if mask is not None:  # m_t ⊙ g_t suffices for m_t ⊙ δ_t: real steps are a prefix, so δ
        grad_outputs = grad_outputs.masked_fill(~mask, 0.0)  # stays 0 from T down to len_b + 1
    carried = torch.empty_like(delta[0])  # g_t + δ_{t+1} W_hh, (B, H)
    T = outputs.shape[0]
    delta[T - 1].mul_(grad_outputs[T - 1])  # δ_T = g_T ⊙ φ'(a_T)
    for t in range(T - 2, -1, -1):
        torch.addmm(grad_outputs[t], delta[t + 1], weight_hh, out=carried)
        delta[t].mul_(carried)  # δ_t
    return delta


def elman_backward(
    grad_outputs: Tensor,
    saved: tuple[Tensor | None, ...],
    nonlinearity: str,
    needs: tuple[bool, ...],
) -> tuple[Tensor | None, ...]:
    """The backward equations: ∂L/∂ of x, h_0, W_ih, W_hh, b_ih, b_hh (None where unneeded).

    Args:
        grad_outputs: g (T, B, H), the gradient arriving at each output.
        saved: (x, h_0, W_ih, W_hh, outputs, mask), outputs from `_run_forward`.
        nonlinearity: φ.
        needs: which of the six gradients to return.
    """
    x, hidden0, weight_ih, weight_hh, outputs, mask = saved
    T, B, F = x.shape
    H = weight_hh.shape[0]
    delta = _run_backward(grad_outputs, outputs, weight_hh, nonlinearity, mask)
    flat_delta = delta.view(T * B, H)  # (T·B, H)
    grad_x = (flat_delta @ weight_ih).view(T, B, F) if needs[0] else None  # δ_t W_ih
    grad_hidden0 = delta[0] @ weight_hh if needs[1] else None  # δ_1 W_hh
    grad_weight_ih = None
    if needs[2]:
        if mask is not None:  # padded x may hold anything; 0 · NaN would leak into Σ_t
            x = x.masked_fill(~mask, 0.0)
        grad_weight_ih = flat_delta.t() @ x.reshape(T * B, F)  # Σ_t δ_tᵀ x_t
    grad_weight_hh = None
    if needs[3]:
        grad_weight_hh = delta[0].t() @ hidden0  # δ_1ᵀ h_0
        if T > 1:  # + Σ_{t≥2} δ_tᵀ h_{t-1}
            rows = (T - 1) * B
            grad_weight_hh.addmm_(delta[1:].reshape(rows, H).t(), outputs[:-1].reshape(rows, H))
    grad_bias = flat_delta.sum(0) if needs[4] or needs[5] else None  # Σ_t Σ_batch δ_t
    grad_bias_ih = grad_bias if needs[4] else None
    grad_bias_hh = None  # the same sum, but its own tensor: .grad buffers must not alias
    if needs[5]:
        grad_bias_hh = grad_bias.clone() if needs[4] else grad_bias
    return grad_x, grad_hidden0, grad_weight_ih, grad_weight_hh, grad_bias_ih, grad_bias_hh


class ElmanBPTT(torch.autograd.Function):
    """Elman RNN over a sequence with the hand-derived BPTT backward of the module docstring.

    Called through `elman_sequence`, which checks the arguments. Only first derivatives are
    taken by hand; second ones through the forward's `replay` (`hand_derived_backward`).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: FunctionCtx,
        x: Tensor,
        hidden0: Tensor,
        weight_ih: Tensor,
        weight_hh: Tensor,
        bias_ih: Tensor | None,
        bias_hh: Tensor | None,
        nonlinearity: str,
        mask: Tensor | None,
        replay: Callable[..., Tensor] | None = None,
    ) -> Tensor:
        """y_1…y_T (T, B, H) from x (T, B, F) and h_0 (B, H); `mask` (T, B, 1) bool or None.

        `replay(x, h_0, W_ih, W_hh, b_ih, b_hh)` recomputes y with autograd for second
        derivatives (`first_order.hand_derived_backward`); None refuses them.
        """
        if replay is not None:  # the Function's own inputs, so the replay's graph reaches them
            inputs = (x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh, None, None, None)
            ctx.replay: Replay = (replay, inputs)  # type: ignore[attr-defined]
        biases = [b for b in (bias_ih, bias_hh) if b is not None]
        bias = biases[0] + biases[1] if len(biases) == 2 else (biases[0] if biases else None)
        outputs = _run_forward(x, hidden0, weight_ih, weight_hh, bias, nonlinearity, mask)
        ctx.save_for_backward(x, hidden0, weight_ih, weight_hh, outputs, mask)
        ctx.nonlinearity = nonlinearity  # type: ignore[attr-defined]
        return outputs

    @staticmethod
    @hand_derived_backward
    def backward(ctx: Any, grad_outputs: Tensor) -> tuple[Tensor | None, ...]:
        """∂L/∂x, ∂L/∂h_0, ∂L/∂W_ih, ∂L/∂W_hh, ∂L/∂b_ih, ∂L/∂b_hh from g (T, B, H)."""
        grads = elman_backward(
            grad_outputs, ctx.saved_tensors, ctx.nonlinearity, ctx.needs_input_grad
        )
        return (*grads, None, None, None)  # nonlinearity, mask and replay have no gradient


def _check_tensor(
    name: str, tensor: Any, meaning: str, expected: tuple[int, ...], x: Tensor
) -> None:
    """Raise ShapeError unless `tensor` has shape `expected` and x's dtype and device."""
    if not isinstance(tensor, Tensor):
        raise ShapeError(f"elman_sequence: {name} must be a tensor {meaning}; got {type(tensor)}.")
    if tuple(tensor.shape) != expected:
        raise ShapeError(
            f"elman_sequence: {name} must be {meaning}: {expected}; got {tuple(tensor.shape)}."
        )
    if tensor.dtype != x.dtype or tensor.device != x.device:
        raise ShapeError(
            f"elman_sequence: {name} must have the dtype and device of x ({x.dtype}, {x.device}); "
            f"got ({tensor.dtype}, {tensor.device}). Move it with .to(x)."
        )


def _check_input(x: Any) -> None:
    """Raise ShapeError unless x is a floating (T, B, F) tensor with T ≥ 1."""
    if not isinstance(x, Tensor) or x.dim() != 3 or not x.is_floating_point():
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x)
        raise ShapeError(f"elman_sequence: x must be a floating tensor (T, B, F); got {got}.")
    if x.shape[0] == 0:
        raise ShapeError(f"elman_sequence: x must have T ≥ 1 time steps; got {tuple(x.shape)}.")


def _lengths_mask(lengths: Any, x: Tensor) -> Tensor | None:
    """m_t = [t ≤ len_b] as a bool (T, B, 1) mask, or None when every sequence is T long."""
    T, B, _ = x.shape
    if not isinstance(lengths, Tensor) or lengths.shape != (B,) or lengths.is_floating_point():
        got = f"{tuple(lengths.shape)} {lengths.dtype}" if isinstance(lengths, Tensor) else lengths
        raise ShapeError(
            f"elman_sequence: lengths must be an integer tensor (B,) = ({B},); got {got}."
        )
    if lengths.dtype == torch.bool or (B > 0 and (lengths.min() < 0 or lengths.max() > T)):
        raise ShapeError(
            f"elman_sequence: lengths must be integers in [0, T] = [0, {T}]; "
            f"got {lengths.tolist()}."
        )
    if bool((lengths == T).all()):
        return None
    return lengths_mask(lengths, T, device=x.device).t().unsqueeze(-1)  # (T, B, 1)


def elman_sequence(
    x: Tensor,
    hidden0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None,
    bias_hh: Tensor | None,
    nonlinearity: Nonlinearity,
    lengths: Tensor | None = None,
    *,
    replay: Callable[..., Tensor] | None = None,
) -> Tensor:
    """Run the Elman recurrence over a sequence; its gradient is the hand-derived BPTT above.

    h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), t = 1…T; the equations of the forward and
    backward passes, and of `lengths`, are in the module docstring.

    There is no final state among the returns: without `lengths` it is outputs[-1]; with
    `lengths` it is outputs[len_b − 1, b] for each sequence b (and hidden0[b] where len_b = 0).
    Second derivatives (a backward with create_graph=True) are taken through `replay`, which
    recomputes the outputs from (x, h_0, W_ih, W_hh, b_ih, b_hh) with autograd (the layers pass
    the cell's own step); without one, or under autocast, they raise a RuntimeError
    (`first_order.hand_derived_backward`).

    Shapes:
        x (T, B, F); hidden0 (B, H); weight_ih (H, F); weight_hh (H, H); bias_ih, bias_hh (H,);
        lengths (B,) integers in [0, T]; returns (T, B, H).

    Args:
        x: inputs x_1…x_T, time-major, float32 or float64 (any floating dtype), CPU or CUDA.
            Under `torch.autocast` every tensor argument is cast to its low-precision dtype
            first and the outputs come in it, as torch.nn.RNN's (`rnnkit.layers.autocast`).
        hidden0: the initial state h_0.
        weight_ih: W_ih.
        weight_hh: W_hh.
        bias_ih: b_ih, or None for no input bias.
        bias_hh: b_hh, or None for no recurrent bias.
        nonlinearity: φ, one of "tanh", "relu", "identity".
        lengths: len_b, the number of real steps of each sequence; None when all are T long. The
            state freezes after step len_b, outputs there are zero, and no gradient crosses them.

    Returns:
        The outputs h_1…h_T (T, B, H), zero past each sequence's length.

    Raises:
        ShapeError: an argument has the wrong shape, dtype or device (the message names it), or
            lengths fall outside [0, T].
        ConfigError: `nonlinearity` is not one of the three names.

    Example:
        >>> x = torch.randn(5, 2, 3)  # (T, B, F)
        >>> weight_ih, weight_hh = torch.randn(4, 3), torch.randn(4, 4)  # (H, F), (H, H)
        >>> hidden0 = torch.zeros(2, 4)  # (B, H)
        >>> outputs = elman_sequence(x, hidden0, weight_ih, weight_hh, None, None, "tanh")
        >>> outputs.shape  # (T, B, H)
        torch.Size([5, 2, 4])
        >>> padded = elman_sequence(
        ...     x, hidden0, weight_ih, weight_hh, None, None, "tanh", torch.tensor([5, 3])
        ... )
        >>> bool(padded[3:, 1].eq(0).all()), torch.allclose(padded[:3], outputs[:3], atol=1e-6)
        (True, True)
    """
    if nonlinearity not in NONLINEARITIES:
        raise ConfigError(
            f"elman_sequence: nonlinearity must be one of {NONLINEARITIES}; got {nonlinearity!r}."
        )
    _check_input(x)
    low = recurrence_dtype("RNN", x.device.type)  # D under autocast (layers/autocast.py)
    if low is not None:  # the whole recurrence in D, as torch.nn.RNN under autocast
        replay = None  # the weights become cast copies, which the cell's replay does not read
        x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh = cast_all(
            low, x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh
        )
    _, B, F = x.shape
    if not isinstance(weight_ih, Tensor) or weight_ih.dim() != 2:
        got = tuple(weight_ih.shape) if isinstance(weight_ih, Tensor) else type(weight_ih)
        raise ShapeError(f"elman_sequence: weight_ih must be a matrix (H, F); got {got}.")
    H = weight_ih.shape[0]
    _check_tensor("weight_ih", weight_ih, "(H, F) with F = x.shape[2]", (H, F), x)
    _check_tensor("weight_hh", weight_hh, "(H, H) with H = weight_ih.shape[0]", (H, H), x)
    _check_tensor(
        "hidden0", hidden0, "(B, H) with B = x.shape[1], H = weight_ih.shape[0]", (B, H), x
    )
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None:
            _check_tensor(name, bias, "None or (H,) with H = weight_ih.shape[0]", (H,), x)
    mask = None if lengths is None else _lengths_mask(lengths, x)
    with torch.autocast(x.device.type, enabled=False):  # all in one dtype: nothing to cast
        outputs: Tensor = ElmanBPTT.apply(
            x, hidden0, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity, mask, replay
        )
    return outputs
