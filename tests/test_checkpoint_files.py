"""A checkpoint is user input (`--checkpoint FILE`): every corrupted variant of a
good one (truncated or random weights, a config of the wrong structure, types or
sizes, weights that are NaN or do not fit) is refused at once with one line that
names the file (CheckpointError), never a traceback, a hang or a huge allocation."""

from __future__ import annotations

import json
import random
import shutil
import signal
import struct
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import pytest
import torch
from safetensors.torch import load_file

from hybrid_trm import checkpoints
from hybrid_trm.errors import CheckpointError
from hybrid_trm.loading import load, Recursion

from test_cli import assert_user_error

SECONDS = 5.0  # far above a refusal's milliseconds, far below a 10^12-wide allocation


@contextmanager
def within(seconds: float):
    """Fail, rather than hang, when the block takes longer than `seconds`."""

    def late(*_):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, late)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Each corruption edits a copy of a good checkpoint: (its weights' bytes, its config,
# its tensors) -> new weights bytes (None: as they were) and config (None: as it was;
# a str or bytes: the JSON file's text as given).
Corruption = Callable[[bytes, dict, dict], tuple]


def config_edit(edit: Callable[[dict], object]) -> Corruption:
    def corrupt(weights, config, tensors):
        result = edit(config)
        return None, config if result is None else result

    return corrupt


def without(*keys: str) -> Corruption:
    def edit(config):
        *outer, last = keys
        for key in outer:
            config = config[key]
        del config[last]

    return config_edit(edit)


def setting(value, *keys: str) -> Corruption:
    def edit(config):
        *outer, last = keys
        for key in outer:
            config = config[key]
        config[last] = value

    return config_edit(edit)


def tensors_edit(edit: Callable[[dict], None]) -> Corruption:
    """Weights rewritten by safetensors itself, with the same step: only what the
    edit changes is wrong."""

    def corrupt(weights, config, tensors):
        edit(tensors)
        with tempfile.TemporaryDirectory() as folder:
            path = checkpoints.save(Path(folder) / "edited", tensors, config)
            return checkpoints.files(path)[0].read_bytes(), None

    return corrupt


def header_length(weights: bytes) -> int:
    return 8 + struct.unpack("<Q", weights[:8])[0]


def truncated(at: Callable[[bytes], int]) -> Corruption:
    return lambda weights, config, tensors: (weights[: at(weights)], None)


def nan_in(name: str, value: float) -> Callable[[dict], None]:
    def edit(tensors):
        tensors[name] = tensors[name].clone()
        tensors[name].view(-1)[0] = value

    return edit


def lying_header(entry: dict) -> Corruption:
    """The weights with one tensor's header entry changed and everything else kept."""

    def corrupt(weights, config, tensors):
        end = header_length(weights)
        header = json.loads(weights[8:end])
        name = next(k for k in header if k.startswith("model."))
        header[name].update(entry)
        text = json.dumps(header).encode()
        return struct.pack("<Q", len(text)) + text + weights[end:], None

    return corrupt


CORRUPTIONS: dict[str, Corruption] = {
    # The weights file.
    **{f"weights-cut-at-{name}": truncated(at) for name, at in {
        "0": lambda w: 0, "4": lambda w: 4, "8": lambda w: 8, "9": lambda w: 9, "100": lambda w: 100,
        "header-end": header_length, "header-end+1": lambda w: header_length(w) + 1,
        "middle": lambda w: len(w) // 2, "last-byte": lambda w: len(w) - 1,
    }.items()},
    **{f"weights-random-{n}": (lambda n: lambda w, c, t: (random.Random(n).randbytes(n), None))(n) for n in (1, 16, 4096)},
    "weights-random-after-header": lambda w, c, t: (w[: header_length(w)] + random.Random(0).randbytes(len(w) - header_length(w)), None),
    "header-length-2^63": lambda w, c, t: (struct.pack("<Q", 2**63) + w[8:], None),
    "header-length-90MB": lambda w, c, t: (struct.pack("<Q", 90_000_000) + w[8:], None),
    "header-shape-2^40": lying_header({"shape": [2**40, 2**40]}),
    "header-offsets-past-the-end": lying_header({"data_offsets": [0, 2**50]}),
    "header-dtype-lies": lying_header({"dtype": "F64"}),
    "header-dtype-unknown": lying_header({"dtype": "Q13"}),
    "weights-nan": tensors_edit(nan_in("model.head.weight", float("nan"))),
    "weights-inf": tensors_edit(nan_in("model.cell.up.weight", float("-inf"))),
    "weights-wrong-shape": tensors_edit(lambda t: t.update({"model.head.weight": t["model.head.weight"][:, :-1].clone()})),
    "weights-missing-one": tensors_edit(lambda t: t.pop("model.head.bias")),
    "weights-extra-one": tensors_edit(lambda t: t.update({"model.surprise": torch.zeros(3)})),
    "weights-transposed": tensors_edit(lambda t: t.update({"model.cell.up.weight": t["model.cell.up.weight"].T.contiguous()})),
    # The config file as a whole.
    **{f"config-is-{name}": (lambda text: lambda w, c, t: (None, text))(text) for name, text in {
        "list": "[1, 2]", "string": '"arith"', "number": "12", "null": "null", "true": "true", "empty-object": "{}",
        "empty-file": "", "broken": '{"format": 1,', "nested-100k-deep": "[" * 100_000, "latin-1": b'{"domain": "caf\xe9"}',
        "utf-16": json.dumps({"format": 1}).encode("utf-16"),
    }.items()},
    "config-cut-in-half": lambda w, c, t: (None, json.dumps(c)[: len(json.dumps(c)) // 2]),
    "config-17MB": lambda w, c, t: (None, json.dumps({**c, "padding": "x" * (17 * 2**20)})),
    # Keys missing.
    **{f"no-{'.'.join(keys)}": without(*keys) for keys in (
        ("format",), ("domain",), ("task",), ("vocab",), ("model",), ("vocab", "node_kinds"), ("vocab", "answers"),
        ("model", "kinds"), ("model", "hidden"),  # (hidden's default, 64, is not the checkpoint's 8)
    )},
    # Wrong types.
    **{f"{'.'.join(keys)}={json.dumps(value)}": setting(value, *keys) for value, keys in (
        ("1", ("format",)), (2, ("format",)), (True, ("format",)), ("2", ("step",)), (-1, ("step",)), (2.5, ("step",)),
        (5, ("domain",)), (None, ("task",)), ([], ("vocab",)), ("abc", ("vocab", "node_kinds")), ([1, 2], ("vocab", "answers")),
        ([1], ("trained_node_kinds",)), ([], ("metrics",)), ("x", ("training",)), ([8], ("model",)), ("model", ("model",)),
        ("8", ("model", "hidden")), (8.5, ("model", "hidden")), (True, ("model", "hidden")), (None, ("model", "kinds")),
        ("yes", ("model", "halting")), (1, ("model", "carry")), (3, ("model", "scan")), ("deep", ("model", "summary")),
        ("x", ("model", "halt_threshold")), (1.5, ("model", "halt_threshold")), (-0.1, ("model", "halt_threshold")),
        (1, ("model", "surprise")), ("nope", ("domain",)), ("nope", ("task",)), (["NUMBER"], ("vocab", "node_kinds")),
    )},
    # Sizes past the model's limits: refused before anything is allocated.
    **{f"model.{key}={name}": setting(value, "model", key) for key, name, value in (
        ("hidden", "10^12", 10**12), ("hidden", "0", 0), ("hidden", "-8", -8), ("inner_steps", "10^9", 10**9),
        ("outer_cycles", "10^9", 10**9), ("kinds", "10^9", 10**9), ("classes", "10^9", 10**9),
        ("expansion", "10^6", 10**6), ("hidden", "10^400", 10**400),
    )},
    "model-of-150M-parameters": config_edit(lambda c: c["model"].update(hidden=4096, expansion=4)),
    "model-nan-threshold": config_edit(lambda c: c["model"].update(halt_threshold=float("nan"))),
    # A baseline's config: its sizes and types are checked before it is built.
    **{f"baseline-{name}": config_edit((lambda shape: lambda c: c.update(model={"baseline": "transformer", "kinds": 5, **shape}))(shape))
       for name, shape in {
           "hidden-10^12": {"hidden": 10**12}, "layers-10^9": {"layers": 10**9}, "heads-0": {"heads": 0},
           "heads-text": {"heads": "4"}, "unknown": {"baseline": "nope"}, "worlds-text": {"worlds": "yes"},
           "of-10^10-parameters": {"hidden": 4096, "layers": 64, "heads": 64},
       }.items()},
}


@pytest.fixture(scope="module")
def good(arith_mod10_checkpoint, tmp_path_factory) -> tuple[Path, bytes, dict]:
    folder = tmp_path_factory.mktemp("good")
    for f in checkpoints.files(arith_mod10_checkpoint):
        shutil.copy(f, folder / f.name)
    base = folder / Path(arith_mod10_checkpoint).name
    load(base)  # it is good
    weights_file, config_file = checkpoints.files(base)
    return base, weights_file.read_bytes(), json.loads(config_file.read_text())


def corrupted(good, tmp_path: Path, name: str) -> Path:
    base, weights, config = good
    config = json.loads(json.dumps(config))
    new_weights, new_config = CORRUPTIONS[name](weights, config, load_file(str(checkpoints.files(base)[0])))
    out = tmp_path / "bad"
    weights_file, config_file = checkpoints.files(out)
    weights_file.write_bytes(weights if new_weights is None else new_weights)
    if new_config is None or isinstance(new_config, dict):
        new_config = json.dumps(config if new_config is None else new_config)
    config_file.write_bytes(new_config if isinstance(new_config, bytes) else new_config.encode())
    return out


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_a_corrupted_checkpoint_is_refused_with_one_line(good, tmp_path, name):
    path = corrupted(good, tmp_path, name)
    start = time.monotonic()
    with within(SECONDS):
        with pytest.raises(CheckpointError) as refused:
            load(path, recursion=Recursion())
    assert time.monotonic() - start < SECONDS
    message = str(refused.value)
    assert message.startswith(f"checkpoint {path}") and "\n" not in message, message


def test_the_corpus_covers_what_the_fuzzer_tried():
    """Truncated and random weights, configs of every JSON type, each key missing,
    wrong types, huge sizes, NaN weights, wrong shapes: at least 73 variants."""
    assert len(CORRUPTIONS) >= 73


@pytest.mark.parametrize(
    "name,fragment",
    [
        ("config-is-list", "holds a JSON list, not an object"),
        ("no-domain", "it has no 'domain'"),
        ("model.hidden=10^12", "hidden must be a whole number from 1 to 4,096"),
        ("model.inner_steps=10^9", "inner_steps must be a whole number from 1 to 1,000"),
        ("model-of-150M-parameters", "at most 100,000,000 are accepted"),
        ("weights-nan", "NaN or infinite values in model.head.weight"),
        ("weights-cut-at-middle", "bad.safetensors is unreadable"),
        ("weights-wrong-shape", "weights do not fit its config"),
        ("model.surprise=1", "unknown field(s) surprise"),
        ("domain=\"nope\"", "unknown domain 'nope'"),
    ],
)
def test_solve_with_a_corrupted_checkpoint_exits_2_naming_it(cli, good, tmp_path, name, fragment):
    path = corrupted(good, tmp_path, name)
    (tmp_path / "data.jsonl").write_text('{"input": "1 + 2", "answer": "3"}\n')
    with within(30):
        result = cli("solve", "1 + 2", "--checkpoint", path)
    assert_user_error(result, f"checkpoint {path}", fragment)
    with within(30):
        result = cli("eval", "arith", "data.jsonl", "--checkpoint", path)
    assert_user_error(result, f"checkpoint {path}")


def test_the_shipped_checkpoints_and_presets_are_within_the_limits():
    """The limits are far above what the project ships and trains."""
    from hybrid_trm import pretrained
    from hybrid_trm.model.reasoner import ModelConfig
    from hybrid_trm.training.loop import build_model
    from hybrid_trm.training.presets import PRESETS

    for path in pretrained.shipped():
        shape = checkpoints.load(path)[1]["model"]
        for key, most in ModelConfig.LIMITS.items():
            assert shape.get(key, 1) * 10 <= most, (path, key)
    for name, preset in PRESETS.items():
        assert build_model(preset).parameter_count() * 100 < ModelConfig.MAX_PARAMETERS, name
