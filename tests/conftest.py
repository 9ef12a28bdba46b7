"""Shared fixtures: one thread for torch (the machine is shared), and tiny
checkpoints trained once per session so no test depends on shipped files."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run the CLI in a fresh folder: cli("solve", "1 + 2") -> click's Result."""
    from typer.testing import CliRunner

    from hybrid_trm.cli.main import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args, stdin: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=stdin)

    return invoke


@pytest.fixture(scope="session")
def arith_mod10_checkpoint(tmp_path_factory):
    """A 2-step arith/mod10 checkpoint (hidden 8): real files, untrained weights."""
    from hybrid_trm.training.loop import TrainConfig, train

    out = tmp_path_factory.mktemp("ck") / "arith-mod10"
    train(
        TrainConfig(
            domain="arith", task="mod10", steps=2, batch_size=4, hidden=8,
            eval_every=2, eval_examples=8, save_every=2,
        ),
        out,
    )
    return out


@pytest.fixture(scope="session")
def listops_checkpoint(tmp_path_factory):
    from hybrid_trm.training.loop import TrainConfig, train

    out = tmp_path_factory.mktemp("ck") / "listops-value"
    train(
        TrainConfig(
            domain="listops", task="value", steps=1, batch_size=2, hidden=8,
            difficulty={"depth": 3}, eval_every=1, eval_examples=4, save_every=1,
        ),
        out,
    )
    return out


@pytest.fixture(scope="session")
def halting_checkpoint(tmp_path_factory):
    """A 2-step arith/mod10 checkpoint with a halting head and up to 3 cycles."""
    from hybrid_trm.training.loop import TrainConfig, train

    out = tmp_path_factory.mktemp("ck") / "arith-mod10-halting"
    train(
        TrainConfig(
            domain="arith", task="mod10", steps=2, batch_size=4, hidden=8, outer_cycles=3, halting=True,
            difficulty={"depth": 3}, eval_every=2, eval_examples=8, save_every=2,
        ),
        out,
    )
    return out
