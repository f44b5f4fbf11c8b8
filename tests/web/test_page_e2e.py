"""The demo page in a real headless Chromium against the real app and two tiny trained runs.

It generates text by server-sent events, classifies a sentence, draws the inside of the network
and shows client-side and server-side errors; a full-page screenshot goes to
artifacts/web-page.png at the repository root.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from e2e_helpers import chromium, live_server, train_charlm, train_sentiment

from rnnkit.web.app import create_app
from rnnkit.web.settings import ServeSettings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO_ROOT / "artifacts" / "web-page.png"
MAX_TOKENS = 300  # the server's max_generate_tokens, below the page's default of 1000
WAIT_MS = 30_000  # generous: the CI machine has 2 busy cores


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("served")
    runs = [train_charlm(root / "charlm-tiny"), train_sentiment(root / "sentiment-tiny")]
    app = create_app(runs, ServeSettings(max_generate_tokens=MAX_TOKENS))
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """The page, loaded; fails the test on any uncaught script error."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    script_errors: list[str] = []
    opened.on("pageerror", lambda error: script_errors.append(str(error)))
    opened.goto(base_url)
    yield opened
    context.close()
    assert script_errors == []


def part(page: Page, model_id: str, name: str) -> Locator:
    """The element data-testid=`name` inside the section of model `model_id`."""
    return page.locator(f'[data-model-id="{model_id}"] [data-testid="{name}"]')


@pytest.fixture
def expect(page: Page) -> Any:
    """Playwright's auto-waiting assertions (imported once `page` proved Playwright is there)."""
    from playwright.sync_api import expect

    return expect


def test_page_generates_classifies_and_inspects(
    page: Page, expect: Any, record_property: pytest.RecordProperty
) -> None:
    expect(page.get_by_test_id("page-status")).to_have_text("2 models loaded.", timeout=WAIT_MS)
    assert page.locator('[data-testid="model"]').count() == 2

    # generate: streamed text appears, then the done marker
    part(page, "charlm-tiny", "generate-prime").fill("ROMEO:")
    part(page, "charlm-tiny", "generate-length").fill("60")
    part(page, "charlm-tiny", "generate-seed").fill("3")
    part(page, "charlm-tiny", "generate-run").click()
    streamed = part(page, "charlm-tiny", "generate-output").locator(".streamed")
    expect(streamed).not_to_be_empty(timeout=WAIT_MS)
    done = part(page, "charlm-tiny", "generate-done")
    expect(done).to_contain_text("stopped: length", timeout=WAIT_MS)
    expect(done).to_contain_text("(60 tokens)")
    assert len(streamed.text_content() or "") == 60  # one character per token
    expect(part(page, "charlm-tiny", "generate-error")).to_be_hidden()

    # classify: one bar per class, probabilities summing to 1, the label marked
    part(page, "sentiment-tiny", "classify-text").fill("a really good story")
    part(page, "sentiment-tiny", "classify-run").click()
    bars = part(page, "sentiment-tiny", "classify-bar")
    expect(bars).to_have_count(2, timeout=WAIT_MS)
    probabilities = {
        bars.nth(i).get_attribute("data-class"): float(
            bars.nth(i).get_attribute("data-probability")
        )
        for i in range(2)
    }
    assert set(probabilities) == {"neg", "pos"}
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    chosen = max(probabilities, key=probabilities.__getitem__)
    expect(part(page, "sentiment-tiny", "classify-label")).to_have_text(f"label: {chosen}")
    predicted = part(page, "sentiment-tiny", "classify-bars").locator(".predicted")
    expect(predicted).to_have_attribute("data-class", chosen)
    width = predicted.locator(".bar-fill").evaluate("node => parseFloat(node.style.width)")
    assert width == pytest.approx(100 * probabilities[chosen], abs=0.01)

    # inspect: the LSTM's maps as a heatmap, units × tokens, with a 0 … 1 legend for a gate
    part(page, "charlm-tiny", "tab-inspect").click()
    expect(part(page, "charlm-tiny", "panel-inspect")).to_be_visible()
    expect(part(page, "charlm-tiny", "panel-generate")).to_be_hidden()
    text = "To be, or not to be"
    part(page, "charlm-tiny", "inspect-text").fill(text)
    part(page, "charlm-tiny", "inspect-units").fill("12")
    part(page, "charlm-tiny", "inspect-run").click()
    heatmap = part(page, "charlm-tiny", "inspect-heatmap")
    expect(heatmap).to_have_attribute("data-drawn", "true", timeout=WAIT_MS)
    assert heatmap.evaluate("c => [c.heatmap.rows, c.heatmap.cols]") == [12, len(text)]
    assert _distinct_colours(heatmap) > 20
    maps = part(page, "charlm-tiny", "inspect-map").locator("option")
    expect(maps).to_have_count(6)  # hidden, cell and the LSTM's four gate / candidate maps
    part(page, "charlm-tiny", "inspect-map").select_option("forget_gate")
    legend = part(page, "charlm-tiny", "inspect-legend")
    expect(legend).to_have_attribute("aria-label", "colour scale from 0 to 1: σ: 0 … 1")
    assert _distinct_colours(heatmap) > 20

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    record_property("screenshot", str(SCREENSHOT))
    print(f"screenshot: {SCREENSHOT}")
    assert SCREENSHOT.stat().st_size > 10_000


def test_page_reports_client_and_server_errors(page: Page, expect: Any) -> None:
    expect(page.get_by_test_id("page-status")).to_have_text("2 models loaded.", timeout=WAIT_MS)
    error = part(page, "sentiment-tiny", "classify-error")
    part(page, "sentiment-tiny", "classify-text").fill("   ")
    part(page, "sentiment-tiny", "classify-run").click()
    expect(error).to_have_text(re.compile("empty"))
    expect(part(page, "sentiment-tiny", "classify-text")).to_have_attribute("aria-invalid", "true")

    # the page took the server's limit from /openapi.json, so it refuses before asking
    length = part(page, "charlm-tiny", "generate-length")
    length.fill(str(MAX_TOKENS + 1))
    part(page, "charlm-tiny", "generate-run").click()
    generate_error = part(page, "charlm-tiny", "generate-error")
    expect(generate_error).to_contain_text(f"between 1 and {MAX_TOKENS}")

    # without the schema the page keeps its defaults; the server's 422 detail is then shown
    page.route("**/openapi.json", lambda route: route.fulfill(status=404, body="{}"))
    page.reload()
    expect(page.get_by_test_id("page-status")).to_have_text("2 models loaded.", timeout=WAIT_MS)
    length.fill(str(MAX_TOKENS + 1))
    part(page, "charlm-tiny", "generate-run").click()
    expect(generate_error).to_contain_text(str(MAX_TOKENS), timeout=WAIT_MS)
    expect(generate_error).to_contain_text("length")
    expect(part(page, "charlm-tiny", "generate-done")).to_be_hidden()
    expect(part(page, "charlm-tiny", "generate-run")).to_be_enabled()


def _distinct_colours(canvas: Locator) -> int:
    """How many different pixel colours a canvas holds (a blank one holds one)."""
    return canvas.evaluate(
        """c => {
            const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            for (let i = 0; i < data.length; i += 4) {
                seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
            }
            return seen.size;
        }"""
    )
