"""Image evaluation of a run: FID, intra-FID, KID, IS, PRDC, conditional accuracy and stacked-digit modes.

Registered as the evaluator of data kind ``"images"`` (``ganforge eval RUN``, ``run.evaluate()``, the
end-of-training summary and the periodic evaluation during training all land here). Every number comes
with what it was computed on, because that is what makes two FIDs comparable:

* ``features``: the feature network (``digits``, ``digits-per-channel``, ``inception`` or a user's);
* ``n_fake`` / ``n_real`` / ``reference``: how many generated and real images, and which real ones;
* a reference value computed on real data in place of the generated images: ``fid_noise_floor``
  (mean ± ``fid_noise_floor_std`` of the FID between two disjoint random halves of the real set,
  ``noise_floor_n`` images each, over 10 splits — one split alone varies by about a quarter),
  ``kid_noise_floor`` (one split: KID already averages 100 subsets), ``is_real``, ``precision_real`` ...
  ``coverage_real`` (real half vs real half, averaged over the first 3 of those splits),
  ``conditional_accuracy_real`` (the classifier on labelled real images) and ``modes_real`` / ``kl_real``
  (the mode count of as many real stacked digits as generated ones).

A conditional run also gets ``intra_fid`` (Miyato and Koyama 2018): each class's FID, its generated images
against the real images of that class, averaged over classes, with ``intra_fid_noise_floor`` and
``intra_fid_matched`` built per class as the FID's are below; a generator that draws the wrong class for its
label keeps its FID and loses its intra-FID.

``fid`` uses all ``n_fake`` generated and all ``n_real`` real images. The floor compares sets of
``noise_floor_n``; since FID's finite-sample bias grows as sets shrink, ``fid_matched`` repeats the model's FID
with the floor's sizes (real half A of each split vs ``noise_floor_n`` generated images drawn at random for that
split, seeded, averaged over the same splits): ``fid_matched`` against ``fid_noise_floor ± fid_noise_floor_std``
is the like-for-like comparison. PRDC depends on the sample sizes too (its k-NN balls shrink as a set grows), so
``precision_matched`` ... ``coverage_matched`` are the model's PRDC on the same splits and sizes as
``precision_real`` ... ``coverage_real``; ``diagnose`` judges ``precision_matched``.

Feature network (``eval.features``): ``auto`` picks the shipped digits classifier for 1-channel digits,
the same classifier applied to each channel (features concatenated) for 3-channel stacked digits, and
Inception-v3 when its weights are available (``GANFORGE_INCEPTION_WEIGHTS``), else, for other gray or
RGB pictures, the shipped offline photo features (``photo``, recorded as ``photo-offline``: ranks models
of the same data, not comparable with published Inception FIDs; no Inception Score). ``digits``,
``photo``, ``inception``, a file of Inception weights or a TorchScript feature network may be named.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.evaluation.image_metrics import (
    compute_features,
    frechet_distance,
    inception_score,
    intra_fid_classes,
    intra_frechet_distance,
    kernel_inception_distance,
    precision_recall_density_coverage,
    random_halves,
)
from ganforge.evaluation.stacked import count_stacked_modes
from ganforge.evaluation.suite import register_evaluator
from ganforge.nets.features import (
    INCEPTION_ENV,
    INCEPTION_URL,
    DigitsClassifier,
    FeatureNetwork,
    InceptionFeatures,
    feature_name,
    load_digits_classifier,
)

if TYPE_CHECKING:
    from ganforge.runs import Run

DIGIT_SOURCES = frozenset({"digits"})
STACKED_SOURCES = frozenset({"stacked-digits"})
METRICS = ("fid", "intra_fid", "kid", "is", "prdc", "conditional_accuracy", "modes")
FEATURE_METRICS = ("fid", "intra_fid", "kid", "is", "prdc")  # the ones that look through the feature network
PRDC_NAMES = ("precision", "recall", "density", "coverage")
ALIASES = {
    **{name: "prdc" for name in PRDC_NAMES},
    "acc": "conditional_accuracy",
    "accuracy": "conditional_accuracy",
    "kl": "modes",
    "inception_score": "is",
    "intra-fid": "intra_fid",
    "intrafid": "intra_fid",
}
REAL_SEED = 2024  # which real images form the reference set (the low-dimensional evaluator's seed too)
SPLIT_SEED = 0  # which halves of it form the noise floor, which subsets KID draws
PRDC_K = 5
KID_SUBSETS, KID_SUBSET_SIZE = 100, 1000
IS_SPLITS = 10
FLOOR_SPLITS = 10  # random half-splits averaged for the FID noise floor and fid_matched
# the first 3 of those splits for PRDC's floor and its matched twins: one split's precision floor varies by ~0.01
# (digits), and each split costs two k-NN passes, half a full PRDC each (10,000 images: 10 s, not 33 s, for 3)
PRDC_FLOOR_SPLITS = 3


# --------------------------------------------------------------------------------------------------
# Feature networks
# --------------------------------------------------------------------------------------------------


class ChannelwiseDigits(FeatureNetwork):
    """The digits classifier applied to each channel of a C-channel image (stacked digits).

    Features: the C per-channel 64-d feature vectors concatenated, ``(N, 64 C)``. Logits: the joint
    log-probability of the 10^C digit combinations under independent channels,
    ``log p(d_0, ..., d_{C-1}) = sum_c log softmax(logits_c)[d_c]``, indexed ``sum_c d_c 10^(C-1-c)``
    (for C = 3 the stacked-digits mode ``100 d_0 + 10 d_1 + d_2``). A softmax of these returns the
    joint probabilities, so they serve the Inception Score and classification (argmax = per-channel
    argmaxes) alike.
    """

    name = "digits-per-channel"

    def __init__(self, digits: DigitsClassifier, channels: int = 3) -> None:
        super().__init__()
        if not 1 <= channels <= 4:
            raise GanforgeError(f"ChannelwiseDigits handles 1 to 4 channels (10^C classes); got {channels}")
        self.digits, self.channels = digits, channels
        self.num_features = digits.num_features * channels

    def _per_channel(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != self.channels:
            raise GanforgeError(
                f"{self.name} expects images (N, {self.channels}, H, W) in [0, 1]; got {tuple(images.shape)}"
            )
        n = images.shape[0]
        return images.reshape(n * self.channels, 1, *images.shape[-2:])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Per-channel features concatenated, ``(N, 64 C)``."""
        return self.digits(self._per_channel(images)).reshape(images.shape[0], -1)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Joint log-probabilities of the ``10^C`` digit combinations, ``(N, 10^C)``."""
        logp = torch.log_softmax(self.digits.logits(self._per_channel(images)), dim=1)
        logp = logp.reshape(images.shape[0], self.channels, -1)
        joint = logp[:, 0]
        for c in range(1, self.channels):
            joint = (joint[:, :, None] + logp[:, c][:, None, :]).reshape(images.shape[0], -1)
        return joint


def inception_weights_available() -> bool:
    """Whether ``GANFORGE_INCEPTION_WEIGHTS`` names an existing file."""
    given = os.environ.get(INCEPTION_ENV)
    return bool(given) and Path(given).expanduser().is_file()


class ExportedFeatures(nn.Module):
    """A ``torch.export`` program (or a TorchScript module) as a feature network. The program is kept out of
    the module tree: it refuses ``.eval()`` / ``.train()`` (its graph was traced in whatever mode it was
    exported in — export feature networks in eval mode), and the metrics code switches modes around every call."""

    def __init__(self, program: nn.Module) -> None:
        super().__init__()
        object.__setattr__(self, "_program", program)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        try:
            return self._program(images)
        except Exception as err:  # noqa: BLE001 - a program's own failure (a shape guard...): one line
            detail = (str(err).strip().splitlines() or [type(err).__name__])[-1][:160]
            raise GanforgeError(
                f"feature network {getattr(self, 'name', 'file')} failed on images {tuple(images.shape)} "
                f"({detail}); export it for these image sizes with a dynamic batch dimension"
            ) from None


def load_feature_file(path: str | os.PathLike[str], trust_code: bool = False) -> nn.Module:
    """A feature network from a file, called on images in [0, 1] and returning ``(N, d)``.

    * a ``torch.export`` program (``torch.export.save``, usually ``.pt2``; export it with a dynamic batch
      dimension so any batch size runs) or a TorchScript module (``torch.jit.save``) — a user's own
      network, with no Python code to import. Both are programs, so they load only with ``trust_code``
      (``--trust-code``, ``eval.trust_code``), and an export archive is inspected first
      (:mod:`ganforge.programs`: nothing in it is unpickled unrestricted);
    * anything else is read as the FID Inception-v3 weights (``.pth`` / ``.safetensors``, no code runs).
    """
    from ganforge.programs import archive_kind, check_export_archive, load_exported_program, load_torchscript

    file = Path(path).expanduser()
    if not file.is_file():
        raise GanforgeError(
            f"feature network file '{file}' does not exist; use digits, inception, an exported "
            "(torch.export / TorchScript) network or the Inception weights file"
        )
    kind = archive_kind(file)
    if kind is None:
        return InceptionFeatures(path=file)
    if kind == "export":
        check_export_archive(file)  # a poisoned archive is named as such, trusted or not
        if not trust_code:
            from ganforge.programs import refuse_untrusted

            refuse_untrusted(file, "feature network", trust_code)
        net: nn.Module = ExportedFeatures(load_exported_program(file, trust_code=True).module())
    else:
        net = ExportedFeatures(load_torchscript(file, trust_code=trust_code))
    net.name = file.stem  # type: ignore[attr-defined]  # recorded beside every number
    return net


def check_feature_file(spec: str, trust_code: bool) -> None:
    """Before training: a feature file named in ``eval.features`` that the end-of-run evaluation would refuse
    (missing, a poisoned archive, a program without ``trust_code``) is refused now, before anything is
    trained or written. Cheap: no network is built."""
    from ganforge.programs import archive_kind, check_export_archive, refuse_untrusted

    if spec in BUILTIN_SPECS or not (os.sep in spec or "/" in spec or Path(spec).suffix):
        return
    file = Path(spec).expanduser()
    if not file.is_file():
        raise GanforgeError(f"eval.features: feature network file '{file}' does not exist")
    kind = archive_kind(file)
    if kind == "export":
        check_export_archive(file)
    if kind is not None:
        refuse_untrusted(file, "feature network", trust_code)


BUILTIN_SPECS = ("auto", "digits", "photo", "inception")


def resolve_feature_spec(
    spec: str | nn.Module, channels: int, data_name: str = "", trust_code: bool = False
) -> nn.Module:
    """The feature network for ``spec`` on images with ``channels`` channels from data ``data_name``.

    ``"auto"``: digits classifier for 1-channel ``digits`` data, per-channel digits for 3-channel
    ``stacked-digits``, else Inception when ``GANFORGE_INCEPTION_WEIGHTS`` is set, else the offline photo
    features for 1- or 3-channel pictures (an error saying how to get Inception otherwise). ``"digits"``:
    the classifier (per channel for 3-channel images). ``"photo"``: the offline photo features. ``"inception"``:
    Inception-v3 from the environment's weights. A path: :func:`load_feature_file` (programs only with
    ``trust_code``). A module: itself.
    """
    if isinstance(spec, nn.Module):
        return spec
    if spec == "auto":
        if channels == 1 and data_name in DIGIT_SOURCES:
            return load_digits_classifier()
        if channels == 3 and data_name in STACKED_SOURCES:
            return ChannelwiseDigits(load_digits_classifier(), 3)
        if inception_weights_available():
            return InceptionFeatures()
        if channels in (1, 3) and not os.environ.get(INCEPTION_ENV):  # set but missing: say so below
            return _photo_features()  # offline default, labelled "photo-offline" beside every number
        what = f"{channels}-channel images" + (f" of '{data_name}'" if data_name else "")
        raise GanforgeError(
            f"no feature network for {what}: FID/KID/IS/PRDC need Inception-v3 weights — download "
            f"{INCEPTION_URL} and set {INCEPTION_ENV}=/path/to/it (or eval.features=PATH / --features PATH); "
            "for digit-like gray images eval.features=digits uses the shipped digits classifier"
        )
    if spec == "photo":
        return _photo_features()
    if spec == "digits":
        if channels == 1:
            return load_digits_classifier()
        if channels == 3:
            return ChannelwiseDigits(load_digits_classifier(), 3)
        raise GanforgeError(f"the digits classifier reads 1-channel (or 3 stacked) images; got {channels} channels")
    if spec == "inception":
        return InceptionFeatures()
    if os.sep in spec or "/" in spec or Path(spec).suffix:
        return load_feature_file(spec, trust_code)
    raise GanforgeError(
        f"unknown feature network '{spec}'; use auto, digits, photo, inception, or a path to Inception weights "
        "or a TorchScript module"
    )


def _photo_features() -> nn.Module:
    from ganforge.nets.photo_features import PhotoEvalFeatures

    return PhotoEvalFeatures()


def label_classifier(data_name: str, channels: int) -> FeatureNetwork | None:
    """The classifier whose classes are the data's labels, for conditional accuracy: the digits CNN for
    ``digits`` (labels are the digits), per-channel digits for ``stacked-digits`` (labels are modes)."""
    if data_name in DIGIT_SOURCES and channels == 1:
        return load_digits_classifier()
    if data_name in STACKED_SOURCES and channels == 3:
        return ChannelwiseDigits(load_digits_classifier(), 3)
    return None


# --------------------------------------------------------------------------------------------------
# Metrics on two image sets
# --------------------------------------------------------------------------------------------------


def parse_metrics(names: list[str] | tuple[str, ...]) -> list[str]:
    """Canonical metric names (``precision`` -> ``prdc``, ``kl`` -> ``modes``, ...), in order, once each."""
    out: list[str] = []
    for raw in names:
        name = ALIASES.get(raw.strip().lower(), raw.strip().lower())
        if name not in METRICS:
            from ganforge.errors import did_you_mean

            raise GanforgeError(
                f"metric '{raw}' does not apply to images{did_you_mean(raw, [*METRICS, *ALIASES])}; "
                f"available: {', '.join(METRICS)}"
            )
        if name not in out:
            out.append(name)
    return out


@torch.no_grad()
def _logits(net: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    call = net.logits if isinstance(net, FeatureNetwork) else net
    out = [call(images[i : i + batch_size]).detach().cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out).double()


def _mean_std(values: list[float]) -> tuple[float, float]:
    t = torch.tensor(values, dtype=torch.float64)
    return float(t.mean()), float(t.std(unbiased=False))


def image_report(
    real: torch.Tensor,
    fake: torch.Tensor,
    metrics: list[str] | tuple[str, ...] = ("fid", "kid", "is", "prdc"),
    features: nn.Module | str = "digits",
    *,
    reference: str = "real",
    real_labels: torch.Tensor | None = None,
    fake_labels: torch.Tensor | None = None,
    classifier: FeatureNetwork | None = None,
    seed: int = SPLIT_SEED,
) -> dict[str, Any]:
    """Image metrics of ``fake`` against ``real`` (both ``(N, C, H, W)`` in [0, 1]) as one flat dict.

    ``metrics`` from :data:`METRICS`: ``fid``, ``kid`` (mean and std over 100 subsets of up to 1000),
    ``is`` (10 splits), ``prdc`` (k = 5), ``conditional_accuracy`` (fraction of ``fake`` that
    ``classifier`` assigns to ``fake_labels``; needs both) and ``modes`` (stacked digits: modes hit and KL
    to uniform). Noise floors and real-data reference values are described in the module docstring;
    ``seed`` picks the floor's halves and KID's subsets.
    """
    wanted = parse_metrics(metrics)
    needs_features = any(name in wanted for name in FEATURE_METRICS)
    net = resolve_feature_spec(features, int(real.shape[1])) if needs_features else None
    if "is" in wanted and not isinstance(net, FeatureNetwork):
        raise GanforgeError(
            f"the Inception Score needs class logits; feature network {feature_name(net)} has no logits method"
        )
    fake = fake.detach().float().clamp(0.0, 1.0)
    real = real.detach().float()
    n_real, n_fake = len(real), len(fake)
    m = min(n_fake, n_real // 2)
    report: dict[str, Any] = {
        "features": feature_name(net) if net is not None else None,
        "n_fake": n_fake,
        "n_real": n_real,
        "reference": reference,
    }
    if any(name in wanted for name in ("fid", "intra_fid", "kid", "prdc")):
        least = max(2, PRDC_K + 1 if "prdc" in wanted else 2)
        if m < least:
            short = (f"the real data holds {n_real} images; a noise floor needs at least {2 * least} (add pictures)"
                     if n_real // 2 < least else f"{n_fake} generated images; use at least {least} (--n)")
            raise GanforgeError(f"too few images for a noise floor: {short}")
        assert net is not None
        real_f = compute_features(net, real)
        fake_f = compute_features(net, fake)
        a, b = random_halves(n_real, m, seed)
        report["noise_floor_n"] = m
        # m of the compared images at random, another m for each split (seeded), not the first m: a set read from
        # class sub-folders comes in class order, and its first m images would hold only the first classes; and one
        # subset alone moves fid_matched by about 0.5 on digits (2.6-3.9 over five subsets of one run)
        subsets = [random_halves(n_fake, m, seed + r)[0] for r in range(FLOOR_SPLITS)]  # indices; copied when used
        if "fid" in wanted:
            report["fid"] = frechet_distance(real_f, fake_f)
            floors, matched = [], []
            for r in range(FLOOR_SPLITS):  # one split's floor varies by ~25% (digits, 500 per half)
                ha, hb = random_halves(n_real, m, seed + r)
                floors.append(frechet_distance(real_f[ha], real_f[hb]))
                matched.append(frechet_distance(real_f[ha], fake_f[subsets[r]]))
            report["fid_noise_floor"], report["fid_noise_floor_std"] = _mean_std(floors)
            report["fid_matched"] = _mean_std(matched)[0]
        if "intra_fid" in wanted:
            if real_labels is None or fake_labels is None:
                raise GanforgeError(
                    "intra-FID needs a conditional model (model.conditional: true) trained on labelled images"
                )
            report.update(intra_frechet_distance(real_f, real_labels, fake_f, fake_labels, FLOOR_SPLITS, seed))
        if "kid" in wanted:
            kid = kernel_inception_distance(real_f, fake_f, KID_SUBSETS, KID_SUBSET_SIZE, seed=seed)
            report["kid"], report["kid_std"] = kid
            floor = kernel_inception_distance(real_f[a], real_f[b], KID_SUBSETS, KID_SUBSET_SIZE, seed=seed)
            report["kid_noise_floor"] = floor[0]
            report["kid_subsets"], report["kid_subset_size"] = KID_SUBSETS, min(KID_SUBSET_SIZE, n_fake, n_real)
        if "prdc" in wanted:
            report.update(precision_recall_density_coverage(real_f, fake_f, PRDC_K))
            report.update(_matched_prdc(real_f, fake_f, subsets, seed))
            report["prdc_k"] = PRDC_K
    if "is" in wanted:
        report["is"], report["is_std"] = inception_score(_logits(net, fake), min(IS_SPLITS, n_fake))
        report["is_real"] = inception_score(_logits(net, real), min(IS_SPLITS, n_real))[0]
    if "conditional_accuracy" in wanted:
        if classifier is None or fake_labels is None:
            raise GanforgeError(
                "conditional accuracy needs a conditional model on labelled digits or stacked-digits data"
            )
        report["conditional_accuracy"] = _accuracy(classifier, fake, fake_labels)
        if real_labels is not None:
            report["conditional_accuracy_real"] = _accuracy(classifier, real, real_labels)
        report["classifier"] = feature_name(classifier)
    if "modes" in wanted:
        if fake.shape[1] != 3:
            raise GanforgeError(f"mode counting needs 3-channel stacked digits; these images have {fake.shape[1]}")
        digits = load_digits_classifier()
        counted = count_stacked_modes(fake, digits)
        reference_modes = count_stacked_modes(real[:n_fake], digits)
        report.update(modes=counted["modes"], kl=counted["kl"])
        report.update(modes_real=reference_modes["modes"], kl_real=reference_modes["kl"])
    return report


def _matched_prdc(
    real_f: torch.Tensor, fake_f: torch.Tensor, subsets: list[torch.Tensor], seed: int
) -> dict[str, float]:
    """PRDC's floor and the model's PRDC at the floor's sample sizes, each averaged over ``PRDC_FLOOR_SPLITS``.

    The k-NN balls shrink as their set grows and more of them cover the data, so PRDC against all ``n_real`` real
    images is not on the scale of a floor measured between two sets of ``m``; which way it moves depends on how
    the samples sit off the data (the default digits GAN: precision 0.87 against all 1,797 real digits, 0.90 at
    the floor's 898, floor 0.96). ``<name>_real`` is real half A vs real half B; ``<name>_matched`` is real half A
    vs ``fake_f[subsets[r]]`` (the floor's ``m`` of the generated images drawn at random for split ``r``, as for
    ``fid_matched``).
    """
    floors: dict[str, list[float]] = {name: [] for name in PRDC_NAMES}
    matched: dict[str, list[float]] = {name: [] for name in PRDC_NAMES}
    m = len(subsets[0])
    for r in range(PRDC_FLOOR_SPLITS):
        ha, hb = random_halves(len(real_f), m, seed + r)
        for store, other in ((floors, real_f[hb]), (matched, fake_f[subsets[r]])):
            for name, value in precision_recall_density_coverage(real_f[ha], other, PRDC_K).items():
                store[name].append(value)
    return {
        **{f"{name}_real": _mean_std(values)[0] for name, values in floors.items()},
        **{f"{name}_matched": _mean_std(values)[0] for name, values in matched.items()},
    }


def _accuracy(classifier: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    predicted = _logits(classifier, images).argmax(dim=1)
    return float((predicted == labels.cpu().long()).double().mean())


# --------------------------------------------------------------------------------------------------
# The evaluator of image runs
# --------------------------------------------------------------------------------------------------


def default_metrics(conditional: bool, data_name: str, channels: int) -> list[str]:
    """What an image run is evaluated on when no metrics are named."""
    names = ["fid", "kid", "is", "prdc"]
    if conditional:
        names.insert(1, "intra_fid")
    if conditional and label_classifier(data_name, channels) is not None:
        names.append("conditional_accuracy")
    if data_name in STACKED_SOURCES:
        names.append("modes")
    return names


def _reference_text(source: Any, n_real: int) -> str:
    total = len(source) if hasattr(source, "__len__") else None
    where = f"of its {total} training images" if total is not None else "fresh draws"  # not held out: say so
    return f"'{source.name}' data: {n_real} real images ({where}, seed {REAL_SEED})"


@register_evaluator("images")
def evaluate_images(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """Image metrics of ``run`` on ``n`` generated images against up to ``n`` real ones.

    With no ``metrics`` named, the defaults that apply (:func:`default_metrics`); when no feature
    network is available for them (``eval.features: auto``), the result says why under ``skipped`` instead of
    failing, so training still finishes. A named metric that cannot be computed, or a feature network the
    user named that cannot be loaded (a damaged file, a program without ``trust_code``), is an error.
    """
    channels = int(run.data_info.sample_shape[0])
    name = run.data_info.name
    conditional = run.gan.num_classes is not None
    explicit = bool(metrics)
    wanted = parse_metrics(metrics) if explicit else default_metrics(conditional, name, channels)
    net: nn.Module | None = None
    skipped = ""
    if any(m in wanted for m in FEATURE_METRICS):
        spec = run.config.eval.features
        try:
            net = resolve_feature_spec(spec, channels, name, trust_code=run.config.eval.trust_code)
        except GanforgeError as exc:
            if explicit or spec != "auto":  # a network the user named (a file, inception...) must load
                raise
            wanted = [m for m in wanted if m not in FEATURE_METRICS]
            skipped = str(exc)
        if net is not None and not isinstance(net, FeatureNetwork) and not explicit:
            wanted = [m for m in wanted if m != "is"]  # a user's feature network has no logits for the IS
    classifier = label_classifier(name, channels) if "conditional_accuracy" in wanted else None
    if "conditional_accuracy" in wanted and (not conditional or classifier is None):
        kind = "conditional" if conditional else "unconditional"
        raise GanforgeError(
            "conditional_accuracy needs a conditional model (model.conditional: true) trained on digits or "
            f"stacked-digits; this run is {kind} on '{name}'"
        )
    if "modes" in wanted and name not in STACKED_SOURCES:
        raise GanforgeError(f"mode counting (modes, kl) applies to stacked-digits data; this run is on '{name}'")
    source = run.real_data()
    real = source.real(n, seed=REAL_SEED)
    fake_labels = None
    if conditional:
        fake_labels = _labels_like(real.y, len(real.x), n, run.gan.num_classes or 1)
    if "intra_fid" in wanted and not explicit and (
        real.y is None or fake_labels is None or not intra_fid_classes(real.y, fake_labels)
    ):
        wanted = [m for m in wanted if m != "intra_fid"]  # too few images of every class: the other metrics stand
    fake = run.sample(n, label=fake_labels)
    report = image_report(
        real.x,
        fake,
        wanted,
        net if net is not None else "digits",
        reference=_reference_text(source, len(real.x)),
        real_labels=real.y,
        fake_labels=fake_labels,
        classifier=classifier,
    )
    if skipped:
        report["skipped"] = skipped
    return report


def _labels_like(real_labels: torch.Tensor | None, n_real: int, n: int, num_classes: int) -> torch.Tensor:
    """``n`` labels for conditional sampling, drawn from the real labels' distribution (so FID compares
    the same class mix), uniform over classes when the real data has none; seeded, so runs compare."""
    gen = torch.Generator().manual_seed(REAL_SEED)
    if real_labels is None:
        return torch.randint(num_classes, (n,), generator=gen)
    return real_labels[torch.randint(n_real, (n,), generator=gen)].long()
