"""SRGAN (Ledig et al. 2017): super-resolution with a residual generator, adversarial and content losses.

A batch holds high-res images ``x`` (``batch.x``) and their low-res versions ``l`` (``batch.y``, s times
smaller). The super-resolved image is a learned correction of classic interpolation (global residual
learning, Kim et al. 2016; not in the SRGAN paper):

    SR = B(l) + g(l) * G(l)          B: bicubic s-fold upsampling,  G(l) in [-1, 1] (tanh output)
    g(l) = u( max_3x3(l) - min_3x3(l) )   per channel, u: bilinear s-fold upsampling (``contrast_gate``)

G's last convolution starts at zero, so an untrained model *is* bicubic upsampling and training starts
from bicubic quality instead of from noise. The gate ``g`` (local contrast of the low-res input) bounds the
added detail by the local range of the input: on a flat low-res region the MSE-optimal detail is zero
(any texture the reduction averaged away has an unknown phase), and there SR equals bicubic exactly
instead of carrying the small bias every convnet has. Without the gate (``contrast_gate: false``) g = 1;
without the skip (``bicubic_skip: false``) SR = G(l), the paper's generator. Each training step:

    D phase:  minimize J_D(D(x), D(SR))                                              over D
    G phase:  minimize content(SR, x) + adversarial_weight * J_G(D(SR))              over G

    content(SR, x) = pixel_weight * pixel(SR, x) + feature_weight * MSE(phi(SR), phi(x))

``pixel`` is MSE (SRResNet) or L1; ``phi`` is a frozen feature network: VGG19 (``features: vgg19`` with
``vgg_weights`` a local torchvision state dict; the paper's SRGAN-VGG54 content loss is that alone, its
feature MSE divided by 12.75^2: ``pixel: none``, ``feature_weight: 0.00615``, since the defaults, 1 x L1 +
0.1 x feature MSE, were tuned for the photo features and keep a pixel term), the small photo network
ganforge ships (``features: photo``, works offline, see :mod:`ganforge.nets.photo_features`), or
none (pixel loss only). The paper weighs the adversarial term 1e-3 and initializes SRGAN from an
MSE-trained SRResNet: here the first ``pretrain_steps`` steps run the generator phase alone (SRResNet
training, the discriminator idle) on the pixel loss alone (``pretrain_pixel_only``, the paper's
SRResNet-MSE; else on the whole content loss), then both phases run on content + adversarial loss.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.data.base import Batch, DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Phase
from ganforge.gans.registry import register_model
from ganforge.log_keys import LOSS_G
from ganforge.nets.superres import ContentLoss, SRDiscriminator, SRResNetGenerator, VGG19Features, tiled_apply
from ganforge.objectives import get_objective
from ganforge.registry import with_settings_of


def local_contrast(low: Tensor, size: tuple[int, int] | torch.Size) -> Tensor:
    """``g(l) = u(max_3x3(l) - min_3x3(l))``: per-channel range of each low-res pixel's 3x3 neighbourhood
    (windows clipped at the border), bilinearly upsampled to ``size``. Exactly zero wherever the low-res
    image is constant; reaches 2 low-res pixels (1 for the window, 1 for the interpolation)."""
    spread = F.max_pool2d(low, 3, stride=1, padding=1) + F.max_pool2d(-low, 3, stride=1, padding=1)
    return F.interpolate(spread, size=(int(size[0]), int(size[1])), mode="bilinear", align_corners=False)


class SRGAN(GANModel):
    """Generator ``G: low-res -> high-res`` and discriminator on high-res images, content + adversarial."""

    samples_from_noise = False  # it maps images to images; sample monitors must skip it

    def __init__(
        self,
        generator: SRResNetGenerator,
        discriminator: nn.Module,
        content: ContentLoss,
        objective: str = "nonsaturating",
        *,
        adversarial_weight: float = 1e-3,
        pretrain_steps: int = 0,
        bicubic_skip: bool = True,
        contrast_gate: bool = True,
        pretrain_pixel_only: bool = True,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        # Not a registered submodule: the frozen feature network (VGG19 is 80 MB) is rebuilt from its own
        # weights file and must not be copied into every checkpoint.
        object.__setattr__(self, "content", content)
        self.objective = get_objective(objective)
        self.adversarial_weight = float(adversarial_weight)
        self.pretrain_steps = int(pretrain_steps)
        self.scale = generator.scale
        self.bicubic_skip = bool(bicubic_skip)
        self.contrast_gate = bool(contrast_gate) and self.bicubic_skip
        self.pretrain_pixel_only = bool(pretrain_pixel_only)
        if self.bicubic_skip:  # start exactly at bicubic upsampling: the residual branch outputs tanh(0) = 0
            nn.init.zeros_(generator.tail.weight)
            nn.init.zeros_(generator.tail.bias)
        self.output_activation = generator.output_activation

    def super_resolve(self, low: Tensor, net: nn.Module | None = None) -> Tensor:
        """``SR = G(l)``; with ``bicubic_skip`` ``SR = B(l) + g(l) * G(l)`` (g = 1 without the contrast
        gate): the generator only predicts the detail bicubic interpolation misses."""
        net = self.generator if net is None else net
        out = net(low)
        if not self.bicubic_skip:
            return out
        if self.contrast_gate:
            out = out * local_contrast(low, out.shape[-2:])
        return out + F.interpolate(low, scale_factor=self.scale, mode="bicubic", align_corners=False)

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.discriminator(x).reshape(x.shape[0], -1)

    # --- phases -------------------------------------------------------------------------------------
    def all_phases(self) -> list[Phase]:
        return [Phase("discriminator", ("discriminator",)), Phase("generator", ("generator",), needs_data=False)]

    def phases(self, step: int) -> list[Phase]:
        self._step = step
        if step < self.pretrain_steps:  # SRResNet pre-training: the generator alone, on its own batches
            return [Phase("generator", ("generator",))]
        return self.all_phases()

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        if batch is not None and batch.y is None:
            raise GanforgeError("SRGAN needs (low-res, high-res) pairs: data.source sr-patches or sr-folder")
        if phase.name == "discriminator":
            if batch is None:
                raise GanforgeError("SRGAN needs (low-res, high-res) pairs: data.source sr-patches or sr-folder")
            high, low = batch.x, batch.y
            return self.discriminator_step(high, lambda: self.super_resolve(low), extra=high)
        if batch is not None:  # pre-training step: no discriminator phase before this one
            sr, high = self.super_resolve(batch.y), batch.x
        else:
            cached = self.take_fake()
            sr, high = cached.fake, cached.extra
        if batch is not None and self.pretrain_pixel_only and self.content.pixel is not None:
            terms = {"pixel": self.content.pixel_term(sr, high)}  # SRResNet: the pixel loss alone
        else:
            self.content.to(sr.device)
            terms = self.content.terms(sr, high)
        loss = self.content.total(terms)  # from the terms already computed: one feature-network pass
        logs = {f"content_{k}": v.detach() for k, v in terms.items()}
        if batch is None and self.adversarial_weight > 0:
            adversarial = self.generator_adversarial_loss(sr)
            loss = loss + self.adversarial_weight * adversarial
            logs["adversarial"] = adversarial.detach()
        logs[LOSS_G] = loss.detach()
        return loss, logs

    # --- use --------------------------------------------------------------------------------------------
    @torch.no_grad()
    def upscale(self, low: Tensor, tile: int | None = 64, batch_size: int = 16) -> Tensor:
        """Super-resolve low-res images (N, C, h, w) in model units -> (N, C, s h, s w), eval mode.

        With ``tile``, the image is processed in ``tile`` x ``tile`` pieces with an overlap of the
        generator's receptive radius, which gives the untiled result exactly (bounded memory at any size).
        """
        was_training = self.training
        self.eval()
        try:
            net = self.sampling_generator()
            device = next(self.parameters()).device

            def fn(x: Tensor) -> Tensor:
                return self.super_resolve(x, net)

            # + the reach of the bicubic kernel and of the contrast gate: 2 low-res pixels each
            radius = net.receptive_radius() + (2 if self.bicubic_skip else 0)
            parts = []
            for i in range(0, len(low), batch_size):
                x = low[i : i + batch_size].to(device)
                parts.append(fn(x) if tile is None else tiled_apply(fn, x, tile, radius, net.scale))
            return torch.cat(parts).clamp(-1.0, 1.0)
        finally:
            self.train(was_training)

    def sample_latents(self, n: int) -> Tensor:
        raise GanforgeError("an SRGAN upscales images and draws no noise; use `ganforge upscale RUN in.png -o out.png`")

    def sample(self, n: int, label: Any = None, batch_size: int = 4096, **options: Any) -> Tensor:
        raise GanforgeError("an SRGAN does not sample from noise; use `ganforge upscale RUN in.png -o out.png`")


def content_features(
    features: Literal["photo", "vgg19", "none"], vgg_weights: str | None, feature_layer: str | None
) -> nn.Module | None:
    """The frozen feature network phi of the content loss (inputs in generator units [-1, 1])."""
    if features == "none":
        return None
    if features == "vgg19":
        if not vgg_weights:
            raise GanforgeError(
                "model.features=vgg19 needs model.vgg_weights: the path of a torchvision vgg19 state dict "
                "(.pth/.safetensors); or use features: photo, which works offline"
            )
        return VGG19Features(vgg_weights, feature_layer or "relu5_4")
    from ganforge.nets.photo_features import PhotoFeatures

    return PhotoFeatures(layer=feature_layer or "relu2_2")


@register_model("srgan")
@with_settings_of(SRGAN, skip=("generator", "discriminator", "content"))
def build_srgan(
    source: DataSource,
    num_blocks: int = 16,
    width: int = 64,
    d_width: int = 64,
    pixel: Literal["mse", "l1", "none"] = "mse",
    pixel_weight: float = 1.0,
    features: Literal["photo", "vgg19", "none"] = "photo",
    feature_weight: float = 0.1,
    feature_layer: str | None = None,
    vgg_weights: str | None = None,
    generator_norm: Literal["batch", "none"] = "batch",
    **settings: Any,
) -> SRGAN:
    """SRGAN: SRResNet generator (x2/x4 from the data's scale), SRGAN discriminator, content loss
    (pixel + features of the shipped photo net, or VGG19 from ``vgg_weights``) + 1e-3 adversarial.
    ``bicubic_skip`` (default) adds bicubic upsampling to the generator's output, which starts at zero
    (it learns the residual; not in the paper, but training starts from bicubic quality);
    ``contrast_gate`` scales that residual by the input's local range (exact bicubic on flat regions);
    ``pretrain_pixel_only``: the SRResNet stage (``pretrain_steps``) uses the pixel loss alone;
    ``generator_norm: none`` drops the generator's BatchNorm layers (EDSR)."""
    if source.kind != "superres":
        raise GanforgeError(
            f"model.type=srgan needs (low-res, high-res) pairs (data.source: sr-patches or sr-folder); "
            f"data '{source.name}' is {source.kind}"
        )
    scale = int(source.info.get("scale", 4))
    channels = int(source.sample_shape[0])
    if features == "vgg19" and channels != 3 and channels != 1:
        raise GanforgeError("model.features=vgg19 needs 1- or 3-channel images")
    phi = content_features(features, vgg_weights, feature_layer)
    content = ContentLoss(None if pixel == "none" else pixel, phi, pixel_weight, feature_weight)
    generator = SRResNetGenerator(channels, scale, num_blocks, width, norm=generator_norm)  # type: ignore[arg-type]
    return SRGAN(generator, SRDiscriminator(channels, d_width), content, **settings)
