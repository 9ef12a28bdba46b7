"""The logic models against the symbolic verifier, one input at a time, on the
same inputs (alternating, so both see the same machine load): per family of
inputs, the model's accuracy against the known answers, its confidence (wrong
answers above 0.99, expected calibration error), its latency (median and p99),
and the verifier's: what it decided (proved or refuted), its latency, the ratio."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

from ..domains.base import Example
from ..evaluate import same_answer
from ..inference import inference_tensors, predict_trees
from ..loading import Loaded, trained_width

SURE = 0.99  # a wrong answer above this confidence is a confident mistake
BINS = 10  # confidence bins of the expected calibration error


@dataclass
class ModelVsVerifier:
    inputs: str  # what was timed
    n: int
    accuracy: float  # the model's answers equal to the known ones
    confident_wrong: int  # wrong answers with confidence above SURE
    calibration_error: float  # expected calibration error over BINS bins of confidence
    model_ms_median: float  # parse + tensorize + forward, one input at a time
    model_ms_p99: float
    verifier_ms_median: float  # parse + the symbolic decision procedure
    verifier_decided: int  # inputs the verifier proved or refuted within its budget
    verifier_right: int  # ... with the known answer
    agreement: float  # share of inputs where the model gives the verifier's answer

    @property
    def verifier_timeouts(self) -> int:
        return self.n - self.verifier_decided

    def to_json(self) -> dict:
        return {
            **asdict(self), "verifier_timeouts": self.verifier_timeouts,
            "model_vs_verifier": self.verifier_ms_median / self.model_ms_median,
        }


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by the nearest rank (q = 0.99: the 99th percentile)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def calibration_error(confidences: list[float], right: list[bool], bins: int = BINS) -> float:
    """Expected calibration error: over equal-width bins of confidence, the gap
    between accuracy and mean confidence, weighted by the bin's share."""
    total, n = 0.0, len(right)
    for b in range(bins):
        rows = [i for i, c in enumerate(confidences) if min(int(c * bins), bins - 1) == b]
        if rows:
            accuracy = sum(right[i] for i in rows) / len(rows)
            confidence = sum(confidences[i] for i in rows) / len(rows)
            total += len(rows) / n * abs(accuracy - confidence)
    return total


def model_vs_verifier(loaded: Loaded, examples: list[Example | str], inputs: str, budget_s: float = 10.0) -> ModelVsVerifier:
    """Model and verifier, one input at a time, on the same inputs (an Example's
    answer is the known one; a bare text has none, and is scored against the
    verifier's)."""
    domain, task = loaded.domain, loaded.task
    width = trained_width(loaded.config)
    examples = [e if isinstance(e, Example) else Example(e, "", task.name) for e in examples]

    def model_answer(text: str):
        trees = inference_tensors(domain, task, [domain.parse(text)], width)
        return predict_trees(loaded.model, task, trees)[0]

    domain.verify(examples[0].input, model_answer(examples[0].input).answer, task.name, budget_s)  # warm-up
    model_ms, verifier_ms, confidences, right = [], [], [], []
    agree = decided = verifier_right = 0
    for example in examples:
        start = time.perf_counter()
        prediction = model_answer(example.input)
        model_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        verdict = domain.verify(example.input, prediction.answer, task.name, budget_s)
        verifier_ms.append((time.perf_counter() - start) * 1000)
        truth = example.answer or verdict.expected
        decided += verdict.expected is not None
        verifier_right += verdict.expected is not None and truth is not None and same_answer(task, verdict.expected, truth)
        agree += verdict.expected is not None and same_answer(task, prediction.answer, verdict.expected)
        confidences.append(prediction.confidence)
        right.append(truth is not None and same_answer(task, prediction.answer, truth))
    return ModelVsVerifier(
        inputs=inputs, n=len(examples), accuracy=sum(right) / len(right),
        confident_wrong=sum(c > SURE and not r for c, r in zip(confidences, right)),
        calibration_error=calibration_error(confidences, right), model_ms_median=statistics.median(model_ms),
        model_ms_p99=percentile(model_ms, 0.99), verifier_ms_median=statistics.median(verifier_ms),
        verifier_decided=decided, verifier_right=verifier_right, agreement=agree / len(examples),
    )
