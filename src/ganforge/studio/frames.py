"""What the studio draws, computed from a GAN at one moment of training ("a frame").

1-D/2-D data (GAN Lab's views, for any objective and the user's own data):

* ``real`` / ``fake``: a fixed set of real samples and the generator's output for a fixed set of latents
  (the same z every frame, so points move only because G changed);
* ``heat``: the discriminator over a grid covering the data: D(x) = sigmoid(logit) for objectives whose
  output is a probability (``probability``), else the critic's raw score;
* ``arrows``: the generator's gradient field: for fixed generated points x = G(z), the direction
  -dJ_G/dx in which the generator's loss pushes each point (the update G's parameters try to follow),
  in data units (x_data = x_model / scale + shift, so a step d in model units is d / scale in data units);
* ``manifold``: a grid of noise space (the first two latent dimensions; others 0) drawn through G: the
  warped grid shows how G folds and stretches its input space onto the data.

Sequences: a few real series and generated series from fixed latents. Tables and points with more than two
columns: per-column histograms of real vs generated values. Images are shown from the fixed-noise snapshots
the run writes (``samples/step-*.png``), not from frames.

Frames never touch training's random stream (fixed inputs drawn under a forked RNG) and run without
gradients except the arrows' input gradient, in eval mode, restoring the mode afterwards.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ganforge.sampling import names_in_info

HEAT_SIZE = 40  # heat-map cells per side (1-D: points on the curve)
N_POINTS = 400  # real and generated points drawn
N_ARROWS = 60  # generated points that carry a gradient arrow
MANIFOLD_LINES = 13  # grid lines per noise axis
MANIFOLD_POINTS = 25  # points per grid line
N_SERIES = 4
HIST_BINS = 30
MAX_COLUMNS = 12


def objective_label(gan: Any) -> str | None:
    """The name of the adversarial loss ``gan`` trains with, as the page's objective box shows it.

    A model with a swappable objective gives its name (``nonsaturating``, ``hinge``...); a model whose loss
    is built in (the table GAN's WGAN-GP) gives that, so a disabled box shows the run's own loss instead of
    the first objective in the list, which the run does not use. None when neither is known."""
    name = getattr(getattr(gan, "objective", None), "name", None)
    if isinstance(name, str):
        return name
    label = getattr(gan, "objective_label", None)  # a model whose loss is built in says which (TableGAN)
    return label if isinstance(label, str) else None


def view_of(kind: str, sample_shape: tuple[int, ...] | list[int]) -> str:
    """Which studio view a run gets: ``lowdim`` (1-D/2-D points), ``columns`` (tables, points with more
    than two columns), ``series`` (sequences), ``images`` (snapshots), ``none``."""
    shape = tuple(sample_shape)
    if kind in ("numbers", "points") and len(shape) == 1 and shape[0] <= 2:
        return "lowdim"
    if kind in ("numbers", "points", "table") and len(shape) == 1:
        return "columns"
    if kind == "sequences":
        return "series"
    if kind in ("images", "superres", "unpaired-images"):
        return "images"
    return "none"


def packed(x: Tensor) -> dict[str, Any]:
    """An array as ``{"shape": [...], "f32": base64 of little-endian float32}``: a frame's bulk travels as a
    few strings instead of thousands of Python floats (cheaper to build and encode, 4 bytes a value); the
    page unpacks it. Non-finite values become finite (a diverged model still draws)."""
    flat = torch.nan_to_num(x.detach().float().cpu(), nan=0.0, posinf=1e6, neginf=-1e6).contiguous()
    data = flat.numpy().astype("<f4", copy=False).tobytes()
    return {"shape": list(flat.shape), "f32": base64.b64encode(data).decode("ascii")}


def unpacked(value: Any) -> Any:
    """The inverse of :func:`packed` (for tests and Python readers of the event stream)."""
    import numpy as np

    if isinstance(value, dict) and "f32" in value:
        return np.frombuffer(base64.b64decode(value["f32"]), dtype="<f4").reshape(value["shape"]).tolist()
    return value


def _round(x: Tensor, digits: int = 4) -> list[Any]:
    return torch.nan_to_num(x.detach().float().cpu(), nan=0.0, posinf=1e6, neginf=-1e6).round(
        decimals=digits
    ).tolist()


@dataclass
class FrameMaker:
    """Fixed inputs of one run's frames (chosen once) and the function that draws a frame."""

    gan: Any
    scaler: Any
    kind: str
    sample_shape: tuple[int, ...]
    real: Tensor  # real samples in data units
    seed: int = 0
    info: dict[str, Any] | None = None  # the data description's info: its CSV column names title the 1-D / 2-D axes

    def __post_init__(self) -> None:
        self.view = view_of(self.kind, self.sample_shape)
        self.z: Tensor | None = None
        self.labels: Tensor | None = None
        self.bounds: list[list[float]] = []
        if self.view == "lowdim":
            x = self.real.float()
            lo, hi = x.quantile(0.005, dim=0), x.quantile(0.995, dim=0)
            pad = (hi - lo).clamp(min=1e-3) * 0.25
            self.bounds = [[float(a), float(b)] for a, b in zip(lo - pad, hi + pad, strict=True)]

    # --- fixed inputs ---------------------------------------------------------------------------------
    def _inputs(self, device: torch.device) -> tuple[Tensor, Tensor | None]:
        if self.z is None:
            n = {"lowdim": N_POINTS, "columns": 2000, "series": N_SERIES}.get(self.view, N_POINTS)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed + 4099)
                self.z = self.gan.sample_latents(n).detach().cpu()
                if getattr(self.gan, "num_classes", None) is not None:
                    self.labels = torch.arange(n) % self.gan.num_classes
        labels = None if self.labels is None else self.labels.to(device)
        return self.z.to(device), labels

    def init_message(self) -> dict[str, Any]:
        """What the page needs once: the view, bounds, and the real data it draws."""
        msg: dict[str, Any] = {"view": self.view, "bounds": self.bounds, "kind": self.kind,
                               "sample_shape": list(self.sample_shape)}
        objective = getattr(self.gan, "objective", None)
        msg["probability"] = bool(getattr(objective, "probability_outputs", False))
        msg["objective"] = objective_label(self.gan)
        if self.view == "lowdim":
            msg["real"] = _round(self.real[:N_POINTS])
            msg["axes"] = names_in_info(self.info, len(self.bounds))  # x0, x1, ... without a CSV header
        elif self.view == "series":
            msg["real"] = _round(self.real[:N_SERIES])
        return msg

    # --- a frame ------------------------------------------------------------------------------------
    def frame(self, step: int) -> dict[str, Any]:
        gan = self.gan
        was_training = gan.training
        gan.eval()
        try:
            with torch.random.fork_rng(devices=[]):
                if self.view == "lowdim":
                    body = self._lowdim()
                elif self.view == "series":
                    body = self._series()
                elif self.view == "columns":
                    body = self._columns()
                else:
                    body = {}
        finally:
            gan.train(was_training)
        objective = getattr(gan, "objective", None)
        return {"step": step, "view": self.view, "probability": bool(getattr(objective, "probability_outputs", False)),
                **body}

    def _device(self) -> torch.device:
        return next(self.gan.parameters()).device

    def _to_data(self, x: Tensor) -> Tensor:
        return self.scaler.to_data(x.float()).cpu()

    def _score(self, logits: Tensor) -> Tensor:
        objective = getattr(self.gan, "objective", None)
        if objective is not None and objective.probability_outputs:
            return torch.sigmoid(logits)
        return logits

    def _lowdim(self) -> dict[str, Any]:
        device = self._device()
        gan = self.gan
        z, y = self._inputs(device)
        dim = self.sample_shape[0]
        with torch.no_grad():
            fake_model = gan.generate(z, y)
        fake = self._to_data(fake_model)
        out: dict[str, Any] = {"fake": packed(fake)}
        can_judge = hasattr(gan, "discriminate") and getattr(gan, "objective", None) is not None
        if can_judge and y is None:  # a conditional D has a surface per class; it is not drawn
            out.update(self._surface(dim, device))
            out["arrows"] = self._arrows(fake_model[:N_ARROWS])
        out["manifold"] = self._manifold(device)
        return out

    def _grid(self, dim: int) -> Tensor:
        """Grid points in data units, row-major over (y, x) for 2-D."""
        axes = [torch.linspace(lo, hi, HEAT_SIZE) for lo, hi in self.bounds]
        if dim == 1:
            return axes[0][:, None]
        gy, gx = torch.meshgrid(axes[1], axes[0], indexing="ij")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)

    def _surface(self, dim: int, device: torch.device) -> dict[str, Any]:
        grid = self._grid(dim)
        with torch.no_grad():
            logits = self.gan.discriminate(self.scaler.to_model(grid).to(device))
        scores = self._score(logits.reshape(grid.shape[0], -1).mean(dim=1))
        return {"heat": packed(scores), "heat_size": HEAT_SIZE}

    def _arrows(self, fake_model: Tensor) -> dict[str, Any]:
        """[x, y, dx, dy] (2-D) or [x, dx] (1-D) per point: -dJ_G/dx in data units, unnormalized."""
        gan = self.gan
        x = fake_model.detach().clone().requires_grad_(True)
        params = list(gan.discriminator.parameters()) if hasattr(gan, "discriminator") else []
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            with torch.enable_grad():
                loss = gan.objective.generator(gan.discriminate(x))
                (grad,) = torch.autograd.grad(loss * x.shape[0], x)  # per-sample gradients of the mean loss
        except RuntimeError:
            return packed(torch.zeros(0, 2 * fake_model.shape[1]))
        finally:
            for p, flag in zip(params, flags, strict=True):
                p.requires_grad_(flag)
        scale = self.scaler.scale.to(grad.device).reshape(-1)
        move = (-grad / scale).cpu()
        pos = self._to_data(x.detach())
        return packed(torch.cat([pos, move], dim=1))

    def _manifold(self, device: torch.device) -> dict[str, Any]:
        """Grid lines of the first two latent axes through G: a list of polylines in data units."""
        gan = self.gan
        noise = getattr(gan, "noise", None)
        shape = tuple(getattr(noise, "shape", ()))
        if len(shape) != 1:
            return packed(torch.zeros(0, MANIFOLD_POINTS, 2))
        kind = getattr(noise, "kind", "normal")
        lim = 2.0 if kind == "normal" else 1.0
        along = torch.linspace(-lim, lim, MANIFOLD_POINTS)
        if getattr(self, "_grid_z", None) is None:  # the same noise grid every frame
            ticks = torch.linspace(-lim, lim, MANIFOLD_LINES)
            lines = []
            axes = min(2, shape[0])
            for axis in range(axes):
                for t in ticks if axes == 2 else ticks[:1]:
                    z = torch.zeros(MANIFOLD_POINTS, shape[0])
                    z[:, axis] = along
                    if axes == 2:
                        z[:, 1 - axis] = t
                    lines.append(z)
            self._grid_z = torch.cat(lines)
        z = self._grid_z.to(device)
        y = None
        if getattr(gan, "num_classes", None) is not None:
            y = torch.zeros(z.shape[0], dtype=torch.long, device=device)
        with torch.no_grad():
            pts = self._to_data(gan.generate(z, y))
        if self.sample_shape[0] == 1:  # 1-D: the map z -> G(z) itself
            pts = torch.cat([along[:, None].repeat(pts.shape[0] // MANIFOLD_POINTS, 1), pts], dim=1)
        return packed(pts.reshape(-1, MANIFOLD_POINTS, pts.shape[1]))

    def _series(self) -> dict[str, Any]:
        device = self._device()
        z, y = self._inputs(device)
        with torch.no_grad():
            fake = self._to_data(self.gan.generate(z, y))
        return {"fake": packed(fake[:N_SERIES])}

    def _columns(self) -> dict[str, Any]:
        device = self._device()
        z, y = self._inputs(device)
        with torch.no_grad():
            fake = self._to_data(self.gan.generate(z, y)).reshape(z.shape[0], -1)
        real = self.real.float().reshape(self.real.shape[0], -1)
        transformer = getattr(self.gan, "transformer", None)
        if self.kind == "table" and transformer is not None:  # the table's own columns, not its encoding
            return {"columns": table_columns(transformer, real.numpy(), fake.cpu().numpy())}
        columns = []
        names = names_in_info(self.info, real.shape[1])  # a CSV's header (x0, x1, ... without one)
        for j in range(min(real.shape[1], MAX_COLUMNS)):
            lo, hi = float(real[:, j].min()), float(real[:, j].max())
            if not math.isfinite(lo) or not math.isfinite(hi):
                continue
            hi = hi if hi > lo else lo + 1.0
            edges = torch.linspace(lo, hi, HIST_BINS + 1)
            r = torch.histc(real[:, j], HIST_BINS, lo, hi) / max(1, real.shape[0])
            f = torch.histc(fake[:, j].clamp(lo, hi), HIST_BINS, lo, hi) / max(1, fake.shape[0])
            columns.append({"name": names[j], "edges": _round(edges), "real": _round(r), "fake": _round(f)})
        return {"columns": columns}


def table_columns(transformer: Any, real_rows: Any, fake_rows: Any) -> list[dict[str, Any]]:
    """Real and generated distributions of a table's columns (decoded from the GAN's encoding): a bar per
    category for categorical and boolean columns (named in the caption, missing as "(missing)"), a histogram
    over the real range for numbers. Ids and datetimes are left out; at most ``MAX_COLUMNS``."""
    import numpy as np

    from ganforge.data.tables import DISCRETE_KINDS

    real, fake = transformer.inverse(real_rows), transformer.inverse(fake_rows)
    out: list[dict[str, Any]] = []
    for col in transformer.columns:
        if col.kind in ("id", "datetime") or len(out) >= MAX_COLUMNS:
            continue
        if col.kind in DISCRETE_KINDS:
            names = ["(missing)" if c is None else str(c) for c in col.categories]

            def shares(values: Any, names: list[str] = names) -> list[float]:
                text = values.map(lambda v: "(missing)" if v is None or v != v else str(v))
                counts = text.value_counts(normalize=True)
                return [round(float(counts.get(name, 0.0)), 4) for name in names]

            out.append({"name": f"{col.name}: {', '.join(names)}", "edges": list(range(len(names) + 1)),
                        "real": shares(real[col.name]), "fake": shares(fake[col.name])})
            continue
        r = np.asarray(real[col.name], dtype=np.float64)
        f = np.asarray(fake[col.name], dtype=np.float64)
        r, f = r[np.isfinite(r)], f[np.isfinite(f)]
        if not len(r):
            continue
        lo, hi = float(r.min()), float(r.max())
        hi = hi if hi > lo else lo + 1.0
        edges = np.linspace(lo, hi, HIST_BINS + 1)
        hist_r = np.histogram(r, edges)[0] / max(1, len(r))
        hist_f = np.histogram(np.clip(f, lo, hi), edges)[0] / max(1, len(f))
        out.append({"name": col.name, "edges": np.round(edges, 4).tolist(), "real": np.round(hist_r, 4).tolist(),
                    "fake": np.round(hist_f, 4).tolist()})
    return out
