"""Which number format the backbone runs in: float32, or bfloat16 on CPUs built for it.

On x86 CPUs with native bfloat16 instructions (AVX512-BF16 or AMX: recent Xeon, EPYC Zen 4
and later), running the frozen backbone under ``torch.autocast("cpu", torch.bfloat16)`` cut
the backbone's time per photo about 3x here (16.5 vs 55 ms on one core); a whole folder, where
decoding then takes most of the time, scored ~1.3x faster (``scripts/bench_score.py``).  On
CPUs without them bfloat16 is emulated and slower, so ``auto`` keeps float32 there.  The head
always runs in float32 on float32 features.  The accuracy cost is measured by
``scripts/eval_precision.py`` (model card, *Speed*).

``CURATOR_PRECISION`` (``auto``, ``fp32``, ``bf16``) sets the default, for the window too;
``curator score/export/gui --precision`` overrides it.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

CHOICES = ("auto", "fp32", "bf16")
ENV = "CURATOR_PRECISION"
#: Other spellings people write for the same choices.
ALIASES = {"float32": "fp32", "f32": "fp32", "bfloat16": "bf16"}


def parse(text: str) -> str | None:
    """The choice ``text`` names (any case, spaces around, ``float32``/``bfloat16`` too), or
    None when it names none."""
    value = text.strip().lower()
    value = ALIASES.get(value, value)
    return value if value in CHOICES else None


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
    """``CURATOR_PRECISION`` when set to a choice, else ``auto`` (unset or empty too); a value
    that names no choice is logged as a warning (once per call) and read as ``auto``."""
    raw = os.environ.get(ENV)
    if raw is None or not raw.strip():  # empty reads as unset, as most tools do
        return "auto"
    value = parse(raw)
    if value is None:
        log.warning("%s=%r is not one of %s: using auto", ENV, raw, ", ".join(CHOICES))
        return "auto"
    return value


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
