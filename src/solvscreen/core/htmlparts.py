"""Building blocks of the HTML report: escaping, numbers, tables, sections, inline SVG
(RDKit structure drawings, matplotlib figures). Shared by :mod:`solvscreen.report.page` and the
stage packages' report sections (:mod:`solvscreen.md.report`, :mod:`solvscreen.dft.report`).
"""

from __future__ import annotations

import html
import io
import math


def esc(v) -> str:
    return html.escape("" if v is None else str(v))


def num(v, nd: int = 2) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return esc(v)
    if not math.isfinite(x):
        return ""
    return f"{x:.{nd}f}"


def table(headers: list[str], rows: list[list[str]], cls: str = "", raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they are trusted HTML)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def structure_svg(smiles: str, size: int = 170) -> str:
    """A 2D drawing of ``smiles`` as inline SVG (empty string if RDKit cannot draw it)."""
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = Chem.MolFromSmiles(smiles or "")
    if mol is None:
        return ""
    d = rdMolDraw2D.MolDraw2DSVG(size, size)
    opts = d.drawOptions()
    opts.clearBackground = False
    opts.fixedBondLength = 22
    rdMolDraw2D.PrepareAndDrawMolecule(d, mol)
    d.FinishDrawing()
    svg = d.GetDrawingText()
    return svg[svg.find("<svg"):]  # drop the XML declaration: the SVG is inline


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "solvscreen", "font.size": 9})
    return plt


def fig_svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    pyplot().close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg"):]


def section(sid: str, title: str, body: str, note: str = "") -> str:
    n = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{sid}"><h2>{esc(title)}</h2>{n}{body}</section>\n'
