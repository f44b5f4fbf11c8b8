"""Closed-form recurrent Jacobians ∂s_t/∂s_{t-1} of the Elman, GRU and LSTM cells, and their norms.

References:
    https://arxiv.org/abs/1211.5063 (Pascanu, Mikolov & Bengio 2013)
    https://doi.org/10.1109/72.279181 (Bengio, Simard & Frasconi 1994)

Back-propagation through time multiplies one Jacobian per step (Bengio et al. 1994):

    ∂s_τ/∂s_t = J_τ J_{τ-1} … J_{t+1},    J_k = ∂s_k/∂s_{k-1}

so ‖∂s_τ/∂s_t‖ shrinks or grows geometrically when ‖J_k‖₂ stays below or above 1
(Pascanu et al. 2013, section 2.1). For an LSTM the state is s_t = (h_t, c_t), stacked [h; c].
In the code diag(v) M is computed as row scaling, v_i times row i of M, without forming diag(v).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.cells.base import ACTIVATION_DERIVATIVES, ACTIVATIONS, RecurrentCell, State
from rnnkit.cells.gru import GRUCell
from rnnkit.cells.lstm import LSTMCell
from rnnkit.cells.rnn import ElmanCell
from rnnkit.errors import ConfigError, ShapeError


def _rows(v: Tensor, matrix: Tensor) -> Tensor:
    """diag(v) M for a batch: v (B, H), M (H, N) or (B, H, N) -> (B, H, N)."""
    return v.unsqueeze(-1) * matrix


def elman_jacobian(cell: ElmanCell, input_projection: Tensor, state: State) -> Tensor:
    """∂h_t/∂h_{t-1} of an Elman cell at one step.

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
    ∂h_t/∂h_{t-1} = diag(φ'(a_t)) W_hh  (Bengio et al. 1994; Pascanu et al. 2013, eq. 7)

    Shapes:
        input_projection (B, H) = W_ih x_t + b_ih; state.hidden (B, H); returns (B, H, H).
    """
    pre = input_projection + F.linear(state.hidden, cell.weight_hh, cell.bias_hh)  # a_t
    slope = ACTIVATION_DERIVATIVES[cell.nonlinearity](pre)  # φ'(a_t), (B, H)
    return _rows(slope, cell.weight_hh)  # (B, H, H)


def gru_jacobian(cell: GRUCell, input_projection: Tensor, state: State) -> Tensor:
    """∂h_t/∂h_{t-1} of a GRU cell at one step, in either reset form.

    From h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1} by the product rule:
        ∂h_t/∂h_{t-1} = diag(1 − z_t) ∂n_t/∂h_{t-1} + diag(h_{t-1} − n_t) ∂z_t/∂h_{t-1} + diag(z_t)
    with the gates' derivatives
        ∂r_t/∂h_{t-1} = diag(r_t ⊙ (1 − r_t)) W_hr,   ∂z_t/∂h_{t-1} = diag(z_t ⊙ (1 − z_t)) W_hz
    and the candidate's, ∂n_t/∂h_{t-1} = diag(1 − n_t²) ∂u_t/∂h_{t-1}, u_t its pre-activation:
        reset_after:  u_t = … + r_t ⊙ q_t,  q_t = W_hn h_{t-1} + b_hn
                      ∂u_t/∂h_{t-1} = diag(q_t) ∂r_t/∂h_{t-1} + diag(r_t) W_hn
        reset_before: u_t = … + W_hn (r_t ⊙ h_{t-1}) + b_hn
                      ∂u_t/∂h_{t-1} = W_hn (diag(h_{t-1}) ∂r_t/∂h_{t-1} + diag(r_t))

    Shapes:
        input_projection (B, 3H); state.hidden (B, H); returns (B, H, H).
    """
    hidden_prev = state.hidden
    H = cell.hidden_size
    weight_r, weight_z, weight_n = cell.weight_hh.split(H)  # W_hr, W_hz, W_hn, each (H, H)
    bias = cell.bias_hh if cell.bias_hh is not None else hidden_prev.new_zeros(3 * H)
    bias_r, bias_z, bias_n = bias.split(H)
    reset_in, update_in, new_in = input_projection.chunk(3, dim=-1)  # 3 × (B, H)
    reset_gate = torch.sigmoid(reset_in + F.linear(hidden_prev, weight_r, bias_r))  # r_t
    update_gate = torch.sigmoid(update_in + F.linear(hidden_prev, weight_z, bias_z))  # z_t
    d_reset = _rows(reset_gate * (1.0 - reset_gate), weight_r)  # ∂r_t/∂h_{t-1}, (B, H, H)
    d_update = _rows(update_gate * (1.0 - update_gate), weight_z)  # ∂z_t/∂h_{t-1}
    if cell.reset_after:
        recurrent_n = F.linear(hidden_prev, weight_n, bias_n)  # q_t
        new = torch.tanh(new_in + reset_gate * recurrent_n)  # n_t
        d_pre = _rows(recurrent_n, d_reset) + _rows(reset_gate, weight_n)  # ∂u_t/∂h_{t-1}
    else:
        new = torch.tanh(new_in + F.linear(reset_gate * hidden_prev, weight_n, bias_n))  # n_t
        inner = _rows(hidden_prev, d_reset) + torch.diag_embed(reset_gate)  # ∂(r ⊙ h)/∂h
        d_pre = weight_n @ inner  # ∂u_t/∂h_{t-1}
    d_new = _rows(1.0 - new**2, d_pre)  # ∂n_t/∂h_{t-1}
    jacobian = _rows(1.0 - update_gate, d_new) + _rows(hidden_prev - new, d_update)
    return jacobian + torch.diag_embed(update_gate)  # ∂h_t/∂h_{t-1}, (B, H, H)


def lstm_jacobian(cell: LSTMCell, input_projection: Tensor, state: State) -> Tensor:
    """∂(h_t, c_t)/∂(h_{t-1}, c_{t-1}) of an LSTM cell at one step, as a block matrix.

    J_t = [[∂h_t/∂h_{t-1}, ∂h_t/∂c_{t-1}],
           [∂c_t/∂h_{t-1}, ∂c_t/∂c_{t-1}]]
    with g the gate function (σ), s the squashing (tanh), p_k the pre-activation of gate k:
        ∂k_t/∂h_{t-1} = diag(g'(p_k)) W_hk,  ∂k_t/∂c_{t-1} = diag(g'(p_k) ⊙ w_ck)  k ∈ {i, f}
        ∂c̃_t/∂h_{t-1} = diag(s'(p_g)) W_hg            (i_t = 1 − f_t when coupled)
        ∂c_t/∂h_{t-1} = diag(c_{t-1}) ∂f_t/∂h + diag(c̃_t) ∂i_t/∂h + diag(i_t) ∂c̃_t/∂h
        ∂c_t/∂c_{t-1} = diag(f_t) + diag(c_{t-1}) ∂f_t/∂c + diag(c̃_t) ∂i_t/∂c
        ∂o_t/∂· = diag(g'(p_o)) (∂p_o/∂·),  p_o = … + W_ho h_{t-1} + w_co ⊙ c_t
        ∂h_t/∂· = W_hr (diag(s(c_t)) ∂o_t/∂· + diag(o_t ⊙ s'(c_t)) ∂c_t/∂·)
    where the peephole terms w_c· are zero without peepholes and W_hr = I without projection.
    Without peepholes and coupling, ∂c_t/∂c_{t-1} = diag(f_t): the constant error carousel
    (Hochreiter & Schmidhuber 1997) that lets gradients pass when f_t ≈ 1.

    Shapes:
        input_projection (B, G); state (B, P or H), (B, H); returns (B, N, N), N = (P or H) + H.
    """
    coupled = cell.coupled_gates and cell.gate_names == ("forget", "candidate", "output")
    if not (cell.gate_names == ("input", "forget", "candidate", "output") or coupled) or (
        cell.full_gate_recurrence or cell.input_activation != cell.output_activation
    ):
        raise ConfigError(
            f"lstm_jacobian covers the LSTM with its gates, one squashing and no gate recurrence; "
            f"this cell has {cell.options()}. Use torch.autograd.functional.jacobian on its step."
        )
    hidden_prev, cell_prev = state
    gate = ACTIVATIONS[cell.recurrent_activation]  # g
    gate_slope = ACTIVATION_DERIVATIVES[cell.recurrent_activation]  # g'
    squash = ACTIVATIONS[cell.activation]  # s
    squash_slope = ACTIVATION_DERIVATIVES[cell.activation]  # s'
    pre = input_projection + F.linear(hidden_prev, cell.weight_hh, cell.bias_hh)  # (B, G)
    pre = dict(zip(cell.gate_names, pre.chunk(len(cell.gate_names), dim=-1), strict=True))
    weights = dict(zip(cell.gate_names, cell.weight_hh.split(cell.hidden_size), strict=True))
    zero = torch.zeros_like(cell_prev)
    peep_f = cell.weight_cf if cell.peephole else zero  # w_cf
    pre["forget"] = pre["forget"] + peep_f * cell_prev
    forget_gate = gate(pre["forget"])  # f_t
    d_forget_h = _rows(gate_slope(pre["forget"]), weights["forget"])  # ∂f_t/∂h_{t-1}
    d_forget_c = gate_slope(pre["forget"]) * peep_f  # ∂f_t/∂c_{t-1}, diagonal (B, H)
    if cell.coupled_gates:
        input_gate, d_input_h, d_input_c = 1.0 - forget_gate, -d_forget_h, -d_forget_c
    else:
        peep_i = cell.weight_ci if cell.peephole else zero  # w_ci
        pre["input"] = pre["input"] + peep_i * cell_prev
        input_gate = gate(pre["input"])  # i_t
        d_input_h = _rows(gate_slope(pre["input"]), weights["input"])  # ∂i_t/∂h_{t-1}
        d_input_c = gate_slope(pre["input"]) * peep_i  # ∂i_t/∂c_{t-1}, diagonal
    candidate = squash(pre["candidate"])  # c̃_t
    d_candidate_h = _rows(squash_slope(pre["candidate"]), weights["candidate"])  # ∂c̃_t/∂h
    cell_new = forget_gate * cell_prev + input_gate * candidate  # c_t
    d_cell_h = _rows(cell_prev, d_forget_h) + _rows(candidate, d_input_h)
    d_cell_h = d_cell_h + _rows(input_gate, d_candidate_h)  # ∂c_t/∂h_{t-1}, (B, H, P|H)
    d_cell_c = torch.diag_embed(forget_gate + cell_prev * d_forget_c + candidate * d_input_c)
    peep_o = cell.weight_co if cell.peephole else zero  # w_co
    pre_output = pre["output"] + peep_o * cell_new  # p_o
    output_gate = gate(pre_output)  # o_t
    d_output_h = _rows(gate_slope(pre_output), weights["output"] + _rows(peep_o, d_cell_h))
    d_output_c = _rows(gate_slope(pre_output) * peep_o, d_cell_c)  # ∂o_t/∂c_{t-1}
    squashed, d_squashed = squash(cell_new), output_gate * squash_slope(cell_new)
    d_hidden_h = _rows(squashed, d_output_h) + _rows(d_squashed, d_cell_h)  # ∂h_t/∂h_{t-1}
    d_hidden_c = _rows(squashed, d_output_c) + _rows(d_squashed, d_cell_c)  # ∂h_t/∂c_{t-1}
    if cell.weight_hr is not None:
        d_hidden_h, d_hidden_c = cell.weight_hr @ d_hidden_h, cell.weight_hr @ d_hidden_c
    top = torch.cat([d_hidden_h, d_hidden_c], dim=-1)  # (B, P|H, N)
    return torch.cat([top, torch.cat([d_cell_h, d_cell_c], dim=-1)], dim=-2)  # (B, N, N)


def step_jacobian(cell: RecurrentCell, input_projection: Tensor, state: State) -> Tensor:
    """J_t = ∂s_t/∂s_{t-1} for any rnnkit cell: (B, N, N), N = H, or (P or H) + H for an LSTM.

    Raises:
        ConfigError: the cell is not an ElmanCell, GRUCell or LSTMCell.
    """
    if isinstance(cell, ElmanCell):
        return elman_jacobian(cell, input_projection, state)
    if isinstance(cell, GRUCell):
        return gru_jacobian(cell, input_projection, state)
    if isinstance(cell, LSTMCell):
        return lstm_jacobian(cell, input_projection, state)
    raise ConfigError(
        f"step_jacobian supports ElmanCell, GRUCell and LSTMCell; got {type(cell).__name__}. "
        f"Use torch.autograd.functional.jacobian on the cell's step for other cells."
    )


def state_jacobians(
    cell: RecurrentCell, x: Tensor, *, batch_first: bool = False, state0: State | None = None
) -> Tensor:
    """Run `cell` over x and return J_t = ∂s_t/∂s_{t-1} for t = 1…T.

    Shapes:
        x (T, B, F), or (B, T, F) with batch_first=True; returns (T, B, N, N) where
        N = H (Elman, GRU) or (P or H) + H (LSTM, state stacked [h; c]).

    Args:
        cell: an ElmanCell, GRUCell or LSTMCell.
        x: the input sequence.
        batch_first: whether x is (B, T, F).
        state0: s_0, zeros if None.

    Returns:
        The per-step Jacobians, computed in closed form (no autograd).

    Example:
        >>> from rnnkit.cells import ElmanCell
        >>> state_jacobians(ElmanCell(3, 4), torch.randn(5, 2, 3)).shape  # (T, B, H, H)
        torch.Size([5, 2, 4, 4])
    """
    if x.dim() != 3 or x.shape[-1] != cell.input_size:
        layout = "(B, T, F)" if batch_first else "(T, B, F)"
        raise ShapeError(
            f"state_jacobians input must be {layout} with F = {cell.input_size}; "
            f"got {tuple(x.shape)}. Check batch_first and the cell's input_size."
        )
    x = x.transpose(0, 1) if batch_first else x  # (T, B, F)
    state = state0 or cell.init_state(x.shape[1], dtype=x.dtype, device=x.device)
    jacobians = []
    with torch.no_grad():
        for projection in cell.project_input(x).unbind(0):  # T × (B, G)
            jacobians.append(step_jacobian(cell, projection, state))
            state = cell.step(projection, state)
    return torch.stack(jacobians)  # (T, B, N, N)


def spectral_radius(jacobian: Tensor) -> Tensor:
    """Spectral radius max_i |λ_i(J)|, the largest eigenvalue modulus: (…, N, N) -> (…)."""
    return torch.linalg.eigvals(jacobian).abs().amax(dim=-1)


def largest_singular_value(jacobian: Tensor) -> Tensor:
    """‖J‖₂ = σ_max(J), the spectral norm, of each matrix: (…, N, N) -> (…).

    max_i |λ_i(J)| ≤ ‖J‖₂. If ‖J_k‖₂ ≤ η < 1 for every k, then ‖∂s_τ/∂s_t‖₂ ≤ η^(τ−t):
    the sufficient condition for vanishing of Pascanu et al. 2013, section 2.1.
    """
    return torch.linalg.matrix_norm(jacobian, ord=2)


def product_norm(jacobians: Tensor, start: int, stop: int) -> Tensor:
    """‖∂s_stop/∂s_start‖₂ = ‖J_stop J_{stop-1} … J_{start+1}‖₂ for each batch element.

    `jacobians[t - 1]` holds J_t (as `state_jacobians` returns them), so the product uses
    jacobians[start:stop]; start == stop gives the identity, of norm 1.

    Shapes:
        jacobians (T, B, N, N); returns (B,).

    Raises:
        ConfigError: unless 0 ≤ start ≤ stop ≤ T.
    """
    T, B, N, _ = jacobians.shape
    if not 0 <= start <= stop <= T:
        raise ConfigError(
            f"product_norm needs 0 ≤ start ≤ stop ≤ T = {T}; got start={start}, stop={stop}."
        )
    product = torch.eye(N, dtype=jacobians.dtype, device=jacobians.device).expand(B, N, N)
    for t in range(start, stop):
        product = jacobians[t] @ product  # J_{t+1} … J_{start+1}
    return largest_singular_value(product)


__all__ = [
    "elman_jacobian",
    "gru_jacobian",
    "largest_singular_value",
    "lstm_jacobian",
    "product_norm",
    "spectral_radius",
    "state_jacobians",
    "step_jacobian",
]
