#!/usr/bin/env python3
"""Build RealHands' own open MANO-format right-hand model, deterministically.

Input: the MIT-licensed WebXR generic hand (``tools/build/data/webxr_generic_hand/right.glb``, from the npm package
``@webxr-input-profiles/assets``). Output: ``python_backend/realhands/assets/realhands_hand_right.npz``.

    python -m tools.build.hand_model [--out PATH] [--renders DIR]

Steps: weld the UV seams into one closed surface; move it into our model space (metres, origin at the wrist,
x distal, z dorsal, y to the thumb); refine the mesh where the nails and palm pads go and sculpt nails,
knuckles and pads; map the 25 OpenXR bones onto MANO's 16 joints; fit a joint regressor; define 10 shape
components; set anatomical joint frames and limits; pose a library; compute the hand-pose PCA from it.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import nnls

from realhands.conventions import FINGER_JOINTS, FINGERS, MANO_JOINT_NAMES, MANO_PARENTS
from realhands.model import HandModel
from realhands.model.anatomy import anatomical_to_axis_angle
from realhands.model.io import HandModelData
from tools.build.handbuild import detail
from tools.build.handbuild.anatomy_data import LIMITS_DEG, PCA_POSE_WEIGHTS, POSE_LIBRARY
from tools.build.handbuild.correctives import fit_posedirs
from tools.build.handbuild.gltf import read_skinned_glb

ROOT = Path(__file__).resolve().parents[2]

GLB = ROOT / "tools/build/data/webxr_generic_hand/right.glb"
OUT = ROOT / "python_backend/realhands/assets/realhands_hand_right.npz"
SEED = 20261124

#: Armature axes -> model space: x = -y_arm (distal), y = -z_arm (thumb side), z = x_arm (dorsal).
ARM_TO_MODEL = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])

#: OpenXR bone name -> MANO joint. Finger metacarpals are rigid with the palm in MANO, so they go to the wrist;
#: tip bones carry no motion of their own and go to the distal joint.
BONE_TO_MANO = {
    "wrist": 0,
    "thumb-metacarpal": 13, "thumb-phalanx-proximal": 14, "thumb-phalanx-distal": 15, "thumb-tip": 15,
    **{f"{name}-finger-metacarpal": 0 for name in ("index", "middle", "ring", "pinky")},
}
for _f in ("index", "middle", "ring", "pinky"):
    _a, _b, _c = FINGER_JOINTS[_f]
    BONE_TO_MANO.update({f"{_f}-finger-phalanx-proximal": _a, f"{_f}-finger-phalanx-intermediate": _b,
                         f"{_f}-finger-phalanx-distal": _c, f"{_f}-finger-tip": _c})
#: MANO joint -> the OpenXR bone whose head is that joint.
MANO_TO_BONE = {0: "wrist", 13: "thumb-metacarpal", 14: "thumb-phalanx-proximal", 15: "thumb-phalanx-distal"}
for _f in ("index", "middle", "ring", "pinky"):
    _a, _b, _c = FINGER_JOINTS[_f]
    MANO_TO_BONE.update({_a: f"{_f}-finger-phalanx-proximal", _b: f"{_f}-finger-phalanx-intermediate",
                         _c: f"{_f}-finger-phalanx-distal"})
TIP_BONE = {"thumb": "thumb-tip", **{f: f"{f}-finger-tip" for f in ("index", "middle", "ring", "pinky")}}


def weld(positions: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge vertices that share a position (UV seams). Returns (unique index per input vertex, positions)."""
    key = np.round(positions / 1e-7).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)  # keep the GLB's vertex order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)], positions[first[order]]


def fit_joint_regressor(verts: np.ndarray, joints: np.ndarray, weights: np.ndarray,
                        frames: np.ndarray) -> np.ndarray:
    """(16,V) rows of non-negative weights summing to 1 whose weighted vertex mean is each joint.

    Each joint uses the ring of vertices around it (a slab across the bone, skinned to the joint or its
    parent), so the regressed joint follows shape changes of the surrounding surface.
    """
    V = len(verts)
    J = np.zeros((16, V))
    for j, p in enumerate(joints):
        bound = weights[:, j] + (weights[:, MANO_PARENTS[j]] if j else 0.0)
        d = np.linalg.norm(verts - p, axis=1)
        across = np.abs((verts - p) @ frames[j][:, 2])
        cand = np.nonzero((bound > 0.05) & (across < 0.006))[0]
        cand = cand[np.argsort(d[cand])][:150]
        A = np.vstack([verts[cand].T, np.ones((1, len(cand)))])
        b = np.concatenate([p, [1.0]])
        lam = 1e-4  # pull towards uniform weights: many vertices, none dominant
        u = np.full(len(cand), 1.0 / len(cand))
        A_aug = np.vstack([A * 100.0, np.sqrt(lam) * np.eye(len(cand))])
        b_aug = np.concatenate([b * 100.0, np.sqrt(lam) * u])
        w, _ = nnls(A_aug, b_aug)
        w /= w.sum()
        J[j, cand] = w
        err = np.linalg.norm(w @ verts[cand] - p)
        if err > 2e-4:
            raise RuntimeError(f"joint {MANO_JOINT_NAMES[j]} regressor misses by {err * 1e3:.2f} mm")
    return J


