"""The one plug-in mechanism: entries are found by scanning a package, built from config with checks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import pytest

from ganforge.errors import GanforgeError
from ganforge.registry import Registry, with_settings_of


def _package(tmp_path: Path, name: str, modules: dict[str, str]) -> None:
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    for module, text in modules.items():
        (root / f"{module}.py").write_text(text)
    sys.path.insert(0, str(tmp_path))


def test_adding_a_file_adds_an_entry(tmp_path: Path) -> None:
    """No list of modules: the registry imports every module of its package on the first lookup."""
    registry = Registry("widget", "plugpkg")
    code = (
        "from test_registry_target import REGISTRY\n"
        "@REGISTRY.register({name!r}, order={order})\n"
        "def make(size: int = 1):\n    '''A {name} widget.'''\n    return ('{name}', size)\n"
    )
    sys.modules["test_registry_target"] = type(sys)("test_registry_target")
    sys.modules["test_registry_target"].REGISTRY = registry  # type: ignore[attr-defined]
    try:
        _package(tmp_path, "plugpkg", {"b_late": code.format(name="late", order=5), "a_early": code.format(
            name="early", order=50)})
        assert registry.names() == {"early": "A early widget.", "late": "A late widget."}
        assert list(registry) == ["late", "early"]  # by order, not by file name
        assert registry.build("early", {"size": "3"}, "widgets.early") == ("early", 3)
        with pytest.raises(GanforgeError, match=r"widgets.early.sise: not a setting .* \(did you mean 'size'"):
            registry.build("early", {"sise": 3}, "widgets.early")
        with pytest.raises(GanforgeError, match="unknown widget 'erly' \\(did you mean 'early'"):
            registry.get("erly")
        assert registry.get("missing", None) is None and "late" in registry
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("plugpkg") or m == "test_registry_target"]:
            del sys.modules[name]


class Model:
    def __init__(self, net: object, objective: str = "hinge", *, rate: float = 0.1,
                 mode: Literal["a", "b"] = "a") -> None:
        self.net, self.objective, self.rate, self.mode = net, objective, rate, mode


def test_a_builder_takes_its_class_settings_without_listing_them() -> None:
    registry = Registry("model")

    @registry.register("m")
    @with_settings_of(Model, skip=("net",))
    def build(width: int = 4, **settings: object) -> Model:
        return Model(width, **settings)

    model = registry.build("m", {"rate": "0.5", "objective": "ls"}, "model")
    assert (model.net, model.objective, model.rate, model.mode) == (4, "ls", 0.5, "a")
    with pytest.raises(GanforgeError, match="model.mode: input should be 'a' or 'b'"):
        registry.build("m", {"mode": "c"}, "model")
    with pytest.raises(GanforgeError, match="its settings are: width, objective, rate, mode"):
        registry.build("m", {"net": 1}, "model")


def test_classes_are_factories_with_checked_settings() -> None:
    registry = Registry("thing")
    registry.add("model", Model)
    assert registry.build("model", {"rate": 2}, "things.model", net=None).rate == 2
    with pytest.raises(GanforgeError, match="things.model.rate: input should be a valid number"):
        registry.build("model", {"rate": "fast"}, "things.model", net=None)


def test_every_plugin_set_is_a_registry() -> None:
    from ganforge import cli, objectives, runs
    from ganforge.data import registry as data_registry
    from ganforge.diagnostics import monitors
    from ganforge.gans import registry as gans_registry
    from ganforge.report import pictures
    from ganforge.training import callbacks

    sets = [data_registry.SOURCES, gans_registry.MODELS, gans_registry.NETWORKS, gans_registry.PENALTIES,
            objectives.OBJECTIVES, runs.EVALUATORS, pictures.PICTURES, pictures.SAMPLE_PNG, callbacks.CALLBACKS,
            monitors.MONITORS, cli.COMMANDS]
    assert all(isinstance(s, Registry) for s in sets)
    assert {"numbers", "points", "images", "sequences"} <= set(runs.EVALUATORS)
    assert {"images", "sequences", "numbers"} <= set(pictures.SAMPLE_PNG)
    assert [f.__name__ for f in callbacks.CALLBACKS.values()][:3] == [
        "monitors_for_run", "snapshots_for_run", "periodic_evaluation"]
    assert {"fid", "diagnose", "upscale", "translate", "train", "eval"} <= set(cli.COMMANDS)


def test_size_settings_names_the_largest_sizes_first_and_never_flags() -> None:
    from ganforge.registry import size_settings

    params = {"width": 64, "hidden": [10, 4000], "spectral_norm": True, "depth": 3, "name": "x", "layers": 2}
    assert size_settings("model.generator", params) == (
        "model.generator.hidden=[10, 4000], model.generator.width=64, model.generator.depth=3"
    )
    assert size_settings("model.generator", {"spectral_norm": True}) == ""


def test_a_network_too_large_for_memory_is_refused_naming_its_sizes() -> None:
    from ganforge.gans.registry import available_memory, build_network

    if available_memory() is None:
        pytest.skip("no /proc/meminfo here")
    with pytest.raises(GanforgeError, match=r"GiB of parameters.*lower its sizes \(model\.generator\.hidden="):
        build_network({"type": "mlp", "hidden": [200000, 200000]}, "model.generator", "generator", 8, (2,), None)


def test_the_memory_check_counts_a_spectral_norm_dcgan_without_importing_dynamo() -> None:
    """The check builds networks on ``meta``; initialisers and spectral norm's power iteration there ran
    PyTorch's reference kernels, whose first use imports torch._dynamo (about 0.7 s of every command that loaded
    a digits-cgan run), and the plug-in scan it triggered imported modules under meta, so LAPGAN's blur kernel
    (a module constant) became a meta tensor. The check itself must still see the network's size."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from ganforge.gans.registry import build_network, available_memory\n"
        "assert available_memory() is not None\n"
        "d = build_network({'type': 'dcgan', 'spectral_norm': True}, 'model.discriminator', 'discriminator', 16,"
        " (1, 8, 8), 10)\n"
        "assert any('parametrizations' in n for n, _ in d.named_parameters())  # the real build keeps it\n"
        "import ganforge.nets.pyramid as pyramid  # scanned for plug-ins by that first build: not under meta\n"
        "assert pyramid._BINOMIAL5.device.type == 'cpu', pyramid._BINOMIAL5.device\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    if available_memory_missing():
        pytest.skip("no /proc/meminfo here")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    with pytest.raises(GanforgeError, match=r"GiB of parameters.*lower its sizes \(model\.discriminator\.width="):
        from ganforge.gans.registry import build_network

        build_network({"type": "dcgan", "spectral_norm": True, "width": 40000}, "model.discriminator",
                      "discriminator", 16, (1, 32, 32), 10)


def available_memory_missing() -> bool:
    from ganforge.gans.registry import available_memory

    return available_memory() is None


def test_a_missing_required_setting_is_named_without_pydantics_internal_object() -> None:
    """`data.source=cifar10` without a path printed `(got ArgsKwargs((), {...}))`."""
    from ganforge.data.registry import SOURCES

    with pytest.raises(GanforgeError) as caught:
        SOURCES.build("cifar10", {}, "data")
    assert str(caught.value) == "data.path: required, but not set; set it in the recipe or with --set data.path=VALUE"
