"""A trained translate / chat run in use: load it, translate texts, read the attention weights.

    loaded = load_translator("runs/translate-…")
    [best] = translate(loaded, ["A man is riding a bicycle."], beam_size=5)
    best.text, best.score            # "Ein Mann fährt Fahrrad.", Σ log Pr
    source_marks(loaded, best)       # the source tokens read, unknown ones marked
    attention_of(loaded, best)       # α (T, S): target token × source token
    loaded.translate(["A man is riding a bicycle."], beam=5)  # ["Ein Mann fährt Fahrrad."]

The command line (`rnnkit translate`, `rnnkit chat`) and the web page call these.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from rnnkit.config import config_from_dict
from rnnkit.errors import DataError
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig
from rnnkit.tasks.load import load_run
from rnnkit.tasks.registry import DEFAULT_CHECKPOINT
from rnnkit.tasks.translate.data import ChatConfig, TranslateConfig, legacy_tokenizer_of
from rnnkit.tasks.translate.train import decode_text
from rnnkit.text.batching import pad_sequences
from rnnkit.text.normalization import UnknownMarks, mark_unknown, stored_normalization
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import Vocab

TASK_CONFIGS = {"translate": TranslateConfig, "chat": ChatConfig}
MAX_SOURCE_TOKENS = 200  # longest input accepted (tokens)
BATCH = 64  # sentences decoded together


class LoadedTranslator(NamedTuple):
    """A trained encoder–decoder in eval mode, with its vocabularies and run config."""

    model: Seq2Seq
    source: Vocab
    target: Vocab
    config: TranslateConfig
    task: str
    checkpoint: Path
    normalization: Tokenizer | None = None  # cuts input text; None: the config's (old runs)

    def translate(
        self,
        texts: str | list[str],
        beam: int = 1,
        *,
        max_length: int | None = None,
        length_penalty: float = 1.0,
    ) -> list[str]:
        """The best output text for each input, in order (greedy, or beam search of width
        `beam`); as `rnnkit translate` prints them. One string is one text; `translate` in
        this module gives the tokens and scores too."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        found = translate(self, texts, beam_size=beam, max_length=max_length,
                          length_penalty=length_penalty)  # fmt: skip
        return [result.text for result in found]


class Translation(NamedTuple):
    """One output: the source tokens read, the output tokens and text, and its scores."""

    source_tokens: list[str]
    tokens: list[str]  # without <eos>
    text: str
    score: float  # Σ log Pr(y_t | y_<t, x)
    finished: bool  # ended with <eos> (False: stopped at max_length)


def load_translator(
    run_dir: str | Path, *, checkpoint: str = DEFAULT_CHECKPOINT
) -> LoadedTranslator:
    """The model of a translate / chat run at a checkpoint ("best": else the latest; "latest";
    a path)."""
    run = load_run(
        run_dir, lambda config: Seq2Seq(config_from_dict(Seq2SeqConfig, config["seq2seq"])),
        tasks=TASK_CONFIGS, needs="seq2seq", what="a translate or chat", checkpoint=checkpoint,
    )  # fmt: skip
    config, task, model, path = run.config, run.config["task"], run.model, run.checkpoint
    source = Vocab.from_dict(config["source_vocab"])
    target = source if config["seq2seq"]["share_embeddings"] else None
    task_config = config_from_dict(TASK_CONFIGS[task], config["task_config"])
    normalization = stored_normalization(config, legacy_tokenizer_of(task_config),
                                         where=str(run_dir))  # fmt: skip
    return LoadedTranslator(model, source,
                            target or Vocab.from_dict(config["target_vocab"]),
                            task_config, task, path, normalization)  # fmt: skip


def source_tokens(loaded: LoadedTranslator, text: str, position: int = 0) -> list[str]:
    """The tokens of one input; DataError if it is not text, holds no word or is too long."""
    if not isinstance(text, str):
        raise DataError(f"input {position} must be text, got {type(text).__name__}")
    normalization = loaded.normalization or legacy_tokenizer_of(loaded.config)
    tokens = normalization(text)
    if not tokens:
        raise DataError(f"input {position} holds no word to read: {text!r}")
    if len(tokens) > MAX_SOURCE_TOKENS:
        raise DataError(f"input {position} has {len(tokens)} tokens; the most is "
                        f"{MAX_SOURCE_TOKENS}: split it into sentences")  # fmt: skip
    return tokens


def translate(
    loaded: LoadedTranslator,
    texts: list[str],
    *,
    beam_size: int = 1,
    max_length: int | None = None,
    length_penalty: float = 1.0,
) -> list[Translation]:
    """The best output for each text (greedy, or beam search with `beam_size` > 1), in order.

    Unknown words read as <unk>; decoding stops at <eos> or after `max_length` tokens
    (default 2·S + 10).
    """
    if not texts:
        raise DataError("translate needs at least one text")
    tokenized = [source_tokens(loaded, text, k) for k, text in enumerate(texts)]
    results: list[Translation] = []
    for start in range(0, len(tokenized), BATCH):
        chunk = tokenized[start : start + BATCH]
        ids, lengths = pad_sequences([loaded.source.encode(t) for t in chunk], pad_id=0)
        found = loaded.model.search(ids, lengths, beam_size=beam_size, max_length=max_length,
                                    length_penalty=length_penalty)  # fmt: skip
        for tokens, hypotheses in zip(chunk, found, strict=True):
            best = hypotheses[0]
            kept = [t for t in best.tokens if t != loaded.target.eos_id]
            results.append(Translation(tokens, loaded.target.decode(kept),
                                       decode_text(best.tokens, loaded.target),
                                       best.score, best.finished))  # fmt: skip
    return results


def source_marks(loaded: LoadedTranslator, translation: Translation) -> UnknownMarks:
    """The source tokens an output was read from, those the source vocabulary lacks, their share."""
    return mark_unknown(translation.source_tokens, loaded.source)


def attention_of(loaded: LoadedTranslator, translation: Translation) -> Tensor:
    """α (T, S) of an output over its source: row t is output token t (then <eos> if it ended)."""
    source = loaded.source.encode(translation.source_tokens).unsqueeze(0)  # (1, S)
    output = loaded.target.encode(translation.tokens)
    target_in = torch.cat([torch.tensor([loaded.target.bos_id]), output]).unsqueeze(0)
    if not translation.finished:
        target_in = target_in[:, :-1]  # no <eos> row: the last token was never followed
    weights = loaded.model.attention_weights(source, torch.tensor([source.shape[1]]), target_in)
    return weights[0]  # (T, S)
