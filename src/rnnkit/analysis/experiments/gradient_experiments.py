"""Vanishing and exploding gradients made visible: the `scalar` and `spectrum` experiments.

`scalar` repeats one multiplication, as the lecture does: back-propagating through n steps of
a one-unit RNN multiplies the gradient n times by the factor (tanh)'·w, so

    g_n = (tanh'·w)ⁿ,    0.9^1000 ≈ 1.7×10⁻⁴⁶ (vanishes),    1.01^1000 ≈ 2.1×10⁴ (explodes)

`spectrum` does the same with matrices: an Elman RNN h_t = φ(x_t + W_hh h_{t-1}) whose W_hh is
scaled to spectral radius rho, a loss L = u·h_T at the last step, and ‖∂L/∂h_t‖ against the
distance T − t. For the linear RNN (φ = identity), ∂L/∂h_t = uᵀ W_hh^(T−t), whose norm goes
like rho^(T−t) (Bengio et al. 1994; Pascanu et al. 2013, section 2.1). With tanh, saturation
shrinks φ' and can stop the explosion for rho > 1; the report states what was measured.

Each run writes its PNG, report.md and config.json into the output folder.

References:
    https://doi.org/10.1109/72.279181 (Bengio, Simard & Frasconi 1994, "Learning long-term
    dependencies with gradient descent is difficult")
    https://arxiv.org/abs/1211.5063 (Pascanu, Mikolov & Bengio 2013, "On the difficulty of
    training recurrent neural networks")
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rnnkit.analysis import spectral_radius, step_gradient_norms
from rnnkit.analysis.experiments.gradient_config import RHO, ScalarConfig, SpectrumConfig
from rnnkit.cells.rnn import ElmanCell
from rnnkit.config import save_config

REPORT_DISTANCES = (0, 10, 50, 99)  # T − t columns of the spectrum table


@dataclass(frozen=True, kw_only=True)
class ScalarResult:
    """Products g_n for n = 1…N per factor; `final` holds g_N."""

    steps: np.ndarray  # (N,) the n values
    products: dict[float, np.ndarray]  # factor -> (N,) g_n
    final: dict[float, float]  # factor -> g_N
    files: list[Path] = field(default_factory=list)


def scalar_products(factors: tuple[float, ...], steps: int) -> dict[float, np.ndarray]:
    """g_n = factorⁿ for n = 1…N by repeated multiplication (float64).

    Example:
        >>> scalar_products((0.5,), 3)[0.5].tolist()
        [0.5, 0.25, 0.125]
    """
    return {factor: np.cumprod(np.full(steps, factor, dtype=np.float64)) for factor in factors}


def run_scalar(config: ScalarConfig, out_dir: str | Path) -> ScalarResult:
    """Compute g_n, plot scalar.png (log scale) and write report.md and config.json."""
    from rnnkit.analysis.plots import plot_log_curves  # matplotlib loads only here

    sized = config.sized()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    products = scalar_products(sized.factors, sized.steps)
    steps = np.arange(1, sized.steps + 1)
    final = {factor: float(values[-1]) for factor, values in products.items()}
    plot = plot_log_curves(
        out / "scalar.png",
        steps.tolist(),
        {f"{factor:g}ⁿ": values.tolist() for factor, values in products.items()},
        title="Repeated multiplication by (tanh)'·w",
        xlabel="n (steps back through time)",
        ylabel="product",
    )
    lines = [
        "# scalar: repeated multiplication by (tanh)'·w",
        "",
        f"g_n = factorⁿ computed by {sized.steps} repeated float64 multiplications.",
        "",
        f"| factor | g_{sized.steps} |",
        "|---|---|",
        *(f"| {factor:g} | {value:.4e} |" for factor, value in final.items()),
        "",
        "Below 1 the product vanishes, above 1 it explodes; only exactly 1 keeps it.",
    ]
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    save_config(config, out / "config.json")
    return ScalarResult(
        steps=steps, products=products, final=final, files=[plot, report, out / "config.json"]
    )


@dataclass(frozen=True, kw_only=True)
class SpectrumResult:
    """Geometric-mean ‖∂L/∂h_t‖ per rho, indexed by distance T − t (index 0 is h_T)."""

    norms: dict[float, np.ndarray]  # rho -> (T,) by distance
    measured_radius: dict[float, float]  # rho -> mean rho(W_hh) after scaling
    files: list[Path] = field(default_factory=list)


def scaled_cell(config: SpectrumConfig, rho: float, generator: torch.Generator) -> ElmanCell:
    """An Elman cell with W_ih = I, zero biases and a random W_hh of spectral radius rho.

    W_hh = rho · W / rho(W),  W_ij ~ N(0, 1/H)
    """
    H = config.hidden_size
    cell = ElmanCell(H, H, nonlinearity=config.nonlinearity, dtype=torch.float64)
    weight = torch.randn(H, H, generator=generator, dtype=torch.float64) / math.sqrt(H)
    with torch.no_grad():
        cell.weight_hh.copy_(weight * (rho / spectral_radius(weight)))  # W_hh
        cell.weight_ih.copy_(torch.eye(H, dtype=torch.float64))  # W_ih = I
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    return cell


def _norms_for(config: SpectrumConfig, rho: float, seed: int) -> tuple[Tensor, float]:
    """‖∂L/∂h_t‖ by distance (T,) and the measured rho(W_hh) for one seed."""
    generator = torch.Generator().manual_seed(seed)
    cell = scaled_cell(config, rho, generator)
    T, B, H = config.length, config.batch_size, config.hidden_size
    x = config.input_scale * torch.randn(T, B, H, generator=generator, dtype=torch.float64)
    direction = torch.randn(H, generator=generator, dtype=torch.float64)
    direction = direction / torch.linalg.vector_norm(direction)  # u, ‖u‖ = 1

    def loss_fn(outputs: Tensor) -> Tensor:
        return (outputs[-1] @ direction).sum()  # L = Σ_b u·h_T

    norms = step_gradient_norms(cell, x, loss_fn)  # (T,) index t − 1
    return norms.detach().flip(0), float(spectral_radius(cell.weight_hh.detach()))


def run_spectrum(config: SpectrumConfig, out_dir: str | Path) -> SpectrumResult:
    """Measure ‖∂L/∂h_t‖ per rho, plot spectrum.png and write report.md and config.json."""
    from rnnkit.analysis.plots import plot_log_curves  # matplotlib loads only here

    sized = config.sized()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    norms: dict[float, np.ndarray] = {}
    measured: dict[float, float] = {}
    for rho in sized.radii:
        runs = [_norms_for(sized, rho, sized.seed + k) for k in range(sized.seeds)]
        stacked = torch.stack([r[0] for r in runs])  # (seeds, T)
        norms[rho] = stacked.log().mean(0).exp().numpy()  # geometric mean over seeds
        measured[rho] = sum(r[1] for r in runs) / len(runs)
    distance = list(range(sized.length))
    plot = plot_log_curves(
        out / "spectrum.png",
        distance,
        {f"{RHO} = {rho:g}": values.tolist() for rho, values in norms.items()},
        title=f"‖∂L/∂h_t‖, Elman RNN ({sized.nonlinearity}), H = {sized.hidden_size}",
        xlabel="distance T − t",
        ylabel="‖∂L/∂h_t‖",
    )
    report = out / "report.md"
    report.write_text(_spectrum_report(sized, norms, measured), encoding="utf-8")
    save_config(config, out / "config.json")
    return SpectrumResult(
        norms=norms, measured_radius=measured, files=[plot, report, out / "config.json"]
    )


def _spectrum_report(
    config: SpectrumConfig, norms: dict[float, np.ndarray], measured: dict[float, float]
) -> str:
    """report.md: the setup and a table of norms at distances 0, 10, 50, 99 per rho."""
    columns = [d for d in REPORT_DISTANCES if d < config.length]
    lines = [
        f"# spectrum: ‖∂L/∂h_t‖ of an Elman RNN ({config.nonlinearity})",
        "",
        f"H = {config.hidden_size}, T = {config.length}, B = {config.batch_size}, "
        f"x_t ~ N(0, {config.input_scale:g}²), W_ih = I, L = Σ_b u·h_T with ‖u‖ = 1; "
        f"geometric mean over {config.seeds} random W_hh per {RHO}. The norm is taken over the "
        f"whole batch, so at distance 0 it is √B = {math.sqrt(config.batch_size):.3g}.",
        "",
        f"| {RHO} | measured {RHO}(W_hh) | " + " | ".join(f"T−t = {d}" for d in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for rho, values in norms.items():
        cells = " | ".join(f"{values[d]:.3e}" for d in columns)
        lines.append(f"| {rho:g} | {measured[rho]:.4f} | {cells} |")
    last = columns[-1]
    grew = [f"{rho:g}" for rho, values in norms.items() if values[last] > values[0]]
    lines += [
        "",
        f"Measured: the norm at distance {last} exceeds the norm at distance 0 for "
        f"{RHO} ∈ {{{', '.join(grew) or 'none'}}}.",
    ]
    if config.nonlinearity == "tanh":
        lines.append(
            f"With tanh, saturation (tanh' < 1) damps the product, so {RHO} > 1 need not explode; "
            "rerun with --nonlinearity identity for the linear picture."
        )
    return "\n".join(lines) + "\n"


__all__ = [
    "ScalarConfig",
    "ScalarResult",
    "SpectrumConfig",
    "SpectrumResult",
    "run_scalar",
    "run_spectrum",
    "scalar_products",
    "scaled_cell",
]
