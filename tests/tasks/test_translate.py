"""Tasks translate and chat: batches, the objective, scheduled sampling, training from the CLI."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from rnnkit.cli import main
from rnnkit.config import make_config
from rnnkit.datasets.translation import SentencePairs
from rnnkit.errors import DataError
from rnnkit.losses.sequence import sequence_cross_entropy
from rnnkit.models.decoding import Hypothesis
from rnnkit.models.seq2seq import Seq2Seq
from rnnkit.tasks.translate.data import (
    ChatConfig,
    SpecialIds,
    TranslateConfig,
    build_vocabularies,
    collate,
    encode_pair,
    load_pairs,
    make_batches,
    tokenizer_of,
)
from rnnkit.tasks.translate.train import TranslationObjective, model_config, teacher_forcing_ratio
from rnnkit.training import BatchSource, read_metrics
from rnnkit.training.text_metrics import corpus_scores

pytestmark = pytest.mark.usefixtures("one_thread")

ENGLISH = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
GERMAN = ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]
IDS = SpecialIds(pad=0, bos=2, eos=3)


def write_digit_corpus(folder: Path, *, train: int = 200, valid: int = 40) -> Path:
    """train.tsv and valid.tsv of "three one four<TAB>drei eins vier": 3–6 distinct digits."""
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", train), ("valid", valid)):
        lines = []
        for _ in range(count):
            digits = rng.sample(range(10), rng.randint(3, 6))
            lines.append(" ".join(ENGLISH[d] for d in digits) + "\t"
                         + " ".join(GERMAN[d] for d in digits))  # fmt: skip
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def train_digits(tmp_path: Path, *extra: str, steps: int = 200, task: str = "translate") -> Path:
    """Train on the digit corpus from the CLI (tiny GRU, general attention); the run folder."""
    run = tmp_path / "run"
    argv = [
        "train", task, "--corpus", "custom", "--data", str(write_digit_corpus(tmp_path / "data")),
        "--min-freq", "1", "--embed-dim", "16", "--hidden-size", "16", "--batch-size", "16",
        "--dropout", "0.0", "--attention", "general", "--max-steps", str(steps), "--lr", "0.005",
        "--eval-every", "0", "--checkpoint-every", "0", "--quiet", "--device", "cpu",
        "--run-dir", str(run), *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    return run


# -- data -----------------------------------------------------------------------------------------
def test_collate_shifts_the_target_behind_bos_and_never_feeds_eos() -> None:
    pairs = [
        (torch.tensor([4, 5, 6]), torch.tensor([7, 8, 3]), "y7 y8"),
        (torch.tensor([9]), torch.tensor([10, 3]), "y10"),
        (torch.tensor([4, 9]), torch.tensor([3]), ""),
    ]
    batch = collate(pairs, IDS)
    assert batch.source_ids.tolist() == [[4, 5, 6], [9, 0, 0], [4, 9, 0]]
    assert batch.source_lengths.tolist() == [3, 1, 2]
    assert batch.target_out.tolist() == [[7, 8, 3], [10, 3, 0], [3, 0, 0]]  # y … <eos> <pad>
    assert batch.target_in.tolist() == [[2, 7, 8], [2, 10, 0], [2, 0, 0]]  # <bos> y … <pad>
    assert not bool((batch.target_in == IDS.eos).any())
    assert batch.references == ("y7 y8", "y10", "")


def test_encode_pair_reads_unknown_words_as_unk_and_an_empty_source_as_one_unk() -> None:
    config = TranslateConfig(corpus="custom", min_freq=1)
    pairs = SentencePairs(("one two", "two three"), ("eins zwei", "zwei drei"), "toy")
    vocabs = build_vocabularies(config, pairs)
    tokenize = tokenizer_of(config)
    source, target, reference = encode_pair("one seven", "eins sieben", vocabs, tokenize)
    assert source.tolist() == [vocabs.source.token_to_id("one"), vocabs.source.unk_id]
    assert target.tolist() == [vocabs.target.token_to_id("eins"), vocabs.target.unk_id,
                               vocabs.target.eos_id]  # fmt: skip
    assert reference == "eins sieben"  # the raw text is scored
    empty, _, _ = encode_pair(" \u3000 ", "eins", vocabs, tokenize)  # spaces only
    assert empty.tolist() == [vocabs.source.unk_id]
    assert "one" in vocabs.source
    assert "one" not in vocabs.target  # translate keeps two vocabularies


def test_chat_builds_one_joint_vocabulary_and_shares_embeddings() -> None:
    pairs = SentencePairs(("Hello there", "how are you"), ("hi", "fine , thanks"), "toy")
    config = make_config(ChatConfig, corpus="custom", min_freq=1, embed_dim=4, hidden_size=4)
    vocabs = build_vocabularies(config, pairs)
    assert vocabs.source is vocabs.target
    assert {"hello", "thanks", ","} <= set(vocabs.source.tokens)  # chat lower-cases
    model = model_config(config, vocabs)
    assert model.share_embeddings
    assert model.source_vocab_size == model.target_vocab_size == len(vocabs.source)
    separate = build_vocabularies(TranslateConfig(corpus="custom", min_freq=1), pairs)
    assert separate.source is not separate.target
    assert not model_config(TranslateConfig(), separate).share_embeddings


def test_load_pairs_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="--data DIR"):
        load_pairs(TranslateConfig(corpus="custom"), None, "train")
    with pytest.raises(DataError, match=r"valid\.tsv"):
        load_pairs(TranslateConfig(corpus="custom"), tmp_path, "valid")
    (tmp_path / "train.tsv").write_text("one two\teins zwei\n", encoding="utf-8")
    read = load_pairs(TranslateConfig(corpus="custom"), tmp_path, "train")
    assert (read.sources, read.targets) == (("one two",), ("eins zwei",))


# -- objective ------------------------------------------------------------------------------------
def test_teacher_forcing_ratio_fixed_and_inverse_sigmoid_decay() -> None:
    assert teacher_forcing_ratio(TranslateConfig(teacher_forcing=0.7), 10_000) == 0.7
    decay = TranslateConfig(teacher_forcing=0.0, scheduled_sampling=10.0)  # k = 10
    assert teacher_forcing_ratio(decay, 0) == pytest.approx(10 / 11)  # k / (k + e⁰)
    assert teacher_forcing_ratio(decay, 20) == pytest.approx(10 / (10 + math.e**2))
    assert teacher_forcing_ratio(decay, 10**9) == 0.0  # exp(i / k) overflow is capped
    floored = TranslateConfig(teacher_forcing=0.5, scheduled_sampling=10.0)
    assert teacher_forcing_ratio(floored, 5) == pytest.approx(10 / (10 + math.e**0.5))
    assert teacher_forcing_ratio(floored, 30) == 0.5  # 10 / (10 + e³) ≈ 0.33 < r


def _toy_setup(config: TranslateConfig):
    pairs = SentencePairs(("one two three", "four .", "two"), ("eins zwei drei", "vier .",
                                                               "zwei"), "toy")  # fmt: skip
    vocabs = build_vocabularies(config, pairs)
    tokenize = tokenizer_of(config)
    encoded = [encode_pair(s, t, vocabs, tokenize)
               for s, t in zip(pairs.sources, pairs.targets, strict=True)]  # fmt: skip
    return pairs, vocabs, encoded


def test_loss_is_masked_cross_entropy_of_the_model_logits() -> None:
    config = make_config(TranslateConfig, corpus="custom", min_freq=1, embed_dim=6, hidden_size=5)
    _, vocabs, encoded = _toy_setup(config)
    batch = collate(encoded, IDS)
    model = Seq2Seq(model_config(config, vocabs)).eval()
    result = TranslationObjective(config, vocabs.target).loss(model, batch, None)
    logits = model(batch.source_ids, batch.source_lengths, batch.target_in).logits
    expected = sequence_cross_entropy(logits, batch.target_out, ignore_index=IDS.pad)
    assert float(result.loss.detach()) == pytest.approx(float(expected.detach()), abs=1e-6)
    assert result.num_tokens == 4 + 3 + 2  # y_1 … y_n <eos> of each pair, no <pad>
    with_pad = sequence_cross_entropy(logits, batch.target_out)  # pad counted as a target
    assert float(with_pad.detach()) != pytest.approx(float(expected.detach()), abs=1e-4)


class _Recorder(nn.Module):
    """Stands in for Seq2Seq: records the teacher-forcing ratio it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.ratios: list[float] = []

    def forward(self, source_ids, source_lengths, target_in, *, teacher_forcing=1.0):
        self.ratios.append(teacher_forcing)
        return SimpleNamespace(logits=torch.zeros(*target_in.shape, 12, requires_grad=True))


