"""What every GAN variant is to the trainer: networks, phases, losses per phase, and sampling.

A *phase* names which networks it updates and how often per training step (the discriminator phase of
a WGAN repeats ``n_critic`` times). The trainer owns one optimizer per phase and is generic over them;
a variant only says how a phase's loss is computed (:meth:`GANModel.phase_loss`).
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from ganforge.data.base import Batch, DataSource
from ganforge.errors import GanforgeError, quote, whole_number
from ganforge.log_keys import D_FAKE, D_REAL, LOSS_D, suffixed
from ganforge.objectives import Objective, discriminator_score

OutputActivation = Literal["linear", "tanh", "sigmoid"]
EMA_RAMPUP = 0.05  # StyleGAN2-ADA's ema_rampup (auto, cifar configs): EMA half-life at most 5 % of the training so far


@dataclass(frozen=True)
class Phase:
    """One kind of update in a training step: ``networks`` are attribute names of the GAN's modules whose
    parameters this phase's optimizer updates; ``repeats`` is how many times per step it runs;
    ``needs_data`` says whether it takes a fresh real batch; ``log_as`` names the common phase
    (``discriminator``/``generator``) it also stands for in the log."""

    name: str
    networks: tuple[str, ...]
    repeats: int = 1
    needs_data: bool = True
    log_as: str | None = None  # also log this phase's gradient norm as that phase's (LAPGAN's finest level)


@functools.cache
def _two_player_phases(n_critic: int) -> tuple[Phase, Phase]:
    """Built once per ``n_critic``, not every step (phases are frozen, so models can share them)."""
    discriminator = Phase("discriminator", ("discriminator",), repeats=n_critic)
    return discriminator, Phase("generator", ("generator",), needs_data=False)


class Noise(nn.Module):
    """The latent prior p(z): standard normal or uniform on [-1, 1], of any dimension."""

    def __init__(self, dim: int | tuple[int, ...], kind: Literal["normal", "uniform"] = "normal") -> None:
        super().__init__()
        self.shape = (dim,) if isinstance(dim, int) else tuple(dim)
        if kind not in ("normal", "uniform"):
            raise GanforgeError(f"model.noise.kind: '{kind}' is not 'normal' or 'uniform'")
        self.kind = kind

    @property
    def dim(self) -> int:
        return self.shape[-1]

    def sample(self, n: int, device: torch.device | str = "cpu") -> Tensor:
        """z ~ p(z), shape (n, *shape), drawn from torch's global RNG (saved in checkpoints)."""
        if self.kind == "normal":
            return torch.randn(n, *self.shape, device=device)
        return torch.rand(n, *self.shape, device=device) * 2 - 1


def option_words(key: str) -> str:
    """A sampling option as the Python keyword and the command-line flag: ``mix_styles (--mix-styles)``."""
    return f"{key} (--{key.replace('_', '-')})"


def _allocate_samples(n: int, first: Tensor) -> Tensor:
    """An empty (n, *sample shape) tensor like the first generated batch, or one line saying it cannot be held."""
    shape = (n, *first.shape[1:])
    try:
        return torch.empty(shape, dtype=first.dtype, device=first.device)
    except (RuntimeError, MemoryError) as err:
        size = math.prod(shape) * first.element_size() / 2**30
        raise GanforgeError(
            f"{n} samples of shape {tuple(first.shape[1:])} need {size:.3g} GiB, more than can be allocated here; "
            "sample fewer at a time, or let `ganforge sample RUN -n N -o FILE` write them block by block"
        ) from err


def _last_leaf_name(module: nn.Module) -> tuple[str, nn.Module]:
    """(dotted name, module) of the last registered leaf module ("" and ``module`` itself when it has no children)."""
    found, leaf = "", module
    for full_name, sub in module.named_modules():
        if full_name and not list(sub.children()):
            found, leaf = full_name, sub
    return found, leaf


def last_leaf(module: nn.Module) -> tuple[nn.Module | None, str, nn.Module]:
    """(parent, attribute name, module) of the last registered leaf module — the output layer of any
    network whose modules are registered in forward order (every ``nn.Sequential``, and classes that
    define their layers in order, like the notes' ``fc`` then ``sigmoid``)."""
    full_name, leaf = _last_leaf_name(module)
    if not full_name:
        return None, "", leaf
    owner_name, _, name = full_name.rpartition(".")
    return (module.get_submodule(owner_name) if owner_name else module), name, leaf


