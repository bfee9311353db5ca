"""``python -m train``: fit a DCNN head, evaluate it honestly, export a model file.

    python -m train fit --ava-root ../shared/data/ava-sample --all --out runs/ava85
    python -m train fit --ava-root AVA --tag 40 --split seed --out runs/food
    python -m train fit --ratings my_photos/ratings.csv --out runs/mine
    python -m train fit --yelp ../shared/data/yelp-food --out runs/yelp
    python -m train fit --labelled my_photos/ --out runs/mine   # good/ + bad/ sub-folders
    python -m train export runs/ava85 --to assets/model.pt
    python -m train extract --ava-root AVA --all --store stores/ava   # or: torchrun ... -m train
    python -m train fit --store stores/ava --out runs/ava                # from the store alone

``--progress json`` prints one JSON object per line on stdout (for the app's Retrain dialog).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from curator.backbones import DEFAULT_BACKBONE, REGISTRY
from curator.fsutil import atomic_write_bytes
from curator.model import build_dcnn
from curator.modelfile import ModelFile, load_model_file, save_model_file
from curator.progress import ProgressBar, format_eta
from curator.reasons import MEASURE_THRESHOLDS
from train import ava
from train.data import Tasks
from train.extract import DistEnv, init_distributed
from train.extract_cmd import add_extract_parser, cmd_extract, open_for_fit
from train.features import extract
from train.finetune import FinetuneConfig, finetune
from train.fit import (
    HeadTrainConfig,
    evaluate,
    fit_head,
    group_folds,
    make_arrays,
    predict,
    predict_outputs,
    refit_score,
    split_indices,
)
from train.plot import write_report_plot
from train.scorefit import fit_score_maps
from train.store import StoreError, StoreFeatures

log = logging.getLogger(__name__)

SPLITS = ("kfold", "seed", "official", "random")


class TrainError(RuntimeError):
    """A problem with the user's data or options, shown as one line."""


@dataclass
class FitArgs:
    """Everything a ``fit`` run depends on; saved in its report and model file."""

    out: Path
    ava_root: Path | None = None
    images: Path | None = None
    tag: int | None = ava.FOOD_AND_DRINK
    id_list: Path | None = None
    split: str = "kfold"
    lists_dir: Path | None = None
    category: str = "fooddrink"
    ratings: list[Path] = field(default_factory=list)
    pairs: list[Path] = field(default_factory=list)
    pairs_images: Path | None = None
    damage_from: list[Path] = field(default_factory=list)
    damage_per_photo: int = 3
    damage_max_photos: int | None = None
    yelp: list[Path] = field(default_factory=list)
    labelled: list[Path] = field(default_factory=list)
    calibration: str = "platt"
    #: Share of photos without a flaw that may be given it (each reason's threshold).
    reason_alpha: float = 0.03
    #: Seed of the fold draw only (default: --seed); features and damage stay the same.
    fold_seed: int | None = None
    backbone: str = DEFAULT_BACKBONE
    crops: int = 4
    folds: int = 5
    feature_cache: Path | None = None
    store: Path | None = None  # a finished ``train extract`` store: features and items
    #: A model file (e.g. the one in use) whose head is also evaluated on every fold's
    #: held-out photos, so the new model is compared with it on the same photos.
    compare_model: Path | None = None
    progress: str = "bar"
    resume: bool = False
    head: HeadTrainConfig = field(default_factory=HeadTrainConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)


