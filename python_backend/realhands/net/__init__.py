"""HandNet: the learned half of the hybrid (architecture, training, ONNX runtime).

    from realhands.net import HandNet, HandNetConfig, OnnxHandNet
"""
from .handnet import FusionBlock, HandNet, HandNetConfig, StereoFusion
from .runtime import OnnxError, OnnxHandNet, checkpoint_from_onnx, export_onnx, parity
from .train import CheckpointError, RecipeError, build_from_checkpoint, load_checkpoint, load_recipe, train

__all__ = ["HandNet", "HandNetConfig", "FusionBlock", "StereoFusion", "OnnxHandNet", "OnnxError", "export_onnx",
           "checkpoint_from_onnx",
           "parity", "train", "load_recipe", "load_checkpoint", "build_from_checkpoint", "CheckpointError",
           "RecipeError"]
