"""The demo page in a real headless Chromium against the real app and three tiny trained runs.

It generates text by server-sent events (sampled, top-p and beam), classifies a sentence with
its unknown tokens marked and a cut input noted, draws the inside of the network page by page
with colour scales fitted to each map, the gradients of a classifier, each run's training
curves, two runs side by side, /docs with no network, and shows client-side and server-side
errors. A full-page screenshot goes to artifacts/web-page.png at the repository root, and one
per view to the session's temporary folder (printed, to be looked at).
"""

from __future__ import annotations

import re
import tempfile
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
MAX_CHARS = 400  # the server's max_text_chars: a longer text box is cut, with a note
CUT_AT = 6  # sentiment-tiny reads the first 6 tokens of a text (its max_tokens)
WAIT_MS = 30_000  # generous: the CI machine has 2 busy cores
LOADED = "3 models loaded."


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("served")
    runs = [
        train_charlm(root / "charlm-tiny"),
        train_charlm(root / "charlm-other", steps=4, hidden_size=12),
        train_sentiment(root / "sentiment-tiny", max_tokens=CUT_AT),
    ]
    settings = ServeSettings(max_generate_tokens=MAX_TOKENS, max_text_chars=MAX_CHARS)
    with live_server(create_app(runs, settings)) as url:
        yield url


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where each view's screenshot goes (printed by `snap`): a fixed temporary folder, so that
    the images outlive pytest's rotation of its own folders and can be looked at."""
    folder = Path(tempfile.gettempdir()) / "rnnkit-e2e-screenshots"
    folder.mkdir(exist_ok=True)
    return folder


def snap(page: Page, target: Locator | None, path: Path) -> None:
    """A screenshot of `target` (the whole page if None), to be looked at."""
    if target is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    print(f"screenshot: {path}")
    assert path.stat().st_size > 5_000


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
    expect(page.get_by_test_id("page-status")).to_have_text(LOADED, timeout=WAIT_MS)
    assert page.locator('[data-testid="model"]').count() == 3

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

    # inspect: the LSTM's maps as a heatmap, units × tokens, with a legend fitted to the map
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
    expect(legend).to_have_attribute("aria-label", re.compile("σ gate, this map's range$"))
    assert _distinct_colours(heatmap) > 20

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    record_property("screenshot", str(SCREENSHOT))
    print(f"screenshot: {SCREENSHOT}")
    assert SCREENSHOT.stat().st_size > 10_000


def test_page_reports_client_and_server_errors(page: Page, expect: Any) -> None:
    expect(page.get_by_test_id("page-status")).to_have_text(LOADED, timeout=WAIT_MS)
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
    expect(page.get_by_test_id("page-status")).to_have_text(LOADED, timeout=WAIT_MS)
    length.fill(str(MAX_TOKENS + 1))
    part(page, "charlm-tiny", "generate-run").click()
    expect(generate_error).to_contain_text(str(MAX_TOKENS), timeout=WAIT_MS)
    expect(generate_error).to_contain_text("length")
    expect(part(page, "charlm-tiny", "generate-done")).to_be_hidden()
    expect(part(page, "charlm-tiny", "generate-run")).to_be_enabled()


def _inspect(page: Page, base_url: str, body: dict) -> dict:
    response = page.request.post(f"{base_url}/api/models/charlm-tiny/inspect", data=body)
    assert response.ok
    return response.json()


