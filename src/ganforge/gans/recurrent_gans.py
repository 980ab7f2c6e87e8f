"""Recurrent GANs for sequences: RNN / LSTM / GRU network builders and RCGAN (Esteban et al. 2017).

RCGAN ("Real-valued (medical) time series generation with recurrent conditional GANs", Esteban, Hyland and
Rätsch 2017) generates a sequence many-to-many: the generator reads fresh noise z_t at every step (and the
condition c, repeated along time) and emits x_t; the discriminator reads the sequence (and c) and emits
one logit per step, each judging the prefix x_1..x_t. Its losses are the GAN's binary cross-entropies
averaged over samples *and* steps::

    J_D = -1/(N T) sum_{i,t} [log D_t(x_i, c_i) + log(1 - D_t(G(z_i, c_i), c_i))]
    J_G = -1/(N T) sum_{i,t} log D_t(G(z_i, c_i), c_i)          (non-saturating)

with any objective of :mod:`ganforge.objectives` (they all average over every logit). The condition is a
class label (embedded) or a static feature vector (``conditional: static``; the source's ``y`` holds one
vector per sequence). Samples of a static-conditioned model drawn without a condition use conditions
drawn from a bank of training conditions kept with the weights.

Network builders ``rnn``, ``lstm``, ``gru`` build :class:`~ganforge.nets.recurrent.RecurrentGenerator` /
:class:`~ganforge.nets.recurrent.RecurrentDiscriminator` for any ``model.type`` whose data are sequences
(N, T, F). :func:`tensorflow_init_` initialises recurrent nets as TensorFlow 1 does (TimeGAN's code).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from ganforge.data.base import Batch, DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Noise, Penalty, Phase
from ganforge.gans.registry import build_penalties, register_model, register_network, split_type
from ganforge.log_keys import LOSS_G
from ganforge.nets.recurrent import RecurrentDiscriminator, RecurrentGenerator, RecurrentNet
from ganforge.objectives import get_objective
from ganforge.registry import with_settings_of

ConditionKind = Literal["none", "label", "static"]
CONDITION_BANK = 1024  # training conditions kept for sampling a static-conditioned model without one


# --- initialisation ---------------------------------------------------------------------------------------
def _glorot_(weight: Tensor, fan_in: int, fan_out: int) -> None:
    """Glorot-uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)), from torch's global RNG."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        weight.uniform_(-limit, limit)


@torch.no_grad()
def tensorflow_init_(net: RecurrentNet) -> RecurrentNet:
    """Initialise every layer of ``net`` as TensorFlow 1's cells and ``fully_connected`` do.

    TF keeps one Glorot-uniform kernel over the concatenated [x_t, h_{t-1}] per cell: GRU (in + H, 2H) for
    both gates and (in + H, H) for the candidate, with gate biases 1 (keep the state at first); LSTM
    (in + H, 4H) with zero biases and ``forget_bias = 1`` added to the forget gate (folded here into its
    bias); a plain RNN (in + H, H). The per-step head is Glorot-uniform with zero bias. torch's default
    (U(-1/sqrt(H), 1/sqrt(H)) everywhere, gate biases near 0) trains TimeGAN noticeably slower.
    """
    rnn, h = net.rnn, net.hidden_dim
    params = dict(rnn.named_parameters())
    for name, weight in params.items():
        if not name.startswith("weight_"):
            continue
        layer_input = params[name.replace("weight_hh", "weight_ih")].shape[1]  # TF's kernel is (in + H, gates)
        fan_in = layer_input + h
        if net.cell == "gru":
            _glorot_(weight[: 2 * h], fan_in, 2 * h)
            _glorot_(weight[2 * h :], fan_in, h)
        else:
            _glorot_(weight, fan_in, weight.shape[0])
    for name, bias in rnn.named_parameters():
        if not name.startswith("bias_"):
            continue
        bias.zero_()
        if name.startswith("bias_ih"):
            if net.cell == "gru":
                bias[: 2 * h] = 1.0
            elif net.cell == "lstm":
                bias[h : 2 * h] = 1.0  # torch's gate order is (input, forget, cell, output)
    _glorot_(net.head.weight, net.head.in_features, net.head.out_features)
    net.head.bias.zero_()
    return net


# --- network builders ---------------------------------------------------------------------------------------
NoisePer = Literal["step", "sequence"]


