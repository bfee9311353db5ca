"""Training data sources, all turned into one set of tasks over one list of photos.

- AVA: vote histograms -> distribution targets (EMD loss).
- Ratings: a folder + CSV of ``path,score`` (1–10) or ``path,stars`` (1–5) -> mean targets (MSE).
- Pairs: ``image_1,image_2,p_image1_preferred`` (crowd preferences) -> soft pairwise targets.
- Damage: plain folders of photos -> "original beats its damaged copy" pairs (RankIQA).
- Binary (post-worthy or not): yelp-food's ``labels.csv`` (``file,postworthy,restaurant``), or
  an owner's labelled folder (``good/``+``bad/`` or ``keep/``+``reject/`` sub-folders, or a CSV
  ``path,label``) -> logistic loss on the head's post-worthy logit.

Every item gets a *group* so k-fold splits never put the same photo on both sides.
"""

from __future__ import annotations

import csv
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from curator.scan import scan_folder
from train import damage
from train.ava import AvaItem
from train.features import Sample

log = logging.getLogger(__name__)

#: Sub-folder pairs of a labelled folder: (post-worthy, not).
LABEL_FOLDERS = (("good", "bad"), ("keep", "reject"))
#: Words a ``path,label`` CSV may use.
LABEL_WORDS = {"1": 1, "0": 0, "good": 1, "bad": 0, "keep": 1, "reject": 0, "yes": 1, "no": 0,
               "true": 1, "false": 0, "postworthy": 1}


