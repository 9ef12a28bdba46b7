"""The torch-free runtime (hybrid_trm/runtime): every shipped model exported and
run in numpy gives the torch model's answers, steps and cycles, logits within
bench/runtime.py's tolerance, and `eval` on it the torch model's report; the
runtime path imports no torch; `solve` falls back to it where torch is missing;
what it cannot run is refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import hybrid_trm
from hybrid_trm import checkpoints, pretrained, runtime
from hybrid_trm.bench.runtime import agreement
from hybrid_trm.errors import CheckpointError, HybridTRMError
from hybrid_trm.export import export
from hybrid_trm.loading import Recursion, load
from hybrid_trm.model.config import ModelConfig
from hybrid_trm.model.reasoner import TreeReasoner
from hybrid_trm.runtime.reasoner import TreeReasoner as NumpyReasoner
from hybrid_trm.runtime.reasoner import distinct_subtrees
from hybrid_trm.runtime.weights import Weights
from hybrid_trm.trees import batch, batch_arrays, encode_texts

SHIPPED = ["listops/value", "arith/mod10", "arith/exact", "logic/verdict", "logic/entails", "logic/relation"]
# One input per domain, for the solves without torch.
INPUTS = {
    "listops/value": "[MAX 2 9 [MIN 4 7 ] 0 ]", "arith/mod10": "3 - -2 * (4 + 1)", "arith/exact": "907 + 85 - 1",
    "logic/verdict": "forall x. P(x) -> exists y. P(y)", "logic/entails": "a & b |= a", "logic/relation": "a & b ; a | b",
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, Path]:
    """Every shipped model exported (each checked on 8 inputs by export itself)."""
    folder = tmp_path_factory.mktemp("exported")
    return {name: export(name, folder / name.replace("/", "-"), check_inputs=8).folder for name in SHIPPED}


def generated(loaded, n: int, seed: int = 3) -> list[str]:
    """n inputs of the model's task at the difficulty it was evaluated at in training."""
    domain = loaded.domain
    difficulty = domain.difficulty(**loaded.config["training"]["eval_difficulty"])
    return [domain.example(seed, i, difficulty, loaded.task.name).input for i in range(n)]


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_model_agrees_with_torch(exported, name):
    theirs = load(pretrained.require(*name.split("/")))
    ours = runtime.load(exported[name]).loaded
    check = agreement(theirs, ours, generated(ours, 24))
    assert check.inputs >= 20 and check.agrees, check
    assert check.max_logit_difference <= 1e-4 * max(1.0, check.max_logit)


@pytest.mark.parametrize("name", ["listops/value", "arith/exact", "logic/verdict"])
def test_solutions_are_the_torch_models(exported, name):
    """The same Solution, node by node, verifier included; confidences within 1e-5."""
    theirs = hybrid_trm.load(name, runtime="torch")
    ours = runtime.load(exported[name])
    for text in generated(ours.loaded, 4, seed=11) + [INPUTS[name]]:
        a, b = theirs.solve(text, trace=True), ours.solve(text, trace=True)
        assert (a.answer, a.verified, a.expected, a.evidence, a.witness) == (b.answer, b.verified, b.expected, b.evidence, b.witness)
        assert (a.node_answers, a.node_steps, a.node_cycles, a.steps_mean) == (b.node_answers, b.node_steps, b.node_cycles, b.steps_mean)
        assert b.confidence == pytest.approx(a.confidence, abs=1e-5)


def test_solve_many_is_solve_one_at_a_time(exported):
    """Trees of different grid widths (digits, worlds) batched: each as it is alone."""
    for name in ("arith/exact", "logic/relation"):
        r = runtime.load(exported[name])
        texts = generated(r.loaded, 6, seed=5) + [INPUTS[name]]
        together = r.solve_many(texts)
        assert [s.answer for s in together] == [r.solve(t).answer for t in texts]
        assert [s.confidence for s in together] == pytest.approx([r.solve(t).confidence for t in texts], abs=1e-6)


def test_recursion_changes_as_in_torch(exported):
    deeper = Recursion(inner_steps=5, max_cycles=3)
    theirs = hybrid_trm.load("arith/mod10", runtime="torch", recursion=deeper)
    ours = runtime.load(exported["arith/mod10"], recursion=deeper)
    for text in generated(ours.loaded, 4):
        a, b = theirs.solve(text, trace=True), ours.solve(text, trace=True)
        assert (a.answer, a.node_steps, a.node_cycles) == (b.answer, b.node_steps, b.node_cycles)


