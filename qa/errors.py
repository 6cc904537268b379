"""One error hierarchy; the CLI and the web page turn these into clear Chinese messages."""


class BudgetQAError(Exception):
    """Base class: the message is shown to the user as is."""


class UnreadableDocument(BudgetQAError):
    """A file that cannot be parsed: no text layer, corrupt, empty, unknown format, not a budget."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}：{reason}")
        self.name = name
        self.reason = reason


class NotBudgetDocument(UnreadableDocument):
    """A readable file that is not a budget disclosure (a README, a list of sources): skipped, not failed."""


class BadQuestion(BudgetQAError):
    """Empty, too long, or content-free input."""


class IndexCorrupt(BudgetQAError):
    """The store under BUDGETQA_HOME cannot be read; re-run `budgetqa index`."""
