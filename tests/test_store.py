"""The sharded feature store, the extract stage, and the same answers from 1 and 2 processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from curator.model import build_dcnn
from curator.modelfile import load_model_file
from tests.test_train import random_ava
from train import ava
from train.__main__ import main as train_main
from train.data import Tasks
from train.extract import ExtractConfig, extract_store
from train.features import Sample, views_for
from train.finetune import FinetuneConfig, finetune
from train.fit import HeadTrainConfig
from train.store import FeatureStore, StoreError
from train.taskfile import tasks_from_dict, tasks_to_dict

REPO = Path(__file__).resolve().parents[1]
BACKBONE = "efficientnet-lite0-ml"


class Interrupt(Exception):
    pass


def _samples(root: Path) -> list[Sample]:
    tasks = Tasks()
    tasks.add_ava(ava.read_ava(root)[0])
    return tasks.samples


def test_store_writes_shards_resumes_and_memory_maps(tmp_path: Path) -> None:
    root = random_ava(tmp_path / "ava", [str(100 + i) for i in range(7)], seed=0)
    samples = _samples(root)
    (root / "images" / "103.jpg").write_bytes(b"not a jpeg")  # one unreadable photo
    model = build_dcnn(BACKBONE)
    # 2 photos per shard (1 crop: 3 views x 3,088 float16 = 18.5 kB per photo): 4 shards.
    cfg = ExtractConfig(crops=1, seed=0, shard_mb=0.04, batch=2, workers=0)
    seen: list[int] = []

    def stop_after_three(done: int, total: int) -> None:
        seen.append(done)
        if done == 3:
            raise Interrupt

    store_dir = tmp_path / "store"
    with pytest.raises(Interrupt):
        extract_store(model, BACKBONE, samples, store_dir, cfg, stop_after_three)
    assert not (store_dir / "manifest.json").exists()
    with pytest.raises(StoreError, match="not a finished feature store"):
        FeatureStore(store_dir)
    assert sorted(p.name for p in store_dir.glob("shard-*.npy")) == ["shard-00000.npy"]
    first = (store_dir / "shard-00000.npy").stat().st_mtime_ns
    res = extract_store(model, BACKBONE, samples, store_dir, cfg)
    assert (res.skipped, res.written, res.photos) == (1, 3, 5)  # the finished shard kept
    assert (store_dir / "shard-00000.npy").stat().st_mtime_ns == first

    store = FeatureStore(store_dir)
    assert len(store.manifest["shards"]) == 4 and len(store) == 6
    assert list(store.errors) == [s.key for s in samples if s.path.name == "103.jpg"]
    assert all(isinstance(a, np.memmap) for a in store._arrays)  # opened without reading
    raw = len(store) * store.config.row_bytes
    disk = sum(p.stat().st_size for p in store_dir.glob("shard-*"))
    assert store.nbytes <= disk <= 1.1 * raw
    # Rows are the backbone's features of the photo's views, in float16.
    s = samples[4]
    with torch.inference_mode():
        want = model.embed(torch.from_numpy(views_for(s, model.pre, 1, 0))).numpy()
    np.testing.assert_allclose(store.row(s.key).astype(np.float32), want, rtol=2e-3, atol=2e-3)
    g, loc = store.take([samples[5].key, s.key])
    assert g.shape == (2, 2, 3088) and loc.shape == (2, 1, 3088) and g.dtype == torch.float32
    assert torch.equal(g[1], store[s.key].global_feat)
    # Another selection in the same folder is refused, not mixed in.
    with pytest.raises(StoreError, match="another selection"):
        extract_store(model, BACKBONE, samples[:3], store_dir, cfg)


def test_tasks_round_trip_through_json(tmp_path: Path) -> None:
    root = random_ava(tmp_path / "ava", ["1", "2", "3"], seed=1)
    t = Tasks()
    t.add_ava(ava.read_ava(root)[0])
    t.add_damage(root / "images", 2, seed=0, group_of=t.groups_by_path())
    back = tasks_from_dict(json.loads(json.dumps(tasks_to_dict(t))))
    assert back.samples == t.samples and back.pair_kind == t.pair_kind
    assert back.pair_group == t.pair_group and back.pair_a == t.pair_a
    np.testing.assert_array_equal(np.asarray(back.dist_y), np.asarray(t.dist_y))
    assert back.photo(t.samples[0].path) == 0  # the key index is rebuilt


def _ft_tasks(root: Path) -> tuple[Tasks, tuple, tuple]:
    t = Tasks()
    t.add_ava(ava.read_ava(root)[0])
    n = len(t.dist_idx)
    train = np.arange(n) < n - 1
    none = np.zeros(0, dtype=bool)
    return t, (train, none, none), (~train, none, none)


def test_interrupted_finetune_resumes_to_the_same_weights(tmp_path: Path) -> None:
    root = random_ava(tmp_path / "ava", [str(i) for i in range(6)], seed=2)
    tasks, train_m, val_m = _ft_tasks(root)
    # No validation items: the tuned weights are then always kept, so "it did train" below
    # does not hang on whether 3 tiny steps happened to lower a 1-photo validation loss.
    val_m = tuple(np.zeros_like(m) for m in val_m)
    cfg = HeadTrainConfig(l2=1.0)
    ft = FinetuneConfig(blocks=1, steps=3, batch=1, lr=1e-3, ckpt_every=1, workers=0)

    def fresh() -> torch.nn.Module:
        torch.manual_seed(0)
        return build_dcnn("efficientnet-lite0")

    def tuned(ckpt: Path | None, stop: int | None = None) -> dict[str, torch.Tensor]:
        model = fresh()

        def prog(step: int, total: int) -> None:
            if step == stop:
                raise Interrupt
        info = finetune(model, tasks, train_m, val_m, cfg, ft, prog, ckpt)
        assert info["steps"] == 3
        return model.state_dict()

    whole = tuned(None)
    ckpt = tmp_path / "ft.ckpt"
    with pytest.raises(Interrupt):
        tuned(ckpt, stop=2)
    assert torch.load(ckpt, weights_only=True)["step"] == 2
    resumed = tuned(ckpt)
    start = fresh().state_dict()
    for k, v in whole.items():
        torch.testing.assert_close(resumed[k], v, rtol=1e-5, atol=1e-6, msg=k)
    assert any(not torch.equal(v, start[k]) for k, v in whole.items())  # it did train


def _run(cmd: list[str], procs: int = 1) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    if procs > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={procs}", "-m", "train", *cmd]
    else:
        cmd = [sys.executable, "-m", "train", *cmd]
    got = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1500)
    assert got.returncode == 0, got.stderr[-3000:]
    return got.stderr


@pytest.mark.slow
def test_torchrun_two_processes_give_the_one_process_answer(tmp_path: Path) -> None:
    """Features, the fitted head and a DDP fine-tune: 2 gloo processes == 1 process."""
    root = random_ava(tmp_path / "ava", [str(200 + i) for i in range(8)], seed=3)
    data = ["--ava-root", str(root), "--all", "--crops", "2", "--shard-mb", "0.05",
            "--workers", "1", "--progress", "none"]
    # 1 thread per process in both runs: the same float32 arithmetic, so equality is exact.
    _run(["extract", *data, "--threads", "1", "--store", str(tmp_path / "s1")])
    _run(["extract", *data, "--store", str(tmp_path / "s2")], procs=2)
    s1, s2 = FeatureStore(tmp_path / "s1"), FeatureStore(tmp_path / "s2")
    assert len(s1.manifest["shards"]) == 4 and s1.manifest["shards"] == s2.manifest["shards"]
    assert sorted(s1) == sorted(s2) and len(s1) == 8
    for k in s1:
        np.testing.assert_array_equal(s2.row(k), s1.row(k), err_msg=k)
    # The photos go: fit works from the store alone, and both stores fit the same head.
    shutil.rmtree(root / "images")
    heads = []
    fit = ["--folds", "2", "--epochs", "40", "--progress", "none"]
    for s in ("s1", "s2"):
        assert train_main(["fit", "--store", str(tmp_path / s), "--out",
                           str(tmp_path / f"run-{s}"), *fit]) == 0
        heads.append(load_model_file(tmp_path / f"run-{s}" / "model.pt").head_state)
        report = json.loads((tmp_path / f"run-{s}" / "report.json").read_text())
        assert report["training"]["data"]["sources"][0]["images"] == 8
    for k, v in heads[0].items():
        torch.testing.assert_close(heads[1][k], v, rtol=1e-5, atol=1e-6, msg=k)
    # DDP fine-tuning: 2 processes x batch 2 == 1 process x batch 4 (needs the photos again).
    random_ava(tmp_path / "ava", [str(200 + i) for i in range(8)], seed=3)
    ft = [*fit, "--finetune", "1", "--finetune-steps", "2", "--finetune-lr", "1e-3"]
    _run(["fit", "--store", str(tmp_path / "s1"), "--out", str(tmp_path / "ft1"), *ft,
          "--finetune-batch", "4"])
    _run(["fit", "--store", str(tmp_path / "s1"), "--out", str(tmp_path / "ft2"), *ft,
          "--finetune-batch", "2"], procs=2)
    m1, m2 = (load_model_file(tmp_path / r / "model.pt") for r in ("ft1", "ft2"))
    f1, f2 = m1.metrics["finetune"], m2.metrics["finetune"]
    assert (f1["processes"], f2["processes"]) == (1, 2)
    assert f2["val_loss_before"] == pytest.approx(f1["val_loss_before"], rel=1e-4)
    assert f2["val_loss_after"] == pytest.approx(f1["val_loss_after"], rel=1e-4)
    assert f1["val_loss_after"] != f1["val_loss_before"]  # the backbone did change
    assert f1["kept"] == f2["kept"]
    if f1["kept"]:
        assert m1.backbone_state is not None and m2.backbone_state is not None
        for k, v in m1.backbone_state.items():
            torch.testing.assert_close(m2.backbone_state[k], v, rtol=1e-4, atol=1e-5, msg=k)


def test_seed_split_through_extract_and_fit_store_matches_one_command_fit(
        tmp_path: Path) -> None:
    from tests.test_train_data import _seed_ids

    train_ids, test_ids = _seed_ids()
    root = random_ava(tmp_path / "ava", train_ids[:8] + test_ids[:4], seed=1)
    data = ["--ava-root", str(root), "--split", "seed", "--crops", "1"]
    fit = ["--epochs", "20", "--progress", "none"]
    assert train_main(["fit", *data, *fit, "--out", str(tmp_path / "one")]) == 0
    assert train_main(["extract", *data, "--workers", "0", "--progress", "none",
                       "--store", str(tmp_path / "store")]) == 0
    # Data options belong to extract: fit --store refuses them.
    assert train_main(["fit", "--store", str(tmp_path / "store"), "--ratings", "x.csv",
                       "--out", str(tmp_path / "bad")]) == 1
    assert train_main(["fit", "--store", str(tmp_path / "store"), *fit,
                       "--out", str(tmp_path / "two")]) == 0
    one, two = (json.loads((tmp_path / r / "report.json").read_text())["metrics"]
                for r in ("one", "two"))
    assert two["evaluation"] == "seed" and two["folds"][0]["ava"]["n"] == 4.0
    assert two["folds"] == one["folds"]
