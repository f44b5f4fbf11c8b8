"""The demo page's Compose music tab in headless Chromium, against a tiny music run.

It draws the piano roll the API answers on a canvas (a bar per note, key names on the axis),
offers the MIDI file as a download that holds the API's bytes, shows the run's validation NLL
per frame in the model-info panel, and refuses a length over the server's limit before asking.
Browser and server come from e2e_helpers.py (Debian's chromium under Playwright; a missing one
fails the test, with how to install it). A screenshot of the tab goes to the temporary folder.
"""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from e2e_helpers import chromium, live_server
from music_helpers import train_music

from rnnkit.web.app import create_app
from rnnkit.web.settings import ServeSettings

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.slow

MAX_FRAMES = 96  # the server's max_music_frames
WAIT_MS = 30_000  # generous: the machine has 2 busy cores
NOTE_BAR = (0x3A, 0x6E, 0xA5)  # the fill of a note on the page's piano roll


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    run = train_music(tmp_path_factory.mktemp("served") / "music-tiny")
    with live_server(create_app([run], ServeSettings(max_music_frames=MAX_FRAMES))) as url:
        yield url


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[Page]:
    """The page, loaded; fails the test on any uncaught script error."""
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1200, "height": 900}, accept_downloads=True
        )
        opened = context.new_page()
        script_errors: list[str] = []
        opened.on("pageerror", lambda error: script_errors.append(str(error)))
        opened.goto(base_url)
        yield opened
        context.close()
        assert script_errors == []


def part(page: Page, name: str) -> Locator:
    return page.locator(f'[data-model-id="music-tiny"] [data-testid="{name}"]')


def pixels_of(canvas: Locator, colour: tuple[int, int, int]) -> int:
    """How many pixels of the canvas have exactly `colour`."""
    return canvas.evaluate(
        """(c, [r, g, b]) => {
            const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let count = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (data[i] === r && data[i + 1] === g && data[i + 2] === b) count += 1;
            }
            return count;
        }""",
        list(colour),
    )


def test_the_page_draws_the_piano_roll_and_offers_its_midi(page: Page, base_url: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id("page-status")).to_have_text("1 model loaded.", timeout=WAIT_MS)
    expect(part(page, "model-info")).to_contain_text("valid nll per frame")
    expect(part(page, "tab-compose")).to_have_attribute("aria-selected", "true")
    roll, download = part(page, "compose-roll"), part(page, "compose-download")
    expect(download).to_be_hidden()

    part(page, "compose-frames").fill("32")
    part(page, "compose-seed").fill("7")
    part(page, "compose-run").click()
    expect(roll).to_have_attribute("data-drawn", "true", timeout=WAIT_MS)
    answer = page.request.post(
        f"{base_url}/api/models/music-tiny/compose", data={"frames": 32, "seed": 7}
    ).json()
    assert roll.get_attribute("data-frames") == "32"
    assert roll.get_attribute("data-notes") == str(answer["notes"])
    expect(roll).to_have_attribute(
        "aria-label", re.compile(rf"^piano roll: {answer['notes']} notes")
    )
    assert pixels_of(roll, NOTE_BAR) > 100  # the notes are drawn
    expect(part(page, "compose-summary")).to_contain_text(
        f"{answer['notes']} notes in 32 frames (8 bars of 4/4), τ = 1, seed 7"
    )

    roll.hover(position={"x": 200, "y": 40})  # the readout names a frame and a key
    expect(part(page, "compose-readout")).to_contain_text(re.compile(r"frame \d+ \(bar \d+\) · "))

    expect(download).to_be_visible()
    expect(download).to_have_attribute("download", "music-tiny-seed7.mid")
    with page.expect_download() as started:
        download.click()
    saved = Path(started.value.path())
    assert saved.read_bytes() == base64.b64decode(answer["midi"])
    assert saved.read_bytes()[:4] == b"MThd"

    folder = Path(tempfile.gettempdir()) / "rnnkit-e2e-screenshots"
    folder.mkdir(exist_ok=True)
    shot = folder / "compose-music.png"
    part(page, "panel-compose").screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 5_000


def test_the_page_refuses_a_length_over_the_servers_limit(page: Page, base_url: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_test_id("page-status")).to_have_text("1 model loaded.", timeout=WAIT_MS)
    frames = part(page, "compose-frames")
    frames.fill(str(MAX_FRAMES + 1))  # the limit came from /openapi.json
    part(page, "compose-run").click()
    expect(part(page, "compose-error")).to_contain_text(f"between 1 and {MAX_FRAMES}")
    expect(frames).to_have_attribute("aria-invalid", "true")
    frames.fill("8")
    part(page, "compose-temperature").fill("0")
    part(page, "compose-run").click()
    expect(part(page, "compose-summary")).to_contain_text("in 8 frames", timeout=WAIT_MS)
    expect(part(page, "compose-error")).to_be_hidden()
    greedy = page.request.post(
        f"{base_url}/api/models/music-tiny/compose", data={"frames": 8, "temperature": 0}
    ).json()  # the tiny run's likeliest keys: few or none (a silent roll still draws)
    expect(part(page, "compose-roll")).to_have_attribute("data-notes", str(greedy["notes"]))
    expect(part(page, "compose-roll")).to_have_attribute("data-frames", "8")