def test_heatmaps_reach_every_unit_with_a_scale_fitted_to_each_map(
    page: Page, expect: Any, base_url: str, shots: Path
) -> None:
    expect(page.get_by_test_id("page-status")).to_have_text(LOADED, timeout=WAIT_MS)
    part(page, "charlm-tiny", "tab-inspect").click()
    text = "To be, or not"
    part(page, "charlm-tiny", "inspect-text").fill(text)
    part(page, "charlm-tiny", "inspect-units").fill("6")
    part(page, "charlm-tiny", "inspect-run").click()
    note, heatmap = (
        part(page, "charlm-tiny", "inspect-page"),
        part(page, "charlm-tiny", "inspect-heatmap"),
    )
    expect(note).to_have_text("units 0–5 of 16", timeout=WAIT_MS)
    expect(part(page, "charlm-tiny", "inspect-prev")).to_be_disabled()
    part(page, "charlm-tiny", "inspect-next").click()
    expect(note).to_have_text("units 6–11 of 16", timeout=WAIT_MS)
    part(page, "charlm-tiny", "inspect-next").click()
    expect(note).to_have_text("units 12–15 of 16", timeout=WAIT_MS)  # the last of H = 16
    expect(part(page, "charlm-tiny", "inspect-next")).to_be_disabled()
    assert heatmap.evaluate("c => [c.heatmap.rows, c.heatmap.cols]") == [4, len(text)]

    # the hidden map: symmetric around 0 at this page's largest |h|
    page_of = _inspect(page, base_url, {"text": text, "units": 6, "first_unit": 12})
    legend = part(page, "charlm-tiny", "inspect-legend")
    hidden = [v for row in page_of["layers"][0]["maps"]["hidden"] for v in row]
    bound = max(abs(v) for v in hidden)
    assert float(legend.get_attribute("data-max") or "nan") == pytest.approx(bound)
    assert float(legend.get_attribute("data-min") or "nan") == pytest.approx(-bound)
    assert _distinct_colours(heatmap) > 20
    snap(page, part(page, "charlm-tiny", "panel-inspect"), shots / "inspect-hidden-page3.png")

    # a gate: its own min … max
    part(page, "charlm-tiny", "inspect-map").select_option("input_gate")
    gate = [v for row in page_of["layers"][0]["maps"]["input_gate"] for v in row]
    assert float(legend.get_attribute("data-min") or "nan") == pytest.approx(min(gate))
    assert float(legend.get_attribute("data-max") or "nan") == pytest.approx(max(gate))
    snap(page, part(page, "charlm-tiny", "panel-inspect"), shots / "inspect-gate-page3.png")


def test_generation_with_top_p_and_beam(page: Page, expect: Any, shots: Path) -> None:
    expect(page.get_by_test_id("page-status")).to_have_text(LOADED, timeout=WAIT_MS)
    streamed = part(page, "charlm-tiny", "generate-output").locator(".streamed")
    done = part(page, "charlm-tiny", "generate-done")
    part(page, "charlm-tiny", "generate-length").fill("40")
    part(page, "charlm-tiny", "generate-topp").fill("0.9")
    part(page, "charlm-tiny", "generate-seed").fill("5")
    part(page, "charlm-tiny", "generate-run").click()
    expect(done).to_contain_text("(40 tokens)", timeout=WAIT_MS)

    part(page, "charlm-tiny", "generate-beam").fill("3")
    part(page, "charlm-tiny", "generate-run").click()  # beam with top-p: refused on the page
    expect(part(page, "charlm-tiny", "generate-error")).to_contain_text("clear top-k and top-p")
    part(page, "charlm-tiny", "generate-topp").fill("")
    part(page, "charlm-tiny", "generate-run").click()
    expect(done).to_contain_text("(40 tokens)", timeout=WAIT_MS)
    beam_text = streamed.text_content()
    assert len(beam_text or "") == 40
    part(page, "charlm-tiny", "generate-run").click()  # a beam search samples nothing
    expect(done).to_contain_text("(40 tokens)", timeout=WAIT_MS)
    assert streamed.text_content() == beam_text
    snap(page, part(page, "charlm-tiny", "panel-generate"), shots / "generate-beam.png")


