"""The double-column CNN (DCNN): global + local view through one backbone, then a small head.

Shared with ``train``.  The head predicts AVA's 10-bin vote distribution rather than a single
number, so every score comes with its spread (NIMA-style), and a collapsed head is visible.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from curator.backbones import build_backbone, get_spec
from curator.preprocess import Preprocess

log = logging.getLogger(__name__)

BINS = 10  # AVA votes 1..10
SCORE_RANGE = (1.0, 10.0)
CPU_VIEW_CHUNK = 4


@dataclass(frozen=True)
class HeadConfig:
    """Shape of the regression head; stored in the model file."""

    in_features: int
    hidden: int = 128
    bins: int = BINS
    dropout: float = 0.2
    #: Names of extra logits after the ``bins`` vote logits, read from the same features by
    #: the same last layer (so they cost no second pass): ``"postworthy"`` (the log-odds that
    #: a food-photo editor would post the photo) and ``"reason:<key>"`` (log-odds that the
    #: photo shows flaw ``<key>``, see ``curator.reasons``).  Empty in older model files.
    outputs: tuple[str, ...] = ()

    @property
    def n_outputs(self) -> int:
        """Width of the last layer: vote bins plus the named extra logits."""
        return self.bins + len(self.outputs)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["outputs"] = list(self.outputs)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HeadConfig:
        return cls(
            in_features=int(d["in_features"]),
            hidden=int(d["hidden"]),
            bins=int(d["bins"]),
            dropout=float(d["dropout"]),
            outputs=tuple(str(o) for o in d.get("outputs", ())),
        )


class Head(nn.Module):
    """The seed's head shape (BN before each FC, dropout before the first), ending in 10 logits."""

    def __init__(self, cfg: HeadConfig) -> None:
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = [nn.BatchNorm1d(cfg.in_features), nn.Dropout(cfg.dropout)]
        if cfg.hidden > 0:
            layers += [nn.Linear(cfg.in_features, cfg.hidden), nn.ReLU(inplace=True),
                       nn.BatchNorm1d(cfg.hidden), nn.Linear(cfg.hidden, cfg.n_outputs)]
        else:  # hidden=0: a linear head (standardised features -> 10 logits + extras)
            layers.append(nn.Linear(cfg.in_features, cfg.n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(N, in_features) -> (N, bins + len(outputs)) logits: votes first, then extras."""
        return self.net(features)

    def vote_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """The ``bins`` vote-distribution logits of a ``forward`` output: (N, bins)."""
        return logits[:, : self.cfg.bins]

    def output(self, logits: torch.Tensor, name: str) -> torch.Tensor | None:
        """The named extra logit of a ``forward`` output, (N,), or None if this head lacks it."""
        if name not in self.cfg.outputs:
            return None
        return logits[:, self.cfg.bins + self.cfg.outputs.index(name)]


def distribution_stats(probs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of a batch of score distributions over 1..bins."""
    scores = torch.arange(1, probs.shape[-1] + 1, dtype=probs.dtype, device=probs.device)
    mean = (probs * scores).sum(-1)
    var = (probs * (scores - mean.unsqueeze(-1)) ** 2).sum(-1)
    return mean, var.clamp_min(0).sqrt()


class DCNN(nn.Module):
    """Double-column CNN over uint8 NHWC views; normalisation happens inside.

    Taking uint8 NHWC means the loader's arrays go in without a copy, and permuting them to NCHW
    yields the channels-last layout the optimised backbone runs fastest on.
    """

    def __init__(self, backbone: nn.Module, head: Head, pre: Preprocess) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.pre = pre
        #: Run the backbone in bfloat16 on a CPU (``curator.precision.resolve``); off by default.
        self.cpu_bf16 = False
        self._mean: torch.Tensor
        self._std: torch.Tensor
        self.register_buffer("_mean", torch.tensor(pre.mean).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("_std", torch.tensor(pre.std).view(1, 3, 1, 1) * 255.0)

    def _prep(self, views_u8: torch.Tensor) -> torch.Tensor:
        x = views_u8.permute(0, 3, 1, 2).float()
        return (x - self._mean) / self._std

    def embed(self, views_u8: torch.Tensor) -> torch.Tensor:
        """Backbone features of a batch of uint8 NHWC views: (N, feature_dim), float32.

        With ``cpu_bf16`` set (``curator.precision``), a CPU backbone runs under bfloat16
        autocast; the features come back as float32 either way.
        """
        if views_u8.device.type == "cpu" and not torch.is_grad_enabled():
            # Small chunks keep the feature maps in cache: on 2 cores 4 views per call ran
            # ~2x faster per view than 32 (memory-bound depthwise layers and activations).
            chunks = views_u8.split(CPU_VIEW_CHUNK)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.cpu_bf16):
                return torch.cat([self.backbone(self._prep(c)).float() for c in chunks])
        return self.backbone(self._prep(views_u8))

    def features(self, global_u8: torch.Tensor, local_u8: torch.Tensor) -> torch.Tensor:
        """Concatenated backbone features of both columns: (N, 2 * feature_dim)."""
        f = self.embed(torch.cat([global_u8, local_u8], dim=0))  # both columns, one backbone
        n = global_u8.shape[0]
        return torch.cat([f[:n], f[n:]], dim=1)

    def forward(self, global_u8: torch.Tensor, local_u8: torch.Tensor) -> torch.Tensor:
        """Head logits, (N, bins + extra outputs): vote bins first (see ``Head.output``)."""
        return self.head(self.features(global_u8, local_u8))


def build_dcnn(
    backbone_name: str,
    head_cfg: HeadConfig | None = None,
    pre: Preprocess | None = None,
    pretrained: bool = True,
) -> DCNN:
    """Assemble a DCNN with a frozen backbone; preprocessing defaults to the backbone's own."""
    spec = get_spec(backbone_name)
    if pre is None:
        pre = Preprocess(mean=spec.mean, std=spec.std)
    if head_cfg is None:
        head_cfg = HeadConfig(in_features=2 * spec.feature_dim)
    return DCNN(build_backbone(backbone_name, pretrained), Head(head_cfg), pre)
