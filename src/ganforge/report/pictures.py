"""Pictures of generated samples, chosen by the kind of data.

Two registries, filled in any module of ``ganforge.report`` (found by scanning the package):
``@register_pictures(kind)`` for the end-of-run pictures ``fn(run, folder) -> {name: path}``, and
``@register_samples_png(kind)`` for ``ganforge sample --png`` writers ``fn(run, n, path, label) -> path``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ganforge.registry import Registry
from ganforge.report.plots import plot_real_vs_fake

if TYPE_CHECKING:
    from ganforge.runs import Run

PictureFn = Callable[["Run", Path], dict[str, str]]
SamplesPngFn = Callable[["Run", int, Path, "int | None"], Path]
PICTURES = Registry("picture set", "ganforge.report")
SAMPLE_PNG = Registry("samples picture", "ganforge.report")


def register_pictures(*kinds: str) -> Callable[[PictureFn], PictureFn]:
    """Decorator: ``fn(run, folder) -> {name: path}`` draws the end-of-run pictures of each of ``kinds``."""
    return PICTURES.register(*kinds)


def register_samples_png(*kinds: str) -> Callable[[SamplesPngFn], SamplesPngFn]:
    """Decorator: ``fn(run, n, path, label) -> path`` draws ``n`` generated samples of each of ``kinds``."""
    return SAMPLE_PNG.register(*kinds)


@register_pictures("numbers", "points")
def lowdim_pictures(run: Run, folder: Path) -> dict[str, str]:
    """Real vs generated: histogram (1-D) or scatter (2-D)."""
    real = run.real_data().real(2500, seed=2024).x
    fake = run.sample(2500)
    return {
        "real_vs_generated": str(
            plot_real_vs_fake(real, fake, folder / "real_vs_generated.png", run.config.name, _names(run))
        )
    }


def _names(run: Run) -> list[str]:
    """The data's column names (a user's CSV header), else ``x0, x1, ...``: the plots' axis labels."""
    from ganforge.sampling import column_names

    return column_names(run, int(run.data_info.sample_shape[0]))


def save_sample_pictures(run: Run, folder: Path) -> dict[str, str]:
    fn = PICTURES.get(run.data_info.kind, None)
    return fn(run, folder) if fn else {}


@register_samples_png("numbers", "points")
def lowdim_samples_png(run: Run, n: int, path: Path, label: int | None = None) -> Path:
    """Generated samples beside real data: histogram (1-D) or scatter (2-D)."""
    real = run.real_data().real(n, seed=2024).x
    fake = run.sample(n, label=label)
    return plot_real_vs_fake(real, fake, path, run.config.name, _names(run))


def save_samples_png(run: Run, n: int, path: Path, label: int | None = None, **options: object) -> Path:
    """A picture of ``n`` generated samples: scatter/histogram beside real data for numbers and points,
    a grid for images (registered by the image module). ``options`` go to ``run.sample`` (e.g. StyleGAN's
    ``truncation``, ``mix_styles``)."""
    from ganforge.errors import GanforgeError

    if not path.parent.exists():
        raise GanforgeError(f"output folder '{path.parent}' does not exist; create it first")
    writer = SAMPLE_PNG.get(run.data_info.kind, None)
    if writer is None:
        formats = ".csv" if run.data_info.kind == "table" else ".csv, .npy or .npz"
        raise GanforgeError(f"no picture is available for {run.data_info.kind} data; write {formats}")
    return writer(with_sampling_options(run, options) if options else run, n, path, label)


def with_sampling_options(run: Run, options: dict[str, object]) -> Run:
    """A shallow copy of ``run`` whose ``sample`` always passes ``options``, so every picture writer
    honours them without knowing about them."""
    import copy

    bound = copy.copy(run)
    bound.sample = lambda n, label=None, **more: run.sample(n, label=label, **options, **more)  # type: ignore[method-assign]
    return bound
