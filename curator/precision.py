"""Which number format the backbone runs in: float32, or bfloat16 on CPUs built for it.

On x86 CPUs with native bfloat16 instructions (AVX512-BF16 or AMX: recent Xeon, EPYC Zen 4
and later), running the frozen backbone under ``torch.autocast("cpu", torch.bfloat16)`` cut
its time per photo about 3x here (16.5 vs 55 ms on one core, ``scripts/bench_score.py``);
on CPUs without them bfloat16 is emulated and slower, so ``auto`` keeps float32 there.  The
head always runs in float32 on float32 features.  The accuracy cost is measured by
``scripts/eval_precision.py`` (model card, *Speed*).

``CURATOR_PRECISION`` (``auto``, ``fp32``, ``bf16``) overrides the default for the window.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

CHOICES = ("auto", "fp32", "bf16")
ENV = "CURATOR_PRECISION"


def native_cpu_bf16() -> bool:
    """True when torch reports native bfloat16 on this CPU (AVX512-BF16 or AMX tiles).

    Uses ``torch.cpu``'s feature probes (private in torch 2.x, so missing ones read False).
    """
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for name in probes:
        probe = getattr(torch.cpu, name, None)
        try:
            if probe is not None and probe():
                return True
        except Exception:  # a probe that fails means "not known to be there"
            log.debug("torch.cpu.%s failed", name, exc_info=True)
    return False


def default_choice() -> str:
    """``CURATOR_PRECISION`` when it names a choice, else ``auto``."""
    value = os.environ.get(ENV, "auto").strip().lower()
    return value if value in CHOICES else "auto"


def resolve(choice: str, device_type: str) -> bool:
    """Whether the backbone runs in bfloat16 for ``choice`` on a ``device_type`` device.

    ``auto``: on a CPU with native bfloat16 only; never on CUDA or MPS (float32 there).
    ``bf16`` on a CPU without native support is honoured (slow, but what was asked).
    Raises ValueError for an unknown choice.
    """
    if choice not in CHOICES:
        raise ValueError(f"unknown precision {choice!r} ({', '.join(CHOICES)})")
    if device_type != "cpu" or choice == "fp32":
        return False
    return choice == "bf16" or native_cpu_bf16()
