"""``ganforge config RECIPE``: the full config a run would use, defaults filled in and marked."""




def test_config_prints_every_key_with_defaults_marked(run_cli) -> None:
    code, out, err = run_cli("config", "digits-dcgan", "--set", "train.steps=7")
    assert code == 0, err
    shown, written = run_cli("recipes", "--show", "digits-dcgan")[1], out
    assert "  steps: 7\n" in written and "# default" not in written.split("steps: 7")[1].split("\n")[0]
    assert "    spectral_norm: false  # default" in written  # a network factory's default
    assert "  precision: fp32  # default" in written  # a RunConfig default
    total = int(written.strip().splitlines()[-1].split()[1])
    assert total > shown.count(":") + 20
    assert run_cli("config", "rign8")[0] == 2
    assert "  mode_collapse:  # default" in written  # every monitor's settings too


def test_resolved_config_fills_factory_defaults() -> None:
    from ganforge.commands.config import resolved_config

    full = resolved_config({"data": {"source": "ring8"}, "model": {"type": "gan", "generator": "mlp"}})
    assert full["model"]["generator"]["type"] == "mlp" and len(full["model"]["generator"]) > 1
    assert "noise_dim" in full["model"] and "steps" in full["train"]


def test_config_of_a_data_file_is_the_config_train_fits_to_it(tmp_path, run_cli) -> None:
    import re

    import numpy as np
    import yaml

    path = tmp_path / "pts.csv"
    np.savetxt(path, np.random.default_rng(0).normal(size=(300, 2)), delimiter=",")
    code, out, err = run_cli("config", path)
    assert code == 0, err
    shown = yaml.safe_load(out)
    fitted = re.search(r"-> (\d+) steps", shown["description"])  # the line `ganforge train` prints
    assert fitted and shown["train"]["steps"] == int(fitted.group(1)) != 8000  # not the points recipe's count


def test_non_ascii_in_a_recipe_prints_as_itself(run_cli) -> None:
    """ring8's description printed its dash as \\u2014."""
    code, out, _ = run_cli("config", "ring8")
    assert code == 0 and "—" in out and "\\u2014" not in out


def test_config_refuses_the_settings_train_refuses(run_cli) -> None:
    """A misspelled model, network, data, penalty or monitor key printed as if it were used."""
    for override, named in [
        ("model.noise_dimm=4", "model.noise_dimm: not a setting of model type 'gan' (did you mean 'noise_dim'?)"),
        ("model.generator.widht=3", "model.generator.widht: not a setting of network type 'mlp'"),
        ("data.radius=abc", "data.radius"),
        ("data.n_sampls=3", "data.n_sampls: not a setting of data source 'ring8'"),
        ("model.penalties.r1.wieght=2", "(did you mean 'weight'?)"),
        ("monitors.mode_collapse.x=1", "monitors.mode_collapse.x: not a setting of monitor 'mode_collapse'"),
    ]:
        code, out, err = run_cli("config", "ring8", "--set", override)
        assert code == 2 and named in err and not out, (override, err)


def test_config_prints_a_bare_penalty_weight_as_the_recipes() -> None:
    """`penalties: {gp: 0.1}` was printed as the factory's `weight: 10.0  # default`."""
    from ganforge.commands.config import _weights_as_settings, resolved_config, to_marked_yaml

    raw = {"data": {"source": "ring8"}, "model": {"type": "gan", "penalties": {"gp": 0.1}}}
    lines = to_marked_yaml(resolved_config(raw), _weights_as_settings(raw))
    assert "      weight: 0.1" in lines and "      every: 1  # default" in lines
