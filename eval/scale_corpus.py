"""A synthetic corpus of any size, made from the real documents in ../shared (for bench_scale).

Document i is base document `i % B` (the 5 seeds, the 7 text renderings of corpus-extra and a text
rendering of each corpus-more PDF) published by synthetic city `i // B`: every place name of the base
(福州, 曾都, 西安 …) is replaced by a two-character name made for that city, years move back by
`city % 3`, and money figures (numbers with decimals, not percentages) are multiplied by
`1 + city % 5`. So every synthetic unit is distinct, a corpus of N documents is the first N of the
corpus of 10,000, and city 0 keeps the base's years and figures: the gold questions about a base,
with its place names swapped, have the gold answers there.

The PDFs are turned into text once (PyMuPDF page text with page markers, the format `read_raw`
parses), so indexing cost stays realistic without parsing a PDF ten thousand times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

# Known place names of the text bases (the corpus-more PDFs carry theirs in the file name).
TEXT_BASES: dict[str, tuple[str, ...]] = {
    "seeds/000_01543403f5824e7e.txt": ("福州",),
    "seeds/001_99a0e79d6e43ffbd.txt": ("福州",),
    "seeds/002_62b2df7a6071b29f.txt": ("曾都", "随州"),
    "seeds/003_1d07f92e8e5daf27.txt": ("上饶",),
    "seeds/004_cac2b92dd79aafa7.txt": ("福建",),
    "corpus-extra/changsha-public-security-bureau-2025-budget.txt": ("长沙",),
    "corpus-extra/foshan-rail-transit-bureau-2019-final-accounts.txt": ("佛山",),
    "corpus-extra/shanghai-putuo-finance-bureau-2024-final-accounts.html": ("普陀",),
    "corpus-extra/shanghai-putuo-wanli-subdistrict-2025-budget.txt": ("普陀",),
    "corpus-extra/wuxi-petition-bureau-2025-budget.txt": ("无锡",),
    "corpus-extra/xian-health-commission-2022-final-accounts.txt": ("西安",),
    "corpus-extra/xian-medical-security-bureau-2022-budget.md": ("西安",),
}
# Characters of the synthetic place names: common in real ones, none a unit word (局, 市, 区 …).
NAME_CHARS = ("安宁平和兴昌荣泰盛丰嘉瑞康华永清明德阳春松柏桂兰梅竹泉溪岭峰远通达鸿禄寿鼎祥吉顺"
              "禾青蓝乐邦崇凤麟鹤雁桐枫棠槐杉楠璋琪瑜琳珂璞琨辉晖晨曦旭昊")
_YEAR = re.compile(r"(?<![\d.])(20[0-3]\d)(?![\d]|\.\d)")
_MONEY = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)\.(\d{1,4})(?![\d.]|\s*[%％])")


@dataclass(frozen=True)
class Base:
    key: str  # file name stem of the base (the gold file's "doc" for seeds and corpus-extra)
    suffix: str
    text: str
    places: tuple[str, ...]


def load_bases(shared: Path, cache: Path) -> list[Base]:
    """The text bases, then one rendering per corpus-more PDF (rendered into `cache` once)."""
    bases = []
    for rel, places in TEXT_BASES.items():
        path = shared / rel
        if path.is_file():
            key = path.stem.split("_")[0] if rel.startswith("seeds/") else path.stem
            bases.append(Base(key, path.suffix, path.read_text(encoding="utf-8"), places))
    more = shared / "corpus-more"
    for pdf in sorted(more.glob("*.pdf")) if more.is_dir() else []:
        parts = pdf.stem.split("_")
        if len(parts) < 3:
            continue
        text = _rendering(pdf, cache)
        if "预算" in text or "决算" in text:  # some PDFs' text layer is unreadable (odd font encodings)
            bases.append(Base(pdf.stem, ".txt", text, (parts[1],)))
    return bases


def _rendering(pdf: Path, cache: Path) -> str:
    out = cache / f"{pdf.stem}.txt"
    if not out.is_file():
        import fitz  # PyMuPDF, a dependency already

        cache.mkdir(parents=True, exist_ok=True)
        with fitz.open(pdf) as doc:
            pages = [f"===== 第{i}页 =====\n{page.get_text()}" for i, page in enumerate(doc, 1)]
        out.write_text("\n".join(pages), encoding="utf-8")
    return out.read_text(encoding="utf-8")


class Namer:
    """Distinct two-character place names per (city, real place), never a real place of the bases."""

    def __init__(self, bases: list[Base]) -> None:
        self.places = sorted({p for b in bases for p in b.places})
        taken = set(self.places)
        self._names = [a + b for a in NAME_CHARS for b in NAME_CHARS if a != b and a + b not in taken]

    def name(self, city: int, place: str) -> str:
        i = city * len(self.places) + self.places.index(place)
        if i >= len(self._names):
            raise ValueError(f"more synthetic places asked ({i + 1}) than names ({len(self._names)})")
        return self._names[i]

    def mapping(self, city: int, base: Base) -> dict[str, str]:
        return {p: self.name(city, p) for p in base.places}


def relabel(text: str, mapping: dict[str, str], year_shift: int, factor: int) -> str:
    for old, new in mapping.items():
        text = text.replace(old, new)
    if year_shift:
        text = _YEAR.sub(lambda m: str(int(m.group(1)) - year_shift), text)
    if factor != 1:
        text = _MONEY.sub(lambda m: _scaled(m, factor), text)
    return text


def _scaled(m: re.Match[str], factor: int) -> str:
    whole, frac = m.group(1), m.group(2)
    value = Decimal(whole.replace(",", "") + "." + frac) * factor
    text = f"{value:,.{len(frac)}f}" if "," in whole else f"{value:.{len(frac)}f}"
    return text


def city_of(i: int, n_bases: int) -> int:
    return i // n_bases


def year_shift(city: int) -> int:
    return city % 3


def factor(city: int) -> int:
    return 1 + city % 5


def documents(bases: list[Base], n: int) -> Iterator[tuple[str, str]]:
    """(file name, text) of synthetic documents 0..n-1."""
    namer = Namer(bases)
    for i in range(n):
        base = bases[i % len(bases)]
        city = city_of(i, len(bases))
        mapping = namer.mapping(city, base)
        text = relabel(base.text, mapping, year_shift(city), factor(city))
        yield f"{i:05d}_{''.join(mapping.values())}_{base.key}{base.suffix}", text


def write_corpus(bases: list[Base], n: int, folder: Path) -> list[Path]:
    """The first n synthetic documents as files in `folder` (existing ones are kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in documents(bases, n):
        path = folder / name
        if not path.is_file():
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def city0_questions(bases: list[Base], gold: Path) -> list[dict[str, object]]:
    """The gold questions about a base, asked of city 0's copy (place names swapped)."""
    namer = Namer(bases)
    by_key = {b.key: b for b in bases}
    out = []
    for line in gold.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        base = by_key.get(str(item.get("doc")))
        if base is None:
            continue
        mapping = namer.mapping(0, base)
        item = {**item, "q": relabel(item["q"], mapping, 0, 1),
                "unit": relabel(str(item.get("unit", "")), mapping, 0, 1),
                "must": [relabel(s, mapping, 0, 1) for s in item.get("must", [])]}
        out.append(item)
    return out
