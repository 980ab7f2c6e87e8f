"""Config validation and overrides: every mistake is one line naming the key."""

import pytest

from ganforge.config import apply_overrides, parse_config, read_yaml
from ganforge.errors import GanforgeError


def test_seed_and_train_steps_are_config_keys() -> None:
    cfg = parse_config(apply_overrides({}, ["seed=3", "train.steps=5000"]))
    assert cfg.seed == 3 and cfg.train.steps == 5000


def test_mistyped_key_names_the_nearest() -> None:
    with pytest.raises(GanforgeError, match=r"train\.stpes.*did you mean 'train\.steps'"):
        parse_config({"train": {"stpes": 10}})


def test_wrong_type_names_the_key() -> None:
    with pytest.raises(GanforgeError, match="train.batch_size"):
        parse_config({"train": {"batch_size": "lots"}})


def test_override_syntax_errors_are_one_line() -> None:
    with pytest.raises(GanforgeError, match="KEY=VALUE"):
        apply_overrides({}, ["train.steps"])
    with pytest.raises(GanforgeError, match="is a value, not a section"):
        apply_overrides({"seed": 1}, ["seed.x=2"])


def test_override_values_are_parsed_as_yaml() -> None:
    raw = apply_overrides({}, ["model.generator.hidden=[64, 64]", "train.ema=0.99"])
    assert raw["model"]["generator"]["hidden"] == [64, 64] and raw["train"]["ema"] == 0.99


@pytest.mark.parametrize("text,message", [("", "empty"), ("a: [1, 2", "invalid YAML"), ("- 1\n- 2", "mapping")])
def test_bad_yaml_files(tmp_path, text, message) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(GanforgeError, match=message):
        read_yaml(path)
