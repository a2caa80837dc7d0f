"""Test-time silhouette refinement (``silhouette.SilhouetteRefiner``: pose, shape, per-vertex offsets and placement
against one or more views' masks, with a divergence guard). The Reconstructor's "refine" stage."""
