"""Check a Lark grammar before a domain is built on it: does it load as the LALR
parser every domain uses, which conflicts did Lark meet (a reduce/reduce collision
stops it; a shift/reduce conflict it resolves as a shift, silently), and which
rules and terminals can no parse reach. Each finding names the grammar line it is
about. No torch here: `hybrid-trm grammar check` must start at once.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import lark

from .errors import HybridTRMError
from .grammar import build_parser

# A rule or terminal defined at the start of a line: `?expr.2: ...`, `NUMBER: ...`.
_DEFINITION = re.compile(r"^\s*[?!]?([A-Za-z_]\w*)(?:\.-?\d+)?\s*:")
# Rules Lark makes for `x*`, `x+`, `[x]` inside a rule: `__expr_star_0`.
_GENERATED = re.compile(r"^__(\w+?)_(?:star|plus|opt)_\d+$")


@dataclass
class Finding:
    severity: str  # "error": no parser; "warning": a parser, perhaps not the one meant
    line: int | None  # in the grammar file, from 1
    message: str


@dataclass
class GrammarCheck:
    path: Path
    findings: list[Finding] = field(default_factory=list)
    parser: lark.Lark | None = None  # None: the grammar does not load
    rules: int = 0
    terminals: int = 0

    @property
    def clean(self) -> bool:
        return not self.findings


def check(path: str | Path) -> GrammarCheck:
    """Load the grammar file at `path` as hybrid-trm does and report what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise HybridTRMError(f"grammar file not found: {path}")
    text = path.read_text(encoding="utf-8")
    lines = _definition_lines(text)
    result = GrammarCheck(path)
    with _lark_log() as records:
        try:
            result.parser = build_parser(text)
        except lark.exceptions.GrammarError as err:
            result.findings = _grammar_errors(str(err), lines)
        except lark.exceptions.LarkError as err:  # a grammar Lark's own grammar rejects
            result.findings = [Finding("error", _line_in(str(err)), _first_line(str(err)))]
    result.findings += _logged(records, lines, result.parser)
    if result.parser is not None:
        result.rules = len({r.origin.name for r in result.parser.rules})
        result.terminals = len(result.parser.terminals)
    result.findings.sort(key=lambda f: (f.line or 0, f.severity, f.message))
    return result


@contextmanager
def _lark_log():
    """Lark's log records while the parser is built: it logs conflicts and unused
    rules at debug level and would print them itself at warning level."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = lark.logger
    handlers, level, propagate = logger.handlers, logger.level, logger.propagate
    logger.handlers, logger.propagate = [Collect()], False
    logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)


def _logged(records: list[logging.LogRecord], lines: dict[str, int], parser: lark.Lark | None) -> list[Finding]:
    findings = []
    for i, record in enumerate(records):
        if record.msg.startswith("Shift/Reduce conflict"):
            terminal = _shown(record.args[0], parser)
            following = records[i + 1] if i + 1 < len(records) else None
            rule = following.args[0] if following is not None and following.msg.strip().startswith("*") else None
            where = f" reducing {rule}" if rule is not None else ""
            findings.append(Finding(
                "warning", _rule_line(rule, lines),
                f"shift/reduce conflict on {terminal}: Lark shifts rather than{where}; "
                "if both parses are meant, set the rules' priorities or split the rule",
            ))
        elif record.msg.startswith("Unused rule"):
            rule = record.args[0]
            name = _owner(str(rule.origin.name))
            findings.append(Finding("warning", _rule_line(rule, lines), f"rule {name} is never used: no parse from start reaches it"))
        elif record.msg.startswith("Unused terminals"):
            for name in record.args[0]:
                if name in lines:  # one the grammar names; Lark's own names for "x" literals are not the user's
                    findings.append(Finding("warning", lines[name], f"terminal {name} is never used by a rule"))
    return findings


def _grammar_errors(message: str, lines: dict[str, int]) -> list[Finding]:
    """A GrammarError's findings: each reduce/reduce collision, or the one error."""
    collisions = re.findall(r"Reduce/Reduce collision in (.+?) between the following rules: ((?:\s*- <[^>]*>)+)", message)
    if not collisions:
        names = [n for n in re.findall(r"'(\w+)'|in rule (\w+)", message) for n in n if n in lines]
        line = _line_in(message) or (lines[names[0]] if names else None)
        return [Finding("error", line, _first_line(message))]
    findings = []
    for terminal, rules in collisions:
        # Lark lists the rules of a collision in no fixed order: by their lines, then.
        shown = sorted(re.findall(r"<([^>]*)>", rules), key=lambda r: (lines.get(_owner(r.split(":")[0].strip()), 0), r))
        origins = [r.split(":")[0].strip() for r in shown]
        findings.append(Finding(
            "error", lines.get(_owner(origins[0])),
            f"reduce/reduce conflict before {_terminal(terminal)}: rules {' and '.join(f'<{r}>' for r in shown)} "
            "match the same input; merge them or make their right-hand sides differ",
        ))
    return findings


def _definition_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        found = _DEFINITION.match(line)
        if found:
            lines.setdefault(found.group(1), number)
        for name in re.findall(r"^\s*%(?:import|declare)\s+[\w.]*?(\w+)\s*$", line):
            lines.setdefault(name, number)
    return lines


def _rule_line(rule, lines: dict[str, int]) -> int | None:
    if rule is None:
        return None
    name = rule.origin.name
    return getattr(name, "line", None) or lines.get(_owner(str(name)))


def _shown(terminal: str, parser: lark.Lark | None) -> str:
    """A terminal's name, with the text it stands for where it is a literal: PLUS ('+')."""
    try:
        pattern = parser.get_terminal(terminal).pattern
    except (AttributeError, KeyError):
        return terminal
    return f"{terminal} ({pattern.value!r})" if isinstance(pattern, lark.lexer.PatternStr) else terminal


def _owner(name: str) -> str:
    """The user's rule behind a name Lark generated for `x*` inside it."""
    generated = _GENERATED.match(name)
    return generated.group(1) if generated else name


def _terminal(text: str) -> str:
    found = re.match(r"Terminal\('([^']*)'\)", text)
    name = found.group(1) if found else text
    return "the end of input" if name == "$END" else name


def _line_in(message: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "the grammar does not load"
