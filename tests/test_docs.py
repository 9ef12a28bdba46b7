"""The docs show what the program prints: every `$ hybrid-trm solve ...` (and
`--version`) in a console block of README.md or docs/*.md that shows its output is
run here, and its output compared line by line (times in ms vary: compared as a
number). Commands that need files the docs make elsewhere are not run.

Beyond those: every command written anywhere in the docs names a real command,
real options, presets, tasks and knobs; the knob table lists each domain's; links,
anchors and repository paths exist; docs/domains.md's `domain` and `grammar` steps
run in order as a reader runs them, output compared; the README's Python runs; and
results.md's generated listops and arith sets score what the page shows. Training,
benchmarks and the logic sets take minutes and are not run here."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shlex
from decimal import ROUND_HALF_UP, Decimal
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


# --- Every command the docs write out names a real command and real options -------------

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```(\w*)\n(.*?)```", flags=re.S)


def _blocks(text: str) -> list[tuple[int, str, str]]:
    """(offset, language, body) of every fenced block."""
    return [(m.start(), m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def written_commands() -> list[tuple[str, str, list[str]]]:
    """(page, the text, its arguments after `hybrid-trm`) for every `hybrid-trm ...`
    (or `python -m hybrid_trm ...`, or torchrun's `-m hybrid_trm ...`) in a bash or
    console block or in inline code; pipes and && split a line."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        lines = []
        for _, language, body in _blocks(text):
            if language in ("bash", "console"):
                lines += [line.strip().removeprefix("$ ") for line in body.replace("\\\n", " ").splitlines()]
        lines += re.findall(r"`([^`\n]+)`", FENCE.sub("", text))
        for line in lines:
            if "hybrid-trm" not in line and "hybrid_trm" not in line:
                continue
            try:
                tokens = shlex.split(line, comments=True)
            except ValueError as err:
                found.append((page.name, line, [f"<cannot split: {err}>"]))
                continue
            piece: list[str] = []
            for token in [*tokens, "&&"]:
                if token not in ("&&", "|", ";"):
                    piece.append(token)
                    continue
                for start, token_ in enumerate(piece):
                    if token_ == "hybrid-trm" or (token_ == "hybrid_trm" and piece[start - 1:start] == ["-m"]):
                        found.append((page.name, line, piece[start + 1:]))
                        break
                piece = []
    return found


@functools.lru_cache(maxsize=None)
def _app():
    import typer.main

    from hybrid_trm.cli.main import app

    return typer.main.get_command(app)


def _parse(args: list[str]) -> tuple[list[str], dict[str, list[str]], list[str], list[str]]:
    """Walk the Typer app along `args`: (the subcommand path, each option's values, the
    positional arguments, what is wrong). A word in capitals stands for any command."""
    command = _app()
    path: list[str] = []
    options: dict[str, list[str]] = {}
    positional: list[str] = []
    wrong: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        params = {name: p for p in command.params for name in [*p.opts, *getattr(p, "secondary_opts", [])]}
        if re.match(r"^--?[a-zA-Z]", arg) and arg.split("=")[0] != "--help":
            name = arg.split("=")[0]
            param = params.get(name)
            if param is None:
                wrong.append(f"`{' '.join(['hybrid-trm', *path])}` has no option {name}")
                break
            takes_value = not getattr(param, "is_flag", False) and name not in getattr(param, "secondary_opts", [])
            if takes_value and "=" in arg:
                options.setdefault(name, []).append(arg.split("=", 1)[1])
            elif takes_value:
                options.setdefault(name, []).append(args[i + 1] if i + 1 < len(args) else "")
                i += 1
            i += 1
            continue
        if hasattr(command, "commands") and arg != "--help":
            if arg.isupper():  # `hybrid-trm COMMAND --help`
                return path, options, positional, wrong
            if arg not in command.commands:
                wrong.append(f"`{' '.join(['hybrid-trm', *path])}` has no command {arg!r}")
                break
            command = command.commands[arg]
            path.append(arg)
        elif arg != "--help":
            positional.append(arg)
        i += 1
    return path, options, positional, wrong


def _names_wrong(path, options, positional) -> list[str]:
    """A preset, domain, task or knob named in a command that does not exist."""
    from hybrid_trm.domains import registry
    from hybrid_trm.training.presets import PRESETS

    wrong = []
    meta = options.get("--meta", []) if path == ["train"] else []  # elsewhere --meta is a checkpoint
    presets = [p for p in options.get("--preset", []) + meta if not p.isupper()]
    wrong += [f"no preset {p!r}" for p in presets if p not in PRESETS]
    domain = None
    if path in (["generate"], ["train"], ["eval"]) and positional:
        domain = positional[0]
    elif options.get("--domain"):
        domain = options["--domain"][0]
    elif presets and presets[0] in PRESETS:
        domain = PRESETS[presets[0]].domain
    if domain is None or domain not in registry.names():
        return wrong  # a domain of the reader's own (--domain-path) is not checked here
    spec = registry.get(domain)
    wrong += [f"{domain} has no task {t!r}" for t in options.get("--task", []) if t not in spec.tasks]
    fields = {f.name for f in dataclasses.fields(spec.Difficulty)}
    for knob in options.get("--knob", []) + options.get("--eval-knob", []):
        if knob.split("=")[0] not in fields:
            wrong.append(f"{domain} has no knob {knob.split('=')[0]!r}")
    return wrong


def test_every_written_command_names_real_commands_options_and_knobs():
    commands = written_commands()
    assert len(commands) >= 100, "the extraction found too few commands"
    wrong = []
    for page, line, args in commands:
        path, options, positional, problems = _parse(args)
        problems += _names_wrong(path, options, positional)
        wrong += [f"{page}: {line}: {p}" for p in problems]
    assert not wrong, "\n".join(wrong)


def test_the_knob_table_lists_every_domain_its_tasks_and_knobs():
    from hybrid_trm.domains import registry

    text = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| (.*) \| (.*) \|$", text, flags=re.M)
    assert sorted(name for name, _, _ in rows) == sorted(registry.names())
    for name, tasks, knobs in rows:
        spec = registry.get(name)
        tasks, knobs = (re.sub(r"\([^)]*\)", "", cell) for cell in (tasks, knobs))  # (what each means)
        assert re.findall(r"`(\w+)`", tasks) == list(spec.tasks), name
        assert sorted(re.findall(r"`(\w+)`", knobs)) == sorted(f.name for f in dataclasses.fields(spec.Difficulty)), name


def test_links_and_paths_in_the_docs_exist():
    """Every relative link (and its #anchor), and every repository path in inline code."""
    from hybrid_trm.domains import registry

    def anchors(page: Path) -> set[str]:
        heads = re.findall(r"^#+ (.*)$", FENCE.sub("", page.read_text(encoding="utf-8")), flags=re.M)
        return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}

    wrong = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            where = (page.parent / path) if path else page
            if not where.exists():
                wrong.append(f"{page.name}: link {target}: no such file")
            elif anchor and where.suffix == ".md" and anchor not in anchors(where):
                wrong.append(f"{page.name}: link {target}: no such heading")
        for code in re.findall(r"`([^`\n]+)`", FENCE.sub("", text)):
            for token in code.split():
                token = token.strip("(),;:")
                if "/" not in token or not re.fullmatch(r"[\w.\-/]+", token) or token.startswith(("runs/", "/")):
                    continue
                if any(part.isupper() for part in token.split("/")):  # DIR/x.py: a placeholder
                    continue
                if token.split("/")[0] in registry.names():
                    domain, _, task = token.partition("/")
                    if task not in registry.get(domain).tasks:
                        wrong.append(f"{page.name}: {token}: {domain} has no task {task!r}")
                elif not any(p.exists() for p in (ROOT / token, ROOT / "hybrid_trm" / token, page.parent / token)):
                    wrong.append(f"{page.name}: {token}: no such path")
    assert not wrong, "\n".join(wrong)


