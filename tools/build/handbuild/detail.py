"""Surface detail for the hand model: local mesh refinement, nails, knuckles, finger pulps and palm pads.

The WebXR base mesh is smooth and coarse (edges about 7 mm). We refine the fingertips (red-green refinement,
twice on the nail beds) so that a nail can have a border, then displace vertices along their normals with
anatomically placed fields. All amplitudes are a few millimetres or less, so the surface stays free of
self-intersections (checked by the model tests).
"""
from __future__ import annotations

import numpy as np

from realhands.conventions import FINGER_JOINTS, FINGERS, MANO_JOINT_NAMES, MANO_PARENTS
from realhands.viz.preview import vertex_normals

PART_NAMES = list(MANO_JOINT_NAMES) + ["nail"]
NAIL = len(MANO_JOINT_NAMES)


# ---- refinement -----------------------------------------------------------------------------------------
def _edge_key(a, b):
    return (a, b) if a < b else (b, a)


def refine(verts, faces, W, uv, faces_uv, marked: np.ndarray):
    """Red-green refinement: marked faces split 1-to-4, neighbours closed without T-junctions.

    New edge points sit on the PN-triangle curve through the edge (so refined parts stay round); weights and
    UVs are interpolated (UVs per UV edge, so seams stay seams).
    """
    faces = [tuple(f) for f in faces]
    faces_uv = [tuple(f) for f in faces_uv]
    red = set(np.nonzero(marked)[0].tolist())
    edge_faces = {}
    for i, f in enumerate(faces):
        for k in range(3):
            edge_faces.setdefault(_edge_key(f[k], f[(k + 1) % 3]), []).append(i)
    # Closure: a face with two or more split edges becomes red too.
    while True:
        split = {_edge_key(faces[i][k], faces[i][(k + 1) % 3]) for i in red for k in range(3)}
        grow = set()
        for e in split:
            for i in edge_faces[e]:
                if i in red:
                    continue
                n = sum(_edge_key(faces[i][k], faces[i][(k + 1) % 3]) in split for k in range(3))
                if n >= 2:
                    grow.add(i)
        if not grow:
            break
        red |= grow

    normals = vertex_normals(verts, np.array(faces))
    new_v, new_w, new_uv = list(verts), list(W), list(uv)
    mid = {}
    for a, b in sorted(split):
        pa, pb, na, nb = verts[a], verts[b], normals[a], normals[b]
        p = 0.5 * (pa + pb) - (((pb - pa) @ na) * na + ((pa - pb) @ nb) * nb) / 8.0
        mid[(a, b)] = len(new_v)
        new_v.append(p)
        new_w.append(0.5 * (W[a] + W[b]))
    uv_mid = {}

    def mid_uv(ta, tb):
        key = _edge_key(ta, tb)
        if key not in uv_mid:
            uv_mid[key] = len(new_uv)
            new_uv.append(0.5 * (uv[ta] + uv[tb]))
        return uv_mid[key]

    out_f, out_t = [], []
    for i, (f, t) in enumerate(zip(faces, faces_uv, strict=True)):
        ms = [mid.get(_edge_key(f[k], f[(k + 1) % 3])) for k in range(3)]
        if i in red:
            m = ms
            mt = [mid_uv(t[k], t[(k + 1) % 3]) for k in range(3)]
            out_f += [(f[0], m[0], m[2]), (m[0], f[1], m[1]), (m[2], m[1], f[2]), (m[0], m[1], m[2])]
            out_t += [(t[0], mt[0], mt[2]), (mt[0], t[1], mt[1]), (mt[2], mt[1], t[2]), (mt[0], mt[1], mt[2])]
        elif any(x is not None for x in ms):  # green: one split edge, split 1-to-2
            k = next(k for k in range(3) if ms[k] is not None)
            a, b, c = f[k], f[(k + 1) % 3], f[(k + 2) % 3]
            ta, tb, tc = t[k], t[(k + 1) % 3], t[(k + 2) % 3]
            m, mt = ms[k], mid_uv(ta, tb)
            out_f += [(a, m, c), (m, b, c)]
            out_t += [(ta, mt, tc), (mt, tb, tc)]
        else:
            out_f.append(f)
            out_t.append(t)
    return (np.array(new_v), np.array(out_f, dtype=np.int64), np.array(new_w), np.array(new_uv),
            np.array(out_t, dtype=np.int64))


# ---- local finger coordinates ---------------------------------------------------------------------------
def _segment_coords(verts, joint, frame):
    """(s, t, h): along the bone (distal), across it (flexion axis), and dorsal, in metres."""
    rel = verts - joint
    distal, flex = frame[:, 2], frame[:, 0]
    dorsal = np.cross(distal, flex)
    return rel @ distal, rel @ flex, rel @ dorsal, dorsal


def _smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def nail_masks(verts, normals, W, joints, tips, frames):
    """Per finger: nail plate weight in [0,1] (V,) and the nail-fold groove weight (V,)."""
    plate, fold = np.zeros(len(verts)), np.zeros(len(verts))
    for f in FINGERS:
        j = FINGER_JOINTS[f][2]
        s, t, h, dorsal = _segment_coords(verts, joints[j], frames[j])
        L = (tips[FINGERS.index(f)] - joints[j]) @ frames[j][:, 2]
        seg = W[:, j] > 0.5
        width = np.percentile(np.abs(t[seg & (s > 0.3 * L) & (s < 0.8 * L)]), 90)
        facing = _smoothstep(0.25, 0.55, normals @ dorsal)
        s0, half = 0.32 * L, 0.72 * width
        on = (_smoothstep(s0, s0 + 0.0009, s) * _smoothstep(half, half - 0.0009, np.abs(t)) * facing * seg)
        plate = np.maximum(plate, on)
        band = (np.exp(-((s - (s0 - 0.0012)) / 0.0009) ** 2) * (np.abs(t) < half)
                + np.exp(-((np.abs(t) - (half + 0.0012)) / 0.0009) ** 2) * (s > s0))
        fold = np.maximum(fold, np.clip(band, 0, 1) * facing * seg * (s < 1.15 * L))
    return plate, fold


