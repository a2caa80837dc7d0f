"""Synthetic stereo hand samples: sample a scene, render both views, add background and camera effects.

``SynthGenerator.sample(index)`` is a pure function of (seed, index): the same pair gives the same sample on
any machine and in any order, which makes datasets deterministic and resumable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..camera import Camera, StereoPair, project_points
from ..conventions import MANO21_TO_KEYPOINTS
from ..model import HandModel, load_model_data
from ..model.lbs import axis_angle_to_matrix
from ..render.renderer import HandRenderer, Lighting
from .backgrounds import BackgroundSource, jpeg, motion_blur, sensor_noise
from .rig import StereoRig, make_rig
from .sampling import HandSample, LightSample, sample_hand, sample_light
from .skin import bake_texel_maps, sample_appearance, skin_texture


@dataclass
class SynthConfig:
    rig: str = "zed2"
    resolution: str = "640x480"
    texture_size: int = 256
    egocentric_ratio: float = 0.8
    left_hand_ratio: float = 0.5
    background_folder: str | None = None
    background_style: str = "mixed"  # or "everyday" (see synth.backgrounds.BackgroundSource)
    ssaa: int = 2
    effects: bool = True  # motion blur, sensor noise, JPEG artefacts
    lighting: str = "random"  # or "flat": white ambient light only (images show the albedo; for texture checks)


@dataclass
class StereoSample:
    """One stereo sample. Images (H,W,3) uint8, labels (H,W) uint8 (0 background, 1 hand, 2 forearm).
    Geometry in left-camera coordinates (OpenCV axes, metres); keypoints in MediaPipe order."""

    rgb_left: np.ndarray
    rgb_right: np.ndarray
    label_left: np.ndarray
    label_right: np.ndarray
    vertices: np.ndarray  # (V,3)
    joints3d: np.ndarray  # (21,3)
    joints2d_left: np.ndarray  # (21,2) pixels
    joints2d_right: np.ndarray  # (21,2)
    pose: np.ndarray  # (48,) global orient (model -> left camera) + absolute hand pose
    betas: np.ndarray  # (10,)
    transl: np.ndarray  # (3,)
    K_left: np.ndarray  # (3,3)
    K_right: np.ndarray  # (3,3)
    T_right_from_left: np.ndarray  # (4,4)
    side: str
    view: str
    texture: np.ndarray | None = None  # (S,S,3) uint8 skin albedo in the model's UV atlas (rows from the top)

    @property
    def pair(self) -> StereoPair:
        """The two views' cameras (``pair.left`` is the left view's)."""
        h, w = self.rgb_left.shape[:2]
        return StereoPair(Camera.from_K(self.K_left, w, h), Camera.from_K(self.K_right, w, h), self.T_right_from_left)

    @property
    def camera(self) -> Camera:
        """The left view's camera."""
        return self.pair.left


