"""HandNet (Seeber et al. 2022, supplementary Table 1): an image head and a keypoint-heatmap head, each with its
own first three ResNet stages, joined by a learned fusion block; the shared fourth stage; a MANO regressor (pose 48,
shape 10, weak-perspective camera 3) and a U-Net segmentation decoder. Plain tensors in and out.

    net = HandNet(HandNetConfig(backbone="resnet18"))
    out = net(rgb, heatmaps)   # rgb (B,3,S,S) in [0,1]; heatmaps (B,21,S,S) in [0,1]
    out["pose"] (B,48) axis-angle, crop camera axes (a right hand; left crops are mirrored first)
    out["shape"] (B,10); out["cam"] (B,3): scale s, translation tx, ty (normalised crop coordinates in [-1, 1]:
        uv = s * X[:, :2] + t for root-relative model points X in metres)
    out["mask_logits"] (B,1,S,S); out["features"] (B,512)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import resnet_stages, stage_forward

IMAGENET_MEAN = (0.485, 0.456, 0.406)
#: typical weak-perspective scale: normalised crop units per metre for a hand filling the crop (~2 / 0.2 m)
CAM_SCALE = 10.0
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class HandNetConfig:
    backbone: str = "resnet18"      # resnet18 | resnet34 | resnet50 (the paper's)
    width: float = 1.0              # channel multiplier (0.5: a faster CPU model)
    input_size: int = 224
    use_keypoints: bool = True      # False: the image-only ablation (no keypoint head, no fusion)
    segmentation: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


class FusionBlock(nn.Module):
    """concat (2C) -> conv 2C/8 + ReLU -> conv 2C + sigmoid -> Hadamard with the concat -> conv C."""

    def __init__(self, c: int):
        super().__init__()
        self.squeeze = nn.Conv2d(2 * c, max(1, 2 * c // 8), 1)
        self.excite = nn.Conv2d(max(1, 2 * c // 8), 2 * c, 1)
        self.project = nn.Sequential(nn.Conv2d(2 * c, c, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True))

    def forward(self, image_feat: torch.Tensor, keypoint_feat: torch.Tensor) -> torch.Tensor:
        cat = torch.cat([image_feat, keypoint_feat], 1)
        gate = torch.sigmoid(self.excite(F.relu(self.squeeze(cat))))
        return self.project(cat * gate)


def rotation_6d_to_axis_angle(x: torch.Tensor) -> torch.Tensor:
    """(B,6) two columns of a rotation matrix (Zhou et al. 2019) -> (B,3) axis-angle. Gram-Schmidt, then a branchless
    matrix -> quaternion -> axis-angle (exportable to ONNX). The 6-D form is continuous, axis-angle is not at pi."""
    a, b = x[:, :3], x[:, 3:]
    c1 = F.normalize(a, dim=1, eps=1e-8)
    c2 = F.normalize(b - (c1 * b).sum(1, keepdim=True) * c1, dim=1, eps=1e-8)
    c3 = torch.cross(c1, c2, dim=1)
    m00, m10, m20 = c1[:, 0], c1[:, 1], c1[:, 2]
    m01, m11, m21 = c2[:, 0], c2[:, 1], c2[:, 2]
    m02, m12, m22 = c3[:, 0], c3[:, 1], c3[:, 2]
    w = 0.5 * torch.sqrt(torch.clamp(1 + m00 + m11 + m22, min=1e-12))
    qx = 0.5 * torch.sqrt(torch.clamp(1 + m00 - m11 - m22, min=1e-12)) * _sign(m21 - m12)
    qy = 0.5 * torch.sqrt(torch.clamp(1 - m00 + m11 - m22, min=1e-12)) * _sign(m02 - m20)
    qz = 0.5 * torch.sqrt(torch.clamp(1 - m00 - m11 + m22, min=1e-12)) * _sign(m10 - m01)
    v = torch.stack([qx, qy, qz], 1)
    n = v.norm(dim=1, keepdim=True)
    return 2 * torch.atan2(n, w[:, None]) * v / n.clamp(min=1e-8)


def _sign(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class Regressor(nn.Module):
    """Global pooling -> FC 2048 -> FC 512 -> pose 48 (global orientation through a 6-D rotation), shape 10,
    camera 3. The finger pose starts at ``mean_pose``, the orientation at the identity."""

    def __init__(self, c: int, mean_pose: torch.Tensor | None = None):
        super().__init__()
        self.fc1 = nn.Linear(c, 2048)
        self.fc2 = nn.Linear(2048, 512)
        self.drop = nn.Dropout(0.2)
        self.orient6d = nn.Linear(512, 6)
        self.pose = nn.Linear(512, 45)
        self.shape = nn.Linear(512, 10)
        self.cam = nn.Linear(512, 3)
        for head in (self.orient6d, self.pose, self.shape, self.cam):
            nn.init.normal_(head.weight, std=1e-3)
            nn.init.zeros_(head.bias)
        with torch.no_grad():
            self.orient6d.bias.copy_(torch.tensor([1.0, 0, 0, 0, 1, 0]))
            if mean_pose is not None:
                self.pose.bias.copy_(torch.as_tensor(mean_pose, dtype=torch.float32).reshape(48)[3:])
            # the camera head predicts (log(s / CAM_SCALE), tx, ty): well conditioned, s > 0, starting at s = CAM_SCALE
            # (a hand fills about the crop)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        f = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        f = self.drop(F.relu(self.fc2(self.drop(F.relu(self.fc1(f))))))
        c = self.cam(f)
        cam = torch.cat([CAM_SCALE * torch.exp(c[:, :1].clamp(-4.0, 4.0)), c[:, 1:]], 1)
        pose = torch.cat([rotation_6d_to_axis_angle(self.orient6d(f)), self.pose(f)], 1)
        return pose, self.shape(f), cam, f


class UpStage(nn.Module):
    def __init__(self, cin: int, skip: int, cout: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin + skip, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.conv(x)


class SegmentationDecoder(nn.Module):
    """U-Net with five up-stages from the stride-32 tail to a full-resolution mask. Skips, deep to shallow: the fused
    stride-16 features, then the RGB head's stride 8, 4 and 2 features, and none at full resolution."""

    def __init__(self, tail: int, fused: int, rgb8: int, rgb4: int, rgb2: int, base: int = 32):
        super().__init__()
        self.up = nn.ModuleList([UpStage(tail, fused, 8 * base), UpStage(8 * base, rgb8, 4 * base),
                                 UpStage(4 * base, rgb4, 2 * base), UpStage(2 * base, rgb2, base),
                                 UpStage(base, 0, base // 2)])
        self.out = nn.Conv2d(base // 2, 1, 1)

    def forward(self, tail, fused, rgb8, rgb4, rgb2):
        x = self.up[0](tail, fused)
        x = self.up[1](x, rgb8)
        x = self.up[2](x, rgb4)
        x = self.up[3](x, rgb2)
        return self.out(self.up[4](x))


class HandNet(nn.Module):
    def __init__(self, config: HandNetConfig | None = None, mean_pose: torch.Tensor | None = None):
        super().__init__()
        self.config = cfg = config or HandNetConfig()
        self.image_head, ch = resnet_stages(cfg.backbone, 3, cfg.width)
        del self.image_head["layer4"]
        tail_stages, _ = resnet_stages(cfg.backbone, 3, cfg.width)
        self.tail = tail_stages["layer4"]
        if cfg.use_keypoints:
            self.keypoint_head, _ = resnet_stages(cfg.backbone, 21, cfg.width)
            del self.keypoint_head["layer4"]
            self.fusion = FusionBlock(ch[3])
        self.regressor = Regressor(ch[4], mean_pose)
        if cfg.segmentation:
            self.decoder = SegmentationDecoder(ch[4], ch[3], ch[2], ch[1], ch[0])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    #: parameter groups the training stages freeze and train (see train.STAGES)
    def groups(self) -> dict[str, list[nn.Module]]:
        g = {"image": [self.image_head], "tail": [self.tail], "regressor": [self.regressor]}
        if self.config.use_keypoints:
            g["keypoint"] = [self.keypoint_head]
            g["fusion"] = [self.fusion]
        if self.config.segmentation:
            g["decoder"] = [self.decoder]
        return g

    def forward(self, rgb: torch.Tensor, heatmaps: torch.Tensor | None = None,
                branch: str = "fused") -> dict[str, torch.Tensor]:
        """``branch``: 'fused' (the network), or for the first training stages 'image' (the image head alone feeds the
        tail) or 'keypoint' (the keypoint head alone)."""
        x = (rgb - self.mean) / self.std
        rgb2, rgb4, rgb8, rgb16 = stage_forward(self.image_head, x)
        if branch not in ("fused", "image", "keypoint"):
            raise ValueError(f"branch must be fused, image or keypoint, not {branch!r}")
        if self.config.use_keypoints and branch != "image":
            if heatmaps is None:
                raise ValueError("this HandNet uses keypoints: pass heatmaps (B,21,S,S)")
            kp16 = stage_forward(self.keypoint_head, heatmaps)[-1]
            fused = kp16 if branch == "keypoint" else self.fusion(rgb16, kp16)
        else:
            fused = rgb16
        tail = self.tail(fused)
        pose, shape, cam, feat = self.regressor(tail)
        out = {"pose": pose, "shape": shape, "cam": cam, "features": feat}
        if self.config.segmentation:
            out["mask_logits"] = self.decoder(tail, fused, rgb8, rgb4, rgb2)
        return out


class StereoFusion(nn.Module):
    """Per-parameter pose weights from both views' 512-d features: w = sigmoid(FC([f_left, f_right])) (B,48);
    pose = w * pose_right + (1 - w) * pose_left (both in the right camera's frame)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1024, 48)
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)  # starts as the plain average

    def forward(self, feat_left, feat_right, pose_left, pose_right):
        w = torch.sigmoid(self.fc(torch.cat([feat_left, feat_right], 1)))
        return w * pose_right + (1 - w) * pose_left, w


def fuse_views(stereo: StereoFusion, out_left: dict, out_right: dict, left_to_right: torch.Tensor) -> dict:
    """Both views' HandNet outputs -> one estimate in the right view's crop frame (the paper's stereo variant).

    ``left_to_right`` (B,3,3): turns the left crop frame into the right crop frame (``frame_r R_rl frame_l^T``, with
    ``frame`` the camera->crop rotation of each crop and ``R_rl`` the left->right camera rotation). The left view's
    global orientation is mapped with it; the orientations are then blended along their relative rotation with the
    first three weights (exact and smooth, unlike blending axis-angles), the 45 finger parameters linearly; shape is
    averaged. Returns pose (B,48), shape (B,10), weights (B,48)."""
    from ..model.lbs import axis_angle_to_matrix, matrix_to_axis_angle

    _, w = stereo(out_left["features"], out_right["features"], out_left["pose"], out_right["pose"])
    R_r = axis_angle_to_matrix(out_right["pose"][:, :3])
    R_l = left_to_right @ axis_angle_to_matrix(out_left["pose"][:, :3])
    delta = matrix_to_axis_angle(R_r.transpose(1, 2) @ R_l)            # right -> left, in the right's body frame
    orient = matrix_to_axis_angle(R_r @ axis_angle_to_matrix((1 - w[:, :3]) * delta))
    fingers = w[:, 3:] * out_right["pose"][:, 3:] + (1 - w[:, 3:]) * out_left["pose"][:, 3:]
    return {"pose": torch.cat([orient, fingers], 1), "shape": (out_left["shape"] + out_right["shape"]) / 2,
            "weights": w}
