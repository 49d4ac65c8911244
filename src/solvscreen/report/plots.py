"""The report's figures: HOMO/LUMO ladder, cation binding bars and the class map (inline SVG)."""

from __future__ import annotations

from ..core.htmlparts import fig_svg, pyplot as _mpl
from ..core.records import parse_number as fnum
from ..core.result_tables import ResultTables

CLASS_COLOURS = {"LCE": "#1f77b4", "HCE": "#d62728", "LHCE": "#2ca02c", "WSE": "#ff7f0e"}
ROLE_COLOURS = {"solvent": "#1f77b4", "undecided": "#ff7f0e", "diluent": "#2ca02c", "unknown": "#7f7f7f"}
KIND_COLOURS = {"solvent": "#1f77b4", "diluent": "#2ca02c", "anion": "#9467bd", "cation": "#8c564b"}

def ladder_plot(desc: list[dict], anion_ref: str | None, levels: str = "alpb") -> str:
    """HOMO/LUMO levels (eV) of solvents, diluents and anions, anion LUMO as a dashed line.

    ``levels`` "alpb": the levels in the properties stage's ALPB dielectric, where anion and
    solvent levels are comparable; "gas" (or no dielectric levels in the run): gas phase.
    """
    def usable(sfx):
        return [r for r in desc if r.get("kind") in ("solvent", "diluent", "anion")
                and fnum(r.get("homo" + sfx)) is not None and fnum(r.get("lumo" + sfx)) is not None]

    sfx = "_alpb_eV" if levels == "alpb" and usable("_alpb_eV") else "_eV"
    rows = [{**r, "homo_eV": r["homo" + sfx], "lumo_eV": r["lumo" + sfx]} for r in usable(sfx)]
    where = next((r.get("orbital_solvent") for r in rows if r.get("orbital_solvent")), "ALPB") \
        if sfx == "_alpb_eV" else "gas phase"
    if not rows:
        return ""
    order = {"solvent": 0, "diluent": 1, "anion": 2}
    rows.sort(key=lambda r: (order[r["kind"]], fnum(r["lumo_eV"])))
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.42 * len(rows) + 1.5), 4.2))
    for i, r in enumerate(rows):
        col = KIND_COLOURS.get(r["kind"], "#333")
        for key, ls in (("homo_eV", "-"), ("lumo_eV", "-")):
            ax.hlines(fnum(r[key]), i - 0.35, i + 0.35, colors=col, linestyles=ls, linewidth=2.2)
        ax.vlines(i, fnum(r["homo_eV"]), fnum(r["lumo_eV"]), colors=col, linewidth=0.5, alpha=0.4)
    ref = next((r for r in rows if r["name"] == anion_ref), None)
    if ref is not None:
        ax.axhline(fnum(ref["lumo_eV"]), color=KIND_COLOURS["anion"], ls="--", lw=0.9,
                   label=f"LUMO of {anion_ref}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_xticks(range(len(rows)), [r["name"] for r in rows], rotation=60, ha="right")
    for lab, r in zip(ax.get_xticklabels(), rows):
        lab.set_color(KIND_COLOURS.get(r["kind"], "#333"))
    ax.set_ylabel(f"orbital energy (eV, xTB eigenvalue, {where})")
    ax.set_title("HOMO (lower bars) and LUMO (upper bars): solvents (blue), diluents (green), anions (purple)",
                 fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return fig_svg(fig)


def binding_plot(tables: ResultTables, cation: str, anion: str | None, roles: dict[str, str]) -> tuple[str, bool]:
    """Cation binding energies as horizontal bars: 1:1 E_bind and, where computed, per ligand in a
    shell (hatched). Returns the SVG ('' without binding rows) and whether hatched bars were drawn;
    the legend lists only the colours and patterns that some bar uses."""
    rows = [r for r in tables.binding if r.get("status") == "ok" and r.get("kind") in ("solvent", "diluent")
            and fnum(r.get("E_bind_kcal_per_mol")) is not None
            and (not cation or r.get("cation", "").rstrip("+").lower() == cation.rstrip("+").lower())]
    if not rows:
        return "", False
    rows.sort(key=lambda r: fnum(r["E_bind_kcal_per_mol"]))
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7.0, max(2.5, 0.28 * len(rows) + 1.0)))
    y = list(range(len(rows)))
    vals = [fnum(r["E_bind_kcal_per_mol"]) for r in rows]
    role_of = [roles.get(r["name"]) if roles.get(r["name"]) in ROLE_COLOURS else "unknown" for r in rows]
    cols = [ROLE_COLOURS[k] for k in role_of]
    shell = []
    for r in rows:
        v = tables.shell_value(r["name"], r.get("cation", cation), anion, "E_shell_per_ligand_kcal_per_mol") \
            if anion else None
        shell.append(v.value if v is not None and v.ok else None)
    drawn = any(v is not None for v in shell)
    ax.barh([i + (0.18 if drawn else 0.0) for i in y], vals, height=0.36 if drawn else 0.6, color=cols,
            label="1:1 E_bind")
    if drawn:
        ax.barh([i - 0.18 for i, v in zip(y, shell) if v is not None], [v for v in shell if v is not None],
                height=0.36, color="none", edgecolor="#333", hatch="///", label="per ligand in filled shell")
    ax.set_yticks(y, [r["name"] for r in rows])
    ax.invert_xaxis()
    ax.set_xlabel(f"{cation} binding energy (kcal/mol; more negative = stronger; GFN2-xTB overbinds)")
    used = [k for k in ROLE_COLOURS if k in role_of]
    handles = [plt.Rectangle((0, 0), 1, 1, color=ROLE_COLOURS[k]) for k in used]
    labels = [f"1:1, {k}" if k != "unknown" else "1:1, role not computed" for k in used]
    if drawn:
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="none", edgecolor="#333", hatch="///"))
        labels.append(f"per ligand in a filled shell ({anion} exchange shell)")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
              title="bars (role on its own)", title_fontsize=7)
    ax.grid(axis="x", alpha=0.3)
    return fig_svg(fig), drawn


