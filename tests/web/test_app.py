"""The web API: each endpoint equals the task's own Python call, and every bad request is a 4xx.

The runs are the tiny ones of conftest.py. `limited` serves them under small limits, so that
each limit can be crossed with a small request.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from rnnkit.models.decoding import SamplingConfig
from rnnkit.tasks.caption.captioner import caption_images, load_captioner
from rnnkit.tasks.charlm.generate import generate_text
from rnnkit.tasks.charlm.train import load_language_model
from rnnkit.tasks.classify.train import load_classifier, predict_proba
from rnnkit.tasks.condlm.train import generate_conditioned, load_condlm
from rnnkit.tasks.forecast.train import load_forecaster
from rnnkit.tasks.ner.tagger import load_tagger, tag_sentences
from rnnkit.tasks.ner.train import tokenize
from rnnkit.tasks.translate.translator import attention_of, load_translator, translate
from rnnkit.text.tags import entity_spans
from rnnkit.web.app import create_app
from rnnkit.web.settings import ServeSettings

pytestmark = pytest.mark.usefixtures("one_thread")

LIMITS = ServeSettings(
    max_text_chars=20, max_generate_tokens=10, max_beam=2, max_upload_bytes=2000,
    max_horizon=5, max_history_points=8, max_temperature=2.0, max_inspect_units=3,
    max_inspect_chars=12,
)  # fmt: skip


@pytest.fixture(scope="module")
def limited(app_runs: list[Path]) -> Iterator[TestClient]:
    with TestClient(create_app(app_runs, LIMITS)) as test_client:
        yield test_client


def events(text: str) -> list[tuple[str, dict]]:
    """(event, data) of each server-sent event of a stream's body."""
    found = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        found.append((lines["event"], json.loads(lines["data"])))
    return found


