"""CycleGAN (Zhu, Park, Isola & Efros 2017): unpaired translation between image domains A and B.

Two generators ``G: A -> B`` (``generator.a2b``) and ``F: B -> A`` (``generator.b2a``), two
discriminators ``D_B`` (``discriminator.b``) and ``D_A`` (``discriminator.a``). A batch holds real ``a``
(``batch.x``) and, drawn independently, real ``b`` (``batch.y``). Each training step:

    G phase:  minimize  J_G(D_B(G(a))) + J_G(D_A(F(b)))                               (adversarial)
                      + lambda_cyc (||F(G(a)) - a||_1 + ||G(F(b)) - b||_1)              (cycle consistency)
                      + lambda_id lambda_cyc (||G(b) - b||_1 + ||F(a) - a||_1)          (identity)
              over both generators;
    D phase:  minimize  J_D(D_A(a), D_A(pool_A(F(b)))) + J_D(D_B(b), D_B(pool_B(G(a))))
              over both discriminators, on the same real batch,

with ``||.||_1`` the mean absolute error, the least-squares objective by default as the paper and its code
write it (J_D = 1/2 E(D(x) - 1)^2 + 1/2 E D(G(z))^2, and J_G = E(D(G(z)) - 1)^2, the plain MSE: twice the
objective's own 1/2-weighted J_G, so the adversarial term keeps the paper's weight beside lambda_cyc = 10)
and history pools of 50 generated images per domain
(Shrivastava et al. 2017). The pools are part of the model's ``state_dict`` (stored images and their RNG
state), so a resumed run draws exactly what the uninterrupted one would.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from ganforge.data.base import Batch, DataSource
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel, Phase, frozen
from ganforge.gans.registry import register_model
from ganforge.log_keys import D_FAKE, D_REAL, LOSS_D, LOSS_G
from ganforge.nets.translation import (
    ImagePool,
    PatchDiscriminator,
    ResnetTranslator,
    cycle_consistency_loss,
    identity_loss,
)
from ganforge.nets.unet import init_weights
from ganforge.objectives import discriminator_score, get_objective
from ganforge.registry import with_settings_of

Direction = Literal["a2b", "b2a"]
_POOL_KEYS = ("images", "count", "rng_state", "size")


class PoolState(nn.Module):
    """An :class:`ImagePool` whose contents live in the module's ``state_dict``, at a fixed shape so the
    weights of every checkpoint fit the model: ``images`` (size, *image_shape), zero-padded beyond
    ``count`` stored images, plus the pool's ``rng_state`` and ``size``. Checkpoints (safetensors, tensors
    only) thereby keep the pool exactly."""

    def __init__(self, size: int, seed: int, image_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.pool = ImagePool(size, seed)
        self.image_shape = tuple(int(d) for d in image_shape)

    def query(self, images: Tensor) -> Tensor:
        return self.pool.query(images)

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str, keep_vars: bool) -> None:
        state = self.pool.state_dict()
        stored = state["images"]
        padded = torch.zeros(self.pool.size, *self.image_shape)
        if stored.numel():
            padded[: len(stored)] = stored.reshape(len(stored), *self.image_shape)
        destination[prefix + "images"] = padded
        destination[prefix + "count"] = torch.tensor(len(self.pool))
        destination[prefix + "rng_state"] = state["rng_state"]
        destination[prefix + "size"] = torch.tensor(state["size"])

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        present = [k for k in _POOL_KEYS if prefix + k in state_dict]
        if len(present) < len(_POOL_KEYS):
            missing_keys.extend(prefix + k for k in _POOL_KEYS if k not in present)
            return
        count = int(state_dict[prefix + "count"])
        state = {
            "size": state_dict[prefix + "size"],
            "images": state_dict[prefix + "images"][:count],
            "rng_state": state_dict[prefix + "rng_state"],
        }
        try:
            self.pool.load_state_dict(state)
        except GanforgeError as exc:
            error_msgs.append(str(exc))


class CycleGAN(GANModel):
    """Two translators and two discriminators with cycle-consistency and identity losses."""

    samples_from_noise = False  # it maps images to images; sample monitors must skip it

    def __init__(
        self,
        g_ab: nn.Module,
        g_ba: nn.Module,
        d_a: nn.Module,
        d_b: nn.Module,
        objective: str = "least_squares",
        *,
        cycle_weight: float = 10.0,
        identity_weight: float = 0.5,
        pool_size: int = 50,
        pool_seed: int = 0,
        same_channels: bool = True,
        shape_a: tuple[int, ...] = (3, 64, 64),
        shape_b: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        if identity_weight > 0 and not same_channels:
            raise GanforgeError(
                "model.identity_weight: the identity loss needs domains with the same number of channels; set it to 0"
            )
        self.generator = nn.ModuleDict({"a2b": g_ab, "b2a": g_ba})
        self.discriminator = nn.ModuleDict({"a": d_a, "b": d_b})
        self.pool_a = PoolState(pool_size, pool_seed, shape_a)  # fakes of domain A: F(b)
        self.pool_b = PoolState(pool_size, pool_seed + 1, shape_b or shape_a)
        self.objective = get_objective(objective)
        self.cycle_weight, self.identity_weight = float(cycle_weight), float(identity_weight)
        # the paper's generator MSE E(D(G(a)) - 1)^2 is 2x the least-squares objective's J_G (LSGAN's 1/2)
        self.adversarial_weight = 2.0 if self.objective.name == "least_squares" else 1.0
        self.output_activation = "tanh"
        self._cached: tuple[Tensor, Tensor, Tensor, Tensor] | None = None

    # --- losses -------------------------------------------------------------------------------------
    def _judge(self, domain: str, x: Tensor) -> Tensor:
        out = self.discriminator[domain](x)
        return out.reshape(out.shape[0], -1)

    def generator_terms(self, real_a: Tensor, real_b: Tensor) -> dict[str, Tensor]:
        """Every unweighted term of the generators' loss, plus ``fake_a``/``fake_b`` and ``total``."""
        g, f = self.generator["a2b"], self.generator["b2a"]
        fake_b, fake_a = g(real_a), f(real_b)
        with frozen(self.discriminator):
            adv_b = self.adversarial_weight * self.objective.generator(self._judge("b", fake_b))
            adv_a = self.adversarial_weight * self.objective.generator(self._judge("a", fake_a))
        cycle_a = cycle_consistency_loss(real_a, f(fake_b))
        cycle_b = cycle_consistency_loss(real_b, g(fake_a))
        terms = {"adv_a": adv_a, "adv_b": adv_b, "cycle_a": cycle_a, "cycle_b": cycle_b}
        total = adv_a + adv_b + self.cycle_weight * (cycle_a + cycle_b)
        if self.identity_weight > 0:
            terms["identity_a"] = identity_loss(real_a, f(real_a))
            terms["identity_b"] = identity_loss(real_b, g(real_b))
            total = total + self.identity_weight * self.cycle_weight * (terms["identity_a"] + terms["identity_b"])
        terms.update(total=total, fake_a=fake_a, fake_b=fake_b)
        return terms

    def discriminator_terms(self, real_a: Tensor, real_b: Tensor, fake_a: Tensor, fake_b: Tensor) -> dict[str, Tensor]:
        """``J_D`` per domain on real images and (pooled, detached) fakes, their sum, and D scores."""
        real_a_logits, fake_a_logits = self._judge("a", real_a), self._judge("a", fake_a.detach())
        real_b_logits, fake_b_logits = self._judge("b", real_b), self._judge("b", fake_b.detach())
        loss_a = self.objective.discriminator(real_a_logits, fake_a_logits)
        loss_b = self.objective.discriminator(real_b_logits, fake_b_logits)
        score = discriminator_score
        return {
            "loss_d_a": loss_a,
            "loss_d_b": loss_b,
            "total": loss_a + loss_b,
            D_REAL: 0.5
            * (
                score(real_a_logits.detach(), self.objective).mean()
                + score(real_b_logits.detach(), self.objective).mean()
            ),
            D_FAKE: 0.5
            * (
                score(fake_a_logits.detach(), self.objective).mean()
                + score(fake_b_logits.detach(), self.objective).mean()
            ),
        }

    # --- phases -------------------------------------------------------------------------------------
    def phases(self, step: int) -> list[Phase]:
        return [Phase("generator", ("generator",)), Phase("discriminator", ("discriminator",), needs_data=False)]

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "generator":
            if batch is None or batch.y is None:
                raise GanforgeError("CycleGAN needs unpaired data (data.source: unpaired-digits or unpaired-folders)")
            terms = self.generator_terms(batch.x, batch.y)
            self._cached = (batch.x, batch.y, terms["fake_a"].detach(), terms["fake_b"].detach())
            logs = {k: v.detach() for k, v in terms.items() if k not in ("fake_a", "fake_b", "total")}
            logs[LOSS_G] = terms["total"].detach()
            return terms["total"], logs
        if self._cached is None:
            raise RuntimeError("the CycleGAN discriminator phase reuses the batch of the generator phase")
        real_a, real_b, fake_a, fake_b = self._cached
        self._cached = None
        terms = self.discriminator_terms(real_a, real_b, self.pool_a.query(fake_a), self.pool_b.query(fake_b))
        logs = {k: v.detach() for k, v in terms.items() if k != "total"}
        logs[LOSS_D] = terms["total"].detach()
        return terms["total"], logs

    # --- translation -----------------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, images: Tensor, direction: Direction = "a2b", batch_size: int = 256) -> Tensor:
        """Images of one domain (model units, (N, C, H, W)) translated to the other, in eval mode
        (EMA generators when enabled)."""
        if direction not in ("a2b", "b2a"):
            raise GanforgeError(f"--direction {direction}: choose a2b or b2a")
        was_training = self.training
        self.eval()
        try:
            net = self.sampling_generator()[direction]
            device = next(self.parameters()).device
            parts = [net(images[i : i + batch_size].to(device)) for i in range(0, len(images), batch_size)]
            return torch.cat(parts) if parts else images.clone()
        finally:
            self.train(was_training)

    def sample_latents(self, n: int) -> Tensor:
        raise GanforgeError("a CycleGAN translates images and draws no noise; use `ganforge translate`")

    def sample(self, n: int, label: Any = None, batch_size: int = 4096, **options: Any) -> Tensor:
        raise GanforgeError(
            "a CycleGAN does not sample from noise; translate images with `ganforge translate RUN IN_DIR -o OUT_DIR`"
        )


