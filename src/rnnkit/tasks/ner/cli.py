"""`rnnkit tag RUN_DIR "text" ...`: the entity tag of every word, then the entities found.

    $ rnnkit tag runs/ner-… "Yesterday, Harry Potter met Hermione Granger."
    Yesterday/O ,/O Harry/B-PER Potter/I-PER met/O Hermione/B-PER Granger/I-PER ./O
      PER  Harry Potter
      PER  Hermione Granger
      words  Yesterday , Harry Potter met [Hermione] Granger .   unknown 1 of 8 (12%)

A text is cut into words as the run cut its corpus; the last line puts the words the run never
saw (read as <unk>) in [brackets]. With no text arguments it reads one text per line from
standard input. `load_tagger`, `read_text` and `tag_sentences` are the same steps for use from
Python.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnkit.console import console
from rnnkit.errors import DataError
from rnnkit.tasks.registry import CHECKPOINT_HELP, DEFAULT_CHECKPOINT


def format_tagged(tokens: list[str], tags: list[str]) -> str:
    """word/TAG for every word on one line, then one line per entity: type and text.

    >>> print(format_tagged(["Harry", "Potter", "met", "Ron"], ["B-PER", "I-PER", "O", "B-PER"]))
    Harry/B-PER Potter/I-PER met/O Ron/B-PER
      PER  Harry Potter
      PER  Ron
    """
    lines = [" ".join(f"{token}/{tag}" for token, tag in zip(tokens, tags, strict=True))]
    from rnnkit.text.tags import entity_spans  # rnnkit.text imports torch: load it here

    for kind, start, end in entity_spans(tags):
        lines.append(f"  {kind}  {' '.join(tokens[start:end])}")
    return "\n".join(lines)


def add_tag(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit tag RUN_DIR [TEXT ...]`: tag texts with a trained ner run."""
    parser = verbs.add_parser(
        "tag",
        help="named-entity tags of texts from a trained ner run",
        description="Print each word with its tag and the entities (type, text) of each TEXT; "
        "with no TEXT, read one text per line from standard input.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a trained ner run")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to tag, quoted")
    parser.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help=CHECKPOINT_HELP)

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.tasks.ner.tagger import load_tagger, read_text, tag_sentences
        from rnnkit.text.normalization import format_unknown

        loaded = load_tagger(args.run_dir, checkpoint=args.checkpoint)
        texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
        read = [read_text(loaded, text) for text in texts]
        sentences = [marks.tokens for marks in read]
        if not any(sentences):
            raise DataError("no text to tag: pass TEXT arguments or lines on stdin")
        for marks, tags in zip(read, tag_sentences(loaded, sentences), strict=True):
            block = format_tagged(marks.tokens, tags)
            if marks.tokens:
                block += "\n" + format_unknown(marks, "words")
            console.print(block, markup=False, highlight=False, soft_wrap=True)
        return 0

    parser.set_defaults(handler=handle)
