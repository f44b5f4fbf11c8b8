"""The lecture sections of the tour before the applications: representations, the worked
examples (linear RNN, LSTM memory cell, one-hot, bag of words), BPTT and vanishing gradients.

Each function takes the `TourContext` and returns a `Section`; the numbers come from the
library's own functions (`rnnkit.analysis.explore`, `rnnkit.represent`, the cells,
`rnnkit.analysis.experiments`), never from numbers written here. The application sections are
in `rnnkit.tour.apps`.

References:
    J. L. Elman, "Finding Structure in Time", Cognitive Science 14(2), 1990 (the RNN).
    S. Hochreiter and J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997.
    T. Mikolov, K. Chen, G. Corrado and J. Dean, "Efficient Estimation of Word Representations
    in Vector Space", 2013, https://arxiv.org/abs/1301.3781 (word2vec).
    Y. Bengio, P. Simard and P. Frasconi, "Learning long-term dependencies with gradient descent
    is difficult", IEEE TNN 5(2), 1994; R. Pascanu, T. Mikolov and Y. Bengio, "On the difficulty
    of training recurrent neural networks", ICML 2013 (vanishing and exploding gradients).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F

from rnnkit.analysis.experiments.gradient_config import (
    HeatmapConfig,
    ScalarConfig,
    SpectrumConfig,
)
from rnnkit.analysis.experiments.variants import tiny_shakespeare_path
from rnnkit.analysis.explore import WORDS, explore, load_corpus
from rnnkit.analysis.explore_config import ExploreConfig
from rnnkit.cells.base import RecurrentCell
from rnnkit.cells.lstm import LSTMCell, LSTMState
from rnnkit.cells.rnn import ElmanCell, RNNState
from rnnkit.errors import RnnkitError
from rnnkit.represent.bow import BagOfWords
from rnnkit.represent.onehot import OneHotEncoder
from rnnkit.tour.page import Figure, Number, Section, paragraph, preformatted, table

TOUR = "rnnkit tour --out DIR --sections"  # the command that reruns one section
LECTURE_SENTENCE = "we like TensorLayer, do we?"  # the lectures' one-hot / bag-of-words text
LECTURE_LEXICON = ("apple", "bag", "cat", "dog", "elephant")  # the lectures' 5-word lexicon
BOW_DOCUMENTS = (  # three short documents for the counts and tf-idf table
    "we like TensorLayer, do we?",
    "we like recurrent networks",
    "do recurrent networks like long sequences?",
)
NEIGHBOUR_WORDS = ("king", "love", "night", "death", "father")  # word2vec queries
TourSize = Literal["tiny", "quick", "full"]  # tiny: every step runs, in seconds (tests)


class SectionSkipped(RnnkitError):  # noqa: N818  (a condition, not a failure)
    """A section cannot run here (its data or an optional extra is absent); the page says why."""


@dataclass(frozen=True)
class TourContext:
    """Where and how big: the page folder, the budgets, and how shared data is found."""

    out_dir: Path
    size: TourSize
    locate: Callable[[str], Path | None]  # a shared/data folder name -> its path, or None

    @property
    def quick(self) -> bool:
        """The quick or tiny budgets (the flags of the commands say --quick)."""
        return self.size != "full"

    def figure_dir(self, name: str) -> Path:
        """figures/<name>/ beside the page, created."""
        folder = self.out_dir / "figures" / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def relative(self, path: Path) -> str:
        """`path` relative to the page folder, with / separators (for an <img src>)."""
        return path.relative_to(self.out_dir).as_posix()


def _fmt(value: float, digits: int = 6) -> str:
    return f"{value:.{digits}g}"


# -- representations ---------------------------------------------------------------------------
def representations(context: TourContext) -> Section:
    """Vocabularies, OOV rate and letter-n-gram hashing of Tiny Shakespeare (`explore`), the
    top tf-idf words per speaker, and the nearest neighbours of word2vec vectors trained on it."""
    max_chars = {"tiny": 60_000, "quick": 300_000, "full": None}[context.size]
    config = ExploreConfig(max_chars=max_chars)
    text = load_corpus(max_chars)
    report = explore(text, config)
    explore_command = "rnnkit explore" + (f" --max-chars {max_chars}" if max_chars else "")
    numbers = [
        Number("characters read", f"{report.num_chars:,}", explore_command),
        Number("character vocabulary (code points)", str(report.char_vocab_size), explore_command),
        Number(
            f"word vocabulary (min_freq={config.min_freq}, + specials)",
            f"{len(report.vocab):,}",
            explore_command,
        ),
        Number(
            "held-out OOV rate (word tokens -> <unk>)", f"{report.oov_rate:.2%}", explore_command
        ),
    ]
    hashing_rows = [
        [n, f"{report.word_types:,}", f"{size_:,}", sum(len(g) for g in groups),
         " = ".join(groups[0][:3]) if groups else "-"]
        for n, size_, groups in report.hashing
    ]  # fmt: skip
    speaker_rows = [
        [speaker, f"{count:,}", ", ".join(f"{token} ({weight:.1f})" for token, weight in terms)]
        for speaker, count, terms in report.speakers
    ]
    word2vec_html, word2vec_number = _word2vec_neighbours(context, text)
    numbers.append(word2vec_number)
    body = (
        paragraph(
            f"Tiny Shakespeare ({report.num_chars:,} characters) cut into words; the vocabulary "
            f"is built from the first {config.train_fraction:.0%} and measured on the rest."
        )
        + table(["n", "word types", "letter n-grams", "words in collisions", "example"],
                hashing_rows, caption="word hashing by letter n-grams (Huang et al. 2013)")
        + table(["speaker", "words", "top (1 + ln tf)·idf words"], speaker_rows,
                caption="bag of words: one document per speaker")
        + word2vec_html
    )  # fmt: skip
    return Section("", body, [], numbers)


def _word2vec_neighbours(context: TourContext, text: str) -> tuple[str, Number]:
    """Skip-gram vectors trained on the embedded corpus (tiny: on `text`, the explored part)
    and the nearest neighbours of a few words, as HTML, with the vocabulary size."""
    from rnnkit.represent.word2vec import Word2VecConfig, train_word2vec

    epochs = {"tiny": 1, "quick": 2, "full": 5}[context.size]
    config = Word2VecConfig(vector_size=50, epochs=epochs, min_count=5, threads=2, seed=1)
    corpus: Path | list[list[str]] = tiny_shakespeare_path()  # the embedded file itself
    if context.size == "tiny":
        corpus = [WORDS(line) for line in text.splitlines() if line.strip()]
    vectors = train_word2vec(corpus, config)
    command = (
        "rnnkit word2vec train src/rnnkit/tasks/data/tiny_shakespeare.txt --run-dir w2v "
        f"--vector-size 50 --epochs {epochs} --min-count 5"
    )
    rows = []
    for word in NEIGHBOUR_WORDS:
        if word in vectors.words:
            similar = vectors.most_similar(word, topn=5)
            rows.append([word, ", ".join(f"{w} ({score:.2f})" for w, score in similar)])
    html = paragraph(
        f"word2vec skip-gram with negative sampling, 50-d, {epochs} epochs over the corpus "
        "(a small budget: the neighbours are rough)."
    ) + table(["word", "nearest neighbours (cosine)"], rows, caption="word2vec: most similar words")
    return html, Number("word2vec vocabulary (min_count 5)", f"{len(vectors.words):,}", command)


# -- worked examples ---------------------------------------------------------------------------
def _fill(cell: RecurrentCell, value: float, **overrides: float) -> RecurrentCell:
    """Every parameter set to `value` (or overrides[name]): the lectures' constant weights."""
    with torch.no_grad():
        for name, parameter in cell.named_parameters():
            parameter.fill_(overrides.get(name, value))
    return cell


