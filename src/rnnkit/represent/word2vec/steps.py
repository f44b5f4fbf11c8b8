"""Negative-sampling loss of word2vec and the hand-written SGD steps of skip-gram and CBOW.

For one (input word w_I, output word w_O) pair and K noise words w_1 … w_K ~ P_n:

    L = −log σ(v'_O · v_I) − Σ_{k=1..K} log σ(−v'_k · v_I)  (Mikolov et al. 2013b)

where v_I is the input vector of w_I (a row of W_in, gensim's syn0), v'_O and v'_k output
vectors (rows of W_out, syn1neg) and σ(x) = 1/(1 + e^(−x)). With labels y_O = 1, y_k = 0 and
s_j = v'_j · v_I the gradients are

    ∂L/∂v_I  = −Σ_j (y_j − σ(s_j)) v'_j            ∂L/∂v'_j = −(y_j − σ(s_j)) v_I

and plain SGD with rate η adds η·g_j·(…) with g_j = y_j − σ(s_j) to each row (word2vec.c and
gensim do exactly this, one pair at a time; here a batch of pairs at once, summed with
`index_add_`).

Skip-gram: every word w_o within the window of a centre word w_c forms the pair (w_I = w_o,
w_O = w_c), the orientation of word2vec.c and gensim. The K negatives are drawn once per centre
word and shared by all of its context words, so one window is a small matrix product
(Ji et al. 2016); each pair still has the loss L above.

CBOW: the input is the mean of the context vectors, h = (1/|C|) Σ_{o∈C} v_o, and w_O = w_c
(2013a). As gensim with cbow_mean=1 (and word2vec.c), each context row then receives the whole
η·∂L/∂h, not its 1/|C| share. A few consecutive centre words share one draw of negatives
(`Word2VecConfig.cbow_negative_group`; 1 draws per word as gensim does).

A negative that equals w_O is skipped, as gensim does.

References:
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word Representations
    in Vector Space", ICLR workshop 2013 (2013a).
    T. Mikolov, I. Sutskever, K. Chen, G. Corrado and J. Dean, "Distributed Representations of
    Words and Phrases and their Compositionality", NIPS 2013 (2013b).
    Y. Goldberg and O. Levy, "word2vec Explained: Deriving Mikolov et al.'s Negative-Sampling
    Word-Embedding Method", arXiv:1402.3722, 2014.
    S. Ji, N. Satish, S. Li and P. Dubey, "Parallelizing Word2Vec in Shared and Distributed
    Memory", arXiv:1604.04661, 2016 (negatives shared by a window).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


def negative_sampling_loss(center: Tensor, context: Tensor, negatives: Tensor) -> Tensor:
    """L = −log σ(v'_O · v_I) − Σ_k log σ(−v'_k · v_I) for each pair.

    Shapes: center v_I (N, E); context v'_O (N, E); negatives v'_k (N, K, E) -> (N,).

    >>> zero = torch.zeros(1, 3)
    >>> round(negative_sampling_loss(zero, zero, torch.zeros(1, 2, 3)).item(), 4)  # 3·log 2
    2.0794
    """
    positive = F.logsigmoid((context * center).sum(-1))  # log σ(v'_O · v_I), (N,)
    noise = F.logsigmoid(-torch.einsum("nke,ne->nk", negatives, center)).sum(-1)  # (N,)
    return -(positive + noise)  # L


def skipgram_step(
    weight_in: Tensor,
    weight_out: Tensor,
    contexts: Tensor,
    mask: Tensor,
    targets: Tensor,
    lr: float,
) -> tuple[float, int]:
    """`skipgram_update`, its results as Python numbers.

    Returns:
        (summed loss L over the real pairs, number of real pairs).
    """
    loss, pairs = skipgram_update(weight_in, weight_out, contexts, mask, targets, lr)
    return float(loss), int(pairs)


def skipgram_update(
    weight_in: Tensor,
    weight_out: Tensor,
    contexts: Tensor,
    mask: Tensor,
    targets: Tensor,
    lr: float,
) -> tuple[Tensor, Tensor]:
    """One SGD step over the pairs of N windows; updates both tables in place.

    s_ij = v'_{t_j} · v_{o_i}   g_ij = η (y_j − σ(s_ij))   v_{o_i} += Σ_j g_ij v'_{t_j}
    v'_{t_j} += Σ_i g_ij v_{o_i}

    Written for TorchScript too (`skipgram_steps` runs a group's steps in one call).

    Shapes: weight_in, weight_out (V, E); contexts (N, 2W) ids of w_I; mask (N, 2W) bool
    (real context slots); targets (N, 1 + K): column 0 the centre w_O, then K negatives.

    Returns:
        (summed loss L over the real pairs, number of real pairs), 0-d tensors.
    """
    N, S = contexts.shape[0], contexts.shape[1]
    E, dtype = weight_in.shape[1], weight_in.dtype
    inputs = weight_in.index_select(0, contexts.reshape(-1)).view([N, S, E])  # v_I, (N, 2W, E)
    outputs = weight_out.index_select(0, targets.reshape(-1)).view([N, -1, E])  # v', (N, 1+K, E)
    scores = torch.bmm(inputs, outputs.transpose(1, 2))  # s = v' · v_I, (N, 2W, 1+K)
    labels = torch.zeros([targets.shape[1]], dtype=dtype, device=weight_in.device)
    labels[0] = 1.0  # y = [1, 0, …, 0]
    used = targets != targets[:, :1]  # skip a negative equal to w_O, (N, 1+K)
    used[:, 0] = True
    used = used & mask.any(1, keepdim=True)
    weights = (used.unsqueeze(1) & mask.unsqueeze(2)).to(dtype)  # (N, 2W, 1+K)
    gain = (labels - torch.sigmoid(scores)).mul_(weights).mul_(lr)  # η(y − σ(s))
    grad_in = torch.bmm(gain, outputs)  # η Σ_j g_j v'_j, (N, 2W, E)
    grad_out = torch.bmm(gain.transpose(1, 2), inputs)  # η Σ_i g_i v_I, (N, 1+K, E)
    weight_in.index_add_(0, contexts.reshape(-1), grad_in.view([N * S, E]))
    weight_out.index_add_(0, targets.reshape(-1), grad_out.view([-1, E]))
    signed = scores.mul_(2 * labels - 1)  # s_O for w_O, −s_k for the negatives
    loss = -F.logsigmoid(signed).mul_(weights).sum()  # Σ L
    return loss, mask.sum()


def skipgram_steps(
    weight_in: Tensor,
    weight_out: Tensor,
    contexts: Tensor,
    mask: Tensor,
    targets: Tensor,
    rows: int,
    lrs: list[float],
) -> tuple[Tensor, Tensor]:
    """`skipgram_update` over N windows of one reach, `rows` windows a step, step s at lrs[s].

    Returns the summed loss (float64) and the number of real pairs.
    """
    N = contexts.shape[0]
    loss_sum = torch.zeros([], dtype=torch.float64, device=weight_in.device)
    count = torch.zeros([], dtype=torch.int64, device=weight_in.device)
    for first in range(0, N, rows):
        last = min(first + rows, N)
        loss, pairs = skipgram_update(
            weight_in, weight_out, contexts[first:last], mask[first:last], targets[first:last],
            lrs[first // rows],
        )  # fmt: skip
        loss_sum += loss.double()
        count += pairs
    return loss_sum, count


class CbowWindows(NamedTuple):
    """The CBOW windows of M consecutive positions as bags of 2W slots, made once per chunk.

    Slot j of position i is position i + o_j, with offsets o = (−W … −1, 1 … W). Two views of
    the same windows: as bags to gather h, and transposed, to spread ∂h back to the slots.

    Shapes: ids (M,) int64 word ids; bag_ids (M, 2W) the word ids of i's slots (0 off the
    ends); share (M, 2W) 1/|C_i| on the real slots of i's window, 0 on the others; held
    (M, 2W) 1 where the window of centre i + o_j holds position i, else 0; trained (M,) bool,
    i's window is not empty.
    """

    ids: Tensor
    bag_ids: Tensor
    share: Tensor
    held: Tensor
    trained: Tensor


def cbow_windows(
    ids: Tensor, left: Tensor, right: Tensor, window: int, dtype: torch.dtype
) -> CbowWindows:
    """The bags of the windows [left_i, right_i] without i of M positions, reach at most W.

    Shapes: ids, left, right (M,) with left_i ≤ i ≤ right_i in [0, M) -> CbowWindows.

    >>> bags = cbow_windows(torch.tensor([7, 8, 9]), torch.tensor([0, 0, 1]),
    ...                     torch.tensor([1, 2, 2]), 1, torch.float32)
    >>> bags.bag_ids.tolist(), bags.share.tolist()
    ([[0, 8], [7, 9], [8, 0]], [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    >>> bags.held.tolist()  # position 1 is in the windows of 0 and 2, 0 and 2 in 1's
    [[0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]
    """
    M, W = ids.numel(), window
    ids = ids.long()
    offsets = _offsets(W, ids.device)  # o_j, (2W,)
    position = torch.arange(M, device=ids.device).unsqueeze(1)  # i, (M, 1)
    inside = (offsets >= left.unsqueeze(1) - position) & (offsets <= right.unsqueeze(1) - position)
    count = right - left  # |C_i|, (M,)
    share = inside.to(dtype) / count.clamp(min=1).unsqueeze(1).to(dtype)  # 1/|C_i|
    bag_ids = _slots(ids, W, 0)  # ids[i + o_j], (M, 2W)
    held = (_slots(left, W, M) <= position) & (_slots(right, W, -1) >= position)  # i ∈ C_{i+o_j}
    return CbowWindows(ids, bag_ids, share, held.to(dtype), count > 0)


def _slots(values: Tensor, window: int, fill: int) -> Tensor:
    """values[i + o_j] for the 2W slots of each position i, `fill` off the ends: (M, 2W)."""
    W = window
    spans = F.pad(values, [W, W], value=fill).unfold(0, 2 * W + 1, 1)  # values[i−W … i+W]
    return torch.cat([spans[:, :W], spans[:, W + 1 :]], dim=1)


class CbowTargets(NamedTuple):
    """The output side of a chunk's CBOW steps: its groups of G centres and their targets.

    Group r holds centres rG … rG + G − 1 (the last one padded) and their G + K targets: the
    G centre words w_O, then the group's K negatives.

    Shapes: targets (g, G + K) int64; by_centre (g G, G + K) the group's targets once per
    centre; weights (g, G, G + K) 1 for the pairs (centre, target) that count: its own w_O and
    the negatives that differ from it, for a centre with a non-empty window; labels (G, G + K)
    y: 1 for the own w_O; group_rows (g (G + K), G) the centre rows of each target's group.
    """

    targets: Tensor
    by_centre: Tensor
    weights: Tensor
    labels: Tensor
    group_rows: Tensor


def cbow_targets(
    ids: Tensor, trained: Tensor, negatives: Tensor, group: int, dtype: torch.dtype
) -> CbowTargets:
    """The `CbowTargets` of M centres, G = `group` to a draw of negatives (g = ⌈M/G⌉, K)."""
    M, G = ids.shape[0], group
    g, K = negatives.shape[0], negatives.shape[1]
    pad = g * G - M  # centres missing from the last group(s)
    centre_words = F.pad(ids, [0, pad]).view([g, G])  # w_O, (g, G)
    in_step = F.pad(trained, [0, pad]).view([g, G, 1])
    targets = torch.cat([centre_words, negatives], dim=1)  # (g, G+K)
    own = torch.eye(G, dtype=torch.bool, device=ids.device)  # centre i: column i
    used = negatives.unsqueeze(1) != centre_words.unsqueeze(2)  # skip k = w_O, (g, G, K)
    weights = (torch.cat([own.expand([g, G, G]), used], dim=2) & in_step).to(dtype)
    by_centre = targets.unsqueeze(1).expand([g, G, G + K]).reshape([g * G, G + K])
    rows = torch.arange(g * G, device=ids.device).view([g, 1, G])
    group_rows = rows.expand([g, G + K, G]).reshape([g * (G + K), G])
    labels = F.pad(own.to(dtype), [0, K])  # y_j, (G, G+K)
    return CbowTargets(targets, by_centre, weights, labels, group_rows)


def cbow_step(
    weight_in: Tensor,
    weight_out: Tensor,
    ids: Tensor,
    first: int,
    left: Tensor,
    right: Tensor,
    negatives: Tensor,
    lr: float,
    *,
    window: int | None = None,
) -> tuple[float, int]:
    """One CBOW SGD step over the centres first … first + n − 1 of R positions.

    It makes the bags of this one step (`cbow_windows`) and the targets of its g groups of
    G = ⌈n/g⌉ centres (`cbow_targets`), then runs `cbow_update` on them.

    Shapes: weight_in, weight_out (V, E); ids (R,) word ids; left, right (n,) the centres'
    windows, positions in [0, R); negatives (g, K). `window`: the widest reach W any centre
    may have; None reads it off left and right.

    Returns:
        (summed loss L over the trained centre words, their number).
    """
    R, n = ids.numel(), left.numel()
    W = window if window is not None else max(int((right - left).max()), 1)
    all_left = torch.arange(R, device=ids.device)  # the other positions: empty windows
    all_right = all_left.clone()
    all_left[first : first + n], all_right[first : first + n] = left, right
    bags = cbow_windows(ids, all_left, all_right, W, weight_in.dtype)
    trained = bags.trained[first : first + n]
    G = -(-n // negatives.shape[0])  # centres per draw of negatives
    out = cbow_targets(bags.ids[first : first + n], trained, negatives, G, weight_in.dtype)
    loss = cbow_update(weight_in, weight_out, bags.ids, bags.bag_ids, bags.share, bags.held,
                       first, first + n, *out, lr)  # fmt: skip
    return float(loss), int(trained.sum())


def cbow_update(
    weight_in: Tensor,
    weight_out: Tensor,
    ids: Tensor,
    bag_ids: Tensor,
    share: Tensor,
    held: Tensor,
    first: int,
    last: int,
    targets: Tensor,
    by_centre: Tensor,
    weights: Tensor,
    labels: Tensor,
    group_rows: Tensor,
    lr: float,
) -> Tensor:
    """One CBOW SGD step over the centres first … last − 1 of the windows; updates in place.

    h = (1/|C|) Σ_{o∈C} v_o   s_j = v'_{t_j} · h   g_j = η (y_j − σ(s_j))
    v'_{t_j} += g_j h   v_o += Σ_j g_j v'_{t_j} for every o ∈ C  (gensim, cbow_mean=1)

    Every sum over rows is one `F.embedding_bag` (a gather and weighted sum of rows): h from
    W_in over each window's 2W slots (weights 1/|C|, 0 off the window); ∂h = Σ_j g_j v'_{t_j}
    from W_out over each centre's G + K targets (weights g_j); Σ_i g_ij h_i over a group's G
    centres (weights g_ij), once per target; and, for each position, the sum of the ∂h of the
    centres whose windows hold it (weights 0/1). W_out and W_in then get one `index_add_`
    each. Only the scores s are a batched product: (G, E) × (E, G + K) per group, of the rows
    gathered from W_out.

    Why bags. torch.profiler (self CPU time, one thread, CBOW on 1M words of the bench corpus)
    put 26 % of the former step in three `bmm`s, 17 % in two `index_add_`s, 12 % in the gather
    of W_out's rows and 11 % in two bags. Alone, at the bench's step (1364 centres, E = 100,
    G = 2, K = 5, one thread), a bag gives ∂h in 60 µs where `bmm` took 128 µs, and
    Σ_i g_ij h_i in 79 µs where `bmm` took 162 µs.

    The groups of G consecutive centres share one draw of K negatives (G = 1 is gensim's
    procedure), so the noise rows are read and written once per group. A negative equal to the
    centre word is skipped, and a centre whose context is empty is not trained (`weights`).

    Written for TorchScript too (`cbow_steps` runs a chunk's steps in one call).

    Shapes: weight_in, weight_out (V, E); ids … held: `CbowWindows` fields of M positions;
    0 ≤ first < last ≤ M; targets … group_rows: the `CbowTargets` fields of the g groups of
    this step's centres, g·G ≥ last − first (targets (g, G+K), by_centre (gG, G+K), weights
    (g, G, G+K), labels (G, G+K), group_rows at least g (G+K) rows).

    Returns:
        The summed loss L over the trained centre words, a 0-d tensor.
    """
    M, W, E = ids.shape[0], bag_ids.shape[1] // 2, weight_in.shape[1]
    n, g, G = last - first, targets.shape[0], labels.shape[0]
    hidden = F.embedding_bag(
        bag_ids[first:last], weight_in, per_sample_weights=share[first:last], mode="sum"
    )  # h, (n, E)
    if g * G > n:  # the last group is short
        hidden = F.pad(hidden, [0, 0, 0, g * G - n])
    outputs = weight_out.index_select(0, targets.view([-1])).view([g, -1, E])  # v'_j
    scores = torch.bmm(hidden.view([g, G, E]), outputs.transpose(1, 2))  # s_j, (g, G, G+K)
    gain = torch.sigmoid(scores).sub_(labels).mul_(weights).mul_(-lr)  # η(y_j − σ(s_j))
    grad_hidden = F.embedding_bag(
        by_centre, weight_out, per_sample_weights=gain.view([g * G, -1]), mode="sum"
    )  # ∂h = η Σ_j g_j v'_j, (gG, E); W_out as before this step
    grad_out = F.embedding_bag(
        group_rows[: targets.numel()], hidden, mode="sum",
        per_sample_weights=gain.transpose(1, 2).reshape([targets.numel(), G]),
    )  # η Σ_i g_ij h_i, (g (G+K), E)  # fmt: skip
    weight_out.index_add_(0, targets.view([-1]), grad_out)
    # ∂h by centre: row r is centre first − 2W + r, zero outside this step
    grad_hidden = F.pad(grad_hidden, [0, 0, 2 * W, 2 * W])  # (gG + 4W, E)
    low, high = max(first - W, 0), min(last + W, M)  # positions the windows can reach
    holders = torch.arange(low - first + 2 * W, high - first + 2 * W, device=ids.device)
    holders = holders.unsqueeze(1) + _slot_offsets(W, ids.device)  # centre i + o_j's row
    spread = F.embedding_bag(
        holders, grad_hidden, per_sample_weights=held[low:high], mode="sum"
    )  # Σ of ∂h over the windows holding each position, (R, E)
    weight_in.index_add_(0, ids[low:high], spread)
    return F.binary_cross_entropy_with_logits(
        scores, labels.expand_as(scores), weight=weights, reduction="sum"
    )  # Σ L = Σ −log σ(s_O) − log σ(−s_k), one fused op


def cbow_steps(
    weight_in: Tensor,
    weight_out: Tensor,
    ids: Tensor,
    bag_ids: Tensor,
    share: Tensor,
    held: Tensor,
    trained: Tensor,
    negatives: Tensor,
    group: int,
    rows: int,
    lrs: list[float],
) -> tuple[Tensor, Tensor]:
    """`cbow_update` over all M centres of `CbowWindows` fields, `rows` centres a step.

    Step s trains centres [s·rows, (s+1)·rows) with rate lrs[s] and the negatives of their
    groups of G = `group` (negatives (⌈M/G⌉, K)); `rows` is a multiple of G. Returns the
    summed loss (float64) and the number of trained centres.
    """
    M, G = ids.shape[0], group
    out = cbow_targets(ids, trained, negatives, G, weight_in.dtype)  # once per chunk
    loss_sum = torch.zeros([], dtype=torch.float64, device=weight_in.device)
    for first in range(0, M, rows):
        last = min(first + rows, M)
        a, b = first // G, (last + G - 1) // G  # the step's groups
        loss_sum += cbow_update(
            weight_in, weight_out, ids, bag_ids, share, held, first, last, out.targets[a:b],
            out.by_centre[a * G : b * G], out.weights[a:b], out.labels, out.group_rows,
            lrs[first // rows],
        )  # fmt: skip
    return loss_sum, trained.sum()


def _slot_offsets(window: int, device: torch.device) -> Tensor:
    """o = (−W … −1, 1 … W), (2W,) int64; scriptable (`_offsets` caches it for eager code)."""
    offsets = torch.arange(-window, window, device=device)
    return offsets + (offsets >= 0).long()


@functools.lru_cache(maxsize=16)
def _offsets(window: int, device: torch.device) -> Tensor:
    """The slot offsets o = (−W … −1, 1 … W) of a window, (2W,) int64."""
    return torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)]).to(device)
