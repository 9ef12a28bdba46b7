"""Domains from a folder (`--domain-path`): found without installing, beside the
installed ones, with clear errors when a module is broken or a name is taken."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hybrid_trm.domains import registry
from hybrid_trm.errors import HybridTRMError, UnknownDomainError

GRAMMAR = '?start: e\n?e: BIT | "(" e "^" e ")" -> xor\nBIT: "0" | "1"\n%ignore " "\n'

MODULE = '''
from dataclasses import dataclass
from pathlib import Path

from hybrid_trm.domains.base import Domain, Example, Task, Verdict
from hybrid_trm.grammar import children, kind, postorder


@dataclass(frozen=True)
class BitsDifficulty:
    depth: int = 3


class Bits(Domain):
    name = "NAME"
    grammar = str(Path(__file__).with_name("bits.lark"))
    tasks = {"value": Task("value", ("0", "1"))}
    Difficulty = BitsDifficulty
    node_kinds = ("BIT", "xor")

    def generate(self, rng, difficulty, task):
        def make(d):
            return str(rng.randint(0, 1)) if d == 0 else f"({make(d - 1)} ^ {make(rng.randint(0, d - 1))})"
        text = make(difficulty.depth)
        return Example(text, self.label_subtrees(self.parse(text), task)[-1], task)

    def label_subtrees(self, tree, task):
        values = {}
        for node in postorder(tree):
            kids = [values[id(c)] for c in children(node)]
            values[id(node)] = int(node) if kind(node) == "BIT" else kids[0] ^ kids[1]
        return [str(values[id(n)]) for n in postorder(tree)]

    def verify(self, text, answer, task, budget_s=2.0):
        want = self.label_subtrees(self.parse(text), task)[-1]
        return Verdict(answer == want, want, "xor")
'''


def _folder(tmp_path, name="bits", module=MODULE):
    folder = tmp_path / "domains"
    folder.mkdir(exist_ok=True)
    (folder / "bits.lark").write_text(GRAMMAR)
    (folder / f"{name}_domain.py").write_text(module.replace("NAME", name))
    (folder / "test_bits.py").write_text("raise RuntimeError('tests are not domain modules')\n")
    return folder


def test_a_folder_domain_is_found_beside_the_installed_ones(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.PATH_VARIABLE, str(_folder(tmp_path)))
    assert {"arith", "bits", "listops", "logic"} <= set(registry.names())
    bits = registry.get("bits")
    example = bits.example(0, 0, bits.difficulty(depth=2), "value")
    assert bits.verify(example.input, example.answer, "value").correct
    assert registry.get("arith").name == "arith"


def test_without_the_folder_the_domain_is_unknown_and_the_error_says_how(monkeypatch):
    monkeypatch.delenv(registry.PATH_VARIABLE, raising=False)
    with pytest.raises(UnknownDomainError, match="--domain-path"):
        registry.get("bits")


@pytest.mark.parametrize("module, message", [
    (MODULE + "\nraise ValueError('oops')\n", "does not import: ValueError: oops"),
    (MODULE.replace('name = "NAME"', 'name = "arith"'), "'arith' is defined twice"),
])
def test_a_broken_folder_says_which_file(tmp_path, monkeypatch, module, message):
    folder = _folder(tmp_path, module=module)
    monkeypatch.setenv(registry.PATH_VARIABLE, str(folder))
    with pytest.raises(HybridTRMError, match=message) as err:
        registry.names()
    assert str(folder) in str(err.value)


def test_cli_domain_path(cli, tmp_path, monkeypatch):
    monkeypatch.setenv(registry.PATH_VARIABLE, "")  # the option sets the variable: undone after the test
    folder = _folder(tmp_path, name="bitsy")
    result = cli("--domain-path", folder, "generate", "bitsy", "-n", 2, "--knob", "depth=2")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["task"] for line in result.stdout.splitlines()] == ["value", "value"]
    missing = cli("--domain-path", tmp_path / "nowhere", "generate", "bitsy")
    assert missing.exit_code == 2 and "no such folder" in missing.output


def test_cli_domain_check(cli, tmp_path, monkeypatch):
    monkeypatch.setenv(registry.PATH_VARIABLE, "")
    good = cli("--domain-path", _folder(tmp_path, name="bitsa"), "domain", "check", "bitsa", "-n", 20)
    assert good.exit_code == 0, good.output
    assert good.stdout.count("  ok   ") == 8 and "FAIL" not in good.stdout
    lenient = MODULE.replace('return Verdict(answer == want, want, "xor")', 'return Verdict(True, want, "xor")')
    assert lenient != MODULE
    other = tmp_path / "other"
    other.mkdir()
    folder = _folder(other, name="bitsb", module=lenient)
    bad = cli("--domain-path", folder, "domain", "check", "bitsb", "-n", 20)
    assert bad.exit_code == 1 and "FAIL the verifier rejects a wrong answer: verdict True on answer" in bad.stdout, bad.output


def test_domain_new_writes_a_domain_that_checks_and_trains(cli, tmp_path, monkeypatch):
    monkeypatch.setenv(registry.PATH_VARIABLE, "")
    made = cli("domain", "new", "gates", "--out", tmp_path / "gates")
    assert made.exit_code == 0, made.output
    folder = tmp_path / "gates"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "gates.lark", "gates.py", "test_gates.py"]
    assert "class GatesDomain(Domain):" in (folder / "gates.py").read_text()
    checked = cli("--domain-path", folder, "domain", "check", "gates", "-n", 50)
    assert checked.exit_code == 0 and "FAIL" not in checked.stdout, checked.output
    trained = cli(
        "--domain-path", folder, "train", "gates", "--steps", 2, "--batch-size", 4, "--hidden", 8, "--out", tmp_path / "run",
        "--curriculum", "--halting",  # every feature the built-ins have
    )
    assert trained.exit_code == 0, trained.output
    assert "curriculum: step 0, level 1/4: depth=1, depth_min=1, arity=2" in trained.output
    solved = cli("--domain-path", folder, "solve", "XOR(1, AND(1, 1), NOT(0))", "--checkpoint", tmp_path / "run", "--json")
    out = json.loads(solved.stdout)
    assert out["expected"] == "1" and solved.exit_code == (0 if out["verified"] else 3), solved.output  # 3: rejected
    own_tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)], capture_output=True, text=True)
    assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr


@pytest.mark.parametrize("args, message", [
    (["Bad-Name"], "lowercase letters"),
    (["arith"], "there is a domain 'arith' already"),
])
def test_domain_new_refuses(cli, args, message):
    result = cli("domain", "new", *args)
    assert result.exit_code == 2 and message in result.output


def test_domain_new_never_writes_over_a_folder(cli, tmp_path):
    (tmp_path / "taken").mkdir()
    result = cli("domain", "new", "taken", "--out", tmp_path / "taken")
    assert result.exit_code == 2 and "exists" in result.output and not any((tmp_path / "taken").iterdir())


def test_a_domain_that_labels_no_subtree_trains_on_its_answers(tmp_path, monkeypatch):
    """label_subtrees is optional: the roots are labelled with the examples' answers."""
    from hybrid_trm.domains import contract
    from hybrid_trm.training.loop import GeneratedBatches, TrainConfig

    unlabelled = MODULE.replace("    def label_subtrees(self, tree, task):", "    def values(self, tree, task):").replace(
        "self.label_subtrees(self.parse(text), task)[-1]", "self.values(self.parse(text), task)[-1]",
    )
    monkeypatch.setenv(registry.PATH_VARIABLE, str(_folder(tmp_path, name="bitsc", module=unlabelled)))
    domain = registry.get("bitsc")
    assert set(domain.label_subtrees(domain.parse("(1 ^ 0)"), "value")) == {None}
    assert all(c.passed for c in contract.check(domain, "value", n=30))
    config = TrainConfig(domain="bitsc", task="value", batch_size=6)
    tb = next(iter(GeneratedBatches(config, 0)))
    labelled = (tb.labels != -100).any(-1)
    assert labelled.nonzero().squeeze(1).tolist() == sorted(tb.roots.tolist())
    answers = [domain.example(config.seed, i, domain.difficulty(), "value").answer for i in range(6)]
    assert tb.labels[tb.roots, 0].tolist() == [int(a) for a in answers]