def class_map_plot(rows: list[dict], settings: dict, show_grid: bool) -> tuple[str, list[tuple[int, dict]]]:
    """Formulations over salt concentration and solvent donor atoms per salt (the two
    composition quantities of the rules), filled by class; two-class labels are grey with
    the colours of their classes as a ring; triangles = a diluent decided, squares = a role
    undecided; numbers (placed so that none overlaps another) = the key below the plot.
    Returns the SVG and the numbered table formulations."""
    fig, numbered = class_map_figure(rows, settings, show_grid)
    return (fig_svg(fig) if fig is not None else ""), numbered


def class_map_figure(rows: list[dict], settings: dict, show_grid: bool):
    """The class map as a matplotlib figure (None without points) and its numbered formulations."""
    pts = [r for r in rows if r.get("status") == "ok" and fnum(r.get("donors_per_salt"))]
    if not pts:
        return None, []
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(8.5, 5.5))

    def style(r):
        classes = (r.get("label") or "").split("|")
        fill = CLASS_COLOURS.get(classes[0], "#777") if len(classes) == 1 else "#cccccc"
        marker = "^" if r.get("diluents") else ("s" if r.get("undecided_roles") else "o")
        return fill, marker, classes

    if show_grid:
        seen = {}
        for r in pts:
            if r.get("origin") == "grid":
                key = (round(fnum(r["concentration_mol_per_L"]), 3), round(fnum(r["donors_per_salt"]), 1),
                       r.get("label"), bool(r.get("diluents")), bool(r.get("undecided_roles")))
                seen[key] = r
        groups: dict[tuple, list] = {}  # one scatter per style: one marker definition in the SVG each
        for r in seen.values():
            fill, marker, _ = style(r)
            groups.setdefault((fill, marker), []).append(r)
        for (fill, marker), rs in groups.items():
            ax.scatter([fnum(r["concentration_mol_per_L"]) for r in rs], [fnum(r["donors_per_salt"]) for r in rs],
                       marker=marker, s=16, alpha=0.45, c=[fill] * len(rs), edgecolors="none")
    numbered = [r for r in pts if r.get("origin") != "grid"]
    groups = {}
    for r in numbered:
        fill, marker, _ = style(r)
        edge = CLASS_COLOURS.get(r.get("reported_class"), "#444") if r.get("reported_class") else "#444"
        groups.setdefault((fill, marker, edge), []).append(r)
    for (fill, marker, edge), rs in groups.items():
        ax.scatter([fnum(r["concentration_mol_per_L"]) for r in rs], [fnum(r["donors_per_salt"]) for r in rs],
                   c=[fill] * len(rs), marker=marker, s=70, alpha=0.95, edgecolors=[edge] * len(rs), linewidths=2.2,
                   zorder=3)
    ax.set_yscale("log")
    ax.autoscale_view()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    ax.set_xlim(x0 - 0.04 * (x1 - x0), x1 + 0.04 * (x1 - x0))  # room for the labels at the edges
    ax.set_ylim(y0 / (y1 / y0) ** 0.05, y1 * (y1 / y0) ** 0.05)
    xy = [(fnum(r["concentration_mol_per_L"]), fnum(r["donors_per_salt"])) for r in numbered]
    for i, ((x, yv), off) in enumerate(zip(xy, place_labels(ax, xy, [str(i) for i in range(1, len(xy) + 1)],
                                                             fontsize=7)), start=1):
        far = off[0] ** 2 + off[1] ** 2 > 12 ** 2
        ax.annotate(str(i), (x, yv), xytext=off, textcoords="offset points", fontsize=7, ha="center",
                    va="center", zorder=4, gid="maplabel",
                    arrowprops={"arrowstyle": "-", "color": "#888", "lw": 0.5, "shrinkA": 0, "shrinkB": 3}
                    if far else None)
    c_min = settings.get("hce_min_concentration_mol_per_L")
    n_shell = settings.get("shell_donors_per_cation")
    if c_min:
        ax.axvline(c_min, color="#999", ls=":", lw=1)
        ax.text(c_min, ax.get_ylim()[1], f" HCE needs c >= {c_min:g} M", fontsize=7, va="top", color="#666")
    if n_shell:
        ax.axhline(n_shell, color="#999", ls=":", lw=1)
        ax.text(ax.get_xlim()[1], n_shell, f"below: too few solvent donors to fill the K+ shell ({n_shell:g}) ",
                fontsize=7, ha="right", va="bottom", color="#666")
    used = {r.get("label") for r in pts} | {r.get("reported_class") for r in numbered}  # fills and rings
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in CLASS_COLOURS.items() if k in used]
    handles += [plt.Line2D([], [], marker="o", ls="", color="#cccccc", label="two or more classes possible"),
                plt.Line2D([], [], marker="o", ls="", color="#aaa", label="no diluent"),
                plt.Line2D([], [], marker="^", ls="", color="#aaa", label="with diluent"),
                plt.Line2D([], [], marker="s", ls="", color="#aaa", label="a role undecided"),
                plt.Line2D([], [], marker="o", ls="", mfc="white", mec="#444", mew=2.2,
                           label="ring = literature class"),
                plt.Line2D([], [], marker="o", ls="", color="#aaa", alpha=0.45, ms=4, label="screening grid")]
    ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_xlabel("salt concentration (mol/L)")
    ax.set_ylabel("solvent donor atoms per salt (solvating components; log)")
    ax.set_title("class map: fill = predicted class (grey = undecided between classes); numbers = table below",
                 fontsize=9)
    ax.grid(alpha=0.3)
    return fig, list(enumerate(numbered, start=1))




