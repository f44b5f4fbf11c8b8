"""Seq2Seq: parallel = step = hand loop, source padding, bridge, teacher forcing, search."""

from __future__ import annotations

import itertools

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers.lengths import flip_sequences
from rnnkit.losses.sequence import sequence_cross_entropy
from rnnkit.models.decoding import beam_decode
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig, reorder_state

PAD, BOS, EOS = 0, 2, 3
CELLS = ["rnn", "lstm", "gru"]
ATTENTIONS = ["none", "additive", "dot", "general"]
SOURCE = torch.tensor([[4, 5, 6, 7], [8, 1, PAD, PAD], [6, 6, 4, PAD]])  # (B, S) = (3, 4)
LENGTHS = torch.tensor([4, 2, 3])
TARGET_IN = torch.tensor([[BOS, 4, 5, 6, 7], [BOS, 6, 1, PAD, PAD], [BOS, 7, PAD, PAD, PAD]])
TARGET_OUT = torch.tensor([[4, 5, 6, 7, EOS], [6, 1, EOS, PAD, PAD], [7, EOS, PAD, PAD, PAD]])
pytestmark = pytest.mark.usefixtures("float64", "one_thread")  # float64: rounding only


def _model(**overrides: object) -> Seq2Seq:
    sizes: dict = {"source_vocab_size": 9, "target_vocab_size": 8, "embed_dim": 4, "hidden_size": 5}
    return Seq2Seq(Seq2SeqConfig(**{**sizes, **overrides})).eval()


def _hand_decode(model: Seq2Seq, source, lengths, target_in, feed) -> tuple[torch.Tensor, list]:
    """Unroll decode_step; `feed(t, logits so far)` returns the tokens of step t."""
    state = model.encode(source, lengths)
    logits, weights = [], []
    for t in range(target_in.shape[1]):
        step_logits, state, step_weights = model.decode_step(feed(t, logits), state)
        logits.append(step_logits)
        weights.append(step_weights)
    return torch.stack(logits, dim=1), weights  # (B, T, V)


def _hand_loss(logits: torch.Tensor, target_out: torch.Tensor) -> torch.Tensor:
    """−(1/N) Σ log softmax(z)[y] over the N non-padding targets, written out."""
    total, count = torch.zeros(()), 0
    for b, t in itertools.product(range(target_out.shape[0]), range(target_out.shape[1])):
        if target_out[b, t] != PAD:
            total = total - logits[b, t].log_softmax(-1)[target_out[b, t]]
            count += 1
    return total / count


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("cell", CELLS)
def test_parallel_path_equals_step_path_and_a_hand_loop(cell: str, attention: str) -> None:
    model = _model(cell=cell, attention=attention)
    out = model(SOURCE, LENGTHS, TARGET_IN)
    steps = model._decode_steps(TARGET_IN, model.encode(SOURCE, LENGTHS), 1.0, None)
    hand, hand_weights = _hand_decode(
        model, SOURCE, LENGTHS, TARGET_IN, lambda t, _: TARGET_IN[:, t]
    )
    assert out.logits.shape == (3, 5, 8)
    torch.testing.assert_close(out.logits, steps.logits, rtol=0, atol=1e-6)
    torch.testing.assert_close(out.logits, hand, rtol=0, atol=1e-6)
    loss = sequence_cross_entropy(out.logits, TARGET_OUT, ignore_index=PAD)
    torch.testing.assert_close(loss, _hand_loss(hand, TARGET_OUT), rtol=0, atol=1e-6)
    if attention == "none":
        assert out.attention is None
        assert steps.attention is None
    else:
        torch.testing.assert_close(out.attention, torch.stack(hand_weights, 1), rtol=0, atol=1e-6)
        torch.testing.assert_close(out.attention, steps.attention, rtol=0, atol=1e-6)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_decode_step_follows_the_equations(attention: str) -> None:
    """Additive: query s_{t-1}, input [E y ; c]; dot, general: query s_t; õ = tanh(W_c [c ; s])."""
    model = _model(cell="lstm", attention=attention, encoder_layers=2, decoder_layers=2)
    state = model.encode(SOURCE, LENGTHS)
    for t in range(3):
        tokens, previous = TARGET_IN[:, t], state.hidden
        x = model.target_embedding(tokens)  # E y_{t-1}, (B, E)
        if attention == "additive":
            query = previous.hidden[-1]  # s_{t-1} of the top layer
            context, weights = model.attention(query, state.memory, state.mask)
            x = torch.cat([x, context], dim=-1)  # [E y_{t-1} ; c_t]
        output, hidden = model.decoder(x[:, None], previous)  # s_t, (B, 1, H)
        top = output[:, 0]
        if attention in ("dot", "general"):
            context, weights = model.attention(top, state.memory, state.mask)
        if attention != "none":
            top = torch.tanh(torch.cat([context, top], dim=-1) @ model.combine.weight.T)  # õ_t
        expected = top @ model.output.weight.T + model.output.bias  # W_out õ_t + b_out
        logits, state, step_weights = model.decode_step(tokens, state)
        torch.testing.assert_close(logits, expected, rtol=0, atol=1e-12)
        torch.testing.assert_close(state.hidden, hidden, rtol=0, atol=1e-12)
        if attention == "none":
            assert step_weights is None
        else:
            torch.testing.assert_close(step_weights, weights, rtol=0, atol=1e-12)