def shape_components(v: np.ndarray, W: np.ndarray, joints: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, list]:
    """10 linear shape displacement fields (V,3,10), each one population standard deviation.

    Every field is a blend, by skinning weight, of per-segment affine displacements, so fingers keep their
    shape when the palm changes and vice versa. Standard deviations follow adult anthropometry (hand length
    and breadth vary with a coefficient of variation of about 5-6%, digit lengths about 6%).
    """
    Vn = len(v)
    seg_chain = {j: f for f, js in FINGER_JOINTS.items() for j in js}
    root = {j: FINGER_JOINTS[f][0] for j, f in seg_chain.items()}
    y_c = joints[[1, 4, 10, 7], 1].mean()  # palm centre line (between the knuckles)
    z_c = joints[[0, 1, 4, 7, 10], 2].mean()
    dist_axis = frames[:, :, 2]
    dors_axis = np.cross(frames[:, :, 2], frames[:, :, 0])  # distal x flexion = dorsal (right-handed frames)

    def blend(seg_fn):
        out = np.zeros((Vn, 3))
        for k in range(16):
            w = W[:, k]
            if not w.any():
                continue
            out += w[:, None] * seg_fn(k)
        return out

    def along(k):  # (V,) coordinate along segment k's bone from its joint
        return (v - joints[k]) @ dist_axis[k]

    def radial(k):  # (V,3) offset from segment k's bone axis
        rel = v - joints[k]
        return rel - along(k)[:, None] * dist_axis[k]

    def lengthen(fingers, s):
        def seg(k):
            if k == 0 or seg_chain[k] not in fingers:
                return np.zeros((Vn, 3))
            start = joints[k] - joints[root[k]]
            return s * (start[None, :] + along(k)[:, None] * dist_axis[k])
        return blend(seg)

    ey, ex, ez = np.eye(3)[1], np.eye(3)[0], np.eye(3)[2]
    comps, names = [], []

    comps.append(0.055 * (v - joints[0]))

    names.append("size: uniform scale about the wrist (1 sd = 5.5%)")

    def palm_width(k):
        if k == 0:
            return 0.05 * np.outer(v[:, 1] - y_c, ey)
        return np.tile(0.05 * (joints[root[k]][1] - y_c) * ey, (Vn, 1))
    comps.append(blend(palm_width))
    names.append("palm breadth (1 sd = 5%), fingers move apart with it")

    comps.append(lengthen(("index", "middle", "ring", "pinky"), 0.06))
    names.append("finger length, index to pinky (1 sd = 6%)")

    def palm_length(k):
        if k == 0:
            return 0.05 * np.outer(np.maximum(v[:, 0], 0.0), ex)
        return np.tile(0.05 * max(joints[root[k]][0], 0.0) * ex, (Vn, 1))
    comps.append(blend(palm_length))
    names.append("palm length (1 sd = 5%)")

    comps.append(blend(lambda k: 0.07 * np.outer((v - joints[k]) @ dors_axis[k], dors_axis[k])))
    names.append("thickness, back of hand to palm (1 sd = 7%)")

    comps.append(blend(lambda k: 0.07 * radial(k) if k else np.zeros((Vn, 3))))
    names.append("finger girth (1 sd = 7%)")

    comps.append(lengthen(("thumb",), 0.07))

    names.append("thumb length (1 sd = 7%)")

    comps.append(lengthen(("index",), 0.035) - lengthen(("ring",), 0.035))
    names.append("digit ratio: index longer, ring shorter (1 sd = 3.5%)")

    comps.append(blend(lambda k: 0.09 * np.outer(v[:, 2] - z_c, ez) if k == 0 else np.zeros((Vn, 3))))
    names.append("palm thickness and padding (1 sd = 9%)")

    taper = {0: 0.0}
    for js in FINGER_JOINTS.values():
        taper.update({js[0]: -1.0, js[1]: 0.0, js[2]: 1.0})
    comps.append(blend(lambda k: 0.05 * taper[k] * radial(k) if k else np.zeros((Vn, 3))))
    names.append("finger taper: fingertips fuller, bases slimmer (1 sd = 5%)")
    return np.stack(comps, axis=2), names