def _vector(values: torch.Tensor) -> str:
    return "(" + ", ".join(_fmt(float(v)) for v in values.flatten()) + ")"


def linear_rnn(context: TourContext) -> Section:
    """h_t = W_hh h_{t-1} + W_ih x_t + b stepped by hand with `ElmanCell(nonlinearity=
    "identity")`, every weight and bias 0.1, h_0 = (1, 1); the same steps with tanh beside it."""
    F_in, H, T = 3, 2, 4
    inputs = torch.arange(float(F_in * T), dtype=torch.float64).reshape(T, 1, F_in)  # (T, B, F)
    cells = {
        kind: _fill(ElmanCell(F_in, H, nonlinearity=kind, dtype=torch.float64), 0.1)
        for kind in ("identity", "tanh")
    }
    states = {kind: RNNState(torch.ones(1, H, dtype=torch.float64)) for kind in cells}
    rows = []
    with torch.no_grad():
        for t in range(T):
            row: list[object] = [t + 1, _vector(inputs[t])]
            for kind, cell in cells.items():
                states[kind] = cell(inputs[t], states[kind])  # h_t
                row.append(_vector(states[kind].hidden))
            rows.append(row)
    command = f"{TOUR} linear-rnn"
    numbers = [Number(f"linear RNN h_{t}", row[2], command) for t, row in enumerate(rows, 1)]
    body = (
        paragraph(
            "The Elman RNN with the identity as its activation is the linear RNN: "
            "h_t = W_hh h_{t−1} + W_ih x_t + b_ih + b_hh. Here F = 3, H = 2, every weight and "
            "bias is 0.1, h_0 = (1, 1) and x_t counts up, so h_1 = 0.1·(0+1+2) + 0.1·(1+1) + "
            "0.2 = 0.7 in each unit. The tanh column is the same cell with h_t = tanh(…)."
        )
        + table(["t", "x_t", "h_t (linear)", "h_t (tanh)"], rows)
        + preformatted(
            'ElmanCell(3, 2, nonlinearity="identity")  # every parameter filled with 0.1\n'
            "state = RNNState(torch.ones(1, 2)); state = cell(x_t, state) for each step"
        )
    )
    return Section("", body, [], numbers)


