"""The chunk loops under TorchScript: `steps.cbow_steps` and `skipgram_steps`, without the GIL.

A CBOW step is ~40 tensor operations (skip-gram's ~20) of a few hundred microseconds each, and
from Python every one of them takes and releases the GIL. With `threads` Hogwild workers on a
busy machine, a worker that the OS preempts while it holds the GIL stalls the others, and the
process gets less CPU than gensim's workers, which hold it once per job (measured with
bench/word2vec.py under a load average of ~9 on 2 cores: rnnkit's CBOW got 0.2-0.4 CPU seconds
per wall-clock second, gensim 0.3-0.6). `torch.jit.script` compiles the loops, and one call
runs all of a chunk's CBOW steps (skip-gram: a chunk's windows of one reach) in TorchScript's
interpreter with the GIL released, at a lower cost per operation. The operations and their
order are those of the eager functions, so the results are the same
(`tests/represent/test_word2vec_batched.py` checks it bit for bit).

torch.jit.script is deprecated in torch 2.x (it still works in 2.13) and warns once; where it
fails, the eager function runs instead, with a debug log line. TorchScript reads a function's
source file when it compiles it (the first chunk of a run): a source file edited during a run
breaks that compile.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable

import torch

from rnnkit.represent.word2vec.steps import cbow_steps, skipgram_steps

logger = logging.getLogger(__name__)


Steps = Callable[..., tuple[torch.Tensor, torch.Tensor]]


def _script(function: Steps) -> Steps:
    """`function` compiled by torch.jit.script, or `function` itself if that fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script's notice
            return torch.jit.script(function)
    except Exception as err:  # TorchScript missing or refusing: the same code, eagerly
        logger.debug("TorchScript of %s failed (%s); running it eagerly", function.__name__, err)
        return function


@functools.cache
def scripted_cbow_steps() -> Steps:
    """`steps.cbow_steps` under TorchScript (compiled once per process)."""
    return _script(cbow_steps)


@functools.cache
def scripted_skipgram_steps() -> Steps:
    """`steps.skipgram_steps` under TorchScript (compiled once per process)."""
    return _script(skipgram_steps)
