"""ConditionedDecoder and Captioner: both conditionings, hand loops, gradients, search, sampling."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from rnnkit.cells import ElmanCell, GRUCell, LSTMCell
from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.captioner import Captioner, CaptionerConfig
from rnnkit.models.decoding import beam_decode
from rnnkit.models.image_encoder import FeatureInputConfig, ImageEncoderConfig
from rnnkit.models.one_to_many import (
    ConditionedDecoder,
    ConditionedDecoderConfig,
    reorder_state,
)

PAD, BOS, EOS, V, E, F = 0, 2, 3, 9, 4, 3
CELLS = ["rnn", "lstm", "gru"]
MODES = ["init", "every_step"]
CELL_MODES = list(itertools.product(CELLS, MODES))
TARGET_IN = torch.tensor([[BOS, 4, 5, 6, 7], [BOS, 6, 1, PAD, PAD], [BOS, 8, 8, 4, PAD]])
TARGET_OUT = torch.tensor([[4, 5, 6, 7, EOS], [6, 1, EOS, PAD, PAD], [8, 8, 4, EOS, PAD]])
pytestmark = pytest.mark.usefixtures("float64", "one_thread")


def _decoder(**overrides: object) -> ConditionedDecoder:
    sizes: dict = {"vocab_size": V, "embed_dim": E, "condition_size": F, "hidden_size": 5}
    return ConditionedDecoder(ConditionedDecoderConfig(**{**sizes, **overrides})).eval()


def _captioner(conditioning: str) -> Captioner:
    decoder = ConditionedDecoderConfig(vocab_size=V, embed_dim=E, condition_size=F,
                                       hidden_size=5, conditioning=conditioning)  # fmt: skip
    image = ImageEncoderConfig(channels=(2, 3), image_size=4, feature_size=F)
    return Captioner(CaptionerConfig(decoder=decoder, encoder="cnn", image=image))


def _hand_cell(decoder: ConditionedDecoder) -> nn.Module:
    """The first layer's cell with the layer's weights (weight_ih_l0 → weight_ih, …)."""
    config = decoder.config
    kind = {"rnn": ElmanCell, "lstm": LSTMCell, "gru": GRUCell}[config.cell]
    size = E + F if config.conditioning == "every_step" else E
    cell = kind(size, config.hidden_size)
    weights = {
        name.removesuffix("_l0"): value for name, value in decoder.layer.state_dict().items()
    }
    cell.load_state_dict(weights)
    return cell


@pytest.mark.parametrize(("cell", "conditioning"), CELL_MODES)
def test_parallel_forward_equals_a_decode_step_loop(cell: str, conditioning: str) -> None:
    decoder = _decoder(cell=cell, conditioning=conditioning, num_layers=2)
    v = torch.randn(3, F)
    logits = decoder(v, TARGET_IN)
    assert logits.shape == (3, 5, V)
    state, steps = decoder.start(v), []
    for t in range(TARGET_IN.shape[1]):
        step_logits, state = decoder.decode_step(TARGET_IN[:, t], state)
        steps.append(step_logits)
    torch.testing.assert_close(logits, torch.stack(steps, dim=1), rtol=0, atol=1e-10)


@pytest.mark.parametrize("conditioning", ["init", "every_step"])
def test_condition_output_adds_w_v_times_v_to_every_step_and_matches_the_step_loop(
    conditioning: str,
) -> None:
    decoder = _decoder(conditioning=conditioning, condition_output=True)
    v = torch.randn(3, F)
    logits = decoder(v, TARGET_IN)
    state, steps = decoder.start(v), []
    for t in range(TARGET_IN.shape[1]):
        step_logits, state = decoder.decode_step(TARGET_IN[:, t], state)
        steps.append(step_logits)
    torch.testing.assert_close(logits, torch.stack(steps, dim=1), rtol=0, atol=1e-10)
    H = decoder.config.hidden_size
    w_v = decoder.output.weight[:, H:].detach().clone()  # (V, F): the columns that read v
    with torch.no_grad():
        decoder.output.weight[:, H:] = 0.0
    shift = (v @ w_v.T).unsqueeze(1)  # W_v v, the same at every step, (B, 1, V)
    torch.testing.assert_close(logits, decoder(v, TARGET_IN) + shift, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("cell", "conditioning"), CELL_MODES)
def test_forward_equals_a_hand_unrolled_cell(cell: str, conditioning: str) -> None:
    """every_step: x = [E[y_{t-1}] ; v] into W_ih; init: x_0 = W_v v + b_v read first, from 0."""
    decoder = _decoder(cell=cell, conditioning=conditioning)
    hand_cell, v = _hand_cell(decoder), torch.randn(3, F)
    state = hand_cell.init_state(3)
    if conditioning == "init":
        x_0 = v @ decoder.condition_projection.weight.T + decoder.condition_projection.bias
        state = hand_cell(x_0, state)  # the image step; its output predicts nothing
    expected = []
    for t in range(TARGET_IN.shape[1]):
        x_t = decoder.embedding.weight[TARGET_IN[:, t]]  # E[y_{t-1}], (B, E)
        if conditioning == "every_step":
            x_t = torch.cat([x_t, v], dim=-1)  # [E[y_{t-1}] ; v]
        state = hand_cell(x_t, state)
        expected.append(state.hidden @ decoder.output.weight.T + decoder.output.bias)
    torch.testing.assert_close(decoder(v, TARGET_IN), torch.stack(expected, 1), rtol=0, atol=1e-10)


def test_every_step_is_the_lecture_equation_with_split_weights() -> None:
    """h_t = tanh(W_x x_t + W_hh h_{t-1} + W_v v + b): W_ih [x ; v] split into W_x and W_v."""
    decoder = _decoder(cell="rnn", conditioning="every_step")
    layer, v = decoder.layer, torch.randn(3, F)
    weight_x, weight_v = layer.weight_ih_l0[:, :E], layer.weight_ih_l0[:, E:]  # W_x, W_v
    bias = layer.bias_ih_l0 + layer.bias_hh_l0
    hidden, expected = torch.zeros(3, 5), []
    for t in range(TARGET_IN.shape[1]):
        x_t = decoder.embedding.weight[TARGET_IN[:, t]]
        hidden = torch.tanh(
            x_t @ weight_x.T + hidden @ layer.weight_hh_l0.T + v @ weight_v.T + bias
        )
        expected.append(hidden @ decoder.output.weight.T + decoder.output.bias)
    torch.testing.assert_close(decoder(v, TARGET_IN), torch.stack(expected, 1), rtol=0, atol=1e-10)


@pytest.mark.parametrize("conditioning", MODES)
def test_gradient_reaches_the_first_conv_and_the_condition_weights(conditioning: str) -> None:
    model = _captioner(conditioning).train()
    images = torch.randn(3, 3, 4, 4)
    logits = model(images, TARGET_IN)
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), TARGET_OUT.reshape(-1),
                                       ignore_index=PAD)  # fmt: skip
    loss.backward()
    first_conv = model.encoder.features[0]
    assert isinstance(first_conv, nn.Conv2d)
    assert first_conv.weight.grad.abs().sum() > 0
    if conditioning == "init":
        condition_weight = model.decoder.condition_projection.weight.grad  # W_v
    else:
        condition_weight = model.decoder.layer.weight_ih_l0.grad[:, E:]  # W_v inside W_ih
    assert condition_weight.abs().sum() > 0
    assert condition_weight.abs().min(dim=0).values.gt(0).all()  # every feature of v matters


@pytest.mark.parametrize(("cell", "conditioning"), CELL_MODES)
def test_changing_v_changes_every_step_of_the_logits(cell: str, conditioning: str) -> None:
    decoder = _decoder(cell=cell, conditioning=conditioning)
    v = torch.randn(3, F)
    difference = (decoder(v, TARGET_IN) - decoder(v + 1.0, TARGET_IN)).abs()  # (B, T, V)
    assert difference.amax(dim=-1).min() > 1e-6


def _eos_at_steps(decoder: ConditionedDecoder, steps: list[int]) -> None:
    """Push the <eos> logit by the output bias: up at call steps[b] for sequence b, down before.

    The output layer sees N = B rows (greedy, sampling) or B·K (beam); row r is sequence r // K.
    """
    calls = []

    def hook(_module: nn.Module, _inputs: object, logits: torch.Tensor) -> torch.Tensor:
        calls.append(None)
        per_row = torch.tensor(steps).repeat_interleave(logits.shape[0] // len(steps))  # (N,)
        logits = logits.clone()
        logits[..., EOS] = torch.where(per_row == len(calls), 1e4, -1e4)
        return logits

    decoder.output.register_forward_hook(hook)


@pytest.mark.parametrize("beam_size", [1, 3])
def test_search_stops_each_sequence_at_its_eos(beam_size: int) -> None:
    decoder = _decoder(cell="gru")
    _eos_at_steps(decoder, [4, 2, 6])
    found = decoder.search(torch.randn(3, F), beam_size=beam_size, max_length=10)
    for hypotheses, length in zip(found, [4, 2, 6], strict=True):
        assert len(hypotheses) == beam_size
        for hypothesis in hypotheses:
            assert hypothesis.finished
            assert len(hypothesis.tokens) == length
            assert hypothesis.tokens[-1] == EOS
            assert EOS not in hypothesis.tokens[:-1]


def test_sampling_stops_each_sequence_at_its_eos() -> None:
    decoder = _decoder(cell="lstm", conditioning="every_step")
    _eos_at_steps(decoder, [3, 1, 5, 3])
    generator = torch.Generator().manual_seed(0)
    rows = decoder.sample(torch.randn(4, F), max_length=10, generator=generator)
    assert [len(row) for row in rows] == [3, 1, 5, 3]
    assert all(row[-1] == EOS and EOS not in row[:-1] for row in rows)


@pytest.mark.parametrize("beam_size", [1, 2])
def test_max_length_caps_search_and_sampling(beam_size: int) -> None:
    decoder = _decoder()
    with torch.no_grad():
        decoder.output.bias[EOS] = -1e4  # never <eos>
    v = torch.randn(2, F)
    for hypotheses in decoder.search(v, beam_size=beam_size, max_length=6):
        assert all(len(h.tokens) == 6 and not h.finished for h in hypotheses)
    assert [len(row) for row in decoder.sample(v, max_length=6)] == [6, 6]
    with pytest.raises(ConfigError, match="max_length"):
        decoder.sample(v, max_length=0)
    with pytest.raises(ConfigError, match="max_length"):
        decoder.search(v, max_length=0)


@pytest.mark.parametrize(("cell", "conditioning"), CELL_MODES)
def test_beam_size_one_equals_greedy(cell: str, conditioning: str) -> None:
    decoder = _decoder(cell=cell, conditioning=conditioning, num_layers=2)
    v = torch.randn(4, F)
    greedy = decoder.search(v, beam_size=1, max_length=7)
    beam = beam_decode(decoder.decode_step, decoder.start(v), reorder=reorder_state, batch_size=4,
                       bos_id=BOS, eos_id=EOS, beam_size=1, max_length=7)  # fmt: skip
    for [expected], [found] in zip(greedy, beam, strict=True):
        assert found.tokens == expected.tokens
        assert found.finished == expected.finished
        assert found.score == pytest.approx(expected.score, abs=1e-9)


def test_beam_search_returns_sorted_hypotheses_at_least_as_good_as_greedy() -> None:
    decoder = _decoder(cell="lstm")
    with torch.no_grad():
        decoder.output.bias[EOS] = -1e4  # equal lengths: raw scores compare
    v = torch.randn(3, F)
    greedy = decoder.search(v, max_length=5)
    beams = decoder.search(v, beam_size=4, max_length=5)
    for [best_greedy], hypotheses in zip(greedy, beams, strict=True):
        scores = [h.normalised for h in hypotheses]
        assert scores == sorted(scores, reverse=True)
        assert hypotheses[0].score >= best_greedy.score - 1e-9


@pytest.mark.parametrize("conditioning", MODES)
def test_temperature_zero_is_greedy_and_a_seeded_generator_repeats(conditioning: str) -> None:
    decoder = _decoder(cell="gru", conditioning=conditioning)
    v = torch.randn(4, F)
    greedy = [h.tokens for [h] in decoder.search(v, max_length=8)]
    assert decoder.sample(v, temperature=0.0, max_length=8) == greedy
    assert decoder.sample(v, top_k=1, max_length=8) == greedy
    first = decoder.sample(v, max_length=8, generator=torch.Generator().manual_seed(7))
    again = decoder.sample(v, max_length=8, generator=torch.Generator().manual_seed(7))
    other = decoder.sample(v, max_length=8, generator=torch.Generator().manual_seed(8))
    assert first == again
    assert first != other


def test_reorder_state_selects_rows_of_hidden_and_condition() -> None:
    decoder = _decoder(cell="lstm", num_layers=2, conditioning="every_step")
    v = torch.randn(3, F)
    state = decoder.decode_step(TARGET_IN[:, 0], decoder.start(v))[1]
    index = torch.tensor([2, 2, 0])
    picked = reorder_state(state, index)
    torch.testing.assert_close(picked.hidden.hidden, state.hidden.hidden[:, index])
    torch.testing.assert_close(picked.hidden.cell, state.hidden.cell[:, index])
    torch.testing.assert_close(picked.condition, v[index])


@pytest.mark.parametrize(
    ("condition", "target_in"),
    [
        (torch.randn(3, F + 1), TARGET_IN),  # wrong condition size
        (torch.randn(3), TARGET_IN),  # no batch dimension
        (torch.randn(2, F), TARGET_IN),  # batch mismatch
        (torch.ones(3, F, dtype=torch.long), TARGET_IN),  # integer condition
        (torch.randn(3, F), TARGET_IN.clamp(max=V - 1) + 1),  # an id ≥ V
        (torch.randn(3, F), TARGET_IN - 3),  # negative ids
        (torch.randn(3, F), TARGET_IN.double()),  # float ids
        (torch.randn(3, F), TARGET_IN[:, :0]),  # no steps
    ],
)
def test_bad_inputs_raise_shape_error(condition: torch.Tensor, target_in: torch.Tensor) -> None:
    with pytest.raises(ShapeError, match="got"):
        _decoder()(condition, target_in)


@pytest.mark.parametrize(
    "overrides",
    [
        {"cell": "transformer"},
        {"conditioning": "sometimes"},
        {"eos_id": V},
        {"bos_id": -1},
        {"hidden_size": 0},
        {"condition_size": 0},
        {"dropout": 1.0},
    ],
)
def test_bad_decoder_config_raises(overrides: dict) -> None:
    with pytest.raises(ConfigError):
        _decoder(**overrides)


def test_captioner_config_checks_sizes_and_round_trips_json() -> None:
    decoder = ConditionedDecoderConfig(vocab_size=V, condition_size=F)
    with pytest.raises(ConfigError, match="condition_size"):
        CaptionerConfig(decoder=decoder, encoder="cnn")  # feature_size 256 ≠ 3
    config = CaptionerConfig(decoder=decoder, encoder="features",
                             features=FeatureInputConfig(input_size=7, feature_size=F))  # fmt: skip
    assert config_from_dict(CaptionerConfig, config_to_dict(config)) == config
    with pytest.raises(ConfigError, match="encoder"):
        CaptionerConfig(decoder=decoder, encoder="resnet")


@pytest.mark.parametrize("encoder", ["cnn", "features"])
def test_captioner_encodes_then_decodes(encoder: str) -> None:
    decoder = ConditionedDecoderConfig(vocab_size=V, embed_dim=E, condition_size=F, hidden_size=5)
    config = CaptionerConfig(decoder=decoder, encoder=encoder,
                             image=ImageEncoderConfig(channels=(2,), image_size=4, feature_size=F),
                             features=FeatureInputConfig(input_size=6, feature_size=F))  # fmt: skip
    model = Captioner(config).eval()
    inputs = torch.randn(3, 3, 4, 4) if encoder == "cnn" else torch.randn(3, 6)
    v = model.encoder(inputs)
    torch.testing.assert_close(model(inputs, TARGET_IN), model.decoder(v, TARGET_IN))
    captions = model.caption(inputs, beam_size=2, max_length=4)
    assert [len(hypotheses) for hypotheses in captions] == [2, 2, 2]
    assert captions == model.decoder.search(v, beam_size=2, max_length=4)
    with pytest.raises(ShapeError, match="got"):
        model(torch.randn(3, 5), TARGET_IN)
