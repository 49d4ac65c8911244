"""Trajectory analysis with MDAnalysis: RDFs, cutoffs, coordination, speciation, density.

* **Donor atoms** of a species: its atoms of the first element of O, N, F, Cl that it has
  (ethers, carbonates, phosphates, FSI-/TFSI- -> O; nitriles -> N; PF6-/BF4- -> F). A
  molecule is in the cation's shell when one of its donor atoms is within the cutoff.
  Fluorinated species also get their F contacts scanned (``cutoff_scan``). A species
  without any of these elements (a hydrocarbon) has no donor atoms and no coordination row.
* **Cutoff** of a species = the first minimum of its cation-donor RDF: the RDF is smoothed
  by a 5-bin (0.25 A) running mean; its peak is the maximum between 1.5 and 4.5 A; the
  minimum is the lowest point within 2.5 A beyond the peak. It is accepted
  (``cutoff_source = rdf_first_minimum``) when the peak is a real first shell, g >= 2
  (twice the bulk density), and the minimum lies below 0.8 x the peak. Otherwise
  (species depleted from the shell, like a fluorinated diluent, or too few contacts
  sampled) the cutoff is the **fixed fallback 3.5 A** (``fixed_fallback``): the end of the
  first shell of K+ in water (K-O first RDF minimum ~3.5 A; Ohtaki & Radnai, Chem. Rev.
  1993, 93, 1157), a cutoff that counts direct contacts only.
* **Cutoff scan**: donor atoms per cation and enrichment (mean g(r) inside r) at fixed
  radii 2.8, 3.0, 3.2, 3.5, 4.0 A for every species and donor element (O, N, F), from the
  RDF's cumulative counts, so the cutoff dependence of a weak contact is visible.
* Errors: block averages over the production frames (:mod:`solvscreen.md.speciation`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .speciation import block_average, frame_speciation, most_common_shells

log = logging.getLogger("solvscreen.md")

DONOR_ORDER = ("O", "N", "F", "Cl")
FALLBACK_CUTOFF_A = 3.5
SCAN_RADII_A = (2.8, 3.0, 3.2, 3.5, 4.0)
PEAK_WINDOW_A = (1.5, 4.5)
MIN_PEAK_G = 2.0
MIN_DEPTH = 0.8
SMOOTH_BINS = 5


def primary_donor(elements: list[str]) -> str | None:
    for el in DONOR_ORDER:
        if el in elements:
            return el
    return None


def first_minimum(r: np.ndarray, g: np.ndarray) -> tuple[float | None, dict]:
    """The cutoff by the module's rule, or ``None`` with the reason (then the fallback applies)."""
    r, g = np.asarray(r, float), np.asarray(g, float)
    gs = np.convolve(g, np.ones(SMOOTH_BINS) / SMOOTH_BINS, mode="same")
    win = (r >= PEAK_WINDOW_A[0]) & (r <= PEAK_WINDOW_A[1])
    if not win.any():
        return None, {"reason": "RDF range does not cover the peak window"}
    ip = int(np.flatnonzero(win)[np.argmax(gs[win])])
    info = {"peak_r_A": float(r[ip]), "peak_g": float(gs[ip])}
    if gs[ip] < MIN_PEAK_G:
        info["reason"] = f"no first-shell peak (max g {gs[ip]:.2f} < {MIN_PEAK_G})"
        return None, info
    after = (r > r[ip]) & (r <= r[ip] + 2.5)
    if not after.any():
        info["reason"] = "RDF range ends at the peak"
        return None, info
    im = int(np.flatnonzero(after)[np.argmin(gs[after])])
    info.update(min_r_A=float(r[im]), min_g=float(gs[im]))
    if gs[im] > MIN_DEPTH * gs[ip]:
        info["reason"] = f"no minimum after the peak (g_min {gs[im]:.2f} > {MIN_DEPTH} x peak)"
        return None, info
    return float(r[im]), info


@dataclass
class SpeciesSpec:
    name: str
    kind: str  # cation | anion | liquid
    resname: str
    elements: list  # per atom of one molecule (order of the topology)


