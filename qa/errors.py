"""One error hierarchy; the CLI and the web page turn these into clear Chinese messages."""


class BudgetQAError(Exception):
    """Base class: the message is shown to the user as is."""


class UnreadableDocument(BudgetQAError):
    """A file that cannot be parsed: no text layer, corrupt, empty, unknown format, not a budget."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}：{reason}")
        self.name = name
        self.reason = reason


class NoTextLayer(UnreadableDocument):
    """A scanned PDF: pages are pictures. Its own class so an OCR step can take these files later."""

    def __init__(self, name: str, pages: int) -> None:
        super().__init__(name, f"这是扫描件（{pages} 页都是图片，没有文字层），无法读出文字和数字。"
                               "请到发布网站下载能选中、复制文字的 PDF 版本；若只有扫描件，可先用文字识别（OCR）"
                               "软件（如 ocrmypdf）转成带文字层的 PDF 再上传")
        self.pages = pages


class BadQuestion(BudgetQAError):
    """Empty, too long, or content-free input."""


class IndexCorrupt(BudgetQAError):
    """The store under BUDGETQA_HOME cannot be read; re-run `budgetqa index`."""
