"""The three random choices of word2vec: which words to skip, how wide a window, which negatives.

    subsampling   keep w with P_keep(w) = (√(c(w)/(t·N)) + 1) · t·N / c(w), capped at 1  (2013b)
    window        b ~ U{1, …, W} per centre word: a near word is a context more often (2013a)
    negatives     P_n(w) = c(w)^0.75 / Σ_v c(v)^0.75  (2013b; the exponent is `ns_exponent`)

where c(w) is the count of w, N = Σ_w c(w) the corpus length and t the `sample` threshold. The
subsampling formula is the one of word2vec.c and gensim (the paper's 1 − √(t/f) is its
approximation for f ≫ t). Negatives are drawn with Walker's alias method: two tables of V
entries, then O(1) per draw, exact up to float64 rounding.

References:
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word Representations
    in Vector Space", ICLR workshop 2013 (2013a).
    T. Mikolov, I. Sutskever, K. Chen, G. Corrado and J. Dean, "Distributed Representations of
    Words and Phrases and their Compositionality", NIPS 2013 (2013b).
    A. J. Walker, "An Efficient Method for Generating Discrete Random Variables with General
    Distributions", ACM TOMS 3(3), 1977; M. D. Vose, IEEE TSE 17(9), 1991 (the O(V) set-up).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """P_keep(w) = min(1, (√(c(w)/(t·N)) + 1) · t·N / c(w)); all ones when t = 0.

    Shapes: counts (V,) -> (V,) float64.

    >>> keep_probabilities(np.array([1000, 10]), 1e-3).round(4).tolist()
    [0.0328, 0.4188]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * counts.sum()  # t·N
    keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts  # P_keep(w)
    return np.minimum(keep, 1.0)


def noise_distribution(counts: np.ndarray, exponent: float) -> np.ndarray:
    """P_n(w) = c(w)^e / Σ_v c(v)^e, e = `exponent`.  Shapes: counts (V,) -> (V,) float64."""
    weights = np.asarray(counts, dtype=np.float64) ** exponent
    return weights / weights.sum()


class AliasSampler:
    """Draws word ids from a fixed distribution p (V,) in O(1) each (Walker 1977).

    Column i of the table keeps i with probability accept[i] and otherwise gives alias[i]; a
    draw picks a column uniformly. Then P(i) = (accept[i] + Σ_{j: alias[j]=i} (1 − accept[j]))/V,
    which equals p[i] (`implied_probabilities` computes it, for tests).

    >>> sampler = AliasSampler(np.array([0.5, 0.25, 0.25]))
    >>> sampler.implied_probabilities().tolist()
    [0.5, 0.25, 0.25]
    """

    def __init__(self, probabilities: np.ndarray) -> None:
        V = len(probabilities)
        scaled = np.asarray(probabilities, dtype=np.float64) * V / np.sum(probabilities)
        accept = np.ones(V, dtype=np.float64)
        alias = np.arange(V, dtype=np.int64)
        small = [i for i in range(V) if scaled[i] < 1.0]
        large = [i for i in range(V) if scaled[i] >= 1.0]
        while small and large:  # Vose's O(V) pairing: fill each short column from a tall one
            short, tall = small.pop(), large[-1]
            accept[short], alias[short] = scaled[short], tall
            scaled[tall] -= 1.0 - scaled[short]
            if scaled[tall] < 1.0:
                small.append(large.pop())
        self.accept = torch.from_numpy(accept.astype(np.float32))  # (V,)
        self.alias = torch.from_numpy(alias)  # (V,)
        self._accept64, self._alias64 = accept, alias

    def implied_probabilities(self) -> np.ndarray:
        """The distribution the tables encode (float64), to check against p."""
        V = len(self._accept64)
        implied = self._accept64.copy()
        np.add.at(implied, self._alias64, 1.0 - self._accept64)
        return implied / V

    def sample(self, shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
        """Word ids of the given shape (int64)."""
        V = self.accept.numel()
        column = torch.randint(V, shape, generator=generator)
        coin = torch.rand(shape, generator=generator)
        return torch.where(coin < self.accept[column], column, self.alias[column])


def subsample(
    ids: Tensor, keep_probability: Tensor, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Keep each position with P_keep(w); returns (kept ids, their positions).

    Shapes: ids (N,) int; keep_probability (V,) float -> (M,), (M,) with M ≤ N.
    """
    keep = torch.rand(ids.shape, generator=generator, dtype=torch.float64) < keep_probability[ids]
    positions = keep.nonzero().squeeze(1)
    return ids[positions], positions


def window_contexts(
    ids: Tensor, segment: Tensor, window: int, generator: torch.Generator
) -> list[tuple[Tensor, Tensor, Tensor]]:
    """The context words of every position under a dynamic window b ~ U{1..W} (2013a).

    Position i has context i + d for 0 < |d| ≤ b_i when i + d lies in the same segment
    (document or sentence). Positions are grouped by their b, so that a group's windows all
    have 2b slots (d = −b … −1, 1 … b) and no work goes into slots beyond the window; slots
    past the ends or in another segment are masked.

    Shapes: ids, segment (M,) -> for b = 1 … W: positions (n_b,) int64, contexts (n_b, 2b)
    int64 (masked slots hold ids[i]), mask (n_b, 2b) bool; Σ_b n_b = M.

    >>> groups = window_contexts(torch.tensor([7, 8, 9]), torch.zeros(3), 1, torch.Generator())
    >>> [(p.tolist(), c.tolist(), m.tolist()) for p, c, m in groups]
    [([0, 1, 2], [[7, 8], [7, 9], [8, 9]], [[False, True], [True, True], [True, False]])]
    """
    M = ids.numel()
    reach = torch.randint(1, window + 1, (M,), generator=generator)  # b_i
    groups = []
    for b in range(1, window + 1):
        positions = (reach == b).nonzero().squeeze(1)  # (n_b,)
        offsets = torch.cat([torch.arange(-b, 0), torch.arange(1, b + 1)])  # (2b,)
        slots = positions.unsqueeze(1) + offsets  # (n_b, 2b)
        inside = (slots >= 0) & (slots < M)
        slots = torch.where(inside, slots, positions.unsqueeze(1))  # (n_b, 2b)
        mask = inside & (segment[slots] == segment[positions].unsqueeze(1))
        groups.append((positions, ids[slots].long(), mask))
    return groups


def window_bounds(
    segment: Tensor, window: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """The dynamic window of every position as an inclusive range [left_i, right_i] (2013a).

    left_i = max(i − b_i, first position of i's segment), right_i = min(i + b_i, last one),
    with b_i ~ U{1..W}; the context is that range without i itself (CBOW).

    Shapes: segment (M,) non-decreasing -> left, right (M,) int64.

    >>> window_bounds(torch.tensor([0, 0, 0, 1]), 1, torch.Generator())
    (tensor([0, 0, 1, 3]), tensor([1, 2, 2, 3]))
    """
    M = segment.numel()
    reach = torch.randint(1, window + 1, (M,), generator=generator)  # b_i
    _, lengths = torch.unique_consecutive(segment, return_counts=True)  # runs of a segment
    ends = lengths.cumsum(0)  # one past each run's last position
    first = torch.repeat_interleave(ends - lengths, lengths)  # segment start, (M,)
    last = torch.repeat_interleave(ends - 1, lengths)  # segment end, (M,)
    position = torch.arange(M)
    return torch.maximum(position - reach, first), torch.minimum(position + reach, last)
