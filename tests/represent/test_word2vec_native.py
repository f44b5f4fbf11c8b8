"""CBOW's C kernel (`native.py`) against the torch steps, and the fallback without a compiler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.represent.word2vec import Word2VecConfig, encode_corpus, native, train_encoded
from rnnkit.represent.word2vec import train as train_module
from rnnkit.represent.word2vec.corpus import EncodedCorpus
from rnnkit.represent.word2vec.steps import cbow_steps, cbow_windows


@pytest.fixture(scope="module")
def kernel() -> native.CbowKernel:
    built = native.cbow_kernel()
    if built is None:
        pytest.skip("no C compiler here: CBOW runs the torch steps (tested elsewhere)")
    return built


def _chunk(
    seed: int, size: int, vocab: int, window: int, group: int, negative: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """M positions of V words in segments of 17 (a window stops at a segment's end), one empty
    window, and ⌈M/G⌉ draws of K negatives, which often hit w_O (V is small)."""
    M, V, W, G, K = size, vocab, window, group, negative
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(V, (M,), generator=generator)
    reach = torch.randint(1, W + 1, (M,), generator=generator)
    position = torch.arange(M)
    start = position // 17 * 17
    left = torch.maximum(position - reach, start)
    right = torch.minimum(torch.minimum(position + reach, start + 16), torch.tensor(M - 1))
    left[40], right[40] = 40, 40  # an empty window: not trained
    negatives = torch.randint(V, (-(-M // G), K), generator=generator)
    return ids, left, right, negatives


@pytest.mark.parametrize(("group", "rows"), [(1, 50), (2, 64), (3, 99)])
def test_kernel_equals_the_torch_steps_in_float64(
    kernel: native.CbowKernel, group: int, rows: int
) -> None:
    """The same windows, groups, negatives and rates: the tables and loss agree to rounding."""
    M, V, W, K, E = 700, 30, 3, 4, 5
    ids, left, right, negatives = _chunk(group, M, V, W, group, K)
    generator = torch.Generator().manual_seed(11)
    tables = [torch.randn(V, E, generator=generator, dtype=torch.float64) * 0.4 for _ in "io"]
    lrs = [0.08 - 0.005 * s for s in range(-(-M // rows))]
    torch_in, torch_out = (t.clone() for t in tables)
    windows = cbow_windows(ids, left, right, W, torch.float64)
    loss, count = cbow_steps(torch_in, torch_out, *windows, negatives, group, rows, lrs)
    c_in, c_out = (t.clone() for t in tables)
    c_loss, c_count = kernel.cbow_steps(c_in, c_out, ids, left, right, negatives, group, rows, lrs)
    assert c_count == int(count) == int((right > left).sum()) == M - 1
    assert c_loss == pytest.approx(float(loss), rel=1e-12)
    torch.testing.assert_close(c_in, torch_in, atol=1e-10, rtol=0)
    torch.testing.assert_close(c_out, torch_out, atol=1e-10, rtol=0)
    assert not torch.equal(c_in, tables[0])
    assert not torch.equal(c_out, tables[1])


def test_kernel_in_float32_is_close_to_the_torch_steps(kernel: native.CbowKernel) -> None:
    M, V, W, G, K, E = 2_000, 200, 5, 2, 5, 16
    ids, left, right, negatives = _chunk(5, M, V, W, G, K)
    tables = [torch.randn(V, E, generator=torch.Generator().manual_seed(3)) * 0.1 for _ in "io"]
    lrs = [0.025] * 4
    torch_in, torch_out = (t.clone() for t in tables)
    windows = cbow_windows(ids, left, right, W, torch.float32)
    loss, _ = cbow_steps(torch_in, torch_out, *windows, negatives, G, 600, lrs)
    c_loss, _ = kernel.cbow_steps(*tables, ids.int(), left, right, negatives, G, 600, lrs)
    assert c_loss == pytest.approx(float(loss), rel=1e-5)
    torch.testing.assert_close(tables[0], torch_in, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(tables[1], torch_out, atol=1e-5, rtol=1e-4)


def test_kernel_refuses_what_it_cannot_run(kernel: native.CbowKernel) -> None:
    ids, left, right, negatives = _chunk(0, 100, 10, 2, 2, 3)
    w_in, w_out = torch.zeros(10, 4), torch.zeros(10, 4)
    assert native.CbowKernel.accepts(w_in, w_out)
    assert not native.CbowKernel.accepts(w_in.t(), w_out.t())  # not contiguous rows
    assert not native.CbowKernel.accepts(w_in.half(), w_out.half())
    with pytest.raises(ValueError, match="multiple of G"):
        kernel.cbow_steps(w_in, w_out, ids, left, right, negatives, 2, 33, [0.1] * 4)
    with pytest.raises(ValueError, match="draws of negatives"):
        kernel.cbow_steps(w_in, w_out, ids, left, right, negatives[:10], 2, 20, [0.1] * 5)
    with pytest.raises(ValueError, match="contiguous CPU"):
        kernel.cbow_steps(w_in.t(), w_out.t(), ids, left, right, negatives, 2, 20, [0.1] * 5)


@pytest.fixture(scope="module")
def corpus() -> EncodedCorpus:
    """1.5 chunks of words from 30 words in 3 topics."""
    rng = np.random.default_rng(3)
    topics = rng.integers(0, 3, size=10_000)
    words = topics[:, None] * 10 + rng.integers(0, 10, size=(10_000, 10))
    return encode_corpus([[f"w{w}" for w in row] for row in words.tolist()], min_count=1)


def test_training_with_the_kernel_matches_the_torch_steps(
    kernel: native.CbowKernel, corpus: EncodedCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Word2VecConfig(model="cbow", vector_size=8, window=3, negative=3, epochs=2,
                            min_count=1, threads=1, seed=2)  # fmt: skip
    with_kernel = train_encoded(corpus, config).vectors
    monkeypatch.setattr(train_module, "cbow_kernel", lambda: None)
    with_torch = train_encoded(corpus, config).vectors
    assert not torch.equal(with_kernel, with_torch)  # two implementations ran
    torch.testing.assert_close(with_kernel, with_torch, atol=1e-4, rtol=1e-3)


def test_without_a_compiler_cbow_trains_with_the_torch_steps(
    tmp_path: Path, corpus: EncodedCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    native.cbow_kernel.cache_clear()
    try:
        assert native.cbow_kernel() is None
        monkeypatch.setenv("RNNKIT_WORD2VEC_NATIVE", "0")
        native.cbow_kernel.cache_clear()
        assert native.cbow_kernel() is None
        config = Word2VecConfig(model="cbow", vector_size=8, window=2, epochs=1, min_count=1,
                                threads=1)  # fmt: skip
        assert torch.isfinite(train_encoded(corpus, config).vectors).all()
    finally:
        native.cbow_kernel.cache_clear()  # the next caller builds or loads the real one
