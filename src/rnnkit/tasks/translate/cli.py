"""`rnnkit translate RUN_DIR "text" ...` and `rnnkit chat RUN_DIR`: a trained encoder–decoder.

    $ rnnkit translate runs/translate-… "A man is riding a bicycle." --beam 5
    Ein Mann fährt Fahrrad.

    $ rnnkit chat runs/chat-…
    you> where are you going?
    bot> i am going to the house.

A text is cut into tokens as the run cut its corpus. `translate` reads one text per line from
standard input when no TEXT is given; --verbose also prints the source tokens read, those the
run never saw (read as <unk>) in [brackets], and --plot-attention FILE.png writes the attention
heatmap of each output. `chat` answers line by line until end of input or /quit, and keeps
going after an empty, over-long or non-text line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from rnnkit.console import console
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.registry import CHECKPOINT_HELP, DEFAULT_CHECKPOINT

if TYPE_CHECKING:  # torch, matplotlib and the task load inside the functions that use them
    from rnnkit.tasks.translate.translator import LoadedTranslator

QUIT = ("/quit", "/exit")


def add_decoding_flags(parser: argparse.ArgumentParser, *, beam: int) -> None:
    """RUN_DIR and the search flags shared by translate and chat."""
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                        help="a trained translate or chat run")  # fmt: skip
    parser.add_argument("--beam", type=int, default=beam, help=f"beam size (default {beam}; "
                        "1 is greedy)")  # fmt: skip
    parser.add_argument("--max-length", type=int, default=None,
                        help="most output tokens (default 2·source length + 10)")  # fmt: skip
    parser.add_argument("--length-penalty", type=float, default=1.0,
                        help="α: outputs rank by score / length^α (default 1)")  # fmt: skip
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=CHECKPOINT_HELP)


def attention_paths(path: Path, count: int) -> list[Path]:
    """FILE.png for one output; FILE-1.png, FILE-2.png, … for several.

    >>> [p.name for p in attention_paths(Path("a.png"), 2)]
    ['a-1.png', 'a-2.png']
    """
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{k + 1}{path.suffix}") for k in range(count)]


def stdin_texts(stream: BinaryIO) -> list[str]:
    """The non-blank lines of `stream`; DataError naming the first line that is not UTF-8."""
    texts = []
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as err:
            raise DataError(f"standard input, line {number} is not UTF-8 text (byte "
                            f"{err.start} of the line); re-save it as UTF-8") from err  # fmt: skip
        if line.strip():
            texts.append(line)
    return texts


def add_translate(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit translate RUN_DIR [TEXT ...]`: outputs of a trained translate run."""
    parser = verbs.add_parser(
        "translate",
        help="translate texts with a trained translate run",
        description="Print the translation of each TEXT; with no TEXT, read one text per line "
        "from standard input.",
    )
    add_decoding_flags(parser, beam=5)
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to translate, quoted")
    parser.add_argument("--plot-attention", type=Path, metavar="FILE.png",
                        help="write each output's attention heatmap (output × source) "
                        "(default: none)")  # fmt: skip
    parser.add_argument("--verbose", action="store_true", help="also print the tokens and score")

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.analysis.attention_plot import plot_attention
        from rnnkit.tasks.translate.translator import (
            attention_of,
            load_translator,
            source_marks,
            translate,
        )
        from rnnkit.text.normalization import format_unknown

        loaded = load_translator(args.run_dir, checkpoint=args.checkpoint)
        texts = args.texts or stdin_texts(sys.stdin.buffer)
        if not texts:
            raise DataError("no text to translate: pass TEXT arguments or lines on stdin")
        if args.plot_attention is not None and loaded.model.attention is None:
            raise ConfigError(f"{args.run_dir} was trained without attention; nothing to plot")
        outputs = translate(loaded, texts, beam_size=args.beam, max_length=args.max_length,
                            length_penalty=args.length_penalty)  # fmt: skip
        for output in outputs:
            console.print(output.text, markup=False, highlight=False)
            if args.verbose:
                console.print(f"  tokens {' '.join(output.tokens)}  log-prob {output.score:.3f}"
                              f"{'' if output.finished else '  (stopped at max length)'}",
                              markup=False, highlight=False)  # fmt: skip
                console.print(format_unknown(source_marks(loaded, output), "source"),
                              markup=False, highlight=False, soft_wrap=True)  # fmt: skip
        if args.plot_attention is not None:
            for output, path in zip(outputs, attention_paths(args.plot_attention, len(outputs)),
                                    strict=True):  # fmt: skip
                rows = [*output.tokens, "<eos>"] if output.finished else output.tokens
                plot_attention(path, attention_of(loaded, output), output.source_tokens, rows,
                               title=f"attention: {loaded.config.source_lang} → "
                               f"{loaded.config.target_lang}")  # fmt: skip
                console.print(f"attention heatmap: {path}", markup=False)
        return 0

    parser.set_defaults(handler=handle)


def reply(loaded: LoadedTranslator, raw: bytes, args: argparse.Namespace) -> str | None:
    """The bot's answer to one input line, a hint for a bad line, or None to quit."""
    from rnnkit.tasks.translate.translator import translate

    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return "(that line is not UTF-8 text; type a sentence)"
    if line in QUIT:
        return None
    if not line:
        return "(say something, or /quit to leave)"
    try:
        [answer] = translate(loaded, [line], beam_size=args.beam, max_length=args.max_length,
                             length_penalty=args.length_penalty)  # fmt: skip
    except DataError as err:
        return f"({err})"
    return answer.text or "…"


def chat_loop(loaded: LoadedTranslator, stream: BinaryIO, args: argparse.Namespace) -> int:
    """Answer each line of `stream` until its end or /quit."""
    interactive = stream.isatty()
    while True:
        if interactive:
            console.print("you> ", end="", markup=False)
        raw = stream.readline()
        if not raw:
            return 0
        answer = reply(loaded, raw, args)
        if answer is None:
            return 0
        console.print(f"bot> {answer}", markup=False, highlight=False)


def add_chat(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit chat RUN_DIR`: a line-by-line conversation with a trained chat run."""
    parser = verbs.add_parser(
        "chat",
        help="talk to a trained chat run, line by line",
        description="Read one utterance per line from standard input and print the reply; "
        "/quit or end of input leaves.",
    )
    add_decoding_flags(parser, beam=5)

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.translate.translator import load_translator

        loaded = load_translator(args.run_dir, checkpoint=args.checkpoint)
        if loaded.task != "chat":
            console.print(f"note: {args.run_dir} is a {loaded.task} run; it answers in "
                          f"{loaded.config.target_lang}", markup=False)  # fmt: skip
        return chat_loop(loaded, sys.stdin.buffer, args)

    parser.set_defaults(handler=handle)
