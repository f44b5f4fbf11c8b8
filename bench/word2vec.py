"""word2vec benchmark: rnnkit's skip-gram and CBOW against gensim, same corpus, same settings.

Usage:
    python -m bench.word2vec [--data DIR] [--max-words N] [--models skipgram,cbow]
                             [--threads 2] [--epochs 5] [--batch-size SLOTS] [--repeats 1]
                             [--cbow-negative-group G] [--device cpu|cuda]

Data: the `.txt`/`.gz` files of `../shared/data/english_corpus` beside the repository (196
Project Gutenberg books), read as `rnnkit.represent.word2vec` reads a corpus folder: sorted,
plain lines (PG's header and licence included), `word_tokenize` lower-cased without
punctuation, one document per file, cut after --max-words tokens. Both libraries get the same
token lists: rnnkit one list per book, gensim the same books cut into 10,000-token sentences
(gensim truncates longer ones), so that windows never cross books in either.

Both train with the same hyper-parameters (gensim's defaults unless given: E = 100, W = 5,
K = 5, ns_exponent 0.75, t = 1e-3, min_count 5, 5 epochs, η 0.025 → 1e-4) and the same number of
threads, in the same process, one after the other. rnnkit's own knobs (context slots per SGD
step, CBOW centre words per draw of negatives) keep their defaults unless given. With
--repeats R the pair runs R times, alternating; the ratios use the best run of each. Reported:

    train s        wall-clock seconds of training (vocabulary building excluded for both)
    cpu s          process CPU seconds of training, all threads (less disturbed by other load)
    words/s        epochs · N / train s, N = corpus words that survive min_count
    words/cpu-s    epochs · N / cpu s
    gensim eff/s   gensim's own log figure: effective (kept after subsampling) words/s
    analogy        accuracy on questions-words.txt, 30,000 most frequent words, case-insensitive
    ws353 ρ        Spearman ρ of cosine against WordSim-353 scores

Both are scored by the same code (`rnnkit.represent.word2vec.evaluation`), gensim's vectors
copied into a `WordVectors`. gensim (4.4) is a bench-only dependency: `pip install gensim`.

rnnkit's CBOW runs its steps in C on the CPU (`rnnkit.represent.word2vec.native`, compiled on
first use; the header line says whether it could be built); RNNKIT_WORD2VEC_NATIVE=0 runs the
torch steps instead, to compare the two.

--device cpu|cuda trains rnnkit with its batched trainer on that device (one thread, the same
draws and steps; `--batch-size` is then the step size to try); gensim always runs on the CPU
with --threads workers (on a GPU machine give it all the cores: --threads $(nproc)).
"""

from __future__ import annotations

import argparse
import gzip
import logging
import re
import time
from pathlib import Path

import torch

from rnnkit.represent.word2vec import Word2VecConfig, WordVectors, encode_corpus, train_encoded
from rnnkit.represent.word2vec.corpus import corpus_files
from rnnkit.represent.word2vec.evaluation import evaluate_analogies, evaluate_word_pairs
from rnnkit.represent.word2vec.native import cbow_kernel
from rnnkit.text.tokenize import word_tokenize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GENSIM_SENTENCE = 10_000  # gensim's MAX_WORDS_IN_BATCH: longer sentences are truncated


def read_books(folder: Path, max_words: int) -> list[list[str]]:
    """The corpus as one token list per file, at most `max_words` tokens in all."""
    books, total = [], 0
    for path in corpus_files(folder):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            tokens = word_tokenize(handle.read(), lowercase=True, keep_punctuation=False)
        books.append(tokens[: max_words - total])
        total += len(books[-1])
        if total >= max_words:
            break
    return books


class _GensimRate(logging.Handler):
    """Collects the 'effective words/s' figure gensim logs at the end of each epoch."""

    pattern = re.compile(r"([\d.]+) effective words/s")

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.rates: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        found = self.pattern.search(record.getMessage())
        if found:
            self.rates.append(float(found.group(1)))


def run_rnnkit(
    books: list[list[str]], config: Word2VecConfig
) -> tuple[WordVectors, float, float, int]:
    encoded = encode_corpus(books, min_count=config.min_count, window=config.window)
    started, cpu = time.perf_counter(), time.process_time()
    vectors = train_encoded(encoded, config)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return vectors, seconds, cpu, int(encoded.ids.size)


