"""The cost ledger of an umbrella-sampling work directory (md.pmf): what was sampled and the
CPU it took, over every call that added to it."""

from __future__ import annotations

import json
from pathlib import Path


class CostLedger:
    """The sampling a work directory holds and the CPU it took, over every call that added to it
    (a killed run resumes: its record must count what earlier calls sampled). ``complete`` is
    False when windows were sampled before the ledger existed (their cost is not known)."""

    def __init__(self, path: Path):
        import resource

        self.path, self._resource = path, resource
        if path.exists():
            d = json.loads(path.read_text())
        else:
            d = {"ns": 0.0, "cpu_s": 0.0, "complete": not any(path.parent.glob("*.state.xml"))}
        self.ns, self.cpu_s, self.complete = float(d["ns"]), float(d["cpu_s"]), bool(d["complete"])
        self.ns_this_call = self.cpu_s_this_call = 0.0
        self._mark = self._cpu()
        self._save()

    def _cpu(self) -> float:
        ru = self._resource.getrusage(self._resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime

    def charge(self, ns: float) -> None:
        """Add ``ns`` of sampling and the CPU time since the last charge."""
        now = self._cpu()
        cpu, self._mark = now - self._mark, now
        self.ns += ns
        self.cpu_s += cpu
        self.ns_this_call += ns
        self.cpu_s_this_call += cpu
        self._save()

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"ns": self.ns, "cpu_s": self.cpu_s, "complete": self.complete}))
        tmp.replace(self.path)
