"""DF-GAN's networks (Tao et al. 2022), small: a generator that fuses the sentence into every block by
affine transformation, and a one-stage discriminator that judges an image together with a sentence.

Affine fusion (DF-GAN sec. 3.3): from the sentence vector e two MLPs predict per-channel scale and shift,
``h <- gamma(e) * h + beta(e)``; a fusion block is affine, LeakyReLU, affine, LeakyReLU, stacked twice
around 3x3 convolutions in each up-sampling block. The scale MLP's last layer starts at zero weight and
bias 1 (the shift's at 0) so training starts from the unconditioned network, as DF-GAN initialises it.
Unlike DF-GAN, the first linear layer reads the noise concatenated with the sentence (StackGAN's input),
so the coarse layout depends on the text from the first layer.

``grid`` > 1 makes the fusion spatial: the MLPs predict a ``grid`` x ``grid`` map of scales and shifts per
channel, bilinearly resized to the block's resolution, so the sentence can scale a channel up in one part
of the image and down in another (DF-GAN's per-channel affine is ``grid`` 1, the same at every pixel: a
caption with a red object on the left and a blue one on the right modulates both with one colour mix).

The discriminator down-samples the image with residual blocks to 4x4, concatenates the sentence vector
copied over the 4x4 grid, and maps that to one logit (DF-GAN's D_GET_LOGITS).

``word_dim`` > 0 adds AttnGAN's word attention (Xu et al. 2018, sec. 3.1) to both: each image region
(a pixel of a feature map) gets a word-context vector ``c_j = sum_i softmax_i(q_j . k_i / sqrt(C)) v_i``
over the caption's words (keys and values linear in the word features, the query a 1x1 convolution of the
region's features plus a learned embedding of its position), added back to the features through a 1x1
convolution that starts at zero. In G it follows every up-sampling block below the output resolution; in D
it is applied to the 4x4 features before the sentence is joined, so D can check which words a region
shows, not only what the sentence says as a whole.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Affine(nn.Module):
    """h -> gamma(e) * h + beta(e), per channel (``grid`` 1) or per channel and cell of a ``grid`` x ``grid``
    map resized to h's resolution; gamma starts at 1, beta at 0."""

    def __init__(self, cond_dim: int, channels: int, hidden: int = 64, grid: int = 1) -> None:
        super().__init__()
        self.grid = int(grid)
        out = channels * self.grid * self.grid
        self.gamma = nn.Sequential(nn.Linear(cond_dim, hidden), nn.ReLU(), nn.Linear(hidden, out))
        self.beta = nn.Sequential(nn.Linear(cond_dim, hidden), nn.ReLU(), nn.Linear(hidden, out))
        for head, bias in ((self.gamma[2], 1.0), (self.beta[2], 0.0)):
            nn.init.zeros_(head.weight)
            nn.init.constant_(head.bias, bias)

    def _map(self, values: Tensor, h: Tensor) -> Tensor:
        if self.grid == 1:
            return values[:, :, None, None]
        grid = values.view(values.shape[0], -1, self.grid, self.grid)
        return F.interpolate(grid, size=h.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, h: Tensor, e: Tensor) -> Tensor:
        return self._map(self.gamma(e), h) * h + self._map(self.beta(e), h)


class WordAttention(nn.Module):
    """features (N, C, H, W), words (N, L, D), mask (N, L) -> features + conv1x1(word context) (module doc)."""

    def __init__(self, channels: int, word_dim: int, size: int) -> None:
        super().__init__()
        self.query = nn.Conv2d(channels, channels, 1)
        self.position = nn.Parameter(torch.zeros(1, channels, size, size))
        nn.init.normal_(self.position, std=0.5)
        self.key, self.value = nn.Linear(word_dim, channels), nn.Linear(word_dim, channels)
        self.out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, h: Tensor, words: Tensor, mask: Tensor) -> Tensor:
        n, c, height, width = h.shape
        position = self.position
        if position.shape[-2:] != h.shape[-2:]:
            position = F.interpolate(position, size=(height, width), mode="bilinear", align_corners=False)
        q = (self.query(h) + position).flatten(2).transpose(1, 2)  # (N, HW, C)
        scores = q @ self.key(words).transpose(1, 2) / math.sqrt(c)  # (N, HW, L)
        attention = scores.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)
        context = (attention @ self.value(words)).transpose(1, 2).reshape(n, c, height, width)
        return h + self.out(context)