@pytest.mark.parametrize("controller", [False, True])
def test_halting_and_the_controller_match_torch(controller):
    """No shipped model halts: an untrained one whose halting head stops some nodes
    after one cycle, some after two, some never (its bias moved to the middle)."""
    torch.manual_seed(0)
    config = ModelConfig(kinds=5, hidden=16, inner_steps=3, outer_cycles=3, halting=True, controller=controller)
    model = TreeReasoner(config).eval()
    with torch.no_grad():
        model.halt_head.bias.fill_(0.0)
        if controller:
            model.strategy_steps.normal_(0, 2)
            model.strategy_halt.normal_(0, 1)
    ours = NumpyReasoner(config, Weights.of({k: v.numpy() for k, v in model.state_dict().items()}, config, "test"))
    domain = hybrid_trm.domain("arith")
    texts = [domain.example(0, i, domain.difficulty(depth=4), "mod10").input for i in range(24)]
    trees = encode_texts(domain, domain.task("mod10"), texts)
    with torch.inference_mode():
        theirs = model(batch(trees), with_loss=False)
    mine = ours.forward(batch_arrays(trees))
    assert len(set(theirs.cycles.tolist())) > 1  # nodes did stop at different cycles
    assert np.array_equal(theirs.cycles.numpy(), mine.cycles) and np.array_equal(theirs.steps.numpy(), mine.steps)
    assert np.abs(theirs.final.numpy() - mine.final).max() < 1e-4


def test_a_grid_read_both_ways_matches_torch():
    """carry_down (programs' output grid): position i reads i+1 as well as i-1,
    the top one a learnt constant; weights drawn at random so that both carries
    count, on closed programs of several widths batched together."""
    torch.manual_seed(2)
    programs = hybrid_trm.domain("programs")
    task = programs.task("output")
    config = ModelConfig(kinds=len(programs.node_kinds), classes=task.classes, hidden=16, expansion=2,
                         inner_steps=4, outer_cycles=2, carry_down=True)
    model = TreeReasoner(config).eval()
    with torch.no_grad():
        model.cell.carry_top.normal_(0, 1)
        model.cell.carry_in.normal_(0, 1)
    ours = NumpyReasoner(config, Weights.of({k: v.numpy() for k, v in model.state_dict().items()}, config, "test"))
    difficulty = programs.difficulty(expressions=1)
    texts = [programs.example(3, i, difficulty, "output").input for i in range(24)]
    for width in (1, 6):
        trees = encode_texts(programs, task, texts, width=width)
        with torch.inference_mode():
            theirs = model(batch(trees), with_loss=False)
        mine = ours.forward(batch_arrays(trees))
        assert np.abs(theirs.final.numpy() - mine.final).max() < 1e-4
    without = TreeReasoner(ModelConfig(**{**config.to_json(), "carry_down": False})).eval()
    without.load_state_dict({k: v for k, v in model.state_dict().items() if "carry_down" not in k and "carry_top" not in k})
    with torch.inference_mode():
        assert (without(batch(trees), with_loss=False).final - theirs.final).abs().max() > 1e-3  # the carry down counts


def test_a_halting_grid_of_worlds_matches_torch():
    """Distinct cells kept per node (a node's cells halt together), on formulas of
    several sizes batched together (grids repeated to the widest)."""
    torch.manual_seed(1)
    logic = hybrid_trm.domain("logic")
    task = logic.task("verdict")
    config = ModelConfig(kinds=len(logic.node_kinds), classes=task.classes, hidden=16, expansion=2, outer_cycles=3,
                         carry=False, halting=True, controller=True)
    model = TreeReasoner(config).eval()
    with torch.no_grad():
        model.halt_head.bias.fill_(0.5)
        model.strategy_steps.normal_(0, 2)
    ours = NumpyReasoner(config, Weights.of({k: v.numpy() for k, v in model.state_dict().items()}, config, "test"))
    texts = [logic.example(2, i, logic.difficulty(first_order=0.5), "verdict").input for i in range(12)]
    trees = encode_texts(logic, task, texts, width=16)
    with torch.inference_mode():
        theirs = model(batch(trees), with_loss=False)
    mine = ours.forward(batch_arrays(trees))
    assert len(set(theirs.cycles.tolist())) > 1
    assert np.array_equal(theirs.cycles.numpy(), mine.cycles) and np.array_equal(theirs.steps.numpy(), mine.steps)
    assert np.abs(theirs.final.numpy() - mine.final).max() < 1e-4