def anatomical_array(pose: dict) -> np.ndarray:
    """Pose library entry -> (15,3) radians for MANO joints 1..15."""
    out = np.zeros((16, 3))
    for f, angles in pose.items():
        for j, a in zip(FINGER_JOINTS[f], angles, strict=True):
            out[j] = np.radians(a)
    return out[1:]


def joint_limits() -> np.ndarray:
    lim = np.zeros((16, 3, 2))
    lim[0] = np.radians([[-180, 180]] * 3)  # the wrist is the global orientation: unlimited
    kinds = {**{FINGER_JOINTS[f][i]: k for f in ("index", "middle", "ring", "pinky")
                for i, k in enumerate(("mcp", "pip", "dip"))},
             **{FINGER_JOINTS["thumb"][i]: k for i, k in enumerate(("thumb_cmc", "thumb_mcp", "thumb_ip"))}}
    for j, kind in kinds.items():
        for a, axis in enumerate(("flex", "radial", "twist")):
            lim[j, a] = np.radians(LIMITS_DEG[kind][axis])
    return lim


#: Poses whose thumb is solved to touch a fingertip: name -> (finger, distance between the tip vertices, m).
CONTACTS = {"pinch": ("index", 0.013), "ok": ("index", 0.011)}


def solve_thumb_contacts(data: HandModelData, lib: dict, limits: np.ndarray) -> dict:
    """Adjust the thumb angles of CONTACTS poses so the thumb tip meets the other fingertip (least squares,
    inside the joint limits, staying close to the hand-written angles)."""
    from scipy.optimize import least_squares

    model = HandModel(data, flat_hand_mean=True, dtype=torch.float64)
    rows = [j - 1 for j in FINGER_JOINTS["thumb"]]
    lo, hi = limits[1:][rows][..., 0].reshape(-1), limits[1:][rows][..., 1].reshape(-1)
    out = dict(lib)
    for name, (other, target) in CONTACTS.items():
        start = lib[name][rows].reshape(-1)

        def residual(x, name=name, other=other, target=target, start=start):
            ang = lib[name].copy()
            ang[rows] = x.reshape(3, 3)
            pose = torch.as_tensor(anatomical_to_axis_angle(ang, data.joint_frames)[None])
            tips = model(hand_pose=pose).joints[0, 16:].numpy()
            gap = np.linalg.norm(tips[0] - tips[FINGERS.index(other)])
            return np.concatenate([[(gap - target) / 0.001], 0.3 * (x - start) / np.radians(30)])

        sol = least_squares(residual, np.clip(start, lo + 1e-6, hi - 1e-6), bounds=(lo, hi), diff_step=1e-4)
        gap_mm = (residual(sol.x)[0] * 0.001 + target) * 1000
        ang = lib[name].copy()
        ang[rows] = sol.x.reshape(3, 3)
        out[name] = ang
        print(f"  {name}: thumb tip {gap_mm:.1f} mm from the {other} tip (target {target * 1000:.0f} mm)")
    return out


def pose_pca(lib: dict, frames: np.ndarray, limits: np.ndarray, rng: np.random.Generator, n: int = 6000):
    """Sample poses around the library (fingers mixed independently by PCA_POSE_WEIGHTS, blended, jittered,
    clamped) -> PCA."""
    names = list(lib)
    stack = np.stack([lib[k] for k in names])  # (P,15,3)
    weights = np.array([PCA_POSE_WEIGHTS[k] for k in names])
    weights /= weights.sum()
    finger_rows = {f: [j - 1 for j in js] for f, js in FINGER_JOINTS.items()}
    samples = np.zeros((n, 15, 3))
    for rows in finger_rows.values():
        a = stack[rng.choice(len(names), n, p=weights)][:, rows]
        b = stack[rng.choice(len(names), n, p=weights)][:, rows]
        t = rng.uniform(0, 1, (n, 1, 1))
        samples[:, rows] = (1 - t) * a + t * b
    samples += rng.normal(0, 1, samples.shape) * np.radians([7.0, 3.0, 2.0])
    samples = np.clip(samples, limits[1:, :, 0], limits[1:, :, 1])
    aa = anatomical_to_axis_angle(samples, frames)
    mean = aa.mean(0)
    _, s, vt = np.linalg.svd(aa - mean, full_matrices=False)
    explained = s ** 2 / np.sum(s ** 2)
    std = s / np.sqrt(n - 1)
    return vt, mean, std, explained, anatomical_to_axis_angle(stack, frames), names, aa


