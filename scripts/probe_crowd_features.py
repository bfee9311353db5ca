"""Which backbone features can predict the crowd's food-photo preferences at all?

A probe, not the product's training: for the 590 photos of ``../shared/data/food-pairs`` it
extracts the global view and the centre crop (as ``curator`` does) through the frozen
backbone, then fits a linear pairwise logistic model on the 295 pairs alone (soft targets =
the share of voters preferring each photo, L2 penalty ``lam``) and prints the
margin-weighted agreement on held-out pairs, 5-fold, repeated with 10 fold draws.

    python scripts/probe_crowd_features.py                     # lite0: last layer vs multi-level
    python scripts/probe_crowd_features.py --backbone efficientnet-lite0-ml --lams 10,30

It is how the multi-level features (backbone ``efficientnet-lite0-ml``) were chosen:
last-layer 0.66-0.72, multi-level 0.73-0.78 over the same penalties (MODEL_CARD.md).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curator.model import build_dcnn  # noqa: E402
from train.features import Sample, make_views  # noqa: E402
from train.metrics import pair_agreement  # noqa: E402

PAIRS = REPO.parent / "shared" / "data" / "food-pairs"


def features(backbone: str, files: list[str]) -> np.ndarray:
    """(N, 2 * D): global view and centre crop features of each photo."""
    model = build_dcnn(backbone).eval()
    out = []
    t0 = time.perf_counter()
    with torch.inference_mode():
        for name in files:
            views = make_views(Sample(name, PAIRS / "images" / name), model, crops=1, seed=0)
            f = model.embed(torch.from_numpy(views[[0, 2]]))  # global view, centre crop
            out.append(f.float().reshape(-1).numpy())
    print(f"{backbone}: {len(files)} photos in {time.perf_counter() - t0:.1f} s", flush=True)
    return np.stack(out)


def fit_pairs(z: torch.Tensor, a: np.ndarray, b: np.ndarray, p: np.ndarray,
              lam: float) -> torch.Tensor:
    """Weights w minimising soft logistic loss on w.(z_a - z_b) + lam * |w|^2 (L-BFGS)."""
    d = z[a] - z[b]
    t = torch.tensor(p, dtype=torch.float32)
    w = torch.zeros(z.shape[1], requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(d @ w, t) + lam * w.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach()


def probe(x: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray, lam: float,
          draws: int) -> tuple[float, float]:
    """Mean and sd over fold draws of the pooled out-of-fold margin-weighted agreement."""
    got = []
    for draw in range(draws):
        folds = np.array_split(np.random.default_rng(draw).permutation(len(p)), 5)
        sa, sb = np.zeros(len(p)), np.zeros(len(p))
        for k, test in enumerate(folds):
            train = np.concatenate([f for j, f in enumerate(folds) if j != k])
            seen = np.concatenate([a[train], b[train]])
            mu, sd = x[seen].mean(0), x[seen].std(0) + 1e-6
            z = torch.tensor((x - mu) / sd, dtype=torch.float32)
            w = fit_pairs(z, a[train], b[train], p[train], lam)
            sa[test], sb[test] = (z[a[test]] @ w).numpy(), (z[b[test]] @ w).numpy()
        got.append(pair_agreement(sa, sb, p)[0])
    return float(np.mean(got)), float(np.std(got))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backbone", action="append",
                    help="repeatable (default: efficientnet-lite0 and efficientnet-lite0-ml)")
    ap.add_argument("--lams", default="0.3,1,3,10,30", help="L2 penalties, comma-separated")
    ap.add_argument("--draws", type=int, default=10, help="5-fold assignments to average")
    args = ap.parse_args()
    torch.set_num_threads(2)
    rows = list(csv.DictReader((PAIRS / "pairs.csv").open()))
    files = sorted({r[k] for r in rows for k in ("image_1", "image_2")})
    pos = {f: i for i, f in enumerate(files)}
    a = np.array([pos[r["image_1"]] for r in rows])
    b = np.array([pos[r["image_2"]] for r in rows])
    p = np.array([float(r["p_image1_preferred"]) for r in rows])
    for backbone in args.backbone or ["efficientnet-lite0", "efficientnet-lite0-ml"]:
        x = features(backbone, files)
        for lam in (float(v) for v in args.lams.split(",")):
            mean, sd = probe(x, a, b, p, lam, args.draws)
            print(f"{backbone:24s} lam={lam:<6g} crowd agreement {mean:.3f} ± {sd:.3f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
