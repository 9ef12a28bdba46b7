"""The base install is torch-free (pyproject.toml: torch is the `torch` extra).
With torch made unimportable, the installed `hybrid-trm` command answers `solve`
and scores `eval` with the shipped models on the numpy runtime, needing nothing
the base dependencies do not bring; a command that needs torch says in one line
which extra to install, exit 2. Where torch is installed, the runtime path imports none of it.

Each run is a fresh process of the real console script, watched by a
sitecustomize.py (on PYTHONPATH) that can hide torch and records, at exit, every
attempt to import torch (by whom) and what the process loaded."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
HYBRID_TRM = Path(sys.executable).with_name("hybrid-trm")  # the console script pip installed beside python
INSTALL = "pip install 'hybrid-trm[torch]'"

WATCH = '''
import atexit, json, os, sys

TORCH = ("torch", "torch_geometric")
BEFORE = set(sys.modules)  # what the interpreter and .pth files loaded: not the command's
attempts = []


class NoTorch:
    """torch as if not installed; each attempt recorded with the function that made it."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in TORCH:
            return None
        frame = sys._getframe(1)
        while frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen_importlib")):
            frame = frame.f_back
        attempts.append(f"{frame.f_globals.get('__name__')}.{frame.f_code.co_name}")
        if os.environ["WATCH_HIDE_TORCH"] == "1":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoTorch())


def third_party(module) -> bool:
    """Loaded from a file outside Python's own library (a site-packages, a source tree)."""
    import sysconfig

    where = getattr(module, "__file__", None)
    if where is None:
        return False
    where, paths = os.path.realpath(where), sysconfig.get_paths()
    inside = lambda key: where.startswith(os.path.realpath(paths[key]) + os.sep)
    return inside("purelib") or inside("platlib") or not inside("stdlib")


@atexit.register
def report():
    loaded = {m.partition(".")[0] for m in set(sys.modules) - BEFORE}
    with open(os.environ["WATCH_REPORT"], "w") as out:
        json.dump({
            "attempts": attempts,
            "torch_loaded": sorted(m for m in loaded if m in TORCH),
            "third_party": sorted(m for m in loaded if m != "hybrid_trm" and third_party(sys.modules.get(m))),
        }, out)
