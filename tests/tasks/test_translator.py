"""A trained translate run in use: the translator API and `rnnkit translate` / `rnnkit chat`."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from test_translate import train_digits

from rnnkit.cli import main
from rnnkit.errors import CheckpointError, ConfigError, DataError, RnnkitError
from rnnkit.tasks.translate.data import TranslateConfig, tokenizer_of
from rnnkit.tasks.translate.translator import (
    BATCH,
    MAX_SOURCE_TOKENS,
    attention_of,
    load_translator,
    source_marks,
    source_tokens,
    translate,
)
from rnnkit.text import normalization
from rnnkit.text.normalization import NORMALIZATION_KEY
from rnnkit.text.tokenize import Tokenizer

pytestmark = pytest.mark.usefixtures("one_thread")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SENTENCE = (
    "nine eight seven six"  # translated right, with a diagonal attention, by every seed tried
)
TRANSLATION = "neun acht sieben sechs"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The digit-words translate run of test_translate (200 updates, BLEU 85.5), trained once."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield train_digits(tmp_path_factory.mktemp("translate"))
    finally:
        torch.set_num_threads(threads)


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    """Standard input holding `data`, with the `.buffer` that `rnnkit chat` reads."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# -- the Python API -------------------------------------------------------------------------------
def test_load_translator_best_latest_and_a_path(run: Path) -> None:
    best = load_translator(run)
    latest = load_translator(run, checkpoint="latest")
    assert best.checkpoint == latest.checkpoint == run / "checkpoints" / "step-00000200"
    assert not best.model.training  # eval mode: no dropout
    assert best.task == "translate"
    assert isinstance(best.config, TranslateConfig)
    assert best.config.min_freq == 1
    assert best.source is not best.target
    assert "neun" in best.target
    assert "neun" not in best.source
    by_path = load_translator(run, checkpoint=str(best.checkpoint))
    for name, tensor in best.model.state_dict().items():
        assert torch.equal(tensor, by_path.model.state_dict()[name]), name


def test_load_translator_errors(run: Path, tmp_path: Path) -> None:
    with pytest.raises(RnnkitError, match="not an rnnkit run directory"):
        load_translator(tmp_path / "nowhere")
    other = tmp_path / "charlm"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"task": "charlm"}), encoding="utf-8")
    with pytest.raises(ConfigError, match="not a translate or chat run \\(task 'charlm'\\)"):
        load_translator(other)
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(run / "config.json", bare / "config.json")
    with pytest.raises(CheckpointError, match="holds no checkpoint yet"):
        load_translator(bare)


def test_translate_keeps_order_and_reads_unknown_words(run: Path) -> None:
    loaded = load_translator(run)
    texts = ["one banana two", SENTENCE, "Three. One"]
    for beam in (1, 3):
        outputs = translate(loaded, texts, beam_size=beam)
        assert [o.source_tokens for o in outputs] == [
            ["one", "banana", "two"], SENTENCE.split(), ["Three", ".", "One"]
        ]  # fmt: skip
        assert outputs[1].text == TRANSLATION
        assert outputs[1].tokens == TRANSLATION.split()  # without <eos>
        assert outputs[1].finished
        assert all(o.text and o.score < 0 for o in outputs)
    alone = translate(loaded, [SENTENCE])[0]
    assert alone.score == pytest.approx(translate(loaded, texts)[1].score, abs=1e-5)  # padding
    many = [" ".join(["one"] * (k % 5 + 1)) for k in range(BATCH)] + ["two", SENTENCE]
    outputs = translate(loaded, many)  # two chunks of BATCH texts
    assert [len(o.source_tokens) for o in outputs] == [k % 5 + 1 for k in range(BATCH)] + [1, 4]
    assert outputs[-1].text == TRANSLATION


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["one two", "   "], "input 1 holds no word"),
        (["one", 5], "input 1 must be text, got int"),
        ([" ".join(["one"] * (MAX_SOURCE_TOKENS + 1))], "input 0 has 201 tokens; the most is 200"),
        ([], "at least one text"),
    ],
    ids=["whitespace", "not-str", "too-long", "none"],
)
def test_bad_inputs_raise_data_error_naming_the_input(run: Path, texts: list, message: str) -> None:
    loaded = load_translator(run)
    with pytest.raises(DataError, match=message):
        translate(loaded, texts)


