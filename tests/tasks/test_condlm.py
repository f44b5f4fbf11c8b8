"""Task condlm: labelled texts, batches, the objective, training, `rnnkit generate --condition`."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from rnnkit.cli import main
from rnnkit.config import make_config
from rnnkit.console import console
from rnnkit.datasets.labelled_text import load_rt_polarity
from rnnkit.datasets.shared import find_shared
from rnnkit.errors import CheckpointError, ConfigError, RnnkitError
from rnnkit.losses.sequence import sequence_cross_entropy
from rnnkit.models.one_to_many import ConditionedDecoder, ConditionedDecoderConfig
from rnnkit.tasks.condlm.train import (
    CondLMConfig,
    CondLMObjective,
    build,
    collate,
    generate_conditioned,
    load_condlm,
    load_texts,
)
from rnnkit.text.vocab import Vocab
from rnnkit.training import read_metrics

pytestmark = pytest.mark.usefixtures("one_thread")

TEMPLATES = ["a {} movie .", "the film was {} .", "{} acting and a {} plot .", "what a {} story ."]
CLASSES = ("bad", "good")  # sorted by name, as load_labelled_file orders them


def write_reviews(path: Path, *, per_class: int = 40) -> Path:
    """A .csv or .jsonl of short reviews; a review of class "good" uses "good", never "bad"."""
    rows = [{"text": TEMPLATES[k % 4].format(word, word), "label": word}
            for k in range(per_class) for word in ("good", "bad")]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["text", "label"])
            writer.writeheader()
            writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(run folder, what training printed): 150 updates of a tiny LSTM on the reviews CSV."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("condlm")
    run = folder / "run"
    argv = [
        "train", "condlm", "--dataset", "csv", "--data", str(write_reviews(folder / "r.csv")),
        "--min-freq", "1", "--embed-dim", "16", "--hidden-size", "32", "--dropout", "0.0",
        "--batch-size", "16", "--max-steps", "150", "--lr", "0.01", "--eval-every", "0",
        "--checkpoint-every", "0", "--quiet", "--device", "cpu", "--run-dir", str(run),
    ]  # fmt: skip
    try:
        with console.capture() as printed:
            assert main(argv) == 0
        yield run, printed.get()
    finally:
        torch.set_num_threads(threads)


def _generate(run: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["generate", str(run), *args]) == 0
    return capsys.readouterr().out.splitlines()


def _words(lines: list[str], word: str) -> int:
    return sum(line.split().count(word) for line in lines)


# -- data and batches -----------------------------------------------------------------------------
def test_config_refuses_non_positive_sizes() -> None:
    with pytest.raises(ConfigError, match="hidden_size must be a positive integer, got 0"):
        make_config(CondLMConfig, hidden_size=0)
    with pytest.raises(ConfigError, match="max_tokens must be a positive integer, got -1"):
        CondLMConfig(max_tokens=-1)


def test_load_texts_reads_csv_and_jsonl_and_needs_data_for_csv(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dataset csv needs --data FILE"):
        load_texts(CondLMConfig(dataset="csv"), None)
    for suffix in ("csv", "jsonl"):
        texts = load_texts(CondLMConfig(dataset="csv"), write_reviews(tmp_path / f"r.{suffix}"))
        assert texts.classes == CLASSES
        assert len(texts) == 80
        assert texts.texts[:2] == ["a good movie .", "a bad movie ."]
        assert texts.labels[:2] == [1, 0]


def _vocab() -> Vocab:
    texts = [t.format(w, w) for t in TEMPLATES for w in ("good", "bad")]
    return Vocab.build_from_iterator((t.split() for t in texts), None)


def test_collate_makes_onehot_conditions_and_the_shifted_target() -> None:
    vocab = _vocab()
    eos, bos, pad = vocab.eos_id, vocab.bos_id, vocab.pad_id
    rows = [(1, torch.tensor([7, 8, eos])), (0, torch.tensor([9, eos])), (2, torch.tensor([eos]))]
    batch = collate(rows, 3, vocab)
    assert batch.condition.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    assert batch.condition.dtype == torch.float32
    assert batch.target_out.tolist() == [[7, 8, eos], [9, eos, pad], [eos, pad, pad]]
    assert batch.target_in.tolist() == [[bos, 7, 8], [bos, 9, pad], [bos, pad, pad]]
    assert not bool((batch.target_in == eos).any())


def _decoder(vocab: Vocab) -> ConditionedDecoder:
    config = ConditionedDecoderConfig(vocab_size=len(vocab), embed_dim=4, condition_size=2,
                                      hidden_size=6, conditioning="every_step",
                                      pad_id=vocab.pad_id, bos_id=vocab.bos_id,
                                      eos_id=vocab.eos_id)  # fmt: skip
    return ConditionedDecoder(config).eval()


def test_loss_is_masked_cross_entropy_and_perplexity_is_exp_loss() -> None:
    vocab = _vocab()
    model = _decoder(vocab)
    objective = CondLMObjective(vocab)
    encode = [vocab.encode(t.split(), add_eos=True)
              for t in ("a good movie .", "what a bad story .", "good .")]  # fmt: skip
    first, second = (
        collate([(1, encode[0]), (0, encode[1])], 2, vocab),
        collate([(1, encode[2])], 2, vocab),
    )
    with torch.no_grad():
        result = objective.loss(model, first, None)
        logits = model(first.condition, first.target_in)
        expected = sequence_cross_entropy(logits, first.target_out, ignore_index=vocab.pad_id)
        assert float(result.loss) == pytest.approx(float(expected), abs=1e-6)
        assert result.num_tokens == 5 + 6  # words and <eos> of both rows, no <pad>
        metrics = objective.evaluate(model, [first, second])
        other = objective.loss(model, second, None)
    mean = (float(result.loss) * 11 + float(other.loss) * 3) / 14  # weighted by tokens
    assert metrics["loss"] == pytest.approx(mean, rel=1e-6)
    assert metrics["perplexity"] == pytest.approx(torch.tensor(mean).exp().item(), rel=1e-5)
    assert set(metrics) == {"loss", "perplexity"}


def test_build_on_a_csv_holds_out_a_stratified_tenth(tmp_path: Path) -> None:
    config = make_config(
        CondLMConfig, dataset="csv", min_freq=1, embed_dim=4, hidden_size=6, batch_size=8
    )
    setup = build(config, data=write_reviews(tmp_path / "r.csv"), seed=3)
    assert setup.artifacts["split"] == {"train": 72, "valid": 8}
    assert setup.artifacts["classes"] == list(CLASSES)
    assert setup.model.config.condition_size == 2
    assert setup.artifacts["decoder"]["vocab_size"] == len(setup.artifacts["vocab"]["tokens"])
    held_out = list(setup.eval_data)
    assert len(held_out) == 1
    assert held_out[0].condition.sum(0).tolist() == [4.0, 4.0]  # a tenth of each class
    batch = setup.train_data.next_batch()
    assert batch.condition.shape == (8, 2)
    assert batch.target_in.shape == batch.target_out.shape
    assert int(batch.target_in[0, 0]) == Vocab.from_dict(setup.artifacts["vocab"]).bos_id


@pytest.mark.shared_data("sentiment_rt_polarity")  # data=None: the task's default data set
def test_the_sentence_polarity_data_builds_with_a_stratified_tenth_held_out() -> None:
    config = make_config(CondLMConfig, embed_dim=4, hidden_size=4)
    setup = build(config, data=None, seed=1337)
    assert setup.artifacts["classes"] == ["negative", "positive"]
    # 10,662 sentences dealt round-robin into 10 folds: folds 0 and 1 get 1,067, the rest 1,066
    assert setup.artifacts["split"] == {"train": 9_595, "valid": 1_067}
    per_class = sum(batch.condition.sum(0) for batch in setup.eval_data).tolist()
    assert per_class == [534.0, 533.0]  # ⌈5,331 / 10⌉ negative, ⌊5,331 / 10⌋ positive
    texts = load_rt_polarity(find_shared("sentiment_rt_polarity"))
    assert texts.class_counts() == [5_331, 5_331]


# -- training and generation ----------------------------------------------------------------------
def test_training_reports_perplexity_and_how_to_generate(trained: tuple[Path, str]) -> None:
    run, printed = trained
    assert "validation perplexity" in printed
    assert f"rnnkit generate {run} --condition good".replace(" ", "") in "".join(printed.split())
    last = [row for row in read_metrics(run) if row.get("kind") == "eval"][-1]
    assert last["val_perplexity"] == pytest.approx(torch.tensor(last["val_loss"]).exp().item())
    assert last["val_perplexity"] < 2.0  # 1.26: only the template and the class word vary
    config = json.loads((run / "config.json").read_text())
    assert config["classes"] == list(CLASSES)
    assert config["split"] == {"train": 72, "valid": 8}


def test_generate_writes_the_asked_for_class(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = trained
    good = _generate(run, capsys, "--condition", "good", "--count", "5", "--seed", "0")
    bad = _generate(run, capsys, "--condition", "bad", "--count", "5", "--seed", "0")
    assert len(good) == len(bad) == 5
    assert _words(good, "good") >= 5 > 2 >= _words(good, "bad")  # 7 and 0
    assert _words(bad, "bad") >= 5 > 2 >= _words(bad, "good")  # 8 and 1
    assert all(line.split()[-1] == "." for line in good + bad)  # sentences end before <eos>


def test_generate_is_reproducible_with_a_seed(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = trained
    hot = ["--condition", "good", "--count", "20", "--temperature", "2"]
    first = _generate(run, capsys, *hot, "--seed", "0")
    assert _generate(run, capsys, *hot, "--seed", "0") == first
    assert _generate(run, capsys, *hot, "--seed", "1") != first
    greedy = _generate(run, capsys, "--condition", "bad", "--count", "3", "--greedy")
    assert len(set(greedy)) == 1  # the argmax path does not depend on the seed
    assert "bad" in greedy[0].split()
    short = _generate(run, capsys, "--condition", "bad", "--count", "4", "--length", "2")
    assert len(short) == 4
    assert all(len(line.split()) <= 2 for line in short)


def test_generate_needs_a_known_condition(
    trained: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = trained
    assert main(["generate", str(run)]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "pass --condition, one of ['bad', 'good']" in out
    assert main(["generate", str(run), "--condition", "great"]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "condition must be one of ['bad', 'good'], got 'great'" in out
    assert main(["generate", str(run), "--condition", "good", "--count", "0"]) == 2
    assert "count must be a positive integer, got 0" in capsys.readouterr().out


def test_load_condlm_and_generate_conditioned(trained: tuple[Path, str], tmp_path: Path) -> None:
    run, _ = trained
    loaded = load_condlm(run)
    assert loaded.classes == CLASSES
    assert not loaded.model.training
    latest = load_condlm(run, checkpoint="latest")
    for name, tensor in loaded.model.state_dict().items():
        assert torch.equal(tensor, latest.model.state_dict()[name]), name
    texts = generate_conditioned(loaded, "good", 3, temperature=0.0)
    assert len(texts) == 3
    assert texts[0] == texts[1] == texts[2]
    assert "good" in texts[0].split()
    sampled = generate_conditioned(loaded, "bad", 6, seed=5)
    assert sampled == generate_conditioned(loaded, "bad", 6, seed=5)
    with pytest.raises(ConfigError, match="count must be a positive integer, got 0"):
        generate_conditioned(loaded, "good", 0)

    other = tmp_path / "caption"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"task": "caption", "captioner": {}}))
    with pytest.raises(ConfigError, match=r"is not a condlm run \(task 'caption'\)"):
        load_condlm(other)
    with pytest.raises(RnnkitError, match="not an rnnkit run directory"):
        load_condlm(tmp_path / "nowhere")
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(run / "config.json", bare / "config.json")
    with pytest.raises(CheckpointError, match="holds no checkpoint yet"):
        load_condlm(bare)