def sentence_as_words(e: Tensor, words: Tensor | None, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """The word features to attend to; without them (e.g. an interpolated sentence vector) the sentence
    vector stands for a caption of one word."""
    if words is None:
        return e[:, None, :], torch.ones(e.shape[0], 1, dtype=torch.bool, device=e.device)
    return words, torch.ones(words.shape[:2], dtype=torch.bool, device=words.device) if mask is None else mask


class FusionBlock(nn.Module):
    """DF-GAN's DFBlock: affine, LeakyReLU(0.2), affine, LeakyReLU(0.2)."""

    def __init__(self, cond_dim: int, channels: int, grid: int = 1) -> None:
        super().__init__()
        self.a1, self.a2 = Affine(cond_dim, channels, grid=grid), Affine(cond_dim, channels, grid=grid)

    def forward(self, h: Tensor, e: Tensor) -> Tensor:
        h = F.leaky_relu(self.a1(h, e), 0.2)
        return F.leaky_relu(self.a2(h, e), 0.2)


class UpBlock(nn.Module):
    """x2 nearest up-sampling; fuse, conv, fuse, conv; learned 1x1 shortcut; residual scale ``gain``."""

    def __init__(self, cond_dim: int, cin: int, cout: int, upsample: bool = True, grid: int = 1) -> None:
        super().__init__()
        self.upsample = upsample
        self.fuse1, self.conv1 = FusionBlock(cond_dim, cin, grid), nn.Conv2d(cin, cout, 3, 1, 1)
        self.fuse2, self.conv2 = FusionBlock(cond_dim, cout, grid), nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, h: Tensor, e: Tensor) -> Tensor:
        if self.upsample:
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        r = self.conv2(self.fuse2(self.conv1(self.fuse1(h, e)), e))
        return self.shortcut(h) + r


class FusionGenerator(nn.Module):
    """(z, e) -> image (N, C, S, S) in [-1, 1]: linear to 4x4, one up-block per doubling to S, tanh."""

    output_activation = "tanh"

    def __init__(
        self, noise_dim: int, cond_dim: int, channels: int, size: int, width: int = 32, grid: int = 1,
        word_dim: int = 0,
    ) -> None:
        super().__init__()
        levels = int(math.log2(size // 4))
        if 4 * 2**levels != size:
            raise ValueError(f"image size {size} is not 4 times a power of two")
        chans = [width * min(2**(levels - i), 4) for i in range(levels + 1)]  # e.g. 128, 128, 64, 32
        self.start = chans[0]
        self.fc = nn.Linear(noise_dim + cond_dim, chans[0] * 16)
        self.blocks = nn.ModuleList(UpBlock(cond_dim, chans[i], chans[i + 1], grid=grid) for i in range(levels))
        self.attention = nn.ModuleList(
            WordAttention(chans[i + 1], word_dim, 8 * 2**i) for i in range(levels - 1) if word_dim > 0
        )
        self.out = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(chans[-1], channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: Tensor, e: Tensor, words: Tensor | None = None, mask: Tensor | None = None) -> Tensor:
        h = self.fc(torch.cat([z, e], 1)).view(z.shape[0], self.start, 4, 4)
        if len(self.attention):
            words, mask = sentence_as_words(e, words, mask)
        for i, block in enumerate(self.blocks):
            h = block(h, e)
            if i < len(self.attention):
                h = self.attention[i](h, words, mask)
        return self.out(h)


class DownBlock(nn.Module):
    """DF-GAN's D_Block: conv 4x4 stride 2, LeakyReLU, conv 3x3, LeakyReLU; shortcut 1x1 + avg-pool;
    residual weighted by a learned scalar (starting at 0)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(cout, cout, 3, 1, 1), nn.LeakyReLU(0.2)
        )
        self.shortcut = nn.Conv2d(cin, cout, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(self.shortcut(x), 2) + self.gamma * self.residual(x)


class MatchingDiscriminator(nn.Module):
    """(image, e) -> one logit per pair: image features at 4x4 joined with the sentence vector."""

    def __init__(self, cond_dim: int, channels: int, size: int, width: int = 32, word_dim: int = 0) -> None:
        super().__init__()
        levels = int(math.log2(size // 4))
        chans = [width * min(2**i, 4) for i in range(levels + 1)]  # e.g. 32, 64, 128, 128
        self.stem = nn.Conv2d(channels, chans[0], 3, 1, 1)
        self.blocks = nn.Sequential(*(DownBlock(chans[i], chans[i + 1]) for i in range(levels)))
        self.attention = WordAttention(chans[-1], word_dim, 4) if word_dim > 0 else None
        self.joint = nn.Sequential(
            nn.Conv2d(chans[-1] + cond_dim, chans[-1], 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(chans[-1], 1, 4, 1, 0)
        )

    def features(self, x: Tensor) -> Tensor:
        return self.blocks(self.stem(x))

    def logits(self, features: Tensor, e: Tensor, words: Tensor | None = None, mask: Tensor | None = None) -> Tensor:
        if self.attention is not None:
            features = self.attention(features, *sentence_as_words(e, words, mask))
        grid = e[:, :, None, None].expand(-1, -1, features.shape[2], features.shape[3])
        return self.joint(torch.cat([features, grid], 1)).flatten()

    def forward(self, x: Tensor, e: Tensor, words: Tensor | None = None, mask: Tensor | None = None) -> Tensor:
        return self.logits(self.features(x), e, words, mask)
