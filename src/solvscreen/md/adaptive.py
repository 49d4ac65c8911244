"""The run-until-decided loop of the MD stage, and reference formulations.

:func:`run_until_decided` extends every start (``settings.runs``: seed x start kind) chunk
by chunk (``chunk_ps`` of production each), reads the new frames' anion CN per K+, and
asks :mod:`solvscreen.md.decide` whether to stop. Everything it needs to resume is on disk
(the starts' checkpoints, and ``decision.json`` with the per-chunk CN series), so a killed
job continues where it stopped.

The **decision cutoff** (K+ to anion donor atom) is the first minimum of that RDF over the
first chunk of all starts pooled (the rule of :func:`solvscreen.md.analysis.first_minimum`;
the fixed 3.5 A fallback when it finds none), then held fixed for the whole run so that
every chunk, start and the reference are counted alike. The final record still carries the
full per-start analysis with its own cutoffs.

A **reference formulation** is the same salt at the same concentration in the preset's
``reference_solvent`` (DME), run by the same protocol in the same workflow and cached
under its own id (``REF-<salt>-<c>M-<solvent>``): the difference of the anion CN to it
cancels the part of the force field's ion pairing that is common to both. It is used below
the HCE concentration only (above it the salt in DME is itself concentrated, not
conventional), and not for a formulation that is its own reference.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np

from ..core.records import write_text_atomic
from .analysis import FALLBACK_CUTOFF_A, first_minimum, primary_donor
from .decide import approaches, bracket, difference, reference_stop, start_estimate, starts_agree, stop_decision
from .speciation import contacts, minimum_image_distances

log = logging.getLogger("solvscreen.md")

RDF_RANGE_A, RDF_BIN_A = 8.0, 0.05


# ----------------------------------------------------------------------------- references
def reference_id(formulation, library, solvent: str) -> str:
    salt = library.resolve(formulation.salt).name
    c = f"{float(formulation.concentration_mol_per_L):g}".replace(".", "p")
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"REF-{salt}-{c}M-{library.resolve(solvent).name}")


def reference_formulation(formulation, library, solvent: str):
    """The same salt and concentration in ``solvent`` alone."""
    from ..inputs.formulations import Formulation

    name = library.resolve(solvent).name
    return Formulation(id=reference_id(formulation, library, solvent), salt=formulation.salt,
                       concentration_mol_per_L=float(formulation.concentration_mol_per_L),
                       components=((name, 1.0),), ratio_basis="volume",
                       source=f"reference: {formulation.salt} at the same concentration in {name}")


def needs_reference(formulation, library, settings, hce_min_concentration: float) -> bool:
    """Whether ``formulation`` is judged against a reference run (module docstring)."""
    if not settings.stop_rule or not settings.reference_solvent:
        return False
    if float(formulation.concentration_mol_per_L) >= hce_min_concentration:
        return False
    ref = library.resolve(settings.reference_solvent).name
    return [library.resolve(n).name for n in formulation.component_names] != [ref]


# ----------------------------------------------------------------------------- CN per frame
class _Counter:
    """Anion CN per K+ per frame of a DCD, for one box topology."""

    def __init__(self, prmtop: str, cation_res: str, anion_res: str, anion_elements: list[str]):
        import MDAnalysis as mda

        self.prmtop = prmtop
        u = mda.Universe(prmtop, topology_format="PARM7")
        names = np.asarray(u.atoms.resnames)
        self.cat_idx = np.flatnonzero(names == cation_res)
        an = u.atoms[names == anion_res]
        el = np.array(list(anion_elements) * (len(an) // max(1, len(anion_elements))))
        donor = primary_donor(list(anion_elements))
        sel = an[el == donor]
        self.don_idx = sel.indices
        _, self.owner = np.unique(sel.resindices, return_inverse=True)
        self.n_anion = int(self.owner.max() + 1) if len(self.owner) else 0

    def frames(self, dcd: str):
        import MDAnalysis as mda

        u = mda.Universe(self.prmtop, dcd, format="DCD", topology_format="PARM7")
        for ts in u.trajectory:
            yield u.atoms.positions[self.cat_idx], u.atoms.positions[self.don_idx], ts.dimensions[:3].copy()

    def cn_series(self, dcd: str, cutoff: float) -> list[float]:
        out = []
        for cat, don, box in self.frames(dcd):
            c = contacts(minimum_image_distances(cat, don, box), self.owner, self.n_anion, cutoff)
            out.append(float(c.sum(axis=1).mean()))
        return out

    def rdf_counts(self, dcd: str, nbins: int) -> tuple[np.ndarray, float, int]:
        """(pair counts per bin, summed volume, frames) of K+ to anion donor atoms."""
        hist, vol, n = np.zeros(nbins), 0.0, 0
        for cat, don, box in self.frames(dcd):
            d = minimum_image_distances(cat, don, box).ravel()
            hist += np.histogram(d, bins=nbins, range=(0.0, nbins * RDF_BIN_A))[0]
            vol += float(np.prod(box))
            n += 1
        return hist, vol, n


def decision_cutoff(counter: _Counter, dcds: list[str]) -> tuple[float, dict]:
    """K+-anion donor cutoff from the pooled RDF of ``dcds`` (first minimum, else 3.5 A)."""
    nbins = int(RDF_RANGE_A / RDF_BIN_A)
    hist, vol, n = np.zeros(nbins), 0.0, 0
    for d in dcds:
        h, v, k = counter.rdf_counts(d, nbins)
        hist, vol, n = hist + h, vol + v, n + k
    edges = np.arange(nbins + 1) * RDF_BIN_A
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    rho = len(counter.don_idx) / (vol / max(n, 1))
    g = hist / max(n, 1) / max(len(counter.cat_idx), 1) / (rho * shell)
    r = 0.5 * (edges[1:] + edges[:-1])
    c, info = first_minimum(r, g)
    if c is None:
        return FALLBACK_CUTOFF_A, {**info, "source": "fixed_fallback"}
    return c, {**info, "source": "rdf_first_minimum"}


# ----------------------------------------------------------------------------- the loop
def run_until_decided(runs, simulate_box, settings, work_dir: Path, *, cation_res: str, anion_res: str,
                      anion_elements: list[str], threshold: float | None, criterion: str,
                      reference: dict | None = None) -> dict:
    """Extend every start chunk by chunk until the stop rule says stop (module docstring).

    ``runs``: [(seed, kind)]; ``simulate_box(seed, kind, production_ps)`` runs (or continues)
    one start to that production length and returns (SimulationResult, prmtop).
    ``criterion``: ``absolute`` (interval vs ``threshold``), ``reference`` (difference to
    ``reference['interval']`` vs ``threshold``) or ``precision`` (a reference run itself).
    """
    path = work_dir / "decision.json"
    st = json.loads(path.read_text()) if path.exists() else {}
    if st.get("physics") != settings.physics_hash(0) or st.get("criterion") != criterion:
        st = {"physics": settings.physics_hash(0), "criterion": criterion, "series": {}, "trace": []}
    chunk, cap, min_ps = settings.chunk_ps, settings.production_ps, settings.min_production_ps
    t = min(chunk, cap)
    if st["trace"]:  # resume: go on after the last evaluated chunk, or redo a final one
        last = st["trace"][-1]
        t = float(last["production_ps"]) + (chunk if last["status"] == "running" else 0.0)
        if last["status"] != "running":
            st["trace"].pop()
    counter = None
    while True:
        t = min(t, cap)
        results = {}
        for seed, kind in runs:
            results[(seed, kind)] = simulate_box(seed, kind, t)
        if counter is None:
            counter = _Counter(str(next(iter(results.values()))[1]), cation_res, anion_res, anion_elements)
        if "cutoff_A" not in st:
            firsts = [res.frames[0] for res, _ in results.values()]
            st["cutoff_A"], st["cutoff_info"] = decision_cutoff(counter, firsts)
        estimates = []
        for (seed, kind), (res, _) in results.items():
            key = f"{kind}_{seed}"
            done = st["series"].setdefault(key, {})
            for dcd in res.frames:
                name = Path(dcd).name
                if name not in done:
                    done[name] = counter.cn_series(dcd, st["cutoff_A"])
            series = [v for name in sorted(done) for v in done[name]]
            first = len(done[sorted(done)[0]])
            estimates.append(start_estimate(series, kind, seed, window=settings.decision_window,
                                            n_blocks=settings.n_blocks, first_frames=first))
        own = bracket(estimates, settings.decision_z)
        above, below = approaches(estimates)
        if criterion == "precision":
            dec = reference_stop(own, t, min_ps, cap, settings.reference_halfwidth)
            judged = own
        elif criterion == "reference":
            ref_iv = _interval(reference["interval"])
            judged = difference(own, ref_iv)
            dec = stop_decision(judged, threshold, t, min_ps, cap,
                                what=f"anion CN per K+ minus the reference's ({reference['formulation']})",
                                agree=starts_agree(estimates, settings.decision_z), fixed_halfwidth=ref_iv.halfwidth,
                                from_above=above, from_below=below)
        else:
            judged = own
            dec = stop_decision(own, threshold, t, min_ps, cap, agree=starts_agree(estimates, settings.decision_z),
                                from_above=above, from_below=below)
        cpu_s = sum(res.wall_s * settings.threads for res, _ in results.values())
        st["trace"].append({"production_ps": t, "starts": [e.to_dict() for e in estimates],
                            "interval": own.to_dict(), "judged": judged.to_dict(), "status": dec.status,
                            "reason": dec.reason, "cpu_hours": cpu_s / 3600.0})
        write_text_atomic(path, json.dumps(st))
        log.info("%s", dec.reason)
        if dec.stop:
            return {"criterion": criterion, "threshold": threshold, "status": dec.status, "side": dec.side,
                    "reason": dec.reason, "production_ps": t, "interval": own.to_dict(),
                    "judged_interval": judged.to_dict(), "starts": [e.to_dict() for e in estimates],
                    "cutoff_A": st["cutoff_A"], "cutoff_info": st["cutoff_info"],
                    "trace": [{k: v for k, v in tr.items()} for tr in st["trace"]],
                    "cpu_hours": cpu_s / 3600.0, "reference": reference}
        t += chunk


def _interval(d: dict):
    from .decide import Interval

    return Interval(float(d["lo"]), float(d["hi"]))
