"""The one recursive cell, shared by every node of every tree (TRM on trees).

For a slice of nodes (one tree level across the batch) with input x, the cell
refines a latent z and an answer y, both grids of P positions (P = 1 for a
one-class answer, the digits of an integer otherwise):

    repeat T outer cycles:
        for each child c, in order: z = net(x + c + y + z + carry(z one position down))
        repeat n times:             z = net(x + y + z + carry(z one position down))
        y = net(y + z)

or, with the answer scan (ModelConfig.scan = "answer"), the children are folded:

        for each child c, in order: z = net(own + c + answer(z after the previous child))

where own is the node's kind (and literal) and answer(z) embeds the answer z holds
(a learnt start state before the first child); the fold runs once per node, and
every outer cycle starts its n steps from the state after the last child. Between
children the state is then an answer, one of finitely many, not a free latent,
and the step does not see how many children there are: a fold that reads 30
children as it reads 5.

A node thus takes one inner step per argument (a list of 30 needs 30 steps, a
binary operator 2) plus n steps to think.
One two-layer network serves both updates, as in TRM. The carry term lets
position i read position i-1, so a carry climbs one digit per inner step; its
weights are shared across positions, so the cell does not care how many digits
a number has. A grid of worlds (logic) has no carry: worlds have no order.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .. import budget


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.rms_norm(x, self.weight.shape, self.weight, self.eps)


class RecursiveCell(nn.Module):
    def __init__(self, hidden: int, expansion: int, carry: bool = True, carry_down: bool = False):
        super().__init__()
        self.up = nn.Linear(hidden, hidden * expansion)
        self.down = nn.Linear(hidden * expansion, hidden)
        # Post-norm keeps z and y at one scale however many times the cell runs.
        self.norm = RMSNorm(hidden)
        # Without a carry (a grid of worlds, which have no order) positions never meet.
        self.has_carry = carry
        if carry:
            self.carry = nn.Linear(hidden, hidden, bias=False)
            self.carry_in = nn.Parameter(torch.zeros(hidden))  # what position 0 reads below itself
        self.has_carry_down = carry and carry_down
        if self.has_carry_down:  # and the top position i reads i+1, the top one a learnt constant
            self.carry_down = nn.Linear(hidden, hidden, bias=False)
            self.carry_top = nn.Parameter(torch.zeros(hidden))

    def net(self, u: torch.Tensor) -> torch.Tensor:
        # The cell runs ~10 times per tree level on a few rows, where the cost is the
        # call, not the arithmetic: functional calls on the modules' weights skip
        # nn.Module dispatch (a third of a small step's time).
        h = F.gelu(F.linear(u, self.up.weight, self.up.bias))
        out = u + F.linear(h, self.down.weight, self.down.bias)
        return F.rms_norm(out, self.norm.weight.shape, self.norm.weight, self.norm.eps)

    def below(self, z: torch.Tensor) -> torch.Tensor:
        """z shifted one position up the grid: position i sees position i-1."""  # (N, P, H)
        first = self.carry_in.expand(z.shape[0], 1, -1)
        return torch.cat([first, z[:, :-1]], dim=1)

    def above(self, z: torch.Tensor) -> torch.Tensor:
        """z shifted one position down the grid: position i sees position i+1."""
        last = self.carry_top.expand(z.shape[0], 1, -1)
        return torch.cat([z[:, 1:], last], dim=1)

    def latent_step(self, xy: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """z = net(x + y + z + carry(z below) [+ carry_down(z above)]); `xy` is x + y,
        fixed within a cycle (and, on a one-position grid, the constant carries from
        carry_in and carry_top as well)."""
        if z.shape[1] == 1 or not self.has_carry:
            return self.net(xy + z)
        u = xy + z + F.linear(self.below(z), self.carry.weight)
        if self.has_carry_down:
            u = u + F.linear(self.above(z), self.carry_down.weight)
        return self.net(u)

    def constant_carries(self) -> torch.Tensor:
        """What a one-position grid reads through its carries: constants."""
        carried = self.carry(self.carry_in)
        return carried + self.carry_down(self.carry_top) if self.has_carry_down else carried

    def answer_step(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.net(y + z)

    def cycle(
        self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, inner_steps: int | torch.Tensor,
        children: list[torch.Tensor], present: list[torch.Tensor | None],
    ):
        """One outer cycle: one latent update per child, reading that child (in
        order), then n latent updates (`inner_steps`: n, or (L,) one n per node, each
        computing only the nodes with steps left), then one answer update. `present[j]` (L, 1, 1)
        marks the nodes that have a child j (None: all do); the others keep z as it
        is, so a node's result does not depend on the nodes it is batched with.
        With the answer scan, `children` is empty: the fold ran once, before."""
        after_child = []  # z after reading each child: the running answer over a prefix
        xy = x + y
        if z.shape[1] == 1 and self.has_carry:  # one position: what lies below is always carry_in
            xy = xy + self.constant_carries()
        for child, has in zip(children, present):
            budget.check()  # a node of 10,000 children reads them one step at a time
            z = _keep_absent(has, self.latent_step(xy + child, z), z)
            after_child.append(z)
        if torch.is_tensor(inner_steps) and bool((inner_steps == inner_steps[0]).all()):
            inner_steps = int(inner_steps[0])  # one n for every node: no row selection
        if not torch.is_tensor(inner_steps):
            for _ in range(inner_steps):
                budget.check()  # a step of a large part costs a tenth of a second
                z = self.latent_step(xy, z)
        else:
            for step in range(int(inner_steps.max())):
                left = (inner_steps > step).nonzero().squeeze(1)
                z = z.index_copy(0, left, self.latent_step(xy[left], z[left]))
        return self.answer_step(y, z), z, after_child

    def fold(
        self, own: torch.Tensor, children: list[torch.Tensor], present: list[torch.Tensor | None],
        answer: Callable[[torch.Tensor | None], torch.Tensor],
    ) -> list[torch.Tensor]:
        """The answer scan (module docstring): z after each child. It reads neither y
        nor the previous cycle's z, so it runs once per node and every outer cycle
        starts its n steps from its last state."""
        after_child: list[torch.Tensor] = []
        for child, has in zip(children, present):
            budget.check()
            if not after_child or has is None:
                after_child.append(self.net(own + child + answer(after_child[-1] if after_child else None)))
                continue
            # Only the nodes with a child here step (a level's widest node sets how
            # many children the level reads; the others would compute and discard).
            rows = has.view(-1).nonzero().squeeze(1)
            step = self.net(own[rows] + child[rows] + answer(after_child[-1][rows]))
            after_child.append(after_child[-1].index_copy(0, rows, step))
        return after_child


def _keep_absent(has: torch.Tensor | None, step: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """step where the node has this child (has is None: all do), z where it has not."""
    return step if has is None else torch.where(has, step, z)