def png(size: tuple[int, int] = (24, 18), colour: tuple[int, int, int] = (200, 20, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


# -- models ---------------------------------------------------------------------------------------
def test_models_lists_every_run_with_its_capabilities(
    client: TestClient, runs: dict[str, Path]
) -> None:
    listed = {m["id"]: m for m in client.get("/api/models").json()["models"]}
    assert list(listed) == [run.name for run in runs.values()]
    capabilities = {model["task"]: model["capabilities"] for model in listed.values()}
    assert capabilities == {
        "charlm": ["generate", "inspect", "gradients"], "condlm": ["generate"],
        "sentiment": ["classify", "inspect", "gradients"], "ner": ["tag"],
        "translate": ["translate"], "caption": ["caption"], "forecast": ["forecast"],
        "music": ["compose"],
    }  # fmt: skip
    assert listed["charlm-lstm"]["info"]["cell"] == "lstm"
    assert listed["charlm-lstm"]["run"] == "charlm-lstm"
    assert listed["sentiment-gru"]["info"]["classes"] == ["bad", "good"]
    assert listed["condlm-run"]["info"]["conditions"] == ["bad", "good"]
    assert listed["ner-run"]["info"]["entity_types"] == ["LOC", "PER"]
    assert listed["translate-run"]["info"]["target_language"] == "de"
    assert listed["forecast-run"]["info"]["series"] == "load"


def test_runs_sharing_a_folder_name_get_suffixed_ids(runs: dict[str, Path], tmp_path: Path) -> None:
    twin = tmp_path / runs["charlm-rnn"].name
    shutil.copytree(runs["charlm-rnn"], twin)
    app = create_app([runs["charlm-rnn"], twin, twin])
    assert list(app.state.models) == ["charlm-rnn", "charlm-rnn-2", "charlm-rnn-3"]
    assert app.state.models["charlm-rnn-2"].run == "charlm-rnn"


# -- generation -----------------------------------------------------------------------------------
def _generated(run: Path, prime: str, length: int, seed: int, **sampling: float) -> str:
    loaded = load_language_model(run)
    config = SamplingConfig(**sampling)
    return "".join(generate_text(loaded.model, loaded.vocab, prime, length, config, seed=seed))


def test_generate_equals_generate_text_and_the_stream_equals_it(
    client: TestClient, runs: dict[str, Path]
) -> None:
    request = {"prime": "ROMEO:", "length": 30, "temperature": 0.7, "top_k": 5, "seed": 11}
    url = f"/api/models/{runs['charlm'].name}/generate"
    body = client.post(url, json=request).json()
    expected = _generated(runs["charlm"], "ROMEO:", 30, 11, temperature=0.7, top_k=5)
    assert body == {"text": expected, "tokens": 30, "stopped": "length"}
    with client.stream("GET", url + "/stream", params=request) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        streamed = events(response.read().decode("utf-8"))
    assert [name for name, _ in streamed] == ["token"] * 30 + ["done"]
    assert "".join(data["text"] for _, data in streamed[:-1]) == expected
    assert streamed[-1][1] == {"tokens": 30, "stopped": "length"}


def test_stream_reads_empty_query_values_as_defaults(
    client: TestClient, runs: dict[str, Path]
) -> None:
    url = f"/api/models/{runs['charlm'].name}/generate/stream"
    response = client.get(url + "?prime=&length=4&temperature=&top_k=&condition=&seed=3")
    assert [name for name, _ in events(response.text)] == ["token"] * 4 + ["done"]
    pieces = "".join(data.get("text", "") for _, data in events(response.text))
    assert pieces == _generated(runs["charlm"], "", 4, 3)


def test_concurrent_generations_equal_each_one_alone(
    client: TestClient, runs: dict[str, Path]
) -> None:
    url = f"/api/models/{runs['charlm'].name}/generate"
    requests = [{"prime": "To be" if k % 2 else "", "length": 40, "seed": k} for k in range(8)]
    alone = [client.post(url, json=request).json() for request in requests]
    with ThreadPoolExecutor(max_workers=4) as pool:  # max_generations_per_model: no 503
        together = list(pool.map(lambda request: client.post(url, json=request).json(), requests))
    assert together == alone
    assert len({body["text"] for body in alone}) == 8  # the seeds differ, so do the texts


def test_inspect_and_gradients_alongside_generation_change_nothing(
    client: TestClient, runs: dict[str, Path]
) -> None:
    url = f"/api/models/{runs['charlm'].name}"
    calls = [
        ("generate", {"prime": "ab", "length": 30, "seed": 5}),
        ("inspect", {"text": "To be, or not to be", "units": 4}),
        ("gradients", {"text": "that is the question"}),
    ] * 3
    alone = [client.post(f"{url}/{action}", json=body).json() for action, body in calls]
    with ThreadPoolExecutor(max_workers=9) as pool:
        together = list(
            pool.map(lambda call: client.post(f"{url}/{call[0]}", json=call[1]).json(), calls)
        )
    assert together == alone


def test_condlm_generates_for_its_condition_as_generate_conditioned(
    client: TestClient, runs: dict[str, Path]
) -> None:
    url = f"/api/models/{runs['condlm'].name}/generate"
    loaded = load_condlm(runs["condlm"])
    for seed in range(4):
        request = {"condition": "good", "length": 6, "temperature": 1.5, "seed": seed}
        body = client.post(url, json=request).json()
        [expected] = generate_conditioned(loaded, "good", temperature=1.5, max_length=6, seed=seed)
        assert body["text"] == expected
        assert body["tokens"] == len(expected.split())
        assert body["stopped"] == ("length" if body["tokens"] == 6 else "eos")
        streamed = events(client.get(url + "/stream", params=request).text)
        assert "".join(data.get("text", "") for _, data in streamed) == expected
        assert streamed[-1] == ("done", {"tokens": body["tokens"], "stopped": body["stopped"]})


def test_generation_stops_at_the_time_limit(runs: dict[str, Path]) -> None:
    app = create_app([runs["charlm-rnn"]], ServeSettings(generation_seconds=1e-9))
    with TestClient(app) as test_client:
        url = "/api/models/charlm-rnn/generate"
        body = test_client.post(url, json={"length": 50, "seed": 1}).json()
        assert body == {"text": "", "tokens": 0, "stopped": "time_limit"}
        streamed = events(test_client.get(url + "/stream", params={"length": 50}).text)
        assert streamed == [("done", {"tokens": 0, "stopped": "time_limit"})]


def test_an_error_during_the_stream_is_an_error_event(
    client: TestClient, runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = runs["charlm"].name
    adapter = client.app.state.models[name].adapter

    def failing(request: object) -> Iterator[str]:
        yield "a"
        raise RuntimeError("the model broke")

    monkeypatch.setattr(adapter, "pieces", failing)
    streamed = events(client.get(f"/api/models/{name}/generate/stream").text)
    assert streamed[0] == ("token", {"text": "a"})
    assert streamed[1][0] == "error"
    assert "the model broke" in streamed[1][1]["detail"]


# -- classify, tag, translate, caption, forecast --------------------------------------------------
def test_classify_equals_predict_proba(client: TestClient, runs: dict[str, Path]) -> None:
    loaded = load_classifier(runs["sentiment"])
    for text in ("a good film", "the plot was bad ."):
        body = client.post(f"/api/models/{runs['sentiment'].name}/classify",
                           json={"text": text}).json()  # fmt: skip
        expected = predict_proba(loaded, [text])[0]
        assert body["classes"] == ["bad", "good"]
        assert body["probabilities"] == pytest.approx(expected.tolist(), abs=1e-7)
        assert body["label"] == ["bad", "good"][int(expected[1] >= 0.5)]


def test_tag_equals_tag_sentences_with_entity_spans(
    client: TestClient, runs: dict[str, Path]
) -> None:
    text = "Yesterday, Harry Potter met Ron in New York."
    body = client.post(f"/api/models/{runs['ner'].name}/tag", json={"text": text}).json()
    tokens = tokenize(text)
    [tags] = tag_sentences(load_tagger(runs["ner"]), [tokens])
    assert body["tokens"] == tokens
    assert body["tags"] == tags
    spans = [(e["type"], e["start"], e["end"], e["text"]) for e in body["entities"]]
    assert spans == [(k, s, e, " ".join(tokens[s:e])) for k, s, e in entity_spans(tags)]


def test_translate_equals_the_translator_with_its_attention(
    client: TestClient, runs: dict[str, Path]
) -> None:
    text = "three one four unknownword"
    url = f"/api/models/{runs['translate'].name}/translate"
    body = client.post(url, json={"text": text, "beam": 2}).json()
    loaded = load_translator(runs["translate"])
    [best] = translate(loaded, [text], beam_size=2)
    assert body["text"] == best.text
    assert body["tokens"] == best.tokens
    assert body["source_tokens"] == ["three", "one", "four", "unknownword"]
    assert body["score"] == pytest.approx(best.score, abs=1e-5)
    attention = torch.tensor(body["attention"])  # (T, S)
    assert attention.shape == (len(best.tokens) + best.finished, 4)
    torch.testing.assert_close(attention, attention_of(loaded, best), atol=1e-6, rtol=0)


def test_caption_of_an_upload_equals_caption_images(
    client: TestClient, runs: dict[str, Path]
) -> None:
    image = png()
    url = f"/api/models/{runs['caption'].name}/caption"
    body = client.post(url, files={"image": ("red.png", image, "image/png")}, data={"beam": "2"})
    expected = caption_images(load_captioner(runs["caption"]), [image], beam_size=2)[0]
    assert body.json() == {"caption": expected}


def test_forecast_of_the_runs_series_and_of_a_history(
    client: TestClient, runs: dict[str, Path]
) -> None:
    loaded = load_forecaster(runs["forecast"])
    url = f"/api/models/{runs['forecast'].name}/forecast"
    body = client.post(url, json={"horizon": 7}).json()
    series = torch.tensor(loaded.series.values, dtype=torch.float32)  # (N, 1)
    with torch.no_grad():
        expected = loaded.model.rollout(series, 7)[:, 0]
    assert body["series"] == "load"
    assert body["history"] == pytest.approx(series[:, 0].tolist())
    assert body["forecast"] == pytest.approx(expected.tolist(), abs=1e-6)
    history = [10.0, 12.5, 11.0, 9.0]
    given = client.post(url, json={"horizon": 3, "history": history}).json()
    with torch.no_grad():
        expected = loaded.model.rollout(torch.tensor(history).unsqueeze(-1), 3)[:, 0]
    assert given["history"] == history
    assert given["forecast"] == pytest.approx(expected.tolist(), abs=1e-6)


def test_unknown_characters_read_as_unk(client: TestClient, runs: dict[str, Path]) -> None:
    url = f"/api/models/{runs['charlm'].name}/generate"
    body = client.post(url, json={"prime": "☃ ❄", "length": 3, "seed": 0}).json()
    assert body["tokens"] == 3


# -- bad requests ---------------------------------------------------------------------------------
LM, CLASSIFIER, CONDLM = "charlm-lstm", "sentiment-gru", "condlm-run"
BAD_JSON = [
    (LM, "generate", {"prime": "x" * 21, "length": 5}, 422, "at most 20 characters"),
    (LM, "generate", {"length": 11}, 422, "less than or equal to 10"),
    (LM, "generate", {"length": 0}, 422, "greater than or equal to 1"),
    (LM, "generate", {"temperature": 2.5, "length": 5}, 422, "less than or equal to 2.0"),
    (LM, "generate", {"temperature": -0.1, "length": 5}, 422, "greater than or equal to 0"),
    (LM, "generate", {"top_k": 0, "length": 5}, 422, "greater than or equal to 1"),
    (LM, "generate", {"seed": -1, "length": 5}, 422, "greater than or equal to 0"),
    (LM, "generate", {"condition": "good", "length": 5}, 422, "takes no condition"),
    (LM, "generate", {"lenght": 5}, 422, "Extra inputs are not permitted"),
    (CONDLM, "generate", {"condition": "grand", "length": 5}, 422, "['bad', 'good'], got 'grand'"),
    (CONDLM, "generate", {"length": 5}, 422, "one of ['bad', 'good'], got None"),
    (CONDLM, "generate", {"condition": "good", "prime": "a", "length": 5}, 422, "send no prime"),
    (CLASSIFIER, "classify", {"text": "x" * 21}, 422, "at most 20 characters"),
    (CLASSIFIER, "classify", {"text": ""}, 422, "at least 1 character"),
    (CLASSIFIER, "classify", {"text": "   "}, 422, "no token"),
    (CLASSIFIER, "classify", {}, 422, "Field required"),
    ("ner-run", "tag", {"text": "  "}, 422, "no token"),
    ("translate-run", "translate", {"text": "one", "beam": 3}, 422, "less than or equal to 2"),
    ("translate-run", "translate", {"text": "one", "beam": 0}, 422, "greater than or equal to 1"),
    ("translate-run", "translate", {"text": "  ", "beam": 1}, 422, "holds no word"),
    ("forecast-run", "forecast", {"horizon": 6}, 422, "less than or equal to 5"),
    ("forecast-run", "forecast", {"horizon": 0}, 422, "greater than or equal to 1"),
    ("forecast-run", "forecast", {"history": [1.0] * 9}, 422, "at most 8 items"),
    ("forecast-run", "forecast", {"history": []}, 422, "at least 1 item"),
    (LM, "inspect", {"text": "ab", "units": 4}, 422, "less than or equal to 3"),
    (LM, "inspect", {"text": "x" * 13}, 422, "at most 12 characters"),
    (CLASSIFIER, "inspect", {"text": "x" * 13}, 422, "at most 12 characters"),
    (LM, "gradients", {"text": "a"}, 422, "at least 2 tokens"),
    ("nobody", "generate", {}, 404, "no model 'nobody'"),
    (CLASSIFIER, "generate", {}, 400, "it offers: classify, inspect, gradients"),
    (CLASSIFIER, "translate", {"text": "good"}, 400, "cannot translate"),
    ("ner-run", "inspect", {"text": "Ron"}, 400, "it offers: tag"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "action", "body", "status", "message"), BAD_JSON)
def test_bad_requests_are_4xx_json_with_a_clear_detail(
    limited: TestClient, model: str, action: str, body: dict, status: int, message: str
) -> None:
    response = limited.post(f"/api/models/{model}/{action}", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert message in json.dumps(response.json()["detail"], ensure_ascii=False)


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b'{"text": "good', "application/json", "JSON decode error"),
        (b'{"text": "good"}', "text/plain", "valid dictionary"),
        (b'{"history": [1.0, NaN]}', "application/json", "finite number"),
    ],
)
def test_invalid_json_and_wrong_content_type_are_422(
    limited: TestClient, content: bytes, content_type: str, message: str
) -> None:
    action = "forecast-run/forecast" if b"history" in content else "sentiment-gru/classify"
    response = limited.post(
        f"/api/models/{action}", content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 422
    assert message in json.dumps(response.json()["detail"])


def test_stream_validation_fails_before_the_stream_starts(limited: TestClient) -> None:
    for query, status in (({"length": 11}, 422), ({"length": 5, "condition": "x"}, 422), ({}, 404)):
        model = "nobody" if status == 404 else LM
        response = limited.get(f"/api/models/{model}/generate/stream", params=query)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("upload", "data", "status", "message"),
    [
        (("notes.txt", b"plain text", "text/plain"), {"beam": "1"}, 415, "send an image"),
        (("fake.png", b"not an image at all", "image/png"), {"beam": "1"}, 415, "not an image"),
        (("big.png", b"\x89PNG" + b"\0" * 5000, "image/png"), {"beam": "1"}, 413, "over 2000"),
        (("red.png", png(), "image/png"), {"beam": "3"}, 422, "less than or equal to 2"),
        (("red.png", png(), "image/png"), {"beam": "wide"}, 422, "valid integer"),
    ],
)
def test_bad_uploads(
    limited: TestClient, upload: tuple, data: dict, status: int, message: str
) -> None:
    response = limited.post("/api/models/caption-run/caption", files={"image": upload}, data=data)
    assert response.status_code == status, response.text
    assert message in json.dumps(response.json()["detail"])


def test_bodies_over_the_cap_are_413_before_they_are_read(limited: TestClient) -> None:
    cap = LIMITS.max_upload_bytes + 65_536
    big = b"\x89PNG" + b"\0" * cap
    response = limited.post("/api/models/caption-run/caption",
                            files={"image": ("big.png", big, "image/png")})  # fmt: skip
    assert response.status_code == 413
    assert f"over {cap} bytes" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield b'{"text": "'
        yield b"x" * cap
        yield b'"}'

    response = limited.post("/api/models/sentiment-gru/classify", content=chunks(),
                            headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413
    small = limited.post("/api/models/sentiment-gru/classify", content=iter([b'{"text": "good"}']),
                         headers={"content-type": "application/json"})  # fmt: skip
    assert small.status_code == 200


# -- schema and page ------------------------------------------------------------------------------
def test_openapi_states_the_limits_in_force(limited: TestClient) -> None:
    schema = limited.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["GenerateRequest"]["properties"]["length"]["maximum"] == 10
    assert components["GenerateRequest"]["properties"]["prime"]["maxLength"] == 20
    assert components["TextRequest"]["properties"]["text"]["maxLength"] == 20
    assert components["TranslateRequest"]["properties"]["beam"]["maximum"] == 2
    history = components["ForecastRequest"]["properties"]["history"]["anyOf"][0]
    assert history["maxItems"] == 8
    stream = schema["paths"]["/api/models/{model_id}/generate/stream"]["get"]["parameters"]
    length = next(p for p in stream if p["name"] == "length")
    assert length["schema"]["maximum"] == 10
    assert "/api/models/{model_id}/inspect" in schema["paths"]


def test_the_page_and_its_files_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
