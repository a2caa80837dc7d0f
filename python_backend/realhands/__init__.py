"""RealHands: camera images of a hand -> a personalised, textured, animated 3D hand in a game engine.

Public API::

    from realhands import HandModel
    hand = HandModel(side="right")          # our open model, or official MANO files when the user has them
    out = hand(hand_pose=pose, betas=betas) # out.vertices (B,V,3) m, out.joints (B,21,3), out.joint_transforms

    from realhands import reconstruct, Camera
    hands = reconstruct(image_rgb)                          # list[HandResult]: 3D hands in camera coordinates
    hands = reconstruct(image_rgb, Camera(fx, fy, cx, cy))  # with the camera's intrinsics (pixels)

The package's rooms, in the order data flows (imports run one way, capture -> perception -> reconstruction ->
streaming; the applications sit on top):

    camera.py, conventions.py, config.py, errors.py, metrics.py   foundations every stage shares
    model/       the hand model (MANO-format): loading, posing, export
    render/      rasterisers and silhouettes (CPU and CUDA)
    capture/     cameras, video and image files, calibration files
    perception/  MediaPipe keypoints, crops, classical masks
    fit/         the keypoint fit and the One Euro filter
    net/         HandNet: network, training, ONNX runtime
    refine/      test-time silhouette refinement
    texture/     the UV atlas, projection and fusion of the user's texture
    reconstruct.py   the Reconstructor: the stages, over a per-hand state
    streaming/   the wire format, the stream's protocol state, ZeroMQ
    recording/   MCAP recordings and the live pipeline's recording sink
    live/        the live process: sources by name, the pipeline's threads, sessions
    synth/       synthetic stereo data (rig, sampling, skin, renders, datasets, sequences)
    evaluation/  `realhands eval` and docs/RESULTS.md
    batch.py, demo.py, cli/, viz/   the applications: batch reconstruction, the demo, the command line, pictures
"""
__version__ = "0.1.0"

__all__ = ["HandModel", "HandOutput", "load_hand_model", "Camera", "StereoPair", "Config", "ReconstructConfig",
           "reconstruct", "Reconstructor", "HandResult"]


def __getattr__(name):  # keep `import realhands` light: torch loads on first use
    if name in ("HandModel", "HandOutput", "load_hand_model"):
        from . import model

        return getattr(model, name)
    if name in ("reconstruct", "Reconstructor", "HandResult"):
        from . import reconstruct as module

        return getattr(module, name)
    if name in ("Camera", "StereoPair"):
        from . import camera

        return getattr(camera, name)
    if name in ("Config", "ReconstructConfig"):
        from . import config

        return getattr(config, name)
    raise AttributeError(f"module 'realhands' has no attribute {name!r}")
