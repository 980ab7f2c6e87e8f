"""Shared test settings: small thread counts keep the suite fast and deterministic on 2 cores."""

from collections.abc import Callable

import pytest
import torch

from ganforge.cli import main

torch.set_num_threads(1)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """The ``ganforge`` command in-process: ``run_cli(*args) -> (exit code, stdout, stderr)``.

    A ``SystemExit`` becomes its code (0 when it carries none), as a shell would see it; output printed
    before the call is not part of its result."""

    def run(*args: object) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
