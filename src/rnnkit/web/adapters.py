"""One small adapter per task: a loaded run, what it can do, and its calls for the web API.

An adapter holds what the task's loader returned (`rnnkit.tasks.*.load_*`, the model in eval
mode) and turns a request into the task's own call, and the result into a response. It says
what the run can do (`offers`) and what the page shows about it (`info`). A request builds its
own recurrent state and random generator, and the routes run it under `torch.no_grad()`, so
the shared model is only read and requests can run at once. A number a response would carry
that is NaN or ±inf (float32 overflowed) is a DataError (422): JSON has no such numbers.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from rnnkit.datasets.chorales import LOWEST_PITCH, roll_notes
from rnnkit.errors import ConfigError, DataError
from rnnkit.models.decoding import SamplingConfig, choose_next
from rnnkit.models.many_to_one import SequenceClassifier
from rnnkit.tasks.caption.captioner import caption_images
from rnnkit.tasks.charlm.generate import generate_text
from rnnkit.tasks.classify.train import ClassificationObjective, predict_proba, unknown_marks
from rnnkit.tasks.ner.tagger import read_text, tag_sentences
from rnnkit.tasks.translate.translator import attention_of, source_marks, translate
from rnnkit.text.tags import entity_spans
from rnnkit.web import schemas
from rnnkit.web.generation import GREEDY_BELOW, beam_of, sampling_of
from rnnkit.web.handlers import finite
from rnnkit.web.inspect import classifier_gradient_norms, next_token_gradient_norms, record_maps
from rnnkit.web.pianoroll import checkpoint_metric, key_names, midi_base64


def _fresh_seed(seed: int | None) -> int:
    """The request's seed, or a random one: every request samples from its own generator."""
    return secrets.randbits(63) if seed is None else seed


def _need_tokens(tokens: list[str], text: str) -> list[str]:
    if not tokens:
        raise DataError(f"the text holds no token to read: {text[:50]!r}")
    return tokens


class Adapter:
    """A loaded run and what it can do; subclasses add one method per capability."""

    capabilities: ClassVar[tuple[str, ...]] = ()

    def __init__(self, loaded: Any) -> None:
        self.loaded = loaded

    def offers(self) -> tuple[str, ...]:
        return self.capabilities

    def info(self) -> dict[str, Any]:
        return {}


class CharLMAdapter(Adapter):
    """A language model: sampled text, gate maps and gradient norms over a text."""

    capabilities = ("generate", "inspect", "gradients")

    def info(self) -> dict[str, Any]:
        config, vocab = self.loaded.model.config, self.loaded.vocab
        level = vocab.tokenizer.kind if vocab.tokenizer is not None else "char"
        return {
            "cell": config.cell,
            "vocab_size": len(vocab),
            "hidden_size": config.hidden_size,
            "num_layers": config.num_layers,
            "level": level,
            **config.regularisers(),  # those that are on: weight_drop, zoneout, AR/TAR, …
        }

    def pieces(self, request: schemas.GenerateRequest) -> Iterator[str]:
        """The text of each sampled token after the prime (`rnnkit.tasks.charlm.generate`)."""
        if request.condition is not None:
            raise ConfigError("this charlm run takes no condition; leave condition out")
        beam, sampling = beam_of(request), sampling_of(request)
        pieces = generate_text(
            self.loaded.model,
            self.loaded.vocab,
            request.prime,
            request.length,
            sampling,
            seed=_fresh_seed(request.seed),
            beam_size=beam,
        )
        return pieces if beam is None else iter(list(pieces))  # a beam: searched whole, now

    def _ids(self, text: str) -> tuple[list[str], torch.Tensor]:
        tokens = _need_tokens(self.loaded.vocab.tokenize(text), text)
        return tokens, self.loaded.vocab.encode(tokens)  # (T,) unknown tokens -> <unk>

    def inspect(self, text: str, units: int, first_unit: int = 0) -> schemas.InspectResponse:
        tokens, ids = self._ids(text)
        cell, layers, _ = record_maps(
            self.loaded.model, lambda m: m(ids.unsqueeze(0))[0], units, first_unit
        )
        return schemas.InspectResponse(
            tokens=tokens, cell=cell, layers=layers, first_unit=first_unit,
            hidden_size=layers[0]["hidden_size"],
        )  # fmt: skip

    def gradients(self, text: str) -> schemas.GradientsResponse:
        tokens, ids = self._ids(text)
        norms = next_token_gradient_norms(self.loaded.model, ids)  # (T-1,)
        finite(norms, "gradient norms", "the gradients explode on this text: try a shorter one")
        return schemas.GradientsResponse(tokens=tokens[:-1], norms=norms.tolist())


