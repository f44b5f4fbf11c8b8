"""Issue 22, unbounded inputs: every read is bounded, every flag value range-checked.

Endless inputs (/dev/zero, a FIFO nobody writes to) run in a subprocess under a 3 GiB address
space limit and a timeout, so that a regression ends this test (MemoryError, a timeout) instead
of the machine. Figures for docs/RELIABILITY.md come from `bench/reliability/unbounded.py`.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from word2vec_helpers import make_run  # tests/tasks, on pytest's pythonpath

from rnnkit.cli import main
from rnnkit.datasets.captions import read_coco_captions, read_flickr8k_tokens
from rnnkit.datasets.labelled_text import load_labelled_file
from rnnkit.datasets.timeseries import read_csv_series
from rnnkit.datasets.translation import read_tsv_pairs
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import forecaster, size, tagger
from rnnkit.models import many_to_many as m2m
from rnnkit.models import many_to_one as m2o
from rnnkit.models import one_to_many as o2m
from rnnkit.models import seq2seq as s2s
from rnnkit.models.configs import (
    conditioned_decoder,
    language_model,
    seq2seq,
    sequence_classifier,
)
from rnnkit.models.configs import forecaster as forecaster_config
from rnnkit.models.configs import tagger as tagger_config
from rnnkit.represent.word2vec.evaluation import read_analogies
from rnnkit.tasks.charlm import read_text
from rnnkit.text import files

ADDRESS_SPACE = 3 << 30  # bytes a subprocess may map; torch and rnnkit need about 0.7 GiB


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_rnnkit(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m rnnkit ARGS` with a bounded address space; a hang fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "rnnkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limited,
        env={**os.environ, "COLUMNS": "400", "OMP_NUM_THREADS": "1"},
        check=False,
    )


def _one_error_line(done: subprocess.CompletedProcess[str], expected: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error:"), output
    assert expected in lines[0], output


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    return path


# -- 1. bounded reads -------------------------------------------------------------------------
@pytest.mark.slow  # a subprocess that loads torch: 5–8 s on 2 cores
@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_train_refuses_an_endless_data_file_in_one_line(
    tmp_path: Path, fifo: Path, kind: str
) -> None:
    data = str(fifo) if kind == "fifo" else kind
    done = run_rnnkit("train", "charlm", "--data", data, "--run-dir", "run", "--max-steps", "1",
                      "--quiet", cwd=tmp_path)  # fmt: skip
    _one_error_line(done, "not a regular file")
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_word2vec_eval_refuses_endless_analogies(tmp_path: Path, fifo: Path, kind: str) -> None:
    make_run(tmp_path / "vectors")
    analogies = str(fifo) if kind == "fifo" else kind
    done = run_rnnkit("word2vec", "eval", "vectors", "--analogies", analogies, cwd=tmp_path)
    _one_error_line(done, "not a regular file")
    with pytest.raises(DataError, match="is a character device, not a regular file"):
        read_analogies("/dev/zero")


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_word2vec_train_refuses_an_endless_corpus(tmp_path: Path, fifo: Path, kind: str) -> None:
    corpus = str(fifo) if kind == "fifo" else kind
    done = run_rnnkit("word2vec", "train", corpus, "--run-dir", "run", cwd=tmp_path)
    _one_error_line(done, "not a regular file")


@pytest.mark.parametrize(
    "read",
    [read_coco_captions, read_flickr8k_tokens, read_tsv_pairs, load_labelled_file],
    ids=lambda read: read.__name__,
)
def test_readers_refuse_a_fifo_before_opening_it(fifo: Path, read: Callable[[Path], Any]) -> None:
    """Opening a FIFO nobody writes to blocks: each reader must refuse it from `os.stat`."""
    done: list[BaseException] = []

    def attempt() -> None:
        try:
            read(fifo.with_suffix(".csv") if read is load_labelled_file else fifo)
        except BaseException as err:
            done.append(err)

    if read is load_labelled_file:
        os.mkfifo(fifo.with_suffix(".csv"))
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # unblock the reader so the thread ends, then fail
        with open(fifo.with_suffix(".csv") if read is load_labelled_file else fifo, "wb"):
            pass
        pytest.fail(f"{read.__name__} blocked opening a FIFO")
    assert isinstance(done[0], DataError)
    assert "FIFO (named pipe), not a regular file" in str(done[0])


def test_max_chars_bounds_the_read_of_a_huge_sparse_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"To be, or not to be: that is the question.\n" * 500)
    os.truncate(path, 1 << 30)  # 1 GiB, sparse: read whole, it would take 1 GiB of memory
    tracemalloc.start()
    try:
        text = read_text(path, max_chars=10_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(text) == 10_000
    assert text.startswith("To be, or not")
    assert peak < 8 * files.BLOCK_BYTES  # a few blocks, not the file


def test_max_chars_bounds_the_read_of_a_gzip_file(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "bomb.txt.gz"
    with gzip.open(path, "wb") as out:  # 256 MiB of text in a 0.25 MiB archive
        for _ in range(256):
            out.write(b"abcdefgh" * (1 << 17))
    tracemalloc.start()
    try:
        text = read_text(path, max_chars=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert text == "abcdefgh" * 125
    assert peak < 8 * files.BLOCK_BYTES


def test_a_file_over_the_limit_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("x" * 5000, encoding="utf-8")
    with pytest.raises(DataError, match=r"holds over 1,000 characters.*--max-chars"):
        files.read_text(path, limit=1000, fix="pass --max-chars N to use its start")
    assert files.read_text(path, max_chars=1000, limit=1000) == "x" * 1000


def test_blocks_keep_crlf_and_multibyte_characters_cut_between_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "BLOCK_BYTES", 3)  # every boundary falls somewhere awkward
    path = tmp_path / "text.txt"
    path.write_bytes("a\r\nbé€\r\n😀c\r\n".encode())
    assert files.read_text(path) == "a\nbé€\n😀c\n"
    assert files.read_text(path, max_chars=4) == "a\nbé"
    path.write_bytes(b"abcd\xe9fg")
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte 4"):
        files.read_text(path)


# -- 2. model sizes --------------------------------------------------------------------------
TINY = ["--max-chars", "4000", "--hidden-size", "16", "--embed-dim", "8", "--num-layers", "1",
        "--batch-size", "4", "--seq-len", "16", "--max-steps", "2", "--quiet"]  # fmt: skip


@pytest.mark.slow  # a subprocess that loads torch: 5–8 s on 2 cores
@pytest.mark.parametrize(
    ("flags", "figure"),
    [
        (["--hidden-size", "1000000000"], "14901161342.9 GiB (4,000,000,0"),  # 4·H², V unread
        (["--hidden-size", "256", "--num-layers", "1000000"], "1960.8 GiB (526,3"),  # L·4H(2H+2)
    ],
)
def test_train_refuses_a_model_that_cannot_fit_before_allocating(
    tmp_path: Path, flags: list[str], figure: str
) -> None:
    done = run_rnnkit("train", "charlm", *TINY, *flags, "--run-dir", "run", cwd=tmp_path)
    _one_error_line(done, f"this language model needs about {figure}")
    assert "GiB of memory available" in done.stdout


def test_training_memory_counts_the_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(size, "available_memory", lambda: 1 << 30)
    run = str(tmp_path / "r")
    args = ["train", "charlm", *TINY, "--hidden-size", "512", "--batch-size", "1000",
            "--seq-len", "100", "--max-chars", "300000", "--run-dir", run]  # fmt: skip
    assert main(args) == 2
    out = capsys.readouterr().out
    assert "training this language model needs about 1.4 GiB" in out
    assert "values kept for backward" in out
    assert "1.0 GiB of memory available; lower hidden_size, num_layers, batch_size" in out


@pytest.mark.slow  # trains a tiny run first: about 5 s on 2 cores
def test_generate_refuses_an_edited_config_of_a_huge_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(["train", "charlm", *TINY, "--run-dir", str(run)]) == 0
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    config["task_config"]["model"]["hidden_size"] = 10**9
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    capsys.readouterr()
    assert main(["generate", str(run), "--length", "5"]) == 2
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("error: this language model needs about")


CONFIG_MODULES = (
    language_model, sequence_classifier, conditioned_decoder, seq2seq, tagger_config,
    forecaster_config,
)  # fmt: skip


def test_estimates_are_the_parameter_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The formulas of models/size.py against the models built (an estimate within 15%)."""
    counted: list[int] = []
    for module in CONFIG_MODULES:  # where each model config checks its size
        monkeypatch.setattr(module, "check_fits", lambda what, p, **_: counted.append(p))
    cases = [
        (m2m.LanguageModel, lambda: m2m.LanguageModelConfig(vocab_size=65), 1.0),
        (m2m.LanguageModel, lambda: m2m.LanguageModelConfig(
            vocab_size=65, cell="gru", num_layers=3, embed_dim=32, hidden_size=32,
            tie_weights=True), 1.0),
        (m2o.SequenceClassifier, lambda: m2o.SequenceClassifierConfig(
            vocab_size=1000, bidirectional=True, num_layers=2), 1.0),
        (o2m.ConditionedDecoder, lambda: o2m.ConditionedDecoderConfig(vocab_size=500), 1.15),
        (s2s.Seq2Seq, lambda: s2s.Seq2SeqConfig(
            source_vocab_size=300, target_vocab_size=400, attention="additive",
            bidirectional=True, cell="lstm", encoder_layers=2), 1.15),
        (tagger.SequenceTagger, lambda: tagger.SequenceTaggerConfig(
            vocab_size=1000, tags=("O", "B-X", "I-X"), char_vocab_size=50), 1.0),
        (forecaster.Forecaster, lambda: forecaster.ForecasterConfig(num_features=3), 1.0),
    ]  # fmt: skip
    for model_class, make_config, tolerance in cases:
        counted.clear()
        model = model_class(make_config())
        real = sum(p.numel() for p in model.parameters())
        assert real / tolerance <= counted[0] <= real * tolerance, model_class.__name__


