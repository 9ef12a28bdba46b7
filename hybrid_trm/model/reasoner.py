"""The tree reasoner: the recursive cell applied bottom-up, one tree level at a
time, with the input embedding and the answer head around it.

A node's input is its kind, the digits of its literal (for number leaves) and its
children's answers: the first child's answer distribution through one matrix, the
sum of the later children's distributions through another. The sum is a count of
answers over any number of children (ListOps lists have unbounded arity); the
separate first child keeps order where it matters (a - b is not b - a).

forward(batch) -> (logits per outer cycle, loss): one call for training and
inference; the loss is cross-entropy on every labelled node at every outer cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..trees import IGNORE, NO_LITERAL, TreeBatch
from .cell import RecursiveCell


@dataclass
class ModelConfig:
    kinds: int  # node kinds of the domain's grammar
    classes: int = 10  # answer classes per grid position
    positions: int = 1  # answer grid: 1 for a class, digits+1 for an integer
    hidden: int = 64  # width of z, y and every embedding
    expansion: int = 4  # MLP width of the cell, as a multiple of hidden
    inner_steps: int = 3  # n: latent updates per answer update
    outer_cycles: int = 2  # T: answer updates; each one is supervised

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Output:
    logits: list[torch.Tensor]  # one (N, P, C) tensor per outer cycle; the last is the answer
    loss: torch.Tensor | None

    @property
    def final(self) -> torch.Tensor:
        return self.logits[-1]


class TreeReasoner(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        h = config.hidden
        self.kind_embedding = nn.Embedding(config.kinds, h)
        self.literal_embedding = nn.Embedding(NO_LITERAL + 1, h)
        self.first_child = nn.Linear(config.classes, h, bias=False)
        self.rest_children = nn.Linear(config.classes, h, bias=False)
        self.z_init = nn.Parameter(torch.zeros(h))
        self.y_init = nn.Parameter(torch.zeros(h))
        self.cell = RecursiveCell(h, config.expansion)
        self.head = nn.Linear(h, config.classes)
        nn.init.normal_(self.z_init, std=0.02)
        nn.init.normal_(self.y_init, std=0.02)

    def forward(self, batch: TreeBatch, with_loss: bool = True) -> Output:
        cfg = self.config
        n, p = batch.nodes, cfg.positions
        # Each node's answer distribution, read by its parent; written one level at a time.
        answers = torch.zeros(n, p, cfg.classes)
        cycles: list[list[torch.Tensor]] = [[] for _ in range(cfg.outer_cycles)]
        for height, (start, end) in enumerate(batch.levels):
            x = self.node_input(batch, height, start, end, answers)  # (L, P, H)
            y = self.y_init.expand_as(x)
            z = self.z_init.expand_as(x)
            for t in range(cfg.outer_cycles):
                # TRM's deep supervision: every cycle is scored, and its gradient
                # reaches back through that cycle only.
                y, z = self.cell.cycle(x, y.detach(), z.detach(), cfg.inner_steps)
                cycles[t].append(self.head(y))
            answers[start:end] = torch.softmax(cycles[-1][-1], dim=-1)
        logits = [torch.cat(c) for c in cycles]
        loss = None
        if with_loss:
            targets = batch.labels.reshape(-1)
            loss = sum(
                nn.functional.cross_entropy(l.reshape(-1, cfg.classes), targets, ignore_index=IGNORE)
                for l in logits
            ) / len(logits)
        return Output(logits, loss)

    def node_input(self, batch: TreeBatch, height: int, start: int, end: int, answers: torch.Tensor) -> torch.Tensor:
        x = self.kind_embedding(batch.kind[start:end])[:, None, :] + self.literal_embedding(batch.literal[start:end])
        if height == 0:
            return x
        first = answers[batch.first_child[start:end]]  # (L, P, C)
        lo, hi = batch.rest_levels[height]
        counts = torch.zeros(end - start, *answers.shape[1:])
        counts = counts.index_add(0, batch.rest_parent[lo:hi] - start, answers[batch.rest_child[lo:hi]])
        return x + self.first_child(first) + self.rest_children(counts)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