class CondLMAdapter(Adapter):
    """A language model given a class: text sampled from <bos> until <eos>."""

    capabilities = ("generate",)

    def info(self) -> dict[str, Any]:
        config = self.loaded.model.config
        return {
            "cell": config.cell,
            "vocab_size": len(self.loaded.vocab),
            "conditions": list(self.loaded.classes),
        }

    def pieces(self, request: schemas.GenerateRequest) -> Iterator[str]:
        """Word by word, as `rnnkit.tasks.condlm.train.generate_conditioned` samples them."""
        classes = list(self.loaded.classes)
        if request.condition not in classes:
            raise ConfigError(f"condition must be one of {classes}, got {request.condition!r}")
        if request.prime:
            raise ConfigError("a condlm run writes from <bos> given its condition; send no prime")
        beam, sampling = beam_of(request), sampling_of(request)
        v = F.one_hot(torch.tensor([classes.index(request.condition)]), len(classes)).float()
        if beam is not None:  # searched whole, from <bos> to <eos> or `length` tokens
            [[best, *_]] = self.loaded.model.search(v, beam_size=beam, max_length=request.length)
            words = [self.loaded.vocab.id_to_token(t) for t in best.tokens
                     if t != self.loaded.model.config.eos_id]  # fmt: skip
            return iter([(" " if i else "") + word for i, word in enumerate(words)])
        generator = torch.Generator().manual_seed(_fresh_seed(request.seed))
        return self._sample(v, sampling, generator, request.length)

    def _sample(
        self, v: torch.Tensor, sampling: SamplingConfig, generator: torch.Generator, length: int
    ) -> Iterator[str]:
        model, vocab = self.loaded.model, self.loaded.vocab
        with torch.no_grad():
            state = model.start(v)  # v = onehot(c), (1, C)
        token = torch.tensor([model.config.bos_id])
        for position in range(length):
            logits, state = model.decode_step(token, state)  # (1, V)
            token = choose_next(logits, sampling, generator)  # y_t, (1,)
            if int(token) == model.config.eos_id:
                return
            yield (" " if position else "") + vocab.id_to_token(int(token))


