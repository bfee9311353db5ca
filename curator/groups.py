"""Near-duplicate groups: bursts, re-takes, small crops or exposure changes, one file twice.

Where the vectors come from: the scoring pass already runs the backbone on each photo's
global view, so the group embedding is taken from those features at no extra cost
(``embedding_from_features``): both columns' last-layer pooled features (what is in the
photo and in its centre, not how sharp it is), reduced to ``EMBED_DIM`` numbers by a fixed
random projection, L2-normalised and kept as float16 (512 bytes a photo in the score cache).
On the labelled set this beat the global column alone (2 of 5 real re-shoots whole at equal
precision), all multi-level features, and channel-sum reductions (false pairs at any
threshold that found the real re-shoots).

How they are clustered: average-linkage agglomerative clustering (SciPy) on cosine distance,
cut at ``GroupConfig.threshold``.  Average linkage, unlike single linkage, does not chain a
slow pan across a buffet into one group; unlike k-means it needs no number of groups.  It is
run per connected component of the "closer than the threshold" graph, which gives exactly the
same clusters (an average-linkage cluster never spans two such components) and keeps
10,000 photos well under a second.  Capture time (EXIF ``DateTimeOriginal``) only ever
*splits*: two photos that both carry one and were taken more than ``time_gap_s`` apart are
never grouped (the same dish photographed at another shoot).  Without capture times grouping
runs from the pixels alone.  The threshold was chosen with ``scripts/eval_groups.py``: the
largest cut with no false pair on its labelled set and at most one same-group pair per 100
photos across different restaurants of ``yelp-food`` (customer photos of similar dishes,
never the same scene): 0.20 gives 4 such pairs on 503 photos, where 0.28 gave 112.  (0.18
gives none, but splits exposure-bracketed takes of bright dishes: labelled recall 0.977.)

The embedding knows what is in a photo, not where: at 0.20 it still stacks other plates of
the same dish at other tables (14 such pairs within one restaurant on those 503 photos, by
eye).  So ``group_photos``, which reads each grouped photo's pixels anyway to compare its
frames, then keeps in a group only the members whose ORB keypoints match the group's
top-ranked frame under one shift/scale/rotation (``GroupConfig.min_inliers``,
``curator.bursts.split_group``); the others form groups of their own.  On the same photos:
0 pairs across restaurants and 3 within one, all three true copies by eye, labelled recall
0.989 (one real re-shoot from another angle, arroz rojo, is split); every edit a tester
checked (re-saves, +-1/3 stop, 2-5 % crops, 1-2 degree turns, white balance, 10-20 % zooms,
soft and shaken frames) stays grouped with hundreds of inliers, where different plates share
at most 9 (``eval_groups.py --robust``).  Without pixel access (``compare=False``, or a group's
top-ranked file gone) the groups are the embedding's.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from curator.capture import exif_seconds

if TYPE_CHECKING:
    from curator.bursts import BurstConfig, Verdict
    from curator.score import PhotoScore

log = logging.getLogger(__name__)

EMBED_DIM = 256
LAST_LAYER = 1280  # EfficientNet-Lite0's final pooled width; the tail of each column
PROJECTION_SEED = 0
_BLOCK = 1024  # rows per similarity block: 1024 x 10,000 float32 = 40 MB at most


class VerdictStore(Protocol):
    """Where group verdicts outlive a run (``curator.cache.ScoreCache`` is one): keys from
    ``curator.bursts.verdict_key``, values the JSON of ``curator.bursts.encode_verdicts``."""

    def get_verdicts(self, keys: Sequence[str]) -> dict[str, str]: ...

    def put_verdicts(self, items: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class GroupConfig:
    """How near-duplicates are grouped."""

    #: Cosine distance (1 - cosine similarity) at which the average-linkage tree is cut
    #: (module docstring: how it was chosen).
    threshold: float = 0.20
    #: Photos whose capture times are both known and further apart than this are never grouped.
    time_gap_s: float = 30 * 60.0
    #: With the frames compared (``group_photos(compare=True)``): a member stays in its group
    #: only when at least this many of its ORB keypoint matches with the group's top-ranked
    #: frame agree on one shift/scale/rotation (``curator.bursts.split_group``); 0: the
    #: embedding alone decides.
    min_inliers: int = 20


@functools.lru_cache(maxsize=4)
def _projection(d: int) -> np.ndarray:
    """A fixed (d, EMBED_DIM) Gaussian projection.  ``RandomState`` (not ``Generator``):
    NumPy keeps its stream frozen across versions, so cached embeddings stay comparable."""
    rs = np.random.RandomState(PROJECTION_SEED)
    return (rs.standard_normal((d, EMBED_DIM)) / np.sqrt(EMBED_DIM)).astype(np.float32)


def embedding_from_features(features: np.ndarray, column_dim: int) -> np.ndarray:
    """Group embeddings from the DCNN's concatenated features.

    ``features``: (N, 2 * column_dim) float, global column then local (``DCNN.features``).
    Returns (N, EMBED_DIM) float16, each row L2-normalised: the last ``LAST_LAYER`` pooled
    features of each column (all of them for a narrower backbone), L2-normalised, then a
    fixed random projection (Johnson–Lindenstrauss: cosines kept to about ±0.05).
    """
    f = np.asarray(features, dtype=np.float32)
    k = min(LAST_LAYER, column_dim)
    tails = np.concatenate([f[:, column_dim - k:column_dim], f[:, 2 * column_dim - k:]], axis=1)
    tails /= np.maximum(np.linalg.norm(tails, axis=1, keepdims=True), 1e-12)
    reduced = tails @ _projection(tails.shape[1])
    norms = np.linalg.norm(reduced, axis=1, keepdims=True)
    return (reduced / np.maximum(norms, 1e-12)).astype(np.float16)


def capture_time(path: Path) -> float | None:
    """EXIF ``DateTimeOriginal`` (or ``DateTimeDigitized``) as seconds, or None.

    The camera's local clock read as if it were UTC: only differences between photos are
    used.  Sub-seconds are added when present.  Reads the header only; never raises.  (The
    scorer takes the same value from the loader's own open, ``LoadedPhoto.captured``.)
    """
    from PIL import Image

    try:
        with Image.open(path) as im:
            return exif_seconds(im.getexif())
    except Exception:
        return None


def cluster(
    embeddings: np.ndarray,
    captured: Sequence[float | None] | None = None,
    cfg: GroupConfig | None = None,
) -> np.ndarray:
    """Group labels (N,) int, 0..G-1, for (N, D) L2-normalised embeddings.

    Photos with the same label are near-duplicates.  ``captured``: per-photo capture times in
    seconds or None.  Cost: one (N, N) similarity pass in blocks plus a small linkage per
    connected component (10,000 photos: see ``scripts/eval_groups.py --bench``).
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    cfg = cfg or GroupConfig()
    x = np.asarray(embeddings, dtype=np.float32)
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    times = np.array([np.nan if t is None else t for t in (captured or [None] * n)], np.float64)
    sim_min = 1.0 - cfg.threshold
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for lo in range(0, n, _BLOCK):
        sim = x[lo:lo + _BLOCK] @ x[lo:].T  # the upper triangle only: half the work
        r, c = np.divmod(np.flatnonzero(sim.ravel() >= sim_min), sim.shape[1])
        r += lo
        c += lo
        keep = r < c
        rows.append(r[keep])
        cols.append(c[keep])
    r, c = np.concatenate(rows), np.concatenate(cols)
    far = np.abs(times[r] - times[c]) > cfg.time_gap_s  # NaN (unknown) compares False
    r, c = r[~far], c[~far]
    graph = coo_matrix((np.ones(len(r), np.int8), (r, c)), shape=(n, n))
    n_comp, comp = connected_components(graph, directed=False)
    labels = comp.astype(np.int64)
    next_label = n_comp
    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.diff(comp[order])) + 1
    for members in np.split(order, bounds):
        if len(members) < 3:
            continue  # one photo, or a pair already closer than the threshold
        sub = x[members]
        dist = np.clip(1.0 - sub @ sub.T, 0.0, 2.0).astype(np.float64)
        t = times[members]
        dist[np.abs(t[:, None] - t[None, :]) > cfg.time_gap_s] = 2.0
        iu = np.triu_indices(len(members), 1)
        z = linkage(dist[iu], method="average")
        sub_labels = fcluster(z, t=cfg.threshold, criterion="distance")
        if sub_labels.max() > 1:
            labels[members] = next_label + sub_labels - 1
            next_label += int(sub_labels.max())
    _, dense = np.unique(labels, return_inverse=True)
    return np.asarray(dense, dtype=np.int64)


