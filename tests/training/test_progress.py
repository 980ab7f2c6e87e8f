"""The progress line: raw critic scores are labelled as scores, and slow runs show seconds per step."""

from ganforge.training.progress import format_speed, format_stats

RECORD = {"loss_d": 1.2, "loss_g": 0.7, "d_real": 3.25, "d_fake": -2.5}


def test_probabilities_only_for_objectives_that_have_them() -> None:
    assert "D(x) 3.250" in format_stats(RECORD) and "D(G(z)) -2.500" in format_stats(RECORD)
    raw = format_stats(RECORD, probability=False)
    assert "score(x) 3.250" in raw and "score(G(z)) -2.500" in raw and "D(x)" not in raw


def test_speed_is_never_zero_it_per_second() -> None:
    assert format_speed(172.4) == "172 it/s"
    assert format_speed(3.14) == "3.1 it/s"
    assert format_speed(0.08) == "12.5 s/it"
    assert format_speed(0.4) == "2.5 s/it"
    assert format_speed(0.0) == "- it/s"
    assert all(format_speed(r) != "0 it/s" for r in (0.001, 0.3, 0.9))
