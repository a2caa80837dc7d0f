"""Side-by-side pictures of the texture on real photos, for review by eye: the photo | the reconstructed hand
textured from that photo, rendered from the same camera | the same with the shading divided out
(``texture_delight``) | that hand turned over (about the camera's vertical axis), showing the skin the photo did
not see as the skin model fills it | the same with push-pull's fill (before the skin model) | the UV atlas, per
photo, one row each.

    python -m tools.eval.texture_photos ../shared/realdata/ge2019_dev --count 8 --out /tmp/texture_photos.png

The photos of ``shared/realdata`` are under a research licence: write the picture outside the repository and
do not commit it. No figure comes out of this tool: a real photo has no ground-truth texture.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from realhands.camera import Camera
from realhands.evaluation.datasets import _read_image
from realhands.evaluation.real3d import load_real3d
from realhands.reconstruct import Reconstructor
from realhands.render.rasterize import rasterize

TEXTURE_SIZE = 256


def render_textured(vertices: np.ndarray, faces: np.ndarray, atlas, texture: np.ndarray, camera: Camera,
                    background: np.ndarray) -> np.ndarray:
    """The mesh (V,3, camera coordinates) drawn over ``background`` (H,W,3) uint8 with its UV texture (S,S,3)
    uint8, unlit (the texture as it is), nearest texel."""
    v = torch.as_tensor(np.asarray(vertices), dtype=torch.float32)
    f = torch.as_tensor(np.asarray(faces), dtype=torch.long)
    H, W = background.shape[:2]
    fr = rasterize(v[None], f, camera.K_tensor(torch.float32)[None], H, W)
    hit = (fr.face[0] >= 0).numpy()
    uvs = torch.as_tensor(atlas.uv)[torch.as_tensor(atlas.faces_uv)[fr.face[0][fr.face[0] >= 0]]]
    uv = (uvs * fr.bary[0][fr.face[0] >= 0][..., None]).sum(1).numpy()
    S = texture.shape[0]
    col = np.clip((uv[:, 0] * S).astype(int), 0, S - 1)
    row = np.clip(((1 - uv[:, 1]) * S).astype(int), 0, S - 1)
    out = background.copy()
    out[hit] = texture[row, col]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("annotations", help="annotations.json of real photos (realhands eval real3d's format), or its "
                    "folder")
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--out", required=True, help="PNG to write (outside the repository for licensed photos)")
    args = ap.parse_args()
    folder, samples, _ = load_real3d(args.annotations)
    rows = []
    for s in tqdm(samples[: args.count], desc="photos", unit="photo"):
        img = _read_image(folder / s["image"])
        camera = Camera.from_K(s["K"], img.shape[1], img.shape[0])
        cells = [img]
        for delight in (False, True):
            rec = Reconstructor(smoothing_hz=0, texture_size=TEXTURE_SIZE, mask="handnet", texture_delight=delight)
            hands = rec(img, camera)
            if not hands:
                rec.close()
                break
            h = hands[0]
            fusion = rec.textures[h.handedness]
            tex = fusion.image()
            cells.append(render_textured(h.vertices, rec.models[h.handedness].faces, fusion.atlas, tex, camera,
                                         (img * 0.35).astype(np.uint8)))
            if delight:
                turned = h.vertices.mean(0) + (h.vertices - h.vertices.mean(0)) * np.array([-1.0, 1.0, -1.0])
                fusion.skin_model = False
                plain = fusion.image()
                fusion.skin_model = True
                for t in (tex, plain):
                    cells.append(render_textured(turned, rec.models[h.handedness].faces, fusion.atlas, t, camera,
                                                 np.full_like(img, 40)))
                cells.append(cv2.resize(tex, img.shape[1::-1], interpolation=cv2.INTER_AREA))
            rec.close()
        if len(cells) == 6:
            rows.append(np.concatenate(cells, 1))
    if not rows:
        raise SystemExit("no hand found in the photos")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))
    print(f"wrote {out}: {len(rows)} photos (photo | textured | shading divided out | "
          "turned over: skin model | turned over: push-pull | atlas)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
