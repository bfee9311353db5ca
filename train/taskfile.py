"""``tasks.json``: a selection's training items beside its features, so ``fit`` needs no photo.

Every field of ``train.data.Tasks`` is saved generically (lists of numbers, strings or numpy
arrays, a Counter, the samples), so sources added to ``Tasks`` later travel without changes
here.  Also saved: the AVA role of each group (``--split`` seed/official) and the data
description that goes into the model file.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from curator.fsutil import atomic_write_bytes
from train.data import Tasks
from train.features import Sample

log = logging.getLogger(__name__)

VERSION = 1


def _sample_dict(s: Sample) -> dict[str, Any]:
    return {"key": s.key, "path": str(s.path),
            "damage": None if s.damage is None else [s.damage[0], s.damage[1]]}


def tasks_to_dict(tasks: Tasks) -> dict[str, Any]:
    """A JSON-able copy of every field of ``tasks`` (numpy arrays become lists, marked)."""
    out: dict[str, Any] = {}
    arrays: list[str] = []
    for f in fields(tasks):
        v = getattr(tasks, f.name)
        if f.name == "_index":
            continue
        if f.name == "samples":
            out[f.name] = [_sample_dict(s) for s in v]
        elif isinstance(v, Counter):
            out[f.name] = dict(v)
        elif isinstance(v, list) and v and isinstance(v[0], np.ndarray):
            out[f.name] = [np.asarray(x).tolist() for x in v]
            arrays.append(f.name)
        else:
            out[f.name] = list(v) if isinstance(v, list) else v
    out["_arrays"] = arrays
    return out


def tasks_from_dict(d: dict[str, Any]) -> Tasks:
    """The inverse of ``tasks_to_dict``."""
    t = Tasks()
    arrays = set(d.get("_arrays", []))
    for f in fields(t):
        if f.name == "_index" or f.name not in d:
            continue
        v = d[f.name]
        if f.name == "samples":
            for s in v:
                dmg = None if s["damage"] is None else (str(s["damage"][0]), float(s["damage"][1]))
                t.sample(Sample(s["key"], Path(s["path"]), dmg))
        elif isinstance(getattr(t, f.name), Counter):
            setattr(t, f.name, Counter(v))
        elif f.name in arrays:
            setattr(t, f.name, [np.asarray(x) for x in v])
        else:
            setattr(t, f.name, v)
    return t


def save_tasks(path: Path, tasks: Tasks, role: dict[str, str], desc: dict[str, Any]) -> None:
    """Write ``tasks.json`` atomically."""
    atomic_write_bytes(path, json.dumps({"version": VERSION, "tasks": tasks_to_dict(tasks),
                                         "role": role, "desc": desc}).encode())


def load_tasks(path: Path) -> tuple[Tasks, dict[str, str], dict[str, Any]]:
    """(tasks, AVA role per group, data description) from ``tasks.json``."""
    d = json.loads(Path(path).read_text())
    if d.get("version") != VERSION:
        raise ValueError(f"{path}: not a version-{VERSION} tasks file")
    return tasks_from_dict(d["tasks"]), dict(d["role"]), dict(d["desc"])
