"""``ganforge fid A B``: the Fréchet distance between two sets of images, with A's noise floor.

A and B are each a folder of pictures (PNG, JPEG, ...; searched recursively when it has one sub-folder
per class, as ``ganforge sample RUN -o folder/`` writes them), a ``.npy`` array or a ``.npz``
archive holding an ``images`` array (or a single array) ``(N, H, W)``, ``(N, H, W, C)`` or
``(N, C, H, W)`` (uint8, or floats in [0, 1]): what ``ganforge sample RUN -o x.npz`` writes. A is
the reference: the noise floor is the FID between two disjoint random halves of A, and
``fid_matched`` repeats the FID of B at the floor's sample sizes.

``--features``: ``digits`` (the shipped digits classifier; 1-channel images, or each channel of
3-channel stacked digits), ``inception`` (Inception-v3 from ``GANFORGE_INCEPTION_WEIGHTS``; the only
choice comparable with published FIDs), or a file (Inception weights, or a user network saved with
``torch.export`` / TorchScript — a program, loaded only with
``--trust-code``). ``auto`` (default): Inception when its weights are set, else digits
for 1-channel images, else an error saying how to get Inception.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ganforge.cli import SIZE_RANGE, register_command
from ganforge.errors import GanforgeError

if TYPE_CHECKING:  # torch is imported when the command runs, so `ganforge --help` stays fast
    import torch

ARRAY_SUFFIXES = (".npy", ".npz")


def read_image_array(path: Path) -> torch.Tensor:
    """Images ``(N, C, H, W)`` in [0, 1] from a ``.npy`` array or a ``.npz`` archive (its ``images`` array,
    or its only array)."""
    import numpy as np
    import torch

    from ganforge.data.files import read_array
    from ganforge.data.image_files import _to_nchw, images_npz
    from ganforge.data.images import to_unit_range

    if path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                names = list(getattr(archive, "files", []))
        except Exception:  # noqa: BLE001 - read_array below words the error
            names = []
        if "images" in names:
            return images_npz(str(path)).x
        if len(names) > 1:
            raise GanforgeError(
                f"{path}: no array named 'images' (it holds {', '.join(names)}); save the images under 'images'"
            )
    array = read_array(path)
    if array.dtype.kind not in "biuf":
        raise GanforgeError(f"{path}: holds {array.dtype} values; images must be numbers")
    array = _to_nchw(array, "auto", path)
    if array.shape[0] == 0 or array.shape[1] not in (1, 3):
        raise GanforgeError(f"{path}: expected (N, H, W) or N images of 1 or 3 channels, got shape {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(to_unit_range(array, str(path))))


def read_image_set(path: Path, size: int | None = None) -> torch.Tensor:
    """Images ``(N, C, H, W)`` in [0, 1] from a folder of pictures or a ``.npz`` with an ``images`` array.

    Pictures keep their size unless ``size`` is given (centre crop to a square, then resize); a folder
    whose pictures differ in size or colour needs ``size`` / is made RGB.
    """
    import torch

    from ganforge.data.image_files import read_image, scan_folder
    from ganforge.data.images import resize_images, set_channels

    if not path.exists():
        raise GanforgeError(f"'{path}' does not exist; give a folder of images, a .npy or a .npz of images")
    if path.is_file():
        if path.suffix.lower() not in ARRAY_SUFFIXES:
            raise GanforgeError(
                f"'{path}' is not a .npy/.npz array or a folder; fid reads folders of images, .npy and .npz files"
            )
        x = read_image_array(path)
        return x if size is None else resize_images(x, size)
    files, _, _ = scan_folder(path)
    pictures = [read_image(f, size) for f in files]
    shapes = {tuple(p.shape[1:]) for p in pictures}
    if len(shapes) > 1:
        raise GanforgeError(
            f"images in '{path}' have different sizes ({', '.join(f'{h}x{w}' for h, w in sorted(shapes)[:3])}); "
            "pass --size N to crop and resize them all to N x N"
        )
    color = any(p.shape[0] == 3 for p in pictures)
    return torch.stack([set_channels(p.unsqueeze(0), not color)[0] for p in pictures])


def choose_features(spec: str, channels: int, trust_code: bool = False) -> torch.nn.Module:
    """``auto``: Inception when its weights are available, else digits for 1-channel images. A program
    file (TorchScript / torch.export) loads only with ``trust_code``."""
    from ganforge.evaluation.image_suite import inception_weights_available, resolve_feature_spec

    if spec == "auto" and channels == 1 and not inception_weights_available():
        spec = "digits"
    return resolve_feature_spec(spec, channels, trust_code=trust_code)


def fid_between(
    a: Path, b: Path, features: str = "auto", size: int | None = None, trust_code: bool = False
) -> dict[str, object]:
    """FID of image set ``b`` against reference set ``a``, with ``a``'s noise floor (see the module doc)."""
    from ganforge.evaluation.image_suite import image_report

    ref, other = read_image_set(a, size), read_image_set(b, size)
    if ref.shape[1] != other.shape[1]:
        raise GanforgeError(
            f"{a} holds {ref.shape[1]}-channel images and {b} {other.shape[1]}-channel ones; "
            "compare gray with gray and colour with colour"
        )
    if len(ref) < 4 or len(other) < 2:
        raise GanforgeError(
            f"need at least 4 reference images and 2 others; got {len(ref)} in {a} and {len(other)} in {b}"
        )
    net = choose_features(features, int(ref.shape[1]), trust_code)
    report = image_report(ref, other, ["fid"], net, reference=str(a))
    return {"a": str(a), "b": str(b), **report}


@register_command()
def fid(
    a: Annotated[Path, typer.Argument(help="reference images: a folder, a .npy, or a .npz ('images' array)")],
    b: Annotated[Path, typer.Argument(help="images to compare: a folder, a .npy or a .npz")],
    features: Annotated[
        str, typer.Option("--features", help="auto, digits, inception, or a weights / exported-network file")
    ] = "auto",
    size: Annotated[
        Optional[int], typer.Option("--size", **SIZE_RANGE, help="crop and resize pictures to SIZE x SIZE")  # noqa: UP045
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    trust_code: Annotated[
        bool, typer.Option("--trust-code", help="run a TorchScript / torch.export feature file (a program: it can "
                           "run any code; only for files you made or trust)")
    ] = False,
) -> None:
    """Fréchet distance between two image sets, beside the noise floor of the first (A vs A)."""
    result = fid_between(a, b, features, size, trust_code)
    if as_json:
        print(json.dumps(result))
        return
    print(
        f"FID {result['fid']:.4g}  (noise floor {result['fid_noise_floor']:.4g}: two random halves of A, "
        f"{result['noise_floor_n']} images each; B at that size: {result['fid_matched']:.4g})"
    )
    print(f"{result['features']} features; A: {result['n_real']} images ({a}), B: {result['n_fake']} images ({b})")
