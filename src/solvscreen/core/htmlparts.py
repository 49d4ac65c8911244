"""Building blocks of the HTML report: escaping, numbers, tables, sections, inline SVG
(RDKit structure drawings, matplotlib figures). Shared by :mod:`solvscreen.report.page` and the
stage packages' report sections (:mod:`solvscreen.md.report`, :mod:`solvscreen.dft.report`).
"""

from __future__ import annotations

import html
import io
import math
import re


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


#: A plain-text table cell longer than this many words shows its first :data:`LONG_CELL_HEAD`
#: words and keeps the rest behind a disclosure (the report's first look stays short).
LONG_CELL_WORDS = 30
LONG_CELL_HEAD = 12


def text_cell(v) -> str:
    """A plain-text cell, escaped; a long one folded behind ``<details>``."""
    words = str("" if v is None else v).split()
    if len(words) <= LONG_CELL_WORDS:
        return esc(v)
    return f"<details><summary>{esc(' '.join(words[:LONG_CELL_HEAD]))} …</summary>{esc(v)}</details>"


def table(headers: list[str], rows: list[list[str]], cls: str = "", raw: bool = False) -> str:
    """An HTML table; cells are escaped (long ones folded: :func:`text_cell`) unless ``raw``
    (then they are trusted HTML)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else text_cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def sortable_table(headers: list[str], rows: list[list], cls: str = "") -> str:
    """A table sorted by clicking a column header (:data:`SORT_SCRIPT`). Each cell is trusted
    HTML, or ``(html, key)`` where ``key`` is what the column sorts by (a number sorts as one)."""
    head = "".join(f'<th title="click to sort">{esc(h)}</th>' for h in headers)

    def cell(c) -> str:
        if isinstance(c, tuple):
            return f'<td data-sort="{esc(c[1])}">{c[0]}</td>'
        return f"<td>{c}</td>"

    body = "".join("<tr>" + "".join(cell(c) for c in r) + "</tr>" for r in rows)
    return f'<table class="sortable {cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


#: Plain inline JavaScript (no framework, no network): a click on a header of a
#: ``table.sortable`` sorts its rows by that column (numbers as numbers, else as text), a
#: second click reverses the order. Without JavaScript the tables read in their given order.
SORT_SCRIPT = """<script>
(function(){
function key(td){var s=td.hasAttribute("data-sort")?td.getAttribute("data-sort"):td.textContent.trim();
var n=Number(s);return (s!==""&&!isNaN(n))?n:s.toLowerCase();}
document.querySelectorAll("table.sortable th").forEach(function(th){th.addEventListener("click",function(){
var tb=th.closest("table").tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th);
var dir=th.getAttribute("aria-sort")==="ascending"?-1:1;
th.parentNode.querySelectorAll("th").forEach(function(h){h.removeAttribute("aria-sort");});
th.setAttribute("aria-sort",dir>0?"ascending":"descending");
Array.prototype.slice.call(tb.rows).sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
if(typeof x!==typeof y){x=String(x);y=String(y);}return (x<y?-1:x>y?1:0)*dir;})
.forEach(function(r){tb.appendChild(r);});});});
})();
</script>"""


def structure_svg(mol, size: int = 170) -> str:
    """A 2D drawing of the RDKit molecule ``mol`` as inline SVG (empty string for None)."""
    from rdkit.Chem.Draw import rdMolDraw2D

    if mol is None:
        return ""
    d = rdMolDraw2D.MolDraw2DSVG(size, size)
    opts = d.drawOptions()
    opts.clearBackground = False
    opts.fixedBondLength = 22
    rdMolDraw2D.PrepareAndDrawMolecule(d, mol)
    d.FinishDrawing()
    svg = d.GetDrawingText()
    return compact_svg(svg[svg.find("<svg"):])  # drop the XML declaration: the SVG is inline


_BOND_STYLE = re.compile(r"style='fill:none;fill-rule:evenodd;stroke:(#[0-9A-Fa-f]{6});stroke-width:([0-9.]+)px;"
                         r"stroke-linecap:butt;stroke-linejoin:miter;stroke-opacity:1'")


def compact_svg(svg: str) -> str:
    """An RDKit drawing with the same geometry in fewer bytes: bond styles as presentation
    attributes (the same values), no per-atom class names, no comments, no indentation."""
    svg = _BOND_STYLE.sub(r"fill='none' stroke='\1' stroke-width='\2'", svg)
    svg = re.sub(r" class='(bond|atom)-[^']*'", "", svg)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return re.sub(r"\n\s*", "\n", svg)


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
    return _round_geometry(svg[svg.find("<svg"):])


_GEOMETRY_ATTR = re.compile(r'\b(d|points|x|y|x1|y1|x2|y2|width|height|transform)="([^"]*)"')
_LONG_DECIMAL = re.compile(r"(-?\d+\.\d)\d+")


def _round_geometry(svg: str) -> str:
    """Coordinates of a matplotlib SVG to 0.1 pt (it writes 6 decimals; 0.1 pt is 1/720 inch,
    below what a screen shows). Only geometry attributes change: text, ids and styles keep
    their numbers."""
    def short(m: re.Match) -> str:
        return m.group(1) + '="' + _LONG_DECIMAL.sub(r"\1", m.group(2)) + '"'

    return _GEOMETRY_ATTR.sub(short, svg)


def section(sid: str, title: str, body: str, note: str = "") -> str:
    n = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{sid}"><h2>{esc(title)}</h2>{n}{body}</section>\n'


def missing(what: str) -> str:
    return f'<p class="missing">{esc(what)} not available in this run.</p>'


def disclose(summary: str, text: str | None) -> str:
    """Long text behind a ``<details>`` disclosure: only ``summary`` shows until opened."""
    if not text:
        return ""
    return f"<details><summary>{esc(summary)}</summary>{esc(text)}</details>"
