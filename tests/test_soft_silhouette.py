"""Soft silhouette rasteriser: equals the dense reference, matches the hard mask, passes gradients."""
import torch

from realhands.camera import Camera
from realhands.model import HandModel
from realhands.render.rasterize import rasterize
from realhands.render.soft import soft_silhouette, soft_silhouette_dense


def _hand(batch=1, dtype=torch.float64):
    m = HandModel(flat_hand_mean=True, dtype=dtype)
    pose = torch.as_tensor(m.data.pose_library[[1, 2][:batch]], dtype=dtype)
    R = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=dtype)  # fingers up the image
    v = m(hand_pose=pose).vertices @ R.T + torch.tensor([0.0, 0.03, 0.45], dtype=dtype)
    return m, v


def test_fast_equals_dense_reference_on_a_small_image():
    m, v = _hand(batch=2)
    K = Camera(60.0, 60.0, 24.0, 24.0).K_tensor()[None].expand(2, 3, 3)
    faces = torch.as_tensor(m.data.faces)
    fast = soft_silhouette(v, faces, K, 48, 48, sigma=1.0)
    dense = soft_silhouette_dense(v, faces, K, 48, 48, sigma=1.0)
    assert fast.shape == (2, 48, 48)
    assert (fast - dense).abs().max() < 1e-3  # equal but for faces farther than the reach (D < 1e-5 each)
    assert (fast > 0.5).sum() > 50


def test_soft_silhouette_matches_the_hard_mask():
    m, v = _hand()
    K = Camera(300.0, 300.0, 64.0, 64.0).K_tensor()[None]
    faces = torch.as_tensor(m.data.faces)
    soft = soft_silhouette(v, faces, K, 128, 128, sigma=0.5)
    hard = rasterize(v, faces, K, 128, 128).mask
    agree = ((soft > 0.5) == hard).float().mean()
    assert agree > 0.995


def test_gradients_reach_the_vertices_and_move_the_silhouette():
    m, v = _hand(dtype=torch.float32)
    K = Camera(200.0, 200.0, 32.0, 32.0).K_tensor(torch.float32)[None]
    faces = torch.as_tensor(m.data.faces)
    target = soft_silhouette(v + torch.tensor([0.004, 0.0, 0.0]), faces, K, 64, 64).detach()
    shift = torch.zeros(2, requires_grad=True)  # an image-plane shift of the mesh (x, y), metres
    opt = torch.optim.Adam([shift], lr=3e-4)
    for _ in range(60):
        sil = soft_silhouette(v + torch.cat([shift, torch.zeros(1)]), faces, K, 64, 64)
        loss = ((sil - target) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        assert torch.isfinite(shift.grad).all() and shift.grad.abs().sum() > 0
        opt.step()
    assert abs(shift[0].item() - 0.004) < 0.001 and abs(shift[1].item()) < 0.001, shift


def test_fused_backward_equals_autograd_of_the_dense_reference():
    m, v = _hand()
    K = Camera(50.0, 50.0, 16.0, 16.0).K_tensor()[None]
    faces = torch.as_tensor(m.data.faces)
    weights = torch.rand(1, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    grads = []
    for fn in (soft_silhouette, soft_silhouette_dense):
        x = v.clone().requires_grad_()
        (fn(x, faces, K, 32, 32, sigma=1.0) * weights).sum().backward()
        grads.append(x.grad)
    scale = grads[1].abs().max()
    assert scale > 0
    assert (grads[0] - grads[1]).abs().max() < 1e-3 * scale