class ClassifierAdapter(Adapter):
    """A sentiment or spam classifier: class probabilities, and gate maps for a recurrent one."""

    capabilities = ("classify", "inspect", "gradients")

    def offers(self) -> tuple[str, ...]:
        recurrent = isinstance(self.loaded.model, SequenceClassifier)
        return self.capabilities if recurrent else ("classify",)

    def info(self) -> dict[str, Any]:
        return {
            "classes": list(self.loaded.classes),
            "cell": getattr(self.loaded.model.config, "cell", "bow"),  # bow: no cell
            "vocab_size": len(self.loaded.vocab),
        }

    def classify(self, text: str) -> schemas.ClassifyResponse:
        _need_tokens(self.loaded.vocab.tokenize(text), text)
        probabilities = predict_proba(self.loaded, [text])  # (1, C)
        finite(probabilities, "class probabilities", "try a shorter text")
        config, classes = self.loaded.config, self.loaded.classes
        label = ClassificationObjective(classes, threshold=config.threshold).decide(probabilities)
        return schemas.ClassifyResponse(
            classes=list(classes),
            label=classes[int(label[0])],
            probabilities=probabilities[0].tolist(),
            truncated=self._read(text)[1],
            **self._unknown(text),
        )

    def _unknown(self, text: str) -> dict[str, Any]:
        """The tokens read (cut as the run cut its corpus), which it never saw, their share."""
        marks = unknown_marks(self.loaded, text)
        return {"tokens": marks.tokens, "unknown": marks.unknown, "unknown_share": marks.share}

    def _read(self, text: str) -> tuple[list[str], schemas.Truncation | None]:
        """The tokens the model reads (`encode_texts`: at most max_tokens) and what was cut."""
        config = self.loaded.config
        tokens = _need_tokens(self.loaded.vocab.tokenize(text), text)
        if config.max_tokens is None or len(tokens) <= config.max_tokens:
            return tokens, None
        cut = schemas.Truncation(kept=config.max_tokens, total=len(tokens), keep=config.keep)
        keep = config.max_tokens
        return (tokens[:keep] if config.keep == "first" else tokens[-keep:]), cut

    def inspect(self, text: str, units: int, first_unit: int = 0) -> schemas.InspectResponse:
        tokens, cut = self._read(text)
        ids = self.loaded.vocab.encode(tokens).unsqueeze(0)  # (1, T)
        lengths = torch.tensor([ids.shape[1]])
        cell, layers, logits = record_maps(
            self.loaded.model, lambda m: m(ids, lengths), units, first_unit
        )
        probabilities = finite(logits.softmax(-1)[0], "class probabilities", "try a shorter text")
        return schemas.InspectResponse(
            tokens=tokens, cell=cell, layers=layers, probabilities=probabilities.tolist(),
            first_unit=first_unit, hidden_size=layers[0]["hidden_size"], truncated=cut,
        )  # fmt: skip

    def gradients(self, text: str) -> schemas.GradientsResponse:
        """‖∂L/∂h_t‖ for L = −ln Pr(ŷ | text), ŷ the class the model decides."""
        tokens, cut = self._read(text)
        label = self.classify(text).label
        ids = self.loaded.vocab.encode(tokens)  # (T,)
        index = list(self.loaded.classes).index(label)
        norms = classifier_gradient_norms(self.loaded.model, ids, index)  # (T,)
        finite(norms, "gradient norms", "the gradients explode on this text: try a shorter one")
        return schemas.GradientsResponse(
            tokens=tokens, norms=norms.tolist(), label=label, truncated=cut
        )


class TaggerAdapter(Adapter):
    """A named-entity tagger: BIO tags of the words of a text, and its entities."""

    capabilities = ("tag",)

    def info(self) -> dict[str, Any]:
        kinds = sorted({tag.split("-", 1)[1] for tag in self.loaded.tags if "-" in tag})
        return {
            "tags": list(self.loaded.tags),
            "entity_types": kinds,
            "vocab_size": len(self.loaded.words),
        }

    def tag(self, text: str) -> schemas.TagResponse:
        marks = read_text(self.loaded, text)  # cut as the run cut its corpus
        tokens = _need_tokens(marks.tokens, text)
        [tags] = tag_sentences(self.loaded, [tokens])
        entities = [
            schemas.Entity(type=kind, start=start, end=end, text=" ".join(tokens[start:end]))
            for kind, start, end in entity_spans(tags)
        ]
        return schemas.TagResponse(tokens=tokens, tags=tags, entities=entities,
                                   unknown=marks.unknown, unknown_share=marks.share)  # fmt: skip


class TranslatorAdapter(Adapter):
    """An encoder–decoder (translate or chat): the best output of a beam search, its attention."""

    capabilities = ("translate",)

    def info(self) -> dict[str, Any]:
        config, model = self.loaded.config, self.loaded.model
        return {
            "source_language": config.source_lang,
            "target_language": config.target_lang,
            "cell": model.config.cell,
            "attention": model.config.attention,
            "source_vocab_size": len(self.loaded.source),
            "target_vocab_size": len(self.loaded.target),
        }

    def translate(self, text: str, beam: int) -> schemas.TranslateResponse:
        [best] = translate(self.loaded, [text], beam_size=beam)
        finite(torch.tensor(best.score), "score", "try a shorter text")
        attention = None
        if self.loaded.model.attention is not None:
            alpha = attention_of(self.loaded, best)  # (T, S)
            attention = finite(alpha, "attention", "try a shorter text").tolist()
        marks = source_marks(self.loaded, best)  # the source tokens read, unknown ones marked
        return schemas.TranslateResponse(
            text=best.text,
            tokens=best.tokens,
            score=best.score,
            source_tokens=best.source_tokens,
            attention=attention,
            unknown=marks.unknown,
            unknown_share=marks.share,
        )