PADDING_VARIANTS = {
    "plain": {},
    "bidirectional": {"bidirectional": True},
    "reverse_source": {"reverse_source": True},
    "reverse_bidirectional": {"reverse_source": True, "bidirectional": True},
    "additive": {"attention": "additive"},
    "dot": {"attention": "dot"},
    "general": {"attention": "general"},
    "general_bidirectional_lstm": {
        "attention": "general",
        "bidirectional": True,
        "cell": "lstm",
        "encoder_layers": 2,
    },
    "additive_reverse_2_layers": {
        "attention": "additive",
        "reverse_source": True,
        "encoder_layers": 2,
        "decoder_layers": 2,
    },
}


@pytest.mark.parametrize("variant", PADDING_VARIANTS)
def test_source_padding_never_changes_a_sentences_logits(variant: str) -> None:
    model = _model(**PADDING_VARIANTS[variant])
    short, long = torch.tensor([[4, 5]]), torch.tensor([[6, 7, 8, 1, 5]])
    target_in = torch.tensor([[BOS, 4, 6], [BOS, 5, 7]])
    alone = model(short, torch.tensor([2]), target_in[:1])
    for filler in (PAD, 7):  # <pad>, or any id: the lengths alone must hide the padding
        padded = torch.cat([torch.cat([short, torch.full((1, 3), filler)], dim=1), long])
        batch = model(padded, torch.tensor([2, 5]), target_in)
        torch.testing.assert_close(batch.logits[:1], alone.logits, rtol=0, atol=1e-6)
        if batch.attention is not None:
            torch.testing.assert_close(
                batch.attention[:1, :, :2], alone.attention, rtol=0, atol=1e-6
            )
            assert (batch.attention[0, :, 2:] == 0).all()


@pytest.mark.parametrize("bidirectional", [False, True])
def test_reverse_source_reads_the_source_backwards(bidirectional: bool) -> None:
    config = {"attention": "general", "cell": "lstm", "bidirectional": bidirectional}
    reversed_model = _model(reverse_source=True, **config)
    plain = _model(**config)
    plain.load_state_dict(reversed_model.state_dict())
    read_back = reversed_model.encode(SOURCE, LENGTHS)
    flipped = plain.encode(flip_sequences(SOURCE, LENGTHS), LENGTHS)
    torch.testing.assert_close(read_back.hidden, flipped.hidden, rtol=0, atol=1e-12)
    torch.testing.assert_close(
        read_back.memory, flip_sequences(flipped.memory, LENGTHS), rtol=0, atol=1e-12
    )
    torch.testing.assert_close(
        read_back.keys, flip_sequences(flipped.keys, LENGTHS), rtol=0, atol=1e-12
    )
    forwards = plain.encode(SOURCE, LENGTHS)
    assert (read_back.hidden.hidden - forwards.hidden.hidden).abs().max() > 1e-3  # not a no-op


def _encoder_final(model: Seq2Seq, source=SOURCE, lengths=LENGTHS):
    _, final = model.encoder(model.source_embedding(source), lengths=lengths)
    return final  # (L·D, B, H), or an LSTMState of two