def test_a_wider_beam_never_scores_below_greedy_here(run: Path) -> None:
    """Regression: beam search once stopped at K finished hypotheses, before a better live
    beam had ended, and returned "eins zwei drei fünf" (−0.44 per token) where greedy found the
    whole sentence (−0.12)."""
    loaded = load_translator(run, checkpoint="latest")
    texts = ["one two three four five", "six seven", "nine eight seven six five four"]
    greedy = translate(loaded, texts, beam_size=1)
    for beam_size in (3, 5):
        for wide, narrow in zip(translate(loaded, texts, beam_size=beam_size), greedy, strict=True):
            per_token = wide.score / (len(wide.tokens) + wide.finished)
            assert per_token >= narrow.score / (len(narrow.tokens) + narrow.finished) - 1e-5


def test_the_longest_accepted_input(run: Path) -> None:
    loaded = load_translator(run)
    longest = " ".join(["one"] * MAX_SOURCE_TOKENS)
    assert len(source_tokens(loaded, longest)) == MAX_SOURCE_TOKENS
    [output] = translate(loaded, [longest], max_length=3)
    assert not output.finished  # stopped at max_length
    assert len(output.tokens) == 3


def test_attention_of_is_a_distribution_over_the_source_per_output_token(run: Path) -> None:
    loaded = load_translator(run)
    [finished] = translate(loaded, [SENTENCE])
    weights = attention_of(loaded, finished)
    assert weights.shape == (len(finished.tokens) + 1, 4)  # output tokens and <eos> × S
    assert torch.allclose(weights.sum(dim=-1), torch.ones(5), atol=1e-5)
    assert weights.argmax(dim=-1)[:4].tolist() == [0, 1, 2, 3]  # word t reads source word t
    [cut] = translate(loaded, [SENTENCE], max_length=2)
    assert not cut.finished
    assert attention_of(loaded, cut).shape == (2, 4)  # no <eos> row
    assert torch.allclose(attention_of(loaded, cut), weights[:2], atol=1e-5)


