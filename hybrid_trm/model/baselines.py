"""Baselines for `hybrid-trm bench accuracy`: a Transformer encoder and an LSTM over
the tree's token sequence, a GIN on the parse tree (torch_geometric), and a
TreeLSTM. Each takes the TreeBatch the recursive model takes and returns its
Output, so the same training loop and evaluation run them; none has inner
recursion or a halting head (steps and cycles come back as 0 and 1 per node).

What each one reads, and is trained on (cross-entropy at every labelled node, the
deep supervision over space the recursive model gets; no prefix labels, which are
read off the recursive model's scan and have no place here):
- `transformer`, `lstm`: the tree in pre-order, one token per node (its kind and
  literal, embedded as the recursive model embeds them) and a closing token after
  each inner node's last child: `[MAX 2 [MIN 4 7 ] ]` for ListOps, `[- 3 [+ 4 5 ] ]`
  for `3 - (4 + 5)`. A node is read at its last token (a leaf's own, an inner
  node's closing one), so every node has a read-out. The Transformer is
  bidirectional with sinusoidal positions (any length runs), the LSTM
  bidirectional.
- `gin`: GINEConv layers over the tree's edges both ways, the edge telling
  direction and whether the child is its parent's first (a - b is not b - a); a
  node sees `layers` edges away and no further.
- `treelstm`: a child-sum TreeLSTM with the first child's state read apart
  (order), one step per node, bottom-up one level at a time.

An integer's answer (arith `exact`) is a grid of `positions` digits (ten's
complement, the sign in the top digit), as the recursive model's is: a number
leaf's token is the sum of an embedding per (position, digit), and the head
reads every digit of the node's answer off its one state. The grid is fixed at
the width trained on (wider inputs are refused; narrower ones are padded with
the zeros above a positive number's top digit). On a grid of worlds (logic,
propositional) each world is a copy of the tree with that world's atoms, answered
apart (per_world), and the task's answer is read off the grid as it is for the
recursive model. A quantifier reads its body in other worlds (first-order
logic); no baseline does.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..errors import HybridTRMError
from ..trees import IGNORE, NO_LITERAL, TreeBatch
from .reasoner import Output

BASELINES = ("transformer", "lstm", "gin", "treelstm")


@dataclass
class BaselineConfig:
    baseline: str  # one of BASELINES; its presence marks a checkpoint as a baseline's
    kinds: int  # node kinds of the domain's grammar
    classes: int = 10
    hidden: int = 64  # width of every state; sized to match a parameter count
    layers: int = 2  # Transformer / LSTM layers; GIN: how many edges away a node sees
    heads: int = 4  # Transformer attention heads (hidden must divide by them)
    positions: int = 1  # answer grid positions: 1, or the digits of an integer (its trained width)
    worlds: bool = False  # a grid of worlds: any number of positions, each answered apart (per_world)

    def __post_init__(self):
        if self.baseline not in BASELINES:
            raise HybridTRMError(f"baseline must be one of {', '.join(BASELINES)}, not {self.baseline!r}")
        if self.baseline == "transformer" and self.hidden % self.heads:
            raise HybridTRMError(f"the transformer's hidden width {self.hidden} does not divide into {self.heads} heads")

    def to_json(self) -> dict:
        return asdict(self)


def build(config: BaselineConfig) -> nn.Module:
    return {"transformer": SequenceTransformer, "lstm": SequenceLSTM, "gin": TreeGIN, "treelstm": TreeLSTM}[
        config.baseline
    ](config)


class Baseline(nn.Module):
    """What every baseline shares: the node embedding (kind + literal digit), the
    answer head, the loss and the Output."""

    def __init__(self, config: BaselineConfig, width: int | None = None):
        super().__init__()
        self.config = config
        h = config.hidden
        self.kind_embedding = nn.Embedding(config.kinds, h)
        # One table per grid position: digit d at position p is row p * (NO_LITERAL + 1) + d.
        self.literal_embedding = nn.Embedding(config.positions * (NO_LITERAL + 1), h)
        self.head = nn.Linear(width or h, config.positions * config.classes)

    def literal_grid(self, batch: TreeBatch) -> torch.Tensor:
        """The batch's literals on this baseline's grid, (N, positions)."""
        literal, p = batch.literal, self.config.positions
        if batch.reads is not None or literal.shape[1] > p:
            what = "a grid of worlds" if batch.reads is not None else f"a grid of {literal.shape[1]} positions"
            raise HybridTRMError(
                f"the {self.config.baseline} baseline answers a grid of {p} position(s) per node; this input needs {what}"
            )
        if literal.shape[1] < p:  # a number's digits above its top one are zeros; NO_LITERAL stays NO_LITERAL
            above = torch.where(literal[:, -1:] == NO_LITERAL, NO_LITERAL, 0).expand(-1, p - literal.shape[1])
            literal = torch.cat([literal, above], dim=1)
        return literal

    def node_embedding(self, batch: TreeBatch) -> torch.Tensor:
        literal = self.literal_grid(batch)
        rows = literal + torch.arange(literal.shape[1], device=literal.device) * (NO_LITERAL + 1)
        return self.kind_embedding(batch.kind) + self.literal_embedding(rows).sum(1)  # (N, H)

    def forward(
        self, batch: TreeBatch, with_loss: bool = True, groups=None, halting: str | None = None, explore: float = 0.0,
    ) -> Output:
        """As TreeReasoner.forward: answer logits per node, and the loss over every
        labelled node. `groups` and `explore` do not apply (no recursion to order or
        extend) and are ignored; there is no halting head. The batch is moved to the
        model's device, as TreeReasoner.forward moves it."""
        if halting not in (None, "off"):
            raise HybridTRMError(f"the {self.config.baseline} baseline has no halting head")
        cfg = self.config
        device = self.kind_embedding.weight.device
        batch = batch.to(device)
        if cfg.worlds:
            logits = self.head(self.node_states(per_world(batch, cfg.baseline))).view(batch.nodes, -1, cfg.classes)
        else:
            logits = self.head(self.node_states(batch)).view(batch.nodes, cfg.positions, cfg.classes)
            logits = logits[:, : batch.literal.shape[1]]  # (N, P, C): a narrower grid's top digits are its sign's
        loss = None
        if with_loss:
            targets = batch.labels.reshape(-1)
            loss = (
                nn.functional.cross_entropy(logits.reshape(-1, self.config.classes), targets, ignore_index=IGNORE)
                if bool((targets != IGNORE).any()) else logits.sum() * 0.0
            )
        n = batch.nodes
        zeros = torch.zeros(n, dtype=torch.long, device=device)
        terms = None if loss is None else [(loss, (targets != IGNORE).sum())]
        return Output(logits, loss, zeros, torch.ones(n, dtype=torch.long, device=device), zeros, loss_terms=terms)

    def node_states(self, batch: TreeBatch) -> torch.Tensor:  # (N, width)
        raise NotImplementedError

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def per_world(batch: TreeBatch, name: str) -> TreeBatch:
    """The batch with each of its P worlds a tree of its own, one position wide:
    node v's copy in world p is node v * P + p, so levels stay contiguous and the
    nodes of world p read world p's atoms and labels."""
    if batch.reads is not None:
        raise HybridTRMError(
            f"the {name} baseline answers each world apart; a quantifier reads its body in other worlds (first-order logic)"
        )
    n, p = batch.literal.shape
    worlds = torch.arange(p, device=batch.kind.device)

    def spread(index: torch.Tensor) -> torch.Tensor:  # (M,) -> (M * P,): index v -> v * P + 0 .. P - 1
        return (index[:, None] * p + worlds).reshape(-1)

    parent = spread(batch.child_parent)
    order = torch.argsort(parent, stable=True)  # by parent (its copies), then child order
    return TreeBatch(
        kind=batch.kind.repeat_interleave(p), literal=batch.literal.reshape(n * p, 1), labels=batch.labels.reshape(n * p, 1),
        prefix_labels=batch.prefix_labels.reshape(n * p, 1), height=batch.height.repeat_interleave(p),
        levels=[(start * p, end * p) for start, end in batch.levels], child=spread(batch.child)[order], child_parent=parent[order],
        child_rank=batch.child_rank.repeat_interleave(p)[order], roots=spread(batch.roots), tree=spread(batch.tree),
    )


