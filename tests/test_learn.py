"""Learn From My Choices: the trainer's pieces, and the dialog through the real child process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from curator.cache import CachedEmbedding, CachedScore, FileKey, ScoreCache
from curator.choices import ChoiceStore
from curator.culling import Flag, Verdict
from curator.groups import EMBED_DIM
from curator.gui.learn import LearnDialog
from curator.personal import PersonalModel, pairwise_agreement
from tests.conftest import make_jpeg
from train.personal import keep_label

DIGEST = "d" * 64


def test_pairwise_agreement_and_labels() -> None:
    assert pairwise_agreement(np.array([3.0, 2.0, 1.0]), np.array([1, 0, 0])) == (1.0, 2)
    assert pairwise_agreement(np.array([1.0, 2.0]), np.array([1, 0])) == (0.0, 1)
    assert pairwise_agreement(np.array([1.0, 1.0]), np.array([1, 0])) == (0.5, 1)
    assert keep_label(Verdict(Flag.PICK, 0)) == 1 and keep_label(Verdict(Flag.REJECT)) == 0
    assert keep_label(Verdict(Flag.NONE, 5)) == 1 and keep_label(Verdict(Flag.NONE, 2)) == 0
    assert keep_label(Verdict(Flag.NONE, 3)) is None


def owner(tmp_path: Path, taste_from_pixels: bool, n: int = 60) -> Path:
    """A cache dir holding n judged photos: their scores, embeddings and the owner's verdicts.

    ``taste_from_pixels``: the owner keeps photos along one embedding direction the bundled
    score knows nothing of; otherwise the owner simply agrees with the bundled score.
    """
    rng = np.random.default_rng(0)
    cache_dir = tmp_path / "cache"
    direction = rng.standard_normal(EMBED_DIM)
    with ScoreCache.in_dir(cache_dir) as cache, ChoiceStore.in_dir(cache_dir) as store:
        for i in range(n):
            p = make_jpeg(tmp_path / "photos" / f"p{i}.jpg", 32, 24, seed=i)
            emb = rng.standard_normal(EMBED_DIM)
            base = float(rng.uniform(4, 7))
            keep = (emb @ direction > 0) if taste_from_pixels else base > 5.5
            key = FileKey.of(p)
            cache.put_many([(key, CachedScore(base, 1.0, (0.1,) * 10, 32, 24, None))], DIGEST)
            unit = (emb / np.linalg.norm(emb)).astype(np.float16)
            cache.put_embeddings([(key, CachedEmbedding(unit, None))], DIGEST)
            store.record(p, Verdict(Flag.PICK if keep else Flag.REJECT, 0), base)
    return cache_dir


def run_dialog(qtbot: Any, tmp_path: Path, cache_dir: Path) -> LearnDialog:
    dlg = LearnDialog(None, cache_dir, DIGEST, tmp_path / "models")
    qtbot.addWidget(dlg)
    dlg.show()
    with qtbot.waitSignal(dlg.finished_training, timeout=120_000) as blocker:
        dlg.train_btn.click()
    assert blocker.args == [True], dlg.log.toPlainText()
    return dlg


def test_learn_dialog_offers_a_better_personal_model(qtbot: Any, tmp_path: Path) -> None:
    dlg = run_dialog(qtbot, tmp_path, owner(tmp_path, taste_from_pixels=True, n=100))
    text = dlg.status.text()
    assert "bundled model agrees with you" in text and "personal model" in text
    assert dlg.outcome is not None
    personal = dlg.outcome["heldout_agreement_personal"]
    bundled = dlg.outcome["heldout_agreement_bundled"]
    assert personal > bundled and personal > 0.65
    assert f"{100 * personal:.0f}%" in text and f"{100 * bundled:.0f}%" in text
    assert dlg.use_btn.isEnabled()
    with qtbot.waitSignal(dlg.personal_ready) as ready:
        dlg.use_btn.click()
    path = Path(ready.args[0])
    pm = PersonalModel.load(path)
    assert pm.base_model == DIGEST and pm.weights.shape == (EMBED_DIM + 1,)
    card = (path.parent / "PERSONAL_CARD.md").read_text()
    assert "Held-out agreement" in card and f"{personal:.3f}" in card
    score = pm.display_score(np.ones(EMBED_DIM, np.float32) / 16, 5.0)
    assert 0.0 <= score <= 100.0
    assert "held back (" in text and " kept, " in text, "the sample size is stated"


def test_learn_dialog_refuses_to_recommend_on_a_few_photos(qtbot: Any, tmp_path: Path) -> None:
    """7 held-back photos cannot show a model is better (the window used to recommend on
    them: "67 % vs 100 %")."""
    dlg = run_dialog(qtbot, tmp_path, owner(tmp_path, taste_from_pixels=True, n=28))
    assert dlg.outcome is not None and not dlg.outcome["enough"]
    assert not dlg.use_btn.isEnabled()
    assert "too few to tell" in dlg.status.text() and "at least 10 kept" in dlg.status.text()
    assert not dlg.log.isVisible(), "the command and raw lines stay behind Details"


def test_learn_dialog_keeps_the_bundled_model_when_not_better(
    qtbot: Any, tmp_path: Path
) -> None:
    dlg = run_dialog(qtbot, tmp_path, owner(tmp_path, taste_from_pixels=False, n=100))
    assert dlg.outcome is not None and dlg.outcome["heldout_agreement_bundled"] == 1.0
    assert not dlg.use_btn.isEnabled()
    assert "keeps the bundled one" in dlg.status.text()


def test_learn_dialog_says_when_there_is_too_little(qtbot: Any, tmp_path: Path) -> None:
    dlg = LearnDialog(None, tmp_path / "empty", DIGEST, tmp_path / "models")
    qtbot.addWidget(dlg)
    with qtbot.waitSignal(dlg.finished_training, timeout=120_000) as blocker:
        dlg.train_btn.click()
    assert blocker.args == [False]
    assert "Cannot train yet" in dlg.status.text()
    assert not dlg.use_btn.isEnabled()