def _lstm_rows(cell: LSTMCell, x_t: torch.Tensor, steps: int, squash: bool) -> list[list]:
    """(t, i, f, c̃, o, c_t, h_t, |c_t − (f c_{t−1} + i c̃)|) per step: the gates from the cell's
    weights (σ and tanh when `squash`, else the linear LSTM's identity), c_t and h_t from the cell.
    """
    state = LSTMState(
        torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    )
    rows = []
    with torch.no_grad():
        for t in range(1, steps + 1):
            pre = F.linear(x_t, cell.weight_ih, cell.bias_ih) + F.linear(
                state.hidden, cell.weight_hh, cell.bias_hh
            )  # (1, 4H), rows i|f|c̃|o as torch
            i, f, g, o = pre.chunk(4, dim=-1)
            if squash:
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            previous = state.cell
            state = cell(x_t, state)  # (h_t, c_t) as the cell computes them
            check = (state.cell - (f * previous + i * g)).abs().item()  # c_t = f c_{t−1} + i c̃
            rows.append([t, *(_fmt(float(v)) for v in (i, f, g, o, state.cell, state.hidden)),
                         f"{check:.1e}"])  # fmt: skip
    return rows


def lstm_cell(context: TourContext) -> Section:
    """The memory-cell table: i_t, f_t, c̃_t, o_t, c_t, h_t step by step for x_t = (1, 2),
    every weight 0.1 and biases 0, first for the linear LSTM (identity activations) of the
    lectures, then for the standard LSTM (σ gates, tanh)."""
    steps = 5
    x_t = torch.tensor([[1.0, 2.0]], dtype=torch.float64)  # (B, F) = (1, 2)
    linear = LSTMCell(2, 1, activation="identity", recurrent_activation="identity",
                      dtype=torch.float64)  # fmt: skip
    standard = LSTMCell(2, 1, dtype=torch.float64)
    for cell in (linear, standard):
        _fill(cell, 0.1, bias_ih=0.0, bias_hh=0.0)
    headers = ["t", "i_t", "f_t", "c̃_t", "o_t", "c_t", "h_t", "|c_t − (f_t c_{t−1} + i_t c̃_t)|"]
    linear_rows = _lstm_rows(linear, x_t, steps, squash=False)
    standard_rows = _lstm_rows(standard, x_t, steps, squash=True)
    command = f"{TOUR} lstm-cell"
    numbers = [
        Number(f"{name} LSTM c_{row[0]}, h_{row[0]}", f"{row[5]}, {row[6]}", command)
        for name, rows in (("linear", linear_rows), ("standard", standard_rows))
        for row in rows[:2]
    ]
    body = (
        paragraph(
            "c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t and h_t = o_t ⊙ tanh(c_t) (Hochreiter & "
            "Schmidhuber 1997; Gers et al. 2000). F = 2, H = 1, every weight 0.1, biases 0, "
            "h_0 = c_0 = 0, and the same input x_t = (1, 2) at every step. In the linear LSTM "
            "every activation is the identity, so each gate equals its pre-activation "
            "0.1·1 + 0.1·2 + 0.1·h_{t−1}: at t = 1 all four are 0.3, c_1 = 0.3·0.3 = 0.09 and "
            "h_1 = 0.3·0.09 = 0.027. The last column checks the cell's c_t against the equation."
        )
        + table(headers, linear_rows, caption="linear LSTM: LSTMCell(2, 1, activation="
                '"identity", recurrent_activation="identity")')
        + table(headers, standard_rows, caption="standard LSTM: LSTMCell(2, 1), σ gates, tanh")
    )  # fmt: skip
    return Section("", body, [], numbers)


