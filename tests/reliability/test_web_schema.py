"""The web API under schemathesis: no 500, every answer's status, type and body as documented.

The checks are those of bench/reliability/web_schema.py (imported from there), with a small
budget: EXAMPLES schema-valid and EXAMPLES invalid requests per operation from one fixed seed,
sent in process to the app serving the tiny runs of every task (`runs`,
tests/reliability/conftest.py) under small limits (LIMITS), so every example runs the models
quickly. The regression tests below pin each defect the checks found:

    a task's 422 {"detail": "<message>"} was not in the schema (it named only pydantic's list)
    a forecast from values past float32's range answered null where the schema says number
    a default above a lowered limit (length 200, max_generate_tokens 50) refused {} with 422
    a temperature like 1e-40 overflowed logits / τ: NaN probabilities and a 500
    a stream left after 20 events (as schemathesis reads them) switched autograd off in the
    thread that garbage-collected it, here the test's own: later training failed
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import GenerationMode

from bench.reliability import web_schema
from rnnkit.web.app import api, create_app
from rnnkit.web.settings import ServeSettings

EXAMPLES = 25  # per operation and generation mode
LIMITS = ServeSettings(
    max_text_chars=120, max_generate_tokens=50, max_beam=3, max_horizon=20,
    max_history_points=100, max_inspect_units=8,
)  # fmt: skip
OPERATIONS = [(method, route.path) for route in api.routes for method in sorted(route.methods)]
GENERATE = "/api/models/{model_id}/generate"


@pytest.fixture(scope="module")
def app(runs: dict[str, Path]) -> FastAPI:
    return create_app(list(runs.values()), LIMITS)


@pytest.fixture(scope="module")
def schema(app: FastAPI) -> Any:
    return web_schema.served_schema(app)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_the_schema_lists_every_route_of_the_api(schema: Any) -> None:
    listed = {(found.ok().method.upper(), found.ok().path) for found in schema.get_all_operations()}
    assert listed == set(OPERATIONS)
    assert len(OPERATIONS) == 12  # with GET …/curves and POST …/compose


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
@pytest.mark.parametrize("mode", web_schema.MODES, ids=lambda mode: mode.value)
def test_every_example_answers_as_the_schema_says(
    schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    result = web_schema.check_operation(schema[path][method], mode, max_examples=EXAMPLES)
    assert result.failures == {}
    gc.collect()  # finalises the streams schemathesis left after 20 events
    assert torch.is_grad_enabled()  # was switched off by them in this thread
    if path != "/api/models":  # it has no input: one example in each mode
        assert result.examples >= EXAMPLES // 2  # the budget was spent on real requests
    if mode is GenerationMode.POSITIVE and not path.endswith("caption"):  # no image is drawn
        assert any(200 <= status < 300 for status in result.statuses), result.statuses


def test_the_stream_check_refuses_a_stream_without_its_end() -> None:
    class Cut:  # what schemathesis hands the check: headers of lists, the body as text
        status_code, headers, stream_cut_short = 200, {"content-type": ["text/event-stream"]}, False
        text = 'event: token\ndata: {"text": "a"}\n\n'

    with pytest.raises(AssertionError, match="ends with"):
        web_schema.stream_events(Cut())
    Cut.text += 'event: done\ndata: {"tokens": 1, "stopped": "length"}\n\n'
    web_schema.stream_events(Cut())


# -- regressions ----------------------------------------------------------------------------------
def test_a_task_error_422_fits_the_documented_422(schema: Any, client: TestClient) -> None:
    response = client.post("/api/models/condlm-run/generate", json={"length": 5})
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    schema[GENERATE]["POST"].validate_response(response)  # raised before: detail not an array
    listed = client.post("/api/models/charlm-lstm/generate", json={"length": 0})
    schema[GENERATE]["POST"].validate_response(listed)


def test_a_forecast_never_answers_null(schema: Any, client: TestClient) -> None:
    url = "/api/models/forecast-run/forecast"
    too_big = client.post(url, json={"history": [1e308, 1.0], "horizon": 3})
    assert too_big.status_code == 422  # was 200 with "history": [null, 1.0]
    assert too_big.json()["detail"][0]["loc"] == ["body", "history", 0]
    for history in ([3.4e38, -3.4e38, 1.0], [1e30] * 4, [-2.5, 1e-40, 7.0]):
        response = client.post(url, json={"history": history, "horizon": 3})
        assert response.status_code in (200, 422), response.text
        if response.status_code == 200:
            body = response.json()
            assert None not in body["history"] + body["forecast"]
        schema["/api/models/{model_id}/forecast"]["POST"].validate_response(response)


def test_defaults_above_lowered_limits_read_as_the_limits(client: TestClient) -> None:
    generated = client.post("/api/models/charlm-lstm/generate", json={"seed": 1})
    assert generated.status_code == 200  # was 422: the default length 200 > 50
    assert generated.json()["tokens"] == LIMITS.max_generate_tokens
    stream = client.get("/api/models/charlm-lstm/generate/stream", params={"seed": 1})
    assert stream.status_code == 200
    assert '"tokens": 50' in stream.text
    inspected = client.post("/api/models/charlm-lstm/inspect", json={"text": "abc"})
    assert len(inspected.json()["layers"][0]["maps"]["hidden"][0]) == LIMITS.max_inspect_units
    assert client.post("/api/models/translate-run/translate", json={"text": "one"}).is_success
    forecast = client.post("/api/models/forecast-run/forecast", json={}).json()
    assert len(forecast["forecast"]) == LIMITS.max_horizon


def test_the_schema_states_the_capped_defaults(client: TestClient) -> None:
    openapi = client.get("/openapi.json").json()
    components = openapi["components"]["schemas"]
    assert components["GenerateRequest"]["properties"]["length"]["default"] == 50
    assert components["TranslateRequest"]["properties"]["beam"]["default"] == 3
    assert components["InspectRequest"]["properties"]["units"]["default"] == 8
    assert components["ForecastRequest"]["properties"]["horizon"]["default"] == 20
    form = openapi["paths"]["/api/models/{model_id}/caption"]["post"]["requestBody"]
    reference = form["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert components[reference]["properties"]["beam"]["anyOf"][0]["maximum"] == 3
    stream = openapi["paths"]["/api/models/{model_id}/generate/stream"]["get"]["parameters"]
    assert next(p for p in stream if p["name"] == "length")["schema"]["default"] == 50


@pytest.mark.parametrize("temperature", [5e-324, 1e-40, 1e-31, 1e-20])
def test_a_vanishing_temperature_samples_greedily(client: TestClient, temperature: float) -> None:
    for model in ("charlm-lstm", "condlm-run"):
        body = {"length": 20, "seed": 3, **({"condition": "good"} if "condlm" in model else {})}
        url = f"/api/models/{model}/generate"
        tiny = client.post(url, json={**body, "temperature": temperature})
        assert tiny.status_code == 200, tiny.text  # was a 500: NaN probabilities
        greedy = client.post(url, json={**body, "temperature": 0.0, "seed": 4})
        assert tiny.json() == greedy.json()
