"""The course's model documents (consent forms, a budget, a grant report...) as .docx and .pdf, made from Markdown
sources kept beside them in courses/<course>/files/sources/, so that an author edits text, not a binary file.

A source uses a small part of Markdown: one `#` title, `##`/`###` headings, paragraphs with **bold** and *italic*,
bullet and numbered lists one level deep, and pipe tables with a header row. `flask lms build-course-files` turns
every source into both formats; the sync then offers the files that a module lists.
"""
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import markdown
from docx import Document
from docx.shared import Pt
from fpdf import FPDF

FONTS = Path(__file__).resolve().parent.parent / "certificates" / "fonts"
HEADING_SIZES = {1: 16, 2: 13, 3: 11.5}


@dataclass
class Block:
    """One paragraph-level piece of a document: kind is h1-h3, p, bullet, number or table."""
    kind: str
    runs: list  # [(text, bold, italic)]; for a table, its rows of cell texts
    number: int = 0


def read_source(text):
    """[Block] of a Markdown source, parsed by Python-Markdown so that the documents read as the sources do."""
    html = markdown.markdown(text, extensions=["tables"], output_format="xhtml")
    root = ElementTree.fromstring(f"<root>{html}</root>")
    blocks = []
    for element in root:
        if element.tag in ("h1", "h2", "h3", "h4"):
            blocks.append(Block(f"h{min(int(element.tag[1]), 3)}", _runs(element)))
        elif element.tag == "p":
            blocks.append(Block("p", _runs(element)))
        elif element.tag in ("ul", "ol"):
            for number, item in enumerate(element.findall("li"), 1):
                inner = item.find("p")
                blocks.append(Block("bullet" if element.tag == "ul" else "number",
                                    _runs(inner if inner is not None else item), number))
        elif element.tag == "table":
            rows = [["".join(cell.itertext()).strip() for cell in row] for row in element.iter("tr")]
            blocks.append(Block("table", rows))
        elif element.tag == "hr":
            continue
        else:
            raise ValueError(f"a document source cannot hold <{element.tag}>: use paragraphs, lists and tables")
    return blocks


def _runs(element, bold=False, italic=False):
    runs = [(element.text, bold, italic)] if element.text else []
    for child in element:
        runs += _runs(child, bold or child.tag in ("strong", "b"), italic or child.tag in ("em", "i"))
        if child.tail:
            runs.append((child.tail, bold, italic))
    return [(" ".join(text.split("\n")), b, i) for text, b, i in runs]


def plain_text(blocks):
    """The words of a document, for checking that the shipped files say what their sources say."""
    lines = []
    for block in blocks:
        if block.kind == "table":
            lines += [" | ".join(row) for row in block.runs]
        else:
            number = f"{block.number}. " if block.kind == "number" else ""
            lines.append(number + "".join(text for text, _b, _i in block.runs).strip())
    return lines


def write_docx(blocks, path):
    document = Document()
    document.core_properties.author = ""
    style = document.styles["Normal"]
    style.font.name, style.font.size = "DejaVu Sans", Pt(10.5)
    for block in blocks:
        if block.kind == "table":
            header, *rows = block.runs
            table = document.add_table(rows=len(rows) + 1, cols=len(header), style="Table Grid")
            for r, cells in enumerate([header, *rows]):
                for c, text in enumerate(cells):
                    cell = table.cell(r, c)
                    cell.text = text
                    if r == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            document.add_paragraph()
            continue
        if block.kind.startswith("h"):
            paragraph = document.add_heading(level=int(block.kind[1]))
        elif block.kind == "bullet":
            paragraph = document.add_paragraph(style="List Bullet")
        else:
            paragraph = document.add_paragraph()
            if block.kind == "number":  # numbered by hand: Word's list numbering would run on across lists
                paragraph.paragraph_format.left_indent = Pt(18)
                paragraph.add_run(f"{block.number}. ")
        for text, bold, italic in block.runs:
            run = paragraph.add_run(text)
            run.bold, run.italic = bold or None, italic or None
    document.save(path)


def write_pdf(blocks, path, title):
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("LMS")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu", "I", str(FONTS / "DejaVuSans-Oblique.ttf"))
    pdf.add_font("DejaVu", "BI", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    margin = pdf.l_margin
    for block in blocks:
        if block.kind == "table":
            pdf.set_font("DejaVu", size=8.5)
            # Columns as wide as their text wants, within bounds, so that a long "article" column is not squeezed.
            widths = [min(max(max(len(row[c]) for row in block.runs if c < len(row)), 9), 45)
                      for c in range(len(block.runs[0]))]
            with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.6,
                           first_row_as_headings=True) as table:
                for cells in block.runs:
                    row = table.row()
                    for text in cells:
                        row.cell(text)
            pdf.ln(3)
            continue
        size = HEADING_SIZES.get(int(block.kind[1]), 10) if block.kind.startswith("h") else 10
        indent = 6 if block.kind in ("bullet", "number") else 0
        pdf.set_left_margin(margin + indent)
        pdf.set_x(margin + indent)
        if indent:
            pdf.set_font("DejaVu", size=size)
            pdf.set_x(margin + 1)
            pdf.cell(indent - 1, 5.2, "•" if block.kind == "bullet" else f"{block.number}.")
        for text, bold, italic in block.runs:
            style = ("B" if bold or block.kind.startswith("h") else "") + ("I" if italic else "")
            pdf.set_font("DejaVu", style, size)
            pdf.write(size * 0.52, text)
        pdf.set_left_margin(margin)
        pdf.ln(size * 0.52 + (1.2 if indent else 3.2))
    pdf.output(str(path))


def build_course_files(sources_dir, out_dir, report=print):
    """Write <name>.docx and <name>.pdf into out_dir for every <name>.md in sources_dir; returns the names."""
    names = []
    for source in sorted(Path(sources_dir).glob("*.md")):
        blocks = read_source(source.read_text(encoding="utf-8"))
        title = next(("".join(t for t, _b, _i in b.runs) for b in blocks if b.kind == "h1"), source.stem)
        write_docx(blocks, Path(out_dir) / f"{source.stem}.docx")
        write_pdf(blocks, Path(out_dir) / f"{source.stem}.pdf", title)
        report(f"{source.stem}: .docx and .pdf")
        names.append(source.stem)
    return names
