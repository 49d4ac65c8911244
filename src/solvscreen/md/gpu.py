"""Several MD jobs on one GPU: slots shared through file locks.

A 1.5k-atom system leaves most of a modern GPU idle: on one H200, one run reaches far less
than the ~3,000 ns/day that 12 concurrent runs reach together (docs/md.md, GPU). A job
that runs on CUDA therefore takes one of ``n_gpus x jobs_per_gpu`` slots, and runs on
device ``slot // jobs_per_gpu``. Slots are exclusive ``flock`` locks on files in one
directory (``SOLVSCREEN_GPU_LOCK_DIR``, default ``/tmp/solvscreen-gpu-slots-<uid>``); the
kernel drops a lock when its process ends, however it ends, so a killed job never leaves a
slot taken. A job that finds every slot taken waits for one.

``jobs_per_gpu`` comes from the config (``md.jobs_per_gpu``) through the environment variable
``SOLVSCREEN_JOBS_PER_GPU``, which the workflow sets: it decides where a job runs, not what it
computes, so it is not part of any job's settings (changing it reruns nothing).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

JOBS_PER_GPU_ENV = "SOLVSCREEN_JOBS_PER_GPU"
LOCK_DIR_ENV = "SOLVSCREEN_GPU_LOCK_DIR"

_held: list = []  # open lock files of this process (a slot lives as long as the process)
_slot: list = []  # the slot this process holds (one per process: later calls return it)


@dataclass(frozen=True)
class GpuSlot:
    slot: int
    device_index: int
    n_slots: int
    lock_file: str


def jobs_per_gpu() -> int:
    try:
        return max(1, int(os.environ.get(JOBS_PER_GPU_ENV, "1")))
    except ValueError:
        return 1


def gpu_count() -> int:
    """GPUs this process may use: CUDA_VISIBLE_DEVICES when set (SLURM sets it), else
    ``nvidia-smi -L``, else 1."""
    vis = os.environ.get("CUDA_VISIBLE_DEVICES")
    if vis is not None and vis.strip() not in ("", "NoDevFiles"):
        return len([v for v in vis.split(",") if v.strip()])
    exe = shutil.which("nvidia-smi")
    if exe:
        try:
            out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=20).stdout
            n = sum(1 for ln in out.splitlines() if ln.startswith("GPU "))
            if n:
                return n
        except (OSError, subprocess.SubprocessError):
            pass
    return 1


def lock_dir() -> Path:
    d = Path(os.environ.get(LOCK_DIR_ENV) or f"/tmp/solvscreen-gpu-slots-{os.getuid()}")
    d.mkdir(parents=True, exist_ok=True)
    return d


def acquire_slot(per_gpu: int | None = None, n_gpus: int | None = None, *, directory: str | Path | None = None,
                 timeout_s: float | None = None, poll_s: float = 2.0) -> GpuSlot:
    """Take a free slot (waiting for one), or return the one this process holds already;
    TimeoutError after ``timeout_s`` (None: wait on)."""
    if _slot:
        return _slot[0]
    per_gpu = per_gpu or jobs_per_gpu()
    n_gpus = n_gpus or gpu_count()
    d = Path(directory) if directory else lock_dir()
    d.mkdir(parents=True, exist_ok=True)
    n = per_gpu * n_gpus
    t0 = time.monotonic()
    while True:
        for slot in range(n):
            path = d / f"slot_{slot:03d}.lock"
            fh = open(path, "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
            _held.append(fh)
            _slot.append(GpuSlot(slot, slot // per_gpu, n, str(path)))
            return _slot[0]
        if timeout_s is not None and time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"no free GPU slot of {n} in {d} after {timeout_s} s")
        time.sleep(poll_s)


def release_all() -> None:
    _slot.clear()
    while _held:
        fh = _held.pop()
        try:
            fcntl.flock(fh, fcntl.LOCK_UN)
        finally:
            fh.close()


# ----------------------------------------------------------------------------- CUDA libraries
#: Libraries OpenMM's CUDA plugin (the ``openmm-cuda-13`` wheel) needs besides the driver. Its
#: RUNPATH looks in ``site-packages/nvidia/cu13/lib``; the cuFFT 12 wheel it depends on installs
#: elsewhere (``nvidia/cufft/lib``), so without help the plugin fails to load unless the user
#: sets LD_LIBRARY_PATH (measured on an H200 host, 2026-12-04).
CUDA_PLUGIN_LIBRARIES = ("libnvrtc.so.13", "libcufft.so.12")


def find_cuda_libraries(roots: list[str | Path] | None = None) -> dict[str, Path]:
    """name -> path of each of CUDA_PLUGIN_LIBRARIES found under ``<root>/nvidia/`` (default:
    the interpreter's site-packages directories)."""
    import site
    import sys

    roots = roots if roots is not None else [*site.getsitepackages(), site.getusersitepackages(), *sys.path]
    found: dict[str, Path] = {}
    for root in roots:
        base = Path(root) / "nvidia"
        if not base.is_dir():
            continue
        for name in CUDA_PLUGIN_LIBRARIES:
            if name in found:
                continue
            hit = next(iter(sorted(base.glob(f"*/lib/{name}"))), None) or next(iter(sorted(base.glob(f"*/*/lib/{name}"))), None)
            if hit:
                found[name] = hit
    return found


def ensure_cuda_plugin() -> list[str]:
    """Make OpenMM's CUDA platform loadable without LD_LIBRARY_PATH: preload the CUDA
    libraries the plugin needs from the NVIDIA wheels (RTLD_GLOBAL) and load the plugins
    again. Returns notes (what was done, or why CUDA stays unavailable)."""
    import ctypes

    import openmm

    names = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
    if "CUDA" in names:
        return []
    libs = find_cuda_libraries()
    notes = []
    for name, path in libs.items():
        try:
            ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
            notes.append(f"preloaded {path}")
        except OSError as exc:
            notes.append(f"{name}: {exc}")
    if not libs:
        return ["CUDA: no NVIDIA library wheels found (install the gpu extra)"]
    plugin_dir = Path(openmm.__file__).resolve().parent.parent / "OpenMM.libs" / "lib" / "plugins"
    if plugin_dir.is_dir():
        openmm.Platform.loadPluginsFromDirectory(str(plugin_dir))
    names = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
    notes.append("CUDA platform loaded" if "CUDA" in names else "CUDA plugin still not loadable")
    return notes
