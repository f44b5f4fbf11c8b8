"""PianoRollModel: a recurrent net over piano-roll frames with one sigmoid output per pitch.

    h_t = RNN(x_{t−1}, h_{t−1})                  stacked rnnkit LSTM, GRU or Elman, x_0 = 0
    a_t = W_hy h_t + b_y                         a logit per pitch (P of them)
    p(x_{t,p} = 1 | x_{<t}) = σ(a_{t,p})         independent Bernoullis given the past

This is the "RNN" row of Boulanger-Lewandowski et al. (2012): the pitches of one frame are
independent given the history, so the model cannot say "C or E, not both" within a frame (their
RNN-RBM and RNN-NADE replace the sigmoid layer with a distribution estimator that can). The
loss is `rnnkit.losses.frames.frame_nll`. Sampling (`sample`) draws each frame pitch by pitch
from Bernoulli(σ(a_{t,p} / τ)) at temperature τ, and feeds it back as the next input.

References:
    Boulanger-Lewandowski, Bengio & Vincent. Modeling Temporal Dependencies in
        High-Dimensional Sequences: Application to Polyphonic Music Generation and
        Transcription. ICML 2012.
    Eck & Schmidhuber. Finding Temporal Structure in Music: Blues Improvisation with LSTM
        Recurrent Networks. IEEE Workshop on Neural Networks for Signal Processing, 2002.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import GRU, LSTM, RNN
from rnnkit.models.configs.pianoroll import PianoRollConfig  # torch-free: a task config nests it


class PianoRollModel(nn.Module):
    """Next-frame model of binary piano rolls.

    Shapes: frames (B, T, P) float in {0, 1}, the inputs x_0 … x_{T−1}; logits (B, T, P),
    entry t scoring x_{t+1}'s pitches; state as the recurrent layer's (L, B, H).

    >>> model = PianoRollModel(PianoRollConfig(num_pitches=6, hidden_size=4))
    >>> logits, state = model(torch.zeros(2, 5, 6))
    >>> sampled = model.sample(7, generator=torch.Generator().manual_seed(0))
    >>> tuple(logits.shape), tuple(sampled.shape)
    ((2, 5, 6), (7, 6))
    """

    def __init__(self, config: PianoRollConfig) -> None:
        super().__init__()
        self.config = config
        P, H = config.num_pitches, config.hidden_size
        layer = {"lstm": LSTM, "gru": GRU, "rnn": RNN}[config.cell]
        self.recurrent = layer(
            P, H, num_layers=config.num_layers, batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )  # fmt: skip
        self.head = nn.Linear(H, P)  # W_hy, b_y

    def forward(self, frames: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """The logits a_t of the next frame after each input frame, from `state` (zeros if None).

        Shapes:
            frames (B, T, P) float; returns logits (B, T, P) and the state after step T.
        """
        P = self.config.num_pitches
        if frames.ndim != 3 or frames.shape[-1] != P or not frames.dtype.is_floating_point:
            raise ShapeError(
                f"piano-roll input must be float (B, T, {P}); got {tuple(frames.shape)} "
                f"{frames.dtype}. Check num_pitches"
            )
        hidden, state = self.recurrent(frames, state)  # (B, T, H)
        return self.head(hidden), state  # a_t (B, T, P)

    @torch.no_grad()
    def sample(
        self,
        length: int,
        *,
        temperature: float = 1.0,
        prime: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """`length` frames drawn one at a time, each fed back as the next input.

        x_{t,p} ~ Bernoulli(σ(a_{t,p} / τ)); τ = 0 takes x_{t,p} = [σ(a_{t,p}) > 1/2].

        Args:
            length: frames to draw.
            temperature: τ ≥ 0; below 1 the pitches the model favours win more often.
            prime: frames (T₀, P) to condition on first (they are not returned); default: x_0 = 0.
            generator: the random source, for repeatable samples.

        Returns:
            The sampled frames (length, P), float in {0, 1}.
        """
        if length < 1 or temperature < 0:
            raise ConfigError(f"sample needs length ≥ 1 and temperature ≥ 0; got {length} and "
                              f"{temperature}")  # fmt: skip
        P = self.config.num_pitches
        device = self.head.weight.device
        start = torch.zeros(1, 1, P, device=device)  # x_0 (1, 1, P)
        inputs = start if prime is None else torch.cat([start, prime[None].to(device).float()], 1)
        logits, state = self(inputs)  # (1, T₀ + 1, P)
        frames = []
        for _ in range(length):
            last = logits[:, -1]  # a_t (1, P)
            if temperature == 0:
                frame = (last > 0).float()  # σ(a) > 1/2
            else:
                probability = torch.sigmoid(last / temperature)  # σ(a_t / τ)
                frame = torch.bernoulli(probability, generator=generator)  # x_t (1, P)
            frames.append(frame)
            logits, state = self(frame[:, None], state)  # (1, 1, P)
        return torch.cat(frames).cpu()  # (length, P)


__all__ = ["PianoRollConfig", "PianoRollModel"]
