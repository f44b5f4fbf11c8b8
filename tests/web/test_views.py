"""The API behind the page's views: /docs offline, curves, top-p and beam, classifier gradients,
every unit of the maps page by page, and the note when a classifier cut its input.

Runs are the tiny ones of conftest.py; each check compares with the library's own call or with
a computation written out here.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient

from rnnkit.models.decoding import SamplingConfig
from rnnkit.tasks.charlm.generate import generate_text
from rnnkit.tasks.charlm.train import load_language_model
from rnnkit.tasks.classify.train import load_classifier, predict_proba
from rnnkit.tasks.condlm.train import load_condlm
from rnnkit.training.runs import read_metrics
from rnnkit.web.app import create_app
from rnnkit.web.curves import thin
from rnnkit.web.settings import ServeSettings

pytestmark = pytest.mark.usefixtures("one_thread")

LM, CLASSIFIER, CONDLM = "charlm-lstm", "sentiment-gru", "condlm-run"


def _post(client: TestClient, model: str, action: str, body: dict) -> dict:
    response = client.post(f"/api/models/{model}/{action}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# -- /docs without a network ----------------------------------------------------------------------
def test_docs_reference_only_files_this_server_serves(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert re.findall(r"https?://", page.text) == []  # no CDN, no favicon from elsewhere
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {Path(a).name for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:
        assert asset.startswith("/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 500, asset
    assert "'/openapi.json'" in page.text
    assert client.get("/redoc").status_code == 404  # ReDoc would come from a CDN: not offered


# -- training curves ------------------------------------------------------------------------------
def test_curves_are_the_rows_of_metrics_jsonl(client: TestClient, runs: dict[str, Path]) -> None:
    body = client.get(f"/api/models/{CLASSIFIER}/curves").json()
    rows = read_metrics(runs["sentiment"])
    curves = {(c["kind"], c["name"]): c for c in body["curves"]}
    train = [r for r in rows if r["kind"] == "train"]
    assert curves["train", "loss"]["steps"] == [r["step"] for r in train]
    assert curves["train", "loss"]["values"] == [r["loss"] for r in train]
    assert curves["train", "lr"]["values"] == [r["lr"] for r in train]
    [evaluation] = [r for r in rows if r["kind"] == "eval"]
    assert curves["eval", "val_accuracy"] == {
        "name": "val_accuracy", "kind": "eval", "steps": [evaluation["step"]],
        "values": [evaluation["val_accuracy"]], "total": 1,
    }  # fmt: skip
    assert not any("_cm_" in name for _, name in curves)  # confusion-matrix cells are no curve


def test_curves_are_thinned_to_points_keeping_the_last(
    client: TestClient, runs: dict[str, Path]
) -> None:
    body = client.get(f"/api/models/{CLASSIFIER}/curves", params={"points": 4}).json()
    loss = next(c for c in body["curves"] if c["name"] == "loss")
    train = [r for r in read_metrics(runs["sentiment"]) if r["kind"] == "train"]
    assert loss["total"] == len(train) == 30
    assert loss["steps"] == [train[i]["step"] for i in (0, 10, 19, 29)]
    assert thin(30, 4) == [0, 10, 19, 29]


def test_curves_skip_non_finite_values_and_a_run_without_metrics(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    run = tmp_path / "charlm-copy"
    shutil.copytree(runs["charlm-rnn"], run)
    with (run / "metrics.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"kind": "train", "step": 99, "loss": "nan", "lr": 0.5}) + "\n")
    bare = tmp_path / "charlm-bare"
    shutil.copytree(runs["charlm-rnn"], bare)
    (bare / "metrics.jsonl").unlink()
    with TestClient(create_app([run, bare])) as client:
        curves = {
            c["name"]: c for c in client.get("/api/models/charlm-copy/curves").json()["curves"]
        }
        assert curves["loss"]["steps"][-1] < 99  # the NaN row is left out of the loss …
        assert curves["lr"]["steps"][-1] == 99  # … but not out of η
        assert client.get("/api/models/charlm-bare/curves").json() == {
            "run": "charlm-bare", "curves": []}  # fmt: skip


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [({"points": 0}, 422, "greater than or equal to 1"),
     ({"points": 51}, 422, "less than or equal to 50"),
     ({"points": "many"}, 422, "valid integer"), ({"pointz": 3}, 422, "Extra inputs")],
)  # fmt: skip
def test_curves_queries_are_checked(
    app_runs: list[Path], query: dict, status: int, message: str
) -> None:
    with TestClient(create_app(app_runs, ServeSettings(max_curve_points=50))) as client:
        response = client.get(f"/api/models/{CLASSIFIER}/curves", params=query)
        assert response.status_code == status
        assert message in json.dumps(response.json()["detail"])
        assert client.get("/api/models/nobody/curves").status_code == 404
        schema = client.get("/openapi.json").json()
        [points] = schema["paths"]["/api/models/{model_id}/curves"]["get"]["parameters"][1:]
        assert points["schema"]["maximum"] == 50


# -- top-p and beam -------------------------------------------------------------------------------
def test_top_p_equals_generate_text_with_top_p(client: TestClient, runs: dict[str, Path]) -> None:
    request = {"prime": "RO", "length": 25, "temperature": 0.9, "top_p": 0.6, "seed": 4}
    body = _post(client, LM, "generate", request)
    loaded = load_language_model(runs["charlm"])
    sampling = SamplingConfig(temperature=0.9, top_p=0.6)
    expected = "".join(generate_text(loaded.model, loaded.vocab, "RO", 25, sampling, seed=4))
    assert body["text"] == expected
    plain = _post(client, LM, "generate", {**request, "top_p": None})
    assert plain["text"] != expected  # top-p changed the sample


def test_beam_returns_the_beam_search_whole_and_the_stream_sends_it(
    client: TestClient, runs: dict[str, Path]
) -> None:
    request = {"prime": "The ", "length": 12, "beam": 3}
    body = _post(client, LM, "generate", request)
    loaded = load_language_model(runs["charlm"])
    pieces = generate_text(loaded.model, loaded.vocab, "The ", 12, SamplingConfig(), beam_size=3)
    assert body == {"text": "".join(pieces), "tokens": 12, "stopped": "length"}
    stream = client.get(f"/api/models/{LM}/generate/stream", params=request).text
    texts = [
        json.loads(line[6:]).get("text", "") for line in stream.split("\n") if line[:5] == "data:"
    ]
    assert "".join(texts) == body["text"]
    condlm = _post(client, CONDLM, "generate", {"condition": "good", "length": 6, "beam": 2})
    [[best, *_]] = load_condlm(runs["condlm"]).model.search(
        torch.tensor([[0.0, 1.0]]), beam_size=2, max_length=6
    )
    vocab = load_condlm(runs["condlm"]).vocab
    eos = load_condlm(runs["condlm"]).model.config.eos_id
    assert condlm["text"] == " ".join(vocab.id_to_token(t) for t in best.tokens if t != eos)


@pytest.mark.parametrize(
    ("body", "message"),
    [({"top_p": 0}, "greater than 0"), ({"top_p": 1.5}, "less than or equal to 1"),
     ({"beam": 0}, "greater than or equal to 1"), ({"beam": 11}, "less than or equal to 10"),
     ({"beam": 2, "top_k": 3}, "takes no top_k"), ({"beam": 2, "top_p": 0.5}, "takes no top_p")],
)  # fmt: skip
def test_top_p_and_beam_are_checked(client: TestClient, body: dict, message: str) -> None:
    response = client.post(f"/api/models/{LM}/generate", json={"length": 3, **body})
    assert response.status_code == 422
    assert message in json.dumps(response.json()["detail"])
    schema = client.get("/openapi.json").json()["components"]["schemas"]["GenerateRequest"]
    assert schema["properties"]["beam"]["anyOf"][0]["maximum"] == 10


# -- gradients of a classifier --------------------------------------------------------------------
def _hand_bigru_norms(loaded: object, text: str, label: int) -> list[float]:
    """‖∂L/∂[h→_t ; h←_t]‖ from a time loop written here (torch's GRU equations), float64."""
    model = loaded.model.double()
    weights = dict(model.recurrent.named_parameters())
    x = model.represent(loaded.vocab.encode(text).unsqueeze(0))[0].detach()  # (T, E)
    T, H = x.shape[0], weights["weight_hh_l0"].shape[1]

    def run(suffix: str, order: range) -> dict[int, torch.Tensor]:
        w_ih, w_hh = weights[f"weight_ih_l0{suffix}"], weights[f"weight_hh_l0{suffix}"]
        b_ih, b_hh = weights[f"bias_ih_l0{suffix}"], weights[f"bias_hh_l0{suffix}"]
        hidden, states = torch.zeros(H, dtype=torch.float64), {}
        for t in order:
            a, b = w_ih @ x[t] + b_ih, w_hh @ hidden + b_hh  # rows r | z | n
            r = torch.sigmoid(a[:H] + b[:H])
            z = torch.sigmoid(a[H : 2 * H] + b[H : 2 * H])
            n = torch.tanh(a[2 * H :] + r * b[2 * H :])
            hidden = (1 - z) * n + z * hidden
            hidden.retain_grad()
            states[t] = hidden
        return states

    forward, backward = run("", range(T)), run("_reverse", range(T - 1, -1, -1))
    outputs = torch.stack([torch.cat([forward[t], backward[t]]) for t in range(T)])  # (T, 2H)
    pooled = outputs.mean(0, keepdim=True)  # the run pools by mean
    F.cross_entropy(model.output(pooled), torch.tensor([label])).backward()
    return [float(torch.cat([forward[t].grad, backward[t].grad]).norm()) for t in range(T)]


def test_classifier_gradient_norms_equal_a_hand_written_loop(
    client: TestClient, runs: dict[str, Path]
) -> None:
    text = "the film was very good ."
    body = _post(client, CLASSIFIER, "gradients", {"text": text})
    loaded = load_classifier(runs["sentiment"])
    assert (loaded.config.model.pooling, loaded.config.model.bidirectional) == ("mean", True)
    probabilities = predict_proba(loaded, [text])[0]
    label = int(probabilities.argmax())
    assert body["label"] == loaded.classes[label]
    assert body["tokens"] == text.split()
    assert body["norms"] == pytest.approx(_hand_bigru_norms(loaded, text, label), rel=1e-4)
    assert body["truncated"] is None


# -- every unit of the maps -----------------------------------------------------------------------
def test_inspect_pages_reach_every_unit(client: TestClient) -> None:
    whole = _post(client, LM, "inspect", {"text": "To be", "units": 10})
    assert (whole["first_unit"], whole["hidden_size"]) == (0, 10)
    pages = [_post(client, LM, "inspect", {"text": "To be", "units": 4, "first_unit": first})
             for first in (0, 4, 8)]  # fmt: skip
    for name, values in whole["layers"][1]["maps"].items():
        joined = [
            [v for page in pages for v in page["layers"][1]["maps"][name][t]] for t in range(5)
        ]
        assert joined == values  # units 0-3, 4-7 and 8-9 make up all 10
    assert [len(p["layers"][0]["maps"]["hidden"][0]) for p in pages] == [4, 4, 2]
    assert all(layer["hidden_size"] == 10 for layer in whole["layers"])


@pytest.mark.parametrize(
    ("first_unit", "status", "message"),
    [(10, 422, "first_unit must be below the 10 units"), (-1, 422, "greater than or equal to 0"),
     (2**40, 422, "less than or equal to 2147483648")],
)  # fmt: skip
def test_inspect_first_unit_is_checked(
    client: TestClient, first_unit: int, status: int, message: str
) -> None:
    response = client.post(
        f"/api/models/{LM}/inspect", json={"text": "ab", "first_unit": first_unit}
    )
    assert response.status_code == status
    assert message in json.dumps(response.json()["detail"])


# -- a classifier that cuts its input says so -----------------------------------------------------
def test_a_cut_text_is_reported(runs: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "sentiment-cut"
    shutil.copytree(runs["sentiment"], run)
    config = json.loads((run / "config.json").read_text())
    config["task_config"].update(max_tokens=3, keep="last")
    (run / "config.json").write_text(json.dumps(config))
    text = "the plot was a very good story"
    with TestClient(create_app([run])) as client:
        classified = _post(client, run.name, "classify", {"text": text})
        cut = {"kept": 3, "total": 7, "keep": "last"}
        assert classified["truncated"] == cut
        loaded = load_classifier(run)
        assert classified["probabilities"] == pytest.approx(
            predict_proba(loaded, ["very good story"])[0].tolist()
        )
        inspected = _post(client, run.name, "inspect", {"text": text, "units": 2})
        assert (inspected["tokens"], inspected["truncated"]) == (["very", "good", "story"], cut)
        gradients = _post(client, run.name, "gradients", {"text": text})
        assert (gradients["tokens"], gradients["truncated"]) == (["very", "good", "story"], cut)
        short = _post(client, run.name, "classify", {"text": "good story"})
        assert short["truncated"] is None