class Reporter:
    """Progress for people (stderr bar and lines) or for the app (JSON lines on stdout)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.t0 = time.perf_counter()

    def event(self, kind: str, **data: Any) -> None:
        if self.mode == "json":
            print(json.dumps({"event": kind, "elapsed_s": round(time.perf_counter() - self.t0, 2),
                              **data}), flush=True)

    def say(self, text: str) -> None:
        if self.mode == "json":
            self.event("message", text=text)
        elif self.mode == "bar":
            print(text, file=sys.stderr, flush=True)

    def counter(self, stage: str) -> Any:
        if self.mode == "json":
            last = [0.0]

            def tick(done: int, total: int) -> None:
                now = time.perf_counter()
                if done == total or now - last[0] > 0.5:
                    last[0] = now
                    self.event("progress", stage=stage, done=done, total=total)
            return tick
        return ProgressBar(stage, enabled=None if self.mode == "bar" else False)

    def epochs(self, stage: str) -> Any:
        start = time.perf_counter()
        bar = self.counter(stage)

        def on_epoch(epoch: int, total: int, train_loss: float, val_loss: float | None) -> None:
            if self.mode == "json":
                if epoch % 10 == 0 or epoch == total:
                    rate = epoch / max(time.perf_counter() - start, 1e-9)
                    self.event("epoch", stage=stage, epoch=epoch, epochs=total,
                               train_loss=train_loss, val_loss=val_loss,
                               eta_s=round((total - epoch) / rate, 1))
            else:
                bar(epoch, total)
        on_epoch.close = getattr(bar, "close", lambda: None)  # type: ignore[attr-defined]
        return on_epoch


def build_tasks(a: FitArgs, rep: Reporter) -> tuple[Tasks, dict[str, str], dict[str, Any]]:
    """All training items, the AVA test/train role of each AVA group, and a data description."""
    tasks = Tasks()
    role: dict[str, str] = {}
    desc: dict[str, Any] = {"sources": []}
    if a.ava_root is not None:
        items, read = ava.read_ava(a.ava_root, a.images)
        what = "all tags"
        if a.id_list is not None:
            items = ava.select_ids(items, ava.read_id_list(a.id_list))
            what = f"ids in {a.id_list.name}"
        elif a.tag is not None:
            items = ava.select_tag(items, a.tag)
            what = f"tag {a.tag}"
        if not items:
            raise TrainError(f"0 images in selection ({what}) under {a.ava_root}: "
                             f"{read.summary()}. Pick another --tag or use --all.")
        if a.split in ("seed", "official"):
            train_ids, test_ids = split_lists(a)
            role = {f"ava:{it.image_id}": ("test" if it.image_id in test_ids else "train")
                    for it in items if it.image_id in test_ids | train_ids}
            items = [it for it in items if f"ava:{it.image_id}" in role]
            if not any(r == "test" for r in role.values()):
                raise TrainError(f"none of the selected images is in the {a.split} split's "
                                 "test list")
        tasks.add_ava(items)
        means = [it.mean for it in items]
        desc["sources"].append({"kind": "AVA", "root": str(a.ava_root), "selection": what,
                                "split": a.split, "images": len(items),
                                "skipped": dict(read.skipped),
                                "mean_score": float(np.mean(means)),
                                "sd_score": float(np.std(means))})
        rep.say(f"AVA: {len(items)} images ({what}); {read.summary()}")
    for r in a.ratings:
        before = len(tasks.mean_idx)
        tasks.add_ratings(r)
        desc["sources"].append({"kind": "ratings", "csv": str(r),
                                "photos": len(tasks.mean_idx) - before})
    for y in a.yelp:
        before = len(tasks.bin_idx)
        tasks.add_yelp(y)
        n = len(tasks.bin_idx) - before
        desc["sources"].append({"kind": "post-worthy labels (yelp-food)", "root": str(y),
                                "photos": n,
                                "postworthy": int(sum(tasks.bin_y[before:])),
                                "groups": len(set(tasks.bin_group[before:]))})
    for lab in a.labelled:
        before = len(tasks.bin_idx)
        tasks.add_labelled(lab)
        desc["sources"].append({"kind": "post-worthy labels (labelled folder)",
                                "source": str(lab), "photos": len(tasks.bin_idx) - before,
                                "postworthy": int(sum(tasks.bin_y[before:]))})
    for p in a.pairs:
        before = len(tasks.pair_a)
        tasks.add_pairs(p, a.pairs_images)
        desc["sources"].append({"kind": "crowd pairs", "csv": str(p),
                                "pairs": len(tasks.pair_a) - before})
    groups = tasks.groups_by_path()
    for d in a.damage_from:
        before = len(tasks.pair_a)
        tasks.add_damage(d, a.damage_per_photo, a.head.seed, groups, a.damage_max_photos)
        desc["sources"].append({"kind": "synthetic damage pairs", "folder": str(d),
                                "pairs": len(tasks.pair_a) - before,
                                "per_photo": a.damage_per_photo})
    if not tasks.n_items:
        raise TrainError("no training data: give --ava-root, --ratings, --yelp, --labelled, "
                         "--pairs or --damage-from")
    desc["skipped"] = dict(tasks.skipped)
    rep.say(f"data: {tasks.summary()}")
    return tasks, role, desc


def split_lists(a: FitArgs) -> tuple[set[str], set[str]]:
    """(train ids, test ids) of the named split."""
    if a.split == "seed":
        pkg = resources.files("train") / "splits"
        return (set(ava.read_id_list(Path(str(pkg / "seed_fooddrink_train.txt")))),
                set(ava.read_id_list(Path(str(pkg / "seed_fooddrink_test.txt")))))
    lists = a.lists_dir or (a.ava_root / "aesthetics_image_lists" if a.ava_root else None)
    if lists is None or not (lists / f"{a.category}_train.jpgl").is_file():
        raise TrainError(f"official split needs {a.category}_train.jpgl and _test.jpgl: "
                         "pass --lists-dir (AVA's aesthetics_image_lists folder)")
    return (set(ava.read_id_list(lists / f"{a.category}_train.jpgl")),
            set(ava.read_id_list(lists / f"{a.category}_test.jpgl")))


def assign_folds(
    tasks: Tasks, a: FitArgs, role: dict[str, str]
) -> tuple[dict[str, int], list[int]]:
    """Fold of every group, and which folds are evaluated (all for k-fold, else fold 0)."""
    groups = tasks.groups
    seed = a.head.seed if a.fold_seed is None else a.fold_seed
    if a.split == "kfold":
        if len(set(groups)) < a.folds:
            raise TrainError(f"only {len(set(groups))} independent items; need at least "
                             f"--folds {a.folds}")
        return group_folds(groups, a.folds, seed), list(range(a.folds))
    # One held-out split: AVA by its lists (or seeded 20 % for "random"); other sources 20 %.
    rng_fold = group_folds(groups, 5, seed)
    fold = {g: (0 if rng_fold[g] == 0 else 1) for g in groups}
    for g, r in role.items():
        fold[g] = 0 if r == "test" else 1
    return fold, [0]


def selections(tasks: Tasks, fold_of: dict[str, int], test_fold: int | None,
               include: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks over each task's items (AVA, ratings, pairs, post-worthy labels): in
    ``test_fold`` (include) or not in it."""
    def m(gs: list[str]) -> np.ndarray:
        f = np.asarray([fold_of[g] for g in gs], dtype=np.int64)
        if test_fold is None:
            return np.ones(len(gs), dtype=bool)
        return (f == test_fold) if include else (f != test_fold)
    return m(tasks.dist_group), m(tasks.mean_group), m(tasks.pair_group), m(tasks.bin_group)


