"""`hybrid-trm grammar check`: conflicts and unused rules by line, a sample parse,
and no torch on the way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_trm.grammar_check import check

GRAMMARS = Path(__file__).resolve().parent.parent / "grammars"

AMBIGUOUS = """start: e

e: e "+" e | NUMBER
spare: "x"
WORD: /[a-z]+/
%import common.NUMBER
%ignore " "
"""


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "g.lark"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["arith", "listops", "logic"])
def test_the_built_in_grammars_are_clean(name):
    result = check(GRAMMARS / f"{name}.lark")
    assert result.parser is not None and result.clean, result.findings


def test_conflicts_and_unused_rules_are_found_by_line(tmp_path):
    result = check(_write(tmp_path, AMBIGUOUS))
    assert result.parser is not None
    found = [(f.severity, f.line, f.message.split(":")[0]) for f in result.findings]
    assert found == [
        ("warning", 3, "shift/reduce conflict on PLUS ('+')"),
        ("warning", 4, "rule spare is never used"),
        ("warning", 5, "terminal WORD is never used by a rule"),
    ]


def test_a_rule_generated_for_a_repeat_is_reported_as_its_own(tmp_path):
    result = check(_write(tmp_path, 'start: item*\nitem: "a"\nlonely: item+\n'))
    assert [(f.line, f.message) for f in result.findings] == [(3, "rule lonely is never used: no parse from start reaches it")]


@pytest.mark.parametrize("text, line, words", [
    ('start: a | b\na: "x"\nb: "x"\n', 2, "reduce/reduce conflict before the end of input: rules <a : X> and <b : X>"),
    ('start: e\ne: "+" (\n', 2, "Expecting a value"),
    ("start: e\n", 1, "Rule 'e' used but not defined"),
])
def test_a_grammar_that_does_not_load_says_where(tmp_path, text, line, words):
    result = check(_write(tmp_path, text))
    assert result.parser is None
    (finding,) = result.findings
    assert finding.severity == "error" and finding.line == line and words in finding.message


def test_cli_grammar_check(cli, tmp_path):
    clean = cli("grammar", "check", GRAMMARS / "arith.lark", "1 + 2 * -3")
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.split() == ["add", "1", "mul", "2", "neg", "3"]
    assert "no conflicts, every rule used" in clean.output
    bad_text = cli("grammar", "check", GRAMMARS / "arith.lark", "1 +")
    assert bad_text.exit_code == 1 and "cannot parse at line 1, column 4" in bad_text.output
    ambiguous = cli("grammar", "check", _write(tmp_path, AMBIGUOUS), "1 + 2")
    assert ambiguous.exit_code == 1 and "g.lark:3: warning: shift/reduce" in ambiguous.output
    broken = cli("grammar", "check", _write(tmp_path, "start: e\n"))
    assert broken.exit_code == 1 and "g.lark:1: error:" in broken.output
    missing = cli("grammar", "check", tmp_path / "nope.lark")
    assert missing.exit_code == 2 and "grammar file not found" in missing.output


def test_grammar_check_does_not_import_torch():
    code = (
        "import sys; from typer.testing import CliRunner; from cli.main import app; "
        f"r = CliRunner().invoke(app, ['grammar', 'check', {str(GRAMMARS / 'logic.lark')!r}, 'forall x. P(x)']); "
        "assert r.exit_code == 0, r.output; assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=GRAMMARS.parent)
