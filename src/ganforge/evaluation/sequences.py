"""TimeGAN's metrics for synthetic sequences (Yoon, Jarrett and van der Schaar, NeurIPS 2019).

* **Discriminative score**: a post-hoc GRU classifier (hidden width ``dim // 2``, final state -> linear
  -> logit) is trained to tell real from synthetic sequences on 80% of each set (Adam, binary cross
  entropy, ``iterations`` steps of ``batch_size`` real plus ``batch_size`` synthetic sequences) and tested
  on the other 20%; the score is ``|accuracy - 0.5|`` (0 = indistinguishable, 0.5 = fully separable).
* **Predictive score** ("train on synthetic, test on real"): a GRU (hidden width ``dim // 2``, per-step
  linear -> sigmoid head) is trained on the synthetic set to predict the last feature one step ahead from
  the other features, ``x[t + 1, -1] ~ f(x[1..t, :-1])``, with an L1 loss; the score is its mean absolute
  error on the real set (lower is better).
* **Embedding plot**: each sequence averaged over its features becomes a point in R^T, projected to 2-D
  with PCA (fitted on the real set) or t-SNE (on both sets together).

Both scores follow the official TensorFlow code (``metrics/*.py`` in jsyoon0823/TimeGAN): network sizes,
TensorFlow's initialisation (Glorot-uniform kernels, GRU gate biases 1), Adam with its defaults, batches
drawn as a fresh random subset each step, and the official iteration counts as defaults. Scores vary from
run to run; the paper reports mean and standard deviation over 10 repeats
(:func:`discriminative_score_repeats`, :func:`predictive_score_repeats`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.nets.recurrent import RecurrentNet

ArrayLike = torch.Tensor | np.ndarray


def _as_sequences(data: ArrayLike, name: str) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(data.detach().cpu() if isinstance(data, torch.Tensor) else data))
    if x.dim() != 3:
        raise GanforgeError(f"{name} sequences have shape {tuple(x.shape)}; expected 3-D (N, T, F)")
    if min(x.shape) < 1:
        raise GanforgeError(
            f"{name} sequences have shape {tuple(x.shape)}; every axis needs at least one entry"
        )
    x = x.float()
    if not torch.isfinite(x).all():
        raise GanforgeError(f"{name} sequences contain NaN or inf values; metrics need finite numbers")
    return x


def _pair(real: ArrayLike, fake: ArrayLike, normalize: bool | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate both sets and bring them into TimeGAN's [0, 1] units when they are not there already.

    TimeGAN computes its metrics on min-max normalised data (its loaders scale every feature into [0, 1]
    and its predictor ends in a sigmoid). ``normalize=None`` applies the real set's per-feature min-max
    (pooled over samples and steps) to both sets only when the real set leaves [0, 1]; ``True`` always,
    ``False`` never. Data already in [0, 1] (e.g. the sine benchmark) is used as is, as in the paper.
    """
    r, f = _as_sequences(real, "real"), _as_sequences(fake, "synthetic")
    if r.shape[1:] != f.shape[1:]:
        raise GanforgeError(
            f"real sequences are (T, F) = {tuple(r.shape[1:])} but synthetic ones {tuple(f.shape[1:])}; "
            "they must match"
        )
    if normalize is None:
        normalize = bool(r.min() < 0 or r.max() > 1)
    if normalize:
        flat = r.reshape(-1, r.shape[-1])
        lo, hi = flat.amin(0), flat.amax(0)
        width = hi - lo + 1e-7  # TimeGAN's MinMaxScaler guard against constant features
        r, f = (r - lo) / width, (f - lo) / width
    return r, f


def _hidden_width(dim: int, hidden: int | None) -> int:
    """TimeGAN's ``int(dim / 2)``, at least 1 (the official code breaks on one feature)."""
    return max(1, int(dim / 2)) if hidden is None else int(hidden)


def _glorot_(tensor: torch.Tensor, fan_in: int, fan_out: int, generator: torch.Generator) -> None:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        tensor.uniform_(-limit, limit, generator=generator)


def _tensorflow_init_(net: RecurrentNet, generator: torch.Generator) -> None:
    """Initialise a one-layer GRU + head as TensorFlow 1's ``GRUCell`` and ``fully_connected`` do.

    TF's GRU holds one Glorot-uniform kernel for both gates, shape (in + H, 2H), and one for the
    candidate, (in + H, H); gate biases start at 1 (gates open: keep the state), candidate biases at 0.
    The dense head is Glorot-uniform with zero bias.
    """
    gru = net.rnn
    h, n_in = net.hidden_dim, net.input_dim
    for weight in (gru.weight_ih_l0, gru.weight_hh_l0):  # row blocks of TF's joint (in + H) kernels
        _glorot_(weight[: 2 * h], n_in + h, 2 * h, generator)  # reset and update gates
        _glorot_(weight[2 * h :], n_in + h, h, generator)  # candidate
    with torch.no_grad():
        gru.bias_ih_l0.zero_()
        gru.bias_hh_l0.zero_()
        gru.bias_ih_l0[: 2 * h].fill_(1.0)
    _glorot_(net.head.weight, net.head.in_features, net.head.out_features, generator)
    with torch.no_grad():
        net.head.bias.zero_()


