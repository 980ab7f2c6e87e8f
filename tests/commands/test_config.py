"""``ganforge config RECIPE``: the full config a run would use, defaults filled in and marked."""

import pytest

from ganforge.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_config_prints_every_key_with_defaults_marked(capsys) -> None:
    code, out, err = run_cli(capsys, "config", "digits-dcgan", "--set", "train.steps=7")
    assert code == 0, err
    shown, written = run_cli(capsys, "recipes", "--show", "digits-dcgan")[1], out
    assert "  steps: 7\n" in written and "# default" not in written.split("steps: 7")[1].split("\n")[0]
    assert "    spectral_norm: false  # default" in written  # a network factory's default
    assert "  precision: fp32  # default" in written  # a RunConfig default
    total = int(written.strip().splitlines()[-1].split()[1])
    assert total > shown.count(":") + 20
    assert run_cli(capsys, "config", "rign8")[0] == 2
    assert "  mode_collapse:  # default" in written  # every monitor's settings too


def test_resolved_config_fills_factory_defaults() -> None:
    from ganforge.commands.config import resolved_config

    full = resolved_config({"data": {"source": "ring8"}, "model": {"type": "gan", "generator": "mlp"}})
    assert full["model"]["generator"]["type"] == "mlp" and len(full["model"]["generator"]) > 1
    assert "noise_dim" in full["model"] and "steps" in full["train"]