@dataclass(frozen=True)
class Groups:
    """Which group each photo is in, each group's best photo, and why.

    Group ids are 1..G, numbered by their best photo's rank (group 1 holds the top photo).
    ``order``: each group of two or more, best first (``curator.bursts``: sharpness, then
    exposure, then score); ``softer``: members clearly softer than their group's best frame
    (they get ``blur``); ``why``: a short sentence per compared member saying what decided its
    place.
    """

    group_of: dict[Path, int]
    best: dict[int, Path]
    order: dict[int, tuple[Path, ...]] = field(default_factory=dict)
    softer: frozenset[Path] = frozenset()
    why: dict[Path, str] = field(default_factory=dict)
    #: The 0-100 score shown for members the comparison placed after a sibling that the model
    #: scored no higher: one point under that sibling's, so every list (the ranked table,
    #: JSON, export, the grid) puts the sharp frame first (``CAP_STEP``).
    capped: dict[Path, float] = field(default_factory=dict)

    def is_best(self, path: Path) -> bool:
        return self.best.get(self.group_of.get(path, -1)) == path

    def sizes(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for g in self.group_of.values():
            out[g] = out.get(g, 0) + 1
        return out

    def position(self, path: Path) -> int:
        """0 for a group's best photo, 1 for the next, … (0 for a photo alone; 1 for every
        other member of a group whose frames were not compared)."""
        members = self.order.get(self.group_of.get(path, -1), ())
        if path in members:
            return members.index(path)
        return 0 if self.is_best(path) or path not in self.group_of else 1

    def kept(self, ranked: Sequence[PhotoScore], n: int) -> set[Path]:
        """The best ``n`` photos of each group (its ``order``; by rank where it has none),
        every photo alone: what "keep N per group" keeps."""
        seen: dict[int, int] = {}
        out: set[Path] = set()
        for s in ranked:
            g = self.group_of.get(s.path, -1)
            members = self.order.get(g)
            if members is not None and s.path in members:
                pos = members.index(s.path)
            else:
                pos = seen.get(g, 0)
                seen[g] = pos + 1
            if pos < n:
                out.add(s.path)
        return out

    def reasons(self, s: PhotoScore) -> tuple[str, ...]:
        """``s.reasons``, with ``blur`` added when it is clearly softer than its best sibling."""
        if s.path in self.softer and "blur" not in s.reasons:
            return (*s.reasons, "blur")
        return s.reasons

    def with_reasons(self, ranked: Sequence[PhotoScore]) -> list[PhotoScore]:
        """``ranked`` with each photo's reasons as ``reasons`` gives them and its score as
        ``capped`` gives it, ranked again (``curator.score.rank``'s order)."""
        out = [s if s.path not in self.softer and s.path not in self.capped
               else replace(s, reasons=self.reasons(s),
                            score=self.capped.get(s.path, s.score)) for s in ranked]
        return sorted(out, key=lambda s: (-s.rank_value, str(s.path)))


def group_photos(ranked: Sequence[PhotoScore], cfg: GroupConfig | None = None,
                 compare: bool = True, burst: BurstConfig | None = None,
                 workers: int | None = None, store: VerdictStore | None = None) -> Groups:
    """Group ranked photos (best first, as ``curator.score.rank`` gives them).

    A photo without an embedding is a group of its own.  With ``compare`` (default), each
    group of two or more is read once more (one full-resolution read of each member, nothing
    for photos alone): split into the sets of frames that show one scene
    (``curator.bursts.split_group``, ``GroupConfig.min_inliers``; a member that cannot be read
    stays where the embedding put it) and each set ordered by comparing its frames
    (``curator.bursts.decide``).  Without ``compare`` the groups are the embedding's alone
    (``cluster``) and the best of each is its highest-ranked member, as it is when the frames
    cannot be compared.
    ``workers``: decode threads for the comparison (default: ``curator.parallel``'s cores).
    """
    with_emb = [i for i, s in enumerate(ranked) if s.embedding is not None]
    labels = np.arange(len(ranked), dtype=np.int64) + len(ranked)  # singletons by default
    if with_emb:
        emb = np.stack([np.asarray(ranked[i].embedding, np.float32) for i in with_emb])
        sub = cluster(emb, [ranked[i].captured for i in with_emb], cfg)
        labels[with_emb] = sub
    members: dict[int, list[PhotoScore]] = {}
    for s, lab in zip(ranked, labels.tolist(), strict=True):
        members.setdefault(lab, []).append(s)  # rank order within each group
    order: dict[int, tuple[Path, ...]] = {}
    softer: set[Path] = set()
    why: dict[Path, str] = {}
    if compare:
        members, order, softer, why = _compare_frames(members, cfg or GroupConfig(), burst,
                                                      workers, store)
    capped = _capped(order, {s.path: s for s in ranked})
    rank_of = {s.path: i for i, s in enumerate(ranked)}
    best_of = {lab: (order[lab][0] if lab in order else ms[0].path)
               for lab, ms in members.items()}
    numbered = sorted(members, key=lambda lab: rank_of[best_of[lab]])
    number = {lab: i + 1 for i, lab in enumerate(numbered)}
    group_of = {m.path: number[lab] for lab, ms in members.items() for m in ms}
    return Groups(group_of, {number[lab]: best_of[lab] for lab in members},
                  {number[lab]: o for lab, o in order.items()}, frozenset(softer), why, capped)


def _compare_frames(
    members: dict[int, list[PhotoScore]], cfg: GroupConfig, burst: BurstConfig | None,
    workers: int | None, store: VerdictStore | None = None,
) -> tuple[dict[int, list[PhotoScore]], dict[int, tuple[Path, ...]], set[Path], dict[Path, str]]:
    """Each group of two or more (``members``: label -> photos in rank order) read once and
    compared (``curator.bursts``): split into the sets that show one scene when
    ``cfg.min_inliers`` > 0 (new labels after the largest), then each set ordered.  Returns the
    new members, each set's order (sets of two or more), the softer frames and the why's.
    ``store``: verdicts remembered from another run are taken from it, new ones put in it."""
    from curator.bursts import (
        compare_group,
        decode_verdicts,
        encode_verdicts,
        split_group,
        verdict_key,
    )
    from curator.parallel import ordered_map, usable_cores

    n = workers or max(1, min(4, usable_cores()))
    jobs = [(lab, ms) for lab, ms in members.items() if len(ms) >= 2]

    def members_of(job: tuple[int, list[PhotoScore]]) -> tuple[list[Path], list[float]]:
        return [m.path for m in job[1]], [m.rank_value for m in job[1]]

    keys = [verdict_key(*members_of(job), cfg.min_inliers, burst) if store is not None
            else None for job in jobs]
    known = store.get_verdicts([k for k in keys if k is not None]) if store is not None else {}
    fresh: dict[str, str] = {}

    def one(i: int) -> tuple[Verdict, ...]:
        paths, scores = members_of(jobs[i])
        key = keys[i]
        if key is not None and key in known:
            hit = decode_verdicts(paths, known[key])
            if hit is not None:
                return hit
        if cfg.min_inliers > 0:
            got = split_group(paths, scores, cfg.min_inliers, burst)
        else:
            got = (compare_group(paths, scores, burst),)
        if key is not None:
            fresh[key] = encode_verdicts(paths, got)
        return got

    # Groups in parallel, each group's frames in turn: most groups are pairs, whose reference
    # must be read before its sibling.
    verdicts = list(ordered_map(one, range(len(jobs)), n, window=2 * n, name="curator-burst"))
    if store is not None and fresh:
        store.put_verdicts(fresh)
    out = dict(members)
    order: dict[int, tuple[Path, ...]] = {}
    softer: set[Path] = set()
    why: dict[Path, str] = {}
    next_label = max(members, default=-1) + 1
    for (lab, ms), vs in zip(jobs, verdicts, strict=True):
        for k, v in enumerate(vs):
            new = lab
            if k > 0:
                new, next_label = next_label, next_label + 1
            keep = set(v.order)
            out[new] = [m for m in ms if m.path in keep]  # rank order, as before
            if len(v.order) >= 2:
                order[new] = v.order
                softer |= v.softer
                why.update(v.why)
    return out, order, softer, why


#: How far under the sibling placed before it a frame's shown score is capped (0-100 points:
#: the grid shows whole numbers, so the difference stays visible).
CAP_STEP = 1.0


def _capped(order: dict[int, tuple[Path, ...]], by_path: dict[Path, PhotoScore]
            ) -> dict[Path, float]:
    """Scores of members placed after a sibling the model scored no higher (see ``Groups``);
    only for model files with the 0-100 score."""
    out: dict[Path, float] = {}
    for members in order.values():
        prev = by_path[members[0]].score
        for p in members[1:]:
            s = by_path[p].score
            if prev is None or s is None:
                break
            if s >= prev:
                s = max(0.0, prev - CAP_STEP)
                out[p] = s
            prev = s
    return out


def one_per_group(ranked: Sequence[PhotoScore], groups: Groups) -> list[PhotoScore]:
    """The best photo of each group, in rank order."""
    return [s for s in ranked if groups.is_best(s.path)]
