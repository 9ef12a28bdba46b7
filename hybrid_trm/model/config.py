"""A recursive model's shape and options (ModelConfig), apart from the network
that torch builds from it (reasoner.py): the torch-free runtime (hybrid_trm/runtime)
checks an exported model's config with the same class."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import HybridTRMError


SUMMARIES = ("sum", "share", "ordinal")


@dataclass
class ModelConfig:
    kinds: int  # node kinds of the domain's grammar
    classes: int = 10  # answer classes per grid position
    hidden: int = 64  # width of z, y and every embedding
    expansion: int = 4  # MLP width of the cell, as a multiple of hidden
    inner_steps: int = 3  # n: latent updates per answer update
    outer_cycles: int = 2  # T: answer updates; each one is supervised
    # What the scan carries from one child to the next: "latent" (z itself) or
    # "answer" (the running answer z holds: a fold that does not drift with length).
    scan: str = "latent"
    # How x summarises the children's answers: "sum" (a count per answer),
    # "share" (the share of children per answer, and whether any child has it:
    # both the same for 5 children as for 30) or "ordinal" (per answer, whether more
    # children lie at or below it than above, as many, or fewer, and whether any
    # child has it: the order statistics of a list, exact at any length).
    summary: str = "sum"
    # Whether grid position i reads position i-1 (a digit's carry); off for a grid of
    # worlds, where a position is one interpretation and a quantifier reads its body
    # at other positions through the batch's `reads`.
    carry: bool = True
    # Whether position i also reads position i+1: what flows from the top digit
    # down (a comparison's verdict, a division's remainder), which a carry upward
    # alone never brings to the units (programs' `output` grid).
    carry_down: bool = False
    # Per-node halting: a head on each node's answer state predicts "this answer is
    # already right", and a node stops after the first outer cycle where it says so
    # with more than halt_threshold; outer_cycles is then the most a node may run.
    halting: bool = False
    halt_threshold: float = 0.5
    # The recursion strategy (a halting model's): per node kind, how many inner steps
    # (1..inner_steps) a node of that kind runs and an offset to its halting logit
    # (in effect its own threshold); learnt by the depth reward (training/depth_rl.py).
    controller: bool = False

    # The largest sizes a model may have (a checkpoint's config is user input: a
    # `hidden` of 10^12 would allocate before anything else looked at it). Each is
    # far above every shipped checkpoint and preset (hidden 64, expansion 4, inner
    # steps 6, cycles 3, 17 kinds, 10 classes); no attribute annotation: not fields.
    LIMITS = {
        "kinds": 10_000, "classes": 10_000, "hidden": 4096, "expansion": 64, "inner_steps": 1000, "outer_cycles": 1000,
    }
    MAX_PARAMETERS = 100_000_000  # 400 MB of float32 weights, twice over in training (the EMA)

    def __post_init__(self):
        for name, most in self.LIMITS.items():
            value = getattr(self, name)
            # bool is an int to Python, but `hidden: true` is a mistake, not a 1.
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
                shown = repr(value) if len(repr(value)) <= 24 else f"{repr(value)[:12]}... ({len(repr(value))} characters)"
                raise HybridTRMError(f"{name} must be a whole number from 1 to {most:,}, not {shown}")
        for name in ("carry", "carry_down", "halting", "controller"):
            if type(getattr(self, name)) is not bool:
                raise HybridTRMError(f"{name} must be true or false, not {getattr(self, name)!r}")
        threshold = self.halt_threshold
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0.0 <= threshold <= 1.0:  # also NaN
            raise HybridTRMError(f"halt_threshold must be a probability in [0, 1], not {threshold!r}")
        h, c = self.hidden, self.classes
        # The most parameters these sizes can build (every option on): the cell's MLP and carry,
        # the embeddings (NO_LITERAL + 1 literal rows), the heads, the controller's table.
        e, kinds = self.expansion, self.kinds
        parameters = h * (2 * e * h + 2 * h + kinds + e + 18 + 8 * c) + 2 * c + 1 + kinds * (self.inner_steps + 1)
        if parameters > self.MAX_PARAMETERS:
            raise HybridTRMError(
                f"a model of hidden {h}, expansion {e}, {kinds} kinds and {c} classes has up to "
                f"{parameters:,} parameters; at most {self.MAX_PARAMETERS:,} are accepted"
            )
        if self.scan not in ("latent", "answer"):
            raise HybridTRMError(f"scan must be 'latent' or 'answer', not {self.scan!r}")
        if self.summary not in SUMMARIES:
            raise HybridTRMError(f"summary must be one of {', '.join(SUMMARIES)}, not {self.summary!r}")
        if self.carry_down and not self.carry:
            raise HybridTRMError("carry_down reads the position above as the carry reads the one below; it needs carry")
        if self.controller and not self.halting:
            raise HybridTRMError("the recursion controller steers a halting model; train one with halting first")

    def to_json(self) -> dict:
        return asdict(self)