def check_noise_per(noise_per: str) -> NoisePer:
    """Validate ``model.noise_per``: ``step`` draws fresh noise z_t at every step (RCGAN and TimeGAN as
    published); ``sequence`` draws one z per sequence and feeds it at every step, so all change from step to
    step comes from the generator's recurrence (smoother series; the noise must then have at least as many
    dimensions as the data has independent per-sequence factors)."""
    if noise_per not in ("step", "sequence"):
        raise GanforgeError(f"model.noise_per must be 'step' or 'sequence', got {noise_per!r}")
    return noise_per  # type: ignore[return-value]


def sequence_shape(sample_shape: tuple[int, ...], where: str) -> tuple[int, int]:
    if len(sample_shape) != 2:
        raise GanforgeError(
            f"{where}: recurrent networks need sequence data (N, T, F); this data has samples of shape "
            f"{tuple(sample_shape)} — use an mlp network, or a sequence source (sines, timeseries-csv)"
        )
    return int(sample_shape[0]), int(sample_shape[1])


def _recurrent_network(
    cell: str,
    role: str,
    noise_dim: int,
    sample_shape: tuple[int, ...],
    num_classes: int | None,
    hidden: int = 24,
    num_layers: int = 1,
    bidirectional: bool = False,
    output_activation: str | None = "sigmoid",
    per_step: bool = True,
    static_dim: int | None = None,
    embed_dim: int | None = None,
    dropout: float = 0.0,
    init: Literal["torch", "tensorflow"] = "tensorflow",
) -> nn.Module:
    _, features = sequence_shape(sample_shape, f"model.{role}")
    net: RecurrentGenerator | RecurrentDiscriminator
    if role == "generator":
        if bidirectional:
            raise GanforgeError(
                f"model.generator.bidirectional: a {cell} generator emits x_t from the past only; "
                "bidirectional is for the discriminator"
            )
        net = RecurrentGenerator(
            noise_dim,
            hidden,
            features,
            cell=cell,
            num_layers=num_layers,
            output_activation=output_activation,
            num_classes=num_classes,
            static_dim=static_dim,
            embed_dim=embed_dim,
            dropout=dropout,
        )
    else:
        net = RecurrentDiscriminator(
            features,
            hidden,
            cell=cell,
            num_layers=num_layers,
            bidirectional=bidirectional,
            num_classes=num_classes,
            static_dim=static_dim,
            per_step=per_step,
            embed_dim=embed_dim,
            dropout=dropout,
        )
    if init == "tensorflow":
        tensorflow_init_(net.net)
    elif init != "torch":
        raise GanforgeError(f"model.{role}.init: '{init}' is not 'torch' or 'tensorflow'")
    return net


def _builder(cell: str):  # noqa: ANN202 - returns a registered builder
    @with_settings_of(_recurrent_network, skip=("cell",))
    def build(
        role: str, noise_dim: int, sample_shape: tuple[int, ...], num_classes: int | None, **settings: Any
    ) -> nn.Module:
        return _recurrent_network(cell, role, noise_dim, sample_shape, num_classes, **settings)

    build.__doc__ = (
        f"Stacked {cell.upper()} network for sequences (N, T, F): generator per-step noise (+ condition) -> "
        "sequence (output_activation sigmoid/tanh/none; data are min-max scaled to match), or "
        "discriminator sequence -> one logit per step (per_step, RCGAN) or per sequence; bidirectional "
        "applies to discriminators only."
    )
    return build


register_network("rnn")(_builder("rnn"))
register_network("lstm")(_builder("lstm"))
register_network("gru")(_builder("gru"))


