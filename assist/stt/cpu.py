"""What the CPU can do for the decoder: model, instruction sets, and the kernels CTranslate2 runs.

The same decode is several times slower on an AVX2-only CPU than on one with AVX-512 VNNI, so
every speed figure carries this description, and the server's start-up calibration (see
``assist/stt/calibrate.py``) reads it. ``CT2_FORCE_CPU_ISA`` and ``ONEDNN_MAX_CPU_ISA`` (the
way to take the AVX2 code path on a bigger CPU) are honoured in what is reported.
"""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

_ISA_RANK = {"AVX2": 1, "AVX512": 2, "AVX512_VNNI": 3}


@dataclass(frozen=True, slots=True)
class CpuInfo:
    model: str
    vendor: str
    cores: int
    avx2: bool
    avx512: bool
    vnni: bool  # AVX-512 VNNI or AVX-VNNI: int8 dot products in one instruction
    isa: str  # what the int8 kernels may use after any forcing: AVX2 | AVX512 | AVX512_VNNI | older
    gemm: str  # CTranslate2's matrix backend on this vendor: MKL (Intel) or oneDNN (others)

    @property
    def kind(self) -> str:
        """A short label for reports: 'AMD EPYC, AVX2 path, oneDNN'."""
        return f"{self.model}, {self.isa} path, {self.gemm}"

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "kind": self.kind}


def _cpuinfo() -> tuple[str, str, set[str]]:
    """Model, vendor and flags of the first CPU in /proc/cpuinfo."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = fields.get("model name") or platform.processor() or platform.machine()
    return model, fields.get("vendor_id", "unknown"), set(fields.get("flags", "").split())


def _cap(isa: str, forced: str | None) -> str:
    """The lower of the CPU's ISA and a forced one (values like 'AVX2', 'AVX512', 'avx512_core_vnni')."""
    if not forced:
        return isa
    forced = forced.upper()
    if "512" in forced:
        cap = "AVX512_VNNI" if "VNNI" in forced else "AVX512"
    elif "AVX2" in forced:
        cap = "AVX2"
    else:
        return isa
    return cap if _ISA_RANK.get(cap, 0) < _ISA_RANK.get(isa, 0) else isa


@functools.cache
def describe_cpu() -> CpuInfo:
    """The CPU of this process (read once: it does not change while the process runs)."""
    model, vendor, flags = _cpuinfo()
    avx2 = "avx2" in flags
    avx512 = "avx512f" in flags and "avx512bw" in flags
    vnni = "avx512_vnni" in flags or "avx_vnni" in flags
    isa = "AVX512_VNNI" if avx512 and vnni else "AVX512" if avx512 else "AVX2" if avx2 else "older"
    isa = _cap(isa, os.environ.get("CT2_FORCE_CPU_ISA"))
    isa = _cap(isa, os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA"))
    use_mkl = os.environ.get("CT2_USE_MKL")
    intel = vendor == "GenuineIntel"
    gemm = "MKL" if (use_mkl == "1" or (intel and use_mkl != "0")) else "oneDNN"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return CpuInfo(model, vendor, cores, avx2, avx512, vnni, isa, gemm)
