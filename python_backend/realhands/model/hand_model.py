"""HandModel: a torch module for any MANO-format hand model (ours or the official MANO files)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..conventions import KEYPOINT_OWNERS, MANO21_TO_KEYPOINTS, NUM_HAND_POSE
from .io import HandModelData, load_model_data
from .lbs import axis_angle_to_matrix, rigid_chain, skin_vertices


@dataclass
class HandOutput:
    """Result of HandModel.forward. B batch, V vertices. Metres, model space plus ``transl``.

    vertices (B,V,3); joints (B,21,3): 16 MANO joints then tips (thumb, index, middle, ring, pinky);
    keypoints (B,21,3): the same points in MediaPipe/FreiHAND order;
    joint_transforms (B,16,4,4): each joint's posed frame (rotation relative to the rest frame, posed position);
    skin_transforms (B,16,4,4): rest-space -> posed-space transforms used to skin vertices bound to each joint;
    rest_vertices (B,V,3) and rest_joints (B,16,3): the shaped mesh and joints in bind pose (no ``transl``),
    filled only when asked for; full_pose (B,48): axis-angle of all 16 joints as used.
    """

    vertices: torch.Tensor
    joints: torch.Tensor
    keypoints: torch.Tensor
    joint_transforms: torch.Tensor
    skin_transforms: torch.Tensor
    full_pose: torch.Tensor
    rest_vertices: torch.Tensor | None = None
    rest_joints: torch.Tensor | None = None


class HandModel(nn.Module):
    """MANO-format hand model: shape and pose parameters -> skinned mesh, joints and joint transforms.

    Args:
        data: model arrays; by default the model found by :func:`realhands.model.io.resolve_model_path`.
        use_pca: hand pose given as PCA coefficients (else 45 axis-angle values).
        num_pca_comps: number of PCA coefficients when ``use_pca``.
        flat_hand_mean: if False (MANO's default), the pose is relative to the mean pose ``hands_mean``.
        dtype: torch.float32 or torch.float64.
    """

    def __init__(self, data: HandModelData | None = None, side: str = "right", *, use_pca: bool = False,
                 num_pca_comps: int = 6, flat_hand_mean: bool = False, dtype: torch.dtype = torch.float32,
                 model_path: str | os.PathLike | None = None):
        super().__init__()
        data = data if data is not None else load_model_data(side, model_path)
        self.data = data
        self.side = data.side
        self.use_pca = use_pca and num_pca_comps < NUM_HAND_POSE
        self.num_pca_comps = num_pca_comps if self.use_pca else NUM_HAND_POSE
        self.flat_hand_mean = flat_hand_mean
        self.parents = data.parents
        self.num_betas = data.shapedirs.shape[-1]

        def buf(name, array, dt=dtype):
            self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(array), dtype=dt))

        V = data.num_vertices
        buf("v_template", data.v_template)
        buf("shapedirs", data.shapedirs)
        buf("posedirs", data.posedirs.reshape(V * 3, -1).T)  # (135, V*3)
        buf("J_regressor", data.J_regressor)
        buf("lbs_weights", data.weights)
        buf("faces_tensor", data.faces, torch.long)
        buf("tip_vertex_ids", data.tip_vertex_ids, torch.long)
        buf("hand_components", data.hands_components[: self.num_pca_comps])
        mean = np.zeros(NUM_HAND_POSE) if flat_hand_mean else data.hands_mean
        buf("hand_mean", mean)
        buf("keypoint_order", MANO21_TO_KEYPOINTS, torch.long)
        buf("keypoint_owners", KEYPOINT_OWNERS, torch.long)
        # For keypoints(): joints and fingertips are linear in the shape, so regress once here (no full mesh).
        tips = data.tip_vertex_ids
        buf("J_template", data.J_regressor @ data.v_template)  # (16,3)
        buf("J_shapedirs", np.einsum("jv,vcl->jcl", data.J_regressor, data.shapedirs))  # (16,3,10)
        buf("tip_template", data.v_template[tips])  # (5,3)
        buf("tip_shapedirs", data.shapedirs[tips])  # (5,3,10)
        buf("tip_posedirs", data.posedirs[tips].reshape(15, -1).T)  # (135,15)
        buf("tip_weights", data.weights[tips])  # (5,16)

    @property
    def faces(self) -> np.ndarray:
        """(F,3) triangle indices, counter-clockwise seen from outside."""
        return self.data.faces

    def extra_repr(self) -> str:
        return (f"side={self.side}, vertices={self.data.num_vertices}, use_pca={self.use_pca}, "
                f"num_pca_comps={self.num_pca_comps}, flat_hand_mean={self.flat_hand_mean}, "
                f"source={self.data.source}")

    def full_pose(self, global_orient: torch.Tensor, hand_pose: torch.Tensor) -> torch.Tensor:
        """(B,3) and (B,45 or n_pca) -> (B,48) axis-angle of all joints, mean pose added."""
        if self.use_pca:
            hand_pose = hand_pose @ self.hand_components
        return torch.cat([global_orient, hand_pose + self.hand_mean], dim=1)

    def forward(self, global_orient: torch.Tensor | None = None, hand_pose: torch.Tensor | None = None,
                betas: torch.Tensor | None = None, transl: torch.Tensor | None = None,
                return_rest: bool = False, vertex_offsets: torch.Tensor | None = None) -> HandOutput:
        """Pose the hand.

        global_orient (B,3) axis-angle of the wrist; hand_pose (B,45) axis-angle or (B,n) PCA coefficients;
        betas (B,<=10) shape; transl (B,3) metres; vertex_offsets (B,V,3) metres, added to the shaped mesh in
        rest space (personal detail, as refinement estimates it; joints are regressed before them).
        Missing inputs default to zeros (batch size from the others).
        """
        given = [t for t in (global_orient, hand_pose, betas, transl) if t is not None]
        B = given[0].shape[0] if given else 1
        dt, dev = self.v_template.dtype, self.v_template.device

        def default(t, n):
            return torch.zeros(B, n, dtype=dt, device=dev) if t is None else t.to(dt)

        global_orient = default(global_orient, 3)
        hand_pose = default(hand_pose, self.num_pca_comps)
        betas = default(betas, self.num_betas)
        transl = default(transl, 3)
        if hand_pose.shape[-1] != self.num_pca_comps:
            raise ValueError(f"hand_pose has {hand_pose.shape[-1]} values, this model expects "
                             f"{self.num_pca_comps} ({'PCA' if self.use_pca else 'axis-angle'})")

        pose = self.full_pose(global_orient, hand_pose)
        nb = betas.shape[-1]
        v_shaped = self.v_template + torch.einsum("bl,vcl->bvc", betas, self.shapedirs[..., :nb])
        rest_joints = torch.einsum("jv,bvc->bjc", self.J_regressor, v_shaped)
        if vertex_offsets is not None:
            v_shaped = v_shaped + vertex_offsets.to(dt)
        R = axis_angle_to_matrix(pose.reshape(B, -1, 3))
        eye = torch.eye(3, dtype=dt, device=dev)
        pose_feature = (R[:, 1:] - eye).reshape(B, -1)
        v_posed = v_shaped + (pose_feature @ self.posedirs).reshape(B, -1, 3)
        world, skin = rigid_chain(R, rest_joints, self.parents)
        verts = skin_vertices(v_posed, self.lbs_weights, skin)

        offset = transl[:, None, :]
        verts = verts + offset
        joints = torch.cat([world[..., :3, 3] + offset, verts[:, self.tip_vertex_ids]], dim=1)
        world = world.clone()
        skin = skin.clone()
        world[..., :3, 3] += offset
        skin[..., :3, 3] += offset
        return HandOutput(
            vertices=verts, joints=joints, keypoints=joints[:, self.keypoint_order],
            joint_transforms=world, skin_transforms=skin, full_pose=pose,
            rest_vertices=v_shaped if return_rest else None, rest_joints=rest_joints if return_rest else None)


    def keypoints(self, global_orient: torch.Tensor, hand_pose: torch.Tensor, betas: torch.Tensor,
                  transl: torch.Tensor, landmark_offsets: torch.Tensor | None = None) -> torch.Tensor:
        """(B,21,3) keypoints in MediaPipe order without the mesh (for fitting: only the 16 joints and the 5
        fingertip vertices are shaped and posed). Same results as ``forward(...).keypoints``. ``landmark_offsets``
        (21,3) metres, each in the frame of the joint that carries the keypoint (``KEYPOINT_OWNERS``): added after
        posing, they give the points a detector marks on this hand instead of its skeleton's
        (``realhands.fit.landmarks``)."""
        B = global_orient.shape[0]
        pose = self.full_pose(global_orient, hand_pose)
        nb = betas.shape[-1]
        rest_joints = self.J_template + torch.einsum("bl,jcl->bjc", betas, self.J_shapedirs[..., :nb])
        tip_shaped = self.tip_template + torch.einsum("bl,tcl->btc", betas, self.tip_shapedirs[..., :nb])
        R = axis_angle_to_matrix(pose.reshape(B, -1, 3))
        eye = torch.eye(3, dtype=R.dtype, device=R.device)
        feat = (R[:, 1:] - eye).reshape(B, -1)
        tip_rest = tip_shaped + (feat @ self.tip_posedirs).reshape(B, 5, 3)
        world, skin = rigid_chain(R, rest_joints, self.parents)
        tip_posed = skin_vertices(tip_rest, self.tip_weights, skin)
        joints = (torch.cat([world[..., :3, 3], tip_posed], 1) + transl[:, None])[:, self.keypoint_order]
        if landmark_offsets is not None:
            frames = world[:, self.keypoint_owners, :3, :3]
            joints = joints + (frames @ landmark_offsets.to(joints.dtype)[None, :, :, None])[..., 0]
        return joints


def load_hand_model(side: str = "right", model_path: str | os.PathLike | None = None, **kwargs) -> HandModel:
    """Shortcut: ``HandModel(side=side, model_path=model_path, **kwargs)``."""
    return HandModel(side=side, model_path=model_path, **kwargs)
