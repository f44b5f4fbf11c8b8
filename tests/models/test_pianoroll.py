"""PianoRollModel: logits equal the layer and head by hand; sampling rules and errors."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.pianoroll import PianoRollConfig, PianoRollModel


def small(cell: str = "lstm") -> PianoRollModel:
    return PianoRollModel(PianoRollConfig(num_pitches=5, hidden_size=4, cell=cell))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_logits_are_the_head_of_the_recurrent_outputs(cell: str) -> None:
    model = small(cell)
    frames = torch.randint(0, 2, (2, 6, 5)).float()
    logits, _ = model(frames)
    hidden, _ = model.recurrent(frames)  # (B, T, H)
    assert torch.allclose(logits, hidden @ model.head.weight.T + model.head.bias)


def test_streaming_one_frame_at_a_time_equals_the_whole_sequence() -> None:
    model = small()
    frames = torch.randint(0, 2, (1, 5, 5)).float()
    whole, _ = model(frames)
    state, steps = None, []
    for t in range(5):
        logits, state = model(frames[:, t : t + 1], state)
        steps.append(logits)
    assert torch.allclose(torch.cat(steps, dim=1), whole, atol=1e-6)


def test_greedy_sampling_thresholds_at_one_half_and_feeds_back() -> None:
    model = small()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor([2.0, -2.0, 0.5, -0.5, 3.0]))  # a_t, whatever h_t
    sampled = model.sample(3, temperature=0.0)
    assert sampled.tolist() == [[1.0, 0.0, 1.0, 0.0, 1.0]] * 3


def test_temperature_sharpens_and_a_seed_repeats() -> None:
    model = small()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(1.0)  # σ(1) = 0.73; σ(1/0.1) ≈ 1
    cold = model.sample(200, temperature=0.1, generator=torch.Generator().manual_seed(0))
    warm = model.sample(200, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert cold.mean() > 0.99 > 0.8 > warm.mean() > 0.65
    again = model.sample(200, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(warm, again)


def test_bad_input_and_config_are_refused() -> None:
    with pytest.raises(ShapeError, match="got"):
        small()(torch.zeros(2, 3, 6))
    with pytest.raises(ConfigError, match="temperature"):
        small().sample(4, temperature=-1.0)
    with pytest.raises(ConfigError, match="cell"):
        PianoRollConfig(cell="tcn")  # type: ignore[arg-type]