'''

# One input per shipped domain (programs ships no model), with its answer.
SOLVES = {
    "arith": ("12 - -7 - (40 + 13)", "-34"),
    "listops": ("[MAX 2 9 [MIN 4 7 ] 0 ]", "9"),
    "logic/verdict": ("forall x. P(x) -> exists y. P(y)", "valid"),
    "logic/entails": ("a & b |= a", "yes"),
}
# The one place the runtime path may ask for torch: the probe that picks the runtime.
PROBE = "hybrid_trm.runtime.loading.torch_imports"


def watched(tmp_path: Path, *args: str, hide_torch: bool, command: list[str] | None = None):
    """Run `hybrid-trm ARGS` (or `command`) watched: (the finished process, the watcher's report)."""
    folder = tmp_path / "watch"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(WATCH)
    report = tmp_path / "report.json"
    env = {
        **os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]),
        "WATCH_HIDE_TORCH": "1" if hide_torch else "0", "WATCH_REPORT": str(report), "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        command or [str(HYBRID_TRM), *args], capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path,
    )
    return done, json.loads(report.read_text())


@pytest.fixture(scope="module")
def solved_without_torch(tmp_path_factory) -> dict:
    """`hybrid-trm solve TEXT --json` of each input in SOLVES, torch hidden."""
    assert HYBRID_TRM.is_file(), f"no console script at {HYBRID_TRM}: install the project (pip install -e '.[dev]')"
    runs = {}
    for name, (text, _) in SOLVES.items():
        runs[name] = watched(tmp_path_factory.mktemp(name.replace("/", "-")), "solve", text, "--json", hide_torch=True)
    return runs


@pytest.mark.parametrize("name", SOLVES)
def test_solve_answers_without_torch(solved_without_torch, name):
    done, report = solved_without_torch[name]
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["answer"], answer["verified"]) == (SOLVES[name][1], True)
    assert name.startswith(answer["domain"]) and done.stderr == ""
    # torch was asked for only by the probe that chose the runtime, and found missing
    assert report["attempts"] and set(report["attempts"]) == {PROBE}, report["attempts"]


def test_solve_needs_only_the_base_dependencies(solved_without_torch):
    """Every third-party module the torch-free solves loaded belongs to a base
    dependency or to what one requires in turn: the base install holds them all."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    base = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    assert not {_name(r) for r in base} & {"torch", "torch-geometric"}
    allowed = _required(base)
    owners = metadata.packages_distributions()
    loaded = set().union(*(report["third_party"] for _, report in solved_without_torch.values()))
    assert {"lark", "numpy", "z3"} <= loaded  # the watcher sees the solve path's imports
    # Nor computer algebra: the numeric verifier checks integers with Python's (issue 20).
    assert "sympy" not in loaded
    outside = {m: owners.get(m) for m in loaded if not {_name(d) for d in owners.get(m, [])} & allowed}
    assert not outside, f"loaded by solve but not from pyproject's base dependencies: {outside}"


def test_eval_scores_without_torch(tmp_path):
    """`hybrid-trm eval` on the numpy runtime, in two forked worker processes."""
    done, report = watched(tmp_path, "eval", "--benchmark", "listops", "--limit", "40", "--jobs", "2", "--json", hide_torch=True)
    assert done.returncode == 0, done.stderr
    scored = json.loads(done.stdout)
    assert (scored["n"], scored["accuracy"], scored["refused"]["count"]) == (40, 1.0, 0)
    assert set(report["attempts"]) == {PROBE}, report["attempts"]


def test_the_runtime_path_imports_no_torch_where_it_is_installed(tmp_path):
    """torch importable: `solve --runtime numpy` and hybrid_trm.runtime never ask for it."""
    done, report = watched(tmp_path, "solve", "[MAX 2 9 [MIN 4 7 ] 0 ]", "--runtime", "numpy", "--json", hide_torch=False)
    assert done.returncode == 0 and json.loads(done.stdout)["answer"] == "9", done.stderr
    assert report["attempts"] == [] and report["torch_loaded"] == []
    script = (
        "from hybrid_trm import runtime\n"
        "r = runtime.load('logic/verdict')\n"
        "print(r.solve('a | ~a').answer, [s.answer for s in r.solve_many(['a & ~a', 'a'])])\n"
    )
    done, report = watched(tmp_path, hide_torch=False, command=[sys.executable, "-c", script])
    assert done.stdout.split("\n")[0] == "valid ['unsatisfiable', 'contingent']", done.stderr
    assert report["attempts"] == [] and report["torch_loaded"] == []


@pytest.mark.parametrize("args", [
    ["train", "arith", "--steps", "1", "--out", "ck"],
    ["eval", "--benchmark", "listops", "--limit", "2", "--runtime", "torch"],
    ["export", "listops/value", "--out", "ck"],
    ["bench", "speed"],
    ["solve", "[MAX 1 2 ]", "--runtime", "torch"],
], ids=lambda args: " ".join(args[:2]))
def test_a_command_that_needs_torch_names_the_extra(tmp_path, args):
    done, _ = watched(tmp_path, *args, hide_torch=True)
    assert done.returncode == 2 and done.stdout == ""
    line = done.stderr.rstrip("\n")
    assert "\n" not in line and line.startswith("error: ") and f"needs torch, which is not installed here: {INSTALL}" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "watch"]  # nothing written before it stopped


EXTRA = re.compile(r"\bextra\s*==")  # a requirement's marker that holds it to one of the package's extras


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalized (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group()).lower()


def _required(requirements: list[str]) -> set[str]:
    """The distributions these requirements bring, with what each requires in turn
    (its extras' requirements left out), as installed here."""
    seen: set[str] = set()
    todo = [r for r in requirements if not EXTRA.search(r)]
    while todo:
        name = _name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += [r for r in metadata.requires(name) or [] if not EXTRA.search(r)]
        except metadata.PackageNotFoundError:
            pass  # an optional one (a marker excludes it here): nothing loaded can come from it
    return seen
