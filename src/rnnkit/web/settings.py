"""The limits of `rnnkit serve`: how much text, how many tokens and how long one request may take.

Every request is checked against them before a model runs (`rnnkit.web.schemas.check_limits`),
so that no request can hold the server for long or fill its memory. The OpenAPI schema at
/openapi.json states the limits in force (`rnnkit.web.openapi.document_limits`). The bounds on
requests running at once are applied by `rnnkit.web.limits.Slots`, the Host check by
`rnnkit.web.hosts.HostCheck`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from rnnkit.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    """Per-request limits of the web API; the defaults suit one user on a laptop.

    >>> ServeSettings(max_beam=4).max_beam
    4
    >>> ServeSettings(generation_seconds=0)
    Traceback (most recent call last):
    ...
    rnnkit.errors.ConfigError: generation_seconds must be a positive number, got 0
    """

    max_text_chars: int = 2000  # longest text (or prime) of a request, in characters
    max_generate_tokens: int = 1000  # longest generation, in tokens
    max_beam: int = 10  # widest beam search (translate, caption)
    max_upload_bytes: int = 5_000_000  # largest image upload, in bytes
    max_horizon: int = 500  # furthest forecast, in steps
    max_history_points: int = 10_000  # longest history sent to a forecaster, in points
    max_temperature: float = 5.0  # τ of sampling lies in [0, max_temperature]
    max_music_frames: int = 512  # longest piano roll of /compose, in frames (128 bars of 4/4)
    generation_seconds: float = 10.0  # a generation stops after this long: "time_limit"
    max_inspect_units: int = 64  # U, units per map of /inspect
    max_inspect_chars: int = 500  # longest text of /inspect: its answer grows as T × U × maps
    max_curve_points: int = 2000  # most points per training curve of /curves (evenly thinned)
    max_generations: int = 8  # generations running at once over all models; past it 503
    max_generations_per_model: int = 4  # generations running at once of one model; past it 503
    max_image_decodes: int = 2  # caption uploads decoded and captioned at once; past it 503
    allowed_hosts: tuple[str, ...] = ()  # Host names served besides localhost and the bound one

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "allowed_hosts":
                if not isinstance(value, tuple | list) or not all(
                    isinstance(h, str) for h in value
                ):
                    raise ConfigError(f"allowed_hosts must be a tuple of host names, got {value!r}")
                object.__setattr__(self, field.name, tuple(host.lower() for host in value))
            elif field.type == "int":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ConfigError(f"{field.name} must be a positive integer, got {value!r}")
            elif (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ConfigError(f"{field.name} must be a positive number, got {value!r}")


__all__ = ["ServeSettings"]
