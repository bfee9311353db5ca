"""``python -m train.personal``: learn the owner's taste from their remembered choices.

    python -m train.personal --cache-dir CACHE --model-digest SHA --out DIR [--progress json]

Examples are the owner's verdicts (``curator.choices``, every folder they culled) joined with
the embeddings and scores of the same photos in the score cache (no photo is decoded).  A
verdict becomes a keep (1) or drop (0) label: pick, or 4–5 stars, is a keep; reject, or 1–2
stars, a drop; 3 stars without a flag is left out as undecided.  A seeded, stratified quarter
is held out; a logistic model (scikit-learn, L2) is fitted on the rest; on the held-out
choices, both the bundled score and the personal model are judged by pairwise agreement (how
often a kept photo is ranked above a dropped one).  Writes ``personal.json``,
``PERSONAL_CARD.md`` and ``report.json`` to ``--out``; the app switches only if the personal
model agrees more often.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from curator.cache import FileKey, ScoreCache
from curator.choices import ChoiceStore
from curator.culling import Flag, Verdict
from curator.fsutil import atomic_write_bytes
from curator.personal import PersonalModel, pairwise_agreement

log = logging.getLogger(__name__)


@dataclass
class PersonalConfig:
    """Everything a personal fit depends on; saved in its report and card."""

    holdout: float = 0.25
    #: Held-back kept and dropped photos needed (each) before a personal model is offered.
    min_each: int = 10
    c: float = 0.5  # inverse L2 strength (scikit-learn's C)
    seed: int = 0
    min_examples: int = 8


def keep_label(v: Verdict) -> int | None:
    """1 keep, 0 drop, None undecided (see module docstring)."""
    if v.flag == Flag.REJECT:
        return 0
    if v.flag == Flag.PICK:
        return 1
    if v.stars >= 4:
        return 1
    if 1 <= v.stars <= 2:
        return 0
    return None


def load_examples(cache_dir: Path, digest: str) -> tuple[list[Path], np.ndarray, np.ndarray,
                                                           np.ndarray]:
    """(paths, embeddings (N, D), base scores (N,), labels (N,)) for labelled, cached photos."""
    with ChoiceStore.in_dir(cache_dir) as store:
        choices = [(c.path, keep_label(c.verdict)) for c in store.all()]
    labelled = [(p, y) for p, y in choices if y is not None]
    keys: dict[FileKey, tuple[Path, int]] = {}
    for p, y in labelled:
        try:
            keys[FileKey.of(p)] = (p, y)
        except OSError:
            continue  # moved or deleted since
    with ScoreCache.in_dir(cache_dir) as cache:
        scores = cache.get_many(list(keys), digest)
        embs = cache.get_embeddings(list(scores), digest)
    paths, xs, base, ys = [], [], [], []
    for k, (p, y) in keys.items():
        s, e = scores.get(k), embs.get(k)
        if s is None or e is None or s.mean is None:
            continue
        paths.append(p)
        xs.append(np.asarray(e.vector, np.float64))
        base.append(s.mean)
        ys.append(y)
    if not xs:
        return [], np.zeros((0, 0)), np.zeros(0), np.zeros(0, np.int64)
    return paths, np.stack(xs), np.asarray(base), np.asarray(ys, np.int64)


def split(labels: np.ndarray, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split: (train indices, held-out indices)."""
    rng = np.random.default_rng(seed)
    test: list[int] = []
    for cls in (0, 1):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        test += idx[: max(1, round(len(idx) * holdout))].tolist()
    mask = np.zeros(len(labels), bool)
    mask[test] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def fit(x: np.ndarray, base: np.ndarray, y: np.ndarray, cfg: PersonalConfig,
        digest: str) -> tuple[PersonalModel, dict[str, Any]]:
    """Fit on the training part, judge both models on the held-out part."""
    from sklearn.linear_model import LogisticRegression

    tr, te = split(y, cfg.holdout, cfg.seed)
    feats = np.concatenate([x, base[:, None]], axis=1)
    mean = feats[tr].mean(0)
    scale = feats[tr].std(0) + 1e-6
    clf = LogisticRegression(C=cfg.c, max_iter=2000, random_state=cfg.seed)
    clf.fit((feats[tr] - mean) / scale, y[tr])
    model = PersonalModel(clf.coef_[0].astype(np.float64), float(clf.intercept_[0]), mean,
                          scale, digest, {})
    personal, pairs = pairwise_agreement(model.logits(x[te], base[te]), y[te])
    bundled, _ = pairwise_agreement(base[te], y[te])
    train_agree, _ = pairwise_agreement(model.logits(x[tr], base[tr]), y[tr])
    metrics = {"heldout_agreement_personal": personal, "heldout_agreement_bundled": bundled,
               "heldout_pairs": pairs, "heldout_photos": len(te), "train_photos": len(tr),
               "train_agreement_personal": train_agree, "keeps": int(y.sum()),
               "drops": int(len(y) - y.sum()), "heldout_keeps": int(y[te].sum()),
               "heldout_drops": int(len(te) - y[te].sum()), "min_each": cfg.min_each}
    # Too few held-back photos prove nothing: with 3 kept and 4 dropped (12 pairs) one photo
    # moves the agreement by 25-33 points.  At 10 of each (100 pairs) the 95 % interval of a
    # pairwise agreement is about +-0.1 (Hanley & McNeil 1982), the gap the eval_personal
    # simulation shows between a useful personal model and the bundled one.
    metrics["enough"] = bool(metrics["heldout_keeps"] >= cfg.min_each
                             and metrics["heldout_drops"] >= cfg.min_each)
    metrics["better"] = bool(metrics["enough"] and personal > bundled)
    return PersonalModel(model.weights, model.bias, mean, scale, digest, metrics), metrics


