"""Choose the classic measures' reason thresholds on photos apart from the judged ones.

Photos: ``../shared/data/food-pairs/images`` (the crowd-pair photos; ``eval_bundled.py``
judges on ``food-photos/``, which this never reads).  Each photo is decoded as the loader
decodes it, and damaged once per kind at a random severity (``train.damage``, seeded); the
JPEG kind is kept twice: re-saved losslessly (only blocking tells) and as the JPEG file itself
(its quantisation table tells too).  Negatives besides the undamaged photos and the other
kinds' copies: each photo saved at an everyday JPEG quality (45-90; file and lossless
re-save), and the 989 ``yelp-food`` customer photos as they are.  For each rule (reason,
measure, direction) the threshold is the value that at most ``--alpha`` of the photos
*without* that flaw reach (the same Neyman-Pearson rule as the learned reasons), or, where
all but ``--alpha`` of the flawed copies lie clear of it, the midpoint of that gap;
split-half checked: chosen on the photos with an
even index, precision/recall printed on the odd ones, then chosen on all.

    python scripts/choose_measure_thresholds.py [--alpha 0.02] [--limit N] [--write MODEL]
    python scripts/choose_measure_thresholds.py --levels curator/strictness.json

``--levels FILE`` also chooses the blur and exposure rules at the strictness levels the
Preferences offer (``curator.prefs.STRICTNESS_ALPHA``: the false-alarm budget per level) and
writes each level's thresholds with its held-out-half recall and false alarms, the figures
shown beside the control.

``--alpha`` is the false-alarm budget of every rule but those in ``ALPHA_FOR``.

``--write`` stores the thresholds in a model file (atomically; ``measure_thresholds``).
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.loader import decode  # noqa: E402
from curator.measures import measure  # noqa: E402
from curator.modelfile import load_model_file, save_model_file  # noqa: E402
from curator.reasons import FROM_DAMAGE, MEASURE_RULES  # noqa: E402
from train import damage  # noqa: E402

DATA = REPO.parent / "shared" / "data"
#: A tighter false-alarm budget where a false alarm is common and costly: white plates and
#: white backgrounds are everyday food photography, not blown-out exposures.
ALPHA_FOR = {"overexposed": 0.01}


def rows_for(path: Path, index: int) -> list[tuple[int, str | None, dict[str, float]]]:
    """(photo index, flaw reason or None, measures) for a photo and its damaged copies."""
    d = decode(path, 448)
    out = [(index, None, measure(d.image, d.native, d.quantization))]
    rng = random.Random(f"measures:{path.name}")
    for kind in damage.KINDS:
        sev = rng.random()
        bad = damage.apply(kind, d.image, sev, random.Random(f"{path.name}:{kind}"))
        out.append((index, FROM_DAMAGE.get(kind), measure(bad, True, None)))
        if kind == "jpeg":
            out += _as_jpeg(d.image, max(2, round(20 - 17 * sev)), index, "compressed")
    # Not heavy compression: the same photo saved at an everyday quality (45-90), as the
    # JPEG file and re-saved losslessly (a phone's or a website's JPEG turned into PNG).
    out += _as_jpeg(d.image, rng.randint(45, 90), index, None)
    return out


def _as_jpeg(im: Image.Image, quality: int, index: int, flaw: str | None
             ) -> list[tuple[int, str | None, dict[str, float]]]:
    """Rows for ``im`` saved as a JPEG of ``quality``: the file, and its lossless re-save."""
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    with Image.open(io.BytesIO(buf.getvalue())) as j:
        q = dict(j.quantization)
        rgb = j.convert("RGB")
    return [(index, flaw, measure(rgb, True, q)), (index, flaw, measure(rgb, True, None))]


def yelp_rows(start: int) -> list[tuple[int, str | None, dict[str, float]]]:
    """Restaurant customer photos (``yelp-food``), all counted as without flaw: a few are
    truly dark or tilted, so the false-alarm bound they add is a conservative one."""
    rows = []
    for i, path in enumerate(sorted((DATA / "yelp-food" / "images").glob("*.jpg"))):
        d = decode(path, 448)
        rows.append((start + i, None, measure(d.image, d.native, d.quantization)))
    return rows


def threshold(values: np.ndarray, positive: np.ndarray, below: bool, alpha: float) -> float:
    """The cut that at most ``alpha`` of the negatives reach; where the positives' own
    (1 - alpha) quantile lies clear of it, halfway between the two (a margin both ways)."""
    neg = values[~positive & ~np.isnan(values)]
    pos = values[positive & ~np.isnan(values)]
    if below:
        t = float(np.quantile(neg, alpha, method="lower")) - 1e-6
        p = float(np.quantile(pos, 1.0 - alpha)) if len(pos) else t
        return (t + p) / 2 if p < t else t
    t = float(np.quantile(neg, 1.0 - alpha, method="higher")) + 1e-6
    p = float(np.quantile(pos, alpha)) if len(pos) else t
    return (t + p) / 2 if p > t else t


def flags(values: np.ndarray, below: bool, t: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (values <= t) if below else (values >= t)


def write_levels(out: Path, rows: list[tuple[int, str | None, dict[str, float]]],
                 n_photos: int) -> None:
    """The strictness table: per setting (blur, exposure) and level, the thresholds of its
    rules (chosen on all photos at that level's false-alarm budget) and the recall / false
    alarms of the rules together on the held-out half (chosen on the even photos)."""
    import json

    from curator.fsutil import atomic_write_bytes
    from curator.prefs import STRICTNESS_ALPHA, STRICTNESS_REASONS

    idx = np.array([r[0] for r in rows])
    flaw = np.array([r[1] or "" for r in rows])
    even = idx % 2 == 0
    table: dict[str, dict[str, object]] = {}
    for setting, reasons in STRICTNESS_REASONS.items():
        rules = [r for r in MEASURE_RULES if r.reason in reasons]
        levels: dict[str, object] = {}
        for level, budget in STRICTNESS_ALPHA.items():
            pos = np.isin(flaw, list(reasons))
            hit = np.zeros(int((~even).sum()), dtype=bool)
            chosen = {}
            for rule in rules:
                v = np.array([r[2][rule.measure] for r in rows], dtype=np.float64)
                rpos = flaw == rule.reason
                alpha = budget * (0.5 if rule.reason == "overexposed" else 1.0)
                hit |= flags(v[~even], rule.below, threshold(v[even], rpos[even], rule.below,
                                                              alpha))
                chosen[rule.key] = round(threshold(v, rpos, rule.below, alpha), 4)
            p_odd = pos[~even]
            levels[level] = {"thresholds": chosen,
                             "recall": round(float(hit[p_odd].mean()), 3),
                             "false_alarms": round(float(hit[~p_odd].mean()), 3)}
            print(f"{setting:<9} {level:<8} recall {hit[p_odd].mean():6.1%} false alarms "
                  f"{hit[~p_odd].mean():5.1%}  {chosen}")
        table[setting] = levels
    doc = {"source": "python scripts/choose_measure_thresholds.py --levels "
                     f"{out.as_posix()} ({n_photos} food-pairs photos, their damaged copies, "
                     "everyday JPEG re-saves and the yelp-food photos; figures on the "
                     "held-out half)", "settings": table}
    atomic_write_bytes(out, (json.dumps(doc, indent=2) + "\n").encode())
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alpha", type=float, default=0.02)
    ap.add_argument("--limit", type=int, default=0, help="first N photos only (quick look)")
    ap.add_argument("--write", type=Path, help="store the thresholds in this model file")
    ap.add_argument("--levels", type=Path, help="write the strictness levels' table here")
    args = ap.parse_args()
    mf = load_model_file(args.write) if args.write else None  # fail before the long part
    photos = sorted((DATA / "food-pairs" / "images").glob("*.jpg"))
    if args.limit:
        photos = photos[: args.limit]
    rows = [r for i, p in enumerate(photos) for r in rows_for(p, i)]
    if not args.limit:
        rows += yelp_rows(len(photos))
    idx = np.array([r[0] for r in rows])
    flaw = np.array([r[1] or "" for r in rows])
    print(f"{len(photos)} photos, {len(rows)} rows (originals, damaged and re-saved copies, "
          f"yelp-food photos)")
    chosen: dict[str, float] = {}
    for rule in MEASURE_RULES:
        reason, name, below = rule.reason, rule.measure, rule.below
        v = np.array([r[2][name] for r in rows], dtype=np.float64)
        pos = flaw == reason
        even = idx % 2 == 0
        alpha = ALPHA_FOR.get(reason, args.alpha)
        t_half = threshold(v[even], pos[even], below, alpha)
        f = flags(v[~even], below, t_half)
        p_odd = pos[~even]
        tp = int((f & p_odd).sum())
        t_all = threshold(v, pos, below, alpha)
        chosen[rule.key] = t_all
        print(f"{rule.key:<26} threshold {t_all:8.3f} | held-out half: recall "
              f"{tp / max(int(p_odd.sum()), 1):6.1%} false alarms "
              f"{int((f & ~p_odd).sum()) / max(int((~p_odd).sum()), 1):5.1%} "
              f"precision {tp / max(int(f.sum()), 1):6.1%}")
    for reason in sorted({r.reason for r in MEASURE_RULES}):
        pos = flaw == reason
        hit = np.zeros(len(rows), dtype=bool)
        for rule in (r for r in MEASURE_RULES if r.reason == reason):
            v = np.array([r[2][rule.measure] for r in rows], dtype=np.float64)
            hit |= flags(v, rule.below, chosen[rule.key])
        yelp = idx >= len(photos)
        print(f"{reason:<12} any rule: recall {hit[pos].mean():6.1%}, "
              f"false alarms {hit[~pos].mean():5.1%}, on yelp-food photos "
              f"{hit[yelp].mean() if yelp.any() else float('nan'):5.1%}")
    print("thresholds:", {k: round(v, 4) for k, v in chosen.items()})
    if args.levels:
        write_levels(args.levels, rows, len(photos))
    if args.write and mf is not None:
        mf.measure_thresholds = chosen
        save_model_file(args.write, mf)
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
