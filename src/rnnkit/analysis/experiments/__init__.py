"""The vanishing/exploding-gradient experiments of `rnnkit analyze` (Pascanu et al. 2013).

    gradient_config.py       the experiments' configs (torch-free: `rnnkit analyze … --help`)
    gradient_experiments.py  scalar: 0.9^n, 1.01^n, …; spectrum: ‖∂L/∂h_t‖ against ρ
    long_range.py            one model trained on an adding / temporal-order problem
    gradient_tasks.py        tasks: success rates over lengths and seeds; heatmap

References:
    R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty of training recurrent neural
    networks", ICML 2013.
"""