@pytest.mark.parametrize("cell", CELLS)
def test_bridge_copies_the_state_with_one_direction_and_equal_layers(cell: str) -> None:
    model = _model(cell=cell, encoder_layers=2, decoder_layers=2)
    assert model.copies_state
    assert not hasattr(model, "bridge")
    torch.testing.assert_close(
        model.encode(SOURCE, LENGTHS).hidden, _encoder_final(model), rtol=0, atol=0
    )


BRIDGES = {
    "bidirectional_gru": {"cell": "gru", "bidirectional": True},
    "two_layers_into_one_rnn": {"cell": "rnn", "encoder_layers": 2},
    "one_layer_into_two_gru": {"cell": "gru", "decoder_layers": 2},
    "bidirectional_lstm": {"cell": "lstm", "bidirectional": True, "encoder_layers": 2},
}


def _hand_bridge(layer: torch.nn.Linear, final: torch.Tensor, layers: int, squash: bool):
    flat = torch.cat(list(final), dim=-1)  # [h of every layer and direction], (B, L·D·H)
    start = flat @ layer.weight.T + layer.bias  # W_b […] + b_b
    start = torch.tanh(start) if squash else start
    return torch.stack(start.chunk(layers, dim=-1))  # (L_dec, B, H)


@pytest.mark.parametrize("case", BRIDGES)
def test_bridge_is_learned_otherwise_and_passes_gradient_to_the_encoder(case: str) -> None:
    model = _model(**BRIDGES[case])
    config = model.config
    assert not model.copies_state
    assert hasattr(model, "cell_bridge") == (config.cell == "lstm")
    final, start = _encoder_final(model), model.encode(SOURCE, LENGTHS).hidden
    L = config.decoder_layers
    if config.cell == "lstm":
        expected_hidden = _hand_bridge(model.bridge, final.hidden, L, squash=True)
        expected_cell = _hand_bridge(model.cell_bridge, final.cell, L, squash=False)
        torch.testing.assert_close(start.hidden, expected_hidden, rtol=0, atol=1e-12)
        torch.testing.assert_close(start.cell, expected_cell, rtol=0, atol=1e-12)
    else:
        expected = _hand_bridge(model.bridge, final, L, squash=True)
        torch.testing.assert_close(start, expected, rtol=0, atol=1e-12)
    loss = sequence_cross_entropy(
        model(SOURCE, LENGTHS, TARGET_IN).logits, TARGET_OUT, ignore_index=PAD
    )
    loss.backward()  # no attention: the bridge is the only way back to the source
    for name, parameter in [*model.encoder.named_parameters(), *model.bridge.named_parameters()]:
        assert parameter.grad is not None, name
        assert parameter.grad.abs().max() > 0, name


def test_scheduled_sampling_follows_its_seeded_coins() -> None:
    model = _model(attention="dot", cell="lstm")
    ratio = 0.5

    def run() -> torch.Tensor:
        generator = torch.Generator().manual_seed(7)
        return model(SOURCE, LENGTHS, TARGET_IN, teacher_forcing=ratio, generator=generator).logits

    first, again = run(), run()
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    coins = torch.Generator().manual_seed(7)
    own_fed = []

    def feed(t: int, logits: list[torch.Tensor]) -> torch.Tensor:
        if t == 0:
            return TARGET_IN[:, 0]
        heads = torch.rand(3, generator=coins) < ratio  # the reference with probability r
        own = logits[-1].argmax(-1)
        own_fed.append(~heads & (own != TARGET_IN[:, t]))
        return torch.where(heads, TARGET_IN[:, t], own)

    hand, _ = _hand_decode(model, SOURCE, LENGTHS, TARGET_IN, feed)
    torch.testing.assert_close(first, hand, rtol=0, atol=1e-12)
    assert torch.stack(own_fed).any()  # some step really fed the model's own, different token


def test_teacher_forcing_zero_feeds_the_argmax() -> None:
    model = _model(attention="additive", cell="gru")
    out = model(SOURCE, LENGTHS, TARGET_IN, teacher_forcing=0.0)

    def feed(t: int, logits: list[torch.Tensor]) -> torch.Tensor:
        return TARGET_IN[:, 0] if t == 0 else logits[-1].argmax(-1)

    hand, _ = _hand_decode(model, SOURCE, LENGTHS, TARGET_IN, feed)
    torch.testing.assert_close(out.logits, hand, rtol=0, atol=1e-12)
    forced = model(SOURCE, LENGTHS, TARGET_IN).logits
    assert (out.logits - forced).abs().max() > 1e-3  # the argmax is not the reference here