# --- docs/domains.md, run as a reader runs it ----------------------------------------------

WALKED = ("domain", "grammar")  # quick, and what the page's later steps build on


def walkthrough(page: Path) -> list[tuple]:
    """The page's steps in order: ("cd", folder); ("file", name, text) for a plain block
    introduced by a paragraph naming `name` and ending in ':' (written if it does not
    exist yet, else compared with what is there); ("run", line, args, shown lines) for
    a `domain` or `grammar` command of a console block. Other commands are not run."""
    text = page.read_text(encoding="utf-8")
    steps: list[tuple] = []
    end = 0
    for start, language, body in _blocks(text):
        before = text[end:start].strip().split("\n\n")[-1]
        end = text.index("```", start + 3) + 3
        named = re.findall(r"`([\w-]+\.(?:lark|py|txt|json|jsonl))`", before)
        if not language and named and before.endswith(":"):
            steps.append(("file", named[-1], body))
        if language != "console":
            continue
        current = None
        for line in body.splitlines():
            if line.startswith("$ "):
                current = None
                args = shlex.split(line[2:], comments=True)
                if args[:1] == ["cd"]:
                    steps.append(("cd", args[1]))
                elif args[:1] == ["hybrid-trm"] and _parse(args[1:])[0][:1] in ([w] for w in WALKED):
                    current = ("run", line[2:], args[1:], [])
                    steps.append(current)
            elif current is not None:
                current[3].append(line)
    return steps


