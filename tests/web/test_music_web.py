"""A music run on the web API: POST …/compose is the task's own sampling, its MIDI reads back.

The run is a tiny one trained here on 8 real chorales (music_helpers.py). The roll answered is
`LoadedMusicModel.generate`'s for the same frames, τ and seed; the MIDI file is the roll's
(`write_midi`), read back with music21's MIDI parser; the model-info panel carries the served
checkpoint's validation NLL per frame; every bad request is a 4xx with a message.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from music_helpers import train_music

import rnnkit
from rnnkit.datasets.chorales import read_midi_roll, roll_notes
from rnnkit.training.runs import read_metrics
from rnnkit.web.app import create_app
from rnnkit.web.limits import JSON_OVERHEAD
from rnnkit.web.pianoroll import midi_base64
from rnnkit.web.settings import ServeSettings

pytestmark = pytest.mark.usefixtures("one_thread")

MAX_FRAMES = 40  # the server's max_music_frames here
LIMITS = ServeSettings(
    max_music_frames=MAX_FRAMES, max_temperature=2.0, max_generations_per_model=1
)
COMPOSE = "/api/models/music-tiny/compose"


@pytest.fixture(scope="module")
def music_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_music(tmp_path_factory.mktemp("served") / "music-tiny")


@pytest.fixture(scope="module")
def client(music_run: Path) -> Iterator[TestClient]:
    with TestClient(create_app([music_run], LIMITS)) as test_client:
        yield test_client


def compose(client: TestClient, **body: object) -> dict:
    response = client.post(COMPOSE, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_music_run_offers_compose_and_its_validation_nll(
    client: TestClient, music_run: Path
) -> None:
    [model] = client.get("/api/models").json()["models"]
    assert (model["id"], model["task"]) == ("music-tiny", "music")
    assert model["capabilities"] == ["compose"]
    best = min(row["val_loss"] for row in read_metrics(music_run) if row.get("kind") == "eval")
    assert model["info"] == {
        "cell": "lstm", "hidden_size": 8, "num_layers": 1, "pitches": 88, "frame": "quarter note",
        "transpose": "to C major / C minor", "valid_nll_per_frame": round(best, 3),
    }  # fmt: skip


@pytest.mark.parametrize(("frames", "temperature"), [(1, 1.0), (17, 1.0), (MAX_FRAMES, 0.7)])
def test_the_roll_is_the_tasks_own_sample(
    client: TestClient, music_run: Path, frames: int, temperature: float
) -> None:
    answer = compose(client, frames=frames, temperature=temperature, seed=11)
    roll = np.array(answer["roll"])
    assert roll.shape == (frames, 88)
    assert set(np.unique(roll)) <= {0, 1}
    expected = rnnkit.load(music_run).generate(frames, temperature=temperature, seed=11)
    assert np.array_equal(roll, expected.astype(int))
    assert answer["frames"] == frames
    assert answer["notes"] == len(roll_notes(expected))
    assert answer["seed"] == 11
    assert (answer["step_quarters"], answer["lowest_pitch"]) == (1.0, 21)
    pitches = answer["pitches"]
    assert (len(pitches), pitches[0], pitches[39], pitches[40], pitches[-1]) == (
        88, "A0", "C4", "C#4", "C8",
    )  # fmt: skip
    assert compose(client, frames=frames, temperature=temperature, seed=11) == answer


def test_the_midi_file_holds_the_roll(client: TestClient, tmp_path: Path) -> None:
    answer = compose(client, frames=24, seed=5)
    data = base64.b64decode(answer["midi"], validate=True)
    assert data[:4] == b"MThd"
    assert data[14:18] == b"MTrk"
    path = tmp_path / "roll.mid"
    path.write_bytes(data)
    roll = np.array(answer["roll"], dtype=bool)
    assert roll.any()  # the tiny model plays many keys at τ = 1
    back = read_midi_roll(path, answer["step_quarters"])  # music21's MIDI parser
    assert np.array_equal(back, roll[: len(back)])  # the silent frames at the end leave no event
    assert not roll[len(back) :].any()
    assert len(roll_notes(back)) == answer["notes"]


def test_a_silent_roll_is_a_midi_file_without_notes() -> None:
    data = base64.b64decode(midi_base64(np.zeros((4, 88), dtype=bool), 1.0))
    assert data[:4] == b"MThd"
    track = data[22:]  # after MThd (14 bytes) and MTrk with its length (8)
    assert int.from_bytes(data[18:22], "big") == len(track) == 14  # tempo, program, end
    assert track.endswith(b"\x00\xff\x2f\x00")


def test_greedy_and_random_seeds(client: TestClient) -> None:
    greedy = compose(client, frames=12, temperature=0, seed=1)
    assert greedy["roll"] == compose(client, frames=12, temperature=0, seed=2)["roll"]
    assert greedy["roll"] == compose(client, frames=12, temperature=1e-40, seed=3)["roll"]  # τ → 0
    first, second = compose(client, frames=12), compose(client, frames=12)
    assert first["seed"] != second["seed"]  # each request draws its own
    assert 0 <= first["seed"] < 2**53  # a JavaScript number holds it exactly
    assert compose(client, frames=12, seed=first["seed"])["roll"] == first["roll"]
    assert len(compose(client)["roll"]) == MAX_FRAMES  # the default 64, capped at the limit


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"frames": 0}, "frames", "greater than or equal to 1"),
        ({"frames": MAX_FRAMES + 1}, "frames", f"less than or equal to {MAX_FRAMES}"),
        ({"frames": 2.5}, "frames", "valid integer"),
        ({"frames": "many"}, "frames", "valid integer"),
        ({"temperature": -0.1}, "temperature", "greater than or equal to 0"),
        ({"temperature": 2.5}, "temperature", "less than or equal to 2"),
        ({"temperature": "hot"}, "temperature", "valid number"),
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"seed": 2**63}, "seed", "less than or equal to"),
        ({"prime": "ROMEO"}, "prime", "Extra inputs are not permitted"),
    ],
)
def test_bad_fields_are_422_naming_the_field(
    client: TestClient, body: dict, field: str, message: str
) -> None:
    response = client.post(COMPOSE, json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert message in error["msg"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "message"),
    [
        (b'{"temperature": NaN}', "application/json", 422, "finite number"),
        (b"[64]", "application/json", 422, "valid dictionary"),
        (b'"frames"', "application/json", 422, "valid dictionary"),
        (b'{"frames": 8', "application/json", 422, "JSON decode error"),
        (b"frames=8", "application/x-www-form-urlencoded", 422, "not read as JSON"),
        (b'{"frames": "\xff"}', "application/json", 400, "not UTF-8"),
        (b"{" + b" " * JSON_OVERHEAD + b"}", "application/json", 413, "over 4096 bytes"),
    ],
)
def test_bodies_that_are_not_a_compose_request_are_4xx(
    client: TestClient, content: bytes, content_type: str, status: int, message: str
) -> None:
    response = client.post(COMPOSE, content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert message in json.dumps(response.json()["detail"])


def test_other_capabilities_unknown_models_and_a_busy_model(client: TestClient) -> None:
    refused = client.post("/api/models/music-tiny/generate", json={"length": 5})
    assert refused.status_code == 400
    assert refused.json()["detail"].endswith("(music) cannot generate; it offers: compose")
    missing = client.post("/api/models/nothing/compose", json={})
    assert missing.status_code == 404
    assert "the models served are: music-tiny" in missing.json()["detail"]
    with client.app.state.generations.take("music-tiny"):  # its one slot (LIMITS) is held
        busy = client.post(COMPOSE, json={"frames": 4})
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert client.post(COMPOSE, json={"frames": 4}).status_code == 200  # the slot came back


def test_the_schema_states_the_limits_in_force(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    request = schema["components"]["schemas"]["ComposeRequest"]["properties"]
    assert request["frames"]["maximum"] == MAX_FRAMES
    assert request["frames"]["default"] == MAX_FRAMES  # 64, capped
    assert request["temperature"]["maximum"] == 2.0
    responses = schema["paths"]["/api/models/{model_id}/compose"]["post"]["responses"]
    assert {"200", "400", "404", "413", "422", "503"} <= set(responses)
