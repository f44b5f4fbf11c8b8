"""What `rnnkit word2vec train --help` shows: the run config and the checkpoint interval.

This module imports no torch, so that the help is quick; `rnnkit.tasks.word2vec.train` trains.
"""

from __future__ import annotations

from rnnkit.represent.word2vec.config import Word2VecConfig

CHECKPOINT_EVERY = 100  # chunks of 65,536 words between checkpoints: 6.55M words

# Registration (read by rnnkit.tasks): `rnnkit word2vec train` makes these runs, not `rnnkit
# train`, so there is no TASK_INFO; rnnkit.load reads them with this loader, `rnnkit word2vec
# …` is the task's verb and `rnnkit resume` of a word2vec run runs its `resume` handler.
LOADERS = {"word2vec": "rnnkit.tasks.word2vec.train:load_vectors"}
VERBS = {"word2vec": ("rnnkit.tasks.word2vec.cli:add_word2vec",)}
HANDLERS = {"word2vec": {"resume": "rnnkit.tasks.word2vec.cli:resume_from_args"}}

__all__ = ["CHECKPOINT_EVERY", "HANDLERS", "LOADERS", "VERBS", "Word2VecConfig"]
