"""Helpers shared by the word2vec task and CLI tests: a planted corpus, a hand-made run."""

from __future__ import annotations

from pathlib import Path

import torch

from rnnkit.represent.word2vec import WordVectors
from rnnkit.represent.word2vec.formats import save_safetensors
from rnnkit.tasks.word2vec import train as task
from rnnkit.training.runs import write_run_config


def planted_corpus(path: Path, lines: int = 600) -> Path:
    """Sentences drawn from 6 topic groups of 5 words, so words of a group co-occur."""
    generator = torch.Generator().manual_seed(0)
    groups = [[f"t{g}w{w}" for w in range(5)] for g in range(6)]
    rows = []
    for _ in range(lines):
        group = groups[int(torch.randint(6, (1,), generator=generator))]
        order = torch.randperm(5, generator=generator).tolist()
        rows.append(" ".join(group[i] for i in order))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def make_run(run_dir: Path) -> WordVectors:
    """A hand-made word2vec run directory (no training)."""
    words = ["man", "woman", "king", "queen", "apple"]
    vectors = torch.tensor([[1.0, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [-1, 0, 0.2]])
    wv = WordVectors(words, vectors, counts=[5, 4, 3, 2, 1])
    write_run_config(run_dir, {"task": "word2vec", "config": {"vector_size": 3}, "data": "x"})
    save_safetensors(wv, run_dir / task.VECTORS_FILE, vocab_path=run_dir / task.VOCAB_FILE)
    return wv
