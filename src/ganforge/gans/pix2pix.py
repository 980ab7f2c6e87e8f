"""Pix2Pix (Isola, Zhu, Zhou & Efros 2017): paired image-to-image translation with a conditional GAN.

A batch holds inputs ``x`` (``batch.x``) and their aligned targets ``y`` (``batch.y``). The generator is a
U-Net ``G(x)`` whose only noise is dropout; the discriminator is a PatchGAN that judges (input, output)
pairs. With the non-saturating objective (the paper's choice) each training step is

    D phase:  minimize  1/2 [ -E log D(x, y) - E log(1 - D(x, G(x))) ]         over D (halved, as the paper)
    G phase:  minimize  gan_weight * ( -E log D(x, G(x)) )  +  l1_weight * E |y - G(x)|    over G

where the expectations run over every patch logit of every image and ``E |.|`` is the mean absolute error
(lambda = ``l1_weight`` = 100). The paper's ablations are settings of the same model:

    L1 only          gan_weight: 0    (the discriminator phase is skipped)
    cGAN only        l1_weight: 0
    L1 + GAN         conditional: false  (D(y) sees the output alone)
    L1 + cGAN        the defaults

D runs first on a batch; the G phase reuses that batch's ``G(x)`` (one generator forward per step) and
judges it with the just-updated D, as the reference implementation does. At test time the paper keeps
dropout on ("noise in the form of dropout, applied at both training and test time"); ``test_dropout``
does so, each picture's masks seeded by its own pixels so a translation is repeatable and does not depend on
the pictures translated with it (copies of one picture in a call get a draw each, as the paper's noise gives).
Batch norm at test time is ``test_norm``: ``running`` (the usual eval mode: the running statistics of the
last training batches), ``batch`` (the paper's "batch normalization using the statistics of the test batch":
each chunk of ``translate`` is normalized by its own mean and variance; the running statistics are neither
used nor changed) or
``standing`` (eval mode on statistics recomputed once training ends, :func:`standing_statistics`).

Why ``standing``: with momentum 0.1 the running statistics are an average over the last ~10 training batches
(160 images at batch 16) of weights that kept moving, and an EMA generator copies the raw generator's
statistics, i.e. those of other weights. BigGAN's "standing statistics" (Brock et al. 2019) and SWA's
``update_bn`` (Izmailov et al. 2018) recompute them for the final (averaged) weights instead:

    mu = mean over training inputs of the layer's batch means,  var = mean of its (unbiased) batch variances

with dropout as at test time, so the network is normalized as it will be used.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.data.base import Batch, DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Phase, frozen
from ganforge.gans.registry import register_model
from ganforge.nets.unet import (
    LumaKeepingGenerator,
    PairPatchDiscriminator,
    UNetGenerator,
    check_square_size,
    init_weights,
    patch_layers_for,
)
from ganforge.objectives import discriminator_score, get_objective


def pix2pix_generator_loss(
    fake_logits: Tensor | None, fake: Tensor, target: Tensor, objective: Any, gan_weight: float, l1_weight: float
) -> dict[str, Tensor]:
    """``gan_weight * J_G(D(x, G(x))) + l1_weight * mean|y - G(x)|`` and its two unweighted terms."""
    l1 = (target - fake).abs().mean()
    adv = objective.generator(fake_logits) if fake_logits is not None and gan_weight > 0 else torch.zeros(())
    return {"adv": adv, "l1": l1, "total": gan_weight * adv + l1_weight * l1}


TEST_NORMS = ("running", "batch", "standing")
STANDING_SAMPLES = 2048  # training inputs averaged over for ``standing`` (all of them in the built-in sets)
STANDING_SEED = 271_828  # which inputs, when a set holds more than STANDING_SAMPLES


def _tracked_norms(net: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """The batch norms of ``net`` that keep running statistics (the ones test-time normalization concerns)."""
    return [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]


def _dropout_on(net: nn.Module) -> None:
    """Put ``net``'s dropout layers in training mode: the paper's noise at test time."""
    for m in net.modules():
        if isinstance(m, nn.Dropout):
            m.train()


def picture_seeds(images: Tensor, seed: int) -> list[int]:
    """One seed per picture from its own pixels (BLAKE2b of its float32 values), ``seed``, and how many copies of
    the same picture came before it in ``images``: a picture gets the same seed wherever it sits in a batch, a
    folder or a chunk, and copies of one picture (the blank inputs of edges2photos' edgeless tiles) still get the
    paper's noise, a draw each, as they would translated one at a time."""
    data = images.detach().to("cpu", torch.float32).contiguous().numpy()
    key = int(seed).to_bytes(8, "little", signed=True)
    seen: dict[bytes, int] = {}
    seeds = []
    for row in data:
        pixels = row.tobytes()
        copy = seen.get(pixels, 0)
        seen[pixels] = copy + 1
        digest = hashlib.blake2b(pixels + (copy.to_bytes(8, "little") if copy else b""), digest_size=8, key=key)
        seeds.append(int.from_bytes(digest.digest(), "little") >> 1)
    return seeds


@contextlib.contextmanager
def per_picture_dropout(net: nn.Module, seeds: list[int]) -> Iterator[None]:
    """Inside the block ``net``'s dropout layers drop units as in training (the paper's test-time noise), but
    picture n's mask in layer l comes from a generator seeded with ``(seeds[n], l)``, so a picture's translation
    does not depend on which pictures are translated with it. ``net`` must be called on the pictures ``seeds``
    was made from, in that order, in chunks (the hooks keep a running offset)."""
    layers = [m for m in net.modules() if isinstance(m, nn.Dropout) and m.p > 0]
    offsets = [0] * len(layers)
    saved = [m.training for m in layers]

    def hook_for(index: int, layer: nn.Dropout) -> Any:
        def apply(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> Tensor:
            x = inputs[0]
            start = offsets[index]
            offsets[index] += len(x)
            masks = []
            for n in range(len(x)):
                gen = torch.Generator().manual_seed((seeds[start + n] + 1_000_003 * (index + 1)) % 2**63)
                masks.append(torch.rand(x.shape[1:], generator=gen) >= layer.p)
            keep = torch.stack(masks).to(x.device)  # drawn on the CPU, one copy to the device per layer
            return x * keep / (1.0 - layer.p)

        return apply

    handles = []
    try:
        for i, layer in enumerate(layers):
            layer.eval()  # the hook draws the mask; the layer itself passes its input through
            handles.append(layer.register_forward_hook(hook_for(i, layer)))
        yield
    finally:
        for handle in handles:
            handle.remove()
        for layer, mode in zip(layers, saved, strict=True):
            layer.train(mode)


@contextlib.contextmanager
def test_batch_statistics(net: nn.Module) -> Iterator[None]:
    """Inside the block, every batch norm of ``net`` normalizes by the statistics of the batch it is given,
    even in eval mode, and leaves its running statistics untouched: PyTorch's batch norm falls back to batch
    statistics when it has no running buffers, so they are set aside and put back afterwards."""
    norms = _tracked_norms(net)
    saved = [(m.running_mean, m.running_var) for m in norms]
    try:
        for m in norms:
            m.running_mean, m.running_var = None, None
        yield
    finally:
        for m, (mean, var) in zip(norms, saved, strict=True):
            m.running_mean, m.running_var = mean, var


@torch.no_grad()
def standing_statistics(net: nn.Module, inputs: Tensor, batch_size: int = 256, dropout: bool = True) -> None:
    """Set every batch norm's running mean and variance of ``net`` to the average of its batch statistics
    over ``inputs`` (model units), in equal chunks of ``batch_size``, with dropout on when ``dropout``.
    PyTorch's cumulative average (``momentum=None``) does the averaging; momentum and modes are restored."""
    norms = _tracked_norms(net)
    if not norms or len(inputs) == 0:
        return
    was_training = net.training
    momenta = [m.momentum for m in norms]
    net.eval()
    if dropout:
        _dropout_on(net)
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
            m.train()
        chunks = max(1, round(len(inputs) / batch_size))
        for chunk in torch.tensor_split(inputs, chunks):
            net(chunk)
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        net.train(was_training)


class Pix2Pix(GANModel):
    """U-Net generator, PatchGAN on pairs, conditional adversarial loss + lambda * L1."""

    samples_from_noise = False  # it maps images to images; sample monitors must skip it

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        objective: str = "nonsaturating",
        *,
        l1_weight: float = 100.0,
        gan_weight: float = 1.0,
        test_dropout: bool = True,
        translate_seed: int = 0,
        test_norm: str = "running",
    ) -> None:
        super().__init__()
        if test_norm not in TEST_NORMS:
            raise GanforgeError(f"model.test_norm={test_norm}: use one of {', '.join(TEST_NORMS)}")
        if l1_weight < 0 or gan_weight < 0 or l1_weight + gan_weight <= 0:
            raise GanforgeError(
                f"model.l1_weight={l1_weight}, model.gan_weight={gan_weight}: both must be >= 0 and one positive"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.objective = get_objective(objective)
        self.l1_weight, self.gan_weight = float(l1_weight), float(gan_weight)
        self.test_dropout, self.translate_seed = bool(test_dropout), int(translate_seed)
        self.test_norm = test_norm
        self.output_activation = "tanh"
        self._cached: tuple[Tensor, Tensor, Tensor] | None = None

    @property
    def conditional(self) -> bool:
        return bool(getattr(self.discriminator, "conditional", True))

    def judge(self, condition: Tensor, image: Tensor) -> Tensor:
        """Patch logits of D flattened to (N, patches)."""
        out = self.discriminator(condition, image)
        return out.reshape(out.shape[0], -1)

    def discriminator_terms(self, x: Tensor, y: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """``1/2 J_D(D(x, y), D(x, G(x)))`` on a detached fake, and the mean D scores."""
        real_logits, fake_logits = self.judge(x, y), self.judge(x, fake.detach())
        loss = 0.5 * self.objective.discriminator(real_logits, fake_logits)
        return {
            "total": loss,
            "d_real": discriminator_score(real_logits.detach(), self.objective).mean(),
            "d_fake": discriminator_score(fake_logits.detach(), self.objective).mean(),
        }

    def generator_terms(self, x: Tensor, y: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """Adversarial and L1 terms of G's loss for ``fake = G(x)`` (D frozen)."""
        if self.gan_weight > 0:
            with frozen(self.discriminator):
                logits = self.judge(x, fake)
        else:
            logits = None
        return pix2pix_generator_loss(logits, fake, y, self.objective, self.gan_weight, self.l1_weight)

    # --- phases -------------------------------------------------------------------------------------
    def all_phases(self) -> list[Phase]:
        return [Phase("discriminator", ("discriminator",)), Phase("generator", ("generator",), needs_data=False)]

    def phases(self, step: int) -> list[Phase]:
        if self.gan_weight == 0:  # L1 only: no adversary to train
            return [Phase("generator", ("generator",))]
        return self.all_phases()

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        if batch is not None:
            if batch.y is None:
                raise GanforgeError(
                    "Pix2Pix needs aligned pairs (data.source: pairs, edges2digits, labels2scenes, ...)"
                )
            self._cached = (batch.x, batch.y, self.generator(batch.x))
        if self._cached is None:
            raise RuntimeError("the Pix2Pix generator phase reuses the batch of the discriminator phase")
        x, y, fake = self._cached
        if phase.name == "discriminator":
            terms = self.discriminator_terms(x, y, fake)
            logs = {"loss_d": terms["total"].detach(), "d_real": terms["d_real"], "d_fake": terms["d_fake"]}
            return terms["total"], logs
        self._cached = None
        terms = self.generator_terms(x, y, fake)
        logs = {"loss_g": terms["total"].detach(), "adv": terms["adv"].detach(), "l1": terms["l1"].detach()}
        return terms["total"], logs

    def finish_training(self, source: DataSource) -> bool:
        """With ``test_norm: standing``, recompute the batch-norm statistics of the generator and of its EMA
        copy over the training inputs (:func:`standing_statistics`); True when that changed the state."""
        if self.test_norm != "standing":
            return False
        device = next(self.parameters()).device
        inputs = source.scaler.to_model(source.real(STANDING_SAMPLES, seed=STANDING_SEED).x).to(device)
        for net in (self.generator, self.ema_generator):
            if net is not None:
                with self._translate_draws():  # the same dropout draws (from translate_seed) for each network
                    standing_statistics(net, inputs, dropout=self.test_dropout)
        return True

    @contextlib.contextmanager
    def _translate_draws(self) -> Iterator[None]:
        """Random draws (dropout) from ``translate_seed`` inside the block; the global generator is left as it was."""
        device = next(self.parameters()).device
        with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
            torch.manual_seed(self.translate_seed)
            yield

    # --- translation -----------------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, images: Tensor, direction: str = "a2b", batch_size: int = 256) -> Tensor:
        """Inputs (model units, (N, C_a, H, W)) -> outputs (model units): eval mode, dropout on when
        ``test_dropout`` (the paper), each picture's masks drawn from a seed made of its own pixels and
        ``translate_seed`` (:func:`picture_seeds`, :func:`per_picture_dropout`), so a picture translates the same
        alone, in a folder or anywhere in a batch (a second copy of it in the same call gets a draw of its own);
        with ``test_norm: batch`` each chunk of ``batch_size`` images is normalized by its own statistics (and so
        depends on the chunk, as the paper's test-batch statistics do)."""
        if direction != "a2b":
            raise GanforgeError(f"--direction {direction}: a Pix2Pix run translates A to B only (a2b)")
        was_training = self.training
        self.eval()
        net = self.sampling_generator()
        device = next(self.parameters()).device
        try:
            norm = test_batch_statistics(net) if self.test_norm == "batch" else contextlib.nullcontext()
            noise = (per_picture_dropout(net, picture_seeds(images, self.translate_seed)) if self.test_dropout
                     else contextlib.nullcontext())
            with noise, norm:
                parts = [net(images[i : i + batch_size].to(device)) for i in range(0, len(images), batch_size)]
            return torch.cat(parts) if parts else images.clone()
        finally:
            self.train(was_training)

    def sample_latents(self, n: int) -> Tensor:
        raise GanforgeError("a Pix2Pix model translates images and draws no noise; use `ganforge translate`")

    def sample(self, n: int, label: Any = None, batch_size: int = 4096, **options: Any) -> Tensor:
        raise GanforgeError(
            "a Pix2Pix model does not sample from noise; translate pictures with `ganforge translate RUN IN -o OUT`"
        )


@register_model("pix2pix")
def build_pix2pix(
    source: DataSource,
    width: int = 64,
    d_width: int = 64,
    d_layers: int | None = None,
    norm: str = "batch",
    dropout: float = 0.5,
    dropout_layers: int = 3,
    objective: str = "nonsaturating",
    l1_weight: float = 100.0,
    gan_weight: float = 1.0,
    conditional: bool = True,
    test_dropout: bool = True,
    translate_seed: int = 0,
    test_norm: str = "running",
    keep_luma: bool = False,
) -> Pix2Pix:
    """Pix2Pix as the paper builds it: U-Net (widths 64..512, dropout 0.5 on 3 decoder layers), PatchGAN on
    pairs with the patch scaled to the image (``d_layers`` None: 70/256 of the side), batch norm, N(0, 0.02)
    init, lambda = 100. Ablations: ``gan_weight: 0`` (L1), ``l1_weight: 0`` (cGAN), ``conditional: false``.
    ``test_norm``: batch norm at test time on the running statistics, the test batch's (the paper) or
    statistics recomputed over the training inputs when training ends (``standing``).
    ``keep_luma`` (gray -> colour): G predicts chroma only and its output keeps the input as its luma, as the
    reference code's colorization mode (L -> ab) does (:class:`~ganforge.nets.unet.LumaKeepingGenerator`)."""
    if source.kind != "paired-images":
        raise GanforgeError(
            f"model.type=pix2pix needs aligned pairs (data.source: pairs, edges2digits, edges2photos, gray2color or "
            f"labels2scenes); data '{source.name}' is {source.kind}"
        )
    c_a, size = int(source.sample_shape[0]), int(source.sample_shape[-1])
    c_b = int(source.info.get("shape_b", source.sample_shape)[0])
    check_square_size(size, f"data.size={size}")
    layers = patch_layers_for(size) if d_layers is None else int(d_layers)
    if keep_luma and (c_a, c_b) != (1, 3):
        raise GanforgeError(
            f"model.keep_luma needs gray inputs and colour targets (1 -> 3 channels); data '{source.name}' "
            f"maps {c_a} -> {c_b} channels; set model.keep_luma: false"
        )
    generator: nn.Module = UNetGenerator(c_a, 2 if keep_luma else c_b, size, width, dropout, dropout_layers, norm)  # type: ignore[arg-type]
    discriminator = PairPatchDiscriminator(c_a, c_b, d_width, layers, norm, conditional)  # type: ignore[arg-type]
    if discriminator.output_size(size) < 1:
        raise GanforgeError(f"model.d_layers={layers}: {size}-pixel images are too small; use fewer layers")
    init_weights(generator)
    init_weights(discriminator)
    if keep_luma:
        generator = LumaKeepingGenerator(generator)  # type: ignore[arg-type]
    return Pix2Pix(
        generator,
        discriminator,
        objective,
        l1_weight=l1_weight,
        gan_weight=gan_weight,
        test_dropout=test_dropout,
        translate_seed=translate_seed,
        test_norm=test_norm,
    )
