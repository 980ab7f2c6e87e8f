"""Train and ship the photo feature network of SRGAN's offline content loss.

    python scripts/train_photo_features.py

Writes src/ganforge/nets/weights/photo_features.{safetensors,json}. Data: 32x32 RGB patches
(gray photos repeated) from the *training* columns (left 80%) of every photograph scikit-image bundles;
held-out accuracies come from the right 20%. See ganforge/nets/photo_features.py.
"""

from __future__ import annotations

import json
import time

import torch
from safetensors.torch import save_file

from ganforge.data.images import SCIKIT_IMAGE_PHOTOS, photo_patches
from ganforge.nets.photo_features import CARD, WEIGHTS, train_photo_feature_net

SEED, PATCH, N_TRAIN, N_TEST, EPOCHS = 0, 32, 6000, 1000, 4


def main() -> None:
    torch.set_num_threads(2)
    photos = list(SCIKIT_IMAGE_PHOTOS)  # the shipped network's 17 classes; later photographs stay unseen
    train = photo_patches(PATCH, N_TRAIN, photos, grayscale=False, split="train", seed=SEED)
    test = photo_patches(PATCH, N_TEST, photos, grayscale=False, split="test", seed=SEED + 1)
    t0 = time.perf_counter()
    net, scores = train_photo_feature_net(train.x, train.y, test.x, test.y, len(photos), epochs=EPOCHS, seed=SEED)
    seconds = time.perf_counter() - t0
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(WEIGHTS))
    card = {
        "network": "PhotoFeatureNet",
        "widths": [16, 32, 64],
        "parameters": sum(p.numel() for p in net.parameters()),
        "tasks": ["photo identity (17 classes)", "rotation (4 classes)"],
        "photos": photos,
        "data": f"photo-patches {PATCH}x{PATCH} RGB, split=train (left 80% of columns), {N_TRAIN} patches",
        "test": f"photo-patches split=test (right 20%), {N_TEST} patches, random rotations (seed {SEED + 1})",
        "epochs": EPOCHS,
        "seed": SEED,
        "train_seconds": round(seconds, 1),
        **{k: round(v, 4) for k, v in scores.items()},
        "script": "scripts/train_photo_features.py",
    }
    CARD.write_text(json.dumps(card, indent=1) + "\n")
    print(json.dumps(card, indent=1))


if __name__ == "__main__":
    main()
