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


def write_form_fanout_pdf(path: Path, pages: int, draws: int) -> Path:
    """A PDF of about 2 KB whose `pages` pages share one compressed content stream that draws the same
    form XObject `draws` times; the form shows one line. pypdf extracts every drawing: 4 pages × 5,000
    draws is 9 MB of text and minutes of CPU from 2 KB."""
    import zlib

    def stream(data: bytes, entries: bytes = b"") -> bytes:
        return b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /H 3 0 R >> /XObject << /F0 5 0 R >> >> >>")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (6 + n) for n in range(pages)) + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream(zlib.compress(b"q /F0 Do Q\n" * draws, 9), b"/Filter /FlateDecode"),
        stream(b"BT /H 12 Tf 10 10 Td (" + b"party branch work " * 25 + b") Tj ET",
               b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /H 3 0 R >> >>"),
        *[page] * pages,
    ]
    body, offsets = bytearray(b"%PDF-1.5\n"), []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(body))
    return path
