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
from rnnkit.analysis.regulariser import (
    PascanuObjective,
    pascanu_regulariser,
    regularised_run,
    tape_regulariser,
)
from rnnkit.analysis.tape import CellSteps, record_steps

__all__ = [
    "CellSteps",
    "PascanuObjective",
    "elman_jacobian",
    "gru_jacobian",
    "largest_singular_value",
    "lstm_jacobian",
    "pascanu_regulariser",
    "product_norm",
    "record_steps",
    "regularised_run",
    "spectral_radius",
    "state_jacobians",
    "step_gradient_norms",
    "step_jacobian",
    "tape_regulariser",
]
