"""The language model's AWD-LSTM regularisers: embedding dropout, locked dropouts, AR/TAR.

Merity, Keskar & Socher 2017 (arXiv 1708.02182) §4.3 and §4.6; the equations are in
`rnnkit.models.many_to_many`'s docstring.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from torch import Tensor

from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.errors import ConfigError
from rnnkit.losses.sequence import sequence_cross_entropy
from rnnkit.models.many_to_many import (
    LanguageModel,
    LanguageModelConfig,
    activity_regularisation,
)
from rnnkit.tasks.charlm.train import Chunk, LanguageModelObjective

V, E, H = 11, 6, 5
SMALL = {"vocab_size": V, "embed_dim": E, "hidden_size": H, "num_layers": 2}


def _model(seed: int = 0, **options: Any) -> LanguageModel:
    torch.manual_seed(seed)
    return LanguageModel(LanguageModelConfig(**SMALL, **options))


def _ids(seed: int = 1, batch: int = 4, steps: int = 9) -> Tensor:
    return torch.randint(V, (batch, steps), generator=torch.Generator().manual_seed(seed))


def _captured(model: LanguageModel, ids: Tensor) -> dict[str, Tensor]:
    """The recurrent stack's input and output and the output layer's input of one pass."""
    seen: dict[str, Tensor] = {}
    hooks = [
        model.recurrent.register_forward_pre_hook(
            lambda _m, args: seen.__setitem__("embedded", args[0])
        ),
        model.recurrent.register_forward_hook(
            lambda _m, _args, out: seen.__setitem__("hidden", out[0])
        ),
        model.output.register_forward_pre_hook(
            lambda _m, args: seen.__setitem__("dropped", args[0])
        ),
    ]
    try:
        seen["logits"] = model(ids)[0]
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def test_all_off_is_the_plain_model_and_leaves_no_penalty() -> None:
    plain = _model()
    assert plain.config.regularisers() == {}
    ids = _ids()
    trained_mode = plain(ids)[0]  # training mode, nothing random when all is off
    assert plain.activity_loss is None
    assert activity_regularisation(plain) is None
    plain.eval()
    assert torch.equal(trained_mode, plain(ids)[0])
    explicit = _model(
        embedding_dropout=0.0, input_dropout=0.0, output_dropout=0.0, recurrent_dropout=0.0,
        zoneout=0.0, weight_drop=0.0, activation_reg=0.0, temporal_activation_reg=0.0,
    )  # fmt: skip
    explicit.eval()
    assert torch.equal(explicit(ids)[0], plain(ids)[0])
    assert repr(explicit.recurrent) == repr(plain.recurrent)


def test_embedding_dropout_drops_whole_rows_scaled_with_one_mask_per_pass() -> None:
    p = 0.5
    model = _model(embedding_dropout=p)
    ids = torch.arange(V).repeat(3, 2)  # every word at several positions and rows
    embedded = _captured(model, ids)["embedded"]  # (B, T, E)
    lookup = model.embedding.weight[ids]  # E[x_t]
    ratio = embedded / lookup  # m_w / (1 − p) per position, the same for all E features
    assert torch.allclose(ratio, ratio[..., :1].expand_as(ratio))
    per_word = {}
    for word, value in zip(ids.flatten().tolist(), ratio[..., 0].flatten().tolist(), strict=True):
        per_word.setdefault(word, set()).add(round(value, 5))
    assert all(len(values) == 1 for values in per_word.values())  # one mask for the whole pass
    values = {next(iter(v)) for v in per_word.values()}
    assert values == {0.0, round(1 / (1 - p), 5)}  # dropped rows are zero, kept ones scaled
    second = _captured(model, ids)["embedded"]
    assert not torch.equal(embedded, second)  # a fresh mask on the next pass


def test_input_and_output_dropout_are_locked_over_time() -> None:
    model = _model(input_dropout=0.4, output_dropout=0.3)
    ids = _ids(steps=12)
    seen = _captured(model, ids)
    for mask in (seen["embedded"] / model.embedding.weight[ids], seen["dropped"] / seen["hidden"]):
        assert torch.allclose(mask, mask[:, :1].expand_as(mask))  # the same mask at every t
        assert bool((mask == 0).any())
        assert bool((mask > 1).any())


def test_in_eval_mode_the_dropouts_are_off_and_exact() -> None:
    options = {"embedding_dropout": 0.2, "input_dropout": 0.3, "output_dropout": 0.4,
               "recurrent_dropout": 0.3, "weight_drop": 0.5, "activation_reg": 2.0,
               "temporal_activation_reg": 1.0}  # fmt: skip
    regularised, plain = _model(**options), _model()
    plain.load_state_dict(regularised.state_dict())
    regularised.eval(), plain.eval()
    ids = _ids()
    assert torch.equal(regularised(ids)[0], plain(ids)[0])
    assert regularised.activity_loss is None  # AR/TAR: training only
    regularised.train()
    assert not torch.equal(regularised(ids)[0], plain(ids)[0])


def test_ar_and_tar_equal_the_hand_computation() -> None:
    alpha, beta = 2.0, 1.0
    model = _model(output_dropout=0.3, activation_reg=alpha, temporal_activation_reg=beta)
    seen = _captured(model, _ids())
    hidden, dropped = seen["hidden"].detach(), seen["dropped"].detach()  # (B, T, H)
    B, T, _ = hidden.shape
    ar = sum(float(dropped[b, t, j]) ** 2 for b in range(B) for t in range(T) for j in range(H))
    tar = sum(
        (float(hidden[b, t, j]) - float(hidden[b, t - 1, j])) ** 2
        for b in range(B) for t in range(1, T) for j in range(H)
    )  # fmt: skip
    expected = alpha * ar / (B * T * H) + beta * tar / (B * (T - 1) * H)
    assert float(activity_regularisation(model).detach()) == pytest.approx(expected, rel=1e-5)
    assert model.activity_loss is None  # taken: no graph is kept past its use


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_ar_tar_gradcheck_float64(cell: str) -> None:
    model = _model(cell=cell, output_dropout=0.3, embedding_dropout=0.2, activation_reg=2.0,
                   temporal_activation_reg=1.0).double()  # fmt: skip
    ids = _ids(batch=2, steps=4)
    hidden_weight = model.recurrent.weight_hh_l1

    def penalty(embedding: Tensor, weight_hh: Tensor) -> Tensor:
        torch.manual_seed(5)  # the same dropout masks at every evaluation
        params = {"embedding.weight": embedding, "recurrent.weight_hh_l1": weight_hh}
        torch.func.functional_call(model, params, (ids,))
        return activity_regularisation(model)

    inputs = (model.embedding.weight.detach().clone().requires_grad_(),
              hidden_weight.detach().clone().requires_grad_())  # fmt: skip
    assert torch.autograd.gradcheck(penalty, inputs, eps=1e-6, atol=1e-6)


def test_the_objective_adds_the_penalty_to_the_gradient_not_to_the_logged_loss() -> None:
    model = _model(activation_reg=3.0, temporal_activation_reg=2.0)
    ids = _ids(steps=8)
    batch = Chunk(ids[:, :-1], ids[:, 1:], first=True)
    objective = LanguageModelObjective("word")
    result = objective.loss(model, batch, None)
    result.loss.backward()
    got = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    logits, _ = model(batch.inputs)
    cross_entropy = sequence_cross_entropy(logits, batch.targets)
    (cross_entropy + activity_regularisation(model)).backward()
    assert float(result.loss) == float(cross_entropy)  # the logged value is L alone
    for a, p in zip(got, model.parameters(), strict=True):
        assert torch.allclose(a, p.grad, atol=1e-7)
    model.eval()
    with torch.no_grad():
        assert float(objective.loss(model, batch, None).loss) == float(
            sequence_cross_entropy(model(batch.inputs)[0], batch.targets)
        )


def test_the_cells_get_their_regularisers_and_the_config_round_trips() -> None:
    config = LanguageModelConfig(
        **SMALL, layer_norm=True, recurrent_dropout=0.25, zoneout=0.1, weight_drop=0.5,
        embedding_dropout=0.1, input_dropout=0.65, output_dropout=0.4, activation_reg=2.0,
        temporal_activation_reg=1.0,
    )  # fmt: skip
    cell = LanguageModel(config).recurrent.cells[0]
    assert cell.layer_norm
    assert cell.weight_drop == 0.5
    assert cell.recurrent_dropout == 0.25
    assert config_from_dict(LanguageModelConfig, config_to_dict(config)) == config
    assert set(config.regularisers()) == set(LanguageModelConfig.REGULARISERS)
    assert config_from_dict(LanguageModelConfig, config_to_dict(dataclasses.replace(
        config, weight_drop=0.0))).regularisers().get("weight_drop") is None  # fmt: skip


@pytest.mark.parametrize(
    "options",
    [{"embedding_dropout": 1.0}, {"zoneout": -0.1}, {"activation_reg": -1.0},
     {"temporal_activation_reg": float("nan")}, {"weight_drop": True},
     {"cell": "mlstm", "weight_drop": 0.5}],
)  # fmt: skip
def test_bad_regulariser_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        LanguageModelConfig(**SMALL, **options)


def test_mlstm_takes_the_model_level_regularisers() -> None:
    model = _model(cell="mlstm", embedding_dropout=0.1, output_dropout=0.2, activation_reg=1.0)
    model(_ids())
    assert activity_regularisation(model) is not None


def test_the_web_model_info_lists_the_regularisers_that_are_on() -> None:
    from rnnkit.web.adapters import CharLMAdapter

    vocab = type("Vocab", (list,), {"tokenizer": None})([None] * V)  # len() and .tokenizer
    loaded = SimpleNamespace(model=_model(weight_drop=0.5, activation_reg=2.0), vocab=vocab)
    info = CharLMAdapter(loaded).info()
    assert info["weight_drop"] == 0.5
    assert info["activation_reg"] == 2.0
    assert "zoneout" not in info
    assert info["hidden_size"] == H