# --- RCGAN ------------------------------------------------------------------------------------------------
class RCGAN(GANModel):
    """Recurrent (conditional) GAN: recurrent generator with per-step noise, per-step recurrent
    discriminator, conditional on a class label or a static vector (or unconditional).

    ``generator(z, c)`` maps noise (N, T, noise_dim) to sequences (N, T, F); ``discriminator(x, c)``
    returns logits (N, T) (or (N,)). ``condition``: ``"none"``, ``"label"`` (``num_classes`` classes) or
    ``"static"`` (vectors of ``static_dim``). Each step trains D ``n_critic`` times, then G once; the fake
    batch of the last D repeat is reused by G (G has not changed in between). ``penalties`` (of
    :mod:`ganforge.gans.penalties`) are added to D's loss, as in :class:`~ganforge.gans.vanilla.GAN`.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        seq_len: int,
        noise_dim: int,
        objective: str = "nonsaturating",
        *,
        condition: ConditionKind = "none",
        num_classes: int | None = None,
        static_dim: int | None = None,
        n_critic: int = 1,
        noise: Literal["normal", "uniform"] = "normal",
        noise_per: NoisePer = "step",
        penalties: Sequence[Penalty] = (),
    ) -> None:
        super().__init__()
        self.noise_per = check_noise_per(noise_per)
        self.penalties = list(penalties)
        if condition not in ("none", "label", "static"):
            raise GanforgeError(f"model.conditional: '{condition}' is not one of false, label, static")
        if condition == "label" and not num_classes:
            raise GanforgeError("model.conditional: label conditioning needs data with class labels")
        if condition == "static" and not static_dim:
            raise GanforgeError("model.conditional: static conditioning needs one feature vector per sequence")
        self.generator = generator
        self.discriminator = discriminator
        self.seq_len = int(seq_len)
        self.noise = Noise((1 if self.noise_per == "sequence" else self.seq_len, int(noise_dim)), noise)
        self.objective = get_objective(objective)
        self.condition = condition
        self.num_classes = int(num_classes) if condition == "label" else None
        self.static_dim = int(static_dim) if condition == "static" else None
        self.n_critic = int(n_critic)
        self.output_activation = getattr(generator, "output_activation", "linear")
        self.register_buffer("condition_bank", torch.zeros(CONDITION_BANK, self.static_dim or 0))

    # --- conditions ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def remember_conditions(self, conditions: Tensor, seed: int = 0) -> None:
        """Keep ``CONDITION_BANK`` training conditions (drawn with replacement) for unconditioned sampling."""
        if self.static_dim is None:
            return
        g = torch.Generator().manual_seed(seed)
        idx = torch.randint(0, len(conditions), (CONDITION_BANK,), generator=g)
        self.condition_bank.copy_(conditions[idx].float().reshape(CONDITION_BANK, self.static_dim))

    def _condition_for(self, n: int, given: Tensor | None, device: torch.device) -> Tensor | None:
        if self.static_dim is None or given is not None:
            return given
        idx = torch.randint(0, CONDITION_BANK, (n,), device=self.condition_bank.device)
        return self.condition_bank[idx].to(device)

    def labels_for(self, n: int, label: int | Tensor | None, start: int, device: torch.device) -> Tensor | None:
        """Labels (label conditioning), static vectors (``label`` a tensor (n, static_dim), else drawn from
        the bank of training conditions), or None."""
        if self.static_dim is None:
            return super().labels_for(n, label, start, device)
        if label is None:
            return self._condition_for(n, None, device)
        if not isinstance(label, Tensor) or label.dim() != 2 or label.shape[1] != self.static_dim:
            raise GanforgeError(
                f"this model is conditioned on static vectors of {self.static_dim} features; pass a tensor "
                f"of shape (n, {self.static_dim}) as the condition"
            )
        return label[start : start + n].to(device).float()

    # --- networks as functions ------------------------------------------------------------------------------
    def sample_latents(self, n: int) -> Tensor:
        """z (n, T, noise_dim): drawn per step, or once per sequence and held over the T steps."""
        return self.noise.sample(n).expand(n, self.seq_len, self.noise.dim).contiguous()

    def generate(self, z: Tensor, y: Tensor | None = None, lengths: Tensor | None = None, **options: Any) -> Tensor:
        """Sequences (N, T, F) in model units for per-step noise ``z`` (N, T, noise_dim) and condition ``y``;
        with ``lengths`` (N,) steps beyond each length come out as zeros."""
        del options
        net = self.generator if self.training else self.sampling_generator()
        if self.condition == "none":
            return net(z, None, lengths)
        return net(z, self._condition_for(z.shape[0], y, z.device), lengths)

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """D's logits flattened to (N, T) (per step) or (N, 1)."""
        out = self.discriminator(x) if self.condition == "none" else self.discriminator(x, y)
        return out.reshape(out.shape[0], -1)

    @torch.no_grad()
    def sample(self, n: int, label: int | Tensor | None = None, batch_size: int = 4096, **options: Any) -> Tensor:
        """``n`` sequences in model units; ``lengths=`` (n,) generates variable lengths (zero-padded)."""
        if options.get("lengths") is not None:
            batch_size = max(n, 1)  # one batch, so the lengths line up with the samples
        return super().sample(n, label=label, batch_size=batch_size, **options)

    # --- phases ----------------------------------------------------------------------------------------------
    def phases(self, step: int) -> list[Phase]:
        return self.two_player_phases(step, self.n_critic)

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "discriminator":
            assert batch is not None
            real = batch.x
            y = None if self.condition == "none" else batch.y
            if self.condition != "none" and y is None:
                raise GanforgeError("this RCGAN is conditional but the data batch carries no labels/conditions")
            if y is not None and self.static_dim is not None:
                y = y.float()

            def make_fake() -> Tensor:
                return self.generate(self.sample_latents(real.shape[0]).to(real.device), y)

            return self.discriminator_step(real, make_fake, y, keep_graph=repeat == phase.repeats - 1)
        cached = self.take_fake()
        loss = self.generator_adversarial_loss(cached.fake, cached.cond)
        return loss, {LOSS_G: loss.detach()}