@register_model("cyclegan")
@with_settings_of(CycleGAN, skip=("g_ab", "g_ba", "d_a", "d_b", "same_channels", "shape_a", "shape_b"))
def build_cyclegan(
    source: DataSource,
    width: int = 64,
    num_blocks: int = 9,
    n_down: Annotated[int, Field(ge=0)] = 2,  # 0: no downsampling (digits-cyclegan's local translator)
    d_width: int = 64,
    d_layers: int = 3,
    init: Literal["pytorch", "paper"] = "pytorch",
    **settings: Any,
) -> CycleGAN:
    """CycleGAN: ResNet translators A->B and B->A, PatchGAN discriminators, cycle + identity losses,
    history pools. Paper settings: 9 blocks (6 below 256 px), lambda_cyc 10, identity 0.5, pool 50.
    ``init``: ``"pytorch"`` (default) keeps PyTorch's initialization; ``"paper"`` draws conv weights from
    N(0, 0.02) with zero biases, as the paper and its code's ``init_weights`` do. The paper's scale broke the
    digits-cyclegan recipe's small local translator (labels kept 0.08 / 0.10 instead of 0.987 / 0.984, one
    150 CPU-s run: docs/benchmarks/family.md), so it is a setting, not the default."""
    if source.kind != "unpaired-images":
        raise GanforgeError(
            f"model.type=cyclegan needs two image domains (data.source: unpaired-digits or unpaired-folders); "
            f"data '{source.name}' is {source.kind}"
        )
    shape_a = tuple(int(d) for d in source.sample_shape)
    shape_b = tuple(int(d) for d in source.info.get("shape_b", shape_a))
    c_a, c_b = shape_a[0], shape_b[0]
    side = min(source.sample_shape[-2:])
    probe = PatchDiscriminator(1, 1, d_layers)
    if probe.output_size(int(side)) < 1:
        raise GanforgeError(
            f"model.d_layers={d_layers}: {side}-pixel images are too small for the PatchGAN; use d_layers=2 "
            "(or 1) for images below 32 pixels"
        )
    networks = (
        ResnetTranslator(c_a, c_b, width, num_blocks, n_down),
        ResnetTranslator(c_b, c_a, width, num_blocks, n_down),
        PatchDiscriminator(c_a, d_width, d_layers),
        PatchDiscriminator(c_b, d_width, d_layers),
    )
    for net in networks if init == "paper" else ():
        init_weights(net)
    return CycleGAN(
        *networks,
        same_channels=c_a == c_b,
        shape_a=shape_a,
        shape_b=shape_b,
        **settings,
    )
