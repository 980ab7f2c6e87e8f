"""Class conditioning: the pieces that feed a label ``y`` into a generator or discriminator.

Two ways a label reaches a network, both usable by any architecture (MLP or convolutional):

* **concatenation** (Mirza & Osindero 2014): a learned label embedding ``e(y)`` is appended to the
  network's input, ``f([x, e(y)])``. :class:`ConditionalNet` wraps any base network this way;
  :func:`label_maps` gives the image version (one constant one-hot map per class, stacked on the
  channels).
* **projection** (Miyato & Koyama 2018): a discriminator computes features ``h = phi(x)`` and scores
  ``D(x, y) = psi(h) + <E[y], h>``: an unconditional score plus the inner product of a per-class
  embedding with the features. :class:`ProjectionHead` is that last layer, :class:`ProjectionNet`
  puts it on top of any feature network.

Labels are integer class indices in ``0 .. num_classes - 1``; a wrong label is a one-line
:class:`~ganforge.errors.GanforgeError`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError


def check_labels(y: torch.Tensor | None, num_classes: int, batch: int) -> torch.Tensor:
    """Validate class labels for a batch of ``batch`` samples and return them as int64 of shape (N,).

    Accepts (N,) or (N, 1) integer tensors. The value range is checked for CPU tensors only: on an
    accelerator the check would force a device sync every step (there the embedding itself fails); nor
    while ``torch.export`` captures the network (a value check is not part of a graph).
    """
    if y is None:
        raise GanforgeError(
            f"this network is conditional on {num_classes} classes; pass labels y with values "
            f"0..{num_classes - 1} (one per sample)"
        )
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y)
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise GanforgeError(f"class labels must be integers 0..{num_classes - 1}, got a {y.dtype} tensor")
    y = y.reshape(-1) if y.dim() == 2 and y.shape[1] == 1 else y
    if y.dim() != 1 or y.shape[0] != batch:
        raise GanforgeError(f"expected {batch} class labels (one per sample), got shape {tuple(y.shape)}")
    checkable = y.device.type == "cpu" and not torch.compiler.is_exporting()  # no data-dependent check in a graph
    if checkable and y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise GanforgeError(
            f"class label {int(y.min()) if int(y.min()) < 0 else int(y.max())} is out of range; "
            f"this network knows classes 0..{num_classes - 1}"
        )
    return y.long()


def _check_num_classes(num_classes: int) -> None:
    if int(num_classes) < 1:
        raise GanforgeError(f"num_classes={num_classes}: a conditional network needs at least one class")


class LabelEmbedding(nn.Module):
    """``y -> E[y]``: a learned ``dim``-vector per class, or the one-hot vector when ``one_hot=True``.

    Learned embeddings start N(0, 1), the same scale as the generator's noise, so the label is neither
    drowned out nor dominant when concatenated with ``z``.
    """

    def __init__(self, num_classes: int, dim: int | None = None, one_hot: bool = False) -> None:
        super().__init__()
        _check_num_classes(num_classes)
        self.num_classes = int(num_classes)
        self.one_hot = one_hot
        self.dim = self.num_classes if one_hot or dim is None else int(dim)
        if self.dim < 1:
            raise GanforgeError(f"label_dim={dim}: the label embedding needs at least one dimension")
        self.embed = None if one_hot else nn.Embedding(self.num_classes, self.dim)

    def forward(self, y: torch.Tensor | None, batch: int | None = None) -> torch.Tensor:
        """(N, dim) embeddings of labels ``y``; ``batch`` is the expected N (default: ``len(y)``)."""
        n = batch if batch is not None else (0 if y is None else y.shape[0])
        y = check_labels(y, self.num_classes, n)
        if self.embed is None:
            return F.one_hot(y, self.num_classes).float()
        return self.embed(y)


def label_maps(y: torch.Tensor, num_classes: int, height: int, width: int) -> torch.Tensor:
    """One-hot labels as image channels: (N,) -> (N, num_classes, height, width), constant per map."""
    y = check_labels(y, num_classes, y.shape[0])
    onehot = F.one_hot(y, num_classes).float()
    return onehot[:, :, None, None].expand(-1, -1, height, width)


class ConditionalNet(nn.Module):
    """Concatenation conditioning for any network reading flat vectors: ``base([flatten(x), E[y]])``.

    ``make_base(in_features + label_dim)`` builds the base network, so a caller states the base's own
    input size once and the wrapper widens it. Works for MLP generators (``x`` = noise ``z``) and MLP
    discriminators (``x`` = samples of any shape, flattened). The base's ``output_activation`` (if it
    has one) is exposed unchanged, so the trainer still picks the right data scaling.
    """

    def __init__(
        self,
        make_base: Callable[[int], nn.Module],
        in_features: int,
        num_classes: int,
        label_dim: int | None = None,
        one_hot: bool = False,
    ) -> None:
        super().__init__()
        self.label = LabelEmbedding(num_classes, label_dim, one_hot)
        self.num_classes = self.label.num_classes
        self.in_features = int(in_features)
        self.base = make_base(self.in_features + self.label.dim)
        if hasattr(self.base, "output_activation"):
            self.output_activation = self.base.output_activation

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        flat = x.flatten(1)
        if flat.shape[1] != self.in_features:
            raise GanforgeError(
                f"conditional network expects {self.in_features} input features per sample, "
                f"got {flat.shape[1]}"
            )
        emb = self.label(y, flat.shape[0])
        return self.base(torch.cat([flat, emb.to(flat.dtype)], dim=1))


class ProjectionHead(nn.Module):
    """The last layer of a discriminator: ``logit = psi(h) + <E[y], h>`` (Miyato & Koyama 2018).

    ``h`` (N, features) are the discriminator's features (flattened if not already flat); ``psi`` is a
    linear map to one logit; ``E`` holds one ``features``-vector per class. Without ``num_classes``
    the head is just ``psi`` (an unconditional linear output). Returns (N, 1) logits. Both ``psi`` and
    ``E`` start N(0, 0.02) so neither term dominates at the start. ``spectral_norm=True`` normalizes
    both, as in the paper's SN-GAN discriminator.
    """

    def __init__(self, features: int, num_classes: int | None = None, spectral_norm: bool = False) -> None:
        super().__init__()
        self.features = int(features)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.psi = nn.Linear(self.features, 1)
        nn.init.normal_(self.psi.weight, 0.0, 0.02)
        nn.init.zeros_(self.psi.bias)
        self.embed: nn.Embedding | None = None
        if self.num_classes is not None:
            _check_num_classes(self.num_classes)
            self.embed = nn.Embedding(self.num_classes, self.features)
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        if spectral_norm and not self.psi.weight.is_meta:  # meta: parameters only (see conv.apply_spectral_norm)
            self.psi = nn.utils.parametrizations.spectral_norm(self.psi)
            if self.embed is not None:
                self.embed = nn.utils.parametrizations.spectral_norm(self.embed)

    def forward(self, h: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = h.flatten(1)
        out = self.psi(h)
        if self.embed is None:
            return out
        labels = check_labels(y, self.embed.num_embeddings, h.shape[0])
        return out + (self.embed(labels) * h).sum(dim=1, keepdim=True)


class ProjectionNet(nn.Module):
    """A projection discriminator from any feature network: ``D(x, y) = psi(phi(x)) + <E[y], phi(x)>``.

    ``body`` maps samples to (N, features) (or to any shape with that many values per sample).
    """

    def __init__(
        self, body: nn.Module, features: int, num_classes: int | None, spectral_norm: bool = False
    ) -> None:
        super().__init__()
        self.body = body
        self.head = ProjectionHead(features, num_classes, spectral_norm)
        self.num_classes = self.head.num_classes

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x), y)
