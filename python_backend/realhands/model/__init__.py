"""Hand model layer: MANO-format models (ours, or official MANO files), skinning, I/O, export, mesh checks."""
from ..errors import ModelFileError
from .hand_model import HandModel, HandOutput, load_hand_model
from .io import HandModelData, load_model_data, load_model_file, mirror_model, model_fingerprint, resolve_model_path

__all__ = ["HandModel", "HandOutput", "HandModelData", "ModelFileError", "load_hand_model", "load_model_data",
           "load_model_file", "mirror_model", "model_fingerprint", "resolve_model_path"]
