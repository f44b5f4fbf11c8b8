"""MRNN and MLSTM layers: equal to stepping their cells, sizes, refusals, the char-LM on them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import rnnkit
from rnnkit import tasks
from rnnkit.cells import LSTMState
from rnnkit.config import make_config
from rnnkit.errors import ConfigError
from rnnkit.layers.multiplicative import MLSTM, MRNN
from rnnkit.models.many_to_many import LanguageModel, LanguageModelConfig
from rnnkit.models.size import recurrent_parameters
from rnnkit.tasks.charlm.config import CharLMConfig
from tiny_runs import trainer_config


@pytest.mark.parametrize("layer_class", [MRNN, MLSTM])
def test_two_layers_equal_stepping_the_cells_by_hand(float64, layer_class) -> None:
    layer = layer_class(3, 4, num_layers=2, batch_first=True)
    x, lengths = torch.randn(2, 5, 3), [5, 3]  # (B, T, F)
    output, final = layer(x, lengths=torch.tensor(lengths))
    cells = layer.cells  # layer 1, layer 2
    for b, length in enumerate(lengths):
        below = x[b : b + 1, :length]  # (1, T_b, F)
        for k, cell in enumerate(cells):
            state, outputs = cell.init_state(1), []
            for t in range(length):
                state = cell(below[:, t], state)
                outputs.append(state.hidden)
            below = torch.stack(outputs, dim=1)  # (1, T_b, H), the next layer's input
            hidden = final.hidden if isinstance(final, LSTMState) else final
            torch.testing.assert_close(hidden[k, b], state.hidden[0], atol=1e-12, rtol=0)
        torch.testing.assert_close(output[b, :length], below[0], atol=1e-12, rtol=0)
        assert bool(output[b, length:].eq(0).all())


def test_parameter_names_counts_and_refusals() -> None:
    layer = MLSTM(3, 5, num_layers=2, bidirectional=True, multiplicative_size=4)
    assert "weight_mx_l1_reverse" in layer.state_dict()
    assert repr(layer) == "MLSTM(3, 5, num_layers=2, bidirectional=True, multiplicative_size=4)"
    for cell, name in ((MRNN, "mrnn"), (MLSTM, "mlstm")):
        expected = recurrent_parameters(3, 5, 3, name, 2)
        assert sum(p.numel() for p in cell(3, 5, 3, bidirectional=True).parameters()) == expected
    with pytest.raises(ConfigError, match=r"torch\.nn has no multiplicative layer"):
        layer.to_torch()
    with pytest.raises(ConfigError, match=r"torch\.nn has no multiplicative layer"):
        MRNN.from_torch(torch.nn.RNN(3, 5))


@pytest.mark.parametrize("cell", ["mrnn", "mlstm"])
def test_language_model_counts_its_parameters(cell: str) -> None:
    config = LanguageModelConfig(vocab_size=13, embed_dim=6, hidden_size=9, num_layers=2, cell=cell)
    model = LanguageModel(config)
    assert sum(p.numel() for p in model.parameters()) == config.parameter_count()
    logits, _ = model(torch.zeros(2, 4, dtype=torch.long))
    assert logits.shape == (2, 4, 13)


def test_charlm_trains_loads_and_generates_with_mlstm(tmp_path: Path, one_thread) -> None:
    config = make_config(CharLMConfig, max_chars=3000, batch_size=2, seq_len=8, embed_dim=6,
                         hidden_size=8, num_layers=1, cell="mlstm", samples=0)  # fmt: skip
    tasks.train("charlm", config, trainer_config(2), data=None, run_dir=tmp_path / "run")
    loaded = rnnkit.load(tmp_path / "run")
    assert isinstance(loaded.model.recurrent, MLSTM)
    assert len(loaded.generate("Th", length=5, seed=0)) >= 5
