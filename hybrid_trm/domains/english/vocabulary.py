"""The words generated theories are drawn from, in the styles of the datasets they
imitate: ProofWriter's people (names with adjectives) and animals (`the bald eagle`,
with verbs between them), and PrOntoQA's ontologies of made-up nouns.

Every word has the shape its grammar class needs (grammars/english.lark): adjectives,
nouns and verbs' base forms never end in a plain -s; the forms the generator writes
(`lexicon.plural`, `lexicon.third_person`) read back to these (tests check both).
The parser itself takes any word of the right shape: these lists are only what the
generator draws from.
"""

from __future__ import annotations

ADJECTIVES = (
    "big", "blue", "cold", "furry", "green", "kind", "nice", "quiet", "red", "rough", "round", "smart", "white",
    "young", "happy", "sad", "tall", "small", "heavy", "loud", "soft", "hard", "fast", "slow", "calm", "brave",
    "shy", "bright", "dark", "clean", "dirty", "quick", "sharp", "wet", "dry", "old", "rich", "poor", "wild",
    "fierce", "gentle", "warm", "huge", "tiny", "strong", "weak", "proud", "lazy", "busy", "clever",
)
NAMES = (
    "Anne", "Bob", "Charlie", "Dave", "Erin", "Fiona", "Gary", "Harry", "Alan", "Beth", "Carl", "Dana", "Eve",
    "Fred", "Gwen", "Hank", "Ivy", "Jack",
)
ANIMALS = (
    "cat", "dog", "bear", "lion", "mouse", "rabbit", "squirrel", "tiger", "cow", "bald eagle", "grey wolf",
    "horse", "polar bear", "owl", "fox",
)
VERBS = ("chase", "eat", "like", "need", "see", "visit", "watch", "kiss", "push", "follow", "meet", "help")

# PrOntoQA's ontologies are made of nonsense nouns (so that no fact is known
# beforehand) and of properties; its entities are a few first names.
NOUNS = (
    "wumpus", "yumpus", "zumpus", "dumpus", "rompus", "numpus", "tumpus", "vumpus", "impus", "jompus", "gorpus",
    "shumpus", "lempus", "sterpus", "grimpus", "lorpus", "brimpus", "felpus", "quimpus", "sarpus", "bompus",
    "kempus", "dorpus", "wimpus", "zelpus",
)
PROPERTIES = (
    "fruity", "transparent", "mean", "opaque", "bright", "dull", "kind", "feisty", "spicy", "sweet", "sour",
    "bitter", "small", "large", "hot", "cold", "wooden", "metallic", "luminous", "nervous", "happy", "angry",
    "aggressive", "floral", "earthy", "amenable", "liquid", "shy", "slow", "fast",
)
PRONTOQA_NAMES = ("Max", "Sally", "Alex", "Fae", "Polly", "Rex", "Sam", "Stella", "Wren")

# Discourses (the `antecedent` task): people of each gender (agreement.py), things,
# and words for what they are and do. No word is in two lists: a word is one
# predicate of one arity (roles.check).
DISCOURSE_MEN = ("Bob", "Dave", "Gary", "Harry", "Carl", "Fred", "Jack", "Tom", "Peter", "Paul", "George", "Oscar")
DISCOURSE_WOMEN = ("Anne", "Erin", "Fiona", "Beth", "Eve", "Gwen", "Mary", "Alice", "Emma", "Kate", "Lucy", "Sarah")
MALE_NOUNS = ("man", "boy", "king", "father", "brother", "uncle", "prince", "monk")
FEMALE_NOUNS = ("woman", "girl", "queen", "mother", "sister", "aunt", "princess", "nun")
PERSON_NOUNS = (
    "farmer", "doctor", "teacher", "child", "student", "lawyer", "baker", "pilot", "nurse", "neighbour",
    "painter", "singer", "dancer", "judge", "chef", "guard", "driver",
)
THINGS = (
    "donkey", "cat", "dog", "horse", "goat", "cow", "bird", "car", "book", "house", "boat", "lamp", "cup", "bike",
    "kite", "drum", "hat", "coat", "key", "ring", "apple", "pear", "fish", "parrot", "rabbit", "tractor",
)
DISCOURSE_ADJECTIVES = (
    "old", "young", "happy", "tall", "grey", "rich", "poor", "sad", "kind", "brave", "quiet", "loud", "small",
    "big", "hungry", "tired", "clever", "angry", "calm", "lazy", "friendly", "shy", "proud", "wise",
)
DISCOURSE_VERBS = (
    "own", "like", "feed", "meet", "see", "visit", "help", "know", "love", "greet", "call", "follow", "hate",
    "admire", "trust", "find",
)
