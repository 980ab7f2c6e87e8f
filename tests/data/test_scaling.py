import torch

from ganforge.data.base import ArraySource
from ganforge.data.scaling import Scaler


def test_standardize_roundtrip() -> None:
    x = torch.randn(1000, 3) * 5 + 10
    s = Scaler.fit(x, "linear")
    z = s.to_model(x)
    assert torch.allclose(z.mean(0), torch.zeros(3), atol=1e-4)
    assert torch.allclose(z.std(0), torch.ones(3), atol=1e-4)
    assert torch.allclose(s.to_data(z), x, atol=1e-4)


def test_minmax_into_tanh_range_with_bounds() -> None:
    x = torch.rand(50, 1, 4, 4) * 0.5
    s = Scaler.fit(x, "tanh", per_feature=False, bounds=(0.0, 1.0))
    assert torch.allclose(s.to_model(torch.tensor([0.0, 1.0])), torch.tensor([-1.0, 1.0]))


def test_array_source_epochs_cover_every_sample_once() -> None:
    src = ArraySource(kind="points", sample_shape=(1,), x=torch.arange(10.0).unsqueeze(1))
    g = torch.Generator().manual_seed(0)
    seen = torch.cat([src.batch(5, g).x for _ in range(2)]).flatten()
    assert sorted(seen.tolist()) == list(range(10))


def test_array_source_state_restores_the_stream() -> None:
    src = ArraySource(kind="points", sample_shape=(1,), x=torch.arange(10.0).unsqueeze(1))
    g = torch.Generator().manual_seed(0)
    src.batch(3, g)
    state, gstate = src.state_dict(), g.get_state()
    expected = src.batch(7, g).x
    src.load_state_dict(state)
    g.set_state(gstate)
    assert torch.equal(src.batch(7, g).x, expected)
