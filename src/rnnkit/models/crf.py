"""Linear-chain CRF over per-word tag scores: NLL by the forward algorithm, Viterbi decoding.

A tagger gives emission scores P_t(j) for tag j at word t; the CRF adds a score A_ij for tag i
followed by tag j, so the tags of a sentence are chosen together (I-PER cannot follow O):

    s(x, y) = a_{y_1} + Σ_{t=1}^{n} P_t(y_t) + Σ_{t=2}^{n} A_{y_{t-1} y_t} + e_{y_n}
    p(y | x) = exp s(x, y) / Z(x),   Z(x) = Σ_{y'} exp s(x, y')  (Lafferty et al. 2001)
    NLL = log Z(x) − s(x, y)                                     (Lample et al. 2016, eq. 1–2)

where n is the sentence length, a (C,) and e (C,) the scores of starting and ending with a tag,
A (C, C) the transitions, and the sum over y' runs over all Cⁿ tag sequences. The forward
algorithm computes log Z in O(n·C²) with alpha_t(j) = log Σ of exp s over the prefixes ending in j,
and Viterbi replaces its log-sum-exp by max to find argmax_y s(x, y). Padding steps (mask
False) leave alpha and δ unchanged, so a sentence's numbers do not depend on the batch it is in.

A constraint mask (`rnnkit.text.tags.allowed_transitions`) adds −10⁴ to every forbidden start,
transition and end (O → I-PER, say): such paths get probability ≈ e^{−10⁴} and are never decoded,
while a gold sequence that breaks the scheme still has a finite loss.

References:
    Lafferty, McCallum, Pereira. Conditional Random Fields: Probabilistic Models for Segmenting
        and Labeling Sequence Data. ICML 2001.
    Lample, Ballesteros, Subramanian, Kawakami, Dyer. Neural Architectures for Named Entity
        Recognition. NAACL 2016. https://arxiv.org/abs/1603.01360
    Rabiner. A Tutorial on Hidden Markov Models. Proc. IEEE 77(2), 1989 (forward, Viterbi).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.text.tags import Transitions

FORBIDDEN = -1e4  # score added to a forbidden start, transition or end


class CRF(nn.Module):
    """Transition scores A (C, C), start scores a (C,) and end scores e (C,) over C tags.

    Shapes: emissions (B, T, C); tags (B, T) int64; mask (B, T) bool, True on the real words,
    a prefix of each row (mask[:, 0] all True).

    >>> crf = CRF(3)
    >>> emissions, mask = torch.randn(2, 4, 3), torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]]).bool()
    >>> paths = crf.decode(emissions, mask)
    >>> [len(path) for path in paths], crf.nll(emissions, torch.zeros(2, 4).long(), mask).shape
    ([4, 2], torch.Size([2]))
    """

    def __init__(self, num_tags: int, *, constraints: Transitions | None = None) -> None:
        super().__init__()
        if num_tags < 1:
            raise ConfigError(f"num_tags must be a positive integer, got {num_tags}")
        self.num_tags = num_tags  # C
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))  # A
        self.start = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))  # a
        self.end = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))  # e
        penalties = [torch.zeros(num_tags, num_tags), torch.zeros(num_tags), torch.zeros(num_tags)]
        if constraints is not None:
            shapes = [tuple(t.shape) for t in (constraints.transitions, constraints.start)]
            if shapes != [(num_tags, num_tags), (num_tags,)]:
                raise ShapeError(
                    f"constraints must be (C, C) and (C,) for C={num_tags}; got {shapes}"
                )
            allowed = (constraints.transitions, constraints.start, constraints.end)
            penalties = [torch.where(ok, 0.0, FORBIDDEN) for ok in allowed]
        self.register_buffer("transition_penalty", penalties[0], persistent=False)
        self.register_buffer("start_penalty", penalties[1], persistent=False)
        self.register_buffer("end_penalty", penalties[2], persistent=False)

    def scores(self) -> tuple[Tensor, Tensor, Tensor]:
        """A, a, e with the constraint penalties added: (C, C), (C,), (C,)."""
        return (
            self.transitions + self.transition_penalty,
            self.start + self.start_penalty,
            self.end + self.end_penalty,
        )

    def _check(self, emissions: Tensor, mask: Tensor, tags: Tensor | None = None) -> Tensor:
        if emissions.ndim != 3 or emissions.shape[-1] != self.num_tags:
            raise ShapeError(
                f"emissions must be (B, T, C) with C={self.num_tags}; got {tuple(emissions.shape)}"
            )
        if tuple(mask.shape) != tuple(emissions.shape[:2]) or mask.dtype != torch.bool:
            raise ShapeError(
                f"mask must be bool (B, T) = {tuple(emissions.shape[:2])}; got "
                f"{tuple(mask.shape)} {mask.dtype}"
            )
        if mask.shape[1] and not bool(mask[:, 0].all()):
            raise ShapeError("mask must be True at step 0 of every sentence (no empty sentence)")
        if tags is not None and tuple(tags.shape) != tuple(mask.shape):
            raise ShapeError(f"tags must be (B, T) = {tuple(mask.shape)}; got {tuple(tags.shape)}")
        return mask.to(emissions.device)

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """s(x, y) of the given tag sequences: (B,)."""
        mask = self._check(emissions, mask, tags)
        transitions, start, end = self.scores()
        tags = tags.masked_fill(~mask, 0)  # padding points at a valid row; masked out below
        emitted = emissions.gather(2, tags.unsqueeze(-1)).squeeze(-1)  # P_t(y_t), (B, T)
        total = start[tags[:, 0]] + (emitted * mask).sum(1)  # a_{y_1} + Σ_t P_t(y_t)
        moves = transitions[tags[:, :-1], tags[:, 1:]]  # A_{y_{t-1} y_t}, (B, T−1)
        total = total + (moves * mask[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)  # y_n, (B,)
        return total + end[last]  # + e_{y_n}

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z(x) by the forward algorithm: (B,).

        alpha_1(j) = a_j + P_1(j)
        alpha_t(j) = log Σ_i exp(alpha_{t-1}(i) + A_ij) + P_t(j)   (alpha_{t-1} on padding)
        log Z = log Σ_j exp(alpha_n(j) + e_j)
        """
        mask = self._check(emissions, mask)
        transitions, start, end = self.scores()
        alpha = start + emissions[:, 0]  # alpha_1, (B, C)
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1)  # (B, C)
            alpha = torch.where(mask[:, t, None], step + emissions[:, t], alpha)  # alpha_t
        return torch.logsumexp(alpha + end, dim=1)  # log Z, (B,)

    def nll(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """−log p(y | x) = log Z(x) − s(x, y) of each sentence: (B,)."""
        return self.log_partition(emissions, mask) - self.score(emissions, tags, mask)

    def forward(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """The NLL of each sentence (B,), as `nll`."""
        return self.nll(emissions, tags, mask)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor) -> list[list[int]]:
        """argmax_y s(x, y) by Viterbi: the tag ids of each sentence, without padding.

        δ_1(j) = a_j + P_1(j)
        δ_t(j) = max_i (δ_{t-1}(i) + A_ij) + P_t(j),   ψ_t(j) = the maximising i
        y_n = argmax_j δ_n(j) + e_j,   y_{t-1} = ψ_t(y_t)
        """
        mask = self._check(emissions, mask)
        transitions, start, end = self.scores()
        B, T, C = emissions.shape
        delta = start + emissions[:, 0]  # δ_1, (B, C)
        stay = torch.arange(C, device=emissions.device).expand(B, C)  # ψ on padding: keep tag
        pointers = []
        for t in range(1, T):
            best, argbest = (delta.unsqueeze(2) + transitions).max(dim=1)  # (B, C) each
            real = mask[:, t, None]
            delta = torch.where(real, best + emissions[:, t], delta)  # δ_t
            pointers.append(torch.where(real, argbest, stay))  # ψ_t
        tag = (delta + end).argmax(dim=1)  # y_n, (B,)
        path = [tag]
        for pointer in reversed(pointers):
            tag = pointer.gather(1, tag.unsqueeze(1)).squeeze(1)  # y_{t-1} = ψ_t(y_t)
            path.append(tag)
        tags = torch.stack(path[::-1], dim=1).tolist()  # (B, T)
        lengths = mask.sum(1).tolist()
        return [row[:n] for row, n in zip(tags, lengths, strict=True)]
