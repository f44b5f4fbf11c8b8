"""`rnnkit analyze EXPERIMENT --out DIR`: the vanishing/exploding-gradient experiments."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from rnnkit.config import add_config_flags, config_from_args
from rnnkit.console import console


def add_analyze(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit analyze scalar|spectrum|tasks|heatmap|act|trees|variants --out DIR [--quick]`:
    the gradient experiments and the studies of ACT, tree networks and LSTM variants."""
    from rnnkit.analysis.experiments import (
        act_config,
        trees_config,
        variants_config,
    )
    from rnnkit.analysis.experiments import (
        gradient_config as configs,  # torch-free, as the other configs; runners load in handle
    )

    parser = verbs.add_parser(
        "analyze",
        help="gradient experiments (scalar, spectra, long-range tasks, heatmaps); studies of "
        "ACT, tree networks and LSTM variants",
        description="Run an experiment; it writes its report, figures and config.json to --out.",
    )
    names = parser.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    # experiment -> (config class, module and function that run it, help line)
    choices = {
        "scalar": (configs.ScalarConfig, "gradient_experiments", "run_scalar",
                   "0.9^n, 1.01^n, ..."),
        "spectrum": (configs.SpectrumConfig, "gradient_experiments", "run_spectrum",
                     "‖∂L/∂h_t‖ vs rho"),
        "tasks": (configs.TasksConfig, "gradient_tasks", "run_tasks",
                  "adding / temporal order: RNN, +clip, +clip+Ω, LSTM, GRU success rates"),
        "heatmap": (configs.HeatmapConfig, "gradient_tasks", "run_heatmap",
                    "log ‖∂L/∂h_t‖ over time step × training step, RNN vs LSTM"),
        "act": (act_config.ACTStudyConfig, "act", "run_act",
                "adaptive computation time (Graves 2016): parity, addition, char-LM vs no ACT"),
        "trees": (trees_config.TreeStudyConfig, "trees", "run_trees",
                  "ListOps: Child-Sum / binary Tree-LSTM, recursive net vs a sequential LSTM"),
        "variants": (variants_config.VariantStudyConfig, "variants", "run_variant_study",
                     "LSTM variants of Greff et al. 2017 and the GRU: char-LM, long-range task"),
    }  # fmt: skip
    for name, (config_cls, _, _, help_text) in choices.items():
        experiment_parser = names.add_parser(name, help=help_text, description=help_text)
        add_config_flags(experiment_parser, config_cls)
        experiment_parser.add_argument("--out", type=Path, required=True,
                                       help="output folder (required)")  # fmt: skip

    def handle(args: argparse.Namespace) -> int:
        config_cls, module, function, _ = choices[args.experiment]
        run = getattr(importlib.import_module(f"rnnkit.analysis.experiments.{module}"), function)
        result = run(config_from_args(config_cls, args), args.out)
        for path in result.files:
            console.print(str(path), markup=False, soft_wrap=True)
        return 0

    parser.set_defaults(handler=handle)