def test_check_fits_refuses_with_the_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(size, "available_memory", lambda: 1 << 30)
    assert size.check_fits("a model", 2**28) == 1 << 30  # 4 bytes each: exactly what there is
    with pytest.raises(ConfigError, match=r"needs about 1\.0 GiB \(67,108,865 parameters, ×4"):
        size.check_fits("a model", 2**26 + 1, training=True)


# -- 3. flag value ranges ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", ["18446744073709551616", "-9223372036854775809"])
def test_an_int_flag_out_of_64_bits_is_one_error_line(
    capsys: pytest.CaptureFixture[str], seed: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["train", "charlm", f"--seed={seed}", "--max-steps", "1"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "error:" in line]
    assert f"argument --seed: seed must be an integer in [-{2**63}, {2**64 - 1}]" in line


def test_every_int_flag_is_range_checked_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["generate", "run", "--length", str(2**64)], ["resume", "run", "--max-steps",
                 str(2**70)], ["train", "sentiment", "--hidden-size", str(-(2**64))]):  # fmt: skip
        with pytest.raises(SystemExit):
            main(argv)
        assert "(64 bits)" in capsys.readouterr().err


def test_a_config_file_int_out_of_64_bits_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"seed": 2**64}), encoding="utf-8")
    assert main(["train", "charlm", "--config", str(config), "--max-steps", "1"]) == 2
    assert "config field 'seed' must be an integer in" in capsys.readouterr().out


