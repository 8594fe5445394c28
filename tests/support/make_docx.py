"""Writes Word documents for the tests of `breves import`, with python-docx
(a real .docx writer, as Word's own styles name things).

    make_docx.py issue ISSUE.toml OUT.docx   # an issue's text as editors draft it
    make_docx.py undated ISSUE.toml OUT.docx # the same, without its period
    make_docx.py features OUT.docx IMAGE     # every kind of thing, kept or not

The issue's Markdown (titles and bodies) is read with markdown-it-py and
written as Word writes it: headings in the styles Heading 1 and 2,
paragraphs, bold, italic, superscripts, lists in the styles List Bullet and
List Number, hyperlinks with their addresses.
"""

import re
import sys
import tomllib

import docx
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from markdown_it import MarkdownIt

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet",
          "août", "septembre", "octobre", "novembre", "décembre"]


def day(d):
    return "1er" if d.day == 1 else str(d.day)


def french_period(start, end):
    if start.year != end.year:
        return f"{day(start)} {MONTHS[start.month - 1]} {start.year} au {day(end)} {MONTHS[end.month - 1]} {end.year}"
    if start.month != end.month:
        return f"{day(start)} {MONTHS[start.month - 1]} au {day(end)} {MONTHS[end.month - 1]} {end.year}"
    return f"{day(start)} au {day(end)} {MONTHS[end.month - 1]} {end.year}"


def run_element(text, bold, italic, superscript):
    """A w:r element, for the runs inside a hyperlink."""
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    if bold:
        props.append(OxmlElement("w:b"))
    if italic:
        props.append(OxmlElement("w:i"))
    if superscript:
        align = OxmlElement("w:vertAlign")
        align.set(qn("w:val"), "superscript")
        props.append(align)
    run.append(props)
    t = OxmlElement("w:t")
    t.set(qn("xml:space"), "preserve")
    t.text = text
    run.append(t)
    return run


def add_runs(paragraph, children):
    """The inline tokens of markdown-it as runs of `paragraph`."""
    bold = italic = False
    link = None
    for token in children:
        kind = token.type
        if kind == "strong_open":
            bold = True
        elif kind == "strong_close":
            bold = False
        elif kind == "em_open":
            italic = True
        elif kind == "em_close":
            italic = False
        elif kind == "link_open":
            rel = paragraph.part.relate_to(token.attrs["href"], RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
            link = OxmlElement("w:hyperlink")
            link.set(qn("r:id"), rel)
            paragraph._p.append(link)
        elif kind == "link_close":
            link = None
        elif kind in ("text", "softbreak", "code_inline"):
            text = " " if kind == "softbreak" else token.content
            # ^er^ is a superscript.
            for i, part in enumerate(re.split(r"\^([^^\s]+)\^", text)):
                if not part:
                    continue
                superscript = i % 2 == 1
                if link is not None:
                    link.append(run_element(part, bold, italic, superscript))
                else:
                    run = paragraph.add_run(part)
                    run.bold = bold or None
                    run.italic = italic or None
                    if superscript:
                        run.font.superscript = True


def add_markdown(document, text):
    """A body of Markdown as paragraphs and lists."""
    tokens = MarkdownIt("commonmark").parse(text)
    lists = []
    for i, token in enumerate(tokens):
        if token.type == "bullet_list_open":
            lists.append("List Bullet")
        elif token.type == "ordered_list_open":
            lists.append("List Number")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "heading_open":
            paragraph = document.add_paragraph(style="Heading 3")
            add_runs(paragraph, tokens[i + 1].children)
        elif token.type == "paragraph_open":
            paragraph = document.add_paragraph(style=lists[-1] if lists else None)
            add_runs(paragraph, tokens[i + 1].children)


def add_inline(document, text, style):
    paragraph = document.add_paragraph(style=style)
    add_runs(paragraph, MarkdownIt("commonmark").parseInline(text)[0].children)


def issue(source, out, dated=True):
    with open(source, "rb") as f:
        data = tomllib.load(f)
    meta = data["issue"]
    document = docx.Document()
    document.add_paragraph(meta["title"], style="Title")
    if "subtitle" in meta:
        document.add_paragraph(meta["subtitle"], style="Subtitle")
    if "publisher" in meta:
        document.add_paragraph(meta["publisher"])
    period = meta["period"]
    if dated:
        document.add_paragraph(french_period(period["from"], period["to"]))
    highlight = data["highlight"]
    document.add_paragraph(highlight.get("label", "Fait marquant"), style="Heading 1")
    add_inline(document, highlight["title"], "Heading 2")
    add_markdown(document, highlight["body"])
    for section in data.get("section", []):
        document.add_paragraph(section["title"], style="Heading 1")
        for article in section.get("article", []):
            add_inline(document, article["title"], "Heading 2")
            add_markdown(document, article["body"])
    colophon = data.get("colophon", {})
    if "about" in colophon:
        document.add_paragraph("Colophon", style="Heading 1")
        add_markdown(document, colophon["about"])
    document.save(out)


def features(out, image):
    document = docx.Document()
    document.add_paragraph("Brèves d'essai", style="Title")
    document.add_paragraph("Royaume-Uni", style="Subtitle")
    document.add_paragraph("Une publication du SER de Londres")
    document.add_paragraph("1er au 30 avril 2026")
    document.add_paragraph("Fait marquant", style="Heading 1")
    add_inline(document, "Le fait *du mois*", "Heading 2")
    add_markdown(document, "Du **gras**, de l'*italique*, le 1^er^ avril et [un lien](https://example.org/a?b=1&c=2).\n\nUn * astérisque, un _souligné_ et [crochets] tels quels.\n\n- un point\n- un autre, **gras**\n\n1. premier\n2. second\n")
    document.add_paragraph("1. Ce paragraphe commence par un nombre.")
    document.add_paragraph("- Et celui-ci par un tiret.")
    document.add_paragraph("Un intertitre", style="Heading 3")
    commented = document.add_paragraph("Un paragraphe commenté.")
    document.add_comment(commented.runs, text="À revoir", author="Relecteur")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Une cellule qui n'est pas reprise"
    document.add_paragraph("Cybersécurité", style="Heading 1")
    add_inline(document, "Un article", "Heading 2")
    changed = document.add_paragraph("Un texte ")
    insertion = OxmlElement("w:ins")
    insertion.set(qn("w:id"), "1")
    insertion.set(qn("w:author"), "Relecteur")
    insertion.append(run_element("ajouté", False, False, False))
    changed._p.append(insertion)
    deletion = OxmlElement("w:del")
    deletion.set(qn("w:id"), "2")
    deletion.set(qn("w:author"), "Relecteur")
    gone = OxmlElement("w:r")
    deleted = OxmlElement("w:delText")
    deleted.text = " et retiré"
    gone.append(deleted)
    deletion.append(gone)
    changed._p.append(deletion)
    changed.add_run(" par un relecteur.")
    document.add_picture(image)
    document.add_paragraph("Espace", style="Heading 1")
    add_inline(document, "Un article *spatial*", "Heading 2")
    add_markdown(document, "Son texte.")
    document.save(out)


if __name__ == "__main__":
    if sys.argv[1] in ("issue", "undated"):
        issue(sys.argv[2], sys.argv[3], dated=sys.argv[1] == "issue")
    else:
        features(sys.argv[2], sys.argv[3])
