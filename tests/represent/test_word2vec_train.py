"""word2vec training: loss, hand-written SGD steps against autograd, planted structure, config."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ConfigError
from rnnkit.represent.word2vec import Word2VecConfig, negative_sampling_loss, train_word2vec
from rnnkit.represent.word2vec.steps import cbow_step, skipgram_step


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_loss_matches_the_formula_term_by_term(float64: torch.dtype) -> None:
    center, context = torch.randn(3, 4), torch.randn(3, 4)
    negatives = torch.randn(3, 2, 4)
    loss = negative_sampling_loss(center, context, negatives)
    for n in range(3):
        expected = -math.log(_sigmoid(float(context[n] @ center[n])))
        for k in range(2):
            expected -= math.log(_sigmoid(-float(negatives[n, k] @ center[n])))
        assert loss[n].item() == pytest.approx(expected, rel=1e-12)


def test_loss_gradcheck(float64: torch.dtype) -> None:
    inputs = (
        torch.randn(2, 3, requires_grad=True),
        torch.randn(2, 3, requires_grad=True),
        torch.randn(2, 4, 3, requires_grad=True),
    )
    assert torch.autograd.gradcheck(negative_sampling_loss, inputs)


def _tables(vocab_size: int = 24, embed_dim: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    shape = (vocab_size, embed_dim)
    return torch.randn(shape) * 0.5, torch.randn(shape) * 0.5


def test_skipgram_step_is_one_sgd_step_on_the_summed_loss(float64: torch.dtype) -> None:
    weight_in, weight_out = _tables()
    # words repeat within and across windows; a negative equal to its centre is skipped
    contexts = torch.tensor([[1, 2, 3, 4], [0, 5, 5, 6], [7, 8, 2, 2]])  # (N=3, 2b=4)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1], [0, 1, 1, 1]], dtype=torch.bool)
    targets = torch.tensor([[0, 5, 6, 0], [3, 3, 1, 2], [4, 8, 8, 0]])  # centre, 3 negatives
    lr = 0.1
    leaf_in, leaf_out = weight_in.clone().requires_grad_(), weight_out.clone().requires_grad_()
    reference = torch.zeros(())
    for n in range(3):
        keep = targets[n, 1:] != targets[n, 0]  # a negative equal to the centre is skipped
        for s in range(4):
            if mask[n, s]:
                reference = (
                    reference
                    + negative_sampling_loss(
                        leaf_in[contexts[n, s]].unsqueeze(0),
                        leaf_out[targets[n, 0]].unsqueeze(0),
                        leaf_out[targets[n, 1:][keep]].unsqueeze(0),
                    ).sum()
                )
    reference.backward()
    loss, pairs = skipgram_step(weight_in, weight_out, contexts, mask, targets, lr)
    assert pairs == int(mask.sum())
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    torch.testing.assert_close(weight_in, leaf_in.detach() - lr * leaf_in.grad, atol=1e-12, rtol=0)
    torch.testing.assert_close(
        weight_out, leaf_out.detach() - lr * leaf_out.grad, atol=1e-12, rtol=0
    )


@pytest.mark.parametrize(
    "negatives",
    [[[7, 1], [8, 10], [12, 13], [14, 15]], [[7, 1], [8, 4]]],
    ids=["own-negatives", "two-share-negatives"],
)
def test_cbow_step_matches_the_mean_context_rule(
    float64: torch.dtype, negatives: list[list[int]]
) -> None:
    weight_in, weight_out = _tables()
    ids = torch.tensor([3, 1, 4, 9, 5, 2, 6])  # (R=7) words at consecutive positions
    first = 1  # centres at positions 1 … 4: words 1, 4, 9, 5
    left, right = torch.tensor([0, 0, 3, 2]), torch.tensor([3, 4, 3, 6])
    noise = torch.tensor(negatives)  # (g, K=2); centre i uses row i // (4 / g)
    lr = 0.05
    expected_in, expected_out = weight_in.clone(), weight_out.clone()
    reference, trained = 0.0, 0
    for n in range(4):
        centre = first + n
        context = [p for p in range(int(left[n]), int(right[n]) + 1) if p != centre]
        if not context:  # centre 3: empty window, skipped
            continue
        hidden = weight_in[ids[context]].mean(0).requires_grad_()  # h
        out = weight_out.clone().requires_grad_()
        drawn = noise[n // (4 // len(noise))]
        drawn = drawn[drawn != ids[centre]]  # a negative equal to w_O is skipped
        loss = negative_sampling_loss(
            hidden.unsqueeze(0), out[ids[centre]].unsqueeze(0), out[drawn].unsqueeze(0)
        ).sum()
        loss.backward()
        expected_out -= lr * out.grad
        for p in context:  # every context word gets the whole ∂L/∂h (gensim, cbow_mean=1)
            expected_in[ids[p]] -= lr * hidden.grad
        reference, trained = reference + loss.item(), trained + 1
    loss, count = cbow_step(weight_in, weight_out, ids, first, left, right, noise, lr)
    assert count == trained == 3
    assert loss == pytest.approx(reference, rel=1e-10)
    torch.testing.assert_close(weight_in, expected_in, atol=1e-10, rtol=0)
    torch.testing.assert_close(weight_out, expected_out, atol=1e-10, rtol=0)


def test_cbow_step_sums_the_updates_of_repeated_words(float64: torch.dtype) -> None:
    weight_in, weight_out = _tables()
    ids = torch.tensor([3, 1, 1, 5, 2])  # word 1 at positions 1 and 2
    left, right = torch.tensor([0, 2]), torch.tensor([2, 4])  # windows {0, 2} and {3, 4}
    negatives = torch.tensor([[7, 8], [9, 10]])  # word 1 is the target of both centres
    before_in, before_out = weight_in.clone(), weight_out.clone()
    cbow_step(weight_in, weight_out, ids, 1, left, right, negatives, 0.1)
    expected_out = before_out.clone()
    for window in ([0, 2], [3, 4]):
        hidden = before_in[ids[window]].mean(0)
        score = float(before_out[1] @ hidden)
        expected_out[1] += 0.1 * (1 - _sigmoid(score)) * hidden  # both updates, summed
    torch.testing.assert_close(weight_out[1], expected_out[1], atol=1e-12, rtol=0)
    assert torch.equal(weight_in[0], before_in[0])  # word 0 is nowhere in the step


def _synonym_corpus(seed: int = 0) -> list[list[str]]:
    """5 topics × 8 slots × 2 synonyms; a sentence walks its topic's slots in a cycle.

    The two synonyms of a slot occur in exactly the same contexts, other words of the topic
    in overlapping ones, other topics never: each word's nearest neighbour is its synonym.
    """
    generator = torch.Generator().manual_seed(seed)
    sentences = []
    for _ in range(1500):
        topic = int(torch.randint(5, (1,), generator=generator))
        slot = int(torch.randint(8, (1,), generator=generator))
        picks = torch.randint(2, (16,), generator=generator).tolist()
        sentences.append([f"t{topic}s{(slot + i) % 8}{'ab'[pick]}" for i, pick in enumerate(picks)])
    return sentences


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_planted_synonyms_are_nearest_neighbours(model: str) -> None:
    config = Word2VecConfig(
        model=model, vector_size=24, window=2, epochs=8, min_count=1, sample=0.0,
        alpha=0.025 if model == "skipgram" else 0.05, threads=1, seed=3, batch_size=256,
    )  # fmt: skip
    vectors = train_word2vec(_synonym_corpus(), config)
    assert len(vectors.words) == 80
    unit = F.normalize(vectors.vectors, dim=1)
    cosine = unit @ unit.T
    cosine.fill_diagonal_(-2.0)
    nearest = cosine.argmax(1)
    partner = [w[:-1] + ("b" if w.endswith("a") else "a") for w in vectors.words]
    hits = [vectors.words[int(j)] == partner[i] for i, j in enumerate(nearest)]
    assert all(hits), f"{sum(hits)}/80 synonyms nearest"


def test_same_seed_same_vectors_with_one_thread() -> None:
    config = Word2VecConfig(vector_size=8, window=2, epochs=2, min_count=1, threads=1, seed=5)
    corpus = _synonym_corpus()[:200]
    first, second = train_word2vec(corpus, config), train_word2vec(corpus, config)
    other = train_word2vec(corpus, Word2VecConfig(**{**config.__dict__, "seed": 6}))
    assert torch.equal(first.vectors, second.vectors)
    assert not torch.equal(first.vectors, other.vectors)
    assert first.counts == sorted(first.counts, reverse=True)


def test_progress_reports_each_epoch_and_the_loss_falls() -> None:
    reports: list[dict] = []
    config = Word2VecConfig(
        vector_size=16, window=2, epochs=3, min_count=1, sample=0.0, threads=2, batch_size=256
    )
    train_word2vec(_synonym_corpus(), config, progress=reports.append)
    ends = [r for r in reports if r["words_done"] == r["epoch"] * 24000]
    assert [r["epoch"] for r in ends] == [1, 2, 3]
    assert set(ends[0]) == {
        "epoch",
        "epochs",
        "words_done",
        "words_total",
        "words_per_s",
        "lr",
        "loss",
    }
    assert ends[-1]["loss"] < ends[0]["loss"] < 6 * math.log(2)  # below the untrained K+1·log 2
    assert ends[-1]["lr"] == pytest.approx(config.min_alpha)


@pytest.mark.parametrize(
    ("field", "value"),
    [("model", "glove"), ("vector_size", 0), ("window", -1), ("negative", 0), ("sample", -0.1),
     ("alpha", 0.0), ("min_alpha", 0.5), ("threads", 0), ("max_vocab_size", 0),
     ("batch_size", 0), ("cbow_negative_group", 0), ("ns_exponent", math.nan),
     ("alpha", math.inf), ("sample", math.nan)],
)  # fmt: skip
def test_config_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        Word2VecConfig(**{field: value})
