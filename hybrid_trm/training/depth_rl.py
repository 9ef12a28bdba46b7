"""The recursive-depth reward: fine-tune a halting model's halting head with a
policy gradient (REINFORCE), the rest of the model frozen.

Each node's halting head is a policy: after every outer cycle it stops with the
probability the head gives, else runs another cycle. With the controller (the
recursion strategy, ModelConfig.controller), each node also draws its inner steps
per cycle from its kind's row, and its kind's halting offset shifts the head. A
node's reward, once it stops:

    right:  1 - step_penalty x (cycles it ran - the first cycle at which it was right)
              - step_penalty x (inner steps it drew - 1) / n      (with the controller)
    wrong: -1 (it stopped too early, or never got there)

so every answer update beyond what the node needed costs, a latent update costs
1/n of one, and stopping before the answer is right costs most. A node counts as
wrong, too, when its tree's answer is: choices each right on their own can add up
to a wrong root (a little error per node compounds over a deep tree).

A root's "right" is the domain's verifier's verdict on the decoded answer (called in
batch, each within its time budget; a root whose check runs out of time falls back
to its label); an inner node's is its exact label from the labeller. Advantages are
the rewards less the batch's mean (the baseline), over the rewards' running standard
deviation (the normalisation). A batch's own deviation would not do: in a batch
with no wrong node it is a few hundredths, and dividing by it would weigh that
batch's step savings as heavily as another batch's wrong answers.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import torch

from .. import checkpoints, devices
from ..domains.base import WorldTask
from ..errors import HybridTRMError
from ..loading import load, trained_width
from ..model.reasoner import TreeReasoner
from ..trees import IGNORE, batch, encode_texts


@dataclass
class DepthRLConfig:
    steps: int = 300
    batch_size: int = 32
    lr: float = 3e-3
    step_penalty: float = 0.02  # reward lost per answer update beyond the first right one (and per n latent updates)
    seed: int = 2  # of the examples' stream (training used the preset's seed, evaluation seed + 1)
    verify_budget_s: float = 2.0  # per root
    # Also learn the recursion strategy: per node kind, inner steps and a halting offset
    # (added to a model without one, starting at its n and offset 0).
    controller: bool = False
    controller_lr: float = 0.05  # a table of logits, one row per node kind: larger steps than the head's


@dataclass
class Rollout:
    reward: float  # mean over labelled nodes
    node_accuracy: float  # share of labelled nodes right where they stopped
    cycles: float  # mean answer updates per node
    inner_steps: float  # mean latent updates per answer update (the controller's choice, or n)
    verifier_timeouts: int


def rewards(
    output, tree_batch, verified: torch.Tensor, penalty: float, inner_max: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per node: (reward, right where it stopped, labelled). `verified` (N,) overrides
    `right` where it is not -1 (the roots the verifier checked: 1 right, 0 wrong).
    `inner_max`: the n a controller draws inner steps up to (None: no controller)."""
    labels = tree_batch.labels
    labelled = (labels != IGNORE).any(-1)
    right = ((output.final.argmax(-1) == labels) | (labels == IGNORE)).all(-1) & labelled
    right = torch.where(verified >= 0, verified.bool(), right)
    labelled = labelled | (verified >= 0)
    # Right now but never seen right before stopping cannot happen for a labelled node;
    # for a verified root with no label, count the cycles it ran as needed.
    first = torch.where(output.first_right > 0, output.first_right, output.cycles)
    extra = (output.cycles - first).clamp(min=0).float()
    cost = extra
    if inner_max:
        cost = cost + (output.inner_steps - 1).float() / inner_max
    # A node's work reaches the user only through its tree's answer: a wrong root
    # costs every node of its tree, so that choices which are right alone but add up
    # to a wrong answer are not rewarded.
    whole = right[tree_batch.roots][tree_batch.tree]
    reward = torch.where(right & whole, 1.0 - penalty * cost, -1.0)
    return reward, right, labelled