def _gru(
    input_dim: int, hidden: int, output_activation: str | None, generator: torch.Generator
) -> RecurrentNet:
    # torch's default initialisation draws from the global RNG; fork it so that scoring in the middle of
    # training leaves the training run's random stream untouched
    with torch.random.fork_rng(devices=[]):
        net = RecurrentNet(input_dim, hidden, 1, cell="gru", output_activation=output_activation)
    _tensorflow_init_(net, generator)
    return net


def _split(n: int, rng: np.random.Generator, train_rate: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """TimeGAN's ``train_test_divide``: a random permutation, the first ``int(n * rate)`` for training."""
    idx = rng.permutation(n)
    cut = int(n * train_rate)
    return idx[:cut], idx[cut:]


def _minibatch(indices: np.ndarray, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """TimeGAN's ``batch_generator``: the first ``batch_size`` of a fresh permutation (no replacement)."""
    return indices[rng.permutation(len(indices))[:batch_size]]


def _train_classifier(
    net: RecurrentNet,
    logits: Callable[[torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    r: torch.Tensor,
    f: torch.Tensor,
    train_r: np.ndarray,
    train_f: np.ndarray,
    iterations: int,
    batch_size: int,
    rng: np.random.Generator,
) -> None:
    """``iterations`` Adam steps on ``BCE(D(x_real), 1) + BCE(D(x_fake), 0)``, fresh minibatches each step."""
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(iterations):
        xb_r = r[_minibatch(train_r, batch_size, rng)]
        xb_f = f[_minibatch(train_f, batch_size, rng)]
        # one pass over both halves (same result as two, fewer kernel launches); the two losses stay
        # separate means, as TimeGAN's d_loss_real + d_loss_fake
        lr_, lf_ = logits(torch.cat([xb_r, xb_f])).split([len(xb_r), len(xb_f)])
        loss = loss_fn(lr_, torch.ones_like(lr_)) + loss_fn(lf_, torch.zeros_like(lf_))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def discriminative_score(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    iterations: int = 2000,
    batch_size: int = 128,
    hidden: int | None = None,
    seed: int = 0,
    normalize: bool | None = None,
) -> float:
    """TimeGAN's discriminative score ``|accuracy - 0.5|`` of a post-hoc GRU classifier (0 is best).

    ``real`` (N, T, F) and ``fake`` (M, T, F). Each set is split 80/20; the classifier (hidden width
    ``hidden``, default ``F // 2``) trains ``iterations`` Adam steps on
    ``BCE(D(x_real), 1) + BCE(D(x_fake), 0)`` and is scored by its accuracy, threshold 0.5, on both test
    parts together.
    """
    r, f = _pair(real, fake, normalize)
    if len(r) < 2 or len(f) < 2:
        raise GanforgeError(
            "discriminative score needs at least 2 real and 2 synthetic sequences (for its 80/20 split)"
        )
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    net = _gru(r.shape[-1], _hidden_width(r.shape[-1], hidden), None, gen)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def logits(x: torch.Tensor) -> torch.Tensor:
        _, last = net.features(x)
        return net.head(last).squeeze(-1)

    train_r, test_r = _split(len(r), rng)
    train_f, test_f = _split(len(f), rng)
    net.train()
    with torch.enable_grad():  # callers may score inside no_grad (evaluation during training)
        _train_classifier(net, logits, optimizer, r, f, train_r, train_f, int(iterations), batch_size, rng)
    net.eval()
    with torch.no_grad():
        correct_real = (torch.sigmoid(logits(r[test_r])) > 0.5).sum().item()
        correct_fake = (torch.sigmoid(logits(f[test_f])) <= 0.5).sum().item()
    accuracy = (correct_real + correct_fake) / (len(test_r) + len(test_f))
    return float(abs(accuracy - 0.5))


def predictive_score(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    iterations: int = 5000,
    batch_size: int = 128,
    hidden: int | None = None,
    seed: int = 0,
    normalize: bool | None = None,
) -> float:
    """TimeGAN's predictive score: MAE on real data of a GRU trained on synthetic data (lower is better).

    The predictor reads features ``0 .. F-2`` at steps ``1 .. T-1`` and outputs, through a sigmoid, the
    last feature at steps ``2 .. T``; it trains ``iterations`` Adam steps on the mean absolute error over
    synthetic batches and is scored by the per-sequence MAE averaged over all real sequences. With a
    single feature (where the official code has no inputs) it predicts that feature from its own past.
    Needs T >= 2.
    """
    r, f = _pair(real, fake, normalize)
    if r.shape[1] < 2:
        raise GanforgeError(
            "predictive score needs sequences of at least 2 steps (it predicts one step ahead)"
        )
    dim = r.shape[-1]
    inputs = slice(0, dim - 1) if dim > 1 else slice(0, 1)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    net = _gru(inputs.stop, _hidden_width(dim, hidden), "sigmoid", gen)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def split_xy(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x[:, :-1, inputs], x[:, 1:, dim - 1 :]

    all_f = np.arange(len(f))
    net.train()
    with torch.enable_grad():  # callers may score inside no_grad (evaluation during training)
        for _ in range(int(iterations)):
            x_in, y_true = split_xy(f[_minibatch(all_f, batch_size, rng)])
            loss = (net(x_in) - y_true).abs().mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    net.eval()
    with torch.no_grad():
        x_in, y_true = split_xy(r)
        per_sequence = (net(x_in) - y_true).abs().mean(dim=(1, 2))
    return float(per_sequence.mean())


def _repeat(
    score: Callable[..., float], real: ArrayLike, fake: ArrayLike, repeats: int, seed: int, **kwargs: object
) -> tuple[float, float]:
    if int(repeats) < 1:
        raise GanforgeError(f"repeats must be at least 1, got {repeats}")
    values = np.array([score(real, fake, seed=seed + i, **kwargs) for i in range(int(repeats))])
    return float(values.mean()), float(values.std())


def discriminative_score_repeats(
    real: ArrayLike, fake: ArrayLike, *, repeats: int = 10, seed: int = 0, **kwargs: object
) -> tuple[float, float]:
    """Mean and (population) standard deviation of :func:`discriminative_score` over seeds ``seed + i``."""
    return _repeat(discriminative_score, real, fake, repeats, seed, **kwargs)


def predictive_score_repeats(
    real: ArrayLike, fake: ArrayLike, *, repeats: int = 10, seed: int = 0, **kwargs: object
) -> tuple[float, float]:
    """Mean and (population) standard deviation of :func:`predictive_score` over seeds ``seed + i``."""
    return _repeat(predictive_score, real, fake, repeats, seed, **kwargs)


def embedding_plot(
    real: ArrayLike,
    fake: ArrayLike,
    path: str | Path,
    method: Literal["pca", "tsne"] = "pca",
    *,
    max_samples: int = 1000,
    seed: int = 0,
) -> Path:
    """Save TimeGAN's PCA / t-SNE scatter of real and generated sequences as a PNG, in the colours and names
    of every other ganforge plot (real: matplotlib's C0 blue, generated: C1 orange; TimeGAN's own figures
    use red "Original" / blue "Synthetic").

    Up to ``max_samples`` sequences of each set are drawn, each reduced to its per-step mean over
    features, a point in R^T. PCA is fitted on the real points and applied to both; t-SNE (perplexity 40,
    300 iterations, as the official code) embeds both sets together. Returns the written path.
    """
    from matplotlib.figure import Figure
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    if method not in ("pca", "tsne"):
        raise GanforgeError(f"embedding plot method '{method}' is unknown; choose 'pca' or 'tsne'")
    r, f = _pair(real, fake, normalize=False)
    rng = np.random.default_rng(seed)
    n = min(int(max_samples), len(r), len(f))
    if n < 2:
        raise GanforgeError("an embedding plot needs at least 2 real and 2 synthetic sequences")
    points_r = r[rng.permutation(len(r))[:n]].mean(dim=2).numpy()
    points_f = f[rng.permutation(len(f))[:n]].mean(dim=2).numpy()
    if method == "pca":
        pca = PCA(n_components=min(2, points_r.shape[1]), random_state=seed).fit(points_r)
        emb_r, emb_f = pca.transform(points_r), pca.transform(points_f)
        title, axis = "PCA plot", "pca"
    else:
        both = np.concatenate([points_r, points_f])
        perplexity = float(min(40, max(1, (len(both) - 1) // 3)))  # t-SNE needs perplexity < samples
        tsne = TSNE(n_components=2, perplexity=perplexity, max_iter=300, random_state=seed)
        emb = tsne.fit_transform(both)
        emb_r, emb_f = emb[:n], emb[n:]
        title, axis = "t-SNE plot", "tsne"
    if emb_r.shape[1] == 1:  # one time step: a single principal axis
        emb_r = np.concatenate([emb_r, np.zeros_like(emb_r)], axis=1)
        emb_f = np.concatenate([emb_f, np.zeros_like(emb_f)], axis=1)
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.scatter(emb_r[:, 0], emb_r[:, 1], c="C0", alpha=0.2, label="real")  # the colours of report/plots.py
    ax.scatter(emb_f[:, 0], emb_f[:, 1], c="C1", alpha=0.2, label="generated")
    ax.legend(markerscale=2)
    ax.set_title(title)
    ax.set_xlabel(f"x-{axis}")
    ax.set_ylabel(f"y-{axis}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=100)
    return out