def one_hot(context: TourContext) -> Section:
    """One-hot rows over the lectures' 5-word lexicon plus the "other" slot, and over the
    lexicon that `fit` builds from the lectures' sentence."""
    encoder = OneHotEncoder(list(LECTURE_LEXICON))
    words = ["cat", "apple", "zebra", "dog"]
    rows = [[word, *(int(v) for v in row)] for word, row in zip(words, encoder.encode(words),
                                                                  strict=True)]  # fmt: skip
    fitted = OneHotEncoder().fit([LECTURE_SENTENCE])
    query = "do we like rnnkit?"
    tokens = fitted.tokenizer(query)
    fitted_rows = [[token, *(int(v) for v in row)]
                   for token, row in zip(tokens, fitted.transform(query), strict=True)]  # fmt: skip
    command = f"{TOUR} one-hot"
    numbers = [
        Number("dimension D (5 words + other)", str(encoder.dim), command),
        Number(
            f"index of the 1 for {query!r}",
            str(fitted.transform(query).argmax(dim=1).tolist()),
            command,
        ),
    ]
    body = (
        paragraph("A one-hot vector has one 1, at the word's index; a word outside the lexicon "
                  "goes to the extra 'other' slot (<unk>), so D = lexicon + 1.")
        + table(["word", *encoder.names], rows, caption="lexicon apple, bag, cat, dog, elephant")
        + paragraph(f"The lexicon built by fit([{LECTURE_SENTENCE!r}]), then {query!r}:")
        + table(["token", *fitted.names], fitted_rows)
    )  # fmt: skip
    return Section("", body, [], numbers)


def bag_of_words(context: TourContext) -> Section:
    """Counts and l2-normalised tf-idf of three short documents over the vocabulary `fit` builds
    (tf-idf: tf · ln((1 + N) / (1 + df)) + tf, scikit-learn's smoothing; Salton & Buckley 1988)."""
    counts = BagOfWords(mode="count").fit(BOW_DOCUMENTS)
    tfidf = BagOfWords(mode="tfidf", norm="l2").fit(BOW_DOCUMENTS)
    names = counts.get_feature_names_out()
    count_rows = [[f"d{k}", *(f"{float(v):g}" for v in counts.transform(doc))]
                  for k, doc in enumerate(BOW_DOCUMENTS, 1)]  # fmt: skip
    tfidf_rows = [[f"d{k}", *(f"{float(v):.3f}" for v in tfidf.transform(doc))]
                  for k, doc in enumerate(BOW_DOCUMENTS, 1)]  # fmt: skip
    documents = [[f"d{k}", doc] for k, doc in enumerate(BOW_DOCUMENTS, 1)]
    command = f"{TOUR} bag-of-words"
    first = counts.to_dict(counts.transform(BOW_DOCUMENTS[0]))
    numbers = [
        Number("vocabulary size V (with <unk>)", str(len(names)), command),
        Number("counts of d1", ", ".join(f"{w}: {c:g}" for w, c in first.items()), command),
    ]
    body = (
        paragraph("A document becomes a vector (V,) of word counts: order is lost, "
                  "'we' twice in d1 counts 2. tf-idf weighs each count by how rare the word is "
                  "across the documents.")
        + table(["document", "text"], documents)
        + table(["document", *names], count_rows, caption="counts")
        + table(["document", *names], tfidf_rows, caption="tf-idf, each row of length 1")
    )  # fmt: skip
    return Section("", body, [], numbers)


# -- BPTT ---------------------------------------------------------------------------------------
def _bptt_configs(size: TourSize) -> tuple[ScalarConfig, dict, HeatmapConfig]:
    """The scalar config, the spectrum's size fields and the heatmap config of a tour size
    (quick: the `--quick` sizes of `rnnkit analyze`; tiny: shorter still, for tests)."""
    if size == "tiny":
        heatmap = HeatmapConfig(length=20, steps=4, every=2, hidden_size=8, batch_size=8)
        return ScalarConfig(steps=50), {"quick": True, "length": 20, "radii": (0.9, 1.1)}, heatmap
    if size == "quick":
        return ScalarConfig(quick=True), {"quick": True}, HeatmapConfig(quick=True)
    heatmap = HeatmapConfig(length=50, steps=300, every=25, hidden_size=32, batch_size=32)
    return ScalarConfig(), {}, heatmap


