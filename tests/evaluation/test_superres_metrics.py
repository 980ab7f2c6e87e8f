"""Super-resolution measures: the LPIPS-like photo-feature distance (formula on hand-made tensors) and the
ordering of both perceptual measures (more blur scores worse; the originals score 0)."""

import pytest
import torch
import torch.nn.functional as F

from ganforge.data.paired import sr_patches
from ganforge.errors import GanforgeError
from ganforge.evaluation.superres_metrics import FEATURE_LAYERS, feature_distance, perceptual_scores


class Identity:
    """A stand-in feature network whose every layer is the image itself (channels = colour)."""

    def trunk(self, x: torch.Tensor, layer: str) -> torch.Tensor:
        return x


def solid(colour: tuple[float, float, float], h: int = 2, w: int = 2) -> torch.Tensor:
    return torch.tensor(colour).view(1, 3, 1, 1).expand(1, 3, h, w).clone()


def test_feature_distance_formula_on_hand_made_tensors() -> None:
    red, green = solid((1.0, 0.0, 0.0)), solid((0.0, 1.0, 0.0))
    layers = len(FEATURE_LAYERS)
    # orthogonal unit vectors: ||e1 - e2||^2 = 2 at every position, per layer
    assert float(feature_distance(red, green, Identity())) == pytest.approx(2.0 * layers)
    # channel vectors are unit-normalised: a brighter copy is at distance 0
    assert float(feature_distance(red * 0.5, red, Identity())) == pytest.approx(0.0, abs=1e-6)
    # half of the positions differ: the spatial mean halves the distance
    half = red.clone()
    half[..., 1] = green[..., 1]
    assert float(feature_distance(half, red, Identity())) == pytest.approx(1.0 * layers)
    # 45 degrees apart: ||(1,0) - (1,1)/sqrt 2||^2 = 2 - sqrt 2
    yellow = solid((1.0, 1.0, 0.0))
    assert float(feature_distance(yellow, red, Identity())) == pytest.approx((2 - 2**0.5) * layers, rel=1e-5)
    with pytest.raises(GanforgeError, match="one shape"):
        feature_distance(red, solid((1.0, 0.0, 0.0), 4, 4), Identity())


@pytest.fixture(scope="module")
def patches() -> torch.Tensor:
    return sr_patches(patch_size=32, scale=4, count=200, split="test", seed=1).x


def blur(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Average-pool by ``factor`` and enlarge back bilinearly: blur that keeps the mean colour."""
    small = F.avg_pool2d(x, factor)
    return F.interpolate(small, size=x.shape[-2:], mode="bilinear", align_corners=False).clamp(0, 1)


def test_blurred_patches_score_worse_than_originals(patches) -> None:
    originals = perceptual_scores(patches, patches)
    mild, strong = perceptual_scores(blur(patches, 2), patches), perceptual_scores(blur(patches, 4), patches)
    assert originals["feature_distance"] == pytest.approx(0.0, abs=1e-9)
    assert originals["fid_photo"] == pytest.approx(0.0, abs=1e-3)
    assert 0.0 < mild["feature_distance"] < strong["feature_distance"]
    assert 1e-3 < mild["fid_photo"] < strong["fid_photo"]
    # per patch too: blur moves (almost) every textured patch away from its original
    per_patch = feature_distance(blur(patches, 4), patches)
    assert float((per_patch > 0).float().mean()) > 0.9
