"""Train and ship the scene segmenter behind the FCN-score of Pix2Pix on ``labels2scenes``.

    python scripts/train_scene_segmenter.py

Writes src/ganforge/evaluation/weights/scene_segmenter.{safetensors,json}. Training: real 32x32 scenes of
``labels2scenes`` split=train (seed 0 stream); the card records the scores on held-out real scenes
(split=test, a disjoint stream), the ceiling a perfect translator would reach.
"""

from __future__ import annotations

import json
import time

import numpy as np
import torch
from safetensors.torch import save_file

from ganforge.data.builtin_pairs import SCENE_CLASSES, labels2scenes
from ganforge.nets.scene_segmenter import CARD, WEIGHTS, fcn_scores, train_scene_segmenter

SEED, SIZE, N_TRAIN, N_TEST, STEPS, JITTER = 0, 32, 4000, 500, 1500, 0.25


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Each channel blurred by a Gaussian of ``sigma`` pixels (scikit-image)."""
    from skimage.filters import gaussian

    out = [gaussian(im.numpy(), sigma=sigma, channel_axis=0, preserve_range=True) for im in images]
    return torch.from_numpy(np.stack(out)).float()


def main() -> None:
    torch.set_num_threads(1)
    train = labels2scenes(size=SIZE, count=N_TRAIN, split="train", seed=SEED)
    test = labels2scenes(size=SIZE, count=N_TEST, split="test", seed=SEED)
    assert train.label_maps is not None and test.label_maps is not None
    t0 = time.process_time()
    net = train_scene_segmenter(train.x_b, train.label_maps, len(SCENE_CLASSES), steps=STEPS, seed=SEED, jitter=JITTER)
    seconds = time.process_time() - t0
    scores = fcn_scores(net, test.x_b, test.label_maps)
    # how much the segmenter relies on texture: the same held-out scenes blurred (texture gone, colours kept)
    blurred = gaussian_blur(test.x_b, 1.5)
    blur_scores = fcn_scores(net, blurred, test.label_maps)
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(WEIGHTS))
    card = {
        "network": "SceneSegmenter",
        "classes": list(SCENE_CLASSES),
        "parameters": sum(p.numel() for p in net.parameters()),
        "data": f"labels2scenes {SIZE}x{SIZE} split=train seed={SEED}, {N_TRAIN} real scenes",
        "test": f"labels2scenes split=test seed={SEED} (disjoint stream), {N_TEST} real scenes",
        "steps": STEPS,
        "batch_size": 32,
        "seed": SEED,
        "train_cpu_seconds": round(seconds, 1),
        "color_jitter": JITTER,
        **{f"heldout_real_{k}": round(v, 4) for k, v in scores.items()},
        **{f"heldout_real_blurred_sigma1.5_{k}": round(v, 4) for k, v in blur_scores.items()},
        "script": "scripts/train_scene_segmenter.py",
    }
    CARD.write_text(json.dumps(card, indent=1) + "\n")
    print(json.dumps(card, indent=1))


if __name__ == "__main__":
    main()
