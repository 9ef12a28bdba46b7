"""The training runs behind the shipped checkpoints: `hybrid-trm train --preset NAME`
reproduces `hybrid_trm/pretrained/NAME` on a 2-core CPU."""

from __future__ import annotations

from .loop import TrainConfig

# The first-order share of the pair models' training data, and its knobs.
FIRST_ORDER_PAIRS = {
    "first_order": 0.25, "predicates": 3, "arity": 2, "constants": 2, "equality": 0.1, "quantifier_depth": 2,
}

PRESETS: dict[str, TrainConfig] = {
    # Trained on trees of height <= 6; evaluated at depth 20 and 40.
    "arith-mod10": TrainConfig(
        domain="arith", task="mod10",
        difficulty={"depth": 6, "digits": 3},
        eval_difficulty={"depth": 20, "depth_min": 20, "digits": 3},
        steps=3000, lr=3e-3,
    ),
    # + and - over 1-3 digit literals, 2..6 operands; evaluated on 7..18. Trained on a
    # 6-digit grid (values up to 99,999, ample for 6 operands), run on the task's 13.
    # One outer cycle of 2 + 6 latent steps (a carry climbs 8 digits) and a 2x-wide
    # MLP: a 100-node input solves in ~16 ms, against ~30 with T = 2 and 4x, at the
    # same accuracy on 7..18 operands (T = 2, n = 3: ~19 ms; T = 1, n = 4: ~13 ms
    # but 99.75% there and 94% with 5-digit literals).
    "arith-exact": TrainConfig(
        domain="arith", task="exact",
        difficulty={"operands": 6, "digits": 3, "ops": "+-"},
        eval_difficulty={"operands": 18, "operands_min": 7, "digits": 3, "ops": "+-"},
        steps=3000, lr=3e-3, inner_steps=6, outer_cycles=1, width=6, expansion=2,
    ),
    # The executor's model (domains/programs/execute.py): the digit facts a run of a
    # program asks as it works out each operator by hand (schoolbook.py), drawn from
    # runs of programs of <= 15 statements, nesting <= 3, loop bounds <= 9 and call
    # depth <= 2, and half of them evenly among all 510 facts (`redraw`: such runs
    # ask some far more often than others); held out: the facts of programs of 30-100
    # statements, nesting 4-8, loop bounds up to 30, call depth up to 6.
    "programs-output": TrainConfig(
        domain="programs", task="output",
        difficulty={"expressions": 1, "redraw": 0.5, "statements": 15, "depth": 3, "loop_bound": 9, "call_depth": 2},
        eval_difficulty={
            "expressions": 1, "statements": 100, "statements_min": 30, "depth": 8, "loop_bound": 30,
            "loop_bound_min": 10, "call_depth": 6, "functions": 4,
        },
        steps=8000, lr=3e-3, hidden=32, inner_steps=2, outer_cycles=1, width=6, expansion=2,
        eval_every=1000, eval_examples=200,
    ),
    # The benchmark's own shape (2..5 arguments, a quarter of them lists), depth <= 10.
    # The scan folds the running answer (MAX, MIN, SM) and x sees, per answer, whether
    # more children lie at or below it than above (the ordinal summary: MED), so lists
    # of 15..30 arguments read as lists of 5 do.
    "listops-value": TrainConfig(
        domain="listops", task="value",
        difficulty={"depth": 10},
        eval_difficulty={"depth": 20, "depth_min": 11},
        steps=5000, lr=3e-3, inner_steps=1, scan="answer", summary="ordinal",
    ),
    # Logic, over a grid of worlds: the cell computes every subformula's truth in each
    # of 64 worlds (all of them for <= 6 letters); the answer is read off the grid,
    # run on 1024 worlds (`--worlds`). The relation model trains on the project's
    # generator with six letters and at most 6 operators per formula, as in Bowman's
    # train0-6 (tested on 7-12), and every connective (his data has not, and, or);
    # a quarter of the pairs first-order (predicates of 1..2 arguments, constants,
    # equality, nesting <= 2), so that `A ; B` has an answer for any formulas.
    "logic-relation": TrainConfig(
        domain="logic", task="relation",
        difficulty={"variables": 6, "depth": 4, "operators": 6, "truth_constants": 0.05, **FIRST_ORDER_PAIRS},
        eval_difficulty={"variables": 6, "depth": 4, "operators": 6},
        steps=1200, batch_size=32, lr=3e-3, hidden=32, expansion=2, inner_steps=1, outer_cycles=2,
        width=128, eval_every=250, eval_examples=200,
    ),
    # Every connective, <= 6 levels per side (Evans et al.'s test sets reach 16); a
    # quarter of the pairs first-order, as for the relation model.
    "logic-entails": TrainConfig(
        domain="logic", task="entails",
        difficulty={"variables": 6, "depth": 6, "truth_constants": 0.05, **FIRST_ORDER_PAIRS},
        eval_difficulty={"variables": 10, "depth": 8, "depth_min": 7},
        steps=1500, batch_size=32, lr=3e-3, hidden=32, expansion=2, inner_steps=1, outer_cycles=2,
        width=128, eval_every=500, eval_examples=200,
    ),
    # Half propositional, half first-order: three predicates of 1..3 arguments, two
    # constants, equality, three variables, quantifiers nested at most three deep;
    # evaluated on six predicates, three constants and nesting 4..5. A first-order
    # world is a structure (listed where few, else sampled: domains/logic/worlds.py)
    # with an element per level of quantifier nesting; a quantifier reads its body
    # at every element of its slot.
    "logic-verdict": TrainConfig(
        domain="logic", task="verdict",
        difficulty={
            "first_order": 0.5, "variables": 3, "predicates": 3, "constants": 2, "arity": 3, "equality": 0.15,
            "depth": 5, "quantifier_depth": 3, "truth_constants": 0.05,
        },
        eval_difficulty={
            "first_order": 1, "variables": 5, "predicates": 6, "constants": 3, "arity": 3, "equality": 0.15,
            "depth": 7, "quantifier_depth": 5, "quantifier_depth_min": 4,
        },
        steps=1500, batch_size=32, lr=3e-3, hidden=32, expansion=2, inner_steps=1, outer_cycles=2,
        width=128, eval_every=500, eval_examples=200,
    ),
}
