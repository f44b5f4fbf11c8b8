"""Why plain RNNs forget: per-step gradient norms and recurrent Jacobians (issue 7, tools part)."""

from rnnkit.analysis.gradients import step_gradient_norms
from rnnkit.analysis.jacobian import (
    elman_jacobian,
    gru_jacobian,
    largest_singular_value,
    lstm_jacobian,
    product_norm,
    spectral_radius,
    state_jacobians,
    step_jacobian,
)

__all__ = [
    "elman_jacobian",
    "gru_jacobian",
    "largest_singular_value",
    "lstm_jacobian",
    "product_norm",
    "spectral_radius",
    "state_jacobians",
    "step_gradient_norms",
    "step_jacobian",
]