class SynthGenerator:
    """Makes StereoSamples from a config and a seed. Models, texel maps and renderers load once."""

    def __init__(self, config: SynthConfig | None = None, seed: int = 0, model_path=None, device="cpu"):
        self.config = config or SynthConfig()
        self.seed = int(seed)
        self.device = torch.device(device)
        self.rig: StereoRig = make_rig(self.config.rig, self.config.resolution)
        self.models, self.renderers, self.maps = {}, {}, {}
        for side in ("right", "left"):
            data = load_model_data(side, model_path)
            self.models[side] = HandModel(data, flat_hand_mean=True).to(self.device)
            self.renderers[side] = HandRenderer(data, device=self.device)
            self.maps[side] = bake_texel_maps(data, self.config.texture_size)
        self.backgrounds = BackgroundSource(self.config.background_folder, self.config.background_style)

    def rng(self, index: int) -> tuple[np.random.Generator, torch.Generator]:
        ss = np.random.SeedSequence([self.seed, int(index)])
        return np.random.default_rng(ss), torch.Generator().manual_seed(int(ss.generate_state(1)[0]))

    def sample(self, index: int) -> StereoSample:
        rng, gen = self.rng(index)
        side = "left" if rng.uniform() < self.config.left_hand_ratio else "right"
        model = self.models[side]
        hand = sample_hand(model.data, rng, self.rig, self.config.egocentric_ratio)
        light = self._light(rng)
        appearance = sample_appearance(rng)
        texture = skin_texture(self.maps[side], model.data, appearance, gen)
        sleeve = self._sleeve(rng)
        return self._render(hand, light, texture, sleeve, rng)

    @staticmethod
    def _sleeve(rng):
        """None, or (start m above the wrist, colour): a sleeve in a muted cloth colour, 35% of people."""
        if rng.uniform() >= 0.35:
            return None
        c = rng.uniform(0.05, 0.9, 3)
        return rng.uniform(0.08, 0.2), c.mean() + (c - c.mean()) * rng.uniform(0.1, 0.7)

    def sequence(self, index: int, kind: str = "mixed", num_frames: int = 90, fps: float = 30.0,
                 side: str | None = None) -> list[StereoSample]:
        """A rendered gesture sequence (see synth.sequence); one person, light and background throughout."""
        from .sequence import make_sequence

        rng, gen = self.rng(10_000_000 + int(index))
        side = side or ("left" if rng.uniform() < self.config.left_hand_ratio else "right")
        model = self.models[side]
        frames = make_sequence(model.data, self.rig, kind, num_frames, fps, rng)
        light = self._light(rng)
        texture = skin_texture(self.maps[side], model.data, sample_appearance(rng), gen)
        sleeve = self._sleeve(rng)
        shift = int(round(self.rig.fx * self.rig.baseline / rng.uniform(1.5, 4.0)))
        background = (self.backgrounds.sample(self.rig.height, self.rig.width + shift, rng), shift)
        return [self._render(f, light, texture, sleeve, rng, background) for f in frames]

    def pose_hand(self, hand: HandSample):
        """Model output and forearm vertices (left-camera coordinates) for a hand sample."""
        model = self.models[hand.side]
        t = lambda a: torch.as_tensor(np.asarray(a)[None], dtype=torch.float32, device=self.device)  # noqa: E731
        with torch.no_grad():
            out = model(global_orient=t(hand.global_orient), hand_pose=t(hand.hand_pose), betas=t(hand.betas),
                        transl=t(hand.transl), return_rest=True)
        # forearm: the wrist's skin transform, bent about the wrist joint in rest space
        J0 = out.rest_joints[0, 0]
        bend = torch.eye(4, device=self.device)
        Rb = axis_angle_to_matrix(torch.as_tensor(hand.wrist_bend, dtype=torch.float32, device=self.device))
        bend[:3, :3] = Rb
        bend[:3, 3] = J0 - Rb @ J0
        wrist = out.skin_transforms[:, 0]
        forearm = self.renderers[hand.side].pose_forearm(wrist, wrist @ bend, out.vertices)
        return out, forearm

    def _light(self, rng) -> LightSample:
        light = sample_light(rng)  # drawn in both modes, so that the rest of a sample stays the same
        if self.config.lighting == "flat":
            return LightSample(np.ones(3), light.direction, np.zeros(3), 0.0)
        if self.config.lighting != "random":
            raise ValueError(f"lighting must be 'random' or 'flat', got {self.config.lighting!r}")
        return light

    def _render(self, hand: HandSample, light: LightSample, texture, sleeve, rng, background=None):
        cfg, rig = self.config, self.rig
        out, forearm = self.pose_hand(hand)
        renderer = self.renderers[hand.side]
        colours = renderer.forearm_colours(texture[None].to(self.device))
        if sleeve is not None:
            covered = renderer.forearm_along >= sleeve[0]
            colours[:, covered] = torch.as_tensor(sleeve[1], dtype=torch.float32, device=self.device)
        K = torch.as_tensor(rig.K, dtype=torch.float32, device=self.device)[None].expand(2, 3, 3)
        R = torch.eye(3, device=self.device)[None].expand(2, 3, 3)
        t = torch.tensor([[0.0, 0.0, 0.0], [-rig.baseline, 0.0, 0.0]], device=self.device)
        lighting = Lighting(*(torch.as_tensor(np.stack([x, x]), dtype=torch.float32, device=self.device)
                              for x in (light.ambient, light.direction, light.colour)),
                            specular=torch.full((2,), light.specular, device=self.device))
        r = renderer.render(out.vertices.expand(2, -1, -1), forearm.expand(2, -1, -1),
                            texture[None].to(self.device).expand(2, -1, -1, -1), colours.expand(2, -1, -1), K, R, t,
                            rig.height, rig.width, lighting, ssaa=cfg.ssaa)
        # background: one image for both views, shifted by the disparity of a far plane (1.5-4 m)
        if background is None:
            shift = int(round(rig.fx * rig.baseline / rng.uniform(1.5, 4.0)))
            background = (self.backgrounds.sample(rig.height, rig.width + shift, rng), shift)
        bg, shift = background
        bgs = torch.stack([bg[:, :, shift:], bg[:, :, :rig.width]]).to(self.device)
        rgb = r.rgb + (1 - r.alpha[:, None]) * bgs
        if cfg.effects:
            blur_len, blur_ang = (rng.uniform(1, 7), rng.uniform(0, np.pi)) if rng.uniform() < 0.3 else (0, 0)
            quality = int(rng.integers(40, 96)) if rng.uniform() < 0.7 else None
            views = []
            for v in rgb.cpu():
                v = sensor_noise(motion_blur(v, blur_len, blur_ang), rng)
                views.append(jpeg(v, quality) if quality else v)
            rgb = torch.stack(views)
        images = (rgb.clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8)
        labels = r.label.cpu().numpy().astype(np.uint8)

        joints3d = out.joints[0][torch.as_tensor(MANO21_TO_KEYPOINTS, device=self.device)]
        j2d = project_points(torch.stack([joints3d + t[0], joints3d + t[1]]), K).cpu().numpy()  # per view
        return StereoSample(
            rgb_left=images[0], rgb_right=images[1], label_left=labels[0], label_right=labels[1],
            vertices=out.vertices[0].cpu().numpy(), joints3d=joints3d.cpu().numpy(),
            joints2d_left=j2d[0], joints2d_right=j2d[1],
            pose=np.concatenate([hand.global_orient, hand.hand_pose]).astype(np.float32),
            betas=hand.betas.astype(np.float32), transl=hand.transl.astype(np.float32),
            K_left=rig.K.astype(np.float32), K_right=rig.K.astype(np.float32),
            T_right_from_left=rig.T_right_from_left.astype(np.float32), side=hand.side, view=hand.view,
            texture=(texture.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8))
