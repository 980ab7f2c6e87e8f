"""Pictures of generated samples, chosen by the kind of data (extended by image and sequence modules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ganforge.report.plots import plot_real_vs_fake

if TYPE_CHECKING:
    from ganforge.runs import Run

PictureFn = Callable[["Run", Path], dict[str, str]]
PICTURES: dict[str, PictureFn] = {}


def register_pictures(*kinds: str) -> Callable[[PictureFn], PictureFn]:
    def wrap(fn: PictureFn) -> PictureFn:
        for kind in kinds:
            PICTURES[kind] = fn
        return fn

    return wrap


@register_pictures("numbers", "points")
def lowdim_pictures(run: Run, folder: Path) -> dict[str, str]:
    """Real vs generated: histogram (1-D) or scatter (2-D)."""
    real = run.real_data().real(2500, seed=2024).x
    fake = run.sample(2500)
    return {
        "real_vs_generated": str(
            plot_real_vs_fake(real, fake, folder / "real_vs_generated.png", run.config.name)
        )
    }


def import_kind_modules() -> None:
    """Import the kind-specific picture modules; they register themselves on import."""
    import importlib
    import importlib.util

    for module in ("image_pictures", "sequence_pictures", "family_pictures", "pair_pictures"):
        if importlib.util.find_spec(f"ganforge.report.{module}") is not None:
            importlib.import_module(f"ganforge.report.{module}")


def save_sample_pictures(run: Run, folder: Path) -> dict[str, str]:
    import_kind_modules()
    fn = PICTURES.get(run.data.kind)
    return fn(run, folder) if fn else {}


def save_samples_png(run: Run, n: int, path: Path, label: int | None = None, **options: object) -> Path:
    """A picture of ``n`` generated samples: scatter/histogram beside real data for numbers and points,
    a grid for images (registered by the image module). ``options`` go to ``run.sample`` (e.g. StyleGAN's
    ``truncation``, ``mix_styles``)."""
    from ganforge.errors import GanforgeError

    if not path.parent.exists():
        raise GanforgeError(f"output folder '{path.parent}' does not exist; create it first")
    if run.data.kind in ("numbers", "points"):
        real = run.real_data().real(n, seed=2024).x
        fake = run.sample(n, label=label, **options)
        return plot_real_vs_fake(real, fake, path, run.config.name)
    import_kind_modules()
    writer = SAMPLE_PNG.get(run.data.kind)
    if writer is None:
        raise GanforgeError(f"no picture is available for {run.data.kind} data; use .npy")
    return writer(with_sampling_options(run, options) if options else run, n, path, label)


def with_sampling_options(run: Run, options: dict[str, object]) -> Run:
    """A shallow copy of ``run`` whose ``sample`` always passes ``options``, so every picture writer
    honours them without knowing about them."""
    import copy

    bound = copy.copy(run)
    bound.sample = lambda n, label=None, **more: run.sample(n, label=label, **options, **more)  # type: ignore[method-assign]
    return bound


SAMPLE_PNG: dict[str, Callable[..., Path]] = {}
