"""Train and ship a scene segmenter behind the FCN-score of Pix2Pix on ``labels2scenes``.

    python scripts/train_scene_segmenter.py                            # colour segmenter (global jitter 0.25)
    python scripts/train_scene_segmenter.py --variant texture          # per-class jitter 0.5: texture decides
    python scripts/train_scene_segmenter.py --check                    # the shipped ones' validity check

Writes src/ganforge/nets/weights/scene_segmenter.{safetensors,json} (or scene_texture_segmenter.*; ``--out-dir``
elsewhere). Training: real 32x32 scenes of ``labels2scenes`` split=train (seed 0 stream). The card records the
scores on held-out real scenes (split=test, a disjoint stream), the ceiling a perfect translator would reach,
and the validity check on a third stream (seed 20000): real scenes against *flat* ones (every class region
filled with its mean colour, texture gone), which a segmenter that sees realism must score far apart.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from ganforge.data.builtin_pairs import SCENE_CLASSES, draw_scenes, labels2scenes
from ganforge.nets.scene_segmenter import (
    VARIANTS,
    SceneSegmenter,
    fcn_scores,
    flat_scenes,
    load_scene_segmenter,
    train_scene_segmenter,
)

SEED, SIZE, N_TRAIN, N_TEST, STEPS = 0, 32, 4000, 500, 1500
VALIDITY_SEED, N_VALIDITY = 20_000, 500
VALIDITY_DATA = f"draw_scenes seed={VALIDITY_SEED} (a third stream), {N_VALIDITY} real scenes and their flat copies"


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Each channel blurred by a Gaussian of ``sigma`` pixels (scikit-image)."""
    from skimage.filters import gaussian

    out = [gaussian(im.numpy(), sigma=sigma, channel_axis=0, preserve_range=True) for im in images]
    return torch.from_numpy(np.stack(out)).float()


def validity(net: SceneSegmenter) -> dict[str, float]:
    """Scores on real scenes of the validity stream and on the same scenes flattened (texture removed)."""
    _, scenes, maps = draw_scenes(N_VALIDITY, SIZE, VALIDITY_SEED)
    real = fcn_scores(net, scenes, maps)
    flat = fcn_scores(net, flat_scenes(scenes, maps, len(SCENE_CLASSES)), maps)
    return {**{f"validity_real_{k}": round(v, 4) for k, v in real.items()},
            **{f"validity_flat_{k}": round(v, 4) for k, v in flat.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", choices=list(VARIANTS), default="colour")
    parser.add_argument("--jitter", type=float, default=None, help="jitter strength (default 0.25 colour, 0.5 texture)")
    parser.add_argument("--out-dir", type=Path, default=None, help="write the weights and card here instead")
    parser.add_argument(
        "--check", action="store_true", help="the shipped segmenters' validity check, printed and added to their cards"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check:
        for variant, (weights, card_file) in VARIANTS.items():
            if weights.exists():
                check = validity(load_scene_segmenter(variant=variant))
                print(variant, json.dumps(check))
                card = {k: v for k, v in json.loads(card_file.read_text()).items() if k != "script"}
                card.update(validity=VALIDITY_DATA, **check, script="scripts/train_scene_segmenter.py")
                card_file.write_text(json.dumps(card, indent=1) + "\n")
        return
    per_class = args.variant == "texture"
    jitter = args.jitter if args.jitter is not None else (0.5 if per_class else 0.25)
    train = labels2scenes(size=SIZE, count=N_TRAIN, split="train", seed=SEED)
    test = labels2scenes(size=SIZE, count=N_TEST, split="test", seed=SEED)
    assert train.label_maps is not None and test.label_maps is not None
    t0 = time.process_time()
    net = train_scene_segmenter(
        train.x_b, train.label_maps, len(SCENE_CLASSES), steps=STEPS, seed=SEED, jitter=jitter, per_class=per_class
    )
    seconds = time.process_time() - t0
    scores = fcn_scores(net, test.x_b, test.label_maps)
    # how much the segmenter relies on texture: the same held-out scenes blurred (texture gone, colours kept)
    blur_scores = fcn_scores(net, gaussian_blur(test.x_b, 1.5), test.label_maps)
    weights, card_file = VARIANTS[args.variant]
    if args.out_dir is not None:
        weights, card_file = args.out_dir / weights.name, args.out_dir / card_file.name
    weights.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(weights))
    card = {
        "network": "SceneSegmenter",
        "variant": args.variant,
        "classes": list(SCENE_CLASSES),
        "parameters": sum(p.numel() for p in net.parameters()),
        "data": f"labels2scenes {SIZE}x{SIZE} split=train seed={SEED}, {N_TRAIN} real scenes",
        "test": f"labels2scenes split=test seed={SEED} (disjoint stream), {N_TEST} real scenes",
        "validity": VALIDITY_DATA,
        "steps": STEPS,
        "batch_size": 32,
        "seed": SEED,
        "train_cpu_seconds": round(seconds, 1),
        "color_jitter": jitter,
        "color_jitter_per_class": per_class,
        **{f"heldout_real_{k}": round(v, 4) for k, v in scores.items()},
        **{f"heldout_real_blurred_sigma1.5_{k}": round(v, 4) for k, v in blur_scores.items()},
        **validity(net),
        "script": "scripts/train_scene_segmenter.py",
    }
    card_file.write_text(json.dumps(card, indent=1) + "\n")
    print(json.dumps(card, indent=1))


if __name__ == "__main__":
    main()
