"""RealHands: camera images of a hand -> a personalised, textured, animated 3D hand in a game engine.

Public API (more arrives with each pipeline stage)::

    from realhands import HandModel
    hand = HandModel(side="right")          # our open model, or official MANO files when the user has them
    out = hand(hand_pose=pose, betas=betas) # out.vertices (B,V,3) m, out.joints (B,21,3), out.joint_transforms

    from realhands import reconstruct
    hands = reconstruct(image_rgb)          # list[HandResult]: 3D hands in camera coordinates
"""
__version__ = "0.1.0"

__all__ = ["HandModel", "HandOutput", "load_hand_model", "Config", "reconstruct", "Reconstructor", "HandResult"]


def __getattr__(name):  # keep `import realhands` light: torch loads on first use
    if name in ("HandModel", "HandOutput", "load_hand_model"):
        from . import model

        return getattr(model, name)
    if name in ("reconstruct", "Reconstructor", "HandResult"):
        from . import reconstruct as module

        return getattr(module, name)
    if name == "Config":
        from .config import Config

        return Config
    raise AttributeError(f"module 'realhands' has no attribute {name!r}")
