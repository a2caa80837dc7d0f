"""A forearm mesh fitted to a hand model's wrist, so renders show a hand on an arm rather than a cut-off hand."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Forearm:
    """Closed tube in the hand's rest model space (metres), attached at the wrist joint.

    vertices (N,3), faces (M,3) counter-clockwise from outside, ``along`` (N,) distance from the wrist (m),
    ``dorsal_weight`` (N,) in [0,1]: how much each vertex lies on the back-of-hand side.
    """

    vertices: np.ndarray
    faces: np.ndarray
    along: np.ndarray
    dorsal_weight: np.ndarray


def wrist_section(v_template: np.ndarray, wrist: np.ndarray, distal: np.ndarray, side_axis: np.ndarray,
                  dorsal: np.ndarray, band=(-0.012, -0.004)):
    """Centre and semi-axes (side, dorsal) of the hand mesh's cross-section just proximal of the wrist joint."""
    s = (v_template - wrist) @ distal
    ring = v_template[(s > band[0]) & (s < band[1])]
    if len(ring) < 6:  # a mesh that stops at the wrist (e.g. MANO): use the last centimetre
        ring = v_template[s < np.percentile(s, 3)]
    centre = ring.mean(0)
    a = 0.5 * np.ptp((ring - centre) @ side_axis)
    b = 0.5 * np.ptp((ring - centre) @ dorsal)
    return centre, a, b


def make_forearm(v_template: np.ndarray, wrist: np.ndarray, length: float = 0.26, around: int = 28,
                 rings: int = 14, flare: float = 1.22, distal=(1.0, 0.0, 0.0), dorsal=(0.0, 0.0, 1.0)) -> Forearm:
    """Elliptic tube continuing the hand mesh's wrist stub ``length`` metres proximally, thickening by ``flare``.

    It starts a few millimetres inside the end of the stub with the stub's own cross-section, so it covers the
    stub's rounded end and hand and arm join without a step. ``distal`` and ``dorsal`` are the hand's
    rest-space axes (our model: x and z).
    """
    distal, dorsal = np.asarray(distal, float), np.asarray(dorsal, float)
    side = np.cross(dorsal, distal)
    stub_end = float(((v_template - wrist) @ distal).min())  # the most proximal point of the hand mesh
    centre, a, b = wrist_section(v_template, wrist, distal, side, dorsal, band=(stub_end + 0.012, stub_end + 0.016))
    a, b = 1.01 * a, 1.01 * b
    lateral = centre - wrist - ((centre - wrist) @ distal) * distal
    start = stub_end + 0.014
    stations = [(start, 1.0)] + [(start - ti * length, 1.0 + (flare - 1.0) * ti ** 0.8)
                                 for ti in np.linspace(0.0, 1.0, rings)[1:]]
    theta = np.linspace(0.0, 2 * np.pi, around, endpoint=False)
    verts, along = [], []
    for s_pos, grow in stations:
        pos = wrist + distal * s_pos + lateral
        verts.append(pos + np.outer(a * grow * np.cos(theta), side) + np.outer(b * grow * np.sin(theta), dorsal))
        along.append(np.full(around, start - s_pos))
    rings = len(stations)
    verts = np.concatenate(verts)
    along = np.concatenate(along)
    faces = []
    for r in range(rings - 1):
        for k in range(around):
            p, q = r * around + k, r * around + (k + 1) % around
            faces += [(p, p + around, q), (q, p + around, q + around)]
    # caps: the elbow end and the wrist end (hidden inside the hand, closes the tube)
    for ring_index, flip in ((rings - 1, False), (0, True)):
        c = len(verts)
        verts = np.vstack([verts, verts[ring_index * around:(ring_index + 1) * around].mean(0)])
        along = np.append(along, along[ring_index * around])
        for k in range(around):
            p, q = ring_index * around + k, ring_index * around + (k + 1) % around
            faces.append((c, q, p) if not flip else (c, p, q))
    faces = np.array(faces, dtype=np.int64)
    # orient outward: the side faces must point away from the tube's axis
    tri = verts[faces[2 * around]]
    n = np.cross(tri[1] - tri[0], tri[2] - tri[0])
    radial = tri.mean(0) - wrist - lateral
    radial -= (radial @ distal) * distal
    if n @ radial < 0:
        faces = faces[:, ::-1].copy()
    radial = verts - wrist - lateral
    radial -= np.outer(radial @ distal, distal)
    dorsal_weight = 1.0 / (1.0 + np.exp(-8.0 * (radial @ dorsal) / np.maximum(np.linalg.norm(radial, axis=1), 1e-9)))
    return Forearm(verts, faces, along, dorsal_weight)