def test_unknown_tokens_and_cut_inputs_are_marked(page: Page, expect: Any, shots: Path) -> None:
    expect(page.get_by_test_id("page-status")).to_have_text(LOADED, timeout=WAIT_MS)
    box = part(page, "sentiment-tiny", "classify-text")
    box.fill("the acting was marvellous and the plot was good fun")  # 10 tokens: 6 are read
    part(page, "sentiment-tiny", "classify-run").click()
    marks = part(page, "sentiment-tiny", "classify-tokens").locator(".unknown")
    expect(marks).to_have_count(1, timeout=WAIT_MS)
    expect(marks).to_have_text("marvellous")
    notes = part(page, "sentiment-tiny", "classify-notes")
    expect(notes).to_contain_text("1 of 6 tokens")
    expect(notes).to_contain_text(f"read only the first {CUT_AT} of your 10 tokens")

    box.fill("good " * 100)  # 500 characters: cut at the server's limit, and said so
    cut = part(page, "sentiment-tiny", "classify-text-cut")
    expect(cut).to_be_visible()
    expect(cut).to_contain_text(f"first {MAX_CHARS} characters")
    assert len(box.input_value()) == MAX_CHARS
    snap(page, part(page, "sentiment-tiny", "panel-classify"), shots / "classify-unknown-cut.png")


def test_classifier_gradients_and_training_curves(page: Page, expect: Any, shots: Path) -> None:
    expect(page.get_by_test_id("page-status")).to_have_text(LOADED, timeout=WAIT_MS)
    part(page, "sentiment-tiny", "tab-gradients").click()
    part(page, "sentiment-tiny", "gradients-text").fill("a really good story")
    part(page, "sentiment-tiny", "gradients-run").click()
    plot = part(page, "sentiment-tiny", "gradients-plot")
    expect(plot).to_have_attribute("data-drawn", "true", timeout=WAIT_MS)
    expect(part(page, "sentiment-tiny", "gradients-notes")).to_contain_text("L = −ln Pr(")
    assert _distinct_colours(plot) > 3
    snap(page, part(page, "sentiment-tiny", "panel-gradients"), shots / "gradients-classifier.png")

    part(page, "sentiment-tiny", "tab-curves").click()
    loss = part(page, "sentiment-tiny", "curves-loss")
    expect(loss).to_have_attribute("data-drawn", "true", timeout=WAIT_MS)
    assert loss.get_attribute("data-points") == "61"  # 60 training rows and 1 evaluation
    expect(part(page, "sentiment-tiny", "curves-summary")).to_contain_text("accuracy")
    expect(part(page, "sentiment-tiny", "curves-plot")).to_have_attribute("data-drawn", "true")
    part(page, "sentiment-tiny", "curves-metric").select_option(label="grad_norm (train)")
    expect(part(page, "sentiment-tiny", "curves-plot")).to_have_attribute("data-points", "60")
    snap(page, part(page, "sentiment-tiny", "panel-curves"), shots / "curves-sentiment.png")


def test_two_runs_side_by_side(page: Page, expect: Any, shots: Path) -> None:
    expect(page.get_by_test_id("page-status")).to_have_text(LOADED, timeout=WAIT_MS)
    compare = page.get_by_test_id("compare")
    expect(compare.get_by_test_id("compare-capability").locator("option")).to_have_count(1)
    expect(compare.get_by_test_id("compare-a")).to_have_value("charlm-tiny")
    expect(compare.get_by_test_id("compare-b")).to_have_value("charlm-other")
    compare.get_by_test_id("compare-text").fill("ROMEO:")
    compare.get_by_test_id("compare-length").fill("50")
    compare.get_by_test_id("compare-run").click()
    for side, model in (("a", "charlm-tiny"), ("b", "charlm-other")):
        output = compare.get_by_test_id(f"compare-output-{side}")
        expect(output.locator(".done")).to_contain_text("(50 tokens)", timeout=WAIT_MS)
        expect(output).to_have_attribute("data-model", model)
        expect(output.locator(".prime")).to_have_text("ROMEO:")
    texts = [compare.get_by_test_id(f"compare-output-{s}").locator(".streamed").text_content()
             for s in "ab"]  # fmt: skip
    assert texts[0] != texts[1]  # two different models, the same prime and seed
    snap(page, compare, shots / "compare.png")


def test_docs_render_with_no_network(browser: Browser, base_url: str, shots: Path) -> None:
    """/docs loads Swagger UI from this server alone: every other host is blocked."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    outside: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(f"{base_url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("rnnkit", timeout=WAIT_MS)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.locator(".opblock").count() >= 11
    snap(page, None, shots / "docs.png")
    context.close()
    assert outside == []


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
