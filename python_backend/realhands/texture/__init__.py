"""The user's own hand texture: the image projected into the model's UV atlas, fused over time and views.

    atlas = UVAtlas.for_model(model_data)              # the model's UVs, or xatlas ones, cached
    fusion = TextureFusion(atlas)
    fusion.update(observe(atlas, vertices, faces, K, image, mask))   # per frame (and per view)
    fusion.save_png("hand.png"); fusion.export_glb("hand.glb", vertices, faces)
"""
from .atlas import UVAtlas, compute_uvs
from .fill import push_pull_fill
from .fusion import TextureFusion
from .projection import TextureObservation, combine, observe

__all__ = ["UVAtlas", "compute_uvs", "TextureFusion", "push_pull_fill", "TextureObservation", "combine", "observe"]