def test_scheduled_sampling_ratio_follows_the_training_source_position() -> None:
    config = TranslateConfig(corpus="custom", min_freq=1, teacher_forcing=0.25,
                             scheduled_sampling=2.0)  # fmt: skip
    _, vocabs, encoded = _toy_setup(config)
    batch = collate(encoded, IDS)
    source = BatchSource([batch] * 3, batch_size=1, collate=lambda items: items[0], seed=0)
    objective = TranslationObjective(config, vocabs.target, source)
    model = _Recorder().train()
    for _ in range(5):
        objective.loss(model, source.next_batch(), None)
    assert objective.updates_done() == 5  # epoch 1, index 2 of 3 batches per epoch
    expected = [max(0.25, 2 / (2 + math.exp(i / 2))) for i in range(1, 6)]
    assert model.ratios == pytest.approx(expected)
    assert model.ratios[0] > model.ratios[1] > model.ratios[2] > model.ratios[3] == 0.25
    objective.loss(model.eval(), batch, None)
    assert model.ratios[-1] == 1.0  # evaluation always feeds the reference


class _EchoModel(nn.Module):
    """Logits from a fixed table of the decoder input; search returns the source words back."""

    def __init__(self, vocab_size: int, eos_id: int) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(vocab_size, vocab_size))
        self.eos_id = eos_id

    def forward(self, source_ids, source_lengths, target_in, *, teacher_forcing=1.0):
        return SimpleNamespace(logits=self.table[target_in])  # (B, T, V)

    def search(self, source_ids, source_lengths, *, beam_size=1):
        return [[Hypothesis([*row[: int(n)].tolist(), self.eos_id, 5], 0.0, 0.0, True)]
                for row, n in zip(source_ids, source_lengths, strict=True)]  # fmt: skip


