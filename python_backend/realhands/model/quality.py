"""Mesh-quality checks and body measurements for hand models (numpy only, no spatial-index packages)."""
from __future__ import annotations

import numpy as np


def edge_face_counts(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique undirected edges (E,2) and how many faces use each."""
    e = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    edges, counts = np.unique(e, axis=0, return_counts=True)
    return edges, counts


def is_watertight(faces: np.ndarray) -> bool:
    """Every edge is shared by exactly two faces (closed, edge-manifold)."""
    _, counts = edge_face_counts(faces)
    return bool(np.all(counts == 2))


def is_vertex_manifold(faces: np.ndarray, num_vertices: int) -> bool:
    """Manifold (with or without boundary): every edge has at most two faces and the faces around each
    vertex form one fan, closed (interior vertex) or open (boundary vertex); no unused vertices."""
    _, counts = edge_face_counts(faces)
    if np.any(counts > 2):
        return False
    link = {}  # vertex -> {a: b} for each face (v, a, b) in winding order
    for f in faces:
        for k in range(3):
            v, a, b = int(f[k]), int(f[(k + 1) % 3]), int(f[(k + 2) % 3])
            ring = link.setdefault(v, {})
            if a in ring:
                return False  # two faces leave v through the same edge the same way
            ring[a] = b
    for ring in link.values():
        starts = set(ring) - set(ring.values())  # a boundary fan starts where no face ends
        if len(starts) > 1:
            return False
        cur = next(iter(starts)) if starts else next(iter(ring))
        seen = 0
        while cur in ring and seen <= len(ring):
            cur = ring[cur]
            seen += 1
            if not starts and cur == next(iter(ring)):
                break
        if seen != len(ring):
            return False
    return len(link) == num_vertices


def is_consistently_oriented(faces: np.ndarray) -> bool:
    """Every directed edge appears once: neighbouring faces agree on winding."""
    d = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    return len(np.unique(d, axis=0)) == len(d)


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Enclosed volume in m^3; positive when faces wind counter-clockwise seen from outside."""
    t = vertices[faces]
    return float(np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6.0)


def winding_number(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Generalised winding number of each point (P,3): ~1 inside a closed outward mesh, ~0 outside."""
    out = np.empty(len(points))
    for i, p in enumerate(np.atleast_2d(points)):
        a, b, c = (vertices[faces[:, k]] - p for k in range(3))
        la, lb, lc = (np.linalg.norm(x, axis=1) for x in (a, b, c))
        num = np.einsum("ij,ij->i", a, np.cross(b, c))
        den = (la * lb * lc + np.einsum("ij,ij->i", a, b) * lc + np.einsum("ij,ij->i", b, c) * la
               + np.einsum("ij,ij->i", c, a) * lb)
        out[i] = np.sum(2.0 * np.arctan2(num, den)) / (4.0 * np.pi)
    return out


def _segments_hit_triangles(p0, p1, t0, t1, t2, eps=1e-12):
    """Vectorised Moller-Trumbore: does segment p0->p1 cross triangle (t0,t1,t2)? All (N,3)."""
    d = p1 - p0
    e1, e2 = t1 - t0, t2 - t0
    h = np.cross(d, e2)
    a = np.einsum("ij,ij->i", e1, h)
    ok = np.abs(a) > eps
    f = np.where(ok, 1.0 / np.where(ok, a, 1.0), 0.0)
    s = p0 - t0
    u = f * np.einsum("ij,ij->i", s, h)
    q = np.cross(s, e1)
    v = f * np.einsum("ij,ij->i", d, q)
    t = f * np.einsum("ij,ij->i", e2, q)
    return ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t >= 0) & (t <= 1)


def _overlapping_boxes(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(K,2) index pairs i<j of axis-aligned boxes (N,3) that overlap (sweep and prune along x)."""
    order = np.argsort(lo[:, 0], kind="stable")
    lo_s, hi_s = lo[order], hi[order]
    end = np.searchsorted(lo_s[:, 0], hi_s[:, 0], side="right")
    count = end - np.arange(len(order)) - 1
    first = np.repeat(np.arange(len(order)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    second = first + 1 + offset
    keep = np.all((lo_s[first, 1:] <= hi_s[second, 1:]) & (lo_s[second, 1:] <= hi_s[first, 1:]), axis=1)
    return np.stack([order[first[keep]], order[second[keep]]], axis=1)


def self_intersections(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(K,2) pairs of faces that intersect each other and share no vertex."""
    tri = vertices[faces]
    pairs = _overlapping_boxes(tri.min(1), tri.max(1))
    if len(pairs) == 0:
        return pairs
    shared = (faces[pairs[:, 0], :, None] == faces[pairs[:, 1], None, :]).any(axis=(1, 2))
    pairs = pairs[~shared]
    hit = np.zeros(len(pairs), dtype=bool)
    for a_col, b_col in ((0, 1), (1, 0)):
        A, B = tri[pairs[:, a_col]], tri[pairs[:, b_col]]
        for k in range(3):
            hit |= _segments_hit_triangles(A[:, k], A[:, (k + 1) % 3], B[:, 0], B[:, 1], B[:, 2])
    return pairs[hit]


def hand_measurements(vertices: np.ndarray, joints16: np.ndarray, tips: np.ndarray,
                      palm: np.ndarray | None = None) -> dict:
    """Hand length and breadth in metres, in a flat pose.

    length: wrist joint to the middle fingertip along the hand axis (wrist -> middle knuckle);
    breadth: width of the palm just proximal of the knuckles, index side to pinky side (metacarpal breadth).
    ``palm`` (V,) bool marks palm vertices (bound to the wrist joint), keeping the thumb out of the breadth.
    """
    axis = joints16[4] - joints16[0]
    axis /= np.linalg.norm(axis)
    length = float((tips[2] - joints16[0]) @ axis)
    across = joints16[1] - joints16[7]
    across -= (across @ axis) * axis
    across /= np.linalg.norm(across)
    level = joints16[[1, 4, 7, 10]].mean(0) @ axis - 0.01  # just proximal of the knuckles
    band = np.abs(vertices @ axis - level) < 0.004
    if palm is not None:
        band &= palm
    breadth = float(np.ptp(vertices[band] @ across)) if band.any() else float("nan")
    return {"hand_length_m": length, "hand_breadth_m": breadth}


def joint_clearance(vertices: np.ndarray, joints: np.ndarray, weights: np.ndarray, parents) -> np.ndarray:
    """(J,) distance from each joint to the nearest vertex of its own skin, metres.

    Own skin: vertices bound (weight > 0.3) to the joint or its parent, so other fingers touching it do not
    count. Compared with the rest pose, a value that shrinks in a bent pose means a collapsing joint.
    """
    out = np.full(len(joints), np.nan)
    for j in range(len(joints)):
        mask = weights[:, j] + (weights[:, parents[j]] if parents[j] >= 0 else 0.0) > 0.3
        if mask.any():
            out[j] = np.min(np.linalg.norm(vertices[mask] - joints[j], axis=1))
    return out