# -- 4. byte order marks and long CSV fields --------------------------------------------------
BOM = "\ufeff"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("data.csv", "text,label\ngood film,pos\nbad film,neg\n"),
        ("data.tsv", "text\tlabel\ngood film\tpos\nbad film\tneg\n"),
        ("data.jsonl", '{"text": "good film", "label": "pos"}\n{"text": "bad", "label": "neg"}\n'),
    ],
)
def test_labelled_files_with_a_bom_load(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(BOM + content, encoding="utf-8")  # Excel's "CSV UTF-8", Notepad
    loaded = load_labelled_file(path)
    assert loaded.texts[0] == "good film"
    assert len(loaded.texts) == 2


def test_a_series_with_a_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text(BOM + "t,v\n1,1.5\n2,2.5\n3,4.0\n", encoding="utf-8")
    series = read_csv_series(path, time_column="t", value_columns="v")
    assert series.timestamps == ("1", "2", "3")


def test_a_csv_text_over_131072_characters_loads(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    long_text = "word " * 40_000  # 200,000 characters, over csv's default field_size_limit
    path.write_text(f'text,label\n"{long_text}",pos\nshort,neg\n', encoding="utf-8")
    loaded = load_labelled_file(path)
    assert loaded.texts[0] == long_text


# -- 5. generate into a closed pipe, Ctrl-C ---------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("unbounded") / "tiny"
    assert main(["train", "charlm", *TINY, "--run-dir", str(run)]) == 0
    return run


def _generate(run: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rnnkit", "generate", str(run), "--length", "100000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal
    )


@pytest.mark.slow  # a subprocess that loads torch: 5–8 s on 2 cores
def test_generate_into_a_pipe_closed_early_ends_quietly(tiny_run: Path) -> None:
    process = _generate(tiny_run)  # `rnnkit generate RUN --length 100000000 | head -c 200`
    assert process.stdout is not None
    assert len(process.stdout.read(200)) == 200
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGPIPE  # 141, as `seq 1 1e9 | head`
    assert err == ""  # no traceback, no "Exception ignored … BrokenPipeError"


@pytest.mark.slow  # a subprocess that loads torch: 5–8 s on 2 cores
def test_ctrl_c_during_generate_ends_quietly(tiny_run: Path) -> None:
    process = _generate(tiny_run)
    assert process.stdout is not None
    process.stdout.read(200)  # generating
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGINT  # 130
    assert err == ""