def first_linear_inputs(generator: nn.Module) -> int | None:
    """``in_features`` of the generator's first registered leaf module when that is an ``nn.Linear`` (the
    notes' ``nn.Linear(5, 16)`` first layer: the noise it takes), else None: a convolutional or recurrent
    first layer does not say the noise size, and a lazy ``nn.LazyLinear`` does not know it yet."""
    first = next((m for m in generator.modules() if not list(m.children())), None)
    if isinstance(first, nn.Linear) and not isinstance(first, nn.modules.lazy.LazyModuleMixin):
        return int(first.in_features) if first.in_features > 0 else None
    return None


VIEW_NODES = ("View", "Reshape", "UnsafeView", "Squeeze", "Unsqueeze", "Permute", "Transpose", "Clone",
              "Contiguous", "Expand", "Alias")
"""Autograd nodes that move values without changing them: looking through them, ``torch.tanh(x).view(n, -1)``
still ends in a tanh."""


def output_activation_of_output(sample: Tensor) -> OutputActivation:
    """The range a generator's output can take, read from the operation that made it (its autograd node,
    so a functional ``torch.tanh`` counts as much as an ``nn.Tanh`` module); ``sample`` must come from a
    forward pass with gradients on."""
    node = sample.grad_fn
    while node is not None and node.name().startswith(VIEW_NODES) and node.next_functions:
        node = node.next_functions[0][0]
    name = "" if node is None else node.name()
    if name.startswith("TanhBackward"):
        return "tanh"
    if name.startswith("SigmoidBackward"):
        return "sigmoid"
    return "linear"


def output_activation_of(generator: nn.Module) -> OutputActivation:
    """The range a generator can produce: its ``output_activation`` attribute if it has one, else read
    from its last layer (Tanh -> tanh, Sigmoid -> sigmoid, anything else -> linear)."""
    declared = getattr(generator, "output_activation", None)
    if declared in ("linear", "tanh", "sigmoid"):
        return declared
    _, _, leaf = last_leaf(generator)
    if isinstance(leaf, nn.Tanh):
        return "tanh"
    if isinstance(leaf, nn.Sigmoid):
        return "sigmoid"
    return "linear"


class ProbabilityToLogit(nn.Module):
    """Wrap a discriminator whose output is a probability p (ending in a functional sigmoid we cannot
    remove) and return logit(p) = log p - log(1 - p), clamped away from 0 and 1 so no log(0) occurs."""

    def __init__(self, net: nn.Module, eps: float = 1e-6) -> None:
        super().__init__()
        self.net = net
        self.eps = eps

    def forward(self, *args: Any) -> Tensor:
        return torch.logit(self.net(*args).clamp(self.eps, 1 - self.eps))


def logit_discriminator(
    discriminator: nn.Module, output: Literal["auto", "logits", "probability"] = "auto"
) -> nn.Module:
    """Make ``discriminator`` return logits, whatever the user wrote.

    ``auto``: if its last layer is ``nn.Sigmoid`` (the notes' Dense(1, sigmoid)), that layer is replaced
    by identity, so losses use the exact log-sigmoid of the logit; otherwise outputs are taken as logits.
    ``probability``: outputs are probabilities from an irremovable sigmoid; wrapped by
    :class:`ProbabilityToLogit`. ``logits``: used as is.

    The user's own module is never changed: the user's code still calls ``D(x)`` and expects the
    probability it wrote. The sigmoid is removed in a copy (:func:`_copy_path_to`) that shares every
    parameter, buffer and other layer with ``discriminator``, so training updates the user's weights and
    the state-dict keys are the user's own.
    """
    if output == "logits":
        return discriminator
    if output == "probability":
        return ProbabilityToLogit(discriminator)
    full_name, leaf = _last_leaf_name(discriminator)
    if isinstance(leaf, nn.Sigmoid) and full_name:
        owner_name, _, name = full_name.rpartition(".")
        copied, owner = _copy_path_to(discriminator, owner_name)
        _replace_child(owner, name, RemovedSigmoid())
        return copied
    return discriminator