def test_share_embeddings_ties_the_tables() -> None:
    model = _model(source_vocab_size=8, share_embeddings=True)
    separate = _model(source_vocab_size=8)
    assert model.target_embedding is model.source_embedding
    assert len(list(model.parameters())) == len(list(separate.parameters())) - 1
    source, target_in = torch.tensor([[4, 5]]), torch.tensor([[BOS, 6, 7]])
    model(source, torch.tensor([2]), target_in).logits.sum().backward()
    touched = model.source_embedding.weight.grad.abs().sum(-1) > 0  # (V,)
    assert touched.nonzero().flatten().tolist() == [BOS, 4, 5, 6, 7]  # both sides write one table


@torch.no_grad()
def _teacher_forced_scores(model: Seq2Seq, source, length: int, outputs: list[list[int]]) -> dict:
    """`_teacher_forced_score` of many outputs by tuple, one forward call per output length."""
    scores = {}
    for n in sorted({len(y) for y in outputs}):
        group = [y for y in outputs if len(y) == n]
        target_in = torch.tensor([[BOS, *y[:-1]] for y in group])  # (N, n)
        sources = source[None, :length].expand(len(group), -1)
        logits = model(sources, torch.full((len(group),), length), target_in).logits
        chosen = logits.log_softmax(-1).gather(-1, torch.tensor(group)[..., None])  # (N, n, 1)
        scores.update(zip(map(tuple, group), chosen.sum((1, 2)).tolist(), strict=True))
    return scores


def _teacher_forced_score(model: Seq2Seq, source, length: int, tokens: list[int]) -> float:
    """Σ_t log Pr(y_t | y_<t, x) of `tokens`, read teacher-forced by `forward`."""
    return _teacher_forced_scores(model, source, length, [tokens])[tuple(tokens)]


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_size_one_equals_greedy(length_penalty: float) -> None:
    model = _model(attention="general", cell="gru")
    found = model.search(SOURCE, LENGTHS, beam_size=1, max_length=6, length_penalty=length_penalty)
    beam = beam_decode(
        model._search_step,
        model.encode(SOURCE, LENGTHS),
        reorder=reorder_state,
        batch_size=3,
        bos_id=BOS,
        eos_id=EOS,
        beam_size=1,
        max_length=6,
        length_penalty=length_penalty,
    )
    for (greedy,), (best,) in zip(found, beam, strict=True):
        assert greedy.tokens == best.tokens
        assert greedy.finished == best.finished
        assert greedy.score == pytest.approx(best.score, abs=1e-12)
        assert greedy.normalised == pytest.approx(best.normalised, abs=1e-12)
    hand = torch.full((3,), BOS)  # the argmax loop, written out
    state, rows = model.encode(SOURCE, LENGTHS), []
    for _ in range(6):
        logits, state, _ = model.decode_step(hand, state)
        hand = logits.argmax(-1)
        rows.append(hand)
    for b, ((greedy,), row) in enumerate(zip(found, torch.stack(rows, 1).tolist(), strict=True)):
        expected = row[: row.index(EOS) + 1] if EOS in row else row
        assert greedy.tokens == expected
        assert greedy.finished == (EOS in row)
        assert greedy.score == pytest.approx(
            _teacher_forced_score(model, SOURCE[b], int(LENGTHS[b]), expected), abs=1e-9
        )


