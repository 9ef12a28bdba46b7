"""A recursive model's weights as numpy arrays, named and shaped as the torch
model's state dict (TreeReasoner's, under `model.` in a checkpoint), checked
against its config and laid out for `x @ w`: every linear's weight transposed
once here, not at every call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CheckpointError
from ..model.config import ModelConfig
from ..trees import NO_LITERAL


# The children's summary's weights per ModelConfig.summary, in the order with_children reads them.
SUMMARY_WEIGHTS = {
    "sum": ("child_counts.weight",),
    "share": ("child_share.weight", "child_presence.weight"),
    "ordinal": ("child_balance.weight", "child_presence.weight"),
}


def expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every weight a model of this config has, with its shape in torch's layout
    (a linear's weight is (out, in))."""
    h, c, e, k = cfg.hidden, cfg.classes, cfg.hidden * cfg.expansion, cfg.kinds
    shapes = {
        "kind_embedding.weight": (k, h), "literal_embedding.weight": (NO_LITERAL + 1, h),
        "first_child.weight": (h, c), "child_answer.weight": (h, c), "z_init": (h,), "y_init": (h,),
        "cell.up.weight": (e, h), "cell.up.bias": (e,), "cell.down.weight": (h, e), "cell.down.bias": (h,),
        "cell.norm.weight": (h,), "head.weight": (c, h), "head.bias": (c,),
        "prefix_head.weight": (c, h), "prefix_head.bias": (c,),
    }
    if cfg.summary == "sum":
        shapes["child_counts.weight"] = (h, c)
    elif cfg.summary == "share":
        shapes.update({"child_share.weight": (h, c), "child_presence.weight": (h, c)})
    else:  # ordinal: a balance and a tie per answer
        shapes.update({"child_balance.weight": (h, 2 * c), "child_presence.weight": (h, c)})
    if cfg.carry:
        shapes.update({"cell.carry.weight": (h, h), "cell.carry_in": (h,)})
    if cfg.carry_down:
        shapes.update({"cell.carry_down.weight": (h, h), "cell.carry_top": (h,)})
    if cfg.scan == "answer":
        shapes.update({"scan_start": (h,), "running_answer.weight": (h, c)})
    if cfg.halting:
        shapes.update({"halt_head.weight": (1, h), "halt_head.bias": (1,)})
    if cfg.controller:
        shapes.update({"strategy_steps": (k, cfg.inner_steps), "strategy_halt": (k,)})
    return shapes


def check_weights(arrays: dict[str, np.ndarray], cfg: ModelConfig, name) -> None:
    """Refuse weights that are not exactly the ones a model of `cfg` has (names
    missing or extra, a shape that differs), as torch's load_state_dict would."""
    shapes = expected_shapes(cfg)
    missing = sorted(set(shapes) - set(arrays))
    extra = sorted(set(arrays) - set(shapes))
    wrong = [f"{k} is {tuple(arrays[k].shape)}, not {shapes[k]}" for k in sorted(set(shapes) & set(arrays))
             if tuple(arrays[k].shape) != shapes[k]]
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unexpected {', '.join(extra)}"] if extra else []) + wrong
    if problems:
        raise CheckpointError(f"checkpoint {name}: weights do not fit its config ({'; '.join(problems)})")


@dataclass
class Weights:
    """The weights as the numpy network reads them: float32, each linear's (in, out)."""

    kind: np.ndarray  # (kinds, H) embedding of each node kind
    literal: np.ndarray  # (NO_LITERAL + 1, H) embedding of each literal digit
    summary: tuple[np.ndarray, ...]  # (C, H): counts (sum), share and presence (share), or (2C, H) balance and presence (ordinal)
    first_child: np.ndarray  # (C, H)
    child_answer: np.ndarray  # (C, H)
    z_init: np.ndarray  # (H,)
    y_init: np.ndarray  # (H,)
    up: np.ndarray  # (H, E)
    up_bias: np.ndarray  # (E,)
    down: np.ndarray  # (E, H)
    down_bias: np.ndarray  # (H,)
    norm: np.ndarray  # (H,)
    head: np.ndarray  # (H, C)
    head_bias: np.ndarray  # (C,)
    prefix_head: np.ndarray  # (H, C)
    prefix_bias: np.ndarray  # (C,)
    carry: np.ndarray | None = None  # (H, H) with a carry
    carry_in: np.ndarray | None = None  # (H,) what position 0 reads below itself
    carry_down: np.ndarray | None = None  # (H, H) with a carry down
    carry_top: np.ndarray | None = None  # (H,) what the top position reads above itself
    scan_start: np.ndarray | None = None  # (H,) with the answer scan
    running_answer: np.ndarray | None = None  # (C, H)
    halt_head: np.ndarray | None = None  # (H, 1) with a halting head
    halt_bias: np.ndarray | None = None  # (1,)
    strategy_steps: np.ndarray | None = None  # (kinds, n) with a controller
    strategy_halt: np.ndarray | None = None  # (kinds,)

    @classmethod
    def of(cls, arrays: dict[str, np.ndarray], cfg: ModelConfig, name) -> Weights:
        """From a state dict's arrays (names without the `model.` prefix), checked."""
        check_weights(arrays, cfg, name)
        w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}

        def linear(key: str) -> np.ndarray:
            return np.ascontiguousarray(w[key].T)

        def optional(key: str, transposed: bool = False) -> np.ndarray | None:
            return None if key not in w else linear(key) if transposed else w[key]

        summary = SUMMARY_WEIGHTS[cfg.summary]
        return cls(
            kind=w["kind_embedding.weight"], literal=w["literal_embedding.weight"],
            summary=tuple(linear(k) for k in summary), first_child=linear("first_child.weight"),
            child_answer=linear("child_answer.weight"), z_init=w["z_init"], y_init=w["y_init"],
            up=linear("cell.up.weight"), up_bias=w["cell.up.bias"], down=linear("cell.down.weight"),
            down_bias=w["cell.down.bias"], norm=w["cell.norm.weight"], head=linear("head.weight"),
            head_bias=w["head.bias"], prefix_head=linear("prefix_head.weight"), prefix_bias=w["prefix_head.bias"],
            carry=optional("cell.carry.weight", True), carry_in=optional("cell.carry_in"),
            carry_down=optional("cell.carry_down.weight", True), carry_top=optional("cell.carry_top"),
            scan_start=optional("scan_start"), running_answer=optional("running_answer.weight", True),
            halt_head=optional("halt_head.weight", True), halt_bias=optional("halt_head.bias"),
            strategy_steps=optional("strategy_steps"), strategy_halt=optional("strategy_halt"),
        )