BLOCK_TORCH = """
import sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torch_geometric"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
sys.meta_path.insert(0, NoTorch())
"""


def run_without_torch(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH + script, *args], capture_output=True, text=True, timeout=120,
    )


def test_the_runtime_path_imports_no_torch(exported):
    """With torch made unimportable: every exported model answers an input of its
    domain, verified; `hybrid_trm.solve` and `hybrid-trm solve` fall back to the
    runtime with the shipped models. (That nothing asks for torch on the way is
    tests/test_torch_free.py's: here an import of it would fail, not be seen.)"""
    script = """
import json, runpy, sys
from hybrid_trm import runtime
import hybrid_trm
models = json.loads(sys.argv[1])
out = {name: [runtime.load(folder).solve(text).verified for folder, text in [pair]][0] for name, pair in models.items()}
out["api"] = hybrid_trm.solve("[MAX 2 9 [MIN 4 7 ] 0 ]").answer
sys.argv = ["hybrid-trm", "solve", "3 - -2 * (4 + 1)", "--json"]
try:
    runpy.run_module("hybrid_trm", run_name="__main__")
except SystemExit as code:
    out["cli_exit"] = code.code
print(json.dumps(out))
"""
    models = {name: [str(exported[name]), INPUTS[name]] for name in SHIPPED}
    done = run_without_torch(script, json.dumps(models))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    cli, result = json.loads(lines[0]), json.loads(lines[-1])
    assert cli["answer"] == "3" and cli["verified"] is True
    assert all(result[name] is True for name in SHIPPED), result
    assert result["api"] == "9" and result["cli_exit"] in (None, 0)


def test_asking_for_torch_without_it_is_one_clear_line():
    script = """
import runpy, sys
for command in (["solve", "[MAX 1 2 ]", "--runtime", "torch"], ["export", "listops/value", "--out", "unused"]):
    sys.argv = ["hybrid-trm", *command]
    try:
        runpy.run_module("hybrid_trm", run_name="__main__")
    except SystemExit as code:
        print(code.code)
"""
    done = run_without_torch(script)
    assert done.stdout.split() == ["2", "2"], done.stderr
    assert done.stderr.splitlines() == [
        "error: the torch runtime needs torch, which is not installed here: pip install 'hybrid-trm[torch]' (solve answers without it, on the numpy runtime)",
        "error: exporting a model needs torch, which is not installed here: pip install 'hybrid-trm[torch]' (solve answers without it, on the numpy runtime)",
    ]


def test_a_baseline_is_refused(tmp_path):
    from hybrid_trm.training.loop import TrainConfig, train

    config = TrainConfig(
        domain="arith", task="mod10", difficulty={"depth": 3, "digits": 2}, steps=1, batch_size=4, eval_every=1,
        eval_examples=4, model="lstm", hidden=8, layers=1,
    )
    train(config, tmp_path / "lstm", resume=False)
    for attempt in (lambda: export(tmp_path / "lstm", tmp_path / "out"), lambda: runtime.load(tmp_path / "lstm")):
        with pytest.raises(CheckpointError, match="lstm baseline: the runtime runs the recursive model only"):
            attempt()
    assert not (tmp_path / "out").exists()


def corrupt(folder: Path, how: str) -> None:
    weights, config = folder / "model.safetensors", folder / "model.json"
    if how == "truncated weights":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif how == "no config":
        config.unlink()
    elif how == "config not JSON":
        config.write_text("{not json", encoding="utf-8")
    elif how == "a weight missing":
        from safetensors.numpy import load_file, save_file

        arrays = load_file(str(weights))
        del arrays["model.head.bias"]
        save_file(arrays, str(weights), metadata={"step": str(json.loads(config.read_text())["step"])})
    elif how == "hidden edited":
        saved = json.loads(config.read_text())
        saved["model"]["hidden"] = 48
        config.write_text(json.dumps(saved), encoding="utf-8")
    elif how == "a newer runtime format":
        saved = json.loads(config.read_text())
        saved["runtime"]["format"] = 99
        config.write_text(json.dumps(saved), encoding="utf-8")


