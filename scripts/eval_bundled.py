"""Judge a model file the way a restaurant owner would, on real photos it never trained on.

1. Damage check: each photo in ``../shared/data/food-photos`` (never used in training)
   against its own blurred,
   darkened, blown-out, noisy, heavily compressed, badly cropped and tilted copy; prints the
   share of pairs where the original scores higher, per kind of damage.
2. Reasons check: on the same damaged copies, the share given the matching reason (blur for
   the blurred copy, ...), per kind; on the undamaged originals, the share given no reason.
3. Crowd check: the 295 food-photo pairs in ``../shared/data/food-pairs``; prints agreement
   with the ~125-person majority, weighted by the vote margin |p - 0.5| (flagged in-sample
   when the model was trained on them).

    python scripts/eval_bundled.py [--model assets/model.pt]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.paths import default_model_path  # noqa: E402
from curator.reasons import FROM_DAMAGE  # noqa: E402
from curator.score import PhotoScore, Scorer  # noqa: E402
from train import damage  # noqa: E402

DATA = REPO.parent / "shared" / "data"
#: Mid-range damage: clearly visible, as an owner would notice it (blur radius ~1 % of the
#: long side, brightness x0.38 or x2.25, noise sd 25, JPEG quality 12, a 52 % corner crop,
#: a 13 degree tilt).
SEVERITY = 0.5


def score_map(scorer: Scorer, paths: list[Path]) -> dict[Path, float]:
    """Each photo's ranking value: the 0–100 score (the AVA-style mean for old model files)."""
    return {r.path: r.rank_value for r in scorer.score(paths) if isinstance(r, PhotoScore)}


def damage_check(scorer: Scorer, tmp: Path) -> tuple[dict[str, float], dict[str, float]]:
    originals = sorted((DATA / "food-photos").glob("*.jpg"))
    made: dict[str, list[tuple[Path, Path]]] = {k: [] for k in damage.KINDS}
    for src in originals:
        im = Image.open(src).convert("RGB")
        for kind in damage.KINDS:
            out = tmp / f"{src.stem}__{kind}.png"  # lossless, so only the damage differs
            rng = random.Random(f"eval:{src.name}:{kind}")
            damage.apply(kind, im, SEVERITY, rng).save(out)
            made[kind].append((src, out))
    results = {r.path: r for r in scorer.score(originals + [d for v in made.values()
                                                             for _, d in v])
               if isinstance(r, PhotoScore)}
    scores = {p: r.rank_value for p, r in results.items()}
    acc = {k: float(np.mean([scores[o] > scores[d] for o, d in v])) for k, v in made.items()}
    acc["all"] = float(np.mean([scores[o] > scores[d] for v in made.values() for o, d in v]))
    # Kinds without a reason key (a bad crop: ``cropped`` was dropped) count for the score only.
    why = {k: float(np.mean([FROM_DAMAGE[k] in results[d].reasons for _, d in v]))
           for k, v in made.items() if k in FROM_DAMAGE}
    why["all"] = float(np.mean([FROM_DAMAGE[k] in results[d].reasons
                                for k, v in made.items() if k in FROM_DAMAGE for _, d in v]))
    why["originals with no reason"] = float(np.mean([not results[o].reasons
                                                     for o in originals]))
    return acc, why


def crowd_check(scorer: Scorer) -> tuple[float, float, int]:
    root = DATA / "food-pairs"
    with open(root / "pairs.csv", newline="") as fh:
        pairs = list(csv.DictReader(fh))
    paths = sorted({root / "images" / p[k] for p in pairs for k in ("image_1", "image_2")})
    s = score_map(scorer, paths)
    hit, w_hit, w_all = [], 0.0, 0.0
    for p in pairs:
        prob = float(p["p_image1_preferred"])
        a, b = s[root / "images" / p["image_1"]], s[root / "images" / p["image_2"]]
        if prob == 0.5:
            continue
        agree = (a > b) == (prob > 0.5)
        hit.append(agree)
        w = abs(prob - 0.5)
        w_hit += w * agree
        w_all += w
    return w_hit / w_all, float(np.mean(hit)), len(hit)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=default_model_path())
    args = ap.parse_args()
    scorer = Scorer(args.model)  # no cache: a clean measurement
    with tempfile.TemporaryDirectory() as tmp:
        acc, why = damage_check(scorer, Path(tmp))
    print(f"model: {args.model}")
    print("damage check (original above its damaged copy, 20 food photos per kind):")
    for k, v in acc.items():
        print(f"  {k:<10} {v:6.1%}")
    if scorer.model_file.reason_thresholds:
        print("reasons check (the matching reason given on the damaged copy; originals):")
        for k, v in why.items():
            print(f"  {k:<10} {v:6.1%}")
    weighted, plain, n = crowd_check(scorer)
    sources = scorer.model_file.training.get("data", {}).get("sources", [])
    seen = any(src.get("kind") == "crowd pairs" for src in sources)
    note = (" -- IN-SAMPLE: this model trained on these pairs; its report's k-fold crowd "
            "figure is the honest one") if seen else " (pairs this model never saw)"
    print(f"crowd check on {n} food pairs: margin-weighted agreement {weighted:.1%} "
          f"(unweighted {plain:.1%}){note}")


if __name__ == "__main__":
    main()