def run_gensim(
    books: list[list[str]], config: Word2VecConfig
) -> tuple[WordVectors, float, float, int, float]:
    from gensim.models import Word2Vec  # bench-only dependency

    sentences = [
        b[i : i + GENSIM_SENTENCE] for b in books for i in range(0, len(b), GENSIM_SENTENCE)
    ]
    model = Word2Vec(
        sg=int(config.model == "skipgram"), vector_size=config.vector_size, window=config.window,
        negative=config.negative, ns_exponent=config.ns_exponent, sample=config.sample,
        min_count=config.min_count, alpha=config.alpha, min_alpha=config.min_alpha,
        workers=config.threads, seed=config.seed, cbow_mean=1, hs=0,
    )  # fmt: skip
    model.build_vocab(sentences)
    words_in_vocab = sum(model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key)
    handler = _GensimRate()
    logger = logging.getLogger("gensim.models.word2vec")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    started, cpu = time.perf_counter(), time.process_time()
    model.train(sentences, total_examples=model.corpus_count, epochs=config.epochs)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    logger.removeHandler(handler)
    counts = [int(model.wv.get_vecattr(w, "count")) for w in model.wv.index_to_key]
    vectors = WordVectors(model.wv.index_to_key, torch.from_numpy(model.wv.vectors.copy()), counts)
    rate = sum(handler.rates) / max(len(handler.rates), 1)
    return vectors, seconds, cpu, int(words_in_vocab), rate


def scores(vectors: WordVectors, analogies: Path, pairs: Path) -> tuple[float, int, float]:
    analogy = evaluate_analogies(vectors, analogies, restrict_vocab=30_000)
    rho = evaluate_word_pairs(vectors, pairs).spearman
    return analogy.total.accuracy, analogy.total.answered, rho


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED / "english_corpus")
    parser.add_argument(
        "--analogies", type=Path, default=SHARED / "word_embeddings" / "questions-words.txt"
    )
    parser.add_argument("--pairs", type=Path, default=SHARED / "word_embeddings" / "wordsim353.tsv")
    parser.add_argument("--max-words", type=int, default=3_000_000)
    parser.add_argument("--models", default="skipgram,cbow")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=Word2VecConfig().batch_size)
    parser.add_argument(
        "--cbow-negative-group", type=int, default=Word2VecConfig().cbow_negative_group
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", default=None, help="rnnkit's batched trainer: cpu or cuda")
    parser.add_argument("--repeats", type=int, default=1, help="alternate rnnkit/gensim runs")
    args = parser.parse_args()
    started = time.perf_counter()
    books = read_books(args.data, args.max_words)
    total = sum(map(len, books))
    seconds = time.perf_counter() - started
    steps = "C" if cbow_kernel() is not None else "torch (no C kernel)"
    print(f"corpus: {len(books)} books, {total:,} tokens, read in {seconds:.1f} s;"
          f" threads {args.threads}, torch {torch.__version__}, rnnkit device"
          f" {args.device or 'none (Hogwild threads)'}; CBOW's CPU steps: {steps}")  # fmt: skip
    header = f"{'model':9s} {'impl':7s} {'train s':>8s} {'cpu s':>6s} {'words/s':>9s} "
    header += f"{'words/cpu-s':>11s} {'gensim eff/s':>12s} "
    print(header + f"{'analogy':>8s} {'(n)':>6s} {'ws353 ρ':>8s}")
    for model in args.models.split(","):
        config = Word2VecConfig(
            model=model, threads=args.threads, epochs=args.epochs, batch_size=args.batch_size,
            cbow_negative_group=args.cbow_negative_group, seed=args.seed, device=args.device,
        )  # fmt: skip
        rates: dict[str, list[float]] = {"rnnkit": [], "gensim": []}
        cpu_rates: dict[str, list[float]] = {"rnnkit": [], "gensim": []}
        accuracy: dict[str, float] = {}
        for _ in range(args.repeats):
            for impl in ("rnnkit", "gensim"):
                if impl == "rnnkit":
                    vectors, seconds, cpu, words = run_rnnkit(books, config)
                    reported = "-"
                else:
                    vectors, seconds, cpu, words, gensim_rate = run_gensim(books, config)
                    reported = f"{gensim_rate:,.0f}"
                acc, n, rho = scores(vectors, args.analogies, args.pairs)
                rates[impl].append(config.epochs * words / seconds)
                cpu_rates[impl].append(config.epochs * words / cpu)
                accuracy[impl] = acc
                print(f"{model:9s} {impl:7s} {seconds:8.1f} {cpu:6.1f} {rates[impl][-1]:9,.0f} "
                      f"{cpu_rates[impl][-1]:11,.0f} {reported:>12s} {100 * acc:7.2f}% {n:6d} "
                      f"{rho:8.3f}")  # fmt: skip
        ratio = max(rates["rnnkit"]) / max(rates["gensim"])
        cpu_ratio = max(cpu_rates["rnnkit"]) / max(cpu_rates["gensim"])
        gap = 100 * (accuracy["rnnkit"] - accuracy["gensim"])
        print(f"{model:9s} rnnkit/gensim: words/s {ratio:.2f}x, words/cpu-s {cpu_ratio:.2f}x "
              f"(best of {args.repeats}); analogy {gap:+.2f} points (last run)")  # fmt: skip


if __name__ == "__main__":
    main()
