"""What TreeReasoner.forward passes between its steps: a group of rows as the
outer cycles read it (Level), what their run returns (LevelRun), what a forward
with the loss collects group by group and the loss made of it (Signals), and,
on a grid of worlds, the answers per distinct cell read back per node (ByClass).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..trees import IGNORE
from .cells import DistinctCells


@dataclass
class Level:
    """One group of rows (a level's nodes, or a grid's distinct cells) as the cycles read it."""

    x: torch.Tensor  # (R, P, H) each row's input
    own: torch.Tensor  # (R, P, H) its kind and literal alone: what the answer scan adds each child to
    scan: list[torch.Tensor]  # its children's answers by rank, each (R, P, H)
    present: list[torch.Tensor]  # per rank, the rows that have such a child, (R, 1, 1)
    kinds: torch.Tensor  # (R,) node kinds
    labels: torch.Tensor | None  # (R, P) the answers trained on (None: a grid's cells)
    row_node: torch.Tensor | None  # (R,) with per-node cell classes: the level node each row belongs to
    # The prefix head's logits and labels from the states after each child, where
    # the loss scores prefixes (None: it does not).
    prefixes: Callable[[list[torch.Tensor]], tuple[torch.Tensor, torch.Tensor]] | None = None


@dataclass
class LevelRun:
    final: torch.Tensor  # (R, P, C) the answer logits of the last cycle each row ran
    cycles: torch.Tensor  # (R,) the cycles each row ran
    inner: int | torch.Tensor  # latent updates per cycle: n, or (R,) the controller's choice
    folded: bool  # the answer scan read the children once, before the cycles
    log_prob: torch.Tensor | None  # (R,) sampled halting: the log-probability of the decisions taken


class Signals:
    """What forward collects for the loss, group by group."""

    def __init__(self, outer_cycles: int):
        self.scores: list[list[torch.Tensor]] = [[] for _ in range(outer_cycles)]  # per cycle, the logits of the rows that ran it
        self.targets: list[list[torch.Tensor]] = [[] for _ in range(outer_cycles)]  # and their labels
        self.prefix_scores: list[torch.Tensor] = []  # (E, P, C) per group (and cycle, for the latent scan)
        self.prefix_targets: list[torch.Tensor] = []
        self.halt_scores: list[torch.Tensor] = []  # halting logits of labelled rows, every cycle they ran
        self.halt_targets: list[torch.Tensor] = []  # whether their answer was right then

    def add_prefixes(self, scores: torch.Tensor, targets: torch.Tensor) -> None:
        self.prefix_scores.append(scores)
        self.prefix_targets.append(targets)

    def loss(self, classes: int, halting: bool, device: torch.device) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """The loss, the mean over the outer cycles that ran of each one's
        cross-entropy plus the prefixes' and the halting head's; and the same sum as
        Output.loss_terms: a term per cycle (T of them), the prefixes' and, with
        `halting` (the model has the head), the halting head's, each with the items
        it averages (0: none here)."""
        none = (torch.zeros((), device=device), torch.zeros((), dtype=torch.long, device=device))
        ran = [(torch.cat(s), torch.cat(g)) for s, g in zip(self.scores, self.targets) if s]  # the first cycles, all that ran
        per_cycle = [scored(s, g, classes) for s, g in ran]
        loss = sum(per_cycle) / len(per_cycle)
        terms = [(mean / len(per_cycle), _labelled(g)) for mean, (_, g) in zip(per_cycle, ran)]
        terms += [none] * (len(self.scores) - len(ran))
        prefix = halt = none
        if self.prefix_scores:
            g = torch.cat(self.prefix_targets)
            prefix = (scored(torch.cat(self.prefix_scores), g, classes), _labelled(g))
            loss = loss + prefix[0]
        if self.halt_scores and sum(len(s) for s in self.halt_scores):
            g = torch.cat(self.halt_targets)
            halt = (nn.functional.binary_cross_entropy_with_logits(torch.cat(self.halt_scores), g), torch.tensor(len(g), device=device))
            loss = loss + halt[0]
        return loss, terms + [prefix] + ([halt] if halting else [])


def scored(logits: torch.Tensor, targets: torch.Tensor, classes: int) -> torch.Tensor:
    """Cross-entropy over every labelled grid cell (0 when none is labelled)."""
    targets = targets.reshape(-1)
    if not bool((targets != IGNORE).any()):
        return logits.sum() * 0.0
    return nn.functional.cross_entropy(logits.reshape(-1, classes), targets, ignore_index=IGNORE)


def _labelled(targets: torch.Tensor) -> torch.Tensor:
    """How many grid cells of `targets` carry a label: what a cross-entropy with
    ignore_index averages over."""
    return (targets.reshape(-1) != IGNORE).sum()


class ByClass:
    """What a grid of worlds' run computes per distinct cell (cells.py), read back
    per grid cell and per node at the end."""

    def __init__(self, classes: int, answers: int, device: torch.device):
        self.final = torch.zeros(classes, answers, device=device)
        self.cycles = torch.zeros(classes, dtype=torch.long, device=device)
        self.thought = torch.zeros(classes, dtype=torch.long, device=device)

    def add(self, first: int, final: torch.Tensor, cycles: torch.Tensor, inner: int | torch.Tensor) -> None:
        rows = slice(first, first + len(final))
        self.final[rows], self.cycles[rows], self.thought[rows] = final, cycles, inner

    def per_cell(self, cells: DistinctCells) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """[final logits (N, P, C)], and cycles and inner steps per node (N,)."""
        device = self.final.device
        node_row = torch.from_numpy(cells.node_row).to(device)
        return [self.final[torch.from_numpy(cells.cell).to(device)]], self.cycles[node_row], self.thought[node_row]


def least_per_node(values: torch.Tensor, node: torch.Tensor) -> torch.Tensor:
    """Each row's value replaced by the least among its node's rows."""
    least = torch.full((int(node.max()) + 1,), float("inf"), device=values.device).scatter_reduce(0, node, values, "amin")
    return least[node]
