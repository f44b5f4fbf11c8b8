"""/inspect and /gradients: the maps equal the cells' equations, the norms equal ‖∂L/∂h_t‖.

The LSTM maps are checked against the equations computed here by hand in float64 from the
run's weights; GRU and Elman hidden maps against the layer's own outputs, and the GRU gates
against h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}. The gradient norms are checked against a time
loop written here whose h_t keep their own .grad.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from rnnkit.layers import GRU, LSTM
from rnnkit.losses.sequence import sequence_cross_entropy
from rnnkit.tasks.charlm.train import load_language_model
from rnnkit.tasks.classify.train import load_classifier, predict_proba
from rnnkit.web.inspect import record_maps

pytestmark = pytest.mark.usefixtures("one_thread")

TEXT = "To be, or not"


def _post(client: TestClient, run: Path, action: str, body: dict) -> dict:
    response = client.post(f"/api/models/{run.name}/{action}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _hand_lstm(weights: dict[str, torch.Tensor], x: torch.Tensor, layer: int) -> dict:
    """i, f, g, o, c, h of every step of LSTM layer `layer` over x (T, F), in float64."""
    w_ih, w_hh = weights[f"weight_ih_l{layer}"], weights[f"weight_hh_l{layer}"]
    bias = weights[f"bias_ih_l{layer}"] + weights[f"bias_hh_l{layer}"]
    H = w_hh.shape[1]
    hidden, cell = torch.zeros(H, dtype=torch.float64), torch.zeros(H, dtype=torch.float64)
    rows: dict[str, list[torch.Tensor]] = {k: [] for k in ("i", "f", "g", "o", "c", "h")}
    for x_t in x:
        a = w_ih @ x_t + w_hh @ hidden + bias  # (4H,) rows i|f|g|o
        i, f, o = (torch.sigmoid(a[k * H : (k + 1) * H]) for k in (0, 1, 3))
        g = torch.tanh(a[2 * H : 3 * H])
        cell = f * cell + i * g
        hidden = o * torch.tanh(cell)
        for key, value in zip("ifgoch", (i, f, g, o, cell, hidden), strict=True):
            rows[key].append(value)
    return {key: torch.stack(values) for key, values in rows.items()}  # (T, H) each


def test_lstm_maps_equal_the_equations_by_hand(client: TestClient, runs: dict[str, Path]) -> None:
    body = _post(client, runs["charlm"], "inspect", {"text": TEXT, "units": 7})
    assert body["tokens"] == list(TEXT)
    assert body["cell"] == "lstm"
    assert [(m["layer"], m["direction"]) for m in body["layers"]] == [(0, 0), (1, 0)]
    assert body["probabilities"] is None
    loaded = load_language_model(runs["charlm"])
    weights = {k: v.double() for k, v in loaded.model.recurrent.state_dict().items()}
    x = loaded.model.embedding.weight.double()[loaded.vocab.encode(TEXT)]  # (T, E)
    names = {"input_gate": "i", "forget_gate": "f", "candidate": "g", "output_gate": "o",
             "cell": "c", "hidden": "h"}  # fmt: skip
    for layer, maps in enumerate(body["layers"]):
        hand = _hand_lstm(weights, x, layer)
        assert set(maps["maps"]) == set(names)
        for name, key in names.items():
            got = torch.tensor(maps["maps"][name], dtype=torch.float64)  # (T, U)
            assert got.shape == (len(TEXT), 7)
            torch.testing.assert_close(got, hand[key][:, :7], atol=1e-5, rtol=0)
        x = hand["h"]  # the next layer reads this one's h_t


@pytest.mark.parametrize("name", ["charlm-gru", "charlm-rnn"])
def test_gru_and_rnn_hidden_maps_equal_the_layer_outputs(
    client: TestClient, runs: dict[str, Path], name: str
) -> None:
    body = _post(client, runs[name], "inspect", {"text": TEXT, "units": 64})
    loaded = load_language_model(runs[name])
    ids = loaded.vocab.encode(TEXT).unsqueeze(0)  # (1, T)
    with torch.no_grad():
        outputs, _ = loaded.model.recurrent(loaded.model.embedding(ids))  # (1, T, H)
    [layer] = body["layers"]
    assert body["cell"] == name.removeprefix("charlm-")
    hidden = torch.tensor(layer["maps"]["hidden"])  # (T, H): units 64 > H keeps all of H
    torch.testing.assert_close(hidden, outputs[0], atol=1e-6, rtol=0)
    expected = {"hidden", "reset_gate", "update_gate", "candidate"} if name.endswith("gru") else {
        "hidden"}  # fmt: skip
    assert set(layer["maps"]) == expected


def test_bidirectional_gru_classifier_maps_follow_the_gru_equations(
    client: TestClient, runs: dict[str, Path]
) -> None:
    text = "a very good film ."
    body = _post(client, runs["sentiment"], "inspect", {"text": text, "units": 64})
    loaded = load_classifier(runs["sentiment"])
    assert body["tokens"] == text.split()
    assert body["cell"] == "gru"
    assert body["probabilities"] == pytest.approx(predict_proba(loaded, [text])[0].tolist())
    ids = loaded.vocab.encode(text).unsqueeze(0)  # (1, T)
    with torch.no_grad():
        outputs, _ = loaded.model.recurrent(loaded.model.represent(ids))  # (1, T, 2H)
    H = outputs.shape[-1] // 2
    assert [(m["layer"], m["direction"]) for m in body["layers"]] == [(0, 0), (0, 1)]
    for direction, layer in enumerate(body["layers"]):
        maps = {key: torch.tensor(value) for key, value in layer["maps"].items()}  # (T, H) each
        torch.testing.assert_close(
            maps["hidden"], outputs[0, :, direction * H : (direction + 1) * H], atol=1e-6, rtol=0
        )
        previous = torch.cat([torch.zeros(1, H), maps["hidden"][:-1]])  # h_{t-1}, forward
        if direction == 1:  # the backward direction's previous step is t + 1
            previous = torch.cat([maps["hidden"][1:], torch.zeros(1, H)])
        update, candidate = maps["update_gate"], maps["candidate"]
        combined = (1 - update) * candidate + update * previous  # h_t from the gates
        torch.testing.assert_close(combined, maps["hidden"], atol=1e-6, rtol=0)
        assert bool(((maps["reset_gate"] > 0) & (maps["reset_gate"] < 1)).all())


def test_gradient_norms_equal_the_gradient_of_each_hidden_state(
    client: TestClient, runs: dict[str, Path], float64: torch.dtype
) -> None:
    text = "Whether 'tis nobler"
    body = _post(client, runs["charlm-rnn"], "gradients", {"text": text})
    assert body["tokens"] == list(text)[:-1]
    loaded = load_language_model(runs["charlm-rnn"])
    model = loaded.model.double()
    weights = model.recurrent.state_dict()
    ids = loaded.vocab.encode(text)
    x = model.embedding(ids[:-1])  # (T-1, E)
    hidden = torch.zeros(weights["weight_hh_l0"].shape[0], dtype=float64)
    states = []
    for x_t in x:  # h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        hidden = torch.tanh(weights["weight_ih_l0"] @ x_t + weights["bias_ih_l0"]
                            + weights["weight_hh_l0"] @ hidden + weights["bias_hh_l0"])  # fmt: skip
        hidden.retain_grad()
        states.append(hidden)
    logits = model.output(torch.stack(states)).unsqueeze(0)  # (1, T-1, V)
    sequence_cross_entropy(logits, ids[1:].unsqueeze(0)).backward()
    expected = [float(torch.linalg.vector_norm(h.grad)) for h in states]
    assert body["norms"] == pytest.approx(expected, rel=1e-4)
    assert body["norms"][-1] > 0


def test_gradient_norms_of_a_two_layer_lstm_are_the_top_layers(
    client: TestClient, runs: dict[str, Path]
) -> None:
    body = _post(client, runs["charlm"], "gradients", {"text": TEXT})
    assert len(body["norms"]) == len(TEXT) - 1
    loaded = load_language_model(runs["charlm"])
    ids = loaded.vocab.encode(TEXT).unsqueeze(0)  # (1, T)
    with torch.no_grad():
        outputs, _ = loaded.model.recurrent(loaded.model.embedding(ids[:, :-1]))  # (1, T-1, H)
    outputs.requires_grad_()
    loss = sequence_cross_entropy(loaded.model.output(outputs), ids[:, 1:])
    [direct] = torch.autograd.grad(loss, outputs)  # only the last step has no later path
    assert body["norms"][-1] == pytest.approx(float(direct[0, -1].norm()), rel=1e-5)
    again = _post(client, runs["charlm"], "gradients", {"text": TEXT})
    assert again == body  # the served model is left as it was


@pytest.mark.parametrize(("peephole", "coupled"), [(True, False), (False, True), (True, True)])
def test_lstm_variant_gates_give_the_cells_own_c_and_h(peephole: bool, coupled: bool) -> None:
    layer = LSTM(3, 5, batch_first=True, peephole=peephole, coupled_gates=coupled)
    x = torch.randn(1, 6, 3)  # (B, T, F)
    cell, [maps], _ = record_maps(layer, lambda m: m(x)[0], units=5)
    i, f, o, g, c, h = (torch.tensor(maps["maps"][name]) for name in (
        "input_gate", "forget_gate", "output_gate", "candidate", "cell", "hidden"))  # fmt: skip
    c_prev = torch.cat([torch.zeros(1, 5), c[:-1]])  # c_{t-1}
    torch.testing.assert_close(c, f * c_prev + i * g, atol=1e-6, rtol=0)
    torch.testing.assert_close(h, o * torch.tanh(c), atol=1e-6, rtol=0)
    torch.testing.assert_close(h, layer(x)[0][0].detach(), atol=1e-6, rtol=0)
    if coupled:
        torch.testing.assert_close(i, 1 - f)
    assert cell == "lstm"


def test_reset_before_gru_gates_give_the_cells_own_h() -> None:
    layer = GRU(3, 4, batch_first=True, reset_after=False)
    x = torch.randn(1, 5, 3)  # (B, T, F)
    _, [maps], _ = record_maps(layer, lambda m: m(x)[0], units=4)
    z, n, h = (torch.tensor(maps["maps"][name]) for name in ("update_gate", "candidate", "hidden"))
    h_prev = torch.cat([torch.zeros(1, 4), h[:-1]])  # h_{t-1}
    torch.testing.assert_close(h, (1 - z) * n + z * h_prev, atol=1e-6, rtol=0)
    torch.testing.assert_close(h, layer(x)[0][0].detach(), atol=1e-6, rtol=0)