def build(out: Path) -> HandModelData:
    rng = np.random.default_rng(SEED)
    glb = read_skinned_glb(GLB)
    index, pos = weld(glb.positions, glb.faces)
    faces = index[glb.faces]
    uv = np.column_stack([glb.uvs[:, 0], 1.0 - glb.uvs[:, 1]])  # v up, as OBJ and MANO UV maps
    faces_uv = glb.faces.copy()

    bone = {n: i for i, n in enumerate(glb.bone_names)}
    wrist = glb.bone_positions[bone["wrist"]]
    to_model = lambda p: (p - wrist) @ ARM_TO_MODEL.T  # noqa: E731
    verts = to_model(pos)
    joints = np.stack([to_model(glb.bone_positions[bone[MANO_TO_BONE[j]]]) for j in range(16)])
    tips = np.stack([to_model(glb.bone_positions[bone[TIP_BONE[f]]]) for f in FINGERS])
    # Anatomical frames from the OpenXR joint axes (+X right-ish, +Y dorsal, -Z distal):
    # columns = flexion axis (-X), radial axis (+Y), distal axis (-Z).
    frames = np.stack([ARM_TO_MODEL @ glb.bone_rotations[bone[MANO_TO_BONE[j]]] @ np.diag([-1.0, 1.0, -1.0])
                       for j in range(16)])

    # Skin weights: 25 bones -> 16 joints, averaged over welded duplicates.
    W = np.zeros((len(verts), 16))
    for k in range(4):
        mano_j = np.array([BONE_TO_MANO[glb.bone_names[b]] for b in glb.joints[:, k]])
        np.add.at(W, (index, mano_j), glb.weights[:, k])
    W /= W.sum(1, keepdims=True)

    verts, faces, W, uv, faces_uv, parts, part_names = detail.sculpt(verts, faces, W, uv, faces_uv, joints, tips,
                                                                     frames)

    J_reg = fit_joint_regressor(verts, joints, W, frames)
    joints = J_reg @ verts
    tip_ids = np.array([detail.tip_vertex(verts, W, joints, tips, f) for f in FINGERS])
    shapedirs, shape_names = shape_components(verts, W, joints, frames)
    limits = joint_limits()
    kintree = np.array([[4294967295 if p < 0 else p for p in MANO_PARENTS], list(range(16))])
    rig = HandModelData(
        v_template=verts, faces=faces, J_regressor=J_reg, weights=W, posedirs=np.zeros((len(verts), 3, 135)),
        shapedirs=shapedirs, kintree_table=kintree, hands_components=np.eye(45), hands_mean=np.zeros(45),
        tip_vertex_ids=tip_ids, joint_frames=frames)
    lib = solve_thumb_contacts(rig, {k: np.clip(anatomical_array(p), limits[1:, :, 0], limits[1:, :, 1])
                                     for k, p in POSE_LIBRARY.items()}, limits)
    comps, mean, pca_std, explained, library, pose_names, samples = pose_pca(lib, frames, limits, rng)
    posedirs, rms = fit_posedirs(HandModel(rig, flat_hand_mean=True, dtype=torch.float64),
                                 np.concatenate([library, samples[:1500]]))
    print(f"  pose correctives fitted to dual-quaternion skinning: {rms * 1000:.2f} mm RMS left")

    data = HandModelData(
        v_template=verts, faces=faces, J_regressor=J_reg, weights=W, posedirs=posedirs, shapedirs=shapedirs,
        kintree_table=kintree,
        hands_components=comps, hands_mean=mean, side="right", name="realhands_hand_right",
        tip_vertex_ids=tip_ids, uv=uv, faces_uv=faces_uv, joint_frames=frames, joint_limits=limits,
        vertex_parts=parts, part_names=np.array(part_names), pose_library=library,
        pose_names=np.array(pose_names), shape_names=np.array(shape_names), hands_pca_std=pca_std,
        source="tools/build/hand_model.py",
    ).validate()
    data.save_npz(out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {len(verts)} vertices, {len(faces)} faces; "
          f"pose PCA: first 6 components explain {explained[:6].sum() * 100:.1f}% of the variance")
    return data


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    build(args.out)


if __name__ == "__main__":
    main()