def test_evaluate_returns_token_loss_perplexity_bleu_and_chrf() -> None:
    config = ChatConfig(corpus="custom", min_freq=1, lowercase=True)  # joint vocabulary
    pairs, vocabs, encoded = _toy_setup(config)
    model = _EchoModel(len(vocabs.target), vocabs.target.eos_id).eval()
    batches = make_batches(encoded, 2, IDS, shuffle=False, seed=0)
    assert len(batches) == 2
    with torch.no_grad():  # as the trainer evaluates
        scores = TranslationObjective(config, vocabs.target).evaluate(model, batches)
    total = sum(float(sequence_cross_entropy(model.table[b.target_in].detach(), b.target_out,
                                             ignore_index=IDS.pad, reduction="sum"))
                for b in batches)  # fmt: skip
    assert scores["loss"] == pytest.approx(total / 9)  # mean over the 9 target tokens
    assert scores["perplexity"] == pytest.approx(math.exp(scores["loss"]))
    sources = [s for b in batches for s in b.references]  # the order evaluation saw
    order = [pairs.targets.index(r) for r in sources]
    echoed = [pairs.sources[i].replace(" .", ".") for i in order]  # detokenised, up to <eos>
    expected = corpus_scores(echoed, [[r] for r in sources])
    assert scores["bleu"] == pytest.approx(expected["bleu"])
    assert scores["chrf"] == pytest.approx(expected["chrf"])
    assert 0.0 <= scores["bleu"] < 100.0
    assert {"precision_1", "brevity_penalty"} <= set(scores)


# -- end to end -----------------------------------------------------------------------------------
def test_train_translate_from_the_cli_learns_the_digit_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = train_digits(tmp_path)
    out = capsys.readouterr().out
    assert "BLEU" in out
    assert "use it with:\n  rnnkit translate" in out
    last = [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]
    assert last["val_bleu"] > 60  # 85.5 measured (200 updates, seed 1337)
    assert last["val_chrf"] > 75
    assert last["val_perplexity"] == pytest.approx(math.exp(last["val_loss"]), rel=1e-5)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config["split"] == {"train": 200, "valid": 40, "train_read": 200}
    assert "drei" in config["target_vocab"]["tokens"]
    assert "drei" not in config["source_vocab"]["tokens"]
    assert config["seq2seq"]["attention"] == "general"
    assert not config["seq2seq"]["share_embeddings"]


def test_chat_task_trains_on_a_custom_tsv_with_a_joint_vocabulary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = train_digits(tmp_path, "--eval-beam", "2", steps=3, task="chat")
    out = capsys.readouterr().out
    assert "use it with:\n  rnnkit chat" in out  # the run's task, whatever its folder's name
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert config["task"] == "chat"
    assert config["seq2seq"]["share_embeddings"]
    assert config["source_vocab"] == config["target_vocab"]
    assert {"three", "drei"} <= set(config["source_vocab"]["tokens"])
    assert config["task_config"]["lowercase"]
    assert [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]["step"] == 3
