"""The sections of the guided tour in lecture order, with their titles and what data they need.

This module imports no torch, so that `rnnkit tour --help` can list the sections quickly.
"""

from __future__ import annotations

# name -> title, in the order of the lectures: representations, the worked examples, BPTT and
# vanishing gradients, then one application per input/output pattern.
SECTION_TITLES: dict[str, str] = {
    "representations": "Representations of text: tokens, vocabularies, hashing, word2vec",
    "linear-rnn": "Worked example: the linear RNN, step by step",
    "lstm-cell": "Worked example: the LSTM memory cell, step by step",
    "one-hot": "Worked example: one-hot vectors",
    "bag-of-words": "Worked example: bag of words and tf-idf",
    "bptt": "Back-propagation through time: vanishing and exploding gradients",
    "charlm": "Many to many (synchronous): a character language model",
    "sentiment": "Many to one: sentence polarity",
    "ner": "Many to many (tagging): named entities",
    "forecast": "Many to many (streaming): forecasting a time series",
    "translate": "Many to many (encoder–decoder): translation",
    "caption": "One to many: image captioning",
    "music": "Many to many (multi-label): Bach chorales as piano rolls",
}
SECTION_NAMES: tuple[str, ...] = tuple(SECTION_TITLES)
