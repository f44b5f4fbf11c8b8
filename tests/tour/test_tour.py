"""`rnnkit tour`: the page, its sections in lecture order, skipping, escaping, CLI and web link."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks import describe_task, split_config
from rnnkit.tour import SECTION_NAMES, SECTION_TITLES
from rnnkit.tour.apps import APPS, App, check_available, flags_command
from rnnkit.tour.page import Figure, Number, Section, render_page, time_rows
from rnnkit.tour.run import run_tour
from rnnkit.tour.sections import SectionSkipped, TourContext

WORKED = ["representations", "linear-rnn", "lstm-cell", "one-hot", "bag-of-words"]
SHARED = ["sentiment", "ner", "forecast", "translate", "caption"]  # need ../shared/data


@pytest.fixture(scope="module")
def worked_tour(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    """The sections before BPTT (no training), tiny: the page, its text and tour.json."""
    out = tmp_path_factory.mktemp("tour") / "tour"
    result = run_tour(out, tiny=True, sections=WORKED)
    manifest = json.loads((out / "tour.json").read_text(encoding="utf-8"))
    return result.page, result.page.read_text(encoding="utf-8"), manifest


def test_the_page_holds_every_section_in_lecture_order(worked_tour: tuple) -> None:
    page, text, manifest = worked_tour
    assert page.name == "index.html"
    positions = [text.index(f"{i}. {SECTION_TITLES[name]}") for i, name in enumerate(WORKED, 1)]
    assert positions == sorted(positions)
    assert [section["name"] for section in manifest["sections"]] == WORKED
    for name in WORKED:
        assert f'href="#{name}"' in text  # the table of contents links each section


def test_worked_examples_show_the_cells_numbers(worked_tour: tuple) -> None:
    _, text, manifest = worked_tour
    numbers = {n["label"]: n["value"] for s in manifest["sections"] for n in s["numbers"]}
    # the golden values of tests/cells: linear RNN h_1 = 0.7, h_2 = 1.54; linear LSTM
    # c_1 = 0.09, h_1 = 0.027, c_2 = 0.11887029; standard LSTM h_1 = 0.0952411884…
    assert numbers["linear RNN h_1"] == "(0.7, 0.7)"
    assert numbers["linear RNN h_2"] == "(1.54, 1.54)"
    assert numbers["linear LSTM c_1, h_1"] == "0.09, 0.027"
    assert numbers["linear LSTM c_2, h_2"] == "0.11887, 0.035982"
    assert numbers["standard LSTM c_1, h_1"] == "0.167342, 0.0952412"
    assert numbers["dimension D (5 words + other)"] == "6"
    assert numbers["index of the 1 for 'do we like rnnkit?'"] == "[3, 0, 1, 4]"
    assert numbers["counts of d1"].startswith("we: 2")
    assert float(numbers["held-out OOV rate (word tokens -> <unk>)"].rstrip("%")) > 0
    assert "rnnkit tour --out DIR --sections lstm-cell" in text  # each number's command
    assert "0.0e+00" in text  # the cell's c_t equals f_t c_{t−1} + i_t c̃_t


def test_the_page_says_where_the_time_went(worked_tour: tuple) -> None:
    _, text, manifest = worked_tour
    sections = manifest["sections"]
    assert all(s["cpu_seconds"] >= 0 and s["seconds"] >= 0 for s in sections)
    assert manifest["cpu_seconds"] == pytest.approx(sum(s["cpu_seconds"] for s in sections),
                                                    abs=0.1 * len(sections))  # fmt: skip
    assert manifest["cpu_seconds"] > 0  # representations trains word2vec: CPU time is spent
    timing = text[text.index('<section id="time">') :]
    assert "Where the time went" in timing
    for name in WORKED:
        assert f'<td class="text">{name}</td>' in timing
    assert "--quick numbers" in text  # tiny runs say their budgets are the quick ones


def test_time_rows_share_the_cpu_time_and_mark_skipped_sections() -> None:
    sections = [
        Section("", name="a", seconds=4.0, cpu_seconds=3.0),
        Section("", name="b", seconds=2.0, cpu_seconds=1.0),
        Section("", name="c", skipped="needs ../shared/data/x (absent)"),
    ]
    assert time_rows(sections) == [
        ["a", "4.0", "3.0", "75%"],
        ["b", "2.0", "1.0", "25%"],
        ["c", "0.0", "0.0", "skipped"],
        ["total", "6.0", "4.0", "100%"],
    ]
    assert time_rows([Section("", name="a")])[-1] == ["total", "0.0", "0.0", "-"]
    full = render_page(sections, command="rnnkit tour", seconds=6.0)
    assert "--quick numbers" not in full
    assert "4 s CPU" in full
    assert "--quick numbers" in render_page(sections, command="x", seconds=6.0, quick=True)


def test_threads_are_set_for_the_sections_and_restored(tmp_path: Path) -> None:
    seen: list[int] = []
    before = torch.get_num_threads()
    run_tour(tmp_path / "t", tiny=True, sections=["one-hot"], threads=1,
             progress=lambda section: seen.append(torch.get_num_threads()))  # fmt: skip
    assert seen == [1]
    assert torch.get_num_threads() == before
    with pytest.raises(ConfigError, match="--threads must be at least 1, got 0"):
        run_tour(tmp_path / "u", tiny=True, sections=["one-hot"], threads=0)
    assert not (tmp_path / "u").exists()  # refused before anything was written


def test_text_from_data_is_escaped(worked_tour: tuple) -> None:
    _, text, _ = worked_tour
    assert "&lt;unk&gt;" in text
    assert "<unk>" not in text
    hostile = Section(
        "a <b>title</b>",
        "",
        [Figure("figures/x.png", 'a "caption" <img>')],
        [Number("<script>alert(1)</script>", "1 < 2", "rnnkit x --prime '<p>'")],
        name="x",
    )
    page = render_page([hostile], command="rnnkit tour <x>", seconds=1.0)
    assert "<script>" not in page
    assert "<b>" not in page
    assert "<p>'" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "1 &lt; 2" in page
    assert 'alt="a &quot;caption&quot; &lt;img&gt;"' in page


def test_shared_data_sections_skip_cleanly_without_it(tmp_path: Path) -> None:
    result = run_tour(tmp_path / "t", tiny=True, sections=SHARED, locate=lambda folder: None)
    text = result.page.read_text(encoding="utf-8")
    assert [s.name for s in result.sections] == SHARED
    for section in result.sections:
        assert section.skipped is not None
        assert section.skipped.startswith("needs ../shared/data/")
        assert f"skipped: {section.skipped}" in text
    assert not (tmp_path / "t" / "runs").exists()  # nothing was trained


def test_an_absent_extra_skips_with_the_install_line(tmp_path: Path) -> None:
    app = App("music", "", {}, {}, extra=("rnnkit_no_such_module", "music"))
    context = TourContext(out_dir=tmp_path, size="tiny", locate=lambda folder: tmp_path)
    with pytest.raises(
        SectionSkipped, match=r"needs the music extra.*pip install -e '\.\[music\]'"
    ):
        check_available(app, context)
    needs_data = App("sentiment", "", {}, {}, needs=("sentiment_rt_polarity",))
    check_available(needs_data, context)  # found by `locate`: runs


def test_flags_command_and_the_outline_agree_with_the_sections() -> None:
    assert set(APPS) < set(SECTION_NAMES)
    assert flags_command("forecast", {"hidden_size": 8, "quiet": False}) == (
        "rnnkit train forecast --hidden-size 8"
    )
    for name, app in APPS.items():  # every budget is a valid set of flags for its task
        for size in ("tiny", "quick", "full"):
            split_config(describe_task(app.task), app.budget(size))  # raises on an unknown key
        assert name == app.task or name in SECTION_NAMES


def test_bad_sections_and_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown tour sections"):
        run_tour(tmp_path / "a", sections=["lstm"])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ConfigError, match="holds other files"):
        run_tour(tmp_path / "mine", tiny=True, sections=["one-hot"])
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_cli_writes_the_page_and_reruns_into_its_own_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "tour"
    for _ in range(2):  # the second run replaces the first tour's files
        assert main(["tour", "--quick", "--out", str(out), "--sections", "one-hot"]) == 0
    assert "Worked example: one-hot vectors" in (out / "index.html").read_text(encoding="utf-8")
    printed = capsys.readouterr().out
    assert f"rnnkit serve --tour {out}" in printed
    assert "s CPU)" in printed  # each section's wall and CPU time
    table = printed[printed.index("share of CPU") :]
    assert "one-hot" in table
    assert "total" in table
    assert main(["tour", "--out", str(tmp_path / "t0"), "--sections", "one-hot",
                 "--threads", "0"]) == 2  # fmt: skip
    (tmp_path / "file").write_text("x", encoding="utf-8")
    assert main(["tour", "--out", str(tmp_path / "file"), "--sections", "one-hot"]) == 2


def test_help_lists_the_sections_and_loads_no_torch() -> None:
    code = (
        "import contextlib, io, sys\n"
        "import rnnkit.cli\n"
        "buffer = io.StringIO()\n"
        "with contextlib.redirect_stdout(buffer):\n"
        "    try:\n"
        "        rnnkit.cli.main(['tour', '--help'])\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0\n"
        "print(buffer.getvalue())\n"
        "print(sorted({'torch', 'numpy', 'matplotlib'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "--quick" in done.stdout
    assert "lstm-cell" in done.stdout
    assert "bptt" in done.stdout


@pytest.mark.slow
def test_bptt_and_charlm_write_figures_and_the_web_page_links_the_tour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from rnnkit.web.app import create_app

    out = tmp_path / "tour"
    result = run_tour(out, tiny=True, sections=["bptt", "charlm"], locate=lambda folder: None)
    text = result.page.read_text(encoding="utf-8")
    for section in result.sections:
        assert section.skipped is None
        assert section.figures
        assert section.numbers
        for figure in section.figures:
            assert (out / figure.path).is_file()
            assert f'src="{figure.path}"' in text
    bptt, charlm = result.sections
    assert any(n.label.startswith("g_N = 0.9^N") for n in bptt.numbers)
    metrics = {n.label: n.value for n in charlm.numbers}
    assert float(metrics["val_loss"]) > 0
    assert metrics["updates"] == "3"
    assert "rnnkit train charlm --max-chars 20000" in text
    with TestClient(create_app([out / "runs" / "charlm"], tour=out)) as client:
        assert 'href="/tour/"' in client.get("/").text
        tour = client.get("/tour/")
        assert tour.status_code == 200
        assert "guided tour" in tour.text
        assert client.get("/tour/" + bptt.figures[0].path).status_code == 200
    with TestClient(create_app([out / "runs" / "charlm"])) as client:
        assert 'href="/tour/"' not in client.get("/").text
        assert client.get("/tour/").status_code == 404
    with pytest.raises(DataError, match="holds no tour page"):
        create_app([out / "runs" / "charlm"], tour=tmp_path)
    served = []  # `rnnkit serve --tour DIR` hands the app to uvicorn; no port is bound here
    monkeypatch.setattr("rnnkit.cli.serve.listen", lambda host, port: socket.socket())
    monkeypatch.setattr(
        "rnnkit.cli.serve.run_server", lambda app, sock, host: (sock.close(), served.append(app))
    )
    assert main(["serve", str(out / "runs" / "charlm"), "--tour", str(out)]) == 0
    assert served[0].state.tour == out
    assert main(["serve", str(out / "runs" / "charlm"), "--tour", str(tmp_path)]) == 2


@pytest.mark.slow
@pytest.mark.shared_data("sentiment_rt_polarity")
def test_many_to_one_trains_on_the_shared_sentences(tmp_path: Path) -> None:
    result = run_tour(tmp_path / "t", tiny=True, sections=["sentiment"])
    (section,) = result.sections
    metrics = {n.label: float(n.value) for n in section.numbers}
    assert section.skipped is None
    assert metrics["updates"] == 3
    assert 0.0 <= metrics["val_accuracy"] <= 1.0
    assert section.figures  # the confusion matrix
