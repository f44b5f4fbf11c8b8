"""Forecaster: a stacked LSTM/GRU that predicts the next value of a series, one step at a time.

    z_t = (x_t − μ) / σ                          z-score, μ and σ of the training split only
    h_t = RNN(z_t, h_{t-1})                      stacked rnnkit LSTM or GRU (batch_first)
    ẑ_{t+1} = z_t + W_hy h_t + b_y               residual: the network predicts the change
    ẑ_{t+1} = W_hy h_t + b_y                     or, with residual=False, the level itself
    ŷ_{t+1} = μ + σ ⊙ ẑ_{t+1}

Training is synchronous many-to-many: a window x_1 … x_T of fixed length T gives a prediction
at every step, each scored against the next true value (teacher forcing). Inference streams:
`step(x_t, state)` takes one sample, carries the state and returns ŷ_{t+1}; `rollout` feeds
its own predictions back to forecast k steps ahead. μ and σ are buffers, so a checkpoint
carries the scaler with the weights.

References:
    Hochreiter & Schmidhuber. Long Short-Term Memory. Neural Computation 9(8), 1997.
    Hewamalage, Bergmeir & Bandara. Recurrent Neural Networks for Time Series Forecasting:
        Current status and future directions. International Journal of Forecasting 37(1), 2021
        (per-series normalisation, predicting from windows, feeding forecasts back).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.layers import GRU, LSTM
from rnnkit.models.configs.forecaster import ForecasterConfig  # torch-free: a task config nests it


class Forecaster(nn.Module):
    """One-step-ahead forecaster of a (multivariate) series, in the series' own units.

    Shapes: x (B, T, F); predictions (B, T, F), entry t being ŷ_{t+1}; state as the recurrent
    layer's (L, B, H), an LSTMState pair for LSTM.

    >>> model = Forecaster(ForecasterConfig(hidden_size=4))
    >>> model.fit_scaler(torch.tensor([[1.0], [3.0]]))
    >>> model.mean.tolist(), model.scale.tolist()
    ([2.0], [1.0])
    >>> predictions, state = model(torch.zeros(2, 5, 1))
    >>> tuple(predictions.shape), tuple(model.rollout(torch.zeros(5, 1), 3).shape)
    ((2, 5, 1), (3, 1))
    """

    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__()
        self.config = config
        F, H = config.num_features, config.hidden_size
        layer = LSTM if config.cell == "lstm" else GRU
        self.recurrent = layer(
            F, H, num_layers=config.num_layers, batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )  # fmt: skip
        self.head = nn.Linear(H, F)  # W_hy, b_y
        self.register_buffer("mean", torch.zeros(F))  # μ
        self.register_buffer("scale", torch.ones(F))  # σ

    @torch.no_grad()
    def fit_scaler(self, train_values: Tensor) -> None:
        """Set μ and σ from the training split (N, F); a constant feature gets σ = 1."""
        if train_values.ndim != 2 or train_values.shape[1] != self.config.num_features:
            raise ShapeError(
                f"fit_scaler expects the training values as (N, {self.config.num_features}); "
                f"got {tuple(train_values.shape)}"
            )
        values = train_values.to(self.mean)
        std = values.std(dim=0, unbiased=False)  # (F,)
        self.mean.copy_(values.mean(dim=0))  # μ
        self.scale.copy_(torch.where(std > 0, std, torch.ones_like(std)))  # σ

    def normalize(self, x: Tensor) -> Tensor:
        """z = (x − μ) / σ, any shape ending in F."""
        return (x - self.mean) / self.scale

    def denormalize(self, z: Tensor) -> Tensor:
        """x = μ + σ ⊙ z, any shape ending in F."""
        return self.mean + self.scale * z

    def _check(self, x: Tensor, rank: int, layout: str) -> None:
        F = self.config.num_features
        if x.ndim != rank or x.shape[-1] != F or not x.dtype.is_floating_point:
            raise ShapeError(f"forecaster input must be float {layout} with F = {F}; got "
                             f"{tuple(x.shape)} {x.dtype}. Check num_features")  # fmt: skip

    def forward(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """ŷ_{t+1} for every step t of a window, from `state` (zeros when None).

        Shapes:
            x (B, T, F) in the series' units; returns predictions (B, T, F) and the state
            after step T.
        """
        self._check(x, 3, "(B, T, F)")
        z = self.normalize(x)  # (B, T, F)
        hidden, state = self.recurrent(z, state)  # (B, T, H)
        change = self.head(hidden)  # (B, T, F)
        z_next = z + change if self.config.residual else change  # ẑ_{t+1}
        return self.denormalize(z_next), state  # ŷ_{t+1}

    def step(self, x_t: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Streaming: one sample x_t in, ŷ_{t+1} out, the state carried to the next call.

        Shapes: x_t (B, F) -> (B, F).

        >>> model = Forecaster(ForecasterConfig(hidden_size=4))
        >>> state = None
        >>> for value in (1.0, 2.0, 3.0):  # samples arriving one at a time
        ...     prediction, state = model.step(torch.tensor([[value]]), state)
        >>> tuple(prediction.shape)
        (1, 1)
        """
        self._check(x_t, 2, "(B, F)")
        predictions, state = self(x_t.unsqueeze(1), state)  # (B, 1, F)
        return predictions[:, 0], state

    def rollout(self, history: Tensor, horizon: int, state: Any = None) -> Tensor:
        """Forecast `horizon` steps after `history`, each prediction fed back as the next input.

            ŷ_{n+1} from x_1 … x_n;   ŷ_{n+h+1} = step(ŷ_{n+h})   for h = 1 … k−1

        Shapes: history (B, n, F) or (n, F) -> (B, k, F) or (k, F).
        """
        if horizon < 1:
            raise ConfigError(f"horizon must be a positive integer, got {horizon}")
        unbatched = history.ndim == 2
        history = history.unsqueeze(0) if unbatched else history  # (B, n, F)
        self._check(history, 3, "(B, n, F) or (n, F)")
        predictions, state = self(history, state)  # (B, n, F)
        current = predictions[:, -1]  # ŷ_{n+1} (B, F)
        forecast = [current]
        for _ in range(horizon - 1):
            current, state = self.step(current, state)  # ŷ_{n+h+1}
            forecast.append(current)
        stacked = torch.stack(forecast, dim=1)  # (B, k, F)
        return stacked[0] if unbatched else stacked
