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


def _labels_and_weights(targets: Tensor) -> tuple[Tensor, Tensor]:
    """y (1 + K,) = [1, 0, …, 0] and weights (N, 1 + K): 0 where a negative equals w_O."""
    labels = torch.zeros(targets.shape[1])
    labels[0] = 1.0
    weights = (targets != targets[:, :1]).float()
    weights[:, 0] = 1.0
    return labels, weights


def skipgram_step(
    weight_in: Tensor,
    weight_out: Tensor,
    contexts: Tensor,
    mask: Tensor,
    targets: Tensor,
    lr: float,
) -> tuple[float, int]:
    """One SGD step over the pairs of N windows; updates both tables in place.

    s_ij = v'_{t_j} · v_{o_i}   g_ij = η (y_j − σ(s_ij))   v_{o_i} += Σ_j g_ij v'_{t_j}
    v'_{t_j} += Σ_i g_ij v_{o_i}

    Shapes: weight_in, weight_out (V, E); contexts (N, 2W) ids of w_I; mask (N, 2W) bool
    (real context slots); targets (N, 1 + K): column 0 the centre w_O, then K negatives.

    Returns:
        (summed loss L over the real pairs, number of real pairs).
    """
    N, S = contexts.shape
    E = weight_in.shape[1]
    inputs = weight_in.index_select(0, contexts.reshape(-1)).view(N, S, E)  # v_I, (N, 2W, E)
    outputs = weight_out.index_select(0, targets.reshape(-1)).view(N, -1, E)  # v', (N, 1+K, E)
    scores = torch.bmm(inputs, outputs.transpose(1, 2))  # s = v' · v_I, (N, 2W, 1+K)
    labels, used = _labels_and_weights(targets)  # used: (N, 1+K)
    used = used.to(scores.dtype) * mask.any(1, keepdim=True).to(scores.dtype)
    weights = used.unsqueeze(1) * mask.to(scores.dtype).unsqueeze(2)  # (N, 2W, 1+K)
    gain = (labels.to(scores.dtype) - torch.sigmoid(scores)) * weights * lr  # η(y − σ(s))
    grad_in = torch.bmm(gain, outputs)  # η Σ_j g_j v'_j, (N, 2W, E)
    grad_out = torch.bmm(gain.transpose(1, 2), inputs)  # η Σ_i g_i v_I, (N, 1+K, E)
    weight_in.index_add_(0, contexts.reshape(-1), grad_in.view(N * S, E))
    weight_out.index_add_(0, targets.reshape(-1), grad_out.view(-1, E))
    signed = torch.cat([scores[..., :1], -scores[..., 1:]], dim=-1)  # ±s
    loss = -(F.logsigmoid(signed) * weights).sum()  # Σ L
    return float(loss), int(mask.sum())


def cbow_step(
    weight_in: Tensor,
    weight_out: Tensor,
    ids: Tensor,
    first: int,
    left: Tensor,
    right: Tensor,
    negatives: Tensor,
    lr: float,
) -> tuple[float, int]:
    """One CBOW SGD step over n consecutive centre words; updates both tables in place.

    h = (1/|C|) Σ_{o∈C} v_o   s_j = v'_{t_j} · h   g_j = η (y_j − σ(s_j))
    v'_{t_j} += g_j h   v_o += Σ_j g_j v'_{t_j} for every o ∈ C  (gensim, cbow_mean=1)

    The context C of the centre at i is every position of [left_i, right_i] but i. A window sum
    is a difference of prefix sums, Σ_{p=l..r} v_p = P_{r+1} − P_l with P_k = Σ_{p<k} v_p, and
    the spread of ∂h back to the context positions is a prefix sum of ±∂h placed at l and r + 1.
    Each position's row is thus read and written once, however many windows hold it. The
    centres are cut into g groups of G = ⌈n/g⌉ consecutive words, and the words of a group
    share one draw of K negatives (G = 1 is gensim's procedure), so that the noise rows are
    read and written once per group.

    Shapes: weight_in, weight_out (V, E); ids (R,) word ids of R consecutive positions, of
    which positions first … first + n − 1 are the centres w_O; left, right (n,) positions in
    [0, R); negatives (g, K). A centre whose context is empty is skipped.

    Returns:
        (summed loss L over the trained centre words, their number).
    """
    R, E = ids.numel(), weight_in.shape[1]
    n, (g, K) = left.numel(), negatives.shape
    G = -(-n // g)  # centres per draw of negatives
    rows = weight_in.index_select(0, ids)  # v_p, (R, E)
    prefix = torch.cat([rows.new_zeros(1, E), rows.cumsum(0)])  # P_k = Σ_{p<k} v_p, (R+1, E)
    count = (right - left).to(rows.dtype).unsqueeze(1)  # |C|, (n, 1)
    window_sum = prefix[right + 1] - prefix[left] - rows[first : first + n]  # Σ_{o∈C} v_o
    hidden = window_sum / count.clamp(min=1)  # h, (n, E)
    centre_words = ids[first : first + n]  # w_O, (n,)
    positive = weight_out.index_select(0, centre_words)  # v'_O, (n, E)
    noise = weight_out.index_select(0, negatives.reshape(-1)).view(g, K, E)  # v'_k
    grouped = F.pad(hidden, (0, 0, 0, g * G - n)).view(g, G, E)  # (g, G, E)
    score_positive = (hidden * positive).sum(1)  # s_O = v'_O · h, (n,)
    score_noise = torch.bmm(grouped, noise.transpose(1, 2))  # s_k = v'_k · h, (g, G, K)
    trained = (count > 0).squeeze(1).to(rows.dtype)  # (n,)
    padded_words = F.pad(centre_words, (0, g * G - n), value=-1).view(g, G, 1)
    used = (negatives.unsqueeze(1) != padded_words).to(rows.dtype)  # skip k = w_O, (g, G, K)
    used = used * F.pad(trained, (0, g * G - n)).view(g, G, 1)
    gain_positive = (1 - torch.sigmoid(score_positive)) * trained * lr  # η(1 − σ(s_O)), (n,)
    gain_noise = -torch.sigmoid(score_noise) * used * lr  # η(0 − σ(s_k)), (g, G, K)
    grad_hidden = gain_positive.unsqueeze(1) * positive  # η Σ_j g_j v'_j, (n, E)
    grad_hidden += torch.bmm(gain_noise, noise).view(g * G, E)[:n]
    weight_out.index_add_(0, centre_words, gain_positive.unsqueeze(1) * hidden)  # += η g_O h
    grad_noise = torch.bmm(gain_noise.transpose(1, 2), grouped)  # η Σ_i g_ik h_i, (g, K, E)
    weight_out.index_add_(0, negatives.reshape(-1), grad_noise.view(g * K, E))
    spread = rows.new_zeros(R + 1, E)  # +∂h at l, −∂h at r + 1, then a prefix sum
    spread.index_add_(0, left, grad_hidden).index_add_(0, right + 1, -grad_hidden)
    grad_rows = spread.cumsum(0)[:R]  # (R, E)
    grad_rows[first : first + n] -= grad_hidden  # a centre is not its own context
    weight_in.index_add_(0, ids, grad_rows)
    loss = -(F.logsigmoid(score_positive) * trained).sum()  # Σ L
    loss -= (F.logsigmoid(-score_noise) * used).sum()
    return float(loss), int(trained.sum())
