"""Anatomical data for our hand model: joint limits and the pose library, in degrees.

Angles per joint are (flexion, radial deviation, twist); signs as in ``realhands.model.anatomy``.

Joint limits: active ranges of motion from the American Academy of Orthopaedic Surgeons, "Joint Motion:
Method of Measuring and Recording" (1965), Hume et al., "Functional range of motion of the joints of the
hand", J. Hand Surg. 15A (1990) 240-243, and the thumb CMC ranges of Cobos et al., "Efficient human hand
kinematics for manipulation tasks", IROS 2008 (their Table I), rounded outwards by about 5 degrees so that
passive motion and fitting noise stay inside. Twist (axial rotation) is not an active motion of the finger
joints; the small ranges allowed here absorb soft-tissue slack and marker noise, as MANO's training scans show.
"""
from __future__ import annotations

FINGERS4 = ("index", "middle", "ring", "pinky")

#: (min, max) degrees per joint kind and angle.
LIMITS_DEG = {
    "mcp": {"flex": (-30, 95), "radial": (-25, 25), "twist": (-12, 12)},
    "pip": {"flex": (-8, 115), "radial": (-6, 6), "twist": (-8, 8)},
    "dip": {"flex": (-15, 90), "radial": (-6, 6), "twist": (-8, 8)},
    "thumb_cmc": {"flex": (-25, 55), "radial": (-20, 60), "twist": (-40, 30)},
    "thumb_mcp": {"flex": (-15, 75), "radial": (-10, 15), "twist": (-20, 20)},
    "thumb_ip": {"flex": (-25, 90), "radial": (-6, 6), "twist": (-8, 8)},
}


def finger(mcp=0.0, pip=0.0, dip=None, radial=0.0, twist=0.0):
    """Angles of one finger's three joints; DIP follows PIP (2/3 coupling) unless given."""
    dip = 0.66 * pip if dip is None else dip
    return [(mcp, radial, twist), (pip, 0.0, 0.0), (dip, 0.0, 0.0)]


def thumb(cmc_flex=0.0, cmc_radial=0.0, cmc_twist=0.0, mcp=0.0, ip=0.0):
    return [(cmc_flex, cmc_radial, cmc_twist), (mcp, 0.0, 0.0), (ip, 0.0, 0.0)]


def _spread(i, s):  # radial deviation of index..pinky for a spread of s degrees (towards the thumb > 0)
    return (s, 0.0, -0.8 * s, -1.6 * s)[i]


def _pose(fingers: dict, thumb_angles: list) -> dict:
    pose = {"thumb": thumb_angles}
    pose.update(fingers)
    return pose


def _all(mcp, pip, dip=None, spread=0.0, step=0.0):
    return {f: finger(mcp + step * i, pip + step * i, dip, _spread(i, spread)) for i, f in enumerate(FINGERS4)}


#: name -> {finger: [(flex, radial, twist) x 3 joints, base outwards]}, degrees.
POSE_LIBRARY = {
    "flat": _pose(_all(0, 0, 0), thumb()),
    "relaxed": _pose(_all(18, 28, 12, spread=2, step=6), thumb(10, 20, -10, 12, 12)),
    "fist": _pose(_all(88, 100, 65), thumb(35, 10, -30, 50, 45)),
    "point": _pose({"index": finger(0, 0, 0), **{f: finger(88, 100, 65) for f in FINGERS4[1:]}},
                   thumb(35, 5, -30, 45, 40)),
    "pinch": _pose({"index": finger(45, 50, 20), "middle": finger(30, 40), "ring": finger(30, 45),
                    "pinky": finger(30, 50)},
                   thumb(30, 45, -30, 20, 15)),
    "ok": _pose({"index": finger(55, 60, 25), "middle": finger(8, 8, radial=-4), "ring": finger(12, 10, radial=-8),
                 "pinky": finger(15, 10, radial=-14)},
                thumb(30, 45, -32, 22, 20)),
    "thumbs_up": _pose(_all(88, 100, 65), thumb(-15, 35, 10, 0, 0)),
    "spread": _pose(_all(0, 0, 0, spread=18), thumb(-10, 55, 10, 0, 0)),
    "victory": _pose({"index": finger(0, 0, 0, radial=12), "middle": finger(0, 0, 0, radial=-8),
                      "ring": finger(85, 100, 65), "pinky": finger(85, 100, 65)},
                     thumb(35, 10, -30, 45, 40)),
    "claw": _pose(_all(-10, 85, 70, spread=6), thumb(0, 40, -10, 30, 40)),
    "grasp_cylinder": _pose(_all(55, 60, 35, step=4), thumb(25, 40, -25, 25, 25)),
    "hook": _pose(_all(0, 95, 70), thumb(0, 15, 0, 5, 5)),
}

#: How often each library pose (per finger) is drawn when sampling poses for the hand-pose PCA. Everyday hands
#: are mostly relaxed, open or grasping; fists, hooks and claws are rarer. With these weights the PCA mean is a
#: relaxed, slightly flexed hand, as MANO's mean pose is (our judgement, not a measured frequency).
PCA_POSE_WEIGHTS = {
    "flat": 1.5, "relaxed": 4.0, "fist": 0.8, "point": 1.0, "pinch": 1.5, "ok": 1.0, "thumbs_up": 0.5,
    "spread": 1.5, "victory": 0.7, "claw": 0.3, "grasp_cylinder": 1.5, "hook": 0.3,
}
