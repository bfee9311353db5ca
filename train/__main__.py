"""``python -m train``: fit a DCNN head on AVA-format data, evaluate it, export a model file.

    python -m train fit --ava-root ../shared/data/ava-sample --all --out runs/ava85
    python -m train export runs/ava85 --to assets/model.pt
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
import torch

from curator.backbones import DEFAULT_BACKBONE, REGISTRY
from curator.fsutil import atomic_write_bytes
from curator.model import build_dcnn
from curator.modelfile import ModelFile, load_model_file, save_model_file
from curator.progress import ProgressBar
from train import ava
from train.features import ImageFeatures, extract
from train.fit import FeatureSet, HeadTrainConfig, fit_head, kfold_indices, predict, split_indices
from train.metrics import report

log = logging.getLogger(__name__)


class TrainError(RuntimeError):
    """A problem with the user's data or options, shown as one line."""


@dataclass
class FitArgs:
    """Everything a ``fit`` run depends on; saved in its report."""

    ava_root: Path
    images: Path | None
    tag: int | None
    all: bool
    out: Path
    backbone: str
    crops: int
    folds: int
    feature_cache: Path
    head: HeadTrainConfig


def parse_fit(ns: argparse.Namespace) -> FitArgs:
    head = HeadTrainConfig(
        epochs=ns.epochs, lr=ns.lr, weight_decay=ns.weight_decay, hidden=ns.hidden,
        dropout=ns.dropout, loss=ns.loss, seed=ns.seed,
    )
    return FitArgs(
        ava_root=ns.ava_root, images=ns.images, tag=None if ns.all else ns.tag, all=ns.all,
        out=ns.out, backbone=ns.backbone, crops=ns.crops, folds=ns.folds,
        feature_cache=ns.feature_cache or ns.out.parent / ".features", head=head,
    )


def rows(
    feats: list[ImageFeatures], targets: np.ndarray, idx: np.ndarray, augment: bool
) -> FeatureSet:
    """Feature rows for images ``idx``: every (global, local) view pair when augmenting."""
    xs, ys, img = [], [], []
    for i in idx:
        f = feats[i]
        gs = f.global_feat if augment else f.global_feat[:1]
        ls = f.local_feat if augment else f.local_feat[:1]
        for g in gs:
            for loc in ls:
                xs.append(torch.cat([g, loc]))
                ys.append(targets[i])
                img.append(i)
    return FeatureSet(
        torch.stack(xs), torch.tensor(np.stack(ys), dtype=torch.float32), np.asarray(img)
    )


def train_eval(feats: list[ImageFeatures], y: np.ndarray, train_idx: np.ndarray,
               test_idx: np.ndarray | None, cfg: HeadTrainConfig) -> tuple[Any, dict[str, Any]]:
    """Fit on ``train_idx`` (early-stopped on a carved validation part); predict ``test_idx``."""
    keep, val = split_indices(len(train_idx), cfg.val_fraction, cfg.seed)
    head, info = fit_head(
        rows(feats, y, train_idx[keep], augment=True), cfg,
        rows(feats, y, train_idx[val], augment=False) if len(val) else None,
    )
    if test_idx is not None:
        info["pred"] = predict(head, rows(feats, y, test_idx, augment=False).x)
    return head, info


