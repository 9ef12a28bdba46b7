"""The `hybrid-trm` command in-process: generate, train, eval, solve, and every
user error as exit code 2 with one clear message and no traceback."""

from __future__ import annotations

import json
import shutil

import pytest

from hybrid_trm import evaluate
from hybrid_trm.domains import registry
from hybrid_trm.grammar import postorder


def assert_answered(result):
    """Exit 0 where the answer was verified (or not checked), 3 where the verifier
    rejected it: the tiny checkpoints here are untrained, so either may happen."""
    rejected = "WRONG ✗" in result.stdout or '"verified": false' in result.stdout
    assert result.exit_code == (3 if rejected else 0), (result.exit_code, result.output)


def assert_user_error(result, *fragments):
    """Exit 2, a message on stderr that starts with `error:`, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    err = result.stderr.lstrip("\n")  # a transient progress bar may leave a blank line
    assert err.startswith("error: "), err
    assert "Traceback" not in result.output
    if result.stdout:  # with --json, the error as one JSON object too
        assert set(json.loads(result.stdout)) == {"error", "line", "column"}, result.stdout
    if "cannot parse" not in err:  # a parse error adds its caret context below
        assert err.strip().count("\n") == 0, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


# --- generate -----------------------------------------------------------------------


def test_generate_to_stdout(cli):
    result = cli("generate", "arith", "--task", "mod10", "-n", 25, "--seed", 3, "--knob", "depth=3", "--knob", "digits=2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 25
    arith = registry.get("arith")
    for line in lines:
        item = json.loads(line)
        assert item["task"] == "mod10" and 1 <= item["depth"] <= 3
        assert arith.verify(item["input"], item["answer"], "mod10").correct is True
    again = cli("generate", "arith", "--task", "mod10", "-n", 25, "--seed", 3, "--knob", "depth=3", "--knob", "digits=2")
    assert again.stdout == result.stdout


def test_generate_to_file(cli, tmp_path):
    out = tmp_path / "sub" / "data.jsonl"
    result = cli("generate", "listops", "--count", 7, "--knob", "binarised=true", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = out.read_text().splitlines()
    assert len(lines) == 7
    assert all(json.loads(l)["input"].startswith("(") for l in lines)
    assert not list(out.parent.glob("*.tmp"))


@pytest.mark.parametrize(
    "args,fragments",
    [
        (["generate", "nope"], ["unknown domain 'nope'", "arith"]),
        (["generate", "arith", "--task", "nope"], ["no task 'nope'", "mod10"]),
        (["generate", "arith", "--knob", "zzz=1"], ["zzz", "depth"]),
        (["generate", "arith", "--knob", "depth"], ["name=value"]),
    ],
)
def test_generate_errors(cli, args, fragments):
    assert_user_error(cli(*args), *fragments)


# --- train ---------------------------------------------------------------------------


def test_train_listops_with_the_fold_and_shares(cli, tmp_path):
    result = cli(
        "train", "listops", "--steps", 2, "--hidden", 8, "--batch-size", 4, "--eval-every", 2,
        "--scan", "answer", "--summary", "share", "--expansion", 2, "--knob", "depth=3", "--out", tmp_path / "l",
    )
    assert result.exit_code == 0, result.output
    cfg = json.loads((tmp_path / "l.json").read_text())
    assert (cfg["model"]["scan"], cfg["model"]["summary"], cfg["model"]["expansion"]) == ("answer", "share", 2)


def test_train_writes_a_checkpoint_under_runs(cli, tmp_path):
    result = cli(
        "train", "arith", "--task", "mod10", "--steps", 2, "--hidden", 8, "--batch-size", 4,
        "--eval-every", 1, "--inner-steps", 1, "--outer-cycles", 1, "--knob", "depth=3",
    )
    assert result.exit_code == 0, result.output
    base = tmp_path / "runs" / "arith-mod10"
    assert base.with_suffix(".safetensors").is_file()
    cfg = json.loads(base.with_suffix(".json").read_text())
    assert cfg["step"] == 2 and cfg["model"]["hidden"] == 8 and cfg["training"]["difficulty"] == {"depth": 3}
    assert "checkpoint" in result.stdout and "held-out accuracy" in result.stdout
    # Again, to no more steps than it has: nothing is trained, and it says so.
    written = base.with_suffix(".safetensors").stat().st_mtime_ns
    again = cli("train", "arith", "--task", "mod10", "--steps", 2, "--hidden", 8, "--batch-size", 4, "--knob", "depth=3")
    assert again.exit_code == 0 and "already at step 2 of --steps 2: nothing to train" in again.stdout, again.output
    assert base.with_suffix(".safetensors").stat().st_mtime_ns == written


@pytest.mark.parametrize(
    "args,fragments",
    [
        (["train", "nope", "--steps", "1"], ["unknown domain"]),
        (["train", "arith", "--task", "nope", "--steps", "1"], ["no task 'nope'"]),
        (["train", "arith", "--steps", "1", "--knob", "zz=1"], ["zz"]),
        (["train", "--preset", "nope"], ["unknown preset"]),
        (["train", "listops", "--steps", "1", "--scan", "sideways"], ["scan must be", "sideways"]),
        (["train", "listops", "--steps", "1", "--summary", "mean"], ["summary must be", "mean"]),
        (["train"], ["DOMAIN"]),
    ],
)
def test_train_errors(cli, args, fragments, tmp_path):
    assert_user_error(cli(*args), *fragments)
    assert not (tmp_path / "runs").exists()  # refused before any work


# --- eval ----------------------------------------------------------------------------


def write_jsonl(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def test_eval_json(cli, tmp_path, arith_mod10_checkpoint, monkeypatch):
    data = tmp_path / "d.jsonl"
    assert cli("generate", "arith", "--task", "mod10", "-n", 12, "--knob", "depth=4", "--out", data).exit_code == 0
    result = cli("eval", "arith", data, "--task", "mod10", "--checkpoint", arith_mod10_checkpoint, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"accuracy", "n", "by_depth"} <= set(report)
    assert report["n"] == 12 and 0.0 <= report["accuracy"] <= 1.0
    assert sum(row["n"] for row in report["by_depth"].values()) == 12
    assert (report["domain"], report["task"]) == ("arith", "mod10")
    # Every node of every input is counted once in the histogram of latent updates.
    arith = registry.get("arith")
    nodes = sum(len(postorder(arith.parse(json.loads(line)["input"]))) for line in data.read_text().splitlines())
    histogram = {int(k): v for k, v in report["steps_histogram"].items()}
    assert sum(histogram.values()) == nodes and min(histogram) > 0
    assert min(histogram) <= report["steps_mean"] <= max(histogram)
    limited = json.loads(cli("eval", "arith", data, "--task", "mod10", "--checkpoint", arith_mod10_checkpoint, "--limit", 5, "--json").stdout)
    assert limited["n"] == 5
    table = cli("eval", "arith", data, "--task", "mod10", "--checkpoint", arith_mod10_checkpoint)
    assert table.exit_code == 0 and "accuracy" in table.stdout and "latent updates per node" in table.stdout
    monkeypatch.setattr(evaluate, "WORKER_CHUNK_MIN", 4)  # 12 inputs: three workers of 4
    one, three = (
        json.loads(cli("eval", "arith", data, "--task", "mod10", "--checkpoint", arith_mod10_checkpoint, "--jobs", j, "--json").stdout)
        for j in (1, 3)
    )
    assert three == one == report


def test_eval_warns_of_node_kinds_the_model_never_saw(cli, tmp_path):
    """The shipped arith/exact model trained on + and - only: a file with products
    is scored, with a warning that says how many nodes it guessed at; a file
    without them gets none."""
    data = tmp_path / "mixed.jsonl"
    rows = [{"input": "2 * 3 + 1", "answer": "7"}, {"input": "4 - 5", "answer": "-1"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("eval", "arith", data, "--task", "exact", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["node_kinds"] == {"NUMBER": 5, "add": 1, "sub": 1, "mul": 1}
    assert "not trained on mul nodes (1 of the 8 nodes scored)" in " ".join(result.stderr.split())
    data.write_text(json.dumps(rows[1]) + "\n")
    result = cli("eval", "arith", data, "--task", "exact", "--json")
    assert result.exit_code == 0 and "warning" not in result.stderr


def test_eval_benchmark(cli, listops_checkpoint):
    result = cli("eval", "--benchmark", "listops", "--checkpoint", listops_checkpoint, "--limit", 10, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 10 and report["benchmark"] == "listops"


def test_eval_plots_steps_per_node(cli, tmp_path):
    pytest.importorskip("matplotlib")
    image = tmp_path / "figures" / "steps.png"
    result = cli("eval", "--benchmark", "listops", "--limit", 20, "--plot", image)
    assert result.exit_code == 0, result.output
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


GOOD_LINE = b'{"input": "1 + 2", "answer": "3"}\n'


@pytest.mark.parametrize(
    "bad,fragment",
    [
        (b'{"input": "1+"', "not JSON"),
        (b"[1, 2]", "a JSON list, not an object"),
        (b'{"answer": "3"}', "no 'input' key"),
        (b'"just a string"', "a JSON string, not an object"),
        (b'{"input": 12, "answer": "2"}', "'input' must be a string, not 12"),
        (b'{"input": null, "answer": "2"}', "'input' must be a string, not null"),
        (b'{"input": "1 + 2"}', "no 'answer' key"),
        (b'{"input": "1 + 2", "answer": true}', "'answer' must be a string or an integer"),
        (b'{"input": "1 + 2", "answer": "3", "task": 7}', "'task' must be a string"),
        (b'{"input": "caf\xe9", "answer": "3"}', "not UTF-8"),
    ],
    ids=[
        "broken-json", "not-an-object", "no-input", "string", "input-not-text", "input-null", "no-answer",
        "answer-bool", "task-not-text", "latin-1",
    ],
)
def test_eval_malformed_jsonl(cli, tmp_path, arith_mod10_checkpoint, bad, fragment):
    """A line that holds no example is reported with its number and why, counted as
    wrong, and the lines around it are scored; --strict stops at it; alone in its
    file, there is nothing to score."""
    (tmp_path / "bad.jsonl").write_bytes(GOOD_LINE + bad + b"\n" + GOOD_LINE)
    args = ("eval", "arith", "bad.jsonl", "--task", "mod10", "--checkpoint", arith_mod10_checkpoint, "--json")
    result = cli(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 3 and sum(row["n"] for row in report["by_depth"].values()) == 2
    assert [e["line"] for e in report["errors"]] == [2] and fragment in report["errors"][0]["error"]
    assert report["accuracy"] in (0, 1 / 3, 2 / 3)  # the bad line is never right
    assert "1 of 3 inputs could not be scored" in result.stderr
    assert_user_error(cli(*args, "--strict"), "bad.jsonl:2: ", fragment)
    (tmp_path / "bad.jsonl").write_bytes(bad + b"\n")
    assert_user_error(cli(*args), "bad.jsonl: no line holds an example", "bad.jsonl:1: ", fragment)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"  \r\n"], ids=["empty", "blank-lines", "spaces"])
def test_eval_file_without_examples(cli, tmp_path, arith_mod10_checkpoint, content):
    (tmp_path / "bad.jsonl").write_bytes(content)
    result = cli("eval", "arith", "bad.jsonl", "--task", "mod10", "--checkpoint", arith_mod10_checkpoint, "--json")
    assert_user_error(result, "bad.jsonl: no examples")


def test_eval_errors(cli, tmp_path, arith_mod10_checkpoint):
    data = write_jsonl(tmp_path / "d.jsonl", [{"input": "1 + 2", "answer": "3", "task": "mod10"}])
    ck = arith_mod10_checkpoint
    assert_user_error(cli("eval", "arith", "missing.jsonl", "--task", "mod10", "--checkpoint", ck), "missing.jsonl")
    assert_user_error(cli("eval", "nope", data, "--checkpoint", ck), "unknown domain")
    assert_user_error(cli("eval", "arith", data, "--task", "nope", "--checkpoint", ck), "no task 'nope'")
    # Without --task, the checkpoint's task (mod10) is the one scored.
    ok = cli("eval", "arith", data, "--checkpoint", ck, "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["task"] == "mod10"
    # Asking for another task than the file's examples names the mismatch.
    assert_user_error(cli("eval", "arith", data, "--task", "exact", "--checkpoint", ck), "mod10", "--task")
    assert_user_error(cli("eval", "arith", data, "--task", "mod10", "--checkpoint", tmp_path / "nock"), "missing")
    lists = write_jsonl(tmp_path / "l.jsonl", [{"input": "[MAX 1 2 ]", "answer": "2"}])
    assert_user_error(cli("eval", "listops", lists, "--checkpoint", ck), "arith/mod10")
    assert_user_error(cli("eval", "--benchmark", "nope"), "unknown benchmark")
    assert_user_error(cli("eval"), "DOMAIN")
    parse = write_jsonl(tmp_path / "p.jsonl", [{"input": "1 + $", "answer": "3", "task": "mod10"}])
    err = assert_user_error(cli("eval", "arith", parse, "--task", "mod10", "--checkpoint", ck), "column 5")
    assert "^" in err


# --- solve ---------------------------------------------------------------------------

SOLVE_KEYS = {"domain", "task", "answer", "confidence", "verified", "expected", "evidence", "nodes", "steps_mean", "ms"}


def test_solve_json(cli, arith_mod10_checkpoint):
    result = cli("solve", "3 - -2", "--checkpoint", arith_mod10_checkpoint, "--json")
    out = json.loads(result.stdout)
    assert_answered(result)
    assert set(out) == SOLVE_KEYS
    assert (out["domain"], out["task"]) == ("arith", "mod10")
    assert out["answer"] in [str(d) for d in range(10)]
    assert out["expected"] == "5"
    assert out["verified"] is (out["answer"] == "5")
    assert out["nodes"] == 4 and 0.0 <= out["confidence"] <= 1.0
    assert out["steps_mean"] > 0 and out["ms"] >= 0
    unchecked = cli("solve", "3 - -2", "--checkpoint", arith_mod10_checkpoint, "--json", "--no-verify")
    assert unchecked.exit_code == 0 and json.loads(unchecked.stdout)["verified"] is None
    assert json.loads(unchecked.stdout)["answer"] == out["answer"]


def test_a_rejected_answer_exits_3_and_json_carries_trace_and_errors(cli):
    # The shipped exact model's grid holds 12 digits: 10^12 does not fit, so its answer is wrong.
    wrong = cli("solve", "999999999999 + 1", "--trace")
    assert wrong.exit_code == 3 and "WRONG" in wrong.stdout, wrong.output
    assert "(expected 1000000000000)" in wrong.stdout.splitlines()[3]  # the root's true value, from the verifier
    shown = cli("solve", "999999999999 + 1", "--json", "--trace")
    out = json.loads(shown.stdout)
    assert shown.exit_code == 3 and out["verified"] is False
    assert [n["node"] for n in out["trace"]] == ["add", "NUMBER 999999999999", "NUMBER 1"]
    assert out["trace"][0]["expected"] == "1000000000000" and out["trace"][1]["depth"] == 1
    bad = cli("solve", "3 + * 2", "--json")
    assert bad.exit_code == 2 and json.loads(bad.stdout) == {
        "error": json.loads(bad.stdout)["error"], "line": 1, "column": 5,
    } and "cannot parse" in json.loads(bad.stdout)["error"]
    unknown = json.loads(cli("solve", "1 + 2", "--domain", "nope", "--json").stdout)
    assert "unknown domain" in unknown["error"] and unknown["line"] is None


def test_solve_trace(cli, arith_mod10_checkpoint):
    result = cli("solve", "(1 + 2) * -3", "--checkpoint", arith_mod10_checkpoint, "--trace")
    assert_answered(result)
    lines = result.stdout.splitlines()
    tree = [l for l in lines if "→" in l]
    assert len(tree) == 6  # one line per node
    assert tree[0].startswith("mul")
    assert [l.split("→")[0].strip() for l in tree] == ["mul", "add", "NUMBER 1", "NUMBER 2", "neg", "NUMBER 3"]
    assert tree[2].startswith("    NUMBER 1")  # indented by depth
    assert "verifier:" in result.stdout and "(1 + 2) * -3 = -9" in result.stdout


@pytest.mark.parametrize(
    "args,fragments",
    [
        (["3 $ 4"], ["column 3", "3 $ 4", "    ^"]),
        (["1 +"], ["end of input"]),
        ([""], ["empty input"]),
        (["   "], ["empty input"]),
        (["1 + 2", "--domain", "listops"], ["arith/mod10"]),
        (["1 + 2", "--task", "exact"], ["arith/mod10", "exact"]),
        (["1 + 2", "--task", "nope"], ["nope"]),
        (["1 + 2", "--worlds", "8"], ["not answered over worlds"]),
    ],
)
def test_solve_errors_with_checkpoint(cli, arith_mod10_checkpoint, args, fragments):
    assert_user_error(cli("solve", *args, "--checkpoint", arith_mod10_checkpoint), *fragments)


def test_solve_parse_error_shows_the_caret(cli, arith_mod10_checkpoint):
    err = assert_user_error(cli("solve", "12 * (3 + ) - 1", "--checkpoint", arith_mod10_checkpoint))
    lines = err.rstrip("\n").split("\n")
    assert lines[0].startswith("error: arith: cannot parse at line 1, column 11")
    snippet, caret = lines[-2], lines[-1]
    assert caret.strip() == "^" and snippet[caret.index("^")] == ")"


def test_solve_reads_a_file_or_standard_input(cli, arith_mod10_checkpoint, tmp_path):
    (tmp_path / "input.txt").write_text("(1 + 2)\n* -3\n", encoding="utf-8")
    shown = cli("solve", "(1 + 2) * -3", "--checkpoint", arith_mod10_checkpoint, "--json")
    from_file = cli("solve", "--file", tmp_path / "input.txt", "--checkpoint", arith_mod10_checkpoint, "--json")
    assert_answered(from_file)
    assert json.loads(from_file.stdout)["expected"] == json.loads(shown.stdout)["expected"] == "1"
    for args in (["-"], ["--file", "-"]):
        from_stdin = cli("solve", *args, "--checkpoint", arith_mod10_checkpoint, "--json", stdin="(1 + 2) * -3\n")
        assert json.loads(from_stdin.stdout)["expected"] == "1", from_stdin.output
    (tmp_path / "latin1.txt").write_bytes(b"1 + \xe9")
    (tmp_path / "long.txt").write_text("1+" * 200_000 + "1", encoding="utf-8")
    for args, fragment in (
        (["--file", tmp_path / "none.txt"], "cannot read"),
        (["--file", tmp_path / "latin1.txt"], "not UTF-8"),
        (["--file", tmp_path / "long.txt"], "more than 250,000 characters"),
        (["1 + 2", "--file", tmp_path / "input.txt"], "not both"),
        ([], "neither"),
    ):
        assert_user_error(cli("solve", *args, "--checkpoint", arith_mod10_checkpoint), fragment)


def test_solve_errors_without_checkpoint(cli, tmp_path):
    assert_user_error(cli("solve", "1 + 2", "--domain", "nope"), "unknown domain 'nope'")
    assert_user_error(cli("solve", "1 + 2", "--domain", "arith", "--task", "nope"), "no task 'nope'")
    assert_user_error(cli("solve", "1 + 2", "--checkpoint", tmp_path / "none"), "missing")
    assert_user_error(cli("solve", "7"), "several domains", "--domain")
    # Neither grammar accepts it: the error of the parser that read furthest.
    assert_user_error(cli("solve", "[MAX 1 2 $ ]"), "listops", "column 10")
    assert_user_error(cli("solve", ""), "empty input")


def test_solve_checkpoint_for_another_domain(cli, listops_checkpoint):
    assert_user_error(cli("solve", "[MAX 1 2 ]", "--checkpoint", listops_checkpoint, "--domain", "arith"), "listops/value")
    ok = cli("solve", "[MAX 1 2 ]", "--checkpoint", listops_checkpoint, "--json")
    assert_answered(ok)
    assert json.loads(ok.stdout)["expected"] == "2"


def test_corrupt_checkpoint_is_a_user_error(cli, tmp_path, arith_mod10_checkpoint):
    bad = tmp_path / "bad"
    shutil.copy(arith_mod10_checkpoint.with_suffix(".json"), bad.with_suffix(".json"))
    bad.with_suffix(".safetensors").write_bytes(b"\0" * 64)
    assert_user_error(cli("solve", "1 + 2", "--checkpoint", bad), "unreadable")


def test_no_arguments_shows_help(cli):
    result = cli()
    assert "solve" in result.output and "generate" in result.output and "train" in result.output


def test_more_inner_steps_at_test_time(cli, arith_mod10_checkpoint):
    """--inner-steps runs the same weights for more latent updates per node."""
    base = json.loads(cli("solve", "1 + 2 * 3", "--checkpoint", arith_mod10_checkpoint, "--json").stdout)
    more = json.loads(cli("solve", "1 + 2 * 3", "--checkpoint", arith_mod10_checkpoint, "--json", "--inner-steps", 9).stdout)
    assert more["steps_mean"] > base["steps_mean"] and more["answer"] in "0123456789"
    data = cli("generate", "arith", "--task", "mod10", "-n", 5, "--knob", "depth=3").stdout
    path = "d.jsonl"
    with open(path, "w") as f:
        f.write(data)
    report = json.loads(cli("eval", "arith", path, "--checkpoint", arith_mod10_checkpoint, "--inner-steps", 9, "--json").stdout)
    assert report["steps_mean"] > base["steps_mean"]
    bad = cli("solve", "1 + 2", "--checkpoint", arith_mod10_checkpoint, "--inner-steps", 0)
    assert bad.exit_code == 2 and "--inner-steps" in bad.output


def test_every_command_that_runs_a_model_takes_threads(cli):
    import torch

    from hybrid_trm.cli import common

    try:
        assert cli("solve", "1 + 2", "--threads", 2).exit_code == 0 and torch.get_num_threads() == 2
        assert cli("solve", "1 + 2").exit_code == 0 and torch.get_num_threads() == common.use_threads(None)
        for command in (["train"], ["eval"], ["bench", "logic"], ["bench", "accuracy"], ["bench", "halting"]):
            assert "--threads" in cli(*command, "--help").stdout, command
    finally:
        torch.set_num_threads(1)