def carve_val(masks: tuple[np.ndarray, ...], frac: float, seed: int) -> tuple[tuple, tuple]:
    """Split each selected mask into (fit, validation) parts for early stopping."""
    fit, val = [], []
    for mk in masks:
        idx = np.flatnonzero(mk)
        keep, held = split_indices(len(idx), frac, seed) if len(idx) > 1 else (np.arange(len(idx)),
                                                                                np.arange(0))
        f, v = np.zeros_like(mk), np.zeros_like(mk)
        f[idx[keep]] = True
        v[idx[held]] = True
        fit.append(f)
        val.append(v)
    return tuple(fit), tuple(val)


def _compare_head(a: FitArgs, rep: Reporter) -> Any:
    """The head of ``a.compare_model`` (eval mode), or None when there is none to compare or it
    was trained on another backbone's features (said in the log)."""
    if a.compare_model is None:
        return None
    from curator.modelfile import load_model_file
    from curator.paths import ModelFileError

    try:
        mf = load_model_file(a.compare_model)
    except ModelFileError as exc:
        rep.say(f"not compared with {a.compare_model}: {exc}")
        return None
    if mf.backbone != a.backbone:
        rep.say(f"not compared with {a.compare_model}: it uses {mf.backbone} features, "
                f"this run {a.backbone}")
        return None
    return mf.build(pretrained=False).head.eval().to(a.head.device)


