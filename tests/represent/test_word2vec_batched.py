"""word2vec's batched trainer (`device`) against the CPU trainer, and CBOW's bag step at scale."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.represent.word2vec import Word2VecConfig, encode_corpus, train_encoded
from rnnkit.represent.word2vec.corpus import EncodedCorpus
from rnnkit.represent.word2vec.scripted import scripted_cbow_steps, scripted_skipgram_steps
from rnnkit.represent.word2vec.steps import cbow_step, cbow_steps, cbow_windows, skipgram_steps
from rnnkit.represent.word2vec.train import CHUNK_WORDS, TrainingPosition

Saved = tuple[TrainingPosition, torch.Tensor, torch.Tensor]


@pytest.fixture(scope="module")
def corpus() -> EncodedCorpus:
    """1.4 chunks of words from 30 words in 3 topics: two chunks, the second one short."""
    rng = np.random.default_rng(1)
    topics = rng.integers(0, 3, size=9_000)
    words = topics[:, None] * 10 + rng.integers(0, 10, size=(9_000, 10))  # (sentences, 10)
    sentences = [[f"w{w}" for w in row] for row in words.tolist()]
    return encode_corpus(sentences, min_count=1, window=2)


def _config(model: str, device: str | None) -> Word2VecConfig:
    return Word2VecConfig(model=model, vector_size=8, window=2, negative=2, epochs=2,
                          min_count=1, threads=1, seed=7, device=device)  # fmt: skip


def _train(
    corpus: EncodedCorpus, config: Word2VecConfig, start: Saved | None = None
) -> tuple[torch.Tensor, list[Saved]]:
    saved: list[Saved] = []

    def checkpoint(position: TrainingPosition, w_in: torch.Tensor, w_out: torch.Tensor) -> None:
        assert w_in.device.type == w_out.device.type == "cpu"  # checkpoints get CPU tables
        saved.append((position, w_in.clone(), w_out.clone()))

    vectors = train_encoded(corpus, config, start=start, checkpoint=checkpoint, checkpoint_every=1)
    return vectors.vectors, saved


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_batched_trainer_on_the_cpu_equals_the_cpu_trainer(
    model: str, corpus: EncodedCorpus
) -> None:
    assert corpus.ids.size > CHUNK_WORDS  # two chunks, so two rounds an epoch
    hogwild, hogwild_saved = _train(corpus, _config(model, None))
    batched, batched_saved = _train(corpus, _config(model, "cpu"))
    assert torch.equal(batched, hogwild)
    assert [s[0] for s in batched_saved] == [s[0] for s in hogwild_saved]
    for (_, b_in, b_out), (_, h_in, h_out) in zip(batched_saved, hogwild_saved, strict=True):
        assert torch.equal(b_in, h_in)
        assert torch.equal(b_out, h_out)


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_batched_trainer_resumes_to_the_unbroken_run(model: str, corpus: EncodedCorpus) -> None:
    config = _config(model, "cpu")
    unbroken, saved = _train(corpus, config)
    assert saved[0][0] == TrainingPosition(epoch=0, chunk=1, words_done=CHUNK_WORDS)
    position, w_in, w_out = saved[2]  # in epoch 1, after its first chunk
    resumed, _ = _train(corpus, config, start=(position, w_in.clone(), w_out.clone()))
    assert torch.equal(resumed, unbroken)


@pytest.mark.gpu
@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_cuda_trainer_matches_the_cpu_trainer(model: str, corpus: EncodedCorpus) -> None:
    on_cpu, _ = _train(corpus, _config(model, None))
    on_gpu, saved = _train(corpus, _config(model, "cuda"))
    assert on_gpu.device.type == "cpu"
    # the same draws and steps; only the order of float additions (atomics) may differ
    torch.testing.assert_close(on_gpu, on_cpu, atol=1e-4, rtol=1e-3)
    position, w_in, w_out = saved[2]
    resumed, _ = _train(corpus, _config(model, "cuda"), start=(position, w_in, w_out))
    torch.testing.assert_close(resumed, on_gpu, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("device", ["tpu", "cuda:x", "CPU", ""])
def test_config_rejects_an_unknown_device(device: str) -> None:
    with pytest.raises(ConfigError, match=f"device must be .*got {device!r}"):
        Word2VecConfig(device=device)


def test_an_absent_gpu_is_a_config_error(
    corpus: EncodedCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="'cuda:1' needs a CUDA GPU, but torch sees no"):
        train_encoded(corpus, _config("cbow", "cuda:1"))


def _cbow_reference(
    weight_in: torch.Tensor,
    weight_out: torch.Tensor,
    ids: torch.Tensor,
    first: int,
    left: torch.Tensor,
    right: torch.Tensor,
    negatives: torch.Tensor,
    lr: float,
) -> tuple[float, int, torch.Tensor, torch.Tensor]:
    """gensim's CBOW rule one centre at a time, every update from the tables before the step."""
    n, g = left.numel(), negatives.shape[0]
    group = math.ceil(n / g)
    delta_in, delta_out = torch.zeros_like(weight_in), torch.zeros_like(weight_out)
    loss, trained = 0.0, 0
    for i in range(n):
        centre = first + i
        context = [p for p in range(int(left[i]), int(right[i]) + 1) if p != centre]
        if not context:
            continue
        hidden = weight_in[ids[context]].mean(0)  # h
        grad_hidden = torch.zeros_like(hidden)
        targets = [(int(ids[centre]), 1.0)]
        targets += [(int(k), 0.0) for k in negatives[i // group] if k != ids[centre]]
        for word, label in targets:
            score = float(weight_out[word] @ hidden)
            gain = lr * (label - 1 / (1 + math.exp(-score)))
            grad_hidden += gain * weight_out[word]
            delta_out[word] += gain * hidden
            loss -= math.log(1 / (1 + math.exp(-score if label else score)))
        for p in context:
            delta_in[ids[p]] += grad_hidden
        trained += 1
    return loss, trained, weight_in + delta_in, weight_out + delta_out


@pytest.mark.parametrize(("first", "window"), [(0, 3), (3, 3), (2, None)])
def test_cbow_bags_equal_the_rule_one_centre_at_a_time(
    float64: torch.dtype, first: int, window: int | None
) -> None:
    """Many collisions (8 words at 60 positions), windows cut by segments, a short last group."""
    generator = torch.Generator().manual_seed(first)
    n, R, W = 50, 60, 3
    ids = torch.randint(8, (R,), generator=generator)
    reach = torch.randint(1, W + 1, (n,), generator=generator)
    centre = torch.arange(first, first + n)
    segment_start = (centre // 13) * 13  # segments of 13 positions
    left = torch.maximum(centre - reach, segment_start)
    right = torch.minimum(torch.minimum(centre + reach, segment_start + 12), torch.tensor(R - 1))
    negatives = torch.randint(8, (17, 4), generator=generator)  # G = 3, the last group 2 long
    weight_in, weight_out = torch.randn(8, 5) * 0.3, torch.randn(8, 5) * 0.3
    loss, trained, expected_in, expected_out = _cbow_reference(
        weight_in, weight_out, ids, first, left, right, negatives, 0.05
    )
    got = cbow_step(weight_in, weight_out, ids, first, left, right, negatives, 0.05,
                    window=window)  # fmt: skip
    assert got == (pytest.approx(loss, rel=1e-10), trained)
    torch.testing.assert_close(weight_in, expected_in, atol=1e-10, rtol=0)
    torch.testing.assert_close(weight_out, expected_out, atol=1e-10, rtol=0)


def test_cli_device_flag_trains_and_refuses_an_absent_gpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from rnnkit.cli import main
    from rnnkit.tasks import word2vec as task

    rng = np.random.default_rng(2)
    rows = [" ".join(f"t{t}w{w}" for w in rng.permutation(5)) for t in rng.integers(0, 4, 300)]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(rows) + "\n", encoding="utf-8")
    flags = ["--model", "cbow", "--vector-size", "6", "--epochs", "2", "--min-count", "1",
             "--threads", "1", "--window", "2", "--quiet"]  # fmt: skip
    runs = {}
    for device in ("none", "cpu"):
        run = tmp_path / device
        argv = ["word2vec", "train", str(corpus), "--run-dir", str(run), "--device", device]
        assert main([*argv, *flags]) == 0
        runs[device] = task.load_run(run).vectors
    assert '"device": "cpu"' in (tmp_path / "cpu" / "config.json").read_text()
    assert torch.equal(runs["cpu"], runs["none"])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    capsys.readouterr()
    argv = ["word2vec", "train", str(corpus), "--run-dir", str(tmp_path / "gpu"), "--device"]
    assert main([*argv, "cuda", *flags]) == 2
    assert "'cuda' needs a CUDA GPU" in capsys.readouterr().out  # one line, from the console


def test_scripted_chunk_loop_equals_the_eager_one() -> None:
    """TorchScript runs `cbow_steps` without the GIL; its tables must be the eager ones."""
    generator = torch.Generator().manual_seed(9)
    M, W, G = 700, 3, 2
    ids = torch.randint(40, (M,), generator=generator)
    reach = torch.randint(1, W + 1, (M,), generator=generator)
    position = torch.arange(M)
    left, right = (position - reach).clamp(min=0), (position + reach).clamp(max=M - 1)
    windows = cbow_windows(ids, left, right, W, torch.float32)
    negatives = torch.randint(40, (M // G, 5), generator=generator)
    tables = torch.randn(40, 6, generator=generator) * 0.1, torch.randn(40, 6) * 0.1
    results = []
    for steps in (cbow_steps, scripted_cbow_steps()):
        weight_in, weight_out = tables[0].clone(), tables[1].clone()
        loss, count = steps(weight_in, weight_out, *windows, negatives, G, 64, [0.05] * 11)
        results.append((weight_in, weight_out, loss, count))
    assert isinstance(scripted_cbow_steps(), torch.jit.ScriptFunction)
    for eager, scripted in zip(*results, strict=True):
        assert torch.equal(scripted, eager)
    assert int(results[0][3]) == M


def test_scripted_skipgram_loop_equals_the_eager_one() -> None:
    generator = torch.Generator().manual_seed(10)
    N, S, K = 300, 4, 3
    contexts = torch.randint(30, (N, S), generator=generator)
    mask = torch.rand(N, S, generator=generator) < 0.8
    targets = torch.randint(30, (N, 1 + K), generator=generator)
    tables = torch.randn(30, 6, generator=generator) * 0.1, torch.randn(30, 6) * 0.1
    results = []
    for steps in (skipgram_steps, scripted_skipgram_steps()):
        weight_in, weight_out = tables[0].clone(), tables[1].clone()
        loss, pairs = steps(weight_in, weight_out, contexts, mask, targets, 32, [0.05] * 10)
        results.append((weight_in, weight_out, loss, pairs))
    assert isinstance(scripted_skipgram_steps(), torch.jit.ScriptFunction)
    for eager, scripted in zip(*results, strict=True):
        assert torch.equal(scripted, eager)
    assert int(results[0][3]) == int(mask.sum())
