"""GPU slots: n_gpus x jobs_per_gpu exclusive slots across processes (no GPU needed: the
slots are file locks; the device index is what OpenMM's CUDA platform is given)."""

import multiprocessing as mp
import time

import pytest

from solvscreen.md.gpu import acquire_slot


def _hold(directory, per_gpu, n_gpus, q, hold_s):
    try:
        s = acquire_slot(per_gpu, n_gpus, directory=directory, timeout_s=1.0, poll_s=0.1)
        q.put((s.slot, s.device_index))
        time.sleep(hold_s)
    except TimeoutError:
        q.put(None)


def test_slots_are_exclusive_across_processes_and_map_to_devices(tmp_path):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_hold, args=(tmp_path, 2, 2, q, 3.0)) for _ in range(5)]
    for p in procs:
        p.start()
    got = [q.get(timeout=30) for _ in procs]
    for p in procs:
        p.join()
    taken = sorted(g for g in got if g is not None)
    assert taken == [(0, 0), (1, 0), (2, 1), (3, 1)]  # 4 slots: 2 jobs on device 0, 2 on device 1
    assert got.count(None) == 1  # the fifth found none free within its timeout


def test_a_slot_is_free_again_when_its_process_ends(tmp_path):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_hold, args=(tmp_path, 1, 1, q, 0.0))
    p.start()
    assert q.get(timeout=30) == (0, 0)
    p.join()
    q2 = ctx.Queue()
    p2 = ctx.Process(target=_hold, args=(tmp_path, 1, 1, q2, 0.0))
    p2.start()
    assert q2.get(timeout=30) == (0, 0)
    p2.join()


def test_one_process_holds_one_slot(tmp_path):
    ctx = mp.get_context("fork")
    q = ctx.Queue()

    def twice(q):
        a = acquire_slot(1, 3, directory=tmp_path, timeout_s=1.0)
        b = acquire_slot(1, 3, directory=tmp_path, timeout_s=1.0)
        q.put((a.slot, b.slot))

    p = ctx.Process(target=twice, args=(q,))
    p.start()
    assert q.get(timeout=30) == (0, 0)
    p.join()


def test_cuda_libraries_are_found_in_the_nvidia_wheels_layout(tmp_path):
    from solvscreen.md.gpu import find_cuda_libraries

    (tmp_path / "nvidia" / "cu13" / "lib").mkdir(parents=True)
    (tmp_path / "nvidia" / "cu13" / "lib" / "libnvrtc.so.13").write_bytes(b"")
    (tmp_path / "nvidia" / "cufft" / "lib").mkdir(parents=True)
    (tmp_path / "nvidia" / "cufft" / "lib" / "libcufft.so.12").write_bytes(b"")
    found = find_cuda_libraries([tmp_path])
    assert found["libnvrtc.so.13"].parent.parent.name == "cu13"
    assert found["libcufft.so.12"].parent.parent.name == "cufft"
    assert find_cuda_libraries([tmp_path / "nowhere"]) == {}


def test_the_platform_choice_still_falls_back_to_cpu_without_a_gpu():
    pytest.importorskip("openmm")
    from solvscreen.md.simulate import choose_platform

    _, _, name, notes = choose_platform("auto", 1)
    assert name in ("CUDA", "OpenCL", "CPU")
    if name == "CPU":
        assert any(n.startswith("CUDA") for n in notes)
