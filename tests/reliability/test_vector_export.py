"""Issue 22: `rnnkit word2vec export` never replaces what is not a regular file, and its binary
writer and reader agree on the longest word (`rnnkit.represent.word2vec.formats`)."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

import pytest
import torch
from word2vec_helpers import make_run  # tests/tasks, on pytest's pythonpath

from rnnkit.cli import main
from rnnkit.errors import DataError
from rnnkit.represent.word2vec import WordVectors
from rnnkit.represent.word2vec.formats import (
    MAX_WORD_BYTES,
    load_word2vec_binary,
    save_word2vec_binary,
)


def _export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["word2vec", "export", *args])
    captured = capsys.readouterr()
    return status, (captured.out + captured.err).strip()


@pytest.mark.parametrize("fmt", ["text", "binary"])
def test_export_to_a_fifo_writes_into_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    make_run(tmp_path / "run")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    status, _ = _export(capsys, str(tmp_path / "run"), str(fifo), "--format", fmt)
    if reader.is_alive():  # nothing opened the FIFO for writing: unblock a waiting reader
        # non-blocking: a reader that just got its bytes and is leaving is not waited for (the
        # open then fails with ENXIO, no reader having the FIFO open any more)
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    reader.join(10)
    assert status == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # not replaced by a regular file
    assert received[0].startswith(b"5 3\n")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pipe")]


def test_export_to_a_character_device_writes_into_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_run(tmp_path / "run")
    try:  # a null device of our own, so that a failure cannot replace the machine's /dev/null
        device = tmp_path / "null"
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:  # not root: /dev/null itself cannot be renamed over
        device = Path("/dev/null")
    status, output = _export(capsys, str(tmp_path / "run"), str(device))
    assert status == 0, output
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert not [p for p in device.parent.iterdir() if p.name.startswith(f".{device.name}.")]


def test_export_refuses_a_directory_and_keeps_a_symlink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_run(tmp_path / "run")
    (tmp_path / "folder").mkdir()
    status, output = _export(capsys, str(tmp_path / "run"), str(tmp_path / "folder"))
    assert status == 2
    assert output.startswith("error:")
    assert "is not a regular file" in output
    assert "\n" not in output
    target, link = tmp_path / "vectors.txt", tmp_path / "link.txt"
    target.write_text("old\n")
    link.symlink_to(target)
    assert _export(capsys, str(tmp_path / "run"), str(link))[0] == 0
    assert link.is_symlink()  # the file it names was replaced, not the link
    assert target.read_text().startswith("5 3\n")


def test_binary_writer_and_reader_agree_on_the_longest_word(tmp_path: Path) -> None:
    longest = "é" * (MAX_WORD_BYTES // 2)  # MAX_WORD_BYTES bytes of UTF-8
    vectors = WordVectors(["a", longest, "b"], torch.arange(6.0).reshape(3, 2))
    path = save_word2vec_binary(vectors, tmp_path / "v.bin")
    loaded = load_word2vec_binary(path)
    assert loaded.words == vectors.words
    assert torch.equal(loaded.vectors, vectors.vectors)
    too_long = WordVectors(["a", "x" * (MAX_WORD_BYTES + 1)], torch.zeros(2, 2))
    with pytest.raises(DataError, match=r"1,001 bytes long; the binary format holds words of"):
        save_word2vec_binary(too_long, tmp_path / "w.bin")
    assert not (tmp_path / "w.bin").exists()