def card(metrics: dict[str, Any], cfg: PersonalConfig, command: str) -> str:
    """The personal model's card (markdown)."""
    m = metrics
    verdict = ("better than the bundled model on your held-out choices: Curator uses it when "
               "you switch" if m["better"] else
               "not better than the bundled model on your held-out choices: keep the bundled one")
    return f"""# Personal model

Learned from your own picks, rejects and stars in Curator (every folder you culled), on
{datetime.now(UTC).isoformat(timespec="seconds")}.

- What it is: a logistic model over each photo's near-duplicate embedding (what is in the
  photo, 256 numbers from the bundled backbone) and the bundled model's score; it gives the
  chance you keep a photo, shown as 0–100.
- Data: {m["keeps"]} kept and {m["drops"]} dropped photos (pick or 4–5 stars = kept; reject or
  1–2 stars = dropped; 3 stars alone left out); {m["train_photos"]} to train,
  {m["heldout_photos"]} held out (seeded, stratified: seed {cfg.seed}).
- Held-out agreement with your choices (how often a kept photo is ranked above a dropped one,
  over {m["heldout_pairs"]} pairs): personal **{m["heldout_agreement_personal"]:.3f}**,
  bundled **{m["heldout_agreement_bundled"]:.3f}**. Verdict: {verdict}.
- On its own training photos it agrees {m["train_agreement_personal"]:.3f} (higher than held
  out = how much it memorised).
- Limits: it knows only what you have judged; a few dozen choices give a noisy estimate (the
  held-out figure moves by several points with another seed); it reads the embeddings of the
  model it was trained with and is ignored under another one.
- Settings: holdout {cfg.holdout}, C {cfg.c}, seed {cfg.seed}. Command: `{command}`
"""


def emit(progress: bool, **event: Any) -> None:
    if progress:
        print(json.dumps(event), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.personal", description=__doc__)
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--model-digest", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--progress", choices=["json", "none"], default="none")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--c", type=float, default=PersonalConfig.c)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    prog = args.progress == "json"
    cfg = PersonalConfig(seed=args.seed, c=args.c)
    t0 = time.perf_counter()
    _paths, x, base, y = load_examples(args.cache_dir, args.model_digest)
    emit(prog, event="data", photos=len(y), keeps=int(y.sum()), drops=int(len(y) - y.sum()))
    if len(y) < cfg.min_examples or y.min(initial=1) == y.max(initial=0) or min(
            int(y.sum()), int(len(y) - y.sum())) < 2:
        msg = (f"need at least {cfg.min_examples} judged photos with 2+ kept and 2+ dropped "
               f"(have {int(y.sum())} kept, {int(len(y) - y.sum())} dropped)")
        emit(prog, event="error", message=msg)
        sys.stderr.write(f"train.personal: {msg}\n")
        return 2
    model, metrics = fit(x, base, y, cfg, args.model_digest)
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out / "personal.json",
                       json.dumps(model.to_dict(), indent=1).encode())
    command = "python -m train.personal " + " ".join(sys.argv[1:] if argv is None else argv)
    atomic_write_bytes(args.out / "PERSONAL_CARD.md", card(metrics, cfg, command).encode())
    atomic_write_bytes(args.out / "report.json", json.dumps(
        {"config": asdict(cfg), "metrics": metrics}, indent=1).encode())
    emit(prog, event="done", out=str(args.out), **metrics)
    if not prog:
        print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