# -- rnnkit translate -----------------------------------------------------------------------------
def test_cli_translate_verbose_with_attention_plots(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "alpha.png"
    argv = ["translate", str(run), SENTENCE, "one two", "--verbose", "--plot-attention", str(plot)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == TRANSLATION
    assert f"  tokens {TRANSLATION}  log-prob -" in out
    for name in ("alpha-1.png", "alpha-2.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC)
    assert not plot.exists()
    assert main(["translate", str(run), SENTENCE, "--plot-attention", str(plot),
                 "--beam", "1"]) == 0  # fmt: skip
    assert plot.read_bytes().startswith(PNG_MAGIC)  # one text: the name as given
    assert capsys.readouterr().out.startswith(TRANSLATION + "\n")


def test_cli_translate_reads_stdin(
    run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, f"{SENTENCE}\r\n\n  \nfive zero\n".encode())
    assert main(["translate", str(run), "--beam", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2  # blank lines are skipped
    assert lines[0] == TRANSLATION
    _stdin(monkeypatch, b"\n")
    assert main(["translate", str(run)]) == 2
    assert "no text to translate" in capsys.readouterr().out
    _stdin(monkeypatch, b"one two\nthree \xff four\n")
    assert main(["translate", str(run)]) == 2  # one red line, not a traceback
    out = " ".join(capsys.readouterr().out.split())
    assert "standard input, line 2 is not UTF-8 text (byte 6 of the line)" in out


def test_cli_plot_attention_without_attention_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = train_digits(tmp_path, "--attention", "none", steps=2)
    capsys.readouterr()
    plot = tmp_path / "alpha.png"
    assert main(["translate", str(plain), "one", "--plot-attention", str(plot)]) == 2
    out = capsys.readouterr().out
    assert "trained without attention; nothing to plot" in " ".join(out.split())
    assert not plot.exists()
    assert main(["translate", str(plain), "one two"]) == 0  # translating still works


# -- rnnkit chat ----------------------------------------------------------------------------------
def test_cli_chat_answers_hints_and_quits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = train_digits(tmp_path, steps=3, task="chat")
    capsys.readouterr()
    too_long = " ".join(["one"] * (MAX_SOURCE_TOKENS + 1)).encode()
    _stdin(monkeypatch, b"one two three\n\n\xff\xfe seven\n" + too_long + b"\n/quit\nfour\n")
    assert main(["chat", str(chat), "--beam", "2", "--max-length", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(line.startswith("bot> ") for line in lines)
    assert len(lines) == 4  # nothing after /quit
    assert not lines[0].startswith("bot> (")  # an answer, not a hint
    assert lines[1] == "bot> (say something, or /quit to leave)"
    assert lines[2] == "bot> (that line is not UTF-8 text; type a sentence)"
    assert lines[3].startswith("bot> (input 0 has 201 tokens")
    _stdin(monkeypatch, b"one two\n")  # no /quit: the end of input ends it
    assert main(["chat", str(chat), "--max-length", "4"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_cli_chat_with_a_translate_run_notes_the_target_language(
    run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stdin(monkeypatch, f"{SENTENCE}\n/exit\n".encode())
    assert main(["chat", str(run), "--beam", "1"]) == 0
    out = capsys.readouterr().out
    assert "is a translate run" in " ".join(out.split())
    assert out.splitlines()[-1] == f"bot> {TRANSLATION}"


# -- typed text is read as the corpus was (issue 20, item 2) --------------------------------------
def test_typed_text_is_cut_as_the_training_lines_were_and_unknown_words_marked(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    loaded = load_translator(run)
    trained_with = tokenizer_of(loaded.config)
    assert config[NORMALIZATION_KEY] == trained_with.to_dict()
    assert loaded.normalization == trained_with
    for line in (run.parent / "data" / "train.tsv").read_text(encoding="utf-8").splitlines():
        source = line.split("\t")[0]
        assert source_tokens(loaded, source) == trained_with(source)  # what training read
    assert source_tokens(loaded, "Zwei Ma\u0308nner") == ["Zwei", "M\u00e4nner"]  # NFD -> NFC
    [best] = translate(loaded, ["nine eight zebra"])
    marks = source_marks(loaded, best)
    assert marks.tokens == ["nine", "eight", "zebra"]
    assert marks.unknown == [False, False, True]
    assert marks.share == pytest.approx(1 / 3)
    assert main(["translate", str(run), "nine eight zebra", "--verbose", "--beam", "1"]) == 0
    assert "  source  nine eight [zebra]   unknown 1 of 3 (33%)" in capsys.readouterr().out

    old = tmp_path / "old"  # a run trained before runs stored their normalisation
    old.mkdir()
    (old / "checkpoints").symlink_to(run / "checkpoints", target_is_directory=True)
    del config[NORMALIZATION_KEY]
    (old / "config.json").write_text(json.dumps(config), encoding="utf-8")
    said: list[str] = []
    monkeypatch.setattr(
        normalization.logger, "warning", lambda *args: said.append(args[0] % args[1:])
    )
    loaded = load_translator(old)
    load_translator(old)
    [warning] = said  # said once
    assert f"{old} stores no text normalisation" in warning
    assert loaded.normalization == Tokenizer(kind="word")  # as translate read text before
    assert translate(loaded, [SENTENCE])[0].text == TRANSLATION
