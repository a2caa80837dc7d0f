"""Texture atlas: a known texture is recovered where visible, smoothing, stereo, gap filling, export, xatlas UVs."""
import numpy as np
import pytest
import torch

from realhands.camera import Camera
from realhands.model import HandModel
from realhands.model.io import load_model_data
from realhands.render.rasterize import rasterize
from realhands.texture import TextureFusion, UVAtlas, combine, compute_uvs, observe, push_pull_fill

SIZE = 128


@pytest.fixture(scope="module")
def scene():
    """A hand seen palm-on by a 256x256 camera, rendered unlit with a known texture (nearest texel, so the
    image is an exact copy of the texture where the hand shows)."""
    data = load_model_data("right")
    m = HandModel(data, flat_hand_mean=True)
    R = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    v = (m().vertices[0] @ R.T + torch.tensor([0.0, 0.02, 0.35])).float()
    faces = torch.as_tensor(data.faces)
    camera = Camera(420.0, 420.0, 128.0, 128.0, 256, 256)
    K = camera.K_tensor(torch.float32)
    atlas = UVAtlas.for_model(data, SIZE)
    rng = np.random.default_rng(0)
    coarse = rng.uniform(0.1, 0.9, (8, 8, 3))
    truth = np.kron(coarse, np.ones((SIZE // 8, SIZE // 8, 1))).astype(np.float32)  # 16-texel colour blocks
    fr = rasterize(v[None], faces, K[None], 256, 256)
    face, bary = fr.face[0], fr.bary[0]
    hit = face >= 0
    uvs = torch.as_tensor(atlas.uv)[torch.as_tensor(atlas.faces_uv)[face[hit]]]  # (P,3,2)
    uv = (uvs * bary[hit][..., None]).sum(1)
    col = torch.clamp((uv[:, 0] * SIZE).long(), 0, SIZE - 1)
    row = torch.clamp(((1 - uv[:, 1]) * SIZE).long(), 0, SIZE - 1)
    image = np.zeros((256, 256, 3), np.uint8)
    image[hit.numpy()] = (truth[row, col] * 255 + 0.5).astype(np.uint8)
    return data, v, faces, camera, atlas, truth, image, hit.numpy()


def test_a_known_texture_is_recovered_where_it_is_visible(scene):
    data, v, faces, K, atlas, truth, image, mask = scene
    obs = observe(atlas, v, faces, K, image, mask=mask)
    seen = obs.weight > 0
    assert 0.1 < seen[atlas.valid].mean() < 0.6  # one side of the hand, not the other
    # away from colour-block borders (bilinear image sampling mixes neighbours there)
    inner = np.zeros((SIZE, SIZE), bool)
    inner[np.add.outer(np.arange(SIZE) % 16, np.zeros(SIZE, int)) > 2] = True
    inner &= (np.add.outer(np.zeros(SIZE, int), np.arange(SIZE) % 16) > 2) & (np.arange(SIZE)[:, None] % 16 < 13) \
        & (np.arange(SIZE)[None] % 16 < 13)
    sel = seen & inner & (obs.weight > 0.5)
    assert sel.sum() > 300
    err = np.abs(obs.colour[sel] - truth[sel]).max(-1)
    assert np.median(err) < 0.02 and np.mean(err < 0.06) > 0.9


def test_hidden_and_grazing_texels_are_rejected(scene):
    data, v, faces, K, atlas, truth, image, mask = scene
    obs = observe(atlas, v, faces, K, image)
    p = atlas.texel_points(v, faces)
    w = obs.weight.reshape(-1)[atlas.texel.numpy()]
    far = (p[:, 2] > np.percentile(p[:, 2].numpy(), 80)).numpy()  # the far side of the hand
    assert w[far].mean() < 0.02 and w[~far].mean() > 0.1
    strict = observe(atlas, v, faces, K, image, min_cos=0.9)  # grazing angles
    assert 0 < (strict.weight > 0).sum() < (obs.weight > 0).sum()
    # a fist: fingers hide parts of the palm that face the camera; the depth test rejects those
    m = HandModel(data, flat_hand_mean=True)
    fist = torch.as_tensor(data.pose_library[list(data.pose_names).index("fist")][None], dtype=torch.float32)
    R = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    vf = (m(hand_pose=fist).vertices[0] @ R.T + torch.tensor([0.0, 0.02, 0.35])).float()
    with_test = observe(atlas, vf, faces, K, image)
    without = observe(atlas, vf, faces, K, image, depth_tolerance=1.0)
    extra = (without.weight > 0) & ~(with_test.weight > 0)
    assert extra.sum() > 50


def test_fusion_keeps_the_best_view_and_votes_out_occluders(scene):
    data, v, faces, K, atlas, truth, image, mask = scene
    obs = observe(atlas, v, faces, K, image, mask=mask)
    seen = obs.weight > 0.3
    Obs = type(obs)

    def at(colour, q):  # the same texels, another colour, seen with quality q
        return Obs(np.broadcast_to(np.asarray(colour, np.float32), obs.colour.shape).copy(),
                   np.where(seen, q, 0.0).astype(np.float32))

    fusion = TextureFusion(atlas)
    fusion.update(obs)
    assert np.allclose(fusion.colour[seen], obs.colour[seen], atol=1e-6)  # first sight: taken outright
    frontal = fusion.colour.copy()
    fusion.update(at([0.0, 0.0, 0.0], 0.2 * obs.weight.max()))  # a later, far worse (grazing, blurred) view
    assert np.array_equal(fusion.colour, frontal)  # never overwrites a better one
    # the other order: a grazing view first, then a frontal one replaces it outright
    fusion = TextureFusion(atlas)
    fusion.update(at([0.0, 0.0, 0.0], 0.2))
    fusion.update(Obs(obs.colour, np.where(seen, 1.0, 0.0).astype(np.float32)))
    assert np.allclose(fusion.colour[seen], obs.colour[seen], atol=1e-6)
    # comparable views are averaged, weighted by quality squared
    fusion = TextureFusion(atlas)
    fusion.update(at([0.5, 0.5, 0.5], 1.0))
    fusion.update(at([0.6, 0.5, 0.5], 0.8))
    expect = 0.5 + 0.1 * 0.64 / 1.64
    assert np.allclose(fusion.colour[seen][:, 0], expect, atol=1e-5)
    # an occluder (a red sleeve) in a third of the frames, seen as well as the skin, never enters the texture
    red = Obs(np.broadcast_to(np.float32([1.0, 0.0, 0.0]), obs.colour.shape).copy(), obs.weight)
    fusion = TextureFusion(atlas)
    for i in range(9):
        fusion.update(red if i % 3 == 1 else obs)
    assert np.abs(fusion.colour[seen] - obs.colour[seen]).max() < 1e-5
    # ... and one that was there first is voted out once the skin has been seen more often
    fusion = TextureFusion(atlas)
    fusion.update(at([1.0, 0.0, 0.0], 1.0))
    for _ in range(3):
        fusion.update(Obs(obs.colour, np.where(seen, 0.9, 0.0).astype(np.float32)))
    assert np.abs(fusion.colour[seen] - obs.colour[seen]).max() < 1e-5
    # nothing seen (or NaN): nothing changes
    before = fusion.colour.copy(), fusion.confidence.copy()
    fusion.update(Obs(obs.colour, np.zeros_like(obs.weight)))
    fusion.update(Obs(np.full_like(obs.colour, np.nan), np.full_like(obs.weight, np.nan)))
    assert np.array_equal(fusion.colour, before[0]) and np.array_equal(fusion.confidence, before[1])
    # which texels are observed, and how well: a second map beside the texture
    obs_map = fusion.observed()
    assert obs_map.dtype == np.uint8 and (obs_map[seen] > 0).all() and (obs_map[~fusion.seen] == 0).all()
    both = combine([obs, type(obs)(np.ones_like(obs.colour), obs.weight)])
    assert np.allclose(both.colour[seen], (obs.colour[seen] + 1) / 2, atol=1e-5)
    assert both.weight.max() <= 1.0


def test_view_quality_falls_with_distance(scene):
    """Farther away, each texel covers fewer image pixels: its colour is a blur of its neighbours'."""
    data, v, faces, K, atlas, truth, image, mask = scene
    near = observe(atlas, v, faces, K, image)
    far = observe(atlas, v + torch.tensor([0.0, 0.0, 1.0]), faces, K, image)
    both = (near.weight > 0) & (far.weight > 0)
    assert both.sum() > 100
    assert np.median(far.weight[both] / near.weight[both]) < 0.9


def test_shading_is_divided_out_to_recover_the_albedo(scene):
    """Skin-like albedo (small variation) on the normals one view sees, lit by an ambient term and a coloured lamp
    (Lambert, linear light): remove_shading gives the albedo back, up to one gain per channel; observe(delight)
    feeds it into the texture."""
    from realhands.texture.lighting import linear_to_srgb, remove_shading, srgb_to_linear

    rng = np.random.default_rng(4)
    n = rng.normal(size=(4000, 3))
    n[:, 2] = -np.abs(n[:, 2]) - 0.3  # facing the camera (OpenCV: towards -z)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    albedo = np.clip(np.array([0.55, 0.38, 0.3]) * rng.uniform(0.85, 1.15, (4000, 1)), 0, 1)
    lamp = np.array([0.7, -0.4, -0.6]) / np.linalg.norm([0.7, -0.4, -0.6])
    shade = np.array([0.2, 0.22, 0.25]) + np.array([1.0, 0.9, 0.7]) * np.clip(n @ lamp, 0, None)[:, None]
    seen = linear_to_srgb(albedo * shade)
    w = np.ones(len(n))

    def err(est_srgb):  # after the best gain per channel (the albedo's overall brightness is not observable)
        est = srgb_to_linear(est_srgb)
        gain = (est * albedo).sum(0) / (est * est).sum(0)
        return float(np.median(np.abs(est * gain - albedo) / albedo))

    assert err(remove_shading(seen, n, w)) < 0.3 * err(seen), (err(remove_shading(seen, n, w)), err(seen))
    few = np.full((10, 3), 0.5, np.float32)  # too few texels for a fit: the colours are kept
    assert np.array_equal(remove_shading(few, np.tile([0.0, 0.0, -1.0], (10, 1)), np.ones(10)), few)
    # through observe: the same texels, colours changed by the fitted shading, still valid colours
    data, v, faces, K, atlas, truth, image, mask = scene
    plain = observe(atlas, v, faces, K, image, mask=mask)
    delit = observe(atlas, v, faces, K, image, mask=mask, delight=True)
    assert np.array_equal(plain.weight, delit.weight)
    on = plain.weight > 0
    assert np.isfinite(delit.colour).all() and delit.colour.min() >= 0 and delit.colour.max() <= 1
    assert not np.allclose(delit.colour[on], plain.colour[on])


def test_gap_filling_and_seam_padding_and_export(scene, tmp_path):
    data, v, faces, K, atlas, truth, image, mask = scene
    fusion = TextureFusion(atlas)
    fusion.update(observe(atlas, v, faces, K, image, mask=mask))
    img = fusion.image()
    assert img.shape == (SIZE, SIZE, 3) and img.dtype == np.uint8
    assert (img.reshape(-1, 3).max(1) > 5).all()  # no black texels left, between charts included
    seen = fusion.seen & atlas.valid
    assert np.abs(img[seen] / 255.0 - fusion.colour[seen]).max() < 0.01
    png = fusion.save_image(tmp_path / "hand.png")
    assert png.stat().st_size > 1000
    glb = fusion.export_glb(tmp_path / "hand.glb", v.numpy(), faces.numpy())
    import trimesh
    mesh = trimesh.load(glb, force="mesh")
    assert mesh.visual.material.baseColorTexture.size == (SIZE, SIZE)
    with pytest.raises(ValueError, match="png"):
        fusion.save_image(tmp_path / "hand.bmp")


def test_push_pull_keeps_known_texels_and_fills_smoothly():
    c = np.zeros((16, 16, 3), np.float32)
    known = np.zeros((16, 16), bool)
    c[:, :4], known[:, :4] = 0.2, True
    c[:, 12:], known[:, 12:] = 0.8, True
    out = push_pull_fill(c, known)
    assert np.array_equal(out[known], c[known])
    row = out[8, :, 0]
    assert 0.2 <= row[5] <= row[8] <= row[11] <= 0.8 and row[5] < row[11]


def test_a_model_without_uvs_gets_cached_xatlas_uvs(tmp_path, monkeypatch):
    monkeypatch.setenv("REALHANDS_CACHE_DIR", str(tmp_path))
    data = load_model_data("right")
    uv, faces_uv = compute_uvs(data.v_template, data.faces)
    assert faces_uv.shape == data.faces.shape and uv.min() >= 0 and uv.max() <= 1
    assert len(list(tmp_path.glob("uv-*.npz"))) == 1
    uv2, faces_uv2 = compute_uvs(data.v_template, data.faces)  # from the cache
    assert np.array_equal(uv, uv2) and np.array_equal(faces_uv, faces_uv2)
    stripped = type(data)(**{**data.__dict__, "uv": None, "faces_uv": None})
    atlas = UVAtlas.for_model(stripped, 64)
    assert atlas.valid.mean() > 0.3


def test_a_view_weighs_how_well_the_mesh_sits_on_its_mask(scene, monkeypatch):
    """A mask that the fitted mesh does not match (shifted 10 px) lowers every texel's weight by the registration
    (how well the mesh's outline and the mask cover each other) to REGISTRATION_POWER, so a misplaced frame cannot
    outweigh a well-placed one in the fusion; a matching mask keeps the weights; without the factor the inner texels
    weigh the same either way."""
    from realhands.texture import projection

    data, v, faces, K, atlas, truth, image, mask = scene
    shifted = np.roll(mask, 10, axis=1)

    def inner_ratio(m):
        plain, masked = observe(atlas, v, faces, K, image), observe(atlas, v, faces, K, image, mask=m)
        both = (plain.weight > 0.3) & (masked.weight > 0)
        return float(np.median(masked.weight[both] / plain.weight[both]))

    assert projection.REGISTRATION_POWER > 0
    aligned, off = inner_ratio(mask), inner_ratio(shifted)
    assert aligned > 0.9 and off < 0.8 * aligned, (aligned, off)
    monkeypatch.setattr(projection, "REGISTRATION_POWER", 0.0)
    assert inner_ratio(shifted) == pytest.approx(1.0, abs=0.02)
