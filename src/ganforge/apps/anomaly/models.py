"""GAN anomaly detectors trained on normal data only: AnoGAN, EGBAD (BiGAN) and GANomaly.

Every model works on samples in *model units* (standardized features, images in [-1, 1]) of one fixed
per-sample shape: ``(D,)`` for rows and flattened images (fully connected networks), ``(T, F)`` for
windows of a series (GRU networks: the recurrent detector). Scores are per sample, larger = more
anomalous; ``residual`` is ``x - x_hat`` with the sample's shape (the per-feature / per-pixel map).

* **AnoGAN** (Schlegl et al. 2017): a GAN G: z -> x, D: x -> (features f(x), logit). At test time the
  latent search z* = argmin_z L(z) runs ``search_steps`` Adam steps, with

      L(z) = (1 - lambda) * mean|x - G(z)| + lambda * mean|f(x) - f(G(z))|,   lambda = 0.1,

  and the anomaly score is A(x) = L(z*) (the residual plus the discrimination (feature) loss). The search
  starts from the best of K = ``search_starts`` (16) codes c_1..c_K ~ N(0, I) drawn once from the seed, the
  same K for every sample: z_0(x) = argmin_k L_x(c_k) (K forward passes, a few per cent of the search's
  search_steps forward and backward passes; a multi-start that keeps the best start, as GAN-inversion
  searches do against an unlucky draw). Every step of the search is per sample: the batch loss is the sum of
  the samples' L, so its gradient for z_i is sample i's own, and Adam's moments are per coordinate. So A(x)
  is a function of x, the weights and the seed alone, whatever batch x is scored in. The search runs in
  float64 (``AnoGAN.score`` says why), so the only batch effect left is float32 rounding of the result.
  Before round 18 z_0 was row i of an (N, latent) draw: a sample's score depended on its place in the batch.
* **EGBAD** (Zenati et al. 2018, "Efficient GAN-based anomaly detection"): a BiGAN — G: z -> x,
  E: x -> z and a joint D(x, z) trained to tell (x, E(x)) from (G(z), z); no search at test time:

      A(x) = (1 - lambda) * mean|x - G(E(x))| + lambda * mean|f_D(x, E(x)) - f_D(G(E(x)), E(x))|,  lambda = 0.1.
* **ALAD** (Zenati et al. 2018, "Adversarially learned anomaly detection"): EGBAD's BiGAN plus two
  cycle-consistency discriminators, D_xx on pairs (x, x) vs (x, G(E(x))) and D_zz on (z, z) vs
  (z, E(G(z))), which make E invert G (a plain BiGAN's encoder often does not: on the digits its
  reconstructions were worse than the mean image); the score is the feature distance of the paper,

      A(x) = mean|f_xx(x, x) - f_xx(x, G(E(x)))|.
* **GANomaly** (Akcay et al. 2018): encoder G_E, decoder G_D, second encoder E and a discriminator.
  Generator loss w_adv ||f(x) - f(x_hat)||_2^2 + w_con |x - x_hat|_1 + w_enc ||z - z_hat||_2^2 with
  (w_adv, w_con, w_enc) = (1, 50, 1), z = G_E(x), x_hat = G_D(z), z_hat = E(x_hat); score (default)

      A(x) = mean|x - G_D(G_E(x))|                  (the reconstruction residual, ``score="residual"``)

  It beat the paper's latent distance, ``score="latent"``: A(x) = mean|G_E(x) - E(G_D(G_E(x)))|, on all three
  validation tasks of docs/benchmarks/anomaly.md (a pseudo-anomalous digit 0.955 vs 0.922, one normal digit
  0.998 vs 0.958, wine 0.948 vs 0.722), so it is the default since round 12 (before it: latent). Or
  ``score="knn"``: the mean Euclidean distance of the code G_E(x) to its k = ``neighbors`` nearest codes of
  the training samples (kept in the model after training),

      A(x) = (1/k) sum_{i in kNN(x)} ||G_E(x) - G_E(x_i)||_2,

  nearest-neighbour distance in the representation the GAN learned (Bergman et al. 2020 do the same with a
  pretrained network's features). A reconstruction score asks "can G redraw x?" and a generator trained on
  nine digits redraws a tenth well; the codes' kNN asks "is x near a normal sample seen in training?".
  The paper min-max scales scores over the *test* set; here raw scores are kept, so a score means the same
  thing whatever else is in the batch.

Training runs a fixed number of steps (no epoch is picked on any labelled data).
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError, did_you_mean

SCORE_CHUNK = 4096
"""Samples per forward pass when a detector scores or remembers many: bounds memory, not the result."""

METHODS = ("ganomaly", "egbad", "alad", "anogan")
GANOMALY_SCORES = ("latent", "residual", "knn")


def _flat_dim(shape: Sequence[int]) -> int:
    return int(math.prod(shape))


def default_latent(shape: Sequence[int]) -> int:
    """Latent size: a quarter of the flat input size, between 2 and 32 (sequences: 2 x features, 4..32)."""
    if len(shape) == 2:
        return max(4, min(32, 2 * int(shape[1])))
    return max(2, min(32, _flat_dim(shape) // 4))


def default_hidden(shape: Sequence[int]) -> int:
    """Hidden width: twice the flat size, between 32 and 256 (sequences: 4 x features, 16..64)."""
    if len(shape) == 2:
        return max(16, min(64, 4 * int(shape[1])))
    return max(32, min(256, 2 * _flat_dim(shape)))


class Encoder(nn.Module):
    """x -> z: an MLP on the flattened sample, or a GRU whose last state is mapped to z for (T, F)."""

    def __init__(self, shape: Sequence[int], latent: int, hidden: int) -> None:
        super().__init__()
        self.recurrent = len(shape) == 2
        if self.recurrent:
            self.rnn = nn.GRU(int(shape[1]), hidden, batch_first=True)
            self.out = nn.Linear(hidden, latent)
        else:
            self.net = nn.Sequential(
                nn.Flatten(), nn.Linear(_flat_dim(shape), hidden), nn.LeakyReLU(0.2),
                nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, latent),
            )

    def forward(self, x: Tensor) -> Tensor:
        if self.recurrent:
            _, h = self.rnn(x)
            return self.out(h[-1])
        return self.net(x)


class Decoder(nn.Module):
    """z -> x of ``shape`` (linear output: model units are unbounded standardized values)."""

    def __init__(self, shape: Sequence[int], latent: int, hidden: int) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.recurrent = len(shape) == 2
        if self.recurrent:
            self.inp = nn.Linear(latent, hidden)
            self.rnn = nn.GRU(hidden, hidden, batch_first=True)
            self.out = nn.Linear(hidden, self.shape[1])
        else:
            self.net = nn.Sequential(
                nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                nn.Linear(hidden, _flat_dim(shape)),
            )

    def forward(self, z: Tensor) -> Tensor:
        if self.recurrent:
            steps = torch.relu(self.inp(z)).unsqueeze(1).expand(-1, self.shape[0], -1)
            h, _ = self.rnn(steps.contiguous())
            return self.out(h)
        return self.net(z).view(z.shape[0], *self.shape)


class Discriminator(nn.Module):
    """x (and optionally z, for the BiGAN's joint D) -> (features, logit); dropout against memorizing."""

    def __init__(self, shape: Sequence[int], hidden: int, latent: int = 0, dropout: float = 0.2) -> None:
        super().__init__()
        self.recurrent = len(shape) == 2
        if self.recurrent:
            self.rnn = nn.GRU(int(shape[1]), hidden, batch_first=True)
            x_out = hidden
        else:
            self.x_net = nn.Sequential(nn.Flatten(), nn.Linear(_flat_dim(shape), hidden), nn.LeakyReLU(0.2),
                                       nn.Dropout(dropout))
            x_out = hidden
        self.z_net = (
            nn.Sequential(nn.Linear(latent, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout)) if latent else None
        )
        joint = x_out + (hidden if latent else 0)
        self.features = nn.Sequential(nn.Linear(joint, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout))
        self.logit = nn.Linear(hidden, 1)

    def forward(self, x: Tensor, z: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if self.recurrent:
            _, h = self.rnn(x)
            hx = h[-1]
        else:
            hx = self.x_net(x)
        if self.z_net is not None:
            if z is None:
                raise ValueError("the joint discriminator needs z")
            hx = torch.cat([hx, self.z_net(z)], dim=1)
        f = self.features(hx)
        return f, self.logit(f).squeeze(1)


def _bce(logit: Tensor, target: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logit, torch.full_like(logit, target))


def _per_sample_mean(t: Tensor) -> Tensor:
    return t.reshape(t.shape[0], -1).mean(dim=1)


class DetectorModel(nn.Module):
    """Shared interface: ``d_loss(x)``, ``g_loss(x)``, ``score(x, seed) -> (scores, residual)``."""

    method = ""

    def __init__(self, shape: Sequence[int], latent: int, hidden: int) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)
        self.latent = latent

    def d_parameters(self) -> list[nn.Parameter]:
        return list(self.disc.parameters())

    def g_parameters(self) -> list[nn.Parameter]:
        ids = {id(p) for p in self.d_parameters()}
        return [p for p in self.parameters() if id(p) not in ids]

    def d_loss(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def g_loss(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def score(self, x: Tensor, seed: int = 0) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def remember(self, x: Tensor) -> None:
        """Called once after training with the training samples; a score that needs them keeps what it needs."""

    def scoring_options(self) -> dict[str, float | int | str]:
        """The options that decide how a sample is scored, defaults written out: a saved detector keeps them,
        so it scores as it was calibrated after a later release changes a default."""
        return {}


class GANomaly(DetectorModel):
    """GANomaly: encoder-decoder-encoder generator + feature-matching discriminator (see module doc)."""

    method = "ganomaly"

    def __init__(self, shape: Sequence[int], latent: int, hidden: int, w_adv: float = 1.0, w_con: float = 50.0,
                 w_enc: float = 1.0, score: str = "residual", neighbors: int = 5) -> None:
        super().__init__(shape, latent, hidden)
        if score not in GANOMALY_SCORES:
            raise GanforgeError(
                f"ganomaly score '{score}'{did_you_mean(score, GANOMALY_SCORES)}; choose residual (the default), "
                "latent (the paper's) or knn"
            )
        if int(neighbors) < 1:
            raise GanforgeError(f"ganomaly neighbors {neighbors}: give at least 1")
        self.encoder1 = Encoder(shape, latent, hidden)
        self.decoder = Decoder(shape, latent, hidden)
        self.encoder2 = Encoder(shape, latent, hidden)
        self.disc = Discriminator(shape, hidden)
        self.weights = (w_adv, w_con, w_enc)
        self.score_kind = score
        self.neighbors = int(neighbors)
        # The training samples' codes for score="knn"; its length is the training set's, so loading resizes it.
        self.register_buffer("bank", torch.empty(0, latent))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object, **kwargs: object) -> None:
        bank = state_dict.get(prefix + "bank")
        if bank is not None:
            self.bank = torch.empty_like(bank)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def scoring_options(self) -> dict[str, float | int | str]:
        return {"score": self.score_kind}

    @torch.no_grad()
    def remember(self, x: Tensor) -> None:
        if self.score_kind == "knn":
            self.bank = torch.cat([self.encoder1(x[i:i + SCORE_CHUNK]) for i in range(0, x.shape[0], SCORE_CHUNK)])

    def reconstruct(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        z = self.encoder1(x)
        x_hat = self.decoder(z)
        return z, x_hat, self.encoder2(x_hat)

    def d_loss(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            _, x_hat, _ = self.reconstruct(x)
        return _bce(self.disc(x)[1], 1.0) + _bce(self.disc(x_hat)[1], 0.0)

    def g_loss(self, x: Tensor) -> Tensor:
        z, x_hat, z_hat = self.reconstruct(x)
        f_real = self.disc(x)[0].detach()
        f_fake = self.disc(x_hat)[0]
        w_adv, w_con, w_enc = self.weights
        return (w_adv * F.mse_loss(f_fake, f_real) + w_con * F.l1_loss(x_hat, x)
                + w_enc * F.mse_loss(z_hat, z))

    @torch.no_grad()
    def score(self, x: Tensor, seed: int = 0) -> tuple[Tensor, Tensor]:
        z, x_hat, z_hat = self.reconstruct(x)
        residual = x - x_hat
        if self.score_kind == "residual":
            return _per_sample_mean(residual.abs()), residual
        if self.score_kind == "knn":
            if self.bank.shape[0] == 0:
                raise GanforgeError("ganomaly score 'knn' has no training codes; fit the detector first")
            k = min(self.neighbors, self.bank.shape[0])
            return torch.cdist(z, self.bank).topk(k, dim=1, largest=False).values.mean(dim=1), residual
        return (z - z_hat).abs().mean(dim=1), residual


class EGBAD(DetectorModel):
    """EGBAD: a BiGAN (G, E, joint D); score from the encoder's reconstruction, no latent search."""

    method = "egbad"

    def __init__(self, shape: Sequence[int], latent: int, hidden: int, lam: float = 0.1) -> None:
        super().__init__(shape, latent, hidden)
        self.encoder = Encoder(shape, latent, hidden)
        self.generator = Decoder(shape, latent, hidden)
        self.disc = Discriminator(shape, hidden, latent=latent)
        self.lam = lam

    def d_loss(self, x: Tensor) -> Tensor:
        z = torch.randn(x.shape[0], self.latent)
        with torch.no_grad():
            fake = self.generator(z)
            code = self.encoder(x)
        return _bce(self.disc(x, code)[1], 1.0) + _bce(self.disc(fake, z)[1], 0.0)

    def g_loss(self, x: Tensor) -> Tensor:
        z = torch.randn(x.shape[0], self.latent)
        # G and E play against D with flipped labels (the BiGAN's non-saturating form).
        return _bce(self.disc(self.generator(z), z)[1], 1.0) + _bce(self.disc(x, self.encoder(x))[1], 0.0)

    @torch.no_grad()
    def score(self, x: Tensor, seed: int = 0) -> tuple[Tensor, Tensor]:
        code = self.encoder(x)
        x_hat = self.generator(code)
        residual = x - x_hat
        f_x = self.disc(x, code)[0]
        f_hat = self.disc(x_hat, code)[0]
        scores = (1 - self.lam) * _per_sample_mean(residual.abs()) + self.lam * (f_x - f_hat).abs().mean(dim=1)
        return scores, residual


def _pair(a: Tensor, b: Tensor) -> Tensor:
    """Two samples side by side: along the last axis (features of a window, or flat values)."""
    return torch.cat([a, b], dim=-1)


class ALAD(DetectorModel):
    """ALAD: BiGAN + cycle discriminators D_xx and D_zz; feature-distance score (see module doc)."""

    method = "alad"

    def __init__(self, shape: Sequence[int], latent: int, hidden: int) -> None:
        super().__init__(shape, latent, hidden)
        pair_shape = (*self.shape[:-1], 2 * self.shape[-1])
        self.encoder = Encoder(shape, latent, hidden)
        self.generator = Decoder(shape, latent, hidden)
        self.disc = nn.ModuleDict({
            "xz": Discriminator(shape, hidden, latent=latent),
            "xx": Discriminator(pair_shape, hidden),
            "zz": Discriminator((2 * latent,), hidden),
        })

    def _terms(self, x: Tensor, real_label: float) -> Tensor:
        z = torch.randn(x.shape[0], self.latent)
        code = self.encoder(x)
        fake = self.generator(z)
        rec_x = self.generator(code)
        rec_z = self.encoder(fake)
        d = self.disc
        fake_label = 1.0 - real_label
        return (
            _bce(d["xz"](x, code)[1], real_label) + _bce(d["xz"](fake, z)[1], fake_label)
            + _bce(d["xx"](_pair(x, x))[1], real_label) + _bce(d["xx"](_pair(x, rec_x))[1], fake_label)
            + _bce(d["zz"](_pair(z, z))[1], real_label) + _bce(d["zz"](_pair(z, rec_z))[1], fake_label)
        )

    def d_loss(self, x: Tensor) -> Tensor:
        for p in self.g_parameters():
            p.requires_grad_(False)
        try:
            return self._terms(x, 1.0)
        finally:
            for p in self.g_parameters():
                p.requires_grad_(True)

    def g_loss(self, x: Tensor) -> Tensor:
        return self._terms(x, 0.0)  # G and E play with flipped labels (non-saturating)

    @torch.no_grad()
    def score(self, x: Tensor, seed: int = 0) -> tuple[Tensor, Tensor]:
        rec = self.generator(self.encoder(x))
        f_real = self.disc["xx"](_pair(x, x))[0]
        f_rec = self.disc["xx"](_pair(x, rec))[0]
        return (f_real - f_rec).abs().mean(dim=1), x - rec


class AnoGAN(DetectorModel):
    """AnoGAN: a plain GAN; scoring searches the latent space for each sample from the best of
    ``search_starts`` seeded codes (see module doc): a sample's score does not depend on its batch."""

    method = "anogan"

    def __init__(self, shape: Sequence[int], latent: int, hidden: int, lam: float = 0.1,
                 search_steps: int = 200, search_lr: float = 0.05, search_starts: int = 16) -> None:
        super().__init__(shape, latent, hidden)
        if int(search_starts) < 1:
            raise GanforgeError(f"anogan search_starts {search_starts}: give at least 1 starting code (default 16)")
        self.generator = Decoder(shape, latent, hidden)
        self.disc = Discriminator(shape, hidden)
        self.lam = lam
        self.search_steps = search_steps
        self.search_lr = search_lr
        self.search_starts = int(search_starts)

    def scoring_options(self) -> dict[str, float | int | str]:
        # every setting of the search and of L(z): a later default must not change how a saved detector scores
        return {"lam": self.lam, "search_steps": self.search_steps, "search_lr": self.search_lr,
                "search_starts": self.search_starts}

    def d_loss(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            fake = self.generator(torch.randn(x.shape[0], self.latent))
        return _bce(self.disc(x)[1], 1.0) + _bce(self.disc(fake)[1], 0.0)

    def g_loss(self, x: Tensor) -> Tensor:
        return _bce(self.disc(self.generator(torch.randn(x.shape[0], self.latent)))[1], 1.0)

    def _search_nets(self) -> tuple[nn.Module, nn.Module]:
        """float64 copies of G and D (frozen, in this model's train / eval mode) for the latent search."""
        generator, disc = copy.deepcopy(self.generator).double(), copy.deepcopy(self.disc).double()
        for p in [*generator.parameters(), *disc.parameters()]:
            p.requires_grad_(False)
        return generator, disc

    def _loss(self, nets: tuple[nn.Module, nn.Module], x: Tensor, z: Tensor, f_x: Tensor) -> tuple[Tensor, Tensor]:
        """L(z) per sample (module doc) with ``nets`` = (G, D), and G(z)."""
        generator, disc = nets
        fake = generator(z)
        f_fake = disc(fake)[0]
        per = (1 - self.lam) * _per_sample_mean((x - fake).abs()) + self.lam * (f_x - f_fake).abs().mean(dim=1)
        return per, fake

    @torch.no_grad()
    def starting_codes(self, x: Tensor, seed: int = 0) -> Tensor:
        """z_0(x) = argmin_k L_x(c_k) over the K = ``search_starts`` codes c_k ~ N(0, I) drawn from ``seed``
        (the same codes for every sample and batch; on a tie the first); float64, as the search."""
        nets = self._search_nets()
        x = x.double()
        f_x = nets[1](x)[0]
        codes = torch.randn(self.search_starts, self.latent, generator=torch.Generator().manual_seed(seed))
        codes = codes.double()
        n = x.shape[0]
        best = torch.full((n,), math.inf, dtype=torch.float64)
        index = torch.zeros(n, dtype=torch.long)
        for k in range(self.search_starts):
            per, _ = self._loss(nets, x, codes[k].expand(n, -1).contiguous(), f_x)
            better = per < best
            best = torch.where(better, per, best)
            index = torch.where(better, torch.full_like(index, k), index)
        return codes[index]

    def score(self, x: Tensor, seed: int = 0) -> tuple[Tensor, Tensor]:
        """A(x) = L(z*) after ``search_steps`` Adam steps from :meth:`starting_codes`, and x - G(z*).

        The search runs in float64 on copies of G and D: matrix products of another batch size round
        float32 differently (about 1e-7), and 200 steps on the L1 terms, whose gradient flips sign with a
        residual's, grew that to up to 7 % of a well reconstructed sample's score (300 rows of the tests' blobs,
        2,000 training steps; median 6e-7); in float64 every row scored alone agreed with its score in the batch
        to about 1e-14 (equal once rounded to float32). Scores and residuals come back in x's dtype."""
        nets = self._search_nets()
        x64 = x.double()
        with torch.no_grad():
            f_x = nets[1](x64)[0]
        z = self.starting_codes(x, seed).requires_grad_(True)
        opt = torch.optim.Adam([z], lr=self.search_lr)
        with torch.enable_grad():
            for _ in range(self.search_steps):
                per, _ = self._loss(nets, x64, z, f_x)
                opt.zero_grad(set_to_none=True)
                per.sum().backward()  # samples are independent: the sum's gradient is each sample's own
                opt.step()  # Adam's moments are per coordinate: no sample's step depends on another's
        with torch.no_grad():
            per, fake = self._loss(nets, x64, z, f_x)
        return per.to(x.dtype), (x64 - fake).to(x.dtype)


def build_model(method: str, shape: Sequence[int], latent: int | None = None, hidden: int | None = None,
                **options: float | int | str) -> DetectorModel:
    """The detector network for ``method`` on samples of ``shape`` (sizes default from the shape)."""
    classes = {"ganomaly": GANomaly, "egbad": EGBAD, "alad": ALAD, "anogan": AnoGAN}
    if method not in classes:
        raise GanforgeError(
            f"unknown anomaly method '{method}'{did_you_mean(method, METHODS)}; choose one of {', '.join(METHODS)}"
        )
    cls = classes[method]
    accepted = [name for name in inspect.signature(cls).parameters if name not in ("shape", "latent", "hidden")]
    for name in options:
        if name not in accepted:
            raise GanforgeError(f"anomaly method '{method}' has no option '{name}'{did_you_mean(name, accepted)}; "
                                f"its options: {', '.join(accepted) or 'none'}")
    return cls(shape, latent or default_latent(shape), hidden or default_hidden(shape), **options)


def train_model(model: DetectorModel, x: Tensor, steps: int, batch_size: int = 64, lr: float = 1e-3,
                seed: int = 0) -> list[float]:
    """Alternate one D update and one generator-side update per step on minibatches of ``x``
    (Adam, betas (0.5, 0.999)); returns the generator loss every 100 steps."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt_d = torch.optim.Adam(model.d_parameters(), lr=lr, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(model.g_parameters(), lr=lr, betas=(0.5, 0.999))
    model.train()
    n = x.shape[0]
    batch = min(batch_size, n)
    history: list[float] = []
    for step in range(steps):
        idx = torch.randint(0, n, (batch,), generator=gen)
        xb = x[idx]
        opt_d.zero_grad(set_to_none=True)
        model.d_loss(xb).backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        g = model.g_loss(xb)
        g.backward()
        opt_g.step()
        if step % 100 == 0:
            history.append(float(g.detach()))
    model.eval()
    return history