def _gauss(verts, centre, sigmas, axes):
    rel = verts - centre
    q = sum(((rel @ a) / s) ** 2 for a, s in zip(axes, sigmas, strict=True))
    return np.exp(-0.5 * q)


def _surface_point(verts, W, joint, direction, segs):
    """Where a ray from ``joint`` along ``direction`` leaves the skin (nearest vertex of those segments)."""
    cand = np.nonzero(W[:, segs].sum(1) > 0.3)[0]
    rel = verts[cand] - joint
    along = rel @ direction
    off = np.linalg.norm(rel - np.outer(along, direction), axis=1)
    best = cand[np.argmin(off - 0.3 * along)]
    return verts[best]


def sculpt(verts, faces, W, uv, faces_uv, joints, tips, frames):
    """Refine the fingertips, then sculpt nails, knuckles, pulps and palm pads. Returns the new arrays."""
    distal = [FINGER_JOINTS[f][2] for f in FINGERS]
    for rounds in range(2):
        normals = vertex_normals(verts, faces)
        dorsal = np.zeros(len(verts))
        for j in distal:  # how much each vertex faces the nail side of its fingertip
            dorsal += W[:, j] * (normals @ np.cross(frames[j][:, 2], frames[j][:, 0]))
        in_tip = (W[:, distal].sum(1) > 0.35) & (dorsal > -0.1)
        if rounds == 1:  # second round: the nail bed only
            plate, fold = nail_masks(verts, normals, W, joints, tips, frames)
            in_tip = in_tip & ((plate + fold) > 0.02)
        marked = in_tip[faces].any(1)
        verts, faces, W, uv, faces_uv = refine(verts, faces, W, uv, faces_uv, marked)
    W = W / W.sum(1, keepdims=True)

    normals = vertex_normals(verts, faces)
    disp = np.zeros(len(verts))
    plate, fold = nail_masks(verts, normals, W, joints, tips, frames)
    disp += 0.00045 * plate - 0.00030 * fold

    ex, ey, ez = np.eye(3)
    # Knuckles: dorsal bumps over MCP, PIP (and a little over DIP) joints.
    for f in FINGERS:
        for j, (amp, sig) in zip(FINGER_JOINTS[f], ((0.0016, 0.0065), (0.0010, 0.0050), (0.0005, 0.0038)), strict=True):
            _, _, _, dorsal = _segment_coords(verts[:1], joints[j], frames[j])
            c = _surface_point(verts, W, joints[j], dorsal, [j, MANO_PARENTS[j]])
            disp += amp * _gauss(verts, c, (sig, sig, sig), (ex, ey, ez)) * (normals @ dorsal > 0.2)
        # Finger pulp: the palmar pad of the fingertip.
        j = FINGER_JOINTS[f][2]
        s, t, h, dorsal = _segment_coords(verts, joints[j], frames[j])
        L = (tips[FINGERS.index(f)] - joints[j]) @ frames[j][:, 2]
        disp += 0.0007 * np.exp(-0.5 * (((s - 0.55 * L) / (0.3 * L)) ** 2 + (t / 0.005) ** 2)) \
            * (normals @ -dorsal > 0.3) * (W[:, j] > 0.5)

    # Palm: thenar and hypothenar eminences, pads under the knuckles, a hollow in the middle.
    palmar = normals @ -ez > 0.3
    palm = W[:, 0] + W[:, 13]
    thenar_c = _surface_point(verts, W, 0.55 * joints[13] + 0.45 * joints[14] + 0.006 * ex, -ez, [0, 13])
    hyp_c = _surface_point(verts, W, 0.5 * joints[0] + 0.5 * joints[7] - 0.008 * ey, -ez, [0])
    disp += 0.0030 * _gauss(verts, thenar_c, (0.016, 0.011), (ex, ey)) * palmar * palm
    disp += 0.0022 * _gauss(verts, hyp_c, (0.020, 0.009), (ex, ey)) * palmar * palm
    for f in ("index", "middle", "ring", "pinky"):
        j = FINGER_JOINTS[f][0]
        c = _surface_point(verts, W, joints[j] - 0.009 * ex, -ez, [0])
        disp += 0.0013 * _gauss(verts, c, (0.0065, 0.008), (ex, ey)) * palmar * W[:, 0]
    centre = _surface_point(verts, W, 0.45 * joints[0] + 0.55 * joints[4] - 0.004 * ey, -ez, [0])
    disp -= 0.0018 * _gauss(verts, centre, (0.014, 0.012), (ex, ey)) * palmar * W[:, 0]

    verts = verts + disp[:, None] * normals
    parts = W.argmax(1)
    parts[nail_masks(verts, vertex_normals(verts, faces), W, joints, tips, frames)[0] > 0.5] = NAIL
    return verts, faces, W, uv, faces_uv, parts, PART_NAMES


def tip_vertex(verts, W, joints, tips, finger):
    """The fingertip keypoint vertex: the most distal vertex of the finger's last segment."""
    j = FINGER_JOINTS[finger][2]
    d = tips[FINGERS.index(finger)] - joints[j]
    d /= np.linalg.norm(d)
    cand = np.nonzero(W[:, j] > 0.5)[0]
    return int(cand[np.argmax((verts[cand] - joints[j]) @ d)])