def _own_children_copy(module: nn.Module) -> nn.Module:
    """A new object of ``module``'s class sharing all its state (parameters, buffers, hooks, attributes: the
    very same dicts, so ``.to(device)`` and ``load_state_dict`` reach both) except the dict of child
    modules, which is its own: replacing a child of the copy leaves ``module`` as it was."""
    clone = copy.copy(module)  # a new __dict__ holding the same values
    clone.__dict__["_modules"] = type(module._modules)(module._modules)
    return clone


def _copy_path_to(root: nn.Module, owner_name: str) -> tuple[nn.Module, nn.Module]:
    """(copy of ``root``, the copy of its submodule ``owner_name``): only the modules on the path from the
    root down to that submodule are copied (:func:`_own_children_copy`), every other module is shared."""
    top = node = _own_children_copy(root)
    for part in owner_name.split(".") if owner_name else ():
        child = _own_children_copy(node._modules[part])  # type: ignore[arg-type]
        node._modules[part] = child
        node = child
    return top, node


class RemovedSigmoid(nn.Identity):
    """Stands where ``logit_discriminator`` took out the discriminator's last registered ``nn.Sigmoid``.
    A network that registers its layers out of call order (``fc1, fc2, act`` used as ``fc2(act(fc1(x)))``)
    may have used that sigmoid inside; :func:`restore_inner_sigmoid` puts it back then."""


def _replace_child(parent: nn.Module, name: str, module: nn.Module) -> None:
    if isinstance(parent, nn.Sequential):
        parent[int(name)] = module
    else:
        setattr(parent, name, module)


def restore_inner_sigmoid(discriminator: nn.Module, run: Callable[[], Any]) -> bool:
    """Run ``run()`` (one forward pass of the discriminator) and put back a removed sigmoid that another
    layer was applied after: it was a hidden activation, not the output. Returns whether it did."""
    removed = [(n, m) for n, m in discriminator.named_modules() if isinstance(m, RemovedSigmoid)]
    if not removed:
        return False
    calls: list[nn.Module] = []
    leaves = [m for m in discriminator.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(lambda module, _i, _o: calls.append(module)) for m in leaves]
    try:
        run()
    finally:
        for hook in hooks:
            hook.remove()
    restored = False
    for full_name, module in removed:
        if module in calls and any(list(m.parameters()) for m in calls[calls.index(module) + 1 :]):
            owner, _, name = full_name.rpartition(".")
            _replace_child(discriminator.get_submodule(owner) if owner else discriminator, name, nn.Sigmoid())
            restored = True
    return restored


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Parameters of ``module`` do not require gradients inside the block. Used for the generator phase:
    G's loss flows *through* D, but D's own weight gradients would be computed and then thrown away."""
    params = list(module.parameters())  # one walk over the module tree (this runs every training step)
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)


@dataclass
class PenaltyInputs:
    """What a discriminator penalty may look at: the logit function D(x, y), real and fake samples (fake
    detached from G), their logits, labels, and the global step (for lazy regularization)."""

    discriminator: Callable[[Tensor], Tensor]
    real: Tensor
    fake: Tensor
    real_logits: Tensor
    fake_logits: Tensor
    labels: Tensor | None
    step: int


class Penalty:
    """A term added to the discriminator loss: ``weight * value(inputs)`` every ``every`` steps
    (lazy regularization, Karras et al. 2020, multiplies the weight by ``every`` to keep its strength)."""

    name = "penalty"

    def __init__(self, weight: float, every: int = 1) -> None:
        self.weight = weight
        self.every = max(1, int(every))

    def value(self, inputs: PenaltyInputs) -> Tensor:
        raise NotImplementedError

    def __call__(self, inputs: PenaltyInputs) -> Tensor | None:
        if inputs.step % self.every:
            return None
        return self.weight * self.every * self.value(inputs)


def add_penalties(loss: Tensor, logs: dict[str, Tensor], penalties: Sequence[Penalty], inputs: PenaltyInputs) -> Tensor:
    """``loss`` plus every penalty due at ``inputs.step``; each added term is logged under its name."""
    for penalty in penalties:
        term = penalty(inputs)
        if term is not None:
            loss = loss + term
            logs[penalty.name] = term.detach()
    return loss


@dataclass
class FakeBatch:
    """The fake batch of the discriminator's last repeat, kept with G's graph for the generator phase that
    follows (G has not changed in between, so reusing it equals a fresh forward pass with the same z).
    ``cond`` is what D sees beside the sample (labels, a low-pass image); ``tag`` pairs it with its
    generator phase (LAPGAN: the level); ``extra`` is the variant's own (SRGAN: the high-res targets)."""

    fake: Tensor
    cond: Tensor | None = None
    tag: object = None
    extra: Any = None


