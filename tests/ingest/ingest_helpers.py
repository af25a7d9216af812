"""Test helpers: the shipped corpus, a CJK font, and PDF/DOCX files written from raw lines."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ingest.documents import shipped_corpus_paths

CORPUS = {path.stem: path for path in shipped_corpus_paths()}
# Where Debian's CJK font packages (fonts-wqy-zenhei, fonts-noto-cjk) put their files.
_KNOWN_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


def raw_text(stem: str) -> str:
    return CORPUS[stem].read_text(encoding="utf-8")


def find_cjk_font() -> Path | None:
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
        for line in listed.splitlines():
            path = Path(line.strip().rstrip(":"))
            if path.suffix.lower() in (".ttf", ".ttc", ".otf") and path.is_file():
                return path
    return next((Path(p) for p in _KNOWN_CJK_FONTS if Path(p).is_file()), None)


def write_pdf(path: Path, lines: list[str], font: Path) -> Path:
    """One PDF line per raw line, so the PDF carries the same layout artefacts as the extracted text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("cjk", fname=str(font), collection_font_number=0)
    pdf.set_font("cjk", size=10)
    pdf.add_page()
    for line in lines:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def write_docx(path: Path, lines: list[str], table: list[list[str]] | None = None) -> Path:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table):
            for cell, value in zip(row.cells, values):
                cell.text = value
    document.save(str(path))
    return path
