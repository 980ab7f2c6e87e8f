"""Recurrent building blocks (RNN, LSTM, GRU) for sequence GANs.

Every block maps a sequence to a sequence, many-to-many: ``(N, T, in) -> (N, T, out)``. A recurrent
layer carries a hidden state ``h_t = f(x_t, h_{t-1})`` forward in time, so the output at step ``t``
depends on steps ``1..t`` (and, bidirectional, on ``t..T`` too); a linear head then maps each step's
hidden state to the output features.

Sequences of different lengths share one padded tensor and a ``lengths`` vector (N,). They are packed
(``torch.nn.utils.rnn.pack_padded_sequence``) so the recurrence never reads a padded step; outputs at
padded steps are set to zero. Changing the values at padded positions therefore changes nothing at valid
positions, and a backward direction starts at each sequence's own last valid step.

The generator and discriminator follow RCGAN (Esteban, Hyland and Rätsch, 2017): noise is drawn per time
step, and a condition (a class label through an embedding, or a static feature vector) is concatenated to
the input at every step. TimeGAN (Yoon et al., 2019) builds all five of its networks from the same
recurrent-plus-linear-head block.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ganforge.errors import GanforgeError, did_you_mean

CellName = Literal["rnn", "lstm", "gru"]
OutputActivation = Literal["linear", "sigmoid", "tanh"]

_CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_OUTPUTS: dict[str, type[nn.Module]] = {"linear": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def sequence_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """Boolean mask (N, T): ``mask[i, t] = t < lengths[i]`` (True at valid steps, False at padding)."""
    positions = torch.arange(steps, device=lengths.device)
    return positions.unsqueeze(0) < lengths.to(positions.device).unsqueeze(1)


def _cell_class(cell: str) -> type[nn.RNNBase]:
    key = str(cell).lower()
    if key not in _CELLS:
        raise GanforgeError(
            f"unknown recurrent cell '{cell}'{did_you_mean(key, _CELLS)}; choose one of {', '.join(_CELLS)}"
        )
    return _CELLS[key]


def output_range(name: str | None) -> OutputActivation:
    """Normalise an output activation name: ``None`` and ``"linear"`` mean no activation."""
    key = "linear" if name is None else str(name).lower()
    if key not in _OUTPUTS:
        raise GanforgeError(
            f"unknown output activation '{name}'{did_you_mean(key, _OUTPUTS)}; "
            f"choose one of {', '.join(_OUTPUTS)} (or none)"
        )
    return key  # type: ignore[return-value]


def _check_lengths(lengths: torch.Tensor, n: int, steps: int) -> torch.Tensor:
    lengths = torch.as_tensor(lengths).long().cpu()
    if lengths.shape != (n,):
        raise GanforgeError(
            f"lengths has shape {tuple(lengths.shape)}; expected ({n},), one length per sequence"
        )
    if n and (int(lengths.min()) < 1 or int(lengths.max()) > steps):
        raise GanforgeError(f"lengths must lie in 1..{steps} (the padded length); got {lengths.tolist()}")
    return lengths


class RecurrentNet(nn.Module):
    """A stack of recurrent layers and a per-step linear head: (N, T, input_dim) -> (N, T, output_dim).

    ``y_t = act(W h_t + b)`` where ``h_t`` is the last layer's hidden state at step ``t`` (forward and
    backward states concatenated when bidirectional). ``dropout`` acts between stacked recurrent layers
    (as in ``torch.nn.RNN``) and on the hidden states before the head. ``output_activation``: ``None``
    (linear), ``"sigmoid"`` or ``"tanh"``.
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        output_dim: int,
        cell: CellName | str = "gru",
        num_layers: int = 1,
        bidirectional: bool = False,
        output_activation: str | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (("input_dim", input_dim), ("hidden_dim", hidden_dim), ("output_dim", output_dim)):
            if int(value) < 1:
                raise GanforgeError(f"recurrent net: {name} must be at least 1, got {value}")
        if int(num_layers) < 1:
            raise GanforgeError(f"recurrent net: num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= float(dropout) < 1.0:
            raise GanforgeError(f"recurrent net: dropout must lie in [0, 1), got {dropout}")
        self.cell = str(cell).lower()
        self.input_dim = int(input_dim)
        self.hidden_dim = int(hidden_dim)
        self.output_dim = int(output_dim)
        self.num_layers = int(num_layers)
        self.directions = 2 if bidirectional else 1
        self.output_activation: OutputActivation = output_range(output_activation)
        self.rnn = _cell_class(cell)(
            input_size=self.input_dim,
            hidden_size=self.hidden_dim,
            num_layers=self.num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            # torch only applies (and warns about) inter-layer dropout when layers are stacked
            dropout=float(dropout) if self.num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(float(dropout))
        self.head = nn.Linear(self.directions * self.hidden_dim, self.output_dim)
        self.activation = _OUTPUTS[self.output_activation]()

    @property
    def feature_dim(self) -> int:
        """Width of the hidden features fed to the head: ``directions * hidden_dim``."""
        return self.directions * self.hidden_dim

    def features(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden features per step (N, T, feature_dim), zero at padding, and a summary (N, feature_dim).

        The summary is the last layer's final state: the forward state at each sequence's last valid
        step, concatenated (bidirectional) with the backward state at its first step.
        """
        if x.dim() != 3 or x.shape[-1] != self.input_dim:
            raise GanforgeError(
                f"recurrent net expects input (N, T, {self.input_dim}); got shape {tuple(x.shape)}"
            )
        n, steps, _ = x.shape
        if lengths is None:
            outputs, state = self.rnn(x)
        else:
            lengths = _check_lengths(lengths, n, steps)
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            packed_out, state = self.rnn(packed)
            outputs, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=steps)
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM returns (h_n, c_n)
        last = h_n[-self.directions :].transpose(0, 1).reshape(n, self.feature_dim)
        return outputs, last

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(N, T, input_dim) -> (N, T, output_dim); steps at or beyond ``lengths[i]`` come out as zeros."""
        hidden, _ = self.features(x, lengths)
        y = self.activation(self.head(self.dropout(hidden)))
        if lengths is not None:
            mask = sequence_mask(torch.as_tensor(lengths), x.shape[1]).to(y.device)
            y = y * mask.unsqueeze(-1).to(y.dtype)
        return y


class _Condition(nn.Module):
    """Turns a condition into per-step input features (N, T, dim): a label embedding or a static vector.

    Both are repeated along time, RCGAN's way of conditioning a recurrent net on a whole-sequence
    property.
    """

    def __init__(self, num_classes: int | None, static_dim: int | None, embed_dim: int | None) -> None:
        super().__init__()
        if num_classes is not None and static_dim is not None:
            raise GanforgeError("recurrent net: give num_classes (labels) or static_dim (vectors), not both")
        self.num_classes = None if num_classes is None else int(num_classes)
        self.static_dim = None if static_dim is None else int(static_dim)
        self.embedding: nn.Embedding | None = None
        if self.num_classes is not None:
            if self.num_classes < 2:
                raise GanforgeError(f"recurrent net: num_classes must be at least 2, got {num_classes}")
            width = self.num_classes if embed_dim is None else int(embed_dim)
            self.embedding = nn.Embedding(self.num_classes, width)
            self.dim = width
        elif self.static_dim is not None:
            if self.static_dim < 1:
                raise GanforgeError(f"recurrent net: static_dim must be at least 1, got {static_dim}")
            self.dim = self.static_dim
        else:
            self.dim = 0

    def append(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """Concatenate the condition for ``y`` to every step of ``x`` (no-op when unconditional)."""
        if self.dim == 0:
            if y is not None:
                raise GanforgeError("this recurrent net is unconditional; call it without a condition y")
            return x
        if y is None:
            raise GanforgeError(
                "this recurrent net is conditional; pass y "
                + ("(class labels, shape (N,))" if self.embedding is not None else f"(shape (N, {self.dim}))")
            )
        if self.embedding is not None:
            labels = y.long().reshape(-1)
            if labels.numel() != x.shape[0]:
                raise GanforgeError(f"got {labels.numel()} labels for {x.shape[0]} sequences")
            classes = self.embedding.num_embeddings
            if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= classes):
                found = labels.unique().tolist()
                raise GanforgeError(f"class labels must lie in 0..{classes - 1}, got {found}")
            cond = self.embedding(labels.to(x.device))
        else:
            cond = y.to(device=x.device, dtype=x.dtype)
            if cond.shape != (x.shape[0], self.dim):
                raise GanforgeError(
                    f"static condition has shape {tuple(cond.shape)}; expected ({x.shape[0]}, {self.dim})"
                )
        return torch.cat([x, cond.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=-1)


class RecurrentGenerator(nn.Module):
    """RCGAN generator: per-step noise z (N, T, noise_dim) [+ condition] -> sequence (N, T, features).

    ``x_t = act(W h_t + b)``, ``h_t = cell([z_t, c], h_{t-1})`` with ``c`` the label embedding or the
    static vector (absent when unconditional). ``output_activation`` (default ``"sigmoid"``, TimeGAN's
    choice for data min-max scaled into [0, 1]) is kept as an attribute so the data scaler can match it.
    """

    def __init__(
        self,
        noise_dim: int,
        hidden_dim: int,
        features: int,
        cell: CellName | str = "gru",
        num_layers: int = 1,
        output_activation: str | None = "sigmoid",
        num_classes: int | None = None,
        static_dim: int | None = None,
        embed_dim: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.noise_dim = int(noise_dim)
        self.features = int(features)
        self.condition = _Condition(num_classes, static_dim, embed_dim)
        self.num_classes = self.condition.num_classes
        self.net = RecurrentNet(
            self.noise_dim + self.condition.dim,
            hidden_dim,
            self.features,
            cell=cell,
            num_layers=num_layers,
            output_activation=output_activation,
            dropout=dropout,
        )
        self.output_activation: OutputActivation = self.net.output_activation

    def noise(
        self,
        n: int,
        steps: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> torch.Tensor:
        """Standard-normal per-step noise of shape (n, steps, noise_dim)."""
        return torch.randn(n, steps, self.noise_dim, generator=generator, device=device)

    def forward(
        self, z: torch.Tensor, y: torch.Tensor | None = None, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(N, T, noise_dim) noise, optional condition ``y`` -> (N, T, features); padded steps are zero."""
        return self.net(self.condition.append(z, y), lengths)


class RecurrentDiscriminator(nn.Module):
    """Recurrent discriminator: sequence (N, T, features) [+ condition] -> logits.

    ``per_step=True`` (RCGAN, and TimeGAN's discriminator) gives one logit per time step, (N, T), each
    judging the prefix up to that step (and the suffix, bidirectional); padded steps get logit 0.
    ``per_step=False`` gives one logit per sequence, (N,), from the final hidden state (TimeGAN's post-hoc
    discriminative metric). Outputs are raw logits; the objective applies the sigmoid.
    """

    def __init__(
        self,
        features: int,
        hidden_dim: int,
        cell: CellName | str = "gru",
        num_layers: int = 1,
        bidirectional: bool = False,
        num_classes: int | None = None,
        static_dim: int | None = None,
        per_step: bool = True,
        embed_dim: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.features = int(features)
        self.per_step = bool(per_step)
        self.condition = _Condition(num_classes, static_dim, embed_dim)
        self.num_classes = self.condition.num_classes
        self.net = RecurrentNet(
            self.features + self.condition.dim,
            hidden_dim,
            1,
            cell=cell,
            num_layers=num_layers,
            bidirectional=bidirectional,
            output_activation=None,
            dropout=dropout,
        )

    def forward(
        self, x: torch.Tensor, y: torch.Tensor | None = None, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits: (N, T) when ``per_step`` else (N,)."""
        inputs = self.condition.append(x, y)
        if self.per_step:
            return self.net(inputs, lengths).squeeze(-1)
        _, last = self.net.features(inputs, lengths)
        return self.net.head(self.net.dropout(last)).squeeze(-1)
