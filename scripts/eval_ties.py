"""Can the number the owner reads tell the top photos of a real folder apart?

Scores each folder with a model file and prints the top 20 as the grid shows them
(``curator.gui.scoredisplay.format_score``: whole numbers, one decimal from 90 up), how many of
them share their number with another of the 20 (and how many would as whole numbers), and the
range of the top 20:

    python scripts/eval_ties.py ../shared/data/food-photos-hires ../shared/data/food-photos \\
        [--model FILE] [--restaurants]

``--restaurants`` also takes each named yelp-food restaurant with 40+ photos as a folder.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DATA = REPO.parent / "shared" / "data"


def main() -> None:
    from curator.cache import ScoreCache
    from curator.gui.scoredisplay import format_score
    from curator.paths import default_model_path
    from curator.scan import scan_folder
    from curator.score import PhotoScore, Scorer, rank

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", type=Path, nargs="*")
    ap.add_argument("--model", type=Path, default=default_model_path())
    ap.add_argument("--restaurants", action="store_true")
    ap.add_argument("--cache", type=Path, default=REPO / "runs" / "ties-cache.sqlite")
    args = ap.parse_args()
    sets = [(f.name, scan_folder(f)) for f in args.folders]
    if args.restaurants:
        with open(DATA / "yelp-food" / "labels.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        by = Counter(r["restaurant"] for r in rows if r["restaurant"] != "unknown")
        for name, n in sorted(by.items(), key=lambda kv: -kv[1]):
            if n >= 40:
                sets.append((f"yelp:{name}", [DATA / "yelp-food" / "images" / r["file"]
                                              for r in rows if r["restaurant"] == name]))
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    scorer = Scorer(args.model, cache=ScoreCache(args.cache))
    print(f"model {args.model}")
    for name, paths in sets:
        ranked = rank(r for r in scorer.score(paths) if isinstance(r, PhotoScore))
        top = [format_score(s.rank_value) for s in ranked[:20]]
        whole = Counter(round(s.rank_value) for s in ranked[:20])
        c = Counter(top)
        tied = sum(n for n in c.values() if n > 1)
        tied_whole = sum(n for n in whole.values() if n > 1)
        print(f"{name}: {len(ranked)} photos; top 20 shown as {' '.join(top)}; {tied} of them "
              f"share their number ({len(c)} distinct; as whole numbers {tied_whole}); "
              f"range {top[-1]}-{top[0]}")


if __name__ == "__main__":
    main()