def fine_tune(
    init: str | Path, out: str | Path, config: DepthRLConfig, on_step: Callable[[int, dict], None] | None = None,
    device: str | None = None,
) -> dict:
    """Fine-tune checkpoint `init`'s halting head on `device` (devices.py; default
    the CPU); write the result to `out`."""
    loaded = load(init, device=device)
    model, domain, task = loaded.model, loaded.domain, loaded.task
    if not model.config.halting:
        raise HybridTRMError(
            f"checkpoint {checkpoints.stem(init)} has no halting head; train one with --halting first, then --depth-rl"
        )
    if config.controller and not model.config.controller:
        model = _with_controller(model).to(devices.of(loaded.model))
    training = loaded.config.get("training", {})
    difficulty = domain.difficulty(**training.get("difficulty", {}))
    width = trained_width(loaded.config) or (task.training_worlds if isinstance(task, WorldTask) else None)
    groups = [{"params": list(model.halt_head.parameters()), "lr": config.lr}]
    if model.config.controller:
        groups.append({"params": [model.strategy_steps, model.strategy_halt], "lr": config.controller_lr})
    for p in model.parameters():
        p.requires_grad_(False)
    for group in groups:
        for p in group["params"]:
            p.requires_grad_(True)
    optimizer = torch.optim.Adam(groups)
    torch.manual_seed(config.seed)
    clock = time.monotonic()
    metrics: dict = {}
    spread = None  # running variance of the rewards
    for step in range(config.steps):
        examples = [domain.example(config.seed, step * config.batch_size + i, difficulty, task.name) for i in range(config.batch_size)]
        texts = [e.input for e in examples]
        tree_batch = batch(
            encode_texts(domain, task, texts, label_subtrees=True, width=width, answers=[e.answer for e in examples])
        ).to(devices.of(model))  # on the model's device: the rewards compare its labels with the output
        output = model(tree_batch, with_loss=False, halting="sample")
        verified, timeouts = _verify_roots(domain, task, texts, tree_batch, output, config.verify_budget_s)
        inner_max = model.config.inner_steps if model.config.controller else None
        reward, right, labelled = rewards(output, tree_batch, verified, config.step_penalty, inner_max)
        r = reward[labelled]
        if len(r) > 1:
            spread = r.var().item() if spread is None else 0.99 * spread + 0.01 * r.var().item()
        advantage = (r - r.mean()) / (spread ** 0.5 + 1e-6) if len(r) > 1 else r * 0
        loss = -(advantage.detach() * output.halt_log_prob[labelled]).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        rollout = Rollout(
            float(r.mean()), float(right[labelled].float().mean()), float(output.cycles.float().mean()),
            float(output.inner_steps.float().mean()), timeouts,
        )
        metrics = {**asdict(rollout), "train_seconds": time.monotonic() - clock}
        if on_step:
            on_step(step + 1, metrics)
    saved = {**loaded.config, "model": model.config.to_json()}
    saved["depth_rl"] = {"init": str(init), **asdict(config), "metrics": metrics}
    checkpoints.save(out, checkpoints.prefixed("model", model.state_dict()), saved)
    return metrics


def _with_controller(model: TreeReasoner) -> TreeReasoner:
    """The same model with a recursion controller added, at its starting strategy."""
    steered = TreeReasoner(replace(model.config, controller=True))
    fresh = steered.state_dict()
    steered.load_state_dict({**fresh, **model.state_dict()})
    return steered.eval()


def _verify_roots(domain, task, texts, tree_batch, output, budget_s: float) -> tuple[torch.Tensor, int]:
    """The verifier's verdict on each root's decoded answer: (N,) with 1 right, 0 wrong,
    -1 elsewhere (inner nodes, and roots whose check ran out of time)."""
    verified = torch.full((tree_batch.nodes,), -1, dtype=torch.long)
    timeouts = 0
    grids = output.final.argmax(-1).cpu()
    for text, root in zip(texts, tree_batch.roots.tolist()):
        verdict = domain.verify(text, task.decode(grids[root].tolist()), task.name, budget_s)
        if verdict.correct is None:
            timeouts += 1
        else:
            verified[root] = int(verdict.correct)
    return verified.to(output.final.device), timeouts
