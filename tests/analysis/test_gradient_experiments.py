"""analysis/experiments/gradient_experiments.py: the `scalar` and `spectrum` experiments."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.analysis import spectral_radius
from rnnkit.analysis.experiments.gradient_experiments import (
    ScalarConfig,
    SpectrumConfig,
    run_scalar,
    run_spectrum,
    scalar_products,
    scaled_cell,
)
from rnnkit.cli import main
from rnnkit.errors import ConfigError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG_MAGIC


def test_scalar_products_match_pow() -> None:
    products = scalar_products((0.9, 1.01), 1000)
    assert products[0.9].shape == (1000,)
    assert math.isclose(products[0.9][-1], math.pow(0.9, 1000), rel_tol=1e-12)
    assert math.isclose(products[1.01][-1], math.pow(1.01, 1000), rel_tol=1e-12)
    assert math.isclose(products[0.9][9], math.pow(0.9, 10), rel_tol=1e-14)


def test_run_scalar_writes_plot_and_computed_report(tmp_path: Path) -> None:
    result = run_scalar(ScalarConfig(quick=True), tmp_path)
    assert _is_png(tmp_path / "scalar.png")
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"| 0.9 | {math.pow(0.9, 100):.4e} |" in report
    assert math.isclose(result.final[0.9], math.pow(0.9, 100), rel_tol=1e-12)
    assert json.loads((tmp_path / "config.json").read_text())["quick"] is True


def test_full_scalar_report_quotes_the_lecture_values(tmp_path: Path) -> None:
    result = run_scalar(ScalarConfig(factors=(0.9, 1.01)), tmp_path)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| 0.9 | 1.7479e-46 |" in report
    assert "| 1.01 | 2.0959e+04 |" in report
    assert math.isclose(result.final[0.9], math.pow(0.9, 1000), rel_tol=1e-12)


def test_scaled_cell_has_the_requested_spectral_radius() -> None:
    config = SpectrumConfig(hidden_size=12)
    cell = scaled_cell(config, 1.3, torch.Generator().manual_seed(0))
    assert float(spectral_radius(cell.weight_hh.detach())) == pytest.approx(1.3, rel=1e-10)
    assert torch.equal(cell.weight_ih.detach(), torch.eye(12, dtype=torch.float64))


def test_spectrum_identity_vanishes_below_one_and_explodes_above(tmp_path: Path) -> None:
    config = SpectrumConfig(quick=True, nonlinearity="identity")
    result = run_spectrum(config, tmp_path)
    assert _is_png(tmp_path / "spectrum.png")
    assert result.norms[0.5].shape == (100,)
    assert result.norms[0.5][50] < 1e-10 * result.norms[1.5][50]
    assert result.norms[0.5][50] < result.norms[0.5][0] * 1e-8  # vanishing
    assert result.norms[1.5][50] > result.norms[1.5][0] * 1e4  # exploding
    assert result.measured_radius[1.1] == pytest.approx(1.1, rel=1e-8)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"{result.norms[0.5][99]:.3e}" in report
    assert "T−t = 99" in report


def test_spectrum_tanh_norms_are_finite_and_ordered(tmp_path: Path) -> None:
    result = run_spectrum(SpectrumConfig(quick=True, radii=(0.5, 1.5)), tmp_path)
    assert all(np.isfinite(values).all() for values in result.norms.values())
    assert result.norms[0.5][50] < result.norms[1.5][50]
    assert "saturation" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_bad_config_raises() -> None:
    with pytest.raises(ConfigError, match="got 0"):
        SpectrumConfig(hidden_size=0)
    with pytest.raises(ConfigError, match=r"got -0\.5"):
        ScalarConfig(factors=(-0.5,))


def test_cli_analyze_scalar_and_spectrum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "scalar", "--out", str(tmp_path / "s"), "--quick"]) == 0
    assert (
        main(
            [
                "analyze",
                "spectrum",
                "--out",
                str(tmp_path / "r"),
                "--quick",
                "--radii",
                "0.5,1.5",
                "--nonlinearity",
                "identity",
            ]
        )
        == 0
    )
    printed = " ".join(capsys.readouterr().out.split())
    assert str(tmp_path / "s" / "scalar.png") in printed
    assert _is_png(tmp_path / "r" / "spectrum.png")
    assert "| 1.5 |" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert main(["analyze", "scalar", "--out", str(tmp_path / "x"), "--steps", "0"]) == 2