def analyse(prmtop: str, dcds: list[str], specs: list[SpeciesSpec], *, rdf_range_A: float = 8.0,
            rdf_bin_A: float = 0.05, n_blocks: int = 5, density_series=None) -> dict:
    """Everything the record and the tables need from one production trajectory."""
    import MDAnalysis as mda
    from MDAnalysis.analysis.rdf import InterRDF

    u = mda.Universe(prmtop, dcds, format="DCD", topology_format="PARM7")
    resnames = np.asarray(u.atoms.resnames)
    cation = next(s for s in specs if s.kind == "cation")
    anion = next(s for s in specs if s.kind == "anion")
    cat_atoms = u.atoms[resnames == cation.resname]
    n_frames = len(u.trajectory)
    dims = np.array([ts.dimensions[:3] for ts in u.trajectory])
    half_box = float(dims.min()) / 2.0
    rmax = min(rdf_range_A, half_box)
    nbins = int(round(rmax / rdf_bin_A))
    # donor groups per species and element
    groups, scan, rdfs, cut, cut_info = {}, {}, {}, {}, {}
    for s in specs:
        if s.kind == "cation":
            continue
        atoms = u.atoms[resnames == s.resname]
        # elements from the topology (prmtop atomic numbers); the template's order otherwise
        el_per_atom = np.array([str(e).capitalize() for e in atoms.elements]) if hasattr(atoms, "elements") \
            else np.array(list(s.elements) * (len(atoms) // max(1, len(s.elements))))
        donor_el = primary_donor(list(s.elements))
        for el in sorted(set(s.elements) & {"O", "N", "F"}, key=DONOR_ORDER.index):
            sel = atoms[el_per_atom == el]
            rdf = InterRDF(cat_atoms, sel, nbins=nbins, range=(0.0, rmax)).run()
            r, g = rdf.results.bins, rdf.results.rdf
            cum = np.cumsum(rdf.results.count) / (n_frames * len(cat_atoms))  # donors within r per cation
            rho = len(sel) / float(np.mean(np.prod(dims, axis=1)))
            rows = []
            for rc in SCAN_RADII_A:
                if rc > rmax:
                    continue
                k = int(np.searchsorted(r + rdf_bin_A / 2, rc))
                n_in = float(cum[min(k, len(cum) - 1)])
                rows.append({"r_A": rc, "donors_per_cation": n_in,
                             "enrichment": n_in / (rho * 4 / 3 * np.pi * rc ** 3)})
            scan[f"{s.name}:{el}"] = rows
            rdfs[f"{s.name}:{el}"] = (r, g)
            if el == donor_el:
                groups[s.name] = sel
                c, info = first_minimum(r, g)
                cut_info[s.name] = info
                cut[s.name] = (c, "rdf_first_minimum") if c is not None else (FALLBACK_CUTOFF_A, "fixed_fallback")
        if donor_el not in ("O", "N", "F") and donor_el is not None:  # Cl donors
            sel = atoms[el_per_atom == donor_el]
            groups[s.name] = sel
            cut[s.name] = (FALLBACK_CUTOFF_A, "fixed_fallback")
            cut_info[s.name] = {"reason": "Cl donor: fixed cutoff"}
    # owners (molecule index per donor atom)
    owners, n_mol = {}, {}
    for name, sel in groups.items():
        resids = sel.resindices
        uniq, inv = np.unique(resids, return_inverse=True)
        s = next(x for x in specs if x.name == name)
        n_mol[name] = int(len(np.unique(u.atoms[resnames == s.resname].resindices)))
        owners[name] = inv
        if len(uniq) != n_mol[name]:  # every molecule has donors by construction
            n_mol[name] = max(n_mol[name], len(uniq))
    series = {k: [] for k in ("ssip", "cip", "agg", "anion_free", "anion_single", "anion_multi", "anion_share",
                              "total_cn")}
    cn_s = {n: [] for n in groups}
    cnd_s = {n: [] for n in groups}
    enr_s = {n: [] for n in groups}
    sigs = []
    for ts in u.trajectory:
        sp = {n: {"xyz": groups[n].positions, "owner": owners[n], "n_molecules": n_mol[n], "cutoff": cut[n][0]}
              for n in groups}
        f = frame_speciation(cat_atoms.positions, ts.dimensions[:3], sp, anion.name)
        for k in ("ssip", "cip", "agg", "anion_free", "anion_single", "anion_multi"):
            series[k].append(getattr(f, k))
        series["anion_share"].append(f.anion_share)
        series["total_cn"].append(sum(f.cn.values()))
        for n in groups:
            cn_s[n].append(f.cn[n])
            cnd_s[n].append(f.cn_donor[n])
            enr_s[n].append(f.enrichment[n])
        sigs.extend(f.signatures)
    order = list(groups)
    ba = {k: block_average(v, n_blocks) for k, v in series.items()}
    neutral = [s.name for s in specs if s.kind == "liquid" and s.name in groups]
    n_neutral = sum(n_mol[n] for n in neutral)
    shell_tot = sum(np.sum(cn_s[n]) for n in neutral)
    species_rows = []
    for s in specs:
        if s.name not in groups:
            continue
        m, e = block_average(cn_s[s.name], n_blocks)
        en, ee = block_average(enr_s[s.name], n_blocks)
        species_rows.append({
            "species": s.name, "kind": "anion" if s.kind == "anion" else "solvent",
            "cn": m, "cn_err": e, "cn_donor_atoms": float(np.mean(cnd_s[s.name])),
            "cutoff_A": cut[s.name][0], "cutoff_source": cut[s.name][1],
            "enrichment": en, "enrichment_err": ee,
            "bulk_mole_fraction": (n_mol[s.name] / n_neutral) if s.kind == "liquid" and n_neutral else None,
            "shell_mole_fraction": (float(np.sum(cn_s[s.name]) / shell_tot) if s.kind == "liquid" and shell_tot
                                    else None),
            "donor_element": primary_donor(list(s.elements)), "n_molecules": n_mol[s.name],
            "cutoff_rule": cut_info.get(s.name, {}),
        })
    anion_row = next(r for r in species_rows if r["species"] == anion.name)
    solvent_cn = sum(r["cn"] for r in species_rows if r["kind"] == "solvent")
    dens = block_average(density_series, n_blocks) if density_series is not None else (None, None)
    return {
        "n_frames": n_frames,
        "n_cation": len(cat_atoms),
        "n_anion": n_mol[anion.name],
        "ssip_fraction": ba["ssip"][0], "ssip_fraction_err": ba["ssip"][1],
        "cip_fraction": ba["cip"][0], "cip_fraction_err": ba["cip"][1],
        "agg_fraction": ba["agg"][0], "agg_fraction_err": ba["agg"][1],
        "anion_free_fraction": ba["anion_free"][0], "anion_free_fraction_err": ba["anion_free"][1],
        "anion_single_fraction": ba["anion_single"][0], "anion_single_fraction_err": ba["anion_single"][1],
        "anion_multi_fraction": ba["anion_multi"][0], "anion_multi_fraction_err": ba["anion_multi"][1],
        "anion_cn": anion_row["cn"], "anion_cn_err": anion_row["cn_err"],
        "solvent_cn": solvent_cn,
        "total_cn": ba["total_cn"][0], "total_cn_err": ba["total_cn"][1],
        "anion_share_of_shell": ba["anion_share"][0], "anion_share_of_shell_err": ba["anion_share"][1],
        "density_g_per_mL": dens[0], "density_g_per_mL_err": dens[1],
        "species": species_rows,
        "most_common_shells": most_common_shells(sigs, order),
        "cutoff_scan": scan,
        "rdf": {k: {"r_A": v[0].tolist(), "g": v[1].tolist()} for k, v in rdfs.items()},
    }


def rdf_csv(rdf: dict, cation: str = "K") -> str:
    """The RDFs as one CSV (r_A, then one g column per cation-donor pair: g_<cation>_<species>_<element>)."""
    keys = list(rdf)
    if not keys:
        return "r_A\n"
    r = rdf[keys[0]]["r_A"]
    lines = ["r_A," + ",".join(f"g_{cation.rstrip('+')}_{k.replace(':', '_')}" for k in keys)]
    for i, ri in enumerate(r):
        lines.append(f"{ri:.3f}," + ",".join(f"{rdf[k]['g'][i]:.4f}" for k in keys))
    return "\n".join(lines) + "\n"
