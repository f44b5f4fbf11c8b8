"""`rnnkit explore` and `rnnkit represent`: the data path on the embedded corpus."""

from __future__ import annotations

import argparse
from pathlib import Path

from rnnkit.analysis.explore_config import ExploreConfig
from rnnkit.config import add_config_flags, config_from_args


def add_explore(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit explore`: vocabularies, OOV rate, word hashing and tf-idf of Tiny Shakespeare."""
    parser = verbs.add_parser(
        "explore",
        help="explore the embedded Tiny Shakespeare: vocabularies, OOV, hashing, tf-idf",
        description="Explore the data path: text -> tokens -> representations, real figures.",
    )
    add_config_flags(parser, ExploreConfig)

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.analysis import explore

        explore.run_explore(config_from_args(ExploreConfig, args))
        return 0

    parser.set_defaults(handler=handle)


def add_represent(verbs: argparse._SubParsersAction) -> None:
    """`rnnkit represent "a sentence"`: its one-hot, word-hashing and bag-of-words vectors."""
    parser = verbs.add_parser(
        "represent",
        help="print the one-hot / word-hashing / bag-of-words vectors of a sentence",
        description="Vectors of a sentence over a lexicon (default: words of the embedded"
        " Tiny Shakespeare seen at least --min-freq times; others become <unk>).",
    )
    parser.add_argument("sentence", help="the text to represent, quoted")
    parser.add_argument("--kind", choices=("onehot", "hashing", "bow", "all"), default="all",
                        help="which vectors to print")  # fmt: skip
    parser.add_argument("--n", type=int, default=3, help="letter n-gram size (default: 3)")
    parser.add_argument("--vocab", type=Path, default=None,
                        help="a vocab JSON (Vocab.save) (default: the corpus lexicon)")  # fmt: skip
    parser.add_argument("--min-freq", type=int, default=2, help="corpus lexicon cut-off")

    def handle(args: argparse.Namespace) -> int:
        from rnnkit.analysis import explore

        explore.represent_command(
            args.sentence, kind=args.kind, n=args.n, vocab_path=args.vocab, min_freq=args.min_freq
        )
        return 0

    parser.set_defaults(handler=handle)
