"""``ganforge fid A B``: the Fréchet distance between two sets of images, with A's noise floor.

A and B are each a folder of pictures (PNG, JPEG, ...; searched recursively when it has one sub-folder
per class, as ``ganforge sample RUN -o folder/`` writes them), a ``.npy`` array or a ``.npz``
archive holding an ``images`` array (or a single array) ``(N, H, W)``, ``(N, H, W, C)`` or
``(N, C, H, W)`` (uint8, or floats in [0, 1]): what ``ganforge sample RUN -o x.npz`` writes. A is
the reference: the noise floor is the FID between two disjoint random halves of A, and
``fid_matched`` repeats the FID of B at the floor's sample sizes.

``--per-class`` adds intra-FID (Miyato and Koyama 2018): the FID of each class of B against the same class
of A, averaged over the classes, with a per-class floor. Classes come from the sub-folder names of a folder
with one sub-folder per class (what ``ganforge sample RUN -o folder/`` writes for a conditional run) or from
the ``labels`` array of a ``.npz`` (what ``ganforge sample RUN -o x.npz`` writes), and are matched by name
(a label 3 matches a sub-folder ``3``).

``--features``: ``digits`` (the shipped digits classifier; 1-channel images, or each channel of
3-channel stacked digits), ``photo`` (the shipped offline photo features, labelled ``photo-offline``),
``inception`` (Inception-v3 from ``GANFORGE_INCEPTION_WEIGHTS``; the only choice comparable with published
FIDs), or a file (Inception weights, or a user network saved with ``torch.export`` / TorchScript — a program,
loaded only with ``--trust-code``). ``auto`` (default): Inception when its weights are set, else digits for
1-channel images, else the offline photo features.

Gray pictures saved with three equal channels (R = G = B) are read as gray, so they compare with a gray set.
A set too small for the distance to mean much (fewer than ``FEW_IMAGES`` per half of A) is measured with a
note saying so: the floor and the FID of a few images are mostly sampling noise.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ganforge.cli import SIZE_RANGE, register_command
from ganforge.errors import GanforgeError

if TYPE_CHECKING:  # torch is imported when the command runs, so `ganforge --help` stays fast
    import torch

ARRAY_SUFFIXES = (".npy", ".npz")
FEW_IMAGES = 50  # per half of A: below it the floor (and any FID) is mostly the sampling noise of a few images


def read_image_array(path: Path) -> tuple[torch.Tensor, list[str] | None]:
    """Images ``(N, C, H, W)`` in [0, 1] from a ``.npy`` array or a ``.npz`` archive (its ``images`` array,
    or its only array), and the class of each image when the archive has ``images`` and ``labels`` (else None):
    a label's name, as ``ganforge augment`` writes them (string labels as given; class ids through the archive's
    ``class_names`` when it has them), else the id as text."""
    import numpy as np
    import torch

    from ganforge.data.files import read_array
    from ganforge.data.image_files import _to_nchw
    from ganforge.data.images import to_unit_range

    labels = None
    if path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                names = list(getattr(archive, "files", []))
                if "images" in names:
                    array = archive["images"]
                    labels = _class_of_each(archive, path, len(array))
        except GanforgeError:
            raise
        except Exception:  # noqa: BLE001 - read_array below words the error
            names = []
        if len(names) > 1 and "images" not in names:
            raise GanforgeError(
                f"{path}: no array named 'images' (it holds {', '.join(names)}); save the images under 'images'"
            )
        if "images" not in names:
            array = read_array(path)
    else:
        array = read_array(path)
    if array.dtype.kind not in "biuf":
        raise GanforgeError(f"{path}: holds {array.dtype} values; images must be numbers")
    array = _to_nchw(array, "auto", path)
    if array.shape[0] == 0 or array.shape[1] not in (1, 3):
        raise GanforgeError(f"{path}: expected (N, H, W) or N images of 1 or 3 channels, got shape {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(to_unit_range(array, str(path)))), labels


def _class_of_each(archive: Any, path: Path, n: int) -> list[str] | None:
    """The class name of each of ``n`` images from an archive's ``labels`` (names, or whole-number ids read
    through ``class_names`` when present), or None without labels; a one-line error for labels of another
    length or of fractional numbers."""
    import numpy as np

    if "labels" not in archive.files:
        return None
    labels = archive["labels"]
    if labels.ndim != 1 or len(labels) != n:
        raise GanforgeError(f"{path}: 'labels' must hold one class per image ({n}), got shape {labels.shape}")
    if labels.dtype.kind in "US":
        return [str(v) for v in labels]
    if labels.dtype.kind not in "biuf" or not np.all(labels == np.round(labels)):
        raise GanforgeError(f"{path}: 'labels' must be class ids or names, got {labels.dtype} values")
    ids = labels.astype(np.int64)
    names = archive["class_names"] if "class_names" in archive.files else None
    if names is not None and names.ndim == 1 and len(ids) and ids.min() >= 0 and ids.max() < len(names):
        return [str(names[i]) for i in ids]
    return [str(int(i)) for i in ids]


def read_image_set(path: Path, size: int | None = None) -> torch.Tensor:
    """Images ``(N, C, H, W)`` in [0, 1] from a folder of pictures or a ``.npz`` with an ``images`` array.

    Pictures keep their size unless ``size`` is given (centre crop to a square, then resize); a folder
    whose pictures differ in size or colour needs ``size`` / is made RGB.
    """
    return read_labelled_image_set(path, size)[0]


def read_labelled_image_set(path: Path, size: int | None = None) -> tuple[torch.Tensor, list[str] | None]:
    """:func:`read_image_set` and each image's class name: its sub-folder's name in a folder with one
    sub-folder per class, its ``labels`` value in a ``.npz``; None for a flat folder or an unlabelled array."""
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
        x, labels = read_image_array(path)
        return (x if size is None else resize_images(x, size)), labels
    files, label_codes, class_names = scan_folder(path)
    pictures = [read_image(f, size) for f in files]
    shapes = {tuple(p.shape[1:]) for p in pictures}
    if len(shapes) > 1:
        raise GanforgeError(
            f"images in '{path}' have different sizes ({', '.join(f'{h}x{w}' for h, w in sorted(shapes)[:3])}); "
            "pass --size N to crop and resize them all to N x N"
        )
    color = any(p.shape[0] == 3 for p in pictures)
    names = None if label_codes is None else [class_names[k] for k in label_codes]
    return torch.stack([set_channels(p.unsqueeze(0), not color)[0] for p in pictures]), names


def choose_features(spec: str, channels: int, trust_code: bool = False) -> torch.nn.Module:
    """``auto``: Inception when its weights are available, else digits for 1-channel images. A program
    file (TorchScript / torch.export) loads only with ``trust_code``."""
    from ganforge.evaluation.image_suite import inception_weights_available, resolve_feature_spec

    if spec == "auto" and channels == 1 and not inception_weights_available():
        spec = "digits"
    return resolve_feature_spec(spec, channels, trust_code=trust_code)


def as_gray_if_equal_channels(images: torch.Tensor) -> torch.Tensor:
    """``images`` (N, 3, H, W) whose three channels are equal in every picture (gray pictures saved as RGB)
    as (N, 1, H, W); anything else as it is. Such a set is gray, and compares with a gray one."""
    if images.shape[1] != 3 or not (bool((images[:, 0] == images[:, 1]).all())
                                    and bool((images[:, 0] == images[:, 2]).all())):
        return images
    return images[:, :1]


def class_codes(a: Path, a_names: list[str] | None, b: Path, b_names: list[str] | None) -> tuple[list[int], list[int]]:
    """Integer labels for two sets' class names, one code per name over both sets; a one-line error when a set
    has no classes or the two share none."""
    for path, names in ((a, a_names), (b, b_names)):
        if names is None:
            raise GanforgeError(
                f"--per-class needs the class of every image; {path} has none: give a folder with one sub-folder "
                "per class, or a .npz with a 'labels' array (as `ganforge sample RUN -o x.npz` writes)"
            )
    assert a_names is not None and b_names is not None
    shared = sorted(set(a_names) & set(b_names))
    if not shared:
        listed = ", ".join(sorted(set(a_names))[:5]), ", ".join(sorted(set(b_names))[:5])
        raise GanforgeError(
            f"{a} and {b} share no class (A: {listed[0]}; B: {listed[1]}); classes are matched by name"
        )
    codes = {name: k for k, name in enumerate(sorted(set(a_names) | set(b_names)))}
    return [codes[n] for n in a_names], [codes[n] for n in b_names]


def fid_between(
    a: Path,
    b: Path,
    features: str = "auto",
    size: int | None = None,
    trust_code: bool = False,
    per_class: bool = False,
) -> dict[str, object]:
    """FID of image set ``b`` against reference set ``a``, with ``a``'s noise floor (see the module doc); with
    ``per_class`` also intra-FID, class by class, with its per-class floor."""
    import torch

    from ganforge.evaluation.image_suite import image_report

    (ref, a_names), (other, b_names) = read_labelled_image_set(a, size), read_labelled_image_set(b, size)
    ref, other = as_gray_if_equal_channels(ref), as_gray_if_equal_channels(other)
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
    if not per_class:
        return {"a": str(a), "b": str(b), **image_report(ref, other, ["fid"], net, reference=str(a))}
    a_codes, b_codes = class_codes(a, a_names, b, b_names)
    report = image_report(
        ref,
        other,
        ["fid", "intra_fid"],
        net,
        reference=str(a),
        real_labels=torch.tensor(a_codes),
        fake_labels=torch.tensor(b_codes),
    )
    assert a_names is not None and b_names is not None  # class_codes raised otherwise
    return {"a": str(a), "b": str(b), **report, "intra_fid_left_out": classes_left_out(a_names, b_names)}


def classes_left_out(a_names: list[str], b_names: list[str]) -> dict[str, str]:
    """Each class intra-FID could not score, and why: only in one set, or fewer images than a class needs
    (``INTRA_FID_MIN_IMAGES`` in B, twice that in A, which is split in halves for the floor)."""
    from ganforge.evaluation.image_metrics import INTRA_FID_MIN_IMAGES

    a_count, b_count = Counter(a_names), Counter(b_names)
    reasons = {}
    for name in sorted(set(a_count) | set(b_count)):
        if name not in b_count:
            reasons[name] = "only in A"
        elif name not in a_count:
            reasons[name] = "only in B"
        elif a_count[name] < 2 * INTRA_FID_MIN_IMAGES or b_count[name] < INTRA_FID_MIN_IMAGES:
            reasons[name] = f"{a_count[name]} in A, {b_count[name]} in B"
    return reasons


@register_command()
def fid(
    a: Annotated[Path, typer.Argument(help="reference images: a folder, a .npy, or a .npz ('images' array)")],
    b: Annotated[Path, typer.Argument(help="images to compare: a folder, a .npy or a .npz")],
    features: Annotated[
        str, typer.Option("--features", help="auto, digits, photo, inception, or a weights / exported-network file")
    ] = "auto",
    size: Annotated[
        Optional[int], typer.Option("--size", **SIZE_RANGE, help="crop and resize pictures to SIZE x SIZE")  # noqa: UP045
    ] = None,
    per_class: Annotated[
        bool, typer.Option("--per-class", help="also intra-FID: each class of B against the same class of A "
                           "(class sub-folders, or a .npz 'labels' array), averaged")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    trust_code: Annotated[
        bool, typer.Option("--trust-code", help="run a TorchScript / torch.export feature file (a program: it can "
                           "run any code; only for files you made or trust)")
    ] = False,
) -> None:
    """Fréchet distance between two image sets, beside the noise floor of the first (A vs A)."""
    result = fid_between(a, b, features, size, trust_code, per_class)
    if int(result["noise_floor_n"]) < FEW_IMAGES:
        print(f"note: the floor compares {result['noise_floor_n']} images with {result['noise_floor_n']}; at so few "
              f"images the floor and the FID are mostly sampling noise (give A at least {2 * FEW_IMAGES} images; "
              "published FIDs use thousands)", file=sys.stderr)
    if as_json:
        print(json.dumps(result))
        return
    print(
        f"FID {result['fid']:.4g}  (noise floor {result['fid_noise_floor']:.4g}: two disjoint random samples of A, "
        f"{result['noise_floor_n']} images each; B at that size: {result['fid_matched']:.4g})"
    )
    if per_class:
        print(
            f"intra-FID {result['intra_fid']:.4g} over {result['n_intra_fid_classes']} classes  (per-class noise "
            f"floor {result['intra_fid_noise_floor']:.4g}; B at the floor's sizes: {result['intra_fid_matched']:.4g})"
        )
        left_out = result["intra_fid_left_out"]
        if left_out:
            from ganforge.evaluation.image_metrics import INTRA_FID_MIN_IMAGES

            listed = "; ".join(f"{name} ({why})" for name, why in list(left_out.items())[:8])
            more = f"; and {len(left_out) - 8} more" if len(left_out) > 8 else ""
            print(f"classes left out of intra-FID: {listed}{more} (a class needs {INTRA_FID_MIN_IMAGES} images in B "
                  f"and {2 * INTRA_FID_MIN_IMAGES} in A)")
    print(f"{result['features']} features; A: {result['n_real']} images ({a}), B: {result['n_fake']} images ({b})")
