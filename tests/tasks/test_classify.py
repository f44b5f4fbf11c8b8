"""Tasks sentiment and spam end to end: train from the CLI, the report, `rnnkit predict`."""

from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.config import make_config
from rnnkit.models.many_to_one import hashing_table
from rnnkit.tasks.classify.train import (
    ClassificationObjective,
    ClassifyConfig,
    SpamConfig,
    TextBatch,
    build,
    class_weights,
    encode_texts,
    load_classifier,
    predict_proba,
)
from rnnkit.text.tokenize import Tokenizer
from rnnkit.text.vocab import PAD, UNK, Vocab
from rnnkit.training import read_metrics
from rnnkit.training.plots import run_figures

POSITIVE, NEGATIVE = ["good", "great", "superb", "fun"], ["bad", "awful", "dull", "boring"]
FILLER = ["the", "film", "was", "plot", "acting", "and", "very", "a", "really", "story"]


pytestmark = pytest.mark.usefixtures("one_thread")


def _write_reviews(path: Path, count: int = 96) -> Path:
    """A separable CSV: a positive text holds a positive word, a negative one a negative word."""
    rng = random.Random(0)
    lines = ["text,label"]
    for i in range(count):
        label = "pos" if i % 2 else "neg"
        words = rng.choices(FILLER, k=rng.randint(2, 9))
        words.insert(rng.randint(0, len(words)), rng.choice(POSITIVE if i % 2 else NEGATIVE))
        lines.append(f"{' '.join(words)},{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _train(tmp_path: Path, *extra: str) -> Path:
    run = tmp_path / "run"
    argv = [
        "train", "sentiment", "--data", str(_write_reviews(tmp_path / "reviews.csv")),
        "--dataset", "csv", "--folds", "4", "--cell", "gru", "--embed-dim", "8",
        "--hidden-size", "8", "--batch-size", "8", "--dropout", "0.0", "--max-steps", "120",
        "--lr", "0.03", "--eval-every", "0", "--checkpoint-every", "0", "--quiet",
        "--pooling", "max", "--device", "cpu", "--run-dir", str(run), *extra,
    ]  # fmt: skip
    assert main(argv) == 0
    return run


def test_train_report_and_predict_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _train(tmp_path)
    out = capsys.readouterr().out
    assert "accuracy" in out
    assert "true \\ predicted" in out
    assert f'  rnnkit predict {run} "a text to classify"' in out.splitlines()  # never wrapped
    assert (run / "plots" / "confusion.png").exists()
    last = [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]
    assert last["val_accuracy"] >= 0.95  # 24 held-out texts
    config = json.loads((run / "config.json").read_text())
    assert config["classes"] == ["neg", "pos"]
    assert config["split"] == {"dataset": "reviews", "train": 72, "test": 24}
    # one prediction per text: throughput in examples, the loss plot per example
    train_row = [row for row in read_metrics(run) if row.get("kind") == "train"][-1]
    assert "examples_per_s" in train_row
    assert "tokens_per_s" not in train_row
    label = "mean cross-entropy per example (nats)"
    assert config["objective"] == {"unit": "example", "loss": label}
    assert run_figures(run)["loss.png"].axes[0].get_ylabel() == label

    assert main(["predict", str(run), "a really good story", "the plot was awful"]) == 0
    out = capsys.readouterr().out
    blocks = out.strip().split('\n"')
    assert len(blocks) == 2
    values = [float(v) for v in re.findall(r"y[¹²] = (\d\.\d{4})", out)]
    assert len(values) == 4
    assert values[0] + values[1] == pytest.approx(1.0, abs=2e-4)
    assert re.search(r"y² = \d\.\d{4}  pos  ←", blocks[0])  # "good" -> pos
    assert re.search(r"y¹ = \d\.\d{4}  neg  ←", blocks[1])  # "awful" -> neg

    monkeypatch.setattr("sys.stdin", io.StringIO("very fun film\n\nboring acting\n"))
    assert main(["predict", str(run), "--threshold", "0.999999"]) == 0
    out = capsys.readouterr().out
    assert out.count("←") == 2
    assert out.count("neg  ←") == 2  # θ near 1: nothing is called positive


def test_predict_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.json").write_text('{"task": "charlm"}')
    assert main(["predict", str(tmp_path), "text"]) == 2
    assert "not a classification run" in capsys.readouterr().out


def test_loaded_bow_model_predicts_like_the_trained_one(tmp_path: Path) -> None:
    run = _train(tmp_path, "--classifier", "bow", "--lr", "0.2")
    loaded = load_classifier(run)
    probabilities = predict_proba(loaded, ["great fun", "dull and boring"])
    assert probabilities.argmax(-1).tolist() == [1, 0]
    assert torch.allclose(probabilities.sum(-1), torch.ones(2))


@pytest.mark.shared_data("sms_spam")  # data=None: the task's default, shared/data/sms_spam
def test_spam_split_on_the_real_collection() -> None:
    setup = build(SpamConfig(classifier="bow"), data=None, seed=0)
    assert setup.artifacts["classes"] == ["ham", "spam"]
    assert setup.artifacts["split"] == {"dataset": "sms_spam", "train": 4459, "test": 1115}
    labels = torch.cat([batch.labels for batch in setup.eval_data])
    assert int(labels.sum()) in (149, 150)
    first = setup.train_data.next_batch()
    assert first.token_ids.shape[0] == 32
    spread = first.lengths.max() - first.lengths.min()  # bucketed: similar lengths
    assert int(spread) <= 6


def test_class_weights_and_threshold() -> None:
    weights = class_weights([0, 0, 0, 1], 2)  # N / (C·N_c)
    assert weights.tolist() == pytest.approx([4 / 6, 2.0])
    objective = ClassificationObjective(("ham", "spam"), threshold=0.8)
    decided = objective.decide(torch.tensor([[0.3, 0.7], [0.1, 0.9]]))
    assert decided.tolist() == [0, 1]
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])

    def fixed(token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return logits

    labels = torch.tensor([0, 1, 1])
    batch = TextBatch(torch.zeros(3, 1, dtype=torch.long), torch.ones(3), labels)
    weighted = ClassificationObjective(("ham", "spam"), weights=torch.tensor([1.0, 3.0]))
    nll = -torch.log_softmax(logits, -1)[torch.arange(3), labels]  # −ln y_b[c_b]
    expected = (nll[0] + 3 * nll[1] + 3 * nll[2]) / 7  # Σ a·nll / Σ a
    result = weighted.loss(fixed, batch, None)  # type: ignore[arg-type]
    assert float(result.loss) == pytest.approx(float(expected))
    assert result.num_tokens == 3
    assert ClassifyConfig().folds == 10


def test_word2vec_vectors_initialise_the_embedding(tmp_path: Path) -> None:
    data = _write_reviews(tmp_path / "reviews.csv")
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 4\ngood 1 2 3 4\nawful -1 -2 -3 -4\nnotinthedata 9 9 9 9\n")
    config = make_config(
        ClassifyConfig, dataset="csv", folds=4, pretrained=str(vectors), hidden_size=4
    )
    setup = build(config, data=data, seed=0)
    vocab = setup.artifacts["vocab"]["tokens"]
    table = setup.model.embedding.weight
    assert table.shape[1] == 4  # E from the file
    assert table[vocab.index("good")].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert table[vocab.index("awful")].tolist() == [-1.0, -2.0, -3.0, -4.0]
    assert table[0].abs().sum() == 0  # <pad>
    assert table.requires_grad  # fine-tuned unless --freeze-embedding


def test_a_word_hashing_run_reloads_its_ngram_table(tmp_path: Path) -> None:
    run = _train(tmp_path, "--representation", "hashing", "--max-steps", "20")
    loaded = load_classifier(run)
    table, buckets = hashing_table(loaded.vocab)
    assert torch.equal(loaded.model.ngram_table, table)
    assert loaded.model.config.hash_buckets == buckets
    probabilities = predict_proba(loaded, ["good", "awful story"])
    assert probabilities.shape == (2, 2)


def test_long_texts_keep_their_first_or_last_tokens() -> None:
    vocab = Vocab(["a", "b", "c", "d"], specials=(PAD, UNK), tokenizer=Tokenizer(kind="word"))
    first = encode_texts(["a b c d", "zzz"], vocab, 2)
    last = encode_texts(["a b c d"], vocab, 2, "last")
    assert [ids.tolist() for ids in first] == [[2, 3], [1]]  # unknown word -> <unk>
    assert last[0].tolist() == [4, 5]
