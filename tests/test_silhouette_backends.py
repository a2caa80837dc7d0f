"""One silhouette interface: backend choice on CPU, nvdiffrast's camera convention, and (CUDA only) agreement
of nvdiffrast with the soft rasteriser."""
import pytest
import torch

from realhands.camera import Camera, clip_coordinates
from realhands.model import HandModel
from realhands.render import nvdiff
from realhands.render.rasterize import rasterize
from realhands.render.silhouette import choose_backend, render_silhouette
from realhands.render.soft import soft_silhouette


def _hand(device="cpu"):
    m = HandModel(flat_hand_mean=True)
    pose = torch.as_tensor(m.data.pose_library[[1]], dtype=torch.float32)
    R = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # fingers up the image
    v = m(hand_pose=pose).vertices @ R.T + torch.tensor([0.0, 0.03, 0.45])
    K = Camera(300.0, 300.0, 64.0, 64.0).K_tensor(torch.float32)[None]
    return v.to(device), torch.as_tensor(m.data.faces).to(device), K.to(device)


def test_auto_picks_the_soft_rasteriser_on_cpu(monkeypatch):
    monkeypatch.delenv("REALHANDS_SILHOUETTE_BACKEND", raising=False)
    assert choose_backend("cpu") == "soft"
    assert choose_backend("cpu", "soft") == "soft"
    monkeypatch.setenv("REALHANDS_SILHOUETTE_BACKEND", "soft")
    assert choose_backend("cuda") == "soft"  # the environment overrides "auto" ...
    monkeypatch.setenv("REALHANDS_SILHOUETTE_BACKEND", "bogus")
    with pytest.raises(ValueError, match="must be one of"):
        choose_backend("cpu")
    assert choose_backend("cpu", "soft") == "soft"  # ... but not an explicit choice


def test_unknown_or_unavailable_backend_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="must be one of"):
        choose_backend("cpu", "pytorch3d")
    if not nvdiff.available():
        with pytest.raises(RuntimeError, match=r"realhands\[cuda\]"):
            choose_backend("cpu", "nvdiffrast")


def test_render_silhouette_on_cpu_is_the_soft_rasteriser():
    v, faces, K = _hand()
    a = render_silhouette(v, faces, K, 128, 128, sigma=0.5)
    b = soft_silhouette(v, faces, K, 128, 128, sigma=0.5)
    assert torch.equal(a, b)


def test_clip_coordinates_put_vertices_on_their_opencv_pixels():
    """nvdiffrast maps clip (x/w, y/w) in [-1,1] to pixel coordinates (x/w+1)/2*W, row (y/w+1)/2*H; that must be
    the pinhole projection K·X/Z that the soft rasteriser and the rest of the code use."""
    v, _, K = _hand()
    clip = clip_coordinates(v, K, 96, 128)
    ndc = clip[..., :3] / clip[..., 3:]
    pix = torch.stack([(ndc[..., 0] + 1) / 2 * 128, (ndc[..., 1] + 1) / 2 * 96], -1)
    proj = (v / v[..., 2:]) @ K[0].T
    assert torch.allclose(pix, proj[..., :2], atol=1e-3)
    assert (ndc[..., 2].abs() < 1).all()  # inside the depth range, so nothing is clipped away


@pytest.mark.cuda
@pytest.mark.skipif(not nvdiff.available(), reason="needs CUDA and nvdiffrast (pip install 'realhands[cuda]')")
def test_nvdiffrast_agrees_with_the_soft_rasteriser_and_passes_gradients():
    v, faces, K = _hand("cuda")
    hard = rasterize(v.cpu(), faces.cpu(), K.cpu(), 128, 128).mask[0]
    v = v.clone().requires_grad_(True)
    nv = render_silhouette(v, faces, K, 128, 128, backend="nvdiffrast")[0]
    soft = render_silhouette(v, faces, K, 128, 128, backend="soft", sigma=0.5)[0]
    inter = ((nv > 0.5) & (soft > 0.5)).sum().item()
    union = ((nv > 0.5) | (soft > 0.5)).sum().item()
    assert inter / union > 0.97
    assert ((nv.cpu() > 0.5) == hard).float().mean() > 0.995
    (nv * torch.linspace(0, 1, 128, device="cuda")[None, :]).sum().backward()
    assert torch.isfinite(v.grad).all() and v.grad.abs().sum() > 0
