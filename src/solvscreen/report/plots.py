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


def binding_plot(tables: ResultTables, cation: str, anion: str | None, roles: dict[str, str]) -> str:
    """Cation binding energies as horizontal bars: 1:1 E_bind and, where computed, per ligand in a shell."""
    rows = [r for r in tables.binding if r.get("status") == "ok" and r.get("kind") in ("solvent", "diluent")
            and fnum(r.get("E_bind_kcal_per_mol")) is not None
            and (not cation or r.get("cation", "").rstrip("+").lower() == cation.rstrip("+").lower())]
    if not rows:
        return ""
    rows.sort(key=lambda r: fnum(r["E_bind_kcal_per_mol"]))
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7.0, max(2.5, 0.28 * len(rows) + 1.0)))
    y = list(range(len(rows)))
    vals = [fnum(r["E_bind_kcal_per_mol"]) for r in rows]
    cols = [ROLE_COLOURS.get(roles.get(r["name"], "unknown"), "#7f7f7f") for r in rows]
    ax.barh([i + 0.18 for i in y], vals, height=0.36, color=cols, label="1:1 E_bind")
    shell = []
    for r in rows:
        v = tables.shell_value(r["name"], r.get("cation", cation), anion, "E_shell_per_ligand_kcal_per_mol") \
            if anion else None
        shell.append(v.value if v is not None and v.ok else None)
    if any(v is not None for v in shell):
        ax.barh([i - 0.18 for i, v in zip(y, shell) if v is not None], [v for v in shell if v is not None],
                height=0.36, color="none", edgecolor="#333", hatch="///", label="per ligand in filled shell")
    ax.set_yticks(y, [r["name"] for r in rows])
    ax.invert_xaxis()
    ax.set_xlabel(f"{cation} binding energy (kcal/mol; more negative = stronger; GFN2-xTB overbinds)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ROLE_COLOURS.values()]
    labels = [f"1:1, {k}" for k in ROLE_COLOURS]
    if any(v is not None for v in shell):
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="none", edgecolor="#333", hatch="///"))
        labels.append(f"per ligand in a filled shell ({anion} exchange shell)")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
              title="bars (role on its own)", title_fontsize=7)
    ax.grid(axis="x", alpha=0.3)
    return fig_svg(fig)


def class_map_plot(rows: list[dict], settings: dict, show_grid: bool) -> tuple[str, list[tuple[int, dict]]]:
    """Formulations over salt concentration and solvent donor atoms per salt (the two
    composition quantities of the rules), filled by class; two-class labels are grey with
    the colours of their classes as a ring; triangles = a diluent decided, squares = a role
    undecided. Returns the SVG and the numbered table formulations."""
    pts = [r for r in rows if r.get("status") == "ok" and fnum(r.get("donors_per_salt"))]
    if not pts:
        return "", []
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
        for r in seen.values():
            fill, marker, _ = style(r)
            ax.scatter([fnum(r["concentration_mol_per_L"])], [fnum(r["donors_per_salt"])], marker=marker, s=16,
                       alpha=0.45, c=[fill], edgecolors="none")
    numbered = [r for r in pts if r.get("origin") != "grid"]
    for r in numbered:
        fill, marker, classes = style(r)
        edge = CLASS_COLOURS.get(r.get("reported_class"), "#444") if r.get("reported_class") else "#444"
        ax.scatter([fnum(r["concentration_mol_per_L"])], [fnum(r["donors_per_salt"])], c=[fill], marker=marker,
                   s=70, alpha=0.95, edgecolors=[edge], linewidths=2.2, zorder=3)
    for i, r in enumerate(numbered, start=1):
        ax.annotate(str(i), (fnum(r["concentration_mol_per_L"]), fnum(r["donors_per_salt"])), fontsize=7,
                    xytext=(5, 2 + 7 * (i % 2)), textcoords="offset points", zorder=4)
    ax.set_yscale("log")
    c_min = settings.get("hce_min_concentration_mol_per_L")
    n_shell = settings.get("shell_donors_per_cation")
    if c_min:
        ax.axvline(c_min, color="#999", ls=":", lw=1)
        ax.text(c_min, ax.get_ylim()[1], f" HCE needs c >= {c_min:g} M", fontsize=7, va="top", color="#666")
    if n_shell:
        ax.axhline(n_shell, color="#999", ls=":", lw=1)
        ax.text(ax.get_xlim()[1], n_shell, f"below: too few solvent donors to fill the K+ shell ({n_shell:g}) ",
                fontsize=7, ha="right", va="bottom", color="#666")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in CLASS_COLOURS.items()]
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
    return fig_svg(fig), list(enumerate(numbered, start=1))




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
