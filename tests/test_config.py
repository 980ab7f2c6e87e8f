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


# --- hostile YAML (issue 23): bounded before any value is built, one line each -------------------------


def _bomb(levels: int) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + f"\ntrain:\n  steps: *l{levels - 1}\n"


def test_alias_bomb_on_a_typed_key_is_refused_quickly_with_a_short_message(tmp_path) -> None:
    import time

    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb(9))  # 9**9 = 387 million strings once expanded
    t0 = time.perf_counter()
    with pytest.raises(GanforgeError, match="aliases") as err:
        read_yaml(path)
    assert time.perf_counter() - t0 < 2.0
    assert len(str(err.value)) < 300


def test_a_value_too_large_for_the_schema_is_quoted_as_a_short_prefix() -> None:
    raw = {"train": {"steps": [["x"] * 1000] * 1000}}  # shared rows: repr() would be 5 MB
    with pytest.raises(GanforgeError, match="train.steps") as err:
        parse_config(raw)
    assert len(str(err.value)) < 200


@pytest.mark.parametrize(
    "text,message",
    [
        ("train: {steps: 10}\ntrain: {steps: 20}\n", "key 'train' appears twice"),
        ("data: {source: ring8, source: moons}\n", "key 'source' appears twice"),
        ("train: " + "[" * 1000 + "]" * 1000 + "\n", "nested more than 64"),
        ("train: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n", "nested more than 64"),
        ("seed: " + "9" * 5000 + "\n", "an integer of 5,000 characters"),
        ("data: &a {source: ring8, x: *a}\n", "contains itself"),
        ("x: !!python/object/apply:os.system ['true']\n", "invalid YAML"),
    ],
)
def test_hostile_yaml_is_one_line(tmp_path, text, message) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(GanforgeError, match=message) as err:
        read_yaml(path)
    assert "\n" not in str(err.value) and len(str(err.value)) < 300


def test_a_5mb_config_is_refused_before_parsing(tmp_path) -> None:
    import time

    path = tmp_path / "c.yaml"
    path.write_text("name: " + "x" * 5_000_000 + "\n")
    t0 = time.perf_counter()
    with pytest.raises(GanforgeError, match="too large for a config"):
        read_yaml(path)
    assert time.perf_counter() - t0 < 1.0


def test_set_values_get_the_same_bounds() -> None:
    with pytest.raises(GanforgeError, match="too long"):
        apply_overrides({}, ["name=" + "y" * 20_000])
    with pytest.raises(GanforgeError, match="nested more than 64"):
        apply_overrides({}, ["train.steps=" + "[" * 300 + "]" * 300])
    with pytest.raises(GanforgeError, match="integer of"):
        apply_overrides({}, ["seed=" + "9" * 5000])


# --- value rules: one rule per type, for the schema and every factory ---------------------------------


@pytest.mark.parametrize(
    "override,message",
    [
        ("train.batch_size=true", "train.batch_size': expected a number"),
        ("train.optimizer.lr=.nan", "train.optimizer.lr': nan is not a finite"),
        ("train.optimizer.lr=.inf", "train.optimizer.lr': inf is not a finite"),
        ("train.optimizer.lr=1e39", "train.optimizer.lr': 1e\\+39 is beyond float32"),  # YAML reads this as text
        ("train.optimizer.eps=1.0e-50", "train.optimizer.eps': 1e-50 is beyond float32"),
        ("seed=18446744073709551616", "'seed': 18446744073709551616 does not fit in 64 bits"),
        ("seed=-1", "'seed': input should be greater than or equal to 0"),
        ("train.optimizer.betas=[1.0, 0.9]", "train.optimizer.betas.0"),
        ("train.optimizer.betas=[0.5, -0.1]", "train.optimizer.betas.1"),
        ("eval.dist_timeout=1", "unknown config key"),
    ],
)
def test_schema_value_rules_name_the_key(override, message) -> None:
    with pytest.raises(GanforgeError, match=message):
        parse_config(apply_overrides({}, [override]))


def test_per_phase_optimizer_values_pass_the_same_rules() -> None:
    with pytest.raises(GanforgeError, match="train.optimizers.generator.lr': nan"):
        parse_config(apply_overrides({}, ["train.optimizers.generator.lr=.nan"]))
    cfg = parse_config(apply_overrides({}, ["train.optimizers.generator.betas=[1.5, 0.9]"]))
    with pytest.raises(GanforgeError, match=r"train.optimizers.generator.betas.0"):
        cfg.optimizer_for("generator")


@pytest.mark.parametrize(
    "override,message",
    [
        ("model.n_critic=0", "model.n_critic': must be >= 1"),
        ("model.generator.hidden=[64, -5]", r"model.generator.hidden\[1\]': must be >= 1"),
        ("model.noise_dim=true", "model.noise_dim': expected a number"),
        ("model.penalties.r1.weight=.inf", "model.penalties.r1.weight': inf"),
        ("model.penalties.r1.every=0", "model.penalties.r1.every': must be >= 1"),
        ("data.radius=1e39", "data.radius': 1e\\+39 is beyond float32"),
    ],
)
def test_factory_settings_pass_the_same_rules(override, message) -> None:
    from ganforge.data.registry import source_from_config
    from ganforge.gans.registry import build_model
    from ganforge.recipes import resolve_recipe

    raw = apply_overrides(resolve_recipe("ring8"), [override])
    with pytest.raises(GanforgeError, match=message):  # NaN/inf/bool already at parsing, sizes at building
        cfg = parse_config(raw)
        build_model(cfg.model, source_from_config(cfg.data))


def test_monitor_settings_pass_the_same_rules() -> None:
    from ganforge.diagnostics.monitors import MONITORS

    with pytest.raises(GanforgeError, match="monitors.mode_collapse.every': must be >= 1"):
        MONITORS.build("mode_collapse", {"every": 0}, "monitors.mode_collapse")


def test_zero_is_allowed_where_a_setting_says_so() -> None:
    """TimeGAN's phase lengths are ``NonNegativeInt`` (0 skips the phase): the >= 1 rule leaves them alone,
    while its ``hidden`` (a plain int with a positive default) still gets it."""
    from ganforge.data.registry import source_from_config
    from ganforge.gans.registry import build_model
    from ganforge.recipes import resolve_recipe

    raw = apply_overrides(resolve_recipe("sines-timegan"), ["model.embedding_steps=0", "model.supervised_steps=0"])
    cfg = parse_config(raw)
    source = source_from_config(cfg.data)
    assert build_model(cfg.model, source).embedding_steps == 0
    with pytest.raises(GanforgeError, match="model.hidden': must be >= 1"):
        build_model(parse_config(apply_overrides(raw, ["model.hidden=0"])).model, source)


def test_control_characters_are_one_line_naming_the_position(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"name: a\x7fb\n")  # one bit flipped in a run's config.yaml
    with pytest.raises(GanforgeError, match=r"invalid YAML at character 8: .*plain text"):
        read_yaml(path)


def test_an_unknown_key_in_the_wrong_section_names_the_configs_own_key() -> None:
    """`train.pretrain_steps` was answered with `train.steps`; the recipe has `model.pretrain_steps`."""
    with pytest.raises(GanforgeError, match=r"did you mean 'model.pretrain_steps'\?"):
        parse_config({"model": {"type": "srgan", "pretrain_steps": 10}, "train": {"pretrain_steps": 4}})
