import numpy as np
import pytest
import torch

from realhands.model import HandModel, load_model_data


@pytest.fixture(scope="session")
def right_data():
    return load_model_data("right")


@pytest.fixture(scope="session")
def left_data():
    return load_model_data("left")


@pytest.fixture(scope="session")
def right64(right_data):
    return HandModel(right_data, flat_hand_mean=True, dtype=torch.float64)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def cuda_available():
    return torch.cuda.is_available()


#: The held-out renders of the accuracy tests: egocentric, as a headset or a webcam above a desk sees hands.
HELD_OUT_COUNT = 24


@pytest.fixture(scope="session")
def held_out():
    """HELD_OUT_COUNT held-out renders (640x480, ZED Mini, everyday backgrounds, seed 321; the shipped HandNet trained
    on seed 1) with MediaPipe's detection of each (static mode), matched to the true hand by its keypoints (None
    where MediaPipe missed it)."""
    from realhands.evaluation import match_detection
    from realhands.perception.mediapipe_hands import HandDetector
    from realhands.synth.generate import SynthConfig, SynthGenerator

    gen = SynthGenerator(SynthConfig(rig="zedm", resolution="640x480", egocentric_ratio=1.0,
                                     background_style="everyday"), seed=321)
    with HandDetector(static_image_mode=True) as det:
        out = []
        for i in range(HELD_OUT_COUNT):
            s = gen.sample(i)
            out.append((s, match_detection(det.detect(s.rgb_left), s.joints2d_left)))
    return out


@pytest.fixture(scope="session")
def held_out_results(held_out):
    """Each variant of the pipeline on the held-out renders, from the same detections with the true side (as
    realhands.evaluation does: MediaPipe's handedness is checked on its own): per hand the sample, the detection
    and the HandResult (None where MediaPipe missed the hand)."""
    import dataclasses

    from realhands.reconstruct import Reconstructor

    variants = {"default": {}, "hybrid": {"regressor": "handnet"}, "fit": {"regressor": "fit", "mask": "none"},
                "net": {"regressor": "net"}, "refined": {"refine_iterations": 3}}
    out = {}
    for name, choices in variants.items():
        rec = Reconstructor(**choices)
        out[name] = [(s, d, rec.solve(s.rgb_left, [dataclasses.replace(d, handedness=s.side)], s.camera)[0]
                      if d is not None else None) for s, d in held_out]
        rec.close()
    return out
