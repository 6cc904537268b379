"""Pick the layout reader for a file and turn it into a Document.

The reader is chosen by what the bytes are, not by the file name: real collections hold web pages
saved as .pdf and PDFs saved as .txt. Readers (read_text, read_md, read_html, read_raw, read_layout,
read_pdf) each map a file's content to blocks; `assemble` does the budget-specific work once for all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

from budgetqa.errors import UnreadableDocument
from budgetqa.index.model import Document
from budgetqa.index.read import SUPPORTED as SUPPORTED  # defined there: choosing files imports no reader
from budgetqa.index.read.assemble import assemble
from budgetqa.index.read.blocks import Block

# What a binary file really is, by its first bytes (the `filetype` library), in words users know.
_BINARY_NAMES = {"application/pdf": "PDF", "application/zip": "ZIP 压缩包", "application/x-rar-compressed": "RAR 压缩包",
                 "application/x-7z-compressed": "7z 压缩包", "application/msword": "Word 文档（.doc）",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档（.docx）",
                 "application/vnd.ms-excel": "Excel 表格（.xls）",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 表格（.xlsx）",
                 "application/x-ole-storage": "Word/Excel 文档（旧格式）"}
_HTML = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b",
                   re.IGNORECASE | re.DOTALL)


@dataclasses.dataclass(frozen=True)
class FileType:
    kind: str  # "pdf", "html", "text" or "other"
    label: str  # what it is, in Chinese, for messages ("HTML 网页", "JPEG 图片")


def sniff(data: bytes) -> FileType:
    """The file's real type from its bytes."""
    import filetype

    head = data[:8192]
    if head.lstrip()[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return FileType("pdf", "PDF")
    found = filetype.guess(head)
    if found is not None:
        if found.mime.startswith("image/"):
            return FileType("other", f"{found.extension.upper()} 图片")
        return FileType("other", _BINARY_NAMES.get(found.mime, f"{found.extension} 文件"))
    if head.startswith((b"\xd0\xcf\x11\xe0", b"PK\x03\x04")):
        return FileType("other", "Word/Excel 文档或压缩包")
    if _HTML.match(head.lstrip(b"\xef\xbb\xbf")):
        return FileType("html", "HTML 网页")
    if b"\x00" in head:
        return FileType("other", "二进制文件")
    return FileType("text", "文本")


def read_document(path: Path) -> Document:
    """Parse one file; raises UnreadableDocument naming the file and the reason."""
    data = _read_bytes(path)
    blocks, pages, layout = read_blocks(path, data)
    doc = assemble(path.name, hashlib.sha256(data).hexdigest(), blocks, pages, layout)
    return dataclasses.replace(doc, source=str(path.resolve()))


def read_blocks(path: Path, data: bytes) -> tuple[list[Block], int | None, str]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnreadableDocument(path.name, f"不支持的文件类型“{suffix or '无扩展名'}”，支持：{'、'.join(SUPPORTED)}")
    real = sniff(data)
    if real.kind == "pdf":  # a PDF under any name is read as a PDF
        from budgetqa.index.read.pdf import read_pdf

        return read_pdf(path.name, data)
    if suffix == ".pdf":
        raise UnreadableDocument(path.name, _not_pdf(real))
    if real.kind == "other":
        raise UnreadableDocument(path.name, f"文件名是 {suffix}，但内容是{real.label}，不是文本；请提供 PDF 或文本格式的公开文件")
    text = _decode(path.name, data)
    if real.kind == "html" or suffix in (".html", ".htm"):
        from budgetqa.index.read.html import read_html

        return read_html(text)
    if suffix in (".md", ".markdown"):
        from budgetqa.index.read.md import read_md

        return read_md(text)
    return _read_plain(text, suffix)


def _not_pdf(real: FileType) -> str:
    if real.kind == "html":
        return ("文件名是 .pdf，但内容是 HTML 网页，不是 PDF（多半是下载时保存了网页而不是公开文件本身）；"
                "请在发布网站上打开该网页，下载其中的 PDF 附件后再上传")
    if real.kind == "text":
        return "文件名是 .pdf，但内容是纯文本，不是 PDF；如果这就是公开文件的文本，请把扩展名改为 .txt 后再上传"
    return f"文件名是 .pdf，但内容是{real.label}，不是 PDF；请上传 PDF 原件（Word/Excel 文档可先另存为 PDF）"


def _read_plain(text: str, suffix: str) -> tuple[list[Block], int | None, str]:
    """A .txt may hold TSV, CSV, space-aligned layout text, raw PDF text (one cell per line) or rows as
    single-space-separated lines (spaced)."""
    from budgetqa.index.read import layout as read_layout
    from budgetqa.index.read import raw as read_raw
    from budgetqa.index.read import spaced as read_spaced
    from budgetqa.index.read import text as read_text

    if suffix == ".csv" or read_text.looks_csv(text):
        return read_text.read_csv_text(text)
    if suffix == ".tsv" or read_text.looks_tsv(text):
        return read_text.read_tsv_text(text)
    if read_layout.looks_layout(text):
        return read_layout.read_layout(text)
    if read_raw.looks_raw(text):
        return read_raw.read_raw(text)
    if read_spaced.looks_spaced(text):
        return read_spaced.read_spaced(text)
    return read_text.read_tsv_text(text)


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(path.name, f"无法读取文件（{exc.strerror or exc}）") from exc
    if not data.strip():
        raise UnreadableDocument(path.name, "文件为空")
    return data


def _decode(name: str, data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableDocument(name, "无法识别文本编码（需要 UTF-8 或 GB18030）")