def place_labels(ax, xy: list[tuple[float, float]], labels: list[str], fontsize: float = 7,
                 marker_radius_pt: float = 6.0) -> list[tuple[float, float]]:
    """Offsets (points) for the labels of the points ``xy`` (data coordinates of ``ax``, whose
    limits are final) such that no two labels overlap each other or a labelled point's marker:
    each label takes the nearest free place on rings of growing radius around its point
    (crowded points first); the caller draws a leader line for the far ones."""
    import math

    px = ax.figure.dpi / 72.0  # display pixels per point
    pts = [tuple(ax.transData.transform(p)) for p in xy]
    h = fontsize * px * 1.15
    boxes: list[tuple[float, float, float, float]] = []  # placed labels (x0, y0, x1, y1), display px
    r_mark = marker_radius_pt * px
    bbox = ax.get_window_extent()

    def free(b) -> bool:
        if b[0] < bbox.x0 or b[2] > bbox.x1 or b[1] < bbox.y0 or b[3] > bbox.y1:
            return False
        if any(b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3] for o in boxes):
            return False
        for (mx, my) in pts:  # a marker is a disc of radius r_mark
            nx, ny = min(max(mx, b[0]), b[2]), min(max(my, b[1]), b[3])
            if (nx - mx) ** 2 + (ny - my) ** 2 < r_mark ** 2:
                return False
        return True

    def crowding(i):
        return -sum(1 for j in pts if (j[0] - pts[i][0]) ** 2 + (j[1] - pts[i][1]) ** 2 < (6 * h) ** 2)

    out: list[tuple[float, float]] = [(0.0, 0.0)] * len(pts)
    for i in sorted(range(len(pts)), key=lambda i: (crowding(i), i)):
        w = 0.62 * h * len(labels[i]) + 2 * px
        chosen = None
        for radius in (r_mark + 0.6 * h, 2.2 * h, 3.4 * h, 4.8 * h, 6.5 * h, 8.5 * h, 11 * h, 14 * h, 18 * h):
            n = max(8, int(2 * math.pi * radius / h))
            for k in range(n):
                a = math.pi / 4 + 2 * math.pi * k / n  # start upper right, as the eye expects
                cx, cy = pts[i][0] + radius * math.cos(a), pts[i][1] + radius * math.sin(a)
                b = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
                if free(b):
                    chosen = (cx, cy, b)
                    break
            if chosen:
                break
        if chosen is None:  # nowhere free within reach: beside the point (overlap accepted)
            cx, cy = pts[i][0] + r_mark + w / 2, pts[i][1]
            chosen = (cx, cy, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        boxes.append(chosen[2])
        out[i] = ((chosen[0] - pts[i][0]) / px, (chosen[1] - pts[i][1]) / px)
    return out


TERM_COLOURS = {"reductive_stability": "#4c72b0", "oxidative_stability": "#dd8452",
                "anion_rich_shell": "#55a868", "non_coordination": "#8172b3"}


def ranking_terms_plot(rows: list[dict], group: str = "solvent") -> str:
    """The ranking's per-term breakdown: one stacked horizontal bar per candidate of ``group``
    (the terms' contributions ``contrib_*`` of ranking.csv, which sum to the score), the score's
    ± standard uncertainty as an error bar, the rank band beside the name. Candidates of one
    K-metal verdict are compared with each other only; a term that weighs nothing contributes 0."""
    sel = [r for r in rows if r.get("group") == group and r.get("status") == "ok" and fnum(r.get("score")) is not None]
    if not sel:
        return ""
    sel.sort(key=lambda r: fnum(r.get("rank")) or 0)
    terms = [k for k in TERM_COLOURS if any(fnum(r.get(f"contrib_{k}")) for r in sel)]
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7.0, max(2.5, 0.3 * len(sel) + 1.2)))
    y = list(range(len(sel)))
    left = [0.0] * len(sel)
    for k in terms:
        w = [fnum(r.get(f"contrib_{k}")) or 0.0 for r in sel]
        ax.barh(y, w, left=left, height=0.6, color=TERM_COLOURS[k], label=k.replace("_", " "))
        left = [a + b for a, b in zip(left, w)]
    ax.errorbar([fnum(r["score"]) for r in sel], y, xerr=[fnum(r.get("score_err")) or 0.0 for r in sel],
                fmt="none", ecolor="#222", elinewidth=0.9, capsize=2, label="score ± uncertainty")
    ax.set_yticks(y, [f"{r['name']} ({r.get('rank_band') or r.get('rank')}, {r.get('k_metal')})" for r in sel])
    ax.invert_yaxis()
    ax.set_xlabel("score (terms scaled to [0, 1] within a K-metal verdict, weighted mean)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return fig_svg(fig)
