"""Why plain RNNs forget: per-step gradient norms and recurrent Jacobians (issue 7, tools part).

Also here: the gradient experiments behind `rnnkit analyze` (`rnnkit.analysis.experiments`)
and `rnnkit explore`, the data path on the embedded corpus (`rnnkit.analysis.explore`). The
names below load on first access (`rnnkit.lazy`), so that the torch-free config modules of
those commands (`experiments.gradient_config`, `explore_config`) import no torch.
"""

from rnnkit.lazy import lazy_exports

# name -> the module that defines it, imported on first access
_EXPORTS = {
    "step_gradient_norms": "rnnkit.analysis.gradients",
    "elman_jacobian": "rnnkit.analysis.jacobian",
    "gru_jacobian": "rnnkit.analysis.jacobian",
    "largest_singular_value": "rnnkit.analysis.jacobian",
    "lstm_jacobian": "rnnkit.analysis.jacobian",
    "product_norm": "rnnkit.analysis.jacobian",
    "spectral_radius": "rnnkit.analysis.jacobian",
    "state_jacobians": "rnnkit.analysis.jacobian",
    "step_jacobian": "rnnkit.analysis.jacobian",
    "PascanuObjective": "rnnkit.analysis.regulariser",
    "pascanu_regulariser": "rnnkit.analysis.regulariser",
    "regularised_run": "rnnkit.analysis.regulariser",
    "tape_regulariser": "rnnkit.analysis.regulariser",
    "CellSteps": "rnnkit.analysis.tape",
    "record_steps": "rnnkit.analysis.tape",
}

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

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