@pytest.mark.parametrize("page", [p for p in PAGES if any(s[0] == "run" for s in walkthrough(p))], ids=lambda p: p.name)
def test_a_walkthrough_runs_as_written(cli, page, tmp_path, monkeypatch):
    from hybrid_trm.domains import registry

    monkeypatch.setenv(registry.PATH_VARIABLE, "")  # --domain-path sets it: undone after the test
    here, ran = tmp_path, 0
    for step in walkthrough(page):
        if step[0] == "cd":
            here = here / step[1]
            monkeypatch.chdir(here)
        elif step[0] == "file":
            file = here / step[1]
            if file.exists():  # what the page says a file holds, the file holds (comments aside)
                written = [line for line in file.read_text(encoding="utf-8").splitlines() if not line.startswith("//")]
                assert "\n".join(written).strip() == step[2].strip(), f"{page.name}: {step[1]} differs"
            else:
                file.write_text(step[2], encoding="utf-8")
        else:
            _, line, args, shown = step
            result = cli(*args)
            assert result.exception is None or isinstance(result.exception, SystemExit), result.output
            printed = result.output.rstrip("\n").splitlines()
            assert [_same(p) for p in printed] == [_same(s) for s in shown], f"{page.name}: {line}\n{result.output}"
            ran += 1
    assert ran >= 3


# --- the Python the README shows ------------------------------------------------------------

def test_the_readme_python_runs(tmp_path, monkeypatch, capsys):
    """The README's Python blocks that need no file of their own run without error,
    and a printed line shown in a comment matches it ("..." for the rest of a number)."""
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [body for _, language, body in _blocks(text) if language == "python" and "-rt" not in body]
    assert blocks
    for body in blocks:
        exec(compile(body, "README.md", "exec"), {})
        printed = capsys.readouterr().out.splitlines()
        expected = [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+# (.*)$", body, flags=re.M)]
        shown = [e for e in expected if not e.startswith("the ")]  # a comment that says what, not the value
        for value in shown:
            pattern = re.escape(value).replace(r"\.\.\.", r"\d*")
            assert any(re.fullmatch(pattern, p) for p in printed), (value, printed)


# --- generated sets the results page scores -------------------------------------------------

def results_rows() -> list[tuple[str, float, int, list[str], list[str]]]:
    """(what, accuracy shown, n shown, generate args, eval args) for each results.md row
    whose command generates a listops or arith set and evaluates the shipped model on it."""
    rows = []
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    for what, figure, command in re.findall(r"^\| (.*?) \| (.*?) \| `([^`]*)`[^|]*\|$", text, flags=re.M):
        m = re.fullmatch(r"hybrid-trm (generate (?:listops|arith) .*) && hybrid-trm (eval \w+ \S+)", command)
        shown = re.match(r"\**([\d.]+)%\**[^(]*\(n ?= ?([\d,]+)", figure)
        if m and shown:
            rows.append((what, float(shown.group(1)), int(shown.group(2).replace(",", "")),
                         shlex.split(m.group(1)), shlex.split(m.group(2))))
    return rows


@pytest.mark.parametrize("what,accuracy,n,generate,evaluate", results_rows(), ids=[r[0][:40] for r in results_rows()])
def test_a_results_row_scores_what_it_shows(cli, what, accuracy, n, generate, evaluate):
    made = cli(*generate)
    assert made.exit_code == 0, made.output
    result = cli(*evaluate, "--json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["n"] == n
    if accuracy == 100:  # 100% is every one, not a rounding up
        assert report["accuracy"] == 1.0, (what, report["accuracy"])
    else:  # the figure as shown, to its last digit, rounded half up
        right = round(report["accuracy"] * n)
        digits = len(str(accuracy).partition(".")[2])
        percent = (Decimal(100 * right) / n).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        assert percent == Decimal(str(accuracy)), (what, f"{right} of {n}")


def test_the_results_rows_to_run():
    assert len(results_rows()) >= 4
