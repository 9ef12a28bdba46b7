"""The docs show what the program prints: every `$ hybrid-trm solve ...` (and
`--version`) in a console block of README.md or docs/*.md that shows its output is
run here, and its output compared line by line (times in ms vary: compared as a
number). Commands that need files the docs make elsewhere are not run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICK = ("solve", "--version")
TIME = re.compile(r"\d+(\.\d+)? ms\b")


def shown_commands() -> list[tuple[str, str, list[str]]]:
    """(where, command, the output lines shown under it) for each quick command with output."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```console\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S):
            lines, current = block.splitlines(), None
            for number, line in enumerate(lines):
                if line.startswith("$ "):
                    current = None
                    args = shlex.split(line[2:], comments=True)
                    if args[:1] == ["hybrid-trm"] and args[1:2] and args[1] in QUICK and "--checkpoint" not in args:
                        current = (f"{page.name}: {line[2:].split('#')[0].strip()}", args[1:], [])
                        found.append(current)
                elif current is not None:
                    current[2].append(line)
    return [c for c in found if c[2]]


def _same(line: str) -> str:
    return TIME.sub("<ms>", line.rstrip())


@pytest.mark.parametrize("where,args,shown", shown_commands(), ids=[c[0] for c in shown_commands()])
def test_a_shown_command_prints_what_the_docs_show(cli, where, args, shown):
    result = cli(*args)
    printed = (result.stdout + result.stderr).rstrip("\n").splitlines()
    assert [_same(line) for line in printed] == [_same(line) for line in shown], result.output


def test_the_docs_show_commands_to_check():
    assert len(shown_commands()) >= 5