def cmd_fit(a: FitArgs) -> int:
    t0 = time.perf_counter()
    items, rep = ava.read_ava(a.ava_root, a.images)
    if a.tag is not None:
        items = ava.select_tag(items, a.tag)
    what = "all tags" if a.tag is None else f"tag {a.tag}"
    if not items:
        raise TrainError(
            f"0 images in selection ({what}) under {a.ava_root}: {rep.summary()}. "
            "Pick another --tag or use --all."
        )
    if len(items) < max(4, a.folds):
        raise TrainError(f"only {len(items)} images in selection ({what}); need at least "
                         f"{max(4, a.folds)}")
    print(f"{len(items)} images ({what}); {rep.summary()}", file=sys.stderr)

    model = build_dcnn(a.backbone)
    bar = ProgressBar("Features")
    feats_by_id, errors = extract(
        model, a.backbone, [(it.image_id, it.path) for it in items], a.feature_cache,
        a.crops, a.head.seed, bar,
    )
    bar.close()
    items = [it for it in items if it.image_id in feats_by_id]
    feats = [feats_by_id[it.image_id] for it in items]
    y = np.stack([it.distribution for it in items])
    means = y @ np.arange(1, 11)

    folds = kfold_indices(len(items), a.folds, a.head.seed)
    oof = np.zeros_like(y)
    fold_reports = []
    for k, test_idx in enumerate(folds):
        train_idx = np.setdiff1d(np.arange(len(items)), test_idx)
        _, info = train_eval(feats, y, train_idx, test_idx, a.head)
        oof[test_idx] = info["pred"]
        fold_reports.append(report(info["pred"], y[test_idx], float(means[train_idx].mean())))
        print(f"fold {k + 1}/{a.folds}: SRCC {fold_reports[-1]['srcc']:.3f} "
              f"L1 {fold_reports[-1]['l1']:.3f} (naive {fold_reports[-1]['l1_naive']:.3f})",
              file=sys.stderr)
    summary = {
        key: {"mean": float(np.mean([r[key] for r in fold_reports])),
              "sd": float(np.std([r[key] for r in fold_reports]))}
        for key in ("srcc", "plcc", "l1", "l1_naive", "l2", "l2_naive", "emd", "accuracy_at_5",
                    "pred_sd")
    }
    head, final = train_eval(feats, y, np.arange(len(items)), None, a.head)

    data = {
        "source": "AVA-format folder", "ava_root": str(a.ava_root), "selection": what,
        "images": len(items), "skipped": dict(rep.skipped), "unreadable": errors,
        "mean_score": float(means.mean()), "sd_score": float(means.std()),
    }
    metrics = {
        "kfold": {"k": a.folds, "per_fold": fold_reports, "summary": summary,
                  "pooled": report(oof, y, float(means.mean()))},
        "final_fit": {"best_epoch": final["best_epoch"]},
    }
    a.out.mkdir(parents=True, exist_ok=True)
    mf = ModelFile(
        backbone=a.backbone, head_config=head.cfg, head_state=head.state_dict(),
        preprocess=model.pre,
        training={
            "data": data, "method": f"frozen {a.backbone} features, {a.crops} local crops x 2 "
            f"global flips per image, head trained with {a.head.loss.upper()} loss",
            "config": _jsonable(asdict(a)),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
        },
        metrics=metrics,
    )
    save_model_file(a.out / "model.pt", mf)
    rep_doc = {"training": mf.training, "metrics": metrics,
               "curve": final["curve"], "seconds": time.perf_counter() - t0}
    atomic_write_bytes(a.out / "report.json", json.dumps(rep_doc, indent=2).encode())
    s = summary
    print(
        f"k-fold ({a.folds}) SRCC {s['srcc']['mean']:.3f} ± {s['srcc']['sd']:.3f}, "
        f"L1 {s['l1']['mean']:.3f} ± {s['l1']['sd']:.3f} vs naive {s['l1_naive']['mean']:.3f}; "
        f"wrote {a.out / 'model.pt'} and report.json in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )
    return 0


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def cmd_export(run: Path, to: Path) -> int:
    src = run / "model.pt" if run.is_dir() else run
    load_model_file(src)  # refuse to export something curator could not load
    atomic_write_bytes(to, src.read_bytes())
    print(f"exported {src} -> {to}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="train and evaluate a head on AVA-format data")
    f.add_argument("--ava-root", type=Path, required=True, help="folder with AVA.txt")
    f.add_argument("--images", type=Path, help="image folder (default: AVA_ROOT/images)")
    sel = f.add_mutually_exclusive_group()
    sel.add_argument("--tag", type=int, default=ava.FOOD_AND_DRINK,
                     help="semantic tag to select (default 40, Food and Drink)")
    sel.add_argument("--all", action="store_true", help="every image, whatever its tags")
    f.add_argument("--out", type=Path, default=Path("runs/latest"))
    f.add_argument("--backbone", default=DEFAULT_BACKBONE, choices=sorted(REGISTRY))
    f.add_argument("--crops", type=int, default=4, help="local views per image (1 = centre)")
    f.add_argument("--folds", type=int, default=5)
    f.add_argument("--feature-cache", type=Path)
    f.add_argument("--epochs", type=int, default=HeadTrainConfig.epochs)
    f.add_argument("--lr", type=float, default=HeadTrainConfig.lr)
    f.add_argument("--weight-decay", type=float, default=HeadTrainConfig.weight_decay)
    f.add_argument("--hidden", type=int, default=HeadTrainConfig.hidden)
    f.add_argument("--dropout", type=float, default=HeadTrainConfig.dropout)
    f.add_argument("--loss", choices=["emd", "mse"], default="emd")
    f.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("export", help="copy a run's model file where curator loads it")
    e.add_argument("run", type=Path)
    e.add_argument("--to", type=Path, required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if ns.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    try:
        if ns.command == "fit":
            return cmd_fit(parse_fit(ns))
        return cmd_export(ns.run, ns.to)
    except (TrainError, FileNotFoundError) as exc:
        print(f"train: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