def test_beam_hypotheses_carry_their_teacher_forced_scores() -> None:
    model = _model(attention="additive", cell="lstm", bidirectional=True)
    for b, hypotheses in enumerate(model.search(SOURCE, LENGTHS, beam_size=3, max_length=5)):
        assert len(hypotheses) == 3
        assert len({tuple(h.tokens) for h in hypotheses}) == 3
        normalised = [h.normalised for h in hypotheses]
        assert normalised == sorted(normalised, reverse=True)
        for hypothesis in hypotheses:
            score = _teacher_forced_score(model, SOURCE[b], int(LENGTHS[b]), hypothesis.tokens)
            assert hypothesis.score == pytest.approx(score, abs=1e-9)
            assert hypothesis.normalised == pytest.approx(score / len(hypothesis.tokens))
            assert hypothesis.finished == (hypothesis.tokens[-1] == EOS)
            assert EOS not in hypothesis.tokens[:-1]


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_wide_beam_finds_the_enumerated_best(length_penalty: float) -> None:
    """V_tgt = 4, at most 3 tokens: all 13 finished and 27 unfinished targets can be scored."""
    model = _model(target_vocab_size=4, attention="general")
    source, length = SOURCE[2], int(LENGTHS[2])
    others = [t for t in range(4) if t != EOS]
    candidates = [
        [*prefix, EOS] for n in range(3) for prefix in itertools.product(others, repeat=n)
    ]
    candidates += [list(p) for p in itertools.product(others, repeat=3)]  # unfinished at the cap
    scores = _teacher_forced_scores(model, source, length, candidates)
    normalised = {y: score / len(y) ** length_penalty for y, score in scores.items()}
    ranked = sorted(normalised, key=normalised.__getitem__, reverse=True)
    for beam_size in (27, 40):  # 27 live prefixes at the last step: from there the beam is exact
        (found,) = model.search(
            source[None, :length],
            torch.tensor([length]),
            beam_size=beam_size,
            max_length=3,
            length_penalty=length_penalty,
        )
        assert [tuple(h.tokens) for h in found] == ranked[:beam_size]
        assert [h.score for h in found] == pytest.approx([scores[y] for y in ranked[:beam_size]])


def _chain_model() -> Seq2Seq:
    """A decoder that writes 4, 5, <eos> whatever the source: s_t ≈ onehot(y_{t-1}), W_out a map.

    E = H = V_tgt, the target embedding is the identity, W_ih = 5·I, W_hh = 0, and W_out sends
    <bos> → 4 → 5 → <eos> (every other token → 1), so <eos> wins exactly at step 3.
    """
    model = _model(target_vocab_size=8, embed_dim=8, hidden_size=8, cell="rnn")
    chain = {BOS: 4, 4: 5, 5: EOS}
    with torch.no_grad():
        model.target_embedding.weight.copy_(torch.eye(8))
        model.decoder.weight_ih_l0.copy_(5 * torch.eye(8))
        model.decoder.weight_hh_l0.zero_()
        model.decoder.bias_ih_l0.zero_()
        model.decoder.bias_hh_l0.zero_()
        model.output.weight.zero_()
        model.output.bias.zero_()
        for previous in range(8):
            model.output.weight[chain.get(previous, 1), previous] = 10.0
    return model


def test_greedy_stops_at_eos_and_max_length_caps_the_rest() -> None:
    model = _chain_model()
    for (hypothesis,) in model.search(SOURCE, LENGTHS, beam_size=1, max_length=10):
        assert hypothesis.tokens == [4, 5, EOS]
        assert hypothesis.finished
        assert -1e-3 < hypothesis.score < 0
    for (hypothesis,) in model.search(SOURCE, LENGTHS, beam_size=1, max_length=2):
        assert hypothesis.tokens == [4, 5]
        assert not hypothesis.finished
    for hypotheses in model.search(SOURCE, LENGTHS, beam_size=2, max_length=10):
        assert hypotheses[0].tokens == [4, 5, EOS]
        assert hypotheses[0].finished
    for hypotheses in model.search(SOURCE, LENGTHS, beam_size=2, max_length=2):
        assert hypotheses[0].tokens == [4, 5]
        assert not hypotheses[0].finished


@pytest.mark.parametrize("beam_size", [1, 3])
def test_batched_search_equals_per_sentence_search(beam_size: int) -> None:
    model = _model(attention="additive", cell="gru", bidirectional=True)
    junk = torch.where(SOURCE == PAD, torch.full_like(SOURCE, 6), SOURCE)  # padding as real ids
    batched = model.search(junk, LENGTHS, beam_size=beam_size, max_length=6)
    for b, length in enumerate(LENGTHS.tolist()):
        (alone,) = model.search(
            SOURCE[b : b + 1, :length], torch.tensor([length]), beam_size=beam_size, max_length=6
        )
        assert [h.tokens for h in batched[b]] == [h.tokens for h in alone]
        assert [h.finished for h in batched[b]] == [h.finished for h in alone]
        for together, single in zip(batched[b], alone, strict=True):
            assert together.score == pytest.approx(single.score, abs=1e-9)