def _condition_kind(conditional: bool | str, source: DataSource) -> tuple[ConditionKind, int | None, int | None]:
    """(kind, num_classes, static_dim) for ``model.conditional`` on ``source``."""
    kind = ("label" if conditional else "none") if isinstance(conditional, bool) else str(conditional).lower()
    if kind in ("none", "false", "no"):
        return "none", None, None
    if kind == "label":
        if source.num_classes is None:
            raise GanforgeError(
                f"model.conditional: data '{source.name}' has no class labels; give integer labels (e.g. "
                "sequences-npy with labels_key) or set model.conditional=false"
            )
        return "label", int(source.num_classes), None
    if kind == "static":
        y = getattr(source, "y", None)
        dim = int(y.shape[1]) if isinstance(y, Tensor) and y.dim() == 2 else source.info.get("static_dim")
        if not dim:
            raise GanforgeError(
                f"model.conditional: data '{source.name}' has no static features (one vector per sequence in "
                "its y); use conditional=label or false"
            )
        return "static", None, int(dim)
    raise GanforgeError(f"model.conditional: '{conditional}' is not one of false, label, static")


@register_model("rcgan")
@with_settings_of(RCGAN, skip=("seq_len", "condition", "num_classes", "static_dim"))
def build_rcgan(
    source: DataSource,
    noise_dim: int = 5,
    generator: dict[str, Any] | str = "gru",
    discriminator: dict[str, Any] | str = "gru",
    conditional: bool | str = False,
    penalties: dict[str, Any] | None = None,
    **settings: Any,
) -> RCGAN:
    """RCGAN (Esteban et al. 2017) for sequences: recurrent G with per-step noise (noise_dim per step; with
    noise_per: sequence one draw per sequence, fed at every step), per-step recurrent D; conditional: false,
    label (class labels) or static (one vector per sequence); penalties on D as for the other GANs (e.g.
    ``{r1: 1.0}``; the gradient is taken through the recurrent D with respect to the whole sequence); the
    other settings (objective, n_critic, noise, noise_per) are :class:`RCGAN`'s."""
    from ganforge.gans.registry import NETWORKS

    seq_len, _ = sequence_shape(tuple(source.sample_shape), "model")
    kind, num_classes, static_dim = _condition_kind(conditional, source)
    nets = {}
    for role, spec in (("generator", generator), ("discriminator", discriminator)):
        name, net_settings = split_type(spec, f"model.{role}")
        if static_dim is not None:
            net_settings["static_dim"] = static_dim
        nets[role] = NETWORKS.build(
            name,
            net_settings,
            f"model.{role}",
            role=role,
            noise_dim=noise_dim,
            sample_shape=tuple(source.sample_shape),
            num_classes=num_classes,
        )
    gan = RCGAN(
        nets["generator"],
        nets["discriminator"],
        seq_len,
        noise_dim,
        condition=kind,
        num_classes=num_classes,
        static_dim=static_dim,
        penalties=build_penalties(penalties),
        **settings,
    )
    y = getattr(source, "y", None)
    if static_dim is not None and isinstance(y, Tensor) and len(y):
        gan.remember_conditions(y)
    return gan