def bptt(context: TourContext) -> Section:
    """The gradient experiments of `rnnkit analyze`: repeated multiplication, ‖∂L/∂h_t‖ of a
    linear and a tanh Elman RNN against ρ(W_hh), and ‖∂L/∂h_t‖ while an RNN and an LSTM learn
    the adding problem (Bengio et al. 1994; Pascanu et al. 2013)."""
    from rnnkit.analysis.experiments.gradient_experiments import run_scalar, run_spectrum
    from rnnkit.analysis.experiments.gradient_tasks import run_heatmap

    scalar_config, spectrum_sizes, heat_config = _bptt_configs(context.size)
    flag = " --quick" if context.quick else ""
    scalar = run_scalar(scalar_config, context.figure_dir("bptt-scalar"))
    spectra = {
        kind: run_spectrum(SpectrumConfig(nonlinearity=kind, **spectrum_sizes),
                           context.figure_dir(f"bptt-spectrum-{kind}"))
        for kind in ("identity", "tanh")
    }  # fmt: skip
    heatmap = run_heatmap(heat_config, context.figure_dir("bptt-heatmap"))
    numbers = [
        Number(f"g_N = {factor:g}^N, N = {len(scalar.steps)}", f"{value:.3e}",
               f"rnnkit analyze scalar --out DIR{flag}")
        for factor, value in scalar.final.items()
    ]  # fmt: skip
    rows = []
    for kind, result in spectra.items():
        for rho, norms in result.norms.items():
            far = len(norms) - 1
            rows.append([kind, f"{rho:g}", f"{result.measured_radius[rho]:.4f}",
                         f"{norms[0]:.3e}", f"{norms[far]:.3e}"])  # fmt: skip
            numbers.append(Number(f"{kind} RNN, ρ = {rho:g}: ‖∂L/∂h_t‖ at T − t = {far}",
                                  f"{norms[far]:.3e}",
                                  f"rnnkit analyze spectrum --nonlinearity {kind} --out DIR"
                                  f"{flag}"))  # fmt: skip
    heat_size = ("--quick" if context.quick else "--length 50 --steps 300 --every 25 "
                 "--hidden-size 32 --batch-size 32")  # fmt: skip
    for variant, values in heatmap.maps.items():
        last = values[-1]
        numbers.append(Number(f"{variant}: log₁₀ ‖∂L/∂h_1‖ − log₁₀ ‖∂L/∂h_T‖ after training",
                              f"{float(last[0] - last[-1]):+.2f}",
                              f"rnnkit analyze heatmap {heat_size} --out DIR"))  # fmt: skip
    figures = [
        Figure(context.relative(scalar.files[0]), "repeated multiplication by (tanh)'·w"),
        *(Figure(context.relative(result.files[0]), f"‖∂L/∂h_t‖ of an Elman RNN ({kind}) "
                 "against the distance T − t, one curve per spectral radius ρ(W_hh)")
          for kind, result in spectra.items()),
        Figure(context.relative(heatmap.files[0]), "log₁₀ ‖∂L/∂h_t‖ over time steps (x) and "
               "training steps (y) on the adding problem"),
    ]  # fmt: skip
    body = (
        paragraph("Back-propagation through time multiplies the gradient by one Jacobian "
                  "∂h_t/∂h_{t−1} per step back. For the linear RNN that is W_hh, so ‖∂L/∂h_t‖ "
                  "goes like ρ(W_hh)^(T−t): it vanishes for ρ < 1 and explodes for ρ > 1.")
        + table(["activation", "ρ asked", "ρ(W_hh) measured", "‖∂L/∂h_T‖", "‖∂L/∂h_1‖"], rows)
    )  # fmt: skip
    return Section("", body, figures, numbers)


LECTURE_SECTIONS: dict[str, Callable[[TourContext], Section]] = {
    "representations": representations,
    "linear-rnn": linear_rnn,
    "lstm-cell": lstm_cell,
    "one-hot": one_hot,
    "bag-of-words": bag_of_words,
    "bptt": bptt,
}
