"""CycleGAN building blocks (Zhu et al. 2017): ResNet translator, PatchGAN, image history pool, losses."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.nets.layers import ResidualBlock


class ResnetTranslator(nn.Module):
    """CycleGAN's generator (after Johnson et al. 2016): (N, C_in, H, W) -> (N, C_out, H, W).

    c7s1-w (reflection pad 3, conv7x7, InstanceNorm, ReLU) -> ``n_down`` x d(2^i w) (conv3x3 stride 2, IN,
    ReLU) -> ``num_blocks`` x R(2^n_down w) (reflection-padded residual blocks with IN) -> ``n_down`` x
    u (transposed conv3x3 stride 2, IN, ReLU) -> c7s1-C_out with tanh. The paper uses 6 blocks for 128x128
    and 9 for 256x256 with n_down=2; small images can use fewer. H and W must be divisible by 2^n_down.
    Output in [-1, 1]: data is scaled with the tanh Scaler.
    """

    output_activation = "tanh"

    def __init__(
        self,
        channels_in: int = 3,
        channels_out: int = 3,
        width: int = 64,
        num_blocks: int = 9,
        n_down: int = 2,
    ) -> None:
        super().__init__()
        if min(channels_in, channels_out, width) < 1 or num_blocks < 0 or n_down < 0:
            raise GanforgeError("ResnetTranslator: channels, width must be >= 1; num_blocks, n_down >= 0")
        self.channels_in, self.channels_out, self.n_down = channels_in, channels_out, n_down
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(channels_in, width, 7),
            nn.InstanceNorm2d(width),
            nn.ReLU(),
        ]
        ch = width
        for _ in range(n_down):
            layers += [nn.Conv2d(ch, ch * 2, 3, stride=2, padding=1), nn.InstanceNorm2d(ch * 2), nn.ReLU()]
            ch *= 2
        layers += [
            ResidualBlock(ch, norm="instance", activation="relu", padding="reflect")
            for _ in range(num_blocks)
        ]
        for _ in range(n_down):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 3, stride=2, padding=1, output_padding=1),
                nn.InstanceNorm2d(ch // 2),
                nn.ReLU(),
            ]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, channels_out, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels_in:
            raise GanforgeError(
                f"ResnetTranslator expects images shaped (N, {self.channels_in}, H, W), got {tuple(x.shape)}"
            )
        step = 2**self.n_down
        h, w = x.shape[-2:]
        if h % step or w % step or min(h, w) < max(4, 2 * step):
            raise GanforgeError(
                f"ResnetTranslator: image size {h}x{w} must be divisible by {step} (2^n_down) and at least "
                f"{max(4, 2 * step)} a side (reflection padding); resize the images or lower n_down"
            )
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN (Isola et al. 2017): a map of logits (N, 1, h, w), one per overlapping input patch.

    C64 (conv4x4 stride 2, no norm, leaky ReLU 0.2) -> C128, C256 (stride 2, InstanceNorm) -> C512
    (stride 1) -> conv4x4 stride 1 to one channel. With ``n_layers=3`` each logit sees a 70x70 patch
    (:attr:`receptive_field`); fewer layers see smaller patches and fit smaller images. Widths cap at 8w.
    """

    def __init__(self, channels: int = 3, width: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        if channels < 1 or width < 1 or n_layers < 1:
            raise GanforgeError("PatchDiscriminator: channels, width and n_layers must be >= 1")
        self.channels, self.n_layers = channels, n_layers
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        ch = width
        for i in range(1, n_layers + 1):
            out_ch = width * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [
                nn.Conv2d(ch, out_ch, 4, stride=stride, padding=1),
                nn.InstanceNorm2d(out_ch),
                nn.LeakyReLU(0.2),
            ]
            ch = out_ch
        layers.append(nn.Conv2d(ch, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        """Input patch side seen by one output logit: ``rf = 1 + sum_l (k - 1) * prod(strides before l)``."""
        strides = [2] * self.n_layers + [1, 1]
        rf, jump = 1, 1
        for s in strides:
            rf += 3 * jump
            jump *= s
        return rf

    def output_size(self, size: int) -> int:
        """Logit-map side for input side ``size``: a 4x4 conv, pad 1, stride t maps s to (s - 2) // t + 1."""
        for s in [2] * self.n_layers + [1, 1]:
            size = (size - 2) // s + 1
        return size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise GanforgeError(
                f"PatchDiscriminator expects images shaped (N, {self.channels}, H, W), got {tuple(x.shape)}"
            )
        if min(self.output_size(int(x.shape[-2])), self.output_size(int(x.shape[-1]))) < 1:
            raise GanforgeError(
                f"PatchDiscriminator: {tuple(x.shape[-2:])} images are too small for "
                f"n_layers={self.n_layers}; use fewer layers or larger images"
            )
        return self.net(x)


class ImagePool:
    """History of generated images (Shrivastava et al. 2017) that CycleGAN's discriminators train on.

    ``query(images)`` goes image by image: while fewer than ``size`` are stored, the image is stored and
    returned; once full, with probability 1/2 a uniformly chosen stored image is returned and the new one
    takes its place, otherwise the new image is returned. Showing D older fakes damps oscillation.
    ``size=0`` turns the pool off. Randomness comes from the pool's own ``torch.Generator`` (seeded), and
    :meth:`state_dict` holds it and the stored images, so a resumed run draws exactly the same.
    """

    def __init__(self, size: int = 50, seed: int = 0) -> None:
        if size < 0:
            raise GanforgeError(f"ImagePool: size must be >= 0, got {size}")
        self.size = size
        self.images: list[torch.Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: torch.Tensor) -> torch.Tensor:
        """A batch the same shape as ``images``, mixing new images with stored ones (detached)."""
        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator).item() < 0.5:
                idx = int(torch.randint(len(self.images), (), generator=self.generator).item())
                out.append(self.images[idx].to(image.device))
                self.images[idx] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        """``{"size": int, "images": (K, ...) tensor, "rng_state": uint8 tensor}`` (tensors on the CPU)."""
        stored = torch.stack([im.cpu() for im in self.images]) if self.images else torch.empty(0)
        return {"size": self.size, "images": stored, "rng_state": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned; the pool size must match."""
        if int(state["size"]) != self.size:
            raise GanforgeError(
                f"ImagePool: checkpoint pool size {int(state['size'])} differs from {self.size}; "
                "use the size the run was trained with"
            )
        stored = state["images"]
        self.images = [im.clone() for im in stored] if stored.numel() else []
        self.generator.set_state(state["rng_state"].clone())


def cycle_consistency_loss(real: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """``L_cyc = E[ ||F(G(x)) - x||_1 ]``: the mean absolute error between ``real`` and its round trip.

    CycleGAN weighs it by lambda = 10 and adds it for both directions (x -> y -> x and y -> x -> y).
    """
    if real.shape != reconstructed.shape:
        raise GanforgeError(
            f"cycle_consistency_loss: shapes {tuple(real.shape)} and {tuple(reconstructed.shape)} differ"
        )
    return (reconstructed - real).abs().mean()


def identity_loss(real: torch.Tensor, mapped: torch.Tensor) -> torch.Tensor:
    """``L_id = E_y[ ||G(y) - y||_1 ]``: a generator fed an image of its target domain should leave it alone.

    ``mapped`` is ``G(real)``. CycleGAN weighs it by 0.5 * lambda; it preserves colour composition.
    """
    if real.shape != mapped.shape:
        raise GanforgeError(f"identity_loss: shapes {tuple(real.shape)} and {tuple(mapped.shape)} differ")
    return (mapped - real).abs().mean()
