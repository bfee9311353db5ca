"""A sharded feature store: backbone features of a selection of photos, in float16 ``.npy`` shards.

Layout of a store folder::

    plan.json             what the store is of: config, selection digest, the shards' sample ranges
    shard-00000.npy       float16 (rows, views, dim): views = 2 global (as is, mirrored) + K crops
    shard-00000.json      the shard's keys (one per row, in row order) and unreadable photos;
                          written after the .npy, so its presence means "this shard is finished"
    manifest.json         written once every shard is finished: the shards, their rows and bytes
    tasks.json            the training items of the selection (``train.taskfile``), so ``fit``
                          needs no photo

Shards are fixed slices of the selection (``plan_shards``), so which process wrote a shard never
changes what it holds: a 1-process and an N-process extraction write the same shards.  Every
file is written atomically (temp file + ``os.replace``); a restarted extraction skips shards
whose ``.json`` exists for the same plan.  Readers memory-map the ``.npy`` files
(``numpy.load(mmap_mode="r")``): opening a store reads only the JSON files, and a row is read
from disk when it is used.  The ``.npy`` header is 128 bytes, so a store is the raw float16
size of its features plus a few JSON kilobytes per shard.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from curator.fsutil import atomic_write_bytes, atomic_writer

log = logging.getLogger(__name__)

FORMAT = "curator-feature-store"
VERSION = 1
DTYPE = np.float16


class StoreError(RuntimeError):
    """A store folder that is incomplete, or holds another selection than the one asked for."""


@dataclass(frozen=True)
class StoreConfig:
    """What the features depend on besides the photos themselves."""

    backbone: str
    preprocess: dict[str, Any]
    crops: int  # local views per photo (centre + crops - 1 random)
    seed: int  # seeds the random crops
    dim: int  # features per view

    @property
    def views(self) -> int:
        """Rows of features per photo: 2 global views + ``crops`` local views."""
        return 2 + self.crops

    @property
    def row_bytes(self) -> int:
        return self.views * self.dim * np.dtype(DTYPE).itemsize


@dataclass(frozen=True)
class ShardPlan:
    """Shard ``index`` holds samples ``start:stop`` of the selection (unreadable ones left out)."""

    index: int
    start: int
    stop: int

    @property
    def name(self) -> str:
        return f"shard-{self.index:05d}"


def plan_shards(n_samples: int, row_bytes: int, shard_mb: float) -> list[ShardPlan]:
    """Consecutive slices of about ``shard_mb`` MB of features each (at least one photo)."""
    per = max(1, int(shard_mb * 1e6 // max(1, row_bytes)))
    return [ShardPlan(i, s, min(s + per, n_samples))
            for i, s in enumerate(range(0, n_samples, per))]


def selection_digest(cfg: StoreConfig, identities: Sequence[str], shards: Sequence[ShardPlan]
                     ) -> str:
    """sha256 over the config, each sample's identity and the shard boundaries."""
    h = hashlib.sha256(json.dumps(asdict(cfg), sort_keys=True).encode())
    for ident in identities:
        h.update(ident.encode())
        h.update(b"\0")
    h.update(json.dumps([(s.start, s.stop) for s in shards]).encode())
    return h.hexdigest()


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, indent=1).encode()


class StoreWriter:
    """Writes one store's shards; any number of processes may share it (one shard each at a time).

    ``digest`` identifies the selection: a folder that already holds shards of another selection
    is refused (``StoreError``) rather than mixed.
    """

    def __init__(self, root: Path, cfg: StoreConfig, shards: list[ShardPlan], digest: str,
                 n_samples: int) -> None:
        self.root = Path(root)
        self.cfg, self.shards, self.digest, self.n_samples = cfg, shards, digest, n_samples
        plan = self.root / "plan.json"
        if plan.is_file():
            got = json.loads(plan.read_text()).get("digest")
            if got != digest:
                raise StoreError(f"{self.root} holds features of another selection or settings "
                                 "(plan.json differs); give a new store folder")

    def write_plan(self) -> None:
        """plan.json (once; the first process to get here writes it, the content is the same)."""
        atomic_write_bytes(self.root / "plan.json", _dump({
            "format": FORMAT, "version": VERSION, "digest": self.digest,
            "config": asdict(self.cfg), "samples": self.n_samples,
            "shards": [[s.start, s.stop] for s in self.shards]}))

    def done(self, shard: ShardPlan) -> bool:
        """Whether ``shard`` was finished by an earlier (or another) process for this plan."""
        side = self.root / f"{shard.name}.json"
        if not side.is_file():
            return False
        try:
            meta = json.loads(side.read_text())
        except (OSError, ValueError):
            return False
        return bool(meta.get("digest") == self.digest and (self.root / meta["file"]).is_file())

    def write(self, shard: ShardPlan, feats: np.ndarray, keys: list[str],
              errors: dict[str, str]) -> None:
        """Write a finished shard: ``feats`` (len(keys), views, dim) float16, then its JSON."""
        if feats.shape != (len(keys), self.cfg.views, self.cfg.dim):
            raise ValueError(f"shard {shard.index}: features {feats.shape} for {len(keys)} keys")
        npy = f"{shard.name}.npy"
        with atomic_writer(self.root / npy) as fh:
            np.save(fh, np.ascontiguousarray(feats, dtype=DTYPE), allow_pickle=False)
        atomic_write_bytes(self.root / f"{shard.name}.json", _dump({
            "digest": self.digest, "index": shard.index, "samples": [shard.start, shard.stop],
            "file": npy, "rows": len(keys), "bytes": (self.root / npy).stat().st_size,
            "keys": keys, "errors": errors}))

    def write_manifest(self) -> None:
        """manifest.json over every shard; raises ``StoreError`` if one is not finished."""
        missing = [s.index for s in self.shards if not self.done(s)]
        if missing:
            raise StoreError(f"{self.root}: {len(missing)} shard(s) not finished, "
                             f"e.g. {missing[0]}; rerun the extraction to finish them")
        entries = []
        for s in self.shards:
            meta = json.loads((self.root / f"{s.name}.json").read_text())
            entries.append({k: meta[k] for k in ("index", "file", "rows", "bytes", "samples")}
                           | {"keys": f"{s.name}.json", "errors": len(meta["errors"])})
        atomic_write_bytes(self.root / "manifest.json", _dump({
            "format": FORMAT, "version": VERSION, "digest": self.digest,
            "config": asdict(self.cfg), "samples": self.n_samples,
            "rows": sum(e["rows"] for e in entries), "dtype": np.dtype(DTYPE).name,
            "bytes": sum(e["bytes"] for e in entries), "shards": entries}))


