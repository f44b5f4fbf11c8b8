"""LanguageModelConfig: the settings of `rnnkit.models.many_to_many.LanguageModel` (no torch).

The vocabulary size V is decided by the data (`data_field`): a task config holds the model
config with V = 0, "not yet known", and the builder fills V in once the vocabulary is built
(`dataclasses.replace`). Until then the parameter count P = V·E + recurrent + V·(H + 1) is
counted with V = 0, so a model too big to hold is still refused before any data is read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rnnkit.config import data_field
from rnnkit.errors import ConfigError
from rnnkit.models.size import check_fits, recurrent_parameters


@dataclass(frozen=True, kw_only=True)
class LanguageModelConfig:
    """Embedding → stacked recurrent layers → linear → softmax over the vocabulary."""

    vocab_size: int = data_field(0)  # V, from the data (0: not yet known)
    embed_dim: int = 64  # E, size of each token's embedding
    hidden_size: int = 256  # H, hidden units per layer
    num_layers: int = 2  # L, stacked recurrent layers
    cell: Literal["rnn", "lstm", "gru", "mrnn", "mlstm"] = "lstm"  # mrnn/mlstm: M = H
    dropout: float = 0.0  # p between layers and before the output projection
    tie_weights: bool = False  # W_hy = E (needs embed_dim == hidden_size)
    nonlinearity: Literal["tanh", "relu"] = "tanh"  # Elman cell only
    peephole: bool = False  # LSTM only (Gers & Schmidhuber 2000)
    coupled_gates: bool = False  # LSTM only (Greff et al. 2017)
    reset_after: bool = True  # GRU only: torch's form (True) or Cho et al. 2014 (False)
    # Regularisers (equations in `rnnkit.models.many_to_many`); off by default, training only.
    embedding_dropout: float = 0.0  # p_e, whole rows of E (Gal & Ghahramani 2016)
    input_dropout: float = 0.0  # p_i, locked mask on the embeddings (AWD's dropouti)
    output_dropout: float = 0.0  # p_o, locked mask on the last layer's output (AWD's dropout)
    layer_norm: bool = False  # LN of the cells' pre-activations (Ba et al. 2016); rnn/lstm/gru
    recurrent_dropout: float = 0.0  # one mask on h_{t-1} per sequence (Gal & Ghahramani 2016)
    zoneout: float = 0.0  # p of keeping each unit's old h_t (and c_t) (Krueger et al. 2017)
    weight_drop: float = 0.0  # DropConnect on W_hh, one mask per pass (Merity et al. 2017)
    activation_reg: float = 0.0  # α of AR = α·mean((m_o ⊙ h_t)²) (Merity et al. 2017 §4.6)
    temporal_activation_reg: float = 0.0  # β of TAR = β·mean((h_t − h_{t−1})²) (ibid.)

    CELL_REGULARISERS: ClassVar[tuple[str, ...]] = (
        "layer_norm", "recurrent_dropout", "zoneout", "weight_drop")  # fmt: skip
    REGULARISERS: ClassVar[tuple[str, ...]] = (
        "embedding_dropout", "input_dropout", "output_dropout", *CELL_REGULARISERS,
        "activation_reg", "temporal_activation_reg")  # fmt: skip

    def __post_init__(self) -> None:
        if self.vocab_size < 0:
            raise ConfigError(f"vocab_size must be a positive integer, got {self.vocab_size}")
        for name in ("embed_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        self._check_regularisers()
        if self.tie_weights and self.embed_dim != self.hidden_size:
            raise ConfigError(
                "tie_weights needs embed_dim == hidden_size, "
                f"got embed_dim={self.embed_dim}, hidden_size={self.hidden_size}"
            )
        check_fits("this language model", self.parameter_count())

    def _check_regularisers(self) -> None:
        for name in ("embedding_dropout", "input_dropout", "output_dropout",
                     "recurrent_dropout", "zoneout", "weight_drop"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{name} must be a probability in [0, 1), got {value!r}")
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {value}")
        for name in ("activation_reg", "temporal_activation_reg"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{name} must be a number ≥ 0, got {value!r}")
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(f"{name} must be a finite number ≥ 0, got {value}")
        if self.cell in ("mrnn", "mlstm"):
            on = [name for name in self.CELL_REGULARISERS if getattr(self, name)]
            if on:
                raise ConfigError(
                    f"{', '.join(on)} act inside rnn, lstm and gru cells; the {self.cell} cell "
                    "has none of them. Use --cell lstm, or the embedding, input and output "
                    "dropouts and AR/TAR, which every cell takes"
                )

    def regularisers(self) -> dict[str, Any]:
        """The regularisers that are on, by name (the web page's model info shows them)."""
        return {name: getattr(self, name) for name in self.REGULARISERS if getattr(self, name)}

    def parameter_count(self) -> int:
        """P = V·E + the recurrent stack + V·(H + 1) (`rnnkit.models.size`), before allocating."""
        V, E, H = self.vocab_size, self.embed_dim, self.hidden_size
        head = V * (H + 1) - (V * E if self.tie_weights else 0)
        return V * E + recurrent_parameters(E, H, self.num_layers, self.cell) + head
