"""CycleGAN nets, the image history pool and the cycle / identity losses."""

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.nets.translation import (
    ImagePool,
    PatchDiscriminator,
    ResnetTranslator,
    cycle_consistency_loss,
    identity_loss,
)


@pytest.mark.parametrize(
    ("c_in", "c_out", "size", "blocks", "n_down"), [(3, 3, 32, 2, 2), (1, 3, 12, 1, 1), (3, 1, 8, 0, 0)]
)
def test_translator_keeps_the_size_and_bounds_the_output(
    c_in: int, c_out: int, size: int, blocks: int, n_down: int
) -> None:
    torch.manual_seed(0)
    g = ResnetTranslator(c_in, c_out, width=8, num_blocks=blocks, n_down=n_down)
    out = g(torch.rand(2, c_in, size, size) * 2 - 1)
    assert out.shape == (2, c_out, size, size)
    assert out.abs().max() <= 1.0


def test_translator_explains_bad_sizes() -> None:
    g = ResnetTranslator(3, 3, width=4, num_blocks=1, n_down=2)
    with pytest.raises(GanforgeError, match="divisible by 4"):
        g(torch.rand(1, 3, 18, 18))


@pytest.mark.parametrize(("n_layers", "size", "side"), [(3, 64, 6), (3, 128, 14), (2, 32, 6)])
def test_patch_discriminator_gives_a_logit_map(n_layers: int, size: int, side: int) -> None:
    torch.manual_seed(0)
    d = PatchDiscriminator(3, width=4, n_layers=n_layers)
    assert d.output_size(size) == side
    assert d(torch.rand(2, 3, size, size)).shape == (2, 1, side, side)


def test_patch_discriminator_sees_70x70_patches() -> None:
    torch.manual_seed(0)
    d = PatchDiscriminator(1, width=4, n_layers=3)
    assert d.receptive_field == 70
    for i, layer in enumerate(d.net):  # instance statistics span the whole image; drop them to see the patch
        if isinstance(layer, torch.nn.InstanceNorm2d):
            d.net[i] = torch.nn.Identity()
    x = torch.rand(1, 1, 128, 128, requires_grad=True)
    d(x)[0, 0, 7, 7].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    assert rows.max() - rows.min() + 1 <= 70 and cols.max() - cols.min() + 1 <= 70
    assert rows.max() - rows.min() + 1 > 60  # the patch really is about 70 wide
    with pytest.raises(GanforgeError, match="too small"):
        d(torch.rand(1, 1, 16, 16))


def _batches(n: int, seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(4, 1, 2, 2, generator=gen) for _ in range(n)]


def test_image_pool_fills_then_mixes_history_with_new_images() -> None:
    pool = ImagePool(size=6, seed=0)
    batches = _batches(12, seed=1)
    seen = torch.cat(batches)
    first = pool.query(batches[0])
    assert torch.equal(first, batches[0]) and len(pool) == 4
    second = pool.query(batches[1])
    assert torch.equal(second[:2], batches[1][:2]) and len(pool) == 6  # fills up to size, returning new
    from_history = 0
    for i, batch in enumerate(batches[2:], start=2):
        out = pool.query(batch)
        assert len(pool) == 6
        for image, new in zip(out, batch, strict=True):
            if not torch.equal(image, new):
                earlier = seen[: 4 * (i + 1)]  # a stored image, possibly stored earlier in this batch
                assert (earlier == image).flatten(1).all(1).any()
                from_history += 1
    assert 0.3 < from_history / 40 < 0.7  # about half, as p = 1/2


def test_image_pool_state_round_trip_resumes_exactly() -> None:
    batches = _batches(8, seed=2)
    pool = ImagePool(size=5, seed=3)
    for batch in batches[:3]:
        pool.query(batch)
    resumed = ImagePool(size=5, seed=99)
    resumed.load_state_dict(pool.state_dict())
    for batch in batches[3:]:
        assert torch.equal(pool.query(batch), resumed.query(batch))
    with pytest.raises(GanforgeError, match="pool size"):
        ImagePool(size=4).load_state_dict(pool.state_dict())
    empty = ImagePool(size=5)
    empty.load_state_dict(ImagePool(size=5).state_dict())
    assert len(empty) == 0


def test_image_pool_of_size_zero_passes_through() -> None:
    batch = torch.rand(3, 1, 2, 2)
    pool = ImagePool(size=0)
    assert torch.equal(pool.query(batch), batch) and len(pool) == 0


def test_cycle_and_identity_losses_match_hand_computation() -> None:
    real = torch.zeros(1, 1, 2, 2)
    other = torch.tensor([[[[1.0, -2.0], [3.0, 0.0]]]])
    assert cycle_consistency_loss(real, other).item() == pytest.approx((1 + 2 + 3 + 0) / 4)
    assert identity_loss(real + 1, other).item() == pytest.approx((0 + 3 + 2 + 1) / 4)
    with pytest.raises(GanforgeError, match="differ"):
        cycle_consistency_loss(real, torch.zeros(1, 1, 2, 3))
