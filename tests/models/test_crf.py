"""CRF: the NLL equals brute-force enumeration of every tag sequence; Viterbi equals its argmax."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.errors import ShapeError
from rnnkit.models.crf import CRF
from rnnkit.text.tags import allowed_transitions


def _brute_force(crf: CRF, emissions: torch.Tensor, length: int) -> tuple[torch.Tensor, list]:
    """log Z and the best path of one sentence (T, C), by enumerating all C^n sequences."""
    transitions, start, end = crf.scores()
    scores, paths = [], []
    for path in itertools.product(range(crf.num_tags), repeat=length):
        s = start[path[0]] + end[path[-1]]
        s = s + sum(emissions[t, y] for t, y in enumerate(path))
        s = s + sum(transitions[a, b] for a, b in itertools.pairwise(path))
        scores.append(s)
        paths.append(list(path))
    stacked = torch.stack(scores)
    return torch.logsumexp(stacked, 0), paths[int(stacked.argmax())]


def _randomise(crf: CRF) -> None:
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()


@pytest.mark.parametrize("constrained", [False, True])
def test_nll_and_viterbi_equal_brute_force_with_padding(float64: torch.dtype, constrained: bool):
    tags = ("O", "B-PER", "I-PER")
    crf = CRF(3, constraints=allowed_transitions(tags) if constrained else None)
    _randomise(crf)
    lengths = torch.tensor([4, 1, 3, 2])
    emissions = torch.randn(4, 4, 3)  # (B, T, C)
    mask = torch.arange(4)[None, :] < lengths[:, None]  # (B, T)
    gold = torch.randint(0, 3, (4, 4))
    nll = crf.nll(emissions, gold, mask)
    decoded = crf.decode(emissions, mask)
    for b, n in enumerate(lengths.tolist()):
        log_z, best = _brute_force(crf, emissions[b, :n], n)
        one = crf.nll(emissions[b : b + 1, :n], gold[b : b + 1, :n], mask[b : b + 1, :n])
        s = log_z - nll[b]
        assert torch.allclose(crf.log_partition(emissions, mask)[b], log_z, atol=1e-10)
        assert torch.allclose(one[0], nll[b], atol=1e-10)  # padding changes nothing
        assert decoded[b] == best
        assert torch.allclose(s, crf.score(emissions[b : b + 1, :n], gold[b : b + 1, :n],
                                           mask[b : b + 1, :n])[0], atol=1e-10)  # fmt: skip


def test_probabilities_sum_to_one(float64: torch.dtype):
    crf = CRF(2)
    _randomise(crf)
    emissions, mask = torch.randn(1, 3, 2), torch.ones(1, 3, dtype=torch.bool)
    total = sum(
        torch.exp(-crf.nll(emissions, torch.tensor([list(path)]), mask))
        for path in itertools.product(range(2), repeat=3)
    )
    assert torch.allclose(total, torch.ones(1), atol=1e-12)


def test_constraints_forbid_invalid_bio_paths():
    tags = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
    crf = CRF(5, constraints=allowed_transitions(tags))
    emissions = torch.zeros(1, 3, 5)
    emissions[0, :, 2] = 5.0  # I-PER everywhere scores best per word, but may not start
    emissions[0, 1, 4] = 9.0  # I-LOC in the middle may not follow I-PER
    path = crf.decode(emissions, torch.ones(1, 3, dtype=torch.bool))[0]
    assert [tags[i] for i in path] == ["B-PER", "I-PER", "I-PER"]
    unconstrained = CRF(5)
    with torch.no_grad():
        for parameter in unconstrained.parameters():
            parameter.zero_()
    assert unconstrained.decode(emissions, torch.ones(1, 3, dtype=torch.bool))[0] == [2, 4, 2]


def test_bioes_constraints_and_gradients_flow():
    tags = ("O", "B-PER", "I-PER", "E-PER", "S-PER")
    allowed = allowed_transitions(tags)
    assert allowed.end.tolist() == [True, False, False, True, True]
    assert allowed.transitions[1].tolist() == [False, False, True, True, False]  # B → I, E
    crf = CRF(5, constraints=allowed)
    emissions = torch.randn(2, 3, 5, requires_grad=True)
    mask = torch.tensor([[True, True, True], [True, True, False]])
    crf.nll(emissions, torch.tensor([[1, 3, 0], [4, 0, 0]]), mask).sum().backward()
    assert emissions.grad is not None
    assert torch.equal(emissions.grad[1, 2], torch.zeros(5))  # padding gets no gradient


def test_bad_shapes_raise():
    crf = CRF(3)
    with pytest.raises(ShapeError, match="got"):
        crf.decode(torch.randn(2, 4, 5), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ShapeError, match="step 0"):
        crf.decode(torch.randn(1, 2, 3), torch.tensor([[False, True]]))
