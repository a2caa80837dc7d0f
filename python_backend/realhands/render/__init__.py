"""Rendering in torch, CPU or CUDA: the batched triangle rasteriser (``rasterize``), the shaded, textured hand and
forearm renderer of the synthetic data (``renderer``, ``forearm``), and differentiable silhouettes (``soft``: the
soft rasteriser; ``nvdiff``: nvdiffrast on CUDA; ``silhouette``: one interface that picks). Cameras come in as
(B,3,3) K tensors (realhands.camera)."""
