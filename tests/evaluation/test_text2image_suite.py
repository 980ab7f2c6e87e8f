"""R-precision's candidate captions: other images' captions that state the same content are not mismatches."""

import torch

from ganforge.evaluation.text2image_suite import scene_keys


def test_scene_keys_name_content_not_object_order() -> None:
    a = torch.tensor([[[0, 0, 1, 0], [1, 2, 0, 3]]])
    swapped = a.flip(1)
    other = torch.tensor([[[0, 0, 1, 0], [1, 2, 0, 2]]])
    single = torch.tensor([[[0, 0, 1, 0], [-1, -1, -1, -1]]])
    keys = scene_keys(torch.cat([a, swapped, other, single]), 4)
    assert keys[0] == keys[1] and len(set(keys.tolist())) == 3
    assert scene_keys(None, 3).tolist() == [0, 1, 2]