Judge = Callable[[Tensor, "Tensor | None"], Tensor]


class GANModel(nn.Module):
    """Base class of every variant. Subclasses set ``generator``, ``discriminator`` (or their own
    networks), implement :meth:`phases`, :meth:`phase_loss` and :meth:`generate`.

    Two-player models (GAN, RCGAN, StyleGAN, LAPGAN, SRGAN) build their phases from the one adversarial
    step below, so a fix lands once: :meth:`discriminator_step` (the fake batch of D's last repeat is kept
    for G, penalties through :class:`Penalty`, D(x)/D(G(z)) only on logging steps) and
    :meth:`take_fake` + :meth:`generator_adversarial_loss` (J_G on that fake batch, D frozen).
    """

    output_activation: OutputActivation = "linear"
    objective: Objective  # set by two-player models (``get_objective(name)``)
    penalties: Sequence[Penalty] = ()  # discriminator penalties of two-player models
    num_classes: int | None = None
    samples_from_noise = True  # False for image-to-image models (SRGAN, CycleGAN): no sample(n)
    batch_multiple = 1  # train.batch_size must be a multiple of this (TableGAN: its PacGAN pack)
    # Whether the trainer reads this step's logged scalars; it sets this before every step. On other steps
    # a variant may skip scalars that only serve the log (D(x), D(G(z))); losses never depend on it.
    logging_step = True

    def __init__(self) -> None:
        super().__init__()
        self.ema_generator: nn.Module | None = None
        self.ema_decay = 0.0
        self._ema_pairs: tuple[Any, ...] | None = None
        self._fake: FakeBatch | None = None
        self._step = 0  # the training step being run (``phases(step)`` records it; penalties are lazy by it)
        # EMA warm-up: the trainer sets the 0-based step before each training step (None: no ramp)
        self.ema_step: int | None = None
        self.ema_rampup = EMA_RAMPUP
        # sampling uses the EMA generator unless the end-of-run check found it worse than the raw one
        self.sample_with_ema = True

    # --- training -------------------------------------------------------------------------------
    def phases(self, step: int) -> list[Phase]:
        """The phases of training step ``step`` (0-based), in order."""
        raise NotImplementedError

    def two_player_phases(self, step: int, n_critic: int = 1) -> list[Phase]:
        """The step of every two-player model: D ``n_critic`` times on real batches, then G (no real batch)."""
        self._step = step
        return list(_two_player_phases(n_critic))

    def all_phases(self) -> list[Phase]:
        """Every phase training may run, so the trainer creates all optimizers up front (a variant whose
        phases change with the step, like TimeGAN's pre-training, lists them all). Default: step 0's."""
        return self.phases(0)

    def phase_loss(
        self, phase: Phase, batch: Batch | None, repeat: int
    ) -> tuple[Tensor | None, dict[str, Tensor]]:
        """Loss to minimize for ``phase`` and detached scalars to log (loss terms, D(x), D(G(z)), ...).

        A loss of ``None`` skips this update (no optimizer step): TimeGAN trains its discriminator only
        while its loss is above a threshold."""
        raise NotImplementedError

    def parameters_of(self, phase: Phase) -> list[nn.Parameter]:
        """The parameters ``phase``'s optimizer updates."""
        params: list[nn.Parameter] = []
        for name in phase.networks:
            params.extend(p for p in getattr(self, name).parameters() if p.requires_grad)
        return params

    def after_update(self, phase: Phase) -> None:
        """Hook run after each optimizer step of ``phase`` (weight clipping, EMA)."""
        if phase.name == "generator":
            self.update_ema()

    # --- the adversarial step of two-player models ---------------------------------------------------
    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """J_D of the model's objective (a variant may add e.g. label smoothing)."""
        return self.objective.discriminator(real_logits, fake_logits)

    def discriminator_step(
        self,
        real: Tensor,
        make_fake: Callable[[], Tensor],
        cond: Tensor | None = None,
        *,
        keep_graph: bool = True,
        judge: Judge | None = None,
        suffix: str = "",
        tag: object = None,
        extra: Any = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Loss and logs of one discriminator update:

            J_D(D(x, c), D(G(z), c)) + sum of the penalties due at this step

        ``make_fake()`` runs the generator (its graph is built only when ``keep_graph``, i.e. on D's last
        repeat: that fake batch is kept for the generator phase, see :class:`FakeBatch`); D sees it
        detached. ``judge(x, cond)`` is D (default :meth:`discriminate`). Logged: ``loss_d`` (and, on
        logging steps only, the mean scores ``d_real``/``d_fake``), each with ``suffix`` when the model
        has several discriminators, and every penalty term under its name."""
        judge = judge or self.discriminate  # type: ignore[attr-defined]  # D's logits, one row per sample
        with torch.set_grad_enabled(keep_graph):
            fake = make_fake()
        self._fake = FakeBatch(fake, cond, tag, extra) if keep_graph else None
        fake = fake.detach()
        real_logits = judge(real, cond)
        fake_logits = judge(fake, cond)
        loss = self.discriminator_loss(real_logits, fake_logits)
        logs = {suffixed(LOSS_D, suffix): loss.detach()}
        if self.logging_step:  # the mean scores D(x), D(G(z)) only feed the log
            logs[suffixed(D_REAL, suffix)] = discriminator_score(real_logits.detach(), self.objective).mean()
            logs[suffixed(D_FAKE, suffix)] = discriminator_score(fake_logits.detach(), self.objective).mean()
        if self.penalties:

            def d_of(x: Tensor) -> Tensor:
                return judge(x, cond)

            inputs = PenaltyInputs(d_of, real, fake, real_logits, fake_logits, cond, self._step)
            loss = add_penalties(loss, logs, self.penalties, inputs)
        return loss, logs

    def take_fake(self, tag: object = None) -> FakeBatch:
        """The fake batch the discriminator phase (with the same ``tag``) kept for this generator phase."""
        cached, self._fake = self._fake, None
        if cached is None or cached.tag != tag:
            raise RuntimeError("the generator phase reuses the fake batch of the discriminator phase before it")
        return cached

    def generator_adversarial_loss(
        self, fake: Tensor, cond: Tensor | None = None, *, judge: Judge | None = None, network: nn.Module | None = None
    ) -> Tensor:
        """J_G(D(G(z), c)) on ``fake`` (with G's graph). D (``network``, default ``self.discriminator``) is
        frozen: G's loss flows through it, but its own weight gradients are never computed."""
        judge = judge or self.discriminate  # type: ignore[attr-defined]
        with frozen(network if network is not None else self.discriminator):
            fake_logits = judge(fake, cond)
        return self.objective.generator(fake_logits)

    # --- generator EMA ----------------------------------------------------------------------------
    def enable_ema(self, decay: float) -> None:
        """Keep an exponential moving average of the generator's weights,
        θ_ema <- decay θ_ema + (1 - decay) θ, used for sampling (Karras et al. 2018; Yazıcı et al. 2019)."""
        self.ema_decay = decay
        self.ema_generator = copy.deepcopy(self.generator).requires_grad_(False).eval()
        self._ema_pairs = None

    def _ema_tensors(self) -> tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor]]:
        """(EMA parameters, parameters, EMA buffers, buffers), listed once and reused while the two networks
        are the same objects; ``_apply`` (``.to()``, ``.cuda()``, ``.float()``: new buffer tensors) drops it."""
        assert self.ema_generator is not None
        key, cached = (self.generator, self.ema_generator), getattr(self, "_ema_pairs", None)
        if cached is None or cached[0][0] is not key[0] or cached[0][1] is not key[1]:
            ema_p, p = list(self.ema_generator.parameters()), list(self.generator.parameters())
            ema_b, b = list(self.ema_generator.buffers()), list(self.generator.buffers())
            if len(ema_p) != len(p) or len(ema_b) != len(b):
                raise RuntimeError("the EMA generator no longer matches the generator; call enable_ema again")
            self._ema_pairs = (key, (ema_p, p, ema_b, b))
        return self._ema_pairs[1]

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> GANModel:
        self._ema_pairs = None
        return super()._apply(fn, *args, **kwargs)

    def current_ema_decay(self) -> float:
        """The decay of this update, with StyleGAN2-ADA's warm-up (Karras et al. 2020, ``ema_rampup``): the
        EMA's half-life h = ln 0.5 / ln(decay) steps is capped at ``ema_rampup`` (0.05) times the steps
        taken, so beta_t = 0.5 ** (1 / min(h, 0.05 (t + 1))) = min(decay, 0.5 ** (1 / (0.05 (t + 1)))).
        Without it, a 600-step run with decay 0.999 samples from weights that are still 55 % the random
        start (0.999 ** 600); with it the EMA follows the generator early and averages over ~5 % of the
        run until the configured half-life is reached (step 13 860 for 0.999)."""
        if self.ema_step is None or self.ema_rampup <= 0:
            return self.ema_decay
        ramp = 0.5 ** (1.0 / max(self.ema_rampup * (self.ema_step + 1), 1e-8))
        return min(self.ema_decay, ramp)

    @torch.no_grad()
    def update_ema(self) -> None:
        """θ_ema <- θ_ema + (1 - beta_t)(θ - θ_ema) for all parameters in one fused call, beta_t from
        :meth:`current_ema_decay`; buffers (batch-norm statistics) are copied."""
        if self.ema_generator is None:
            return
        ema_p, p, ema_b, b = self._ema_tensors()
        torch._foreach_lerp_(ema_p, p, 1.0 - self.current_ema_decay())
        if ema_b:
            torch._foreach_copy_(ema_b, b)

    def finish_training(self, source: DataSource) -> bool:
        """End-of-training work on the model's own state, run once when a run's steps are done, before its
        evaluation (recomputed statistics, for instance). True when the state changed, so the final
        checkpoint is written again; the default does nothing."""
        return False

    # --- sampling -----------------------------------------------------------------------------------
    def sampling_generator(self) -> nn.Module:
        """The network used for sampling: the EMA generator when enabled (and not found worse than the
        raw generator at the end of training, ``sample_with_ema``), else the generator."""
        if self.ema_generator is not None and self.sample_with_ema:
            return self.ema_generator
        return self.generator

    def generate(self, z: Tensor, y: Tensor | None = None, **options: Any) -> Tensor:
        """Generator output for latents ``z`` (and labels ``y``), in model units."""
        raise NotImplementedError

    def sample_latents(self, n: int) -> Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def sample(
        self, n: int, label: int | Tensor | None = None, batch_size: int = 4096, **options: Any
    ) -> Tensor:
        """``n`` generated samples in model units (eval mode; EMA weights when enabled).

        ``label``: a class index (all samples of that class) or per-sample labels (a tensor, numpy array or
        list), for conditional models; checked once here (:meth:`class_labels`), not per batch.
        """
        self.check_sampling_options(options)
        if self.num_classes is not None:
            label = self.class_labels(label, n)
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        try:
            result: Tensor | None = None
            for start in range(0, n, batch_size):
                m = min(batch_size, n - start)
                y = self.labels_for(m, label, start, device)
                batch = self.generate(self.sample_latents(m).to(device), y, **options)
                # the whole output allocated after the first batch: a count too large fails now, not after hours
                # of sampling, and no final concatenation holds every batch twice
                if result is None:
                    result = _allocate_samples(n, batch)
                result[start:start + m] = batch
            return result if result is not None else torch.empty(0)
        finally:
            self.train(was_training)

    # options ``sample`` takes beyond ``generate``'s keywords (text-to-image: ``text``, turned into tokens there)
    sampling_options_of_sample: tuple[str, ...] = ()

    def check_sampling_options(self, options: dict[str, Any]) -> None:
        """Every sampling option (``truncation``, ``mix_styles``, ``lengths``...) must be a named keyword of
        this model's ``generate`` (its ``**options`` does not count): an option another family understands
        (``--truncation`` on a plain GAN) is one line naming the option and the ones this model takes,
        not a ``TypeError`` from deep inside. Reached from ``run.sample(truncation=...)`` as well as from the
        command line, so each option is named both ways: ``truncation (--truncation)``."""
        params = inspect.signature(self.generate).parameters
        known = [n for n, p in params.items() if n not in ("z", "y") and p.kind is not p.VAR_KEYWORD]
        known += self.sampling_options_of_sample
        for key in options:
            if key not in known:
                flags = ", ".join(option_words(k) for k in known) or "none"
                raise GanforgeError(
                    f"{option_words(key)}: this {type(self).__name__} model has no such sampling option "
                    f"(it is for other model families); this model's options: {flags}"
                )

    def class_labels(self, label: Any, n: int | None = None) -> int | Tensor | None:
        """``label`` of a class-conditional model as one class number or an int64 tensor of per-sample labels
        (``n`` of them when ``n`` is given), or one line naming ``label=``.

        A list or numpy array of labels, or a 0-d tensor, is taken like a tensor or an int: they failed with
        torch's or numpy's TypeError / IndexError. ``3.5``, ``True`` and ``tensor([1.5])`` are refused: ``int()``
        and ``.long()`` silently turned them into classes 3, 1 and 1. Whole floats (``3.0``) are classes."""
        if label is None:
            return None
        last = self.num_classes - 1 if self.num_classes is not None else 0
        fix = f"give a class number 0..{last}, or one per sample (a list, array or tensor)"
        if isinstance(label, str):  # "3" from a command line; names are resolved by Run.sample / --label
            index = whole_number(int(label)) if label.strip().lstrip("-").isdigit() else None
        elif isinstance(label, (list, tuple)) or getattr(label, "shape", None) is not None:
            try:
                values = label if isinstance(label, Tensor) else torch.as_tensor(label)
            except (TypeError, ValueError, RuntimeError):
                raise GanforgeError(f"label={quote(label)}: not class numbers; {fix}") from None
            if values.dim() == 2 and values.shape[1] == 1:  # (N, 1), as datasets often store labels
                values = values.reshape(-1)
            if values.dim() == 1:
                return self._per_sample_labels(values, label, n, fix)
            if values.dim() != 0:
                raise GanforgeError(f"label= has shape {tuple(values.shape)}; {fix}")
            index = whole_number(values)
        else:
            index = whole_number(label)
        if index is None:
            raise GanforgeError(f"label={quote(label)}: not a whole class number; {fix}")
        if not 0 <= index <= last:
            raise GanforgeError(f"label {index} is out of range; this model has classes 0..{last} (label=)")
        return index

    def _per_sample_labels(self, values: Tensor, given: Any, n: int | None, fix: str) -> Tensor:
        """:meth:`class_labels` of a 1-d tensor: integer (or whole float) values within the model's classes."""
        last = self.num_classes - 1 if self.num_classes is not None else 0
        if values.dtype == torch.bool or values.is_complex():
            raise GanforgeError(f"label= holds {values.dtype} values, not class numbers; {fix}")
        if values.is_floating_point():
            if not bool((values == values.round()).all()):  # NaN and inf fail this too
                bad = values[values != values.round()][0].item()
                raise GanforgeError(f"label= holds {bad:g}, not a whole class number; {fix}")
            values = values.long()
        if n is not None and len(values) != n:
            raise GanforgeError(f"label= gives {len(values)} labels for {n} samples; {fix}")
        if len(values) and (int(values.min()) < 0 or int(values.max()) > last):
            bad = int(values.min()) if int(values.min()) < 0 else int(values.max())
            raise GanforgeError(f"label {bad} is out of range; this model has classes 0..{last} (label=)")
        return values.long()

    def labels_for(
        self, n: int, label: int | Tensor | None, start: int, device: torch.device
    ) -> Tensor | None:
        """Per-sample labels for a conditional model: a fixed class, given labels, or uniform classes (labels
        checked by :meth:`class_labels`; :meth:`sample` checks them once, so its batches only slice them)."""
        if self.num_classes is None:
            if label is not None:
                raise GanforgeError(  # reached from run.sample(label=...) as well as `ganforge sample --label`
                    "this model is not conditional; it takes no label (remove label= / --label)"
                )
            return None
        if label is None:
            return torch.randint(0, self.num_classes, (n,), device=device)
        if not (isinstance(label, Tensor) and label.dtype == torch.long and label.dim() == 1):
            label = self.class_labels(label)
        if isinstance(label, Tensor):
            return label[start : start + n].to(device)
        return torch.full((n,), int(label), device=device, dtype=torch.long)
