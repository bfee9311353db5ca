"""Does the proposed crop keep the dish?  Measured on hand-marked plates.

``scripts/plate_boxes.json`` holds the box of the dish (plate, bowl or board) in 60 real
photos of ``../shared/data`` (food-photos-hires and food-pairs), marked by eye; 11 more whose
food fills the frame are listed as excluded.  For every ratio the destinations use, this
prints how often a crop keeps at least 95 % of the plate box:

* ``curator``: ``curator.crop.propose_crop`` on the photo's dish map;
* ``centre``: the centred crop (what a platform does on its own);
* ``possible``: the photos where *some* crop of that ratio keeps 95 % (where the plate is
  narrower than the crop): the only ones where a crop can succeed.

    python scripts/eval_crop.py                 # the table
    python scripts/eval_crop.py --list 5:4      # each photo's figures at one ratio
    python scripts/eval_crop.py --cross-check   # + the settings chosen on one half, measured
                                                #   on the other (both ways)

Figures are counts of photos; "of possible" is the rate among the photos where it can be done.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curator.crop import (  # noqa: E402
    DISH_MARGIN,
    DISH_THRESHOLD,
    Box,
    DishMap,
    best_possible,
    centre_crop,
    dish_map_of,
    kept_fraction,
    propose_crop,
)

BOXES = ROOT / "scripts" / "plate_boxes.json"
DATA = ROOT.parent / "shared" / "data"
RATIOS = {"5:4": 5 / 4, "4:3": 4 / 3, "16:9": 16 / 9, "1:1": 1.0, "4:5": 4 / 5, "9:16": 9 / 16}
KEEP = 0.95
Row = tuple[str, tuple[int, int], Box, DishMap]
Cropper = Callable[[tuple[int, int], float, DishMap], Box]


def load(boxes: Path, data: Path) -> tuple[list[Row], int, float]:
    """(path, size, plate box px, dish map) per marked photo, the excluded count, s/photo."""
    doc = json.loads(boxes.read_text(encoding="utf-8"))
    rows: list[Row] = []
    t0 = time.perf_counter()
    for item in doc["photos"]:
        path = data / item["path"]
        if not path.is_file():
            raise SystemExit(f"missing {path}: is ../shared/data there?")
        dish, size = dish_map_of(path)
        b = item["box"]
        rows.append((item["path"], size,
                     (b[0] * size[0], b[1] * size[1], b[2] * size[0], b[3] * size[1]), dish))
    return rows, len(doc["excluded"]), (time.perf_counter() - t0) / max(1, len(rows))


def successes(rows: list[Row], crop: Cropper) -> tuple[int, int]:
    """(kept >= 95 %, possible) summed over every ratio."""
    ok = possible = 0
    for aspect in RATIOS.values():
        for _path, size, box, dish in rows:
            if best_possible(box, size, aspect) >= KEEP:
                possible += 1
                ok += kept_fraction(box, crop(size, aspect, dish)) >= KEEP
    return ok, possible


def cross_check(rows: list[Row]) -> None:
    """Choose threshold/margin/main-part on alternate photos, measure on the others."""
    grid = list(itertools.product((0.3, 0.4, 0.5, 0.6), (0.1, 0.15, 0.25), (False, True)))

    def cropper(cfg: tuple[float, float, bool]) -> Cropper:
        return lambda s, a, d: propose_crop(s, a, d, threshold=cfg[0], margin=cfg[1],
                                            main_only=cfg[2])

    print(f"\ncross-check: {len(grid)} settings (threshold x margin x main part only), chosen on "
          "half the photos, measured on the other half")
    held = centre = total = 0
    for fold in (0, 1):
        fit = [r for i, r in enumerate(rows) if i % 2 == fold]
        test = [r for i, r in enumerate(rows) if i % 2 != fold]
        best = max(grid, key=lambda c: successes(fit, cropper(c))[0])
        ok, n = successes(test, cropper(best))
        cz, _ = successes(test, lambda s, a, d: centre_crop(s, a))
        held, centre, total = held + ok, centre + cz, total + n
        print(f"  half {fold}: chose threshold {best[0]}, margin {best[1]}, main part only "
              f"{best[2]}: held-out {ok}/{n} ({100 * ok / n:.1f} %), centre {cz}/{n}")
    print(f"  both halves held out: {held}/{total} ({100 * held / total:.1f} %), centre "
          f"{centre}/{total} ({100 * centre / total:.1f} %)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boxes", type=Path, default=BOXES)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--list", metavar="RATIO", help="print each photo's figures at one ratio")
    ap.add_argument("--cross-check", action="store_true")
    args = ap.parse_args(argv)
    rows, excluded, took = load(args.boxes, args.data)
    print(f"{len(rows)} marked photos ({excluded} excluded: food fills the frame); dish map "
          f"{took:.2f} s/photo including decoding; threshold {DISH_THRESHOLD}, margin "
          f"{DISH_MARGIN}\n")
    print(f"{'ratio':>6}  {'possible':>8}  {'curator':>14}  {'centre':>14}  "
          f"{'curator, all':>12}  {'centre, all':>11}")
    tot_poss = tot_cur = tot_cen = 0
    for name, aspect in RATIOS.items():
        poss = cur = cen = cur_all = cen_all = 0
        for path, size, box, dish in rows:
            can = best_possible(box, size, aspect) >= KEEP
            kc = kept_fraction(box, propose_crop(size, aspect, dish))
            kz = kept_fraction(box, centre_crop(size, aspect))
            poss, cur, cen = poss + can, cur + (can and kc >= KEEP), cen + (can and kz >= KEEP)
            cur_all, cen_all = cur_all + (kc >= KEEP), cen_all + (kz >= KEEP)
            if args.list == name:
                print(f"        {'possible' if can else 'too wide'}  curator {kc:.2f}  "
                      f"centre {kz:.2f}  {path}")
        tot_poss, tot_cur, tot_cen = tot_poss + poss, tot_cur + cur, tot_cen + cen

        def rate(k: int, n: int = poss) -> str:
            return f"{k}/{n} ({100 * k / n:.0f} %)" if n else "-"

        print(f"{name:>6}  {poss:>8}  {rate(cur):>14}  {rate(cen):>14}  "
              f"{cur_all:>7}/{len(rows)}  {cen_all:>6}/{len(rows)}")
    print(f"\nall ratios, where possible: curator {tot_cur}/{tot_poss} "
          f"({100 * tot_cur / tot_poss:.1f} %), centre {tot_cen}/{tot_poss} "
          f"({100 * tot_cen / tot_poss:.1f} %)")
    if args.cross_check:
        cross_check(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