def summarise(fold_reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sd over folds of every numeric metric present."""
    flat: dict[str, list[float]] = {}

    def walk(prefix: str, d: dict[str, Any]) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            elif isinstance(v, int | float):
                flat.setdefault(f"{prefix}{k}", []).append(float(v))
    for r in fold_reports:
        walk("", r)
    return {k: {"mean": float(np.mean(v)), "sd": float(np.std(v)), "folds": len(v)}
            for k, v in flat.items()}


def cmd_fit(a: FitArgs) -> int:
    env = DistEnv.from_environ()  # under torchrun: every rank fits the same heads, rank 0 writes
    distributed = False
    if env.world > 1:
        if a.store is None:
            raise TrainError("under torchrun, extract first (`train extract`) and give --store")
        torch.set_num_threads(env.default_threads())
        a.head.device = str(env.device(a.head.device))
        distributed = init_distributed(env, torch.device(a.head.device))
    try:
        return _fit(a, env.rank, env.world)
    finally:
        if distributed:
            torch.distributed.destroy_process_group()


def _fit(a: FitArgs, rank: int, world: int) -> int:
    main_rank = rank == 0
    rep = Reporter(a.progress if main_rank else "none")
    t0 = time.perf_counter()
    rep.event("start", out=str(a.out))
    if a.store is not None:
        tasks, role, desc, store = open_for_fit(a)
        rep.say(f"store {a.store}: {tasks.summary()}")
    else:
        tasks, role, desc = build_tasks(a, rep)
    fold_of, test_folds = assign_folds(tasks, a, role)
    device = a.head.device
    model = build_dcnn(a.backbone).to(device)
    if a.store is None:
        cache = a.feature_cache or a.out.parent / ".features"
        bar = rep.counter("features")
        store, _ = extract(model, a.backbone, tasks.samples, cache, a.crops, a.head.seed, bar)
        getattr(bar, "close", lambda: None)()
    errors = {s.key: store.errors[s.key] for s in tasks.samples if s.key in store.errors}
    if errors:
        bad = {i for i, smp in enumerate(tasks.samples) if smp.key in errors}
        dropped = tasks.drop_photos(bad)
        rep.say(f"{len(errors)} photo(s) could not be read and {dropped} item(s) using them "
                f"were skipped, e.g. {next(iter(errors))}: {next(iter(errors.values()))}")
        desc["unreadable"] = errors
        desc["skipped"] = dict(tasks.skipped)
        if not tasks.n_items:
            raise TrainError("no readable training photos")
        fold_of, test_folds = assign_folds(tasks, a, role)
    feats = StoreFeatures(store, [s.key for s in tasks.samples])
    a.out.mkdir(parents=True, exist_ok=True)
    dist_mean = (np.asarray(tasks.dist_y).reshape(-1, 10) @ np.arange(1, 11)
                 if tasks.dist_y else np.zeros(0))
    all_means = np.concatenate([dist_mean, np.asarray(tasks.mean_y, dtype=np.float64)])

    def fit_on(train_masks: tuple, stage: str, ckpt: Path) -> tuple[Any, dict[str, Any]]:
        fit_m, val_m = carve_val(train_masks, a.head.val_fraction, a.head.seed)
        on_epoch = rep.epochs(stage)
        head, info = fit_head(make_arrays(feats, tasks, *fit_m), a.head,
                              make_arrays(feats, tasks, *val_m),
                              ckpt if a.resume and main_rank else None,
                              on_epoch)
        on_epoch.close()
        if a.head.score_refit and not a.head.hidden and "postworthy" in head.cfg.outputs:
            info["score_refit"] = refit_score(head, make_arrays(feats, tasks, *train_masks),
                                              a.head)
        return head, info

    compare_head = _compare_head(a, rep)
    fold_reports: list[dict[str, Any]] = []
    out_of_fold: list[dict[str, Any]] = []
    oof_true: list[float] = []
    oof_pred: list[float] = []
    for k in test_folds:
        fold_file = a.out / "folds" / f"fold-{k}.json"
        if a.resume and fold_file.is_file():
            done = json.loads(fold_file.read_text())
        else:
            train_m = selections(tasks, fold_of, k, include=False)
            test_m = selections(tasks, fold_of, k, include=True)
            stage = f"fold {k + 1}/{len(test_folds)}" if a.split == "kfold" else "held-out split"
            (a.out / "folds").mkdir(exist_ok=True)
            head, _ = fit_on(train_m, stage, a.out / "folds" / f"fold-{k}.ckpt")
            train_mean = float(np.mean(all_means[np.concatenate([train_m[0], train_m[1]])])) \
                if len(all_means) else 5.5
            test_arr = make_arrays(feats, tasks, *test_m)
            metrics = evaluate(head, test_arr, train_mean)
            _, pm = predict(head, test_arr)
            outs = predict_outputs(head, test_arr)
            done = {"fold": k, "metrics": metrics,
                    "true": test_arr.dist_y.numpy().dot(np.arange(1, 11)).tolist(),
                    "pred": pm[test_arr.dist_idx.numpy()].tolist(),
                    # Out-of-fold outputs: the calibration and reason thresholds are fitted
                    # on these (photos the fold's head never saw).
                    "bin_logit": (outs["postworthy"][test_arr.bin_idx.numpy()].tolist()
                                  if "postworthy" in outs else []),
                    "bin_y": test_arr.bin_y.tolist(),
                    "reason_logits": {n: v.tolist() for n, v in outs.items()
                                      if n.startswith("reason:")},
                    "reason_y": test_arr.reason_y.tolist()}
            if compare_head is not None:  # the same held-out photos, the other model's head
                done["compare"] = evaluate(compare_head, test_arr, train_mean)
            if main_rank:
                atomic_write_bytes(fold_file, json.dumps(done).encode())
        fold_reports.append(done["metrics"])
        out_of_fold.append(done)
        oof_true += done["true"]
        oof_pred += done["pred"]
        rep.event("fold", fold=k, metrics=done["metrics"])
        rep.say(f"fold {k + 1}: " + brief(done["metrics"]))

    summary = summarise(fold_reports)
    compared = [d["compare"] for d in out_of_fold if "compare" in d]
    compare_summary = summarise(compared) if compared else None
    calibration, reason_thresholds, score_doc = fold_oof_maps(a, out_of_fold)
    for line in score_doc.get("lines", []):
        rep.say(line)
    all_items = selections(tasks, fold_of, None, include=False)
    head, final = fit_on(all_items, "final fit", a.out / "final.ckpt")
    backbone_state = None
    ft_info: dict[str, Any] | None = None
    if a.finetune.blocks > 0:
        model.head = head  # the trained head, whatever its size
        fit_m, val_m = carve_val(all_items, a.head.val_fraction, a.head.seed)
        bar = rep.counter("fine-tuning")
        ft_info = finetune(model, tasks, fit_m, val_m, a.head, a.finetune, bar,
                           a.out / "finetune.ckpt", rank, world, resume=a.resume)
        getattr(bar, "close", lambda: None)()
        rep.say(f"fine-tuning: validation loss {ft_info['val_loss_before']:.4f} -> "
                f"{ft_info['val_loss_after']:.4f} "
                f"({'kept' if ft_info['kept'] else 'discarded: the frozen backbone stays'})")
        if ft_info["kept"]:
            head = model.head
            backbone_state = model.backbone.state_dict()
    method = (f"frozen {a.backbone} features; {a.crops} local crops x 2 global views per photo, "
              "one combination sampled per epoch; head trained with "
              + " + ".join(k for k, w in [("EMD on AVA votes", a.head.w_dist if tasks.dist_idx
                                           else 0),
                                          ("MSE on ratings", a.head.w_mean if tasks.mean_idx
                                           else 0),
                                          ("logistic crowd-pair loss", a.head.w_crowd),
                                          ("logistic damage-pair loss", a.head.w_damage),
                                          ("logistic loss on post-worthy labels",
                                           a.head.w_binary if tasks.bin_idx else 0),
                                          ("logistic loss per reason on damaged copies",
                                           a.head.w_reasons if tasks.pair_a else 0)] if w)
              + (f"; evaluated by {a.folds}-fold cross-validation over independent items"
                 if a.split == "kfold" else f"; evaluated on the {a.split} split's test part"))
    if ft_info is not None and ft_info["kept"]:
        method += (f"; then the backbone's last {a.finetune.blocks} blocks fine-tuned end to end "
                   f"for {a.finetune.steps} steps (the k-fold figures are for the frozen head)")
    metrics_doc = {"evaluation": a.split, "folds": fold_reports, "summary": summary,
                   "pooled_ava": pooled(oof_true, oof_pred),
                   "final_fit": {"best_epoch": final["best_epoch"]},
                   "score": {k: v for k, v in score_doc.items() if k != "lines"}}
    if compare_summary is not None:
        metrics_doc["compare"] = {"model": str(a.compare_model), "summary": compare_summary}
    if ft_info is not None:
        metrics_doc["finetune"] = ft_info
    mf = ModelFile(
        backbone=a.backbone, head_config=head.cfg, head_state=head.state_dict(),
        preprocess=model.pre,
        training={"data": desc, "method": method, "config": _jsonable(asdict(a)),
                  "created": datetime.now(UTC).isoformat(timespec="seconds"),
                  "command": "python -m train " + " ".join(sys.argv[1:])},
        metrics=metrics_doc,
        backbone_state=backbone_state,
        calibration=calibration if "postworthy" in head.cfg.outputs else None,
        reason_thresholds={k: v for k, v in reason_thresholds.items()
                           if f"reason:{k}" in head.cfg.outputs},
        # Not learned: chosen once on food-pairs photos (scripts/choose_measure_thresholds.py).
        measure_thresholds=dict(MEASURE_THRESHOLDS),
    )
    if not main_rank:
        return 0
    save_model_file(a.out / "model.pt", mf)
    atomic_write_bytes(a.out / "report.json", json.dumps(
        {"training": mf.training, "metrics": metrics_doc, "curve": final["curve"],
         "seconds": time.perf_counter() - t0}, indent=2).encode())
    write_report_plot(a.out / "report.svg", final["curve"], oof_true, oof_pred)
    for ck in [a.out / "final.ckpt", a.out / "finetune.ckpt", *(a.out / "folds").glob("*.ckpt")]:
        ck.unlink(missing_ok=True)
    rep.say(f"summary: {brief_summary(summary)}; wrote {a.out / 'model.pt'}, report.json, "
            f"report.svg in {format_eta(time.perf_counter() - t0)}")
    rep.event("done", model=str(a.out / "model.pt"), summary=summary,
              **({"compare": compare_summary} if compare_summary is not None else {}))
    return 0


def fold_oof_maps(a: FitArgs, folds: list[dict[str, Any]]) -> tuple[Any, dict[str, float],
                                                                   dict[str, Any]]:
    """Calibration and reason thresholds from every fold's out-of-fold outputs (see
    ``train.scorefit``); (None, {}, {}) when the folds carry none."""
    if len(folds) < 2:
        return None, {}, {}
    return fit_score_maps(folds, a.calibration, a.reason_alpha)


def pooled(true: list[float], pred: list[float]) -> dict[str, float]:
    from train import metrics as m

    if len(true) < 2:
        return {}
    t, p = np.asarray(true), np.asarray(pred)
    return {"n": float(len(t)), "srcc": m.srcc(p, t), "plcc": m.plcc(p, t), "l1": m.l1(p, t)}


def brief(metrics: dict[str, Any]) -> str:
    parts = []
    if "ava" in metrics:
        r = metrics["ava"]
        parts.append(f"AVA SRCC {r['srcc']:.3f} L1 {r['l1']:.3f} (naive {r['l1_naive']:.3f})")
    if "ratings" in metrics:
        r = metrics["ratings"]
        parts.append(f"ratings SRCC {r['srcc']:.3f} L1 {r['l1']:.3f} (naive {r['l1_naive']:.3f})")
    if "crowd" in metrics:
        parts.append(f"crowd agreement {metrics['crowd']['weighted_agreement']:.1%} weighted")
    if "damage" in metrics:
        parts.append(f"damage pairs {metrics['damage']['accuracy']:.1%}")
    if "postworthy" in metrics:
        r = metrics["postworthy"]
        parts.append(f"post-worthy AUC {r['auc']:.3f}, top 10 % {r['top10']:.0%}")
    return "; ".join(parts)


def brief_summary(s: dict[str, Any]) -> str:
    keys = [("ava.srcc", "AVA SRCC"), ("ava.l1", "L1"), ("ava.l1_naive", "naive L1"),
            ("ratings.srcc", "ratings SRCC"), ("crowd.weighted_agreement", "crowd"),
            ("damage.accuracy", "damage"), ("postworthy.auc", "post-worthy AUC"),
            ("postworthy.top10", "top-10 % post-worthy")]
    return ", ".join(
        f"{label} {s[k]['mean']:.3f} ± {s[k]['sd']:.3f}" for k, label in keys if k in s
    )


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
    f = sub.add_parser("fit", help="train and evaluate a head")
    src = f.add_argument_group("data")
    src.add_argument("--ava-root", type=Path, help="folder with AVA.txt (images in ./images)")
    src.add_argument("--images", type=Path, help="AVA image folder (default: AVA_ROOT/images)")
    sel = src.add_mutually_exclusive_group()
    sel.add_argument("--tag", type=int, default=ava.FOOD_AND_DRINK,
                     help="AVA semantic tag (default 40, Food and Drink)")
    sel.add_argument("--all", action="store_true", help="every AVA image, whatever its tags")
    sel.add_argument("--list", type=Path, dest="id_list", help="an id list (.jpgl) to select")
    src.add_argument("--split", choices=SPLITS, default="kfold",
                     help="kfold (default), seed (the study's 4,400/600 resplit), official "
                          "(CATEGORY_train/test.jpgl), random (seeded 80/20)")
    src.add_argument("--lists-dir", type=Path, help="AVA's aesthetics_image_lists folder")
    src.add_argument("--category", default="fooddrink", help="official list name (fooddrink)")
    src.add_argument("--ratings", type=Path, action="append", default=[],
                     help="CSV of path,score (1-10) or path,stars (1-5); repeatable")
    src.add_argument("--pairs", type=Path, action="append", default=[],
                     help="CSV of image_1,image_2,p_image1_preferred; repeatable")
    src.add_argument("--pairs-images", type=Path, help="images of --pairs (default: ./images)")
    src.add_argument("--damage-from", type=Path, action="append", default=[],
                     help="folder of photos to learn 'original beats damaged copy' from")
    src.add_argument("--damage-per-photo", type=int, default=3)
    src.add_argument("--damage-max-photos", type=int,
                     help="damage only the first N photos of each --damage-from folder")
    src.add_argument("--yelp", type=Path, action="append", default=[],
                     help="yelp-food folder (labels.csv: file,postworthy,restaurant; images/): "
                          "post-worthy labels, folds grouped by restaurant; repeatable")
    src.add_argument("--labelled", type=Path, action="append", default=[],
                     help="your own verdicts: a folder with good/ + bad/ (or keep/ + reject/) "
                          "sub-folders, or a CSV of path,label; repeatable")
    src.add_argument("--calibration", choices=["platt", "isotonic"], default="platt",
                     help="map from the post-worthy logit to the 0-100 score (default platt)")
    src.add_argument("--reason-alpha", type=float, default=0.03,
                     help="share of photos without a flaw allowed to get it (threshold)")
    f.add_argument("--out", type=Path, default=Path("runs/latest"))
    f.add_argument("--backbone", default=DEFAULT_BACKBONE, choices=sorted(REGISTRY))
    f.add_argument("--crops", type=int, default=4, help="local views per image (1 = centre)")
    f.add_argument("--folds", type=int, default=5)
    f.add_argument("--feature-cache", type=Path,
                   help="folder for this selection's feature store (default: OUT/../.features)")
    f.add_argument("--compare-model", type=Path, metavar="FILE",
                   help="also evaluate this model file's head on every fold's held-out photos "
                        "(same backbone), for a comparison on the same photos")
    f.add_argument("--store", type=Path,
                   help="train from a `train extract` store alone (its selection, no photos)")
    d = HeadTrainConfig()
    f.add_argument("--epochs", type=int, default=d.epochs)
    f.add_argument("--patience", type=int, default=d.patience)
    f.add_argument("--lr", type=float, default=d.lr)
    f.add_argument("--weight-decay", type=float, default=d.weight_decay)
    f.add_argument("--hidden", type=int, default=d.hidden, help="hidden units; 0 = linear head")
    f.add_argument("--dropout", type=float, default=d.dropout)
    f.add_argument("--l2", type=float, default=d.l2,
                   help="ridge penalty on the head's feature weights; 0 = off")
    f.add_argument("--w-crowd", type=float, default=d.w_crowd, help="crowd-pair loss weight")
    f.add_argument("--w-damage", type=float, default=d.w_damage, help="damage-pair loss weight")
    f.add_argument("--w-dist", type=float, default=d.w_dist, help="AVA EMD loss weight")
    f.add_argument("--w-spread", type=float, default=d.w_spread,
                   help="weight keeping unvoted photos' predicted spread AVA-like")
    f.add_argument("--seed", type=int, default=d.seed)
    f.add_argument("--fold-seed", type=int,
                   help="seed of the fold draw only (default --seed); features are reused")
    f.add_argument("--w-binary", type=float, default=d.w_binary,
                   help="post-worthy label loss weight")
    f.add_argument("--w-reasons", type=float, default=d.w_reasons, help="reason heads' weight")
    f.add_argument("--w-score-crowd", type=float, default=d.w_score_crowd,
                   help="crowd-pair loss weight on the post-worthy logit")
    f.add_argument("--w-score-damage", type=float, default=d.w_score_damage,
                   help="damage-pair loss weight on the post-worthy logit")
    f.add_argument("--score-refit", action="store_true",
                   help="after the head, refit the post-worthy row alone as a convex logistic "
                        "regression on the inference views (see --score-c/-crowd/-damage)")
    f.add_argument("--score-c", type=float, default=d.score_c,
                   help="inverse L2 penalty of the post-worthy refit (scikit-learn C)")
    f.add_argument("--score-crowd", type=float, default=d.score_crowd,
                   help="crowd pairs' total weight in the refit, x the labelled photos")
    f.add_argument("--score-damage", type=float, default=d.score_damage,
                   help="damage pairs' total weight in the refit, x the labelled photos")
    f.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    f.add_argument("--finetune", type=int, default=0, metavar="N",
                   help="after the head, fine-tune the backbone's last N blocks on the photos "
                        "(slow on CPU; meant for a GPU)")
    f.add_argument("--finetune-steps", type=int, default=FinetuneConfig.steps)
    f.add_argument("--finetune-batch", type=int, default=FinetuneConfig.batch,
                   help="items per process per step (N processes: a global batch of N x this)")
    f.add_argument("--finetune-lr", type=float, default=FinetuneConfig.lr)
    f.add_argument("--progress", choices=["bar", "json", "none"], default="bar")
    f.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out (same options)")
    add_extract_parser(sub, src)
    e = sub.add_parser("export", help="copy a run's model file where curator loads it")
    e.add_argument("run", type=Path)
    e.add_argument("--to", type=Path, required=True)
    return p


def parse_fit(ns: argparse.Namespace) -> FitArgs:
    device = ns.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    head = HeadTrainConfig(epochs=ns.epochs, patience=ns.patience, lr=ns.lr,
                           weight_decay=ns.weight_decay, hidden=ns.hidden, dropout=ns.dropout,
                           w_crowd=ns.w_crowd, w_damage=ns.w_damage, w_dist=ns.w_dist,
                           w_spread=ns.w_spread, l2=ns.l2, w_binary=ns.w_binary,
                           w_reasons=ns.w_reasons, w_score_crowd=ns.w_score_crowd,
                           w_score_damage=ns.w_score_damage, score_refit=ns.score_refit,
                           score_c=ns.score_c, score_crowd=ns.score_crowd,
                           score_damage=ns.score_damage,
                           seed=ns.seed, device=device)
    return FitArgs(out=ns.out, ava_root=ns.ava_root, images=ns.images,
                   tag=None if (ns.all or ns.id_list) else ns.tag, id_list=ns.id_list,
                   split=ns.split, lists_dir=ns.lists_dir, category=ns.category,
                   ratings=ns.ratings, pairs=ns.pairs, pairs_images=ns.pairs_images,
                   damage_from=ns.damage_from, damage_per_photo=ns.damage_per_photo,
                   damage_max_photos=ns.damage_max_photos,
                   yelp=ns.yelp, labelled=ns.labelled, calibration=ns.calibration,
                   reason_alpha=ns.reason_alpha, fold_seed=ns.fold_seed,
                   backbone=ns.backbone, crops=ns.crops, folds=ns.folds,
                   feature_cache=ns.feature_cache, store=ns.store, progress=ns.progress,
                   compare_model=ns.compare_model,
                   resume=ns.resume,
                   head=head, finetune=FinetuneConfig(ns.finetune, ns.finetune_steps,
                                                      ns.finetune_batch, ns.finetune_lr))


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if ns.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if ns.command == "fit":
            return cmd_fit(parse_fit(ns))
        if ns.command == "extract":
            parser = build_parser()
            defaults = parser.parse_args(["fit"])
            return cmd_extract(ns, defaults, parse_fit, build_tasks, Reporter)
        return cmd_export(ns.run, ns.to)
    except (TrainError, StoreError, FileNotFoundError, ValueError) as exc:
        if getattr(ns, "progress", "bar") == "json":
            print(json.dumps({"event": "error", "message": str(exc)}), flush=True)
        print(f"train: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ntrain: interrupted; rerun with --resume to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
