"""A forearm mesh grown from a hand model's wrist, so renders show a hand on an arm rather than a cut-off hand."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Forearm:
    """Closed tube in the hand's rest model space (metres), starting on the hand mesh's wrist rim.

    vertices (N,3), faces (M,3) counter-clockwise from outside; ``along`` (N,) distance from the rim (m);
    ``dorsal_weight`` (N,) in [0,1]: how much each vertex lies on the back-of-hand side; ``bend_weight`` (N,):
    0 on the rim ring (moves with the hand), rising to 1 a few centimetres up the arm (moves with the forearm);
    ``hidden_hand_faces`` (F,) bool: faces of the hand mesh inside the forearm (its wrist cap), not drawn;
    ``rim_vertex_ids`` (n,): the hand vertices of the rim; tube vertex i (but the last, the elbow cap's
    centre) lies on ring i // n at the angle of rim vertex i % n.
    """

    vertices: np.ndarray
    faces: np.ndarray
    along: np.ndarray
    dorsal_weight: np.ndarray
    bend_weight: np.ndarray
    hidden_hand_faces: np.ndarray
    rim_vertex_ids: np.ndarray


def _loop_from_edges(edges: np.ndarray) -> list[int]:
    """Order undirected edges forming one closed loop (the longest if several) into a vertex cycle."""
    nbr = {}
    for a, b in edges:
        nbr.setdefault(int(a), []).append(int(b))
        nbr.setdefault(int(b), []).append(int(a))
    best, seen = [], set()
    for start in nbr:
        if start in seen:
            continue
        loop, prev, cur = [start], None, start
        while True:
            seen.add(cur)
            nxt = [n for n in nbr[cur] if n != prev]
            if not nxt or nxt[0] == start:
                break
            prev, cur = cur, nxt[0]
            if cur in seen:
                break
            loop.append(cur)
        if len(loop) > len(best):
            best = loop
    return best


def wrist_rim(v_template: np.ndarray, faces: np.ndarray, distal: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Vertex loop where the forearm attaches, and a (F,) mask of the hand faces it hides: the open boundary
    of a mesh that stops at the wrist (MANO; nothing hidden), or the edge between the side wall and the end
    cap of a closed wrist stub (ours; the cap is hidden inside the forearm)."""
    e = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    uniq, inv, counts = np.unique(e, axis=0, return_inverse=True, return_counts=True)
    if np.any(counts == 1):
        return _loop_from_edges(uniq[counts == 1]), np.zeros(len(faces), dtype=bool)
    tri = v_template[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    s = tri.mean(1) @ distal
    cap = (n @ -distal > 0.5) & (s < (v_template @ distal).min() + 0.01)  # the stub's end face
    face_of_edge = np.tile(np.arange(len(faces)), 3)[np.argsort(inv, kind="stable")]  # edge k is on face k % F
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    f0, f1 = face_of_edge[first], face_of_edge[first + 1]
    rim = uniq[cap[f0] != cap[f1]]
    return _loop_from_edges(rim), cap


def make_forearm(v_template: np.ndarray, faces: np.ndarray, wrist: np.ndarray, length: float = 0.26,
                 rings: int = 16, flare: float = 1.22, distal=(1.0, 0.0, 0.0), dorsal=(0.0, 0.0, 1.0),
                 blend: float = 0.03) -> Forearm:
    """A tube whose first ring is the hand mesh's wrist rim, easing within ``blend`` metres into an elliptic
    cross-section and running ``length`` metres up the arm while thickening by ``flare``.

    ``distal`` and ``dorsal`` are the hand's rest-space axes (our model: x and z).
    """
    distal, dorsal = np.asarray(distal, float), np.asarray(dorsal, float)
    side = np.cross(dorsal, distal)
    loop, hidden = wrist_rim(v_template, faces, distal)
    if len(loop) < 6:
        raise ValueError("could not find the hand mesh's wrist rim to attach a forearm to")
    rim = v_template[loop]
    # orient the loop so that it runs counter-clockwise about -distal (outward faces below)
    centre = rim.mean(0)
    rel = rim - centre
    ang = np.arctan2(rel @ dorsal, rel @ side)
    if np.sum(np.diff(np.unwrap(ang))) < 0:
        loop, rim, ang = loop[::-1], rim[::-1], ang[::-1]
        rel = rim - centre
    a = np.abs(rel @ side).max()
    b = np.abs(rel @ dorsal).max()
    start = float((rim @ distal).min())
    ellipse = (centre - (centre @ distal) * distal + np.outer(a * np.cos(ang), side)
               + np.outer(b * np.sin(ang), dorsal))  # same angles as the rim vertices, on an ellipse
    stations = np.concatenate([np.linspace(0.0, blend, 4)[:-1], np.linspace(blend, length, rings - 3)])
    verts, along, bendw = [], [], []
    for d in stations:
        t = min(d / blend, 1.0)
        t = t * t * (3 - 2 * t)
        grow = 1.0 + (flare - 1.0) * (d / length) ** 0.8
        base = (1 - t) * rim + t * (ellipse + np.outer(np.full(len(rim), start), distal))
        c = base.mean(0)
        ring = c + (base - c) * grow - np.outer(np.full(len(rim), d), distal)
        if d == 0.0:
            ring = rim.copy()
        verts.append(ring)
        along.append(np.full(len(rim), d))
        bendw.append(np.full(len(rim), t))
    n = len(rim)
    verts, along, bendw = np.concatenate(verts), np.concatenate(along), np.concatenate(bendw)
    R = len(stations)
    out = []
    for r in range(R - 1):
        for k in range(n):
            p, q = r * n + k, r * n + (k + 1) % n
            out += [(p, q, p + n), (q, q + n, p + n)]
    c = len(verts)
    verts = np.vstack([verts, verts[(R - 1) * n:].mean(0)])
    along, bendw = np.append(along, along[-1]), np.append(bendw, 1.0)
    side_faces = np.array(out, dtype=np.int64)
    cap = np.array([(c, (R - 1) * n + (k + 1) % n, (R - 1) * n + k) for k in range(n)], dtype=np.int64)
    out = side_faces
    # orient outward: a side face must point away from the tube's axis
    tri = verts[out[2 * n]]
    fn = np.cross(tri[1] - tri[0], tri[2] - tri[0])
    radial = tri.mean(0) - centre
    radial -= (radial @ distal) * distal
    if fn @ radial < 0:
        out = out[:, ::-1].copy()
    tri = verts[cap[0]]
    if np.cross(tri[1] - tri[0], tri[2] - tri[0]) @ distal > 0:  # the elbow cap faces up the arm (-distal)
        cap = cap[:, ::-1].copy()
    out = np.concatenate([out, cap])
    rel = verts - centre
    rel -= np.outer(rel @ distal, distal)
    dorsal_weight = 1.0 / (1.0 + np.exp(-8.0 * (rel @ dorsal) / np.maximum(np.linalg.norm(rel, axis=1), 1e-9)))
    return Forearm(verts, out, along, dorsal_weight, bendw, hidden, np.asarray(loop, dtype=np.int64))
