"""budgetqa: question answering over Chinese budget disclosures with checked figures."""

__version__ = "0.1.0"
