"""Forecast accuracy: MAE, RMSE, MASE, and the naive and seasonal-naive forecasts they compare to.

For a forecast ŷ_{n+1} … ŷ_{n+k} of the held-out values y_{n+1} … y_{n+k} after a training
series y_1 … y_n with seasonal period m:

    MAE  = (1/k) Σ_h |y_{n+h} − ŷ_{n+h}|
    RMSE = √((1/k) Σ_h (y_{n+h} − ŷ_{n+h})²)
    MASE = MAE / ((1/(n−m)) Σ_{t=m+1..n} |y_t − y_{t−m}|)  (Hyndman & Koehler 2006)

The denominator is the in-sample MAE of the one-step seasonal-naive forecast on the training
series (the naive one when m = 1), so MASE < 1 beats that in-sample benchmark and a MASE can be
compared across series of any scale. The two benchmark forecasts are

    naive           ŷ_{n+h} = y_n
    seasonal naive  ŷ_{n+h} = y_{n+h−m(⌊(h−1)/m⌋+1)}      (the value one season earlier)

With F features, each feature is scored on its own scale and the F scores are averaged.

References:
    Hyndman & Koehler. Another look at measures of forecast accuracy. International Journal of
        Forecasting 22(4), 2006.
    Hyndman & Athanasopoulos. Forecasting: Principles and Practice, 3rd ed., §5.2 and §5.8.
        https://otexts.com/fpp3/
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from rnnkit.errors import DataError, ShapeError


def _as_2d(values: ArrayLike, name: str) -> np.ndarray:
    """(N, F) float64 from (N,) or (N, F)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]  # (N, 1)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ShapeError(f"{name} must be (N,) or (N, F) with N ≥ 1; got shape {array.shape}")
    return array


def _pair(forecast: ArrayLike, truth: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    predicted, actual = _as_2d(forecast, "forecast"), _as_2d(truth, "truth")
    if predicted.shape != actual.shape:
        raise ShapeError(
            f"forecast and truth must have the same shape; got {predicted.shape} and {actual.shape}"
        )
    return predicted, actual


def mae(forecast: ArrayLike, truth: ArrayLike) -> float:
    """MAE over all steps and features.

    >>> mae([1.0, 2.0, 4.0], [1.0, 3.0, 1.0])
    1.3333333333333333
    """
    predicted, actual = _pair(forecast, truth)
    return float(np.mean(np.abs(actual - predicted)))


def rmse(forecast: ArrayLike, truth: ArrayLike) -> float:
    """RMSE over all steps and features.

    >>> rmse([0.0, 0.0], [3.0, 4.0])  # √((9 + 16) / 2)
    3.5355339059327378
    """
    predicted, actual = _pair(forecast, truth)
    return float(np.sqrt(np.mean((actual - predicted) ** 2)))


def mase_scale(train: ArrayLike, season: int = 1) -> np.ndarray:
    """The MASE denominator of each feature: (1/(n−m)) Σ_{t>m} |y_t − y_{t−m}|. Shapes: -> (F,).

    Raises:
        DataError: the training series has n ≤ m points, or is constant (the scale is 0).
    """
    history = _as_2d(train, "train")
    if season < 1 or history.shape[0] <= season:
        raise DataError(
            f"MASE needs a training series longer than the season m = {season}; "
            f"got {history.shape[0]} points"
        )
    scale = np.mean(np.abs(history[season:] - history[:-season]), axis=0)  # (F,)
    if np.any(scale == 0):
        raise DataError("MASE is undefined: the in-sample (seasonal-)naive error is 0 (constant)")
    return scale


def mase(forecast: ArrayLike, truth: ArrayLike, train: ArrayLike, season: int = 1) -> float:
    """MASE: each feature's MAE divided by its in-sample seasonal-naive MAE, averaged over F.

    >>> mase([3.0, 3.0], [4.0, 6.0], train=[1.0, 2.0, 3.0])  # MAE 2 / in-sample MAE 1
    2.0
    """
    predicted, actual = _pair(forecast, truth)
    scale = mase_scale(train, season)  # (F,)
    if scale.shape[0] != actual.shape[1]:
        raise ShapeError(f"train has {scale.shape[0]} features, the forecast {actual.shape[1]}")
    return float(np.mean(np.mean(np.abs(actual - predicted), axis=0) / scale))


def naive_forecast(history: ArrayLike, horizon: int) -> np.ndarray:
    """ŷ_{n+h} = y_n for h = 1 … k. Shapes: history (n, F) -> (k, F).

    >>> naive_forecast([1.0, 2.0, 5.0], 2).ravel().tolist()
    [5.0, 5.0]
    """
    values = _as_2d(history, "history")
    return np.repeat(values[-1:], horizon, axis=0)  # (k, F)


def seasonal_naive_forecast(history: ArrayLike, horizon: int, season: int) -> np.ndarray:
    """ŷ_{n+h} = y_{n+h−m(⌊(h−1)/m⌋+1)}: the last season repeated. Shapes: (n, F) -> (k, F).

    >>> seasonal_naive_forecast([1.0, 2.0, 3.0, 4.0, 5.0], 3, season=2).ravel().tolist()
    [4.0, 5.0, 4.0]
    """
    values = _as_2d(history, "history")
    if not 1 <= season <= values.shape[0]:
        raise DataError(f"seasonal naive needs 1 ≤ m ≤ n = {values.shape[0]}; got m = {season}")
    last_season = values[-season:]  # (m, F)
    return last_season[np.arange(horizon) % season]  # (k, F)


@dataclass(frozen=True)
class ForecastScores:
    """MAE, RMSE and MASE of one forecast."""

    mae: float
    rmse: float
    mase: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        """{"<prefix>mae": …, "<prefix>rmse": …, "<prefix>mase": …}."""
        return {f"{prefix}mae": self.mae, f"{prefix}rmse": self.rmse, f"{prefix}mase": self.mase}


def score_forecast(
    forecast: ArrayLike, truth: ArrayLike, train: ArrayLike, season: int = 1
) -> ForecastScores:
    """MAE, RMSE and MASE of `forecast` against `truth`, scaled by the training series."""
    return ForecastScores(
        mae(forecast, truth), rmse(forecast, truth), mase(forecast, truth, train, season)
    )


def compare_with_baselines(
    forecast: ArrayLike, truth: ArrayLike, train: ArrayLike, season: int = 1
) -> dict[str, ForecastScores]:
    """Scores of the model's forecast and of the naive and seasonal-naive forecasts from `train`.

    >>> table = compare_with_baselines([5.0, 7.0], [5.0, 6.0], [1.0, 2.0, 3.0, 4.0], season=2)
    >>> {name: round(s.mase, 3) for name, s in table.items()}
    {'model': 0.25, 'naive': 0.75, 'seasonal_naive': 1.0}
    """
    actual = _as_2d(truth, "truth")
    horizon = actual.shape[0]
    return {
        "model": score_forecast(forecast, actual, train, season),
        "naive": score_forecast(naive_forecast(train, horizon), actual, train, season),
        "seasonal_naive": score_forecast(
            seasonal_naive_forecast(train, horizon, season), actual, train, season
        ),
    }