@pytest.mark.parametrize("how, message", [
    ("truncated weights", "model.safetensors is unreadable"),
    ("no config", "without model.json"),
    ("config not JSON", "model.json is unreadable"),
    ("a weight missing", r"weights do not fit its config \(missing head.bias\)"),
    ("hidden edited", "weights do not fit its config"),
    ("a newer runtime format", "runtime format this version does not read"),
])
def test_a_corrupt_export_is_one_clear_line(tmp_path, exported, cli, how, message):
    folder = tmp_path / "broken"
    folder.mkdir()
    for f in exported["listops/value"].iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    corrupt(folder, how)
    with pytest.raises(HybridTRMError, match=message):
        runtime.load(folder)
    result = cli("solve", "[MAX 1 2 ]", "--checkpoint", folder, "--runtime", "numpy")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("error: ")


def test_cli_export_and_solve_with_it(tmp_path, cli):
    result = cli("export", "listops/value", "--out", tmp_path / "listops", "--check", "4", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["answers_agree"] == report["checked_inputs"] == 4 and report["parameters"] == 43_668
    saved = checkpoints.load(tmp_path / "listops" / "model", framework="numpy")[0]
    assert all(k.startswith("model.") for k in saved)  # no optimizer state, no raw weights
    solved = cli("solve", "[MAX 2 9 [MIN 4 7 ] 0 ]", "--checkpoint", tmp_path / "listops", "--json")
    assert solved.exit_code == 0 and json.loads(solved.output)["answer"] == "9"
    assert cli("solve", "1 + 2", "--runtime", "onnx").exit_code == 2


@pytest.mark.parametrize("name", ["listops/value", "arith/mod10", "logic/verdict", "programs/output"])
def test_evaluate_on_the_runtime_is_torchs(name):
    """The same report, input for input: by levels with equal subtrees shared
    (arith), by distinct cells of a grid of worlds (logic), and programs run by
    the executor, the model answering each digit fact (programs)."""
    theirs = hybrid_trm.load(name, runtime="torch")
    ours = hybrid_trm.load(name, runtime="numpy")
    examples = [{"input": text, "answer": theirs.solve(text, verify=False).answer} for text in generated(ours.loaded, 30, seed=7)]
    examples[0]["answer"] = "not it"  # one wrong, so that accuracy is not 1 by default
    a, b = theirs.evaluate(examples), ours.evaluate(examples)
    assert a == b and a.accuracy == pytest.approx(29 / 30), (a, b)


def distinct_subtrees_of(tree) -> int:
    """How many different subtrees a tree holds (kind, literal and children alike)."""
    ids: dict[int, int] = {}
    seen: dict[tuple, int] = {}
    below: dict[int, list[tuple[int, int]]] = {}
    for node in range(tree.nodes):  # postorder: children first
        key = (int(tree.kind[node]), tuple(tree.literal[node].tolist()), tuple(i for _, i in sorted(below.get(node, []))))
        ids[node] = seen.setdefault(key, len(seen))
        below.setdefault(int(tree.parent[node]), []).append((int(tree.child_rank[node]), ids[node]))
    return len(seen)


def test_equal_subtrees_run_once():
    """Twenty copies of a tree, batched with others: each different subtree of the
    copies is computed once (every level holds at least SHARED_FROM nodes), and
    every copy gets the answer the tree gets alone."""
    loaded = runtime.load("arith/mod10").loaded
    texts = generated(loaded, 6, seed=9)
    trees = encode_texts(loaded.domain, loaded.task, [texts[0]] * 20 + texts[1:])
    together = batch_arrays(trees)
    copies = distinct_subtrees(batch_arrays(trees[:20]))[0]
    assert copies.nodes == distinct_subtrees_of(trees[0]) < trees[0].nodes
    assert distinct_subtrees(together)[0].nodes < together.nodes
    alone = loaded.model.forward(batch_arrays(trees[:1])).final[-1]  # the root: the last node, the highest
    roots = loaded.model.forward(together).final[together.roots[:20]]
    assert (roots == roots[0]).all() and np.abs(roots[0] - alone).max() < 1e-5  # float32 rounding of other row counts


@pytest.mark.parametrize("name", ["listops/value"])  # the shipped model with the answer scan
def test_the_answer_scan_runs_equal_prefixes_once(name, monkeypatch):
    """Rows that read the same children so far share one step of the answer scan
    (SamePrefixes): fewer rows through the network, the same answers, steps and
    cycles as computing every row, logits within float32 rounding."""
    from hybrid_trm.runtime import cell, reasoner

    loaded = runtime.load(name).loaded
    arrays = batch_arrays(encode_texts(loaded.domain, loaded.task, generated(loaded, 300, seed=4)))
    rows = []
    net = cell.Cell.net
    monkeypatch.setattr(cell.Cell, "net", lambda self, u: rows.append(u.shape[0]) or net(self, u))
    shared = loaded.model.forward(arrays)
    shared_rows = sum(rows)
    rows.clear()
    monkeypatch.setattr(reasoner.SamePrefixes, "of", classmethod(lambda cls, *args: None))
    every = loaded.model.forward(arrays)
    assert shared_rows < sum(rows)
    assert (shared.final.argmax(-1) == every.final.argmax(-1)).all()
    assert (shared.steps == every.steps).all() and (shared.cycles == every.cycles).all()
    assert np.abs(shared.final - every.final).max() < 1e-5


def test_cli_eval_on_the_runtime_prints_torchs_report(tmp_path, cli, halting_checkpoint):
    """A halting model with a controller (per-kind inner steps and thresholds, which
    the report lists): the same JSON from either runtime."""
    steered = cli("train", "--depth-rl", "--controller", "--init", halting_checkpoint, "--steps", 2, "--batch-size", 4, "--out", "steered")
    assert steered.exit_code == 0, steered.output
    domain = hybrid_trm.domain("arith")
    lines = [{"input": e.input, "answer": e.answer} for e in (domain.example(4, i, domain.difficulty(depth=3), "mod10") for i in range(12))]
    (tmp_path / "set.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    reports = [cli("eval", "arith", "set.jsonl", "--checkpoint", "steered", "--json", "--runtime", r) for r in ("torch", "numpy")]
    assert all(r.exit_code == 0 for r in reports), reports[1].output
    torch_report, numpy_report = (json.loads(r.stdout) for r in reports)
    assert torch_report == numpy_report and numpy_report["strategy"] and numpy_report["n"] == 12


def test_bench_runtime_compares_eval_side_by_side(cli):
    result = cli("bench", "runtime", "--model", "arith/mod10", "-n", 4, "--repeats", 2, "--cold", 0, "--eval-inputs", 40, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (agreement,), (speed,) = report["agreement"], report["eval"]
    assert agreement["agrees"] and speed["same_report"] and speed["inputs"] == 40 and speed["runtime_accuracy"] > 0.9
    assert speed["runtime_nodes_per_s"] > 0 and set(speed["runtime_stages"]) >= {"parse", "tensorize", "model", "answers"}


@pytest.mark.parametrize("trees", [1, 300])
def test_leaves_read_from_the_table_are_the_leaves_computed(trees, monkeypatch):
    """A one-position grid's leaves come from TreeReasoner._leaves (and a solve's tree
    skips distinct_subtrees when only its leaves repeat): the answers, steps and
    cycles of computing them, logits within float32 rounding (BLAS rounds a block's
    last rows its own way: a leaf's logits can move by 1e-6, as batching moves them)."""
    from hybrid_trm.runtime import reasoner

    loaded = runtime.load("listops/value").loaded
    texts = generated(loaded, trees, seed=6) + ["[MAX 5 5 ]", "[SM 3 ]", "7"]
    for text in texts if trees == 1 else [None]:
        items = [text] if text is not None else texts
        arrays = batch_arrays(encode_texts(loaded.domain, loaded.task, items))
        table = loaded.model.forward(arrays)
        with monkeypatch.context() as patched:
            patched.setattr(reasoner, "_leaves_read", lambda batch, mode: False)
            computed = loaded.model.forward(arrays)
        assert (table.final.argmax(-1) == computed.final.argmax(-1)).all(), text
        assert np.abs(table.final - computed.final).max() < 1e-5, text
        assert np.array_equal(table.steps, computed.steps) and np.array_equal(table.cycles, computed.cycles)


def test_latency_of_a_run_whose_facts_are_all_kept():
    """bench runtime's latency of programs/output: after the first solve every digit
    fact is kept (Loaded.answered), so the timed solves ask the model nothing."""
    from hybrid_trm.bench.runtime import latency

    theirs, ours = hybrid_trm.load("programs/output", runtime="torch"), hybrid_trm.load("programs/output", runtime="numpy")
    figures = latency(theirs.loaded, ours.loaded, "i = 0; while (i < 12) { i = i + 3; } return i * 7;", repeats=2)
    assert figures.torch_model_ms == 0.0 == figures.runtime_model_ms and figures.runtime_ms > 0