@dataclass
class Tasks:
    """Index arrays into ``samples`` for each kind of supervision, each with a group id."""

    samples: list[Sample] = field(default_factory=list)
    dist_idx: list[int] = field(default_factory=list)
    dist_y: list[np.ndarray] = field(default_factory=list)
    dist_group: list[str] = field(default_factory=list)
    mean_idx: list[int] = field(default_factory=list)
    mean_y: list[float] = field(default_factory=list)
    mean_group: list[str] = field(default_factory=list)
    bin_idx: list[int] = field(default_factory=list)
    bin_y: list[float] = field(default_factory=list)  # 1 post-worthy, 0 not
    bin_group: list[str] = field(default_factory=list)
    pair_a: list[int] = field(default_factory=list)
    pair_b: list[int] = field(default_factory=list)
    pair_p: list[float] = field(default_factory=list)
    pair_kind: list[str] = field(default_factory=list)  # "crowd" or a damage kind
    pair_group: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    _index: dict[str, int] = field(default_factory=dict)

    def photo(self, path: Path, dmg: tuple[str, float] | None = None) -> int:
        """Index of ``path`` (optionally damaged) in ``samples``, adding it once."""
        key = str(path) if dmg is None else f"{path}|{dmg[0]}|{dmg[1]}"
        return self.sample(Sample(key, path, dmg))

    def sample(self, s: Sample) -> int:
        """Index of ``s`` in ``samples``, adding it once (keys identify photos)."""
        if s.key not in self._index:
            self._index[s.key] = len(self.samples)
            self.samples.append(s)
        return self._index[s.key]

    def add_ava(self, items: list[AvaItem]) -> None:
        for it in items:
            self.dist_idx.append(self.photo(it.path))
            self.dist_y.append(it.distribution)
            self.dist_group.append(f"ava:{it.image_id}")

    def add_ratings(self, csv_path: Path) -> None:
        """``path,score`` (1–10) or ``path,stars`` (1–5); paths relative to the CSV's folder."""
        base = Path(csv_path).parent
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = {c.strip().lower(): c for c in reader.fieldnames or []}
            if "path" not in cols or not ({"score", "stars"} & set(cols)):
                raise ValueError(f"{csv_path}: need columns path and score (1-10) or stars (1-5)")
            for row in reader:
                try:
                    p = base / row[cols["path"]].strip()
                    if "score" in cols:
                        y = float(row[cols["score"]])
                        ok = 1 <= y <= 10
                    else:
                        stars = float(row[cols["stars"]])
                        ok = 1 <= stars <= 5
                        y = 1 + (stars - 1) * 9 / 4  # 1..5 stars onto AVA's 1..10
                except (ValueError, TypeError, KeyError):
                    self.skipped["malformed rating rows"] += 1
                    continue
                if not ok:
                    self.skipped["ratings out of range"] += 1
                elif not p.is_file():
                    self.skipped["rated photos missing"] += 1
                else:
                    self.mean_idx.append(self.photo(p))
                    self.mean_y.append(y)
                    self.mean_group.append(f"rated:{p}")

    def add_binary(self, path: Path, label: int, group: str) -> None:
        """One photo labelled post-worthy (1) or not (0), in k-fold group ``group``."""
        self.bin_idx.append(self.photo(path))
        self.bin_y.append(float(label))
        self.bin_group.append(group)

    def add_yelp(self, root: Path) -> None:
        """yelp-food: ``ROOT/labels.csv`` (``file,postworthy,restaurant``), photos in
        ``ROOT/images``.  The group is the restaurant (photos of one place share tables, plates
        and light); each ``unknown`` photo is a group of its own."""
        root = Path(root)
        csv_path = root / "labels.csv" if root.is_dir() else root
        images = csv_path.parent / "images"
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not {"file", "postworthy", "restaurant"} <= set(reader.fieldnames or []):
                raise ValueError(f"{csv_path}: need columns file, postworthy, restaurant")
            for row in reader:
                try:
                    name = row["file"].strip()
                    label = int(row["postworthy"])
                    place = row["restaurant"].strip() or "unknown"
                except (ValueError, TypeError, KeyError, AttributeError):
                    self.skipped["malformed label rows"] += 1
                    continue
                p = images / name
                if label not in (0, 1):
                    self.skipped["labels not 0 or 1"] += 1
                elif not p.is_file():
                    self.skipped["labelled photos missing"] += 1
                else:
                    group = f"yelp:photo:{name}" if place == "unknown" else f"yelp:{place}"
                    self.add_binary(p, label, group)

    def add_labelled(self, source: Path) -> None:
        """An owner's own verdicts: a folder with ``good/`` and ``bad/`` (or ``keep/`` and
        ``reject/``) sub-folders, or a CSV ``path,label`` (label 1/0, good/bad, keep/reject,
        yes/no; paths relative to the CSV's folder).  Each photo is its own group."""
        source = Path(source)
        if source.is_dir():
            subs = {d.name.lower(): d for d in source.iterdir() if d.is_dir()}
            pairs = [(yes, no) for yes, no in LABEL_FOLDERS if yes in subs and no in subs]
            if not pairs:
                raise ValueError(f"{source}: need sub-folders good/ and bad/ "
                                 "(or keep/ and reject/), or a CSV of path,label")
            for yes, no in pairs:
                for name, label in ((yes, 1), (no, 0)):
                    for p in scan_folder(subs[name]):
                        self.add_binary(p, label, f"labelled:{p}")
            return
        with open(source, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = {c.strip().lower(): c for c in reader.fieldnames or []}
            if not {"path", "label"} <= set(cols):
                raise ValueError(f"{source}: need columns path and label")
            for row in reader:
                raw = (row[cols["label"]] or "").strip().lower()
                verdict = LABEL_WORDS.get(raw)
                p = source.parent / (row[cols["path"]] or "").strip()
                if verdict is None:
                    self.skipped["labels not understood"] += 1
                elif not p.is_file():
                    self.skipped["labelled photos missing"] += 1
                else:
                    self.add_binary(p, verdict, f"labelled:{p}")

    def add_pairs(self, csv_path: Path, images: Path | None = None) -> None:
        """Crowd preferences; images in ``images`` (default: CSV folder's ``images/``)."""
        base = Path(images) if images else Path(csv_path).parent / "images"
        with open(csv_path, newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                try:
                    a, b = base / row["image_1"].strip(), base / row["image_2"].strip()
                    prob = float(row["p_image1_preferred"])
                except (ValueError, TypeError, KeyError):
                    self.skipped["malformed pair rows"] += 1
                    continue
                if not (0 <= prob <= 1):
                    self.skipped["pair probabilities out of range"] += 1
                elif not (a.is_file() and b.is_file()):
                    self.skipped["paired photos missing"] += 1
                else:
                    self.pair_a.append(self.photo(a))
                    self.pair_b.append(self.photo(b))
                    self.pair_p.append(prob)
                    self.pair_kind.append("crowd")
                    self.pair_group.append(f"pair:{a.name}|{b.name}")

    def add_damage(self, folder: Path, per_photo: int, seed: int,
                   group_of: dict[Path, str] | None = None,
                   max_photos: int | None = None) -> None:
        """For each photo in ``folder``: ``per_photo`` damaged copies it should outrank.

        ``max_photos`` keeps only the first photos in scan order; their copies are the same
        as without the limit (same draws), so cached features are reused.

        A photo already used by another source keeps that source's group, so a fold never
        trains on a photo's damage pairs while testing on the photo's crowd pair.
        """
        rng = random.Random(seed)
        kinds = sorted(damage.KINDS)
        for path in scan_folder(folder)[:max_photos]:
            group = (group_of or {}).get(path, f"damage:{path}")
            orig = self.photo(path)
            for kind in rng.sample(kinds, min(per_photo, len(kinds))):
                sev = round(rng.random(), 3)
                d = self.photo(path, (kind, sev))
                self.pair_a.append(orig)
                self.pair_b.append(d)
                self.pair_p.append(1.0)
                self.pair_kind.append(kind)
                self.pair_group.append(group)

    def drop_photos(self, bad: set[int]) -> int:
        """Remove every item that uses one of the ``bad`` sample indices; returns how many."""
        before = self.n_items
        keep = [i for i, s in enumerate(self.dist_idx) if s not in bad]
        self.dist_idx = [self.dist_idx[i] for i in keep]
        self.dist_y = [self.dist_y[i] for i in keep]
        self.dist_group = [self.dist_group[i] for i in keep]
        keep = [i for i, s in enumerate(self.mean_idx) if s not in bad]
        self.mean_idx = [self.mean_idx[i] for i in keep]
        self.mean_y = [self.mean_y[i] for i in keep]
        self.mean_group = [self.mean_group[i] for i in keep]
        keep = [i for i, s in enumerate(self.bin_idx) if s not in bad]
        self.bin_idx = [self.bin_idx[i] for i in keep]
        self.bin_y = [self.bin_y[i] for i in keep]
        self.bin_group = [self.bin_group[i] for i in keep]
        keep = [i for i, (a, b) in enumerate(zip(self.pair_a, self.pair_b, strict=True))
                if a not in bad and b not in bad]
        for name in ("pair_a", "pair_b", "pair_p", "pair_kind", "pair_group"):
            values = getattr(self, name)
            setattr(self, name, [values[i] for i in keep])
        dropped = before - self.n_items
        if dropped:
            self.skipped["items with unreadable photos"] += dropped
        return dropped

    @property
    def n_items(self) -> int:
        """Supervised items of every kind."""
        return len(self.dist_idx) + len(self.mean_idx) + len(self.bin_idx) + len(self.pair_a)

    @property
    def groups(self) -> list[str]:
        """The k-fold group of every item, all kinds together."""
        return self.dist_group + self.mean_group + self.bin_group + self.pair_group

    def groups_by_path(self) -> dict[Path, str]:
        """Group of every undamaged photo already added (for ``add_damage``)."""
        out: dict[Path, str] = {}
        for idx, g in zip(self.dist_idx, self.dist_group, strict=True):
            out[self.samples[idx].path] = g
        for idx, g in zip(self.mean_idx, self.mean_group, strict=True):
            out[self.samples[idx].path] = g
        for idx, g in zip(self.bin_idx, self.bin_group, strict=True):
            out[self.samples[idx].path] = g
        for a, b, g in zip(self.pair_a, self.pair_b, self.pair_group, strict=True):
            out[self.samples[a].path] = g
            out[self.samples[b].path] = g
        return out

    def summary(self) -> str:
        crowd = sum(k == "crowd" for k in self.pair_kind)
        parts = [f"{len(self.samples)} photos/copies", f"{len(self.dist_idx)} AVA vote histograms",
                 f"{len(self.mean_idx)} ratings",
                 f"{len(self.bin_idx)} post-worthy labels ({int(sum(self.bin_y))} yes)",
                 f"{crowd} crowd pairs",
                 f"{len(self.pair_kind) - crowd} damage pairs"]
        parts += [f"{n} {why}" for why, n in sorted(self.skipped.items())]
        return ", ".join(parts)
