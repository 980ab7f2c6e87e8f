"""The names of the scalars a training step logs (``metrics.jsonl``, the progress line, monitors, plots).

Declared once here; every writer and reader uses these constants. Variants with several pairs of
phases (LAPGAN's levels) log the same quantities with a suffix (``loss_d_16``) and their finest pair also
under the plain names, so monitors and plots read every model the same way.
"""

from __future__ import annotations

STEP = "step"
LOSS_D = "loss_d"  # the discriminator's (critic's) loss J_D, penalties excluded
LOSS_G = "loss_g"  # the generator's loss (J_G plus whatever the variant adds)
D_REAL = "d_real"  # mean D(x): a probability for BCE objectives, the raw critic score otherwise
D_FAKE = "d_fake"  # mean D(G(z)), same units as D_REAL
FINDINGS = "findings"  # monitors' diagnostics of this step
EVAL = "eval"  # periodic evaluation's report
GRAD_NORM_PREFIX = "grad_norm_"

# The two common phases keep their historical short keys (monitors, `ganforge diagnose`, plots read them).
_SHORT_PHASE_NAMES = {"discriminator": "d", "generator": "g"}


def grad_norm_key(phase: str) -> str:
    """Log key of the L2 gradient norm of ``phase``'s parameters: ``grad_norm_d`` / ``grad_norm_g`` for
    the discriminator and generator phases, ``grad_norm_<full phase name>`` for every other phase (so
    LAPGAN's ``discriminator_8`` and ``discriminator_16`` never overwrite one another)."""
    return GRAD_NORM_PREFIX + _SHORT_PHASE_NAMES.get(phase, phase)


GRAD_NORM_D = grad_norm_key("discriminator")
GRAD_NORM_G = grad_norm_key("generator")


def suffixed(key: str, suffix: str) -> str:
    """``key`` of one of several phase pairs: ``loss_d`` + ``16`` -> ``loss_d_16``."""
    return f"{key}_{suffix}" if suffix else key


MEASUREMENT_SEP = "/"


def is_measurement(key: str) -> bool:
    """Whether ``key`` is a monitor's measurement of generated samples (``modes/kl``), namespaced with
    :data:`MEASUREMENT_SEP`, rather than a quantity the training step computes (losses, gradient norms,
    discriminator outputs). A measurement may be NaN by definition (KL of an empty mode histogram when no
    mode is covered): that is a finding about the samples, never a sign of numerical instability."""
    return MEASUREMENT_SEP in key
