"""LanguageModel: the lecture's "hello" example, weight tying, carried state, bad input."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.decoding import SamplingConfig, generate_tokens
from rnnkit.models.many_to_many import LanguageModel, LanguageModelConfig
from rnnkit.training.tensor_trees import map_tensors

HELLO = ["h", "e", "l", "o"]  # the lecture's vocabulary


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_hello_model_emits_ello_after_h(cell: str) -> None:
    """Trained on "hello" over [h, e, l, o], the model continues "h" with "ello".

    After "hel" the next character is "l" and after "hell" it is "o": only the state can tell
    the two "l" apart, so this needs the recurrence.
    """
    ids = torch.tensor([[HELLO.index(c) for c in "hello"]])  # (1, 5)
    model = LanguageModel(
        LanguageModelConfig(vocab_size=4, embed_dim=8, hidden_size=16, num_layers=1, cell=cell)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(150):
        logits, _ = model(ids[:, :-1])  # inputs h e l l
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 4), ids[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    greedy = SamplingConfig(temperature=0.0)
    continuation = generate_tokens(model.step, ids[0, :1], 4, greedy)
    assert "".join(HELLO[i] for i in continuation) == "ello"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_carried_state_equals_rereading_the_prefix(cell: str) -> None:
    model = LanguageModel(
        LanguageModelConfig(vocab_size=7, embed_dim=5, hidden_size=6, num_layers=2, cell=cell)
    ).eval()
    tokens = torch.randint(0, 7, (2, 9))
    full_logits, full_state = model(tokens)
    state, pieces = None, []
    for t in range(9):
        logits, state = model(tokens[:, t : t + 1], state)
        pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full_logits, rtol=0, atol=1e-6)
    flat_full = torch.cat([t.flatten() for t in map_tensors(full_state, lambda x: x)])
    flat_step = torch.cat([t.flatten() for t in map_tensors(state, lambda x: x)])
    torch.testing.assert_close(flat_step, flat_full, rtol=0, atol=1e-6)


def test_tied_weights_share_one_matrix() -> None:
    model = LanguageModel(
        LanguageModelConfig(vocab_size=11, embed_dim=8, hidden_size=8, tie_weights=True)
    )
    assert model.output.weight is model.embedding.weight
    with pytest.raises(ConfigError, match="embed_dim == hidden_size"):
        LanguageModelConfig(vocab_size=11, embed_dim=4, hidden_size=8, tie_weights=True)


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (torch.zeros(3, dtype=torch.long), "must be \\(B, T\\)"),
        (torch.zeros(1, 3), "int64"),
        (torch.tensor([[0, 11]]), "must lie in \\[0, 11\\)"),
        (torch.tensor([[-1, 2]]), "must lie in"),
    ],
)
def test_bad_token_ids(tokens: torch.Tensor, message: str) -> None:
    model = LanguageModel(LanguageModelConfig(vocab_size=11, embed_dim=4, hidden_size=4))
    with pytest.raises(ShapeError, match=message):
        model(tokens)