@pytest.mark.parametrize("attention", ["additive", "dot", "general"])
def test_attention_weights_sum_to_one_and_skip_padding(attention: str) -> None:
    weights = _model(attention=attention).attention_weights(SOURCE, LENGTHS, TARGET_IN)
    assert weights.shape == (3, 5, 4)  # (B, T, S)
    mask = (SOURCE != PAD)[:, None, :].expand_as(weights)
    assert (weights[~mask] == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 5), rtol=0, atol=1e-12)


def test_attention_weights_need_attention() -> None:
    with pytest.raises(ConfigError, match="no attention"):
        _model().attention_weights(SOURCE, LENGTHS, TARGET_IN)


BAD_INPUT = {  # case: (source_ids, source_lengths, target_in, message)
    "float source ids": (SOURCE.double(), LENGTHS, TARGET_IN, r"source_ids must be \(B, T\) int64"),
    "1-D source ids": (SOURCE[0], LENGTHS[:1], TARGET_IN[:1], r"source_ids .* got \(4,\)"),
    "source as a list": (SOURCE.tolist(), LENGTHS, TARGET_IN, "source_ids must be .*; got list"),
    "source id = V": (torch.where(SOURCE == 8, 9, SOURCE), LENGTHS, TARGET_IN, r"\[0, 9\); got"),
    "negative source id": (SOURCE - 1, LENGTHS, TARGET_IN, r"source_ids must lie in \[0, 9\)"),
    "target id = V": (SOURCE, LENGTHS, TARGET_IN + 5, r"target_in must lie in \[0, 8\)"),
    "float target": (SOURCE, LENGTHS, TARGET_IN.float(), "target_in must be"),
    "empty source": (SOURCE[:, :0], LENGTHS, TARGET_IN, "source_ids must hold at least one step"),
    "length 0": (SOURCE, torch.tensor([4, 0, 3]), TARGET_IN, r"\[1, 4\].*got \[4, 0, 3\]"),
    "length > S": (SOURCE, torch.tensor([5, 2, 3]), TARGET_IN, r"\[1, 4\].*got \[5, 2, 3\]"),
    "too few lengths": (SOURCE, LENGTHS[:2], TARGET_IN, r"\(B,\) = \(3,\)"),
    "mismatched batch": (SOURCE, LENGTHS, TARGET_IN[:2], "target_in must have B = 3 rows"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_raises_shape_error(case: str) -> None:
    source_ids, source_lengths, target_in, match = BAD_INPUT[case]
    with pytest.raises(ShapeError, match=match):
        _model(attention="general")(source_ids, source_lengths, target_in)


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_teacher_forcing_outside_zero_one_is_refused(ratio: float) -> None:
    with pytest.raises(ConfigError, match=f"teacher_forcing must be in \\[0, 1\\], got {ratio}"):
        _model()(SOURCE, LENGTHS, TARGET_IN, teacher_forcing=ratio)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_length": 0}, "max_length must be a positive integer, got 0"),
        ({"beam_size": 0}, "beam_size must be a positive integer, got 0"),
        ({"beam_size": 2, "length_penalty": -1.0}, "length_penalty must be ≥ 0"),
        ({"beam_size": 1, "length_penalty": -1.0}, "length_penalty must be ≥ 0"),
    ],
)
def test_bad_search_options_are_refused(options: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _model().search(SOURCE, LENGTHS, **options)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"attention": "dot", "bidirectional": True}, "dot attention needs K = H"),
        ({"share_embeddings": True}, "one joint vocabulary"),
        ({"bos_id": 8}, "bos_id must be a target token id, got 8"),
        ({"eos_id": -1}, "eos_id must be a target token id, got -1"),
        ({"pad_id": 8}, "pad_id must be a target token id, got 8"),
        ({"source_vocab_size": 3, "pad_id": 5}, "pad_id must be a source token id too, got 5"),
        ({"cell": "transformer"}, "cell must be rnn, lstm or gru, got 'transformer'"),
        ({"attention": "cosine"}, "attention must be none, additive, dot or general"),
        ({"hidden_size": 0}, "hidden_size must be a positive integer, got 0"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
    ],
)
def test_bad_config_is_refused(overrides: dict, match: str) -> None:
    sizes = {"source_vocab_size": 9, "target_vocab_size": 8}
    with pytest.raises(ConfigError, match=match):
        Seq2SeqConfig(**{**sizes, **overrides})
