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
