"""Words and the names they become in logic (docs/english.md, "The translation").

- A predicate is its word, capitalised: `big` -> Big, the noun `cat` -> Cat, the
  verb `chases` / `chase` -> Chase (one binary predicate whatever the verb's form).
- A plural noun and a verb's -s are undone by spelling rules alone (no word list),
  so a word written in both forms must follow them: `wumpuses` -> wumpus,
  `cats` -> cat, `puppies` -> puppy; `chases` -> chase, `watches` -> watch,
  `flies` -> fly. `plural` and `third_person` write the forms these rules read back.
- A constant is a name in lowercase (`Bob` -> bob) or an entity's words joined by
  `_` (`the bald eagle` -> bald_eagle); one that would be a keyword of the logic
  grammar, or its variable `x`, gets a trailing `_`.

Both readers of a tree (the labeller's reading.py and the translator) name things
through these functions; nothing here reads a tree's structure.
"""

from __future__ import annotations

from ...grammar import Node, kind

VARIABLE = "x"  # every rule's variable, in the translation
# Words of the logic grammar that no constant may be (grammars/logic.lark).
LOGIC_KEYWORDS = frozenset(("not", "and", "or", "implies", "iff", "forall", "exists", "true", "false", VARIABLE))
_PLURAL_ES = ("sses", "shes", "ches", "xes", "zes", "uses")
_VERB_ES = ("sses", "shes", "ches", "xes", "zes", "oes")
_VOWELS = "aeiou"


def plural_shaped(word: str) -> bool:
    """A word that ends in a plain -s (not -ss, -us): a plural noun or a verb's -s."""
    return len(word) > 1 and word.endswith("s") and word[-2] not in "su"


def singular(noun: str) -> str:
    """The singular a plural noun's spelling gives (a word not plural-shaped is one)."""
    return _without_s(noun, _PLURAL_ES)


def plural(noun: str) -> str:
    """The plural `singular` reads back: wumpus -> wumpuses, puppy -> puppies."""
    if noun.endswith("y") and len(noun) > 1 and noun[-2] not in _VOWELS:
        return noun[:-1] + "ies"
    if noun.endswith(("ss", "sh", "ch", "x", "z", "us", "s")):
        return noun + "es"
    return noun + "s"


def lemma(verb: str) -> str:
    """A verb's base form: chases -> chase, watches -> watch, flies -> fly (a base
    form, as after `does not` or `they`, is its own)."""
    return _without_s(verb, _VERB_ES)


def _without_s(word: str, es_endings: tuple[str, ...]) -> str:
    """`word` without its plain -s, -es (after one of `es_endings`) or -ies."""
    if not plural_shaped(word):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(es_endings):
        return word[:-2]
    return word[:-1]


def third_person(verb: str) -> str:
    """The -s form `lemma` reads back: chase -> chases, watch -> watches."""
    if verb.endswith("y") and len(verb) > 1 and verb[-2] not in _VOWELS:
        return verb[:-1] + "ies"
    if verb.endswith(("ss", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


def predicate(token: Node) -> str:
    """The predicate an ADJ, NOUN or VERB leaf names."""
    word = str(token).lower()
    k = kind(token)
    if k == "NOUN":
        word = singular(word)
    elif k == "VERB":
        word = lemma(word)
    return word[:1].upper() + word[1:]


def constant(node: Node) -> str:
    """The constant a NAME leaf or an `entity` node names."""
    if kind(node) == "entity":
        name = "_".join(str(w).lower() for w in node.children)
    else:
        name = str(node).lower()
    return name + "_" if name in LOGIC_KEYWORDS else name


def surface(node: Node) -> str:
    """How a NAME or an entity reads in the text: Bob, the bald eagle."""
    if kind(node) == "entity":
        return "the " + " ".join(str(w) for w in node.children)
    return str(node)
