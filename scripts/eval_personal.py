"""Simulate an owner with the yelp-food editor's labels and learn from their choices.

Scores ``--n`` photos from ``../shared/data/yelp-food`` (seeded sample; embeddings land in a
private score cache under ``runs/``), records the editor's label as the owner's verdict (post-
worthy = pick, not = reject), then runs the real child ``python -m train.personal`` and prints
its held-out agreement for the bundled and the personal model and the training time.

    python scripts/eval_personal.py --n 200
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.cache import ScoreCache  # noqa: E402
from curator.choices import ChoiceStore  # noqa: E402
from curator.culling import Flag, Verdict  # noqa: E402
from curator.score import PhotoScore, Scorer  # noqa: E402

YELP = REPO.parent / "shared" / "data" / "yelp-food"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "eval_personal")
    args = ap.parse_args()
    with open(YELP / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rng = np.random.default_rng(args.seed)
    pick = [rows[i] for i in sorted(rng.choice(len(rows), args.n, replace=False))]
    paths = [YELP / "images" / r["file"] for r in pick]
    cache_dir = args.work / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with ScoreCache.in_dir(cache_dir) as cache:
        scorer = Scorer(cache=cache)
        scored = {r.path: r for r in scorer.score(paths) if isinstance(r, PhotoScore)}
    print(f"scored {len(scored)} photos in {time.perf_counter() - t0:.1f} s")
    (cache_dir / "choices.sqlite3").unlink(missing_ok=True)
    with ChoiceStore.in_dir(cache_dir) as store:
        for r, p in zip(pick, paths, strict=True):
            if p in scored:
                flag = Flag.PICK if r["postworthy"] == "1" else Flag.REJECT
                store.record(p, Verdict(flag, 0), scored[p].mean)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "train.personal", "--cache-dir", str(cache_dir),
         "--model-digest", scorer.digest, "--out", str(args.work / "model"), "--seed",
         str(args.seed)], cwd=REPO, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    m = json.loads(out)
    print(f"child process: {wall:.1f} s wall (fit {m['seconds']} s); "
          f"{m['keeps']} kept / {m['drops']} dropped; held out {m['heldout_photos']} photos, "
          f"{m['heldout_pairs']} pairs")
    print(f"held-out agreement: bundled {m['heldout_agreement_bundled']:.3f}, "
          f"personal {m['heldout_agreement_personal']:.3f}")


if __name__ == "__main__":
    main()