# Attention over a chunk of trees costs trees x length^2: deep test trees (3,000
# nodes) go a few at a time, short training trees many at a time; and a chunk's
# longest tree is at most CHUNK_SPREAD x its shortest, so little of the attention
# is spent on padding (ListOps' training trees run 4 to 500 tokens).
CHUNK_BUDGET = 1 << 22
CHUNK_SPREAD = 1.5


def preorder(batch: TreeBatch) -> list[np.ndarray]:
    """Each tree's token sequence: node index v for v's token, N + v for the token
    closing inner node v (after its last child)."""
    n = batch.nodes
    counts = np.bincount(batch.child_parent.cpu().numpy(), minlength=n)
    kids = np.split(batch.child.cpu().numpy(), np.cumsum(counts)[:-1])  # in child order
    sequences = []
    for root in batch.roots.tolist():
        out, stack = [], [root]
        while stack:
            v = stack.pop()
            if v >= n:
                out.append(v)
                continue
            out.append(v)
            if counts[v]:
                stack.append(v + n)
                stack.extend(kids[v][::-1].tolist())
        sequences.append(np.array(out, dtype=np.int64))
    return sequences


class SequenceModel(Baseline):
    """A model over token sequences; subclasses give `encode` (B, L, H) -> (B, L, W)."""

    def __init__(self, config: BaselineConfig, width: int | None = None):
        super().__init__(config, width)
        self.close = nn.Parameter(torch.randn(config.hidden) * 0.02)

    def node_states(self, batch: TreeBatch) -> torch.Tensor:
        n = batch.nodes
        nodes = self.node_embedding(batch)
        device = nodes.device
        tokens = torch.cat([nodes, self.close.expand(n, -1), torch.zeros(1, nodes.shape[1], device=device)])  # pad = row 2N
        sequences = preorder(batch)
        # A node is read at its last token: its closing token if it has one.
        closes = torch.zeros(n, dtype=torch.bool, device=device)
        closes[batch.child_parent] = True
        read_at = torch.where(closes, torch.arange(n, device=device) + n, torch.arange(n, device=device))
        where, states = [], []  # per chunk: the tokens' rows in `tokens`, and their states
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        for start, end in self.chunks([len(sequences[i]) for i in order]):
            chunk = [sequences[i] for i in order[start:end]]
            longest = max(len(s) for s in chunk)
            index = np.full((len(chunk), longest), 2 * n, dtype=np.int64)  # filled on the CPU, then moved once
            for row, s in enumerate(chunk):
                index[row, : len(s)] = s
            index = torch.from_numpy(index).to(device)
            padding = index == 2 * n
            out = self.encode(tokens[index], padding)  # (B, L, W)
            where.append(index[~padding])
            states.append(out[~padding])
        where, states = torch.cat(where), torch.cat(states)
        return torch.zeros(2 * n, states.shape[1], device=device).index_copy(0, where, states)[read_at]

    def chunks(self, lengths: list[int]) -> list[tuple[int, int]]:
        """Runs [start, end) of the sorted `lengths` encoded together (default: all)."""
        return [(0, len(lengths))]

    def encode(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def sinusoidal(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """Fixed positions, defined at every length (a learnt table stops at training's)."""
    position = torch.arange(length, dtype=torch.float, device=device)[:, None]
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float, device=device) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: dim // 2])
    return table


class SequenceTransformer(SequenceModel):
    """A pre-norm Transformer encoder over the pre-order tokens (bidirectional)."""

    def __init__(self, config: BaselineConfig):
        super().__init__(config)
        h = config.hidden
        layer = nn.TransformerEncoderLayer(h, config.heads, 2 * h, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(h)

    def chunks(self, lengths: list[int]) -> list[tuple[int, int]]:
        """Within CHUNK_BUDGET and CHUNK_SPREAD (above): the chunks' outputs are the
        same as one batch's, since no sequence attends past its own padding."""
        out, start = [], 0
        while start < len(lengths):
            end = start + 1
            while (
                end < len(lengths) and (end - start + 1) * lengths[end] ** 2 <= CHUNK_BUDGET
                and lengths[end] <= CHUNK_SPREAD * lengths[start]
            ):
                end += 1
            out.append((start, end))
            start = end
        return out

    def encode(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        x = x + sinusoidal(x.shape[1], x.shape[2], x.device)
        return self.norm(self.encoder(x, src_key_padding_mask=padding))


class SequenceLSTM(SequenceModel):
    """A bidirectional LSTM over the pre-order tokens, every tree of the batch in one
    padded run. Each layer is a forward LSTM over the tokens and a backward one over
    each sequence reversed within its own length, so neither reads padding before a
    token (a packed sequence would do the same, but its backward pass fills a copy
    of the whole batch at every time step: quadratic in the tree's length)."""

    def __init__(self, config: BaselineConfig):
        super().__init__(config, width=2 * config.hidden)
        h = config.hidden

        def layers() -> nn.ModuleList:
            return nn.ModuleList(nn.LSTM(h if i == 0 else 2 * h, h, batch_first=True) for i in range(config.layers))

        self.ahead, self.behind = layers(), layers()

    def encode(self, x: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        lengths = (~padding).sum(1, keepdim=True)
        positions = torch.arange(x.shape[1], device=x.device)
        # Token i of a sequence of length n trades places with token n - 1 - i; padding stays.
        flip = torch.where(positions < lengths, lengths - 1 - positions, positions)

        def reversed_(t: torch.Tensor) -> torch.Tensor:
            return t.gather(1, flip[:, :, None].expand_as(t))

        for ahead, behind in zip(self.ahead, self.behind):
            x = torch.cat([ahead(x)[0], reversed_(behind(reversed_(x))[0])], dim=-1)
        return x


class TreeGIN(Baseline):
    """`layers` GINEConv layers (residual, layer-normed) on the tree's edges both
    ways; edge kinds: up from a first child, up from a later one, and the same down."""

    def __init__(self, config: BaselineConfig):
        super().__init__(config)
        from torch_geometric.nn import GINEConv

        h = config.hidden
        self.edge_embedding = nn.Embedding(4, h)
        self.convs = nn.ModuleList(
            GINEConv(nn.Sequential(nn.Linear(h, h), nn.GELU(), nn.Linear(h, h)), train_eps=True) for _ in range(config.layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(config.layers))

    def node_states(self, batch: TreeBatch) -> torch.Tensor:
        x = self.node_embedding(batch)
        child, parent = batch.child, batch.child_parent
        later = (batch.child_rank > 0).long()
        edge_index = torch.cat([torch.stack([child, parent]), torch.stack([parent, child])], 1)
        edge_attr = self.edge_embedding(torch.cat([later, later + 2]))
        for conv, norm in zip(self.convs, self.norms):
            x = norm(x + conv(x, edge_index, edge_attr))
        return x


class TreeLSTM(Baseline):
    """Child-sum TreeLSTM (Tai et al. 2015) with the first child's state as a
    separate input, one forget gate per child; one step per node."""

    def __init__(self, config: BaselineConfig):
        super().__init__(config)
        h = config.hidden
        self.iou_x = nn.Linear(h, 3 * h)
        self.iou_h = nn.Linear(2 * h, 3 * h, bias=False)  # [sum of children, first child]
        self.f_x = nn.Linear(h, h)
        self.f_h = nn.Linear(h, h, bias=False)
        self.f_first = nn.Parameter(torch.zeros(h))  # the first child's forget gate differs

    def node_states(self, batch: TreeBatch) -> torch.Tensor:
        x = self.node_embedding(batch)
        h = x.shape[1]
        hs: list[torch.Tensor] = []  # per level, (L, H)
        cs: list[torch.Tensor] = []
        for start, end in batch.levels:
            xl = x[start:end]
            lo, hi = batch.edge_range(start, end)
            rows = end - start
            if lo == hi:  # leaves
                summed = first = c_children = torch.zeros(rows, h, device=x.device)
            else:
                h_all, c_all = torch.cat(hs), torch.cat(cs)  # every node below this level
                kids, parents = batch.child[lo:hi], batch.child_parent[lo:hi] - start
                is_first = (batch.child_rank[lo:hi] == 0).float()[:, None]
                h_kids, c_kids = h_all[kids], c_all[kids]
                summed = torch.zeros(rows, h, device=x.device).index_add(0, parents, h_kids)
                first = torch.zeros(rows, h, device=x.device).index_add(0, parents, h_kids * is_first)
                f = torch.sigmoid(self.f_x(xl)[parents] + self.f_h(h_kids) + is_first * self.f_first)
                c_children = torch.zeros(rows, h, device=x.device).index_add(0, parents, f * c_kids)
            i, o, u = (self.iou_x(xl) + self.iou_h(torch.cat([summed, first], 1))).chunk(3, 1)
            c = torch.sigmoid(i) * torch.tanh(u) + c_children
            hs.append(torch.sigmoid(o) * torch.tanh(c))
            cs.append(c)
        return torch.cat(hs)


def sized(config: BaselineConfig, parameters: int) -> BaselineConfig:
    """The config with the hidden width whose parameter count is nearest `parameters`."""
    from dataclasses import replace

    step = config.heads if config.baseline == "transformer" else 1
    best = None
    for hidden in range(step * max(1, 8 // step), 2049, step):
        count = build(replace(config, hidden=hidden)).parameter_count()
        if best is None or abs(count - parameters) < abs(best[1] - parameters):
            best = (hidden, count)
        if count > parameters:
            break
    return replace(config, hidden=best[0])