class CaptionerAdapter(Adapter):
    """An image captioner: a caption for the bytes of an uploaded image."""

    capabilities = ("caption",)

    def info(self) -> dict[str, Any]:
        decoder = self.loaded.model.config.decoder
        return {
            "cell": decoder.cell,
            "vocab_size": len(self.loaded.vocab),
            "image_size": self.loaded.config.image_size,
        }

    def caption(self, image: bytes, beam: int) -> schemas.CaptionResponse:
        [caption] = caption_images(self.loaded, [image], beam_size=beam)
        return schemas.CaptionResponse(caption=caption)


class ForecasterAdapter(Adapter):
    """A forecaster: the next `horizon` values after the run's series or a given history."""

    capabilities = ("forecast",)

    def info(self) -> dict[str, Any]:
        series = self.loaded.series
        return {
            "series": series.name,
            "columns": list(series.columns),
            "length": len(series),
            "cell": self.loaded.model.config.cell,
            "horizon": self.loaded.config.horizon,
        }

    def forecast(self, horizon: int, history: list[float] | None) -> schemas.ForecastResponse:
        series = self.loaded.series
        if history is None:
            values = torch.tensor(series.values, dtype=torch.float32)  # (N, F)
        elif len(series.columns) == 1:
            values = torch.tensor(history, dtype=torch.float32).unsqueeze(-1)  # (n, 1)
        else:
            raise ConfigError(
                f"this run reads {len(series.columns)} columns {series.columns}; "
                "a history holds one: leave history out"
            )
        forecast = self.loaded.model.rollout(values, horizon)  # (k, F)
        low, high = float(series.values[:, 0].min()), float(series.values[:, 0].max())
        fix = f"send values on the scale of the series {series.name!r} ({low:g} … {high:g})"
        finite(forecast, "forecast", fix)
        return schemas.ForecastResponse(
            history=values[:, 0].tolist(), series=series.name, forecast=forecast[:, 0].tolist()
        )


class MusicAdapter(Adapter):
    """A next-frame model of piano rolls (`rnnkit train music`): a sampled roll and its MIDI.

    The roll is `LoadedMusicModel.generate`'s, as `rnnkit generate RUN --out x.mid` samples
    it: x_0 = 0, then x_{t,p} ~ Bernoulli(σ(a_{t,p} / τ)) fed back frame by frame
    (`PianoRollModel.sample`); a τ below GREEDY_BELOW takes its limit τ → 0, [σ(a) > 1/2].
    `info` adds the validation NLL per frame (nats) recorded with the served checkpoint.
    """

    capabilities = ("compose",)

    def __init__(self, loaded: Any) -> None:
        super().__init__(loaded)
        self.valid_nll = checkpoint_metric(loaded.checkpoint, "val_loss")  # read once

    def info(self) -> dict[str, Any]:
        config, model = self.loaded.config, self.loaded.model.config
        info: dict[str, Any] = {
            "cell": model.cell,
            "hidden_size": model.hidden_size,
            "num_layers": model.num_layers,
            "pitches": model.num_pitches,
            "frame": f"{config.step} note",
            "transpose": "to C major / C minor" if config.transpose == "c" else "as written",
        }
        if self.valid_nll is not None:
            info["valid_nll_per_frame"] = round(self.valid_nll, 3)  # nats, as the report prints
        return info

    def compose(self, frames: int, temperature: float, seed: int | None) -> schemas.ComposeResponse:
        if seed is None:  # below 2^53: the page's JavaScript numbers hold it exactly, to repeat it
            seed = secrets.randbits(53)
        temperature = temperature if temperature >= GREEDY_BELOW else 0.0
        roll = self.loaded.generate(frames, temperature=temperature, seed=seed)  # (T, P) bool
        step = self.loaded.config.step_quarters
        return schemas.ComposeResponse(
            frames=len(roll), step_quarters=step, lowest_pitch=LOWEST_PITCH, pitches=key_names(),
            roll=roll.astype(int).tolist(), notes=len(roll_notes(roll)), seed=seed,
            midi=midi_base64(roll, step),
        )  # fmt: skip


__all__ = [
    "Adapter",
    "CaptionerAdapter",
    "CharLMAdapter",
    "ClassifierAdapter",
    "CondLMAdapter",
    "ForecasterAdapter",
    "MusicAdapter",
    "TaggerAdapter",
    "TranslatorAdapter",
]
