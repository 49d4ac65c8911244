"""The report's ranking section: per group, each candidate's rank band, score with its
uncertainty, objectives and reasons, the ranking's notes and the per-term plot."""

from __future__ import annotations

from ..classify.rank import ranking_notes
from ..core.htmlparts import disclose, esc, missing, num, table
from .plots import ranking_terms_plot


OBJECTIVE_HEADS = {
    "reductive_stability": "LUMO (eV)",
    "oxidative_stability": "E_ox estimate (V vs K+/K, ordering only) or -HOMO (eV)",
    "anion_rich_shell": "-solvating power (kcal/mol)",
    "non_coordination": "E_bind (kcal/mol)",
}
RANK_GROUP_OBJECTIVES = (("solvent", ("reductive_stability", "oxidative_stability", "anion_rich_shell")),
                         ("diluent", ("reductive_stability", "oxidative_stability", "non_coordination")))


def ranking_section(rank_rows: list[dict]) -> str:
    if not rank_rows:
        return missing("ranking.csv")
    out = ["<ul>" + "".join(f"<li>{esc(n)}</li>" for n in ranking_notes(rank_rows)) + "</ul>"]
    for group, objs in RANK_GROUP_OBJECTIVES:
        sel = [r for r in rank_rows if r.get("group") == group and r.get("status") == "ok"]
        if not sel:
            continue
        n_front = sum(r.get("pareto") == "yes" for r in sel)
        n_red = sum(r.get("k_metal") == "reduced" for r in sel)
        heads = (["rank", "band (tied)", "name", "K metal", "score ± uncertainty", "front"]
                 + [OBJECTIVE_HEADS[o] for o in objs] + ["reasons"])
        body = []
        for r in sel:
            pareto = '<span class="pareto">★ front</span>' if r.get("pareto") == "yes" else ""
            score = num(r.get("score")) + (f" ± {num(r.get('score_err'))}" if r.get("score_err") not in (None, "") else "")
            tied = r.get("tied_with") or ""
            band = esc(r.get("rank_band") or r.get("rank")) + (f" <small>({esc(tied)})</small>" if tied else "")
            body.append([esc(r.get("rank")), band, f"<b>{esc(r['name'])}</b>", esc(r.get("k_metal")), score,
                         pareto] + [num(r.get(f"obj_{o}")) for o in objs] + [disclose("reasons", r.get("reasons"))])
        plot = ranking_terms_plot(rank_rows, group)
        out.append(f"<h3>{group}s</h3><p>{len(sel)} ranked; {n_front} on the front; {n_red} reduced by K metal "
                   "(ranked last, never on the front). Candidates whose score intervals overlap share a rank "
                   "band and are not ordered.</p>" + table(heads, body, "rank", raw=True)
                   + (f"<figure>{plot}<figcaption>each candidate's score as the sum of its terms' contributions, "
                      "with ± its uncertainty and its rank band</figcaption></figure>" if plot else ""))
    failed = [r for r in rank_rows if r.get("status") != "ok"]
    if failed:
        out.append("<h3>not ranked</h3>" + table(["name", "reason"], [[r["name"], r.get("failure_reason")] for r in failed]))
    return "".join(out)
