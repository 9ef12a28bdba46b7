"""What a pronoun agrees with (docs/english.md, "Resolving references"): the gender
of common first names and of nouns for people, and the pronouns of each gender.

A referent is one of
  m    masculine: he, him    (Bob; a man, a king)
  f    feminine: she, her    (Anne; a woman, a queen)
  mf   a person of either:   he, him, she, her  (a farmer, a doctor; a name not listed here)
  n    neuter: it            (a donkey, the cat: every noun not listed here)
  p    plural: they, them    (Bob and a farmer)
Pronouns inside a rule are the rule's variable (roles.py) and agree with nothing here.

This is data both readers of references share, as both readers of a theory share
lexicon.py; each decides agreement with it in its own code.
"""

from __future__ import annotations

MALE_NAMES = frozenset((
    "Bob", "Charlie", "Dave", "Gary", "Harry", "Alan", "Carl", "Fred", "Hank", "Jack", "Max", "Rex", "Tom", "John",
    "James", "Peter", "Paul", "Mark", "David", "Michael", "George", "Henry", "Oscar", "Ben", "Dan", "Ed", "Frank",
    "Greg", "Ian", "Joe", "Ken", "Leo", "Luke", "Mike", "Nick", "Ralph", "Steve", "Tim", "Victor", "Walter",
))
FEMALE_NAMES = frozenset((
    "Anne", "Erin", "Fiona", "Beth", "Dana", "Eve", "Gwen", "Ivy", "Sally", "Fae", "Polly", "Stella", "Wren", "Mary",
    "Alice", "Emma", "Jane", "Kate", "Lucy", "Sarah", "Laura", "Helen", "Rose", "Ruth", "Amy", "Clara", "Diana",
    "Ella", "Grace", "Hannah", "Iris", "Julia", "Lily", "Nina", "Olivia", "Paula", "Rachel", "Tina", "Vera", "Zoe",
))
# Names of either gender (and every name not listed above): he or she.

MALE_NOUNS = frozenset((
    "man", "boy", "king", "father", "brother", "son", "uncle", "prince", "husband", "monk", "gentleman",
    "grandfather", "nephew", "waiter", "actor",
))
FEMALE_NOUNS = frozenset((
    "woman", "girl", "queen", "mother", "sister", "daughter", "aunt", "princess", "wife", "nun", "lady",
    "grandmother", "niece", "waitress", "actress",
))
PERSON_NOUNS = frozenset((
    "farmer", "doctor", "teacher", "child", "student", "lawyer", "baker", "pilot", "nurse", "neighbour", "painter",
    "writer", "singer", "dancer", "clerk", "judge", "chef", "guard", "driver", "person", "friend", "someone",
    "stranger", "poet", "sailor", "soldier", "banker", "farmhand", "shepherd", "hunter", "fisher", "visitor",
    "cousin", "parent", "scientist", "artist", "tailor", "miner", "merchant", "priest",
))

# The gender a pronoun asks for, by its spelling (lowercase).
PRONOUN_GENDER = {"he": "m", "him": "m", "she": "f", "her": "f", "it": "n", "they": "p", "them": "p"}


def name_gender(name: str) -> str:
    """m, f, or mf (a name of either gender, or one not listed)."""
    if name in MALE_NAMES:
        return "m"
    return "f" if name in FEMALE_NAMES else "mf"


def noun_gender(noun: str) -> str:
    """The gender of a singular noun: m, f, mf (a person) or n (anything else)."""
    if noun in MALE_NOUNS:
        return "m"
    if noun in FEMALE_NOUNS:
        return "f"
    return "mf" if noun in PERSON_NOUNS else "n"
