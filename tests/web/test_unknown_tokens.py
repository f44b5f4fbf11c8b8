"""The web API reads text as each run read its corpus and marks the tokens the run never saw.

classify, tag and translate answer `unknown` (one flag per token read: `tokens`, or the
translation's `source_tokens`) and `unknown_share` (unknown / tokens) (issue 20, item 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rnnkit.tasks.classify.train import load_classifier, predict_proba
from rnnkit.tasks.ner.tagger import load_tagger, tag_sentences


def test_classify_reads_as_the_corpus_and_marks_unknown_tokens(
    client: TestClient, runs: dict[str, Path]
) -> None:
    url = f"/api/models/{runs['sentiment'].name}/classify"
    body = client.post(url, json={"text": "A GOOD Film, truly."}).json()
    assert body["tokens"] == ["a", "good", "film", ",", "truly", "."]  # lower-cased, split
    assert body["unknown"] == [False, False, False, True, True, False]  # "," and "truly"
    assert body["unknown_share"] == pytest.approx(2 / 6)
    expected = predict_proba(load_classifier(runs["sentiment"]), ["a good film , truly ."])[0]
    assert body["probabilities"] == pytest.approx(expected.tolist(), abs=1e-7)


def test_tag_marks_words_the_tagger_never_saw(client: TestClient, runs: dict[str, Path]) -> None:
    text = "Yesterday, Harry Potter met Zorro in London..."
    body = client.post(f"/api/models/{runs['ner'].name}/tag", json={"text": text}).json()
    tokens = ["Yesterday", ",", "Harry", "Potter", "met", "Zorro", "in", "London", "..."]
    assert body["tokens"] == tokens
    [tags] = tag_sentences(load_tagger(runs["ner"]), [tokens])
    assert body["tags"] == tags
    flags = [True, True, False, False, False, True, False, False, True]  # corpus: lower-case
    assert body["unknown"] == flags
    assert body["unknown_share"] == pytest.approx(4 / 9)


def test_translate_marks_unknown_source_tokens(client: TestClient, runs: dict[str, Path]) -> None:
    url = f"/api/models/{runs['translate'].name}/translate"
    body = client.post(url, json={"text": "three one four unknownword", "beam": 2}).json()
    assert body["source_tokens"] == ["three", "one", "four", "unknownword"]
    assert body["unknown"] == [False, False, False, True]
    assert body["unknown_share"] == 0.25
