"""The fuzzer's inputs: four families, each input drawn by its own seeded rng, so
any one reproduces alone from (seed, index). See the package docstring."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Callable

from ..domains import registry

FAMILIES = ("unicode", "mutation", "extreme", "injection")


@dataclass(frozen=True)
class Sizes:
    """The largest extremes drawn. Sizes are drawn log-uniformly up to these, so most
    extremes are small and a few reach them (a fast test run lowers them)."""

    depth: int = 30_000  # nesting levels (MAX_DEPTH is 20,000)
    width: int = 120_000  # operands of one chain or list (MAX_ARITY is 10,000)
    digits: int = 6_000  # characters of one literal or name
    chars: int = 300_000  # characters of one input (MAX_INPUT_CHARS is 250,000)


@dataclass(frozen=True)
class FuzzInput:
    seed: int
    index: int
    family: str
    shape: str  # which generator of the family drew it: "bytes", "deep logic negations", ...
    text: str
    domain: str | None  # what solve is told (None: it detects the domain)
    task: str | None  # None: solve picks the task


@dataclass
class _Draw:
    """What one input's generators draw from: its own rng and the run's settings."""

    rng: random.Random
    seed: int
    index: int
    sizes: Sizes
    canary: str

    def size(self, low: int, high: int) -> int:
        """Log-uniform in [low, high]: every order of magnitude equally often."""
        high = max(low, high)
        return min(high, int(math.exp(self.rng.uniform(math.log(low), math.log(high + 1)))))

    def example(self, domain: str | None = None) -> tuple[str, str]:
        """(domain, text): a generated example of a random task, at the domain's
        default difficulty or a harder variant (first-order logic, binarised lists)."""
        name = domain or self.rng.choice(registry.names())
        dom = registry.get(name)
        knobs = _VARIANTS.get(name, {}) if self.rng.random() < 0.3 else {}
        task = self.rng.choice(list(dom.tasks))
        return name, dom.example(self.seed, self.index, dom.difficulty(**knobs), task).input


# Harder examples than the defaults, where a domain has the knobs.
_VARIANTS = {
    "logic": {"first_order": 1, "variables": 2, "constants": 2, "equality": 0.2, "syntax": "mixed"},
    "listops": {"binarised": True},
    "arith": {"digits": 4},
}


def fuzz_input(seed: int, index: int, sizes: Sizes = Sizes(), canary: str = "CANARY") -> FuzzInput:
    """The index-th input of the seeded stream: the same for the same arguments.
    `canary`: the path the payloads would create (the runner's is in a temporary folder)."""
    rng = random.Random(seed * 1_000_003 + index)
    family = FAMILIES[index % len(FAMILIES)]  # in turn: any four consecutive inputs hold every family
    draw = _Draw(rng, seed, index, sizes, canary)
    shape, text, source = _GENERATORS[family](draw)
    domain, task = _given(rng, source)
    return FuzzInput(seed, index, family, shape, text, domain, task)


def _given(rng: random.Random, source: str | None) -> tuple[str | None, str | None]:
    """What solve is told: mostly nothing (detection runs); sometimes a domain (the
    input's own, or any), then sometimes a task of it (not always the default);
    rarely a task without a domain."""
    roll = rng.random()
    if roll < 0.6:
        return None, None
    names = registry.names()
    if roll < 0.63:
        return None, rng.choice([t for n in names for t in registry.get(n).tasks])
    domain = source if source is not None and roll < 0.85 else rng.choice(names)
    task = rng.choice(list(registry.get(domain).tasks)) if rng.random() < 0.35 else None
    return domain, task


# --- unicode ---------------------------------------------------------------------

# Characters a terminal, a regex, a line counter or a case fold treats specially.
_CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u2028", "\u2029"]
_ESCAPES = ["\x1b[2J", "\x1b]0;title\x07", "\x1b[31m", "\x1b[0m", "\x1bc", "\x1b[6n", "\r", "\b" * 8, "\x9b2J"]
_MARKS = ["\u200f", "\u200e", "\u202e", "\u202d", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff", "\u00ad", "\u034f"]
_LOOKALIKES = [
    "\uff11", "\u0661", "\u0967", "\U0001d7cf", "\u00b2", "\u2460",  # digits Python's isdigit accepts
    "\uff0b", "\u2212", "\u2217", "\uff3b", "\uff3d", "\uff08", "\uff5e", "\u2227", "\u2228",  # operators
    "\u00a0", "\u3000", "\u2003", "\u0130", "\u212a", "\u017f", "\u00df", "\U0001d443", "\u2200\u2200",  # spaces, case folds
]


def _code_point(rng: random.Random) -> str:
    pool = rng.randrange(6)
    if pool == 0:
        return rng.choice(_CONTROLS)
    if pool == 1:
        return rng.choice(_ESCAPES + _MARKS)
    if pool == 2:
        return chr(rng.randrange(0x300, 0x370))  # combining marks: they attach to what precedes
    if pool == 3:
        return chr(rng.randrange(0x10000, 0x110000))  # astral: two UTF-16 units, never a surrogate here
    if pool == 4:
        return rng.choice(_LOOKALIKES)
    point = rng.randrange(0xF800)  # the BMP without the surrogates D800-DFFF
    return chr(point if point < 0xD800 else point + 0x800)


def _unicode(d: _Draw) -> tuple[str, str, str | None]:
    shape = d.rng.choice(("bytes", "code points", "inside valid"))
    if shape == "bytes":
        return shape, d.rng.randbytes(d.size(1, 4000)).decode("utf-8", errors="replace"), None
    if shape == "code points":
        return shape, "".join(_code_point(d.rng) for _ in range(d.size(1, 500))), None
    domain, text = d.example()
    for _ in range(d.rng.randint(1, 5)):
        at = d.rng.randint(0, len(text))
        text = text[:at] + _code_point(d.rng) + text[at:]
    return f"{shape} {domain}", text, domain


# --- mutation --------------------------------------------------------------------

# Tokens as the grammars see them, whitespace kept, so "".join(tokens) is the text.
_TOKEN = re.compile(r"\s+|\[(?:MAX|MIN|MED|SM)|\|=|<->|->|[A-Za-z_][A-Za-z0-9_]*|\d+|.", re.S)
VOCABULARY = {
    "arith": ("+", "-", "*", "(", ")", "0", "7", "12", "007", "999999999999999", "--", " "),
    "listops": ("[MAX", "[MIN", "[MED", "[SM", "]", "(", ")", "0", "9", "12", "[", " "),
    "logic": (
        "forall", "exists", "∀", "∃", "|=", "⊨", ";", "=", "P(", "P", "Q(x)", ",", "->", "<->", "~", "!", "¬",
        "&", "|", "and", "or", "not", "implies", "iff", "true", "false", "⊤", "⊥", ".", "(", ")", "x", "y",
        "a", "c0", "v", ">", "→", "∧", "∨", "x.", "P(x,", "( a ( and", " ",
    ),
    "english": (
        "If", "then", "something", "someone", "it", "they", "is", "are", "not", "does", "the", "a", "an", "Every",
        "All", "Q:", ".", ",", "and", "Bob", "cat", "cats", "big", "chases", "things", "people", " ",
    ),
}
_EDITS = ("delete", "duplicate", "swap", "insert", "replace")


def _mutation(d: _Draw) -> tuple[str, str, str | None]:
    domain, text = d.example()
    tokens = _TOKEN.findall(text)
    own = VOCABULARY.get(domain, ())
    anywhere = [t for words in VOCABULARY.values() for t in words]
    for _ in range(d.rng.randint(1, 5)):
        words = own if own and d.rng.random() < 0.8 else anywhere  # mostly the domain's own tokens
        _edit(d.rng, tokens, d.rng.choice(_EDITS), words)
    return f"mutated {domain}", "".join(tokens), domain


def _edit(rng: random.Random, tokens: list[str], edit: str, words: list[str] | tuple[str, ...]) -> None:
    solid = [i for i, t in enumerate(tokens) if not t.isspace()]
    if edit == "insert" or not solid:
        word = rng.choice(words)
        tokens.insert(rng.randint(0, len(tokens)), word if rng.random() < 0.5 else f" {word} ")
        return
    i = rng.choice(solid)
    if edit == "delete":
        del tokens[i]
    elif edit == "duplicate":
        tokens.insert(i, tokens[i])
    elif edit == "swap":
        j = rng.choice(solid)
        tokens[i], tokens[j] = tokens[j], tokens[i]
    else:
        tokens[i] = rng.choice(words)


# --- extreme ---------------------------------------------------------------------
# Each kind maps its shapes to (domain, a builder): only the drawn shape is built
# (a 30,000-level input takes a while to make).

def _deep(d: _Draw) -> dict[str, tuple[str, Callable[[], str]]]:
    n = d.size(100, d.sizes.depth)

    def quantifiers() -> str:
        return " ".join(f"{d.rng.choice(('forall', 'exists'))} x{i}." for i in range(n))

    return {
        "deep arith sums": ("arith", lambda: "1+(" * n + "1" + ")" * n),
        "deep arith parentheses": ("arith", lambda: "(" * n + "1" + ")" * n),
        "deep arith negations": ("arith", lambda: "-" * n + "1"),
        "deep listops": ("listops", lambda: "[MAX 1 " * n + "1" + " ]" * n),
        "deep listops binarised": ("listops", lambda: "( " * n + "[SM 1 2 ]" + " )" * n),
        "deep logic negations": ("logic", lambda: "~" * n + "p"),
        "deep logic quantifiers": ("logic", lambda: f"{quantifiers()} P(x0) | Q(x{n - 1})"),
        "deep logic implications": ("logic", lambda: "p -> " * n + "p"),
        "deep logic parentheses": ("logic", lambda: "(" * n + "p" + ")" * n),
        "deep logic bowman": ("logic", lambda: "( p ( and " * n + "q" + " ) )" * n),
        "deep programs blocks": ("programs", lambda: "x = 0; " + "if (x < 1) { " * n + "x = x + 1;" + " }" * n + " return x;"),
        "deep programs loops": ("programs", lambda: "x = 0; " + "while (x < 3) { " * n + "x = x + 1;" + " }" * n + " return x;"),
        "deep programs expressions": ("programs", lambda: "return " + "-(" * n + "1" + ")" * n + ";"),
        "deep english rules": ("english", lambda: " ".join(
            f"If something is {_ADJECTIVES[i % 8]} then it is {_ADJECTIVES[(i + 1) % 8]}." for i in range(n)
        ) + " Bob is big. Q: Bob is kind."),
        "deep programs calls": ("programs", lambda: f"def f(n) {{ if (n <= 0) {{ return 0; }} return 1 + f(n - 1); }} return f({n});"),
    }


_ADJECTIVES = ("big", "red", "kind", "young", "rough", "cold", "round", "green")


def _wide(d: _Draw) -> dict[str, tuple[str, Callable[[], str]]]:
    k, rng = d.size(1000, d.sizes.width), d.rng
    m = rng.randint(1, 40)  # predicate arity
    args = [f"c{i}" for i in range(m)]
    return {
        "wide listops": ("listops", lambda: "[SM " + " ".join(str(rng.randrange(10)) for _ in range(k)) + " ]"),
        "wide listops of lists": ("listops", lambda: "[MED " + "[MIN 1 2 ] " * (k // 8) + "]"),
        "wide arith sums": ("arith", lambda: "+".join(str(rng.randrange(10)) for _ in range(k))),
        "wide arith products": ("arith", lambda: "*".join(rng.choice("123") for _ in range(k))),
        "wide logic or": ("logic", lambda: " | ".join(f"p{rng.randrange(50)}" for _ in range(k))),
        "wide logic and": ("logic", lambda: " & ".join(rng.choice(("a", "~a", "b")) for _ in range(k))),
        "wide logic letters": ("logic", lambda: " | ".join(f"a{i}" for i in range(k))),
        "wide logic predicates": ("logic", lambda: " & ".join(f"P{i}(c{i})" for i in range(d.size(1, k)))),
        "wide logic arity": ("logic", lambda: f"P({','.join(args)}) | ~P({','.join(reversed(args))})"),
        "wide logic quantified arity": ("logic", lambda: "".join(f"forall x{i}. " for i in range(m)) + f"R({','.join(f'x{i}' for i in range(m))})"),
        "wide logic equalities": ("logic", lambda: " & ".join(f"c{i} = c{i + 1}" for i in range(m)) + f" |= c0 = c{m}"),
        "wide logic huge arity": ("logic", lambda: f"P({','.join('a' * d.rng.randint(1, 3) for _ in range(k // 4))})"),
        "wide programs statements": ("programs", lambda: "x = 0;\n" + "x = x + 1;\n" * k + "return x;"),
        "wide programs call": ("programs", lambda: f"def f({','.join(f'a{i}' for i in range(m))}) {{ return a0; }} return f({','.join(['1'] * m)});"),
    }


def _literal(d: _Draw) -> dict[str, tuple[str, Callable[[], str]]]:
    k = d.size(1, d.sizes.digits)
    digits = "".join(d.rng.choice("0123456789") for _ in range(k))
    form = d.rng.choice(("{0}", "{0}+{0}", "{0}*{0}", "-{0}", "{0}-{0}-1", "({0})*2"))
    return {
        "long arith literal": ("arith", lambda: form.format(digits)),
        "long listops literal": ("listops", lambda: f"[MAX {digits} 1 ]"),
        "long logic name": ("logic", lambda: f"{'a' * k} | ~{'a' * k}"),
        "long logic predicate": ("logic", lambda: f"forall x. P{'x' * k}(x) -> P{'x' * k}(c)"),
    }


def _long(d: _Draw) -> dict[str, tuple[str, Callable[[], str]]]:
    c = d.size(10_000, d.sizes.chars)
    half = c // 2
    return {
        "long arith": ("arith", lambda: "(1+2)*3-" * (c // 8) + "1"),
        "long listops": ("listops", lambda: "[SM " + "[MAX 1 2 ] " * (c // 11) + "]"),
        "long logic": ("logic", lambda: "(p & q) | " * (c // 10) + "r"),
        "long logic pair": ("logic", lambda: "a & b & " * (half // 8) + "c |= " + "a | " * (half // 4) + "c"),
        "long english": ("english", lambda: "The cat is big. " * (c // 16) + "Q: The cat is big."),
        "long programs": ("programs", lambda: "i = 0; s = 0;\n" + "while (i < 100000) { s = (s + i) % 7; i = i + 1; }\n" * (c // 60) + "return s;"),
    }


def _whitespace(d: _Draw) -> dict[str, tuple[str, Callable[[], str]]]:
    w = d.size(1, d.sizes.chars)
    run = (d.rng.choice((" ", "\t", "\n", "\r\n", " \t\n\f\r", "\f")) * w)[:w]
    domain, text = d.example()
    spaces = [m.start() for m in re.finditer(" ", text)] or [len(text)]
    at = d.rng.choice(spaces)
    return {
        f"whitespace around {domain}": (domain, lambda: run + text + run),
        f"whitespace inside {domain}": (domain, lambda: text[:at] + run + text[at:]),
        "whitespace only": (None, lambda: run),
    }


def _extreme(d: _Draw) -> tuple[str, str, str | None]:
    forms = d.rng.choice((_deep, _wide, _literal, _long, _whitespace))(d)
    shape = d.rng.choice(sorted(forms))
    domain, text = forms[shape]
    return shape, text(), domain


# --- injection -------------------------------------------------------------------

# Each would create CANARY (replaced by the runner's path) if anything ran it.
PAYLOADS = {
    "python": (
        "__import__('os').system('touch CANARY')", "eval(\"open('CANARY','w')\")",
        "exec(\"open('CANARY', 'w').close()\")", "open('CANARY', 'w').write('x')",
        "().__class__.__base__.__subclasses__()", "1+__import__('os').system('touch CANARY')",
        "compile('open(\"CANARY\",\"w\")','','exec')", "breakpoint()",
    ),
    "shell": (
        "$(touch CANARY)", "`touch CANARY`", "; touch CANARY", "| touch CANARY", "&& touch CANARY",
        "\ntouch CANARY\n", "${IFS}touch${IFS}CANARY", "$((1+2))", "> CANARY",
    ),
    "format": ("{0.__class__}", "{0.__class__.__init__.__globals__}", "%s%n%x%p", "{}", "{input}", "%(x)s", "{!r}", "\\N{BULLET}", "%"),
    "sympy": (
        "Symbol('x')", "S('__import__(\"os\").system(\"touch CANARY\")')", "lambda: 0",
        "sympify('open(\"CANARY\",\"w\")')", "Integer(1)/0", "oo - oo", "Function('f')(x)", "x**x**x**99999999",
    ),
    "pickle": (
        "cos\nsystem\n(S'touch CANARY'\ntR.",
        (b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94"
         b"\x8c\x0ctouch CANARY\x94\x85\x94R\x94.").decode("latin-1"),
    ),
    "path": (
        "../../../../etc/passwd", "/dev/zero", "/proc/self/environ", "..\\..\\..\\windows\\win.ini",
        "file:///etc/passwd", "CANARY", "~/.ssh/id_rsa",
    ),
    "data": (
        '{"input": "1+2", "answer": "3", "__class__": 1}', '[1, 2, {"a": null}]',
        "!!python/object/apply:os.system ['touch CANARY']", "--- &a [*a, *a]",
        "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", "${jndi:ldap://localhost/a}",
    ),
    "sql": ("'; DROP TABLE examples; --", "1 OR 1=1", '" OR ""="', "1; SELECT * FROM sqlite_master", "' UNION SELECT NULL--"),
}
# Names with a meaning to Python or sympy, where logic allows a name: lowercase ones
# as letters, variables and constants; capitalised ones as predicates and letters.
_LOWER_NAMES = (
    "lambda", "import", "exec", "eval", "open", "os", "system", "none", "pi", "oo", "zoo", "nan", "self",
    "x__class__", "globals", "e", "i",
)
_UPPER_NAMES = (
    "S", "I", "E", "N", "O", "Q", "C", "Symbol", "Function", "Integer", "Lambda", "Eq", "Not", "And", "Or",
    "True", "False", "None", "Eval", "Exec", "Open",
)


def _injection(d: _Draw) -> tuple[str, str, str | None]:
    kind = d.rng.choice(sorted(PAYLOADS))
    payload = d.rng.choice(PAYLOADS[kind]).replace("CANARY", d.canary)
    place = d.rng.choice(("alone", "after valid", "before valid", "inside valid", "as names"))
    if place == "alone":
        return f"{kind} alone", payload, None
    if place == "as names":
        return f"{kind} as names", _as_names(d.rng, payload), "logic"
    domain, text = d.example()
    sep = d.rng.choice(("", " ", "\n"))
    if place == "after valid":
        text = text + sep + payload
    elif place == "before valid":
        text = payload + sep + text
    else:
        at = d.rng.randint(0, len(text))
        text = text[:at] + payload + text[at:]
    return f"{kind} {place}", text, domain


def _as_names(rng: random.Random, payload: str) -> str:
    """A formula the logic grammar accepts whose names come from the payload's words
    and from names Python or sympy give a meaning to (`lambda`, `S`, `True`)."""
    words = [w for w in re.findall(r"[a-z][a-z0-9_]*", payload.lower()) if w not in _KEYWORDS]
    lower = rng.choice(words + list(_LOWER_NAMES) if words else _LOWER_NAMES)
    other = rng.choice(_LOWER_NAMES)
    upper = rng.choice(_UPPER_NAMES)
    return rng.choice((
        f"forall {lower}. {upper}({lower}, {other}) -> {upper}({other}, {lower})",
        f"{upper}({lower}) |= exists {other}. {upper}({other})",
        f"{lower} | ~{lower} & {upper}",
        f"{upper} -> {rng.choice(_UPPER_NAMES)} ; {lower} = {other}",
        f"( {lower} ( and {other} ) )",
    ))


_KEYWORDS = {"not", "and", "or", "implies", "iff", "forall", "exists", "true", "false"}
_GENERATORS: dict[str, Callable[[_Draw], tuple[str, str, str | None]]] = {
    "unicode": _unicode, "mutation": _mutation, "extreme": _extreme, "injection": _injection,
}