@dataclass
class ImageFeatures:
    """Backbone features of one photo: global views (as is, mirrored) and K local crops."""

    global_feat: torch.Tensor  # (2, D) float32
    local_feat: torch.Tensor  # (K, D) float32, centre crop first


class FeatureStore(Mapping[str, ImageFeatures]):
    """A finished store, memory-mapped: a read-only mapping from sample key to its features.

    Opening reads ``manifest.json`` and each shard's key list; feature rows are read from
    disk only when indexed.  Raises ``StoreError`` when the manifest is missing (extraction
    not finished) or of another format.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        man = self.root / "manifest.json"
        if not man.is_file():
            raise StoreError(f"{self.root} is not a finished feature store (no manifest.json): "
                             "run `python -m train extract` (again) to finish it")
        self.manifest: dict[str, Any] = json.loads(man.read_text())
        if self.manifest.get("format") != FORMAT or self.manifest.get("version") != VERSION:
            raise StoreError(f"{man}: not a version-{VERSION} {FORMAT}")
        self.config = StoreConfig(**self.manifest["config"])
        self._arrays: list[np.ndarray] = []
        self._where: dict[str, tuple[int, int]] = {}
        self.errors: dict[str, str] = {}
        for si, entry in enumerate(self.manifest["shards"]):
            meta = json.loads((self.root / entry["keys"]).read_text())
            arr = np.load(self.root / entry["file"], mmap_mode="r", allow_pickle=False)
            if arr.shape != (entry["rows"], self.config.views, self.config.dim):
                raise StoreError(f"{self.root / entry['file']}: shape {arr.shape} does not match "
                                 "the manifest")
            self._arrays.append(arr)
            for row, key in enumerate(meta["keys"]):
                self._where[key] = (si, row)
            self.errors.update(meta["errors"])

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    @property
    def nbytes(self) -> int:
        """Bytes on disk of the feature shards (the ``.npy`` files)."""
        return int(self.manifest["bytes"])

    def row(self, key: str) -> np.ndarray:
        """(views, dim) float16, memory-mapped (no copy)."""
        si, r = self._where[key]
        return self._arrays[si][r]

    def __getitem__(self, key: str) -> ImageFeatures:
        f = torch.from_numpy(np.asarray(self.row(key), dtype=np.float32))
        return ImageFeatures(f[:2], f[2:])

    def take(self, keys: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Float32 (global (S, 2, D), local (S, K, D)) for ``keys``, read shard by shard."""
        out = np.empty((len(keys), self.config.views, self.config.dim), dtype=np.float32)
        by_shard: dict[int, list[tuple[int, int]]] = {}
        for i, k in enumerate(keys):
            si, r = self._where[k]
            by_shard.setdefault(si, []).append((i, r))
        for si, pairs in by_shard.items():
            pos = np.asarray([p for p, _ in pairs])
            rows = np.asarray([r for _, r in pairs])
            order = np.argsort(rows, kind="stable")  # sequential reads from the mapped file
            out[pos[order]] = self._arrays[si][rows[order]]
        t = torch.from_numpy(out)
        return t[:, :2], t[:, 2:]


class StoreFeatures(Sequence[ImageFeatures]):
    """The store's features in the order of a sample list (what ``make_arrays`` indexes).

    Samples without a row (unreadable photos) map to ``fallback``'s row, as the items using them
    are dropped before training.
    """

    def __init__(self, store: FeatureStore, keys: Sequence[str]) -> None:
        self.store = store
        present = next((k for k in keys if k in store), None)
        if present is None:
            raise StoreError(f"{store.root} holds none of the {len(keys)} photos asked for")
        self.keys = [k if k in store else present for k in keys]

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int) -> ImageFeatures:  # type: ignore[override]
        return self.store[self.keys[i]]

    def take(self, idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(global, local) float32 features of samples ``idx``: see ``FeatureStore.take``."""
        return self.store.take([self.keys[int(i)] for i in idx])
