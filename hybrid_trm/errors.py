"""The one exception root of hybrid-trm and the errors a user can cause.

Every error a user can trigger with bad input derives from HybridTRMError; the CLI
prints its message on one line (a parse error adds the caret context) and exits 2.
"""

from __future__ import annotations


class HybridTRMError(Exception):
    """Root of every error raised by hybrid-trm on bad input or usage."""


class ParseError(HybridTRMError):
    """Text that a domain's grammar does not accept.

    Carries where (1-based line and column), the offending line with a caret under
    the bad character, which tokens the grammar expected there, and a domain's hint
    on what the text may have meant (a line after the caret).
    """

    def __init__(
        self, domain: str, line: int, column: int, context: str, expected: list[str], found: str, hint: str = "",
    ):
        self.domain = domain
        self.line = line
        self.column = column
        self.context = context
        self.expected = expected
        self.found = found
        self.hint = hint
        want = ", ".join(expected) if expected else "end of input"
        super().__init__(
            f"{domain}: cannot parse at line {line}, column {column}: found {found}, expected {want}\n{context}"
            + (f"\n  hint: {hint}" if hint else "")
        )

    def with_hint(self, hint: str) -> ParseError:
        """The same error with `hint` after the caret."""
        return type(self)(self.domain, self.line, self.column, self.context, self.expected, self.found, hint)

    def __reduce__(self):  # rebuilt from its fields: it crosses from an eval worker to the caller
        return type(self), (self.domain, self.line, self.column, self.context, self.expected, self.found, self.hint)


class UnknownDomainError(HybridTRMError):
    """A domain or task name that is not registered."""


class CheckpointError(HybridTRMError):
    """A checkpoint that is missing, unreadable, or does not fit the domain/task asked for."""


class TorchMissing(HybridTRMError):
    """Work that needs torch (or torch_geometric) where it is not installed. The
    base install is torch-free; the `torch` extra adds both."""

    INSTALL = "pip install 'hybrid-trm[torch]'"

    def __init__(self, what: str, module: str = "torch"):
        self.what, self.module = what, module
        super().__init__(
            f"{what} needs {module}, which is not installed here: {self.INSTALL} "
            "(solve answers without it, on the numpy runtime)"
        )


class VerifierTimeout(HybridTRMError):
    """A symbolic check that ran past its time budget."""


class BudgetExceeded(HybridTRMError):
    """Work that ran past its time budget (hybrid_trm/budget.py); `stage` names
    where it stood: parsing, the model, verifying."""

    def __init__(self, message: str, stage: str = ""):
        self.stage = stage
        super().__init__(message)

    def __reduce__(self):  # it crosses from an eval worker to the caller
        return type(self), (str(self), self.stage)
