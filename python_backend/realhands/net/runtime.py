"""HandNet on onnxruntime: export a trained network to ONNX and run it (CPU by default, the CUDA provider when
onnxruntime-gpu is installed and a GPU is present), with a parity check against torch.

    export_onnx(net, "handnet.onnx")
    rt = OnnxHandNet("handnet.onnx")
    out = rt(rgb, heatmaps)      # numpy (B,3,S,S) float32 in [0,1], (B,21,S,S) -> dict of numpy arrays
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..errors import OnnxError
from .handnet import HandNet

OUTPUTS = ("pose", "shape", "cam", "features", "mask_logits")



def export_onnx(net: HandNet, path: str | Path, opset: int = 17) -> Path:
    """Write ``net`` (eval mode, fused branch) as ONNX with a dynamic batch axis; the config goes in the metadata."""
    import warnings

    path = Path(path)
    net = net.eval()
    S = net.config.input_size
    args = (torch.zeros(1, 3, S, S),) + ((torch.zeros(1, 21, S, S),) if net.config.use_keypoints else ())
    inputs = ["rgb", "heatmaps"][: len(args)]
    outputs = list(OUTPUTS if net.config.segmentation else OUTPUTS[:-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates the TorchScript exporter; the dynamo one needs onnxscript
        torch.onnx.export(net, args, str(path), input_names=inputs, output_names=outputs, opset_version=opset,
                          dynamic_axes={n: {0: "batch"} for n in inputs + outputs}, dynamo=False)
    try:
        import onnx

        m = onnx.load(str(path))
        entry = m.metadata_props.add()
        entry.key, entry.value = "realhands_handnet_config", json.dumps(net.config.to_dict())
        onnx.save(m, str(path))
    except ImportError:
        pass
    return path


def stereo_weights_path(onnx_path) -> Path:
    """Where the stereo fusion weights of an ONNX model live: NAME_stereo.npz beside NAME.onnx."""
    p = Path(str(onnx_path))
    return p.with_name(p.stem + "_stereo.npz")


def export_checkpoint(checkpoint: str | Path, output: str | Path) -> dict:
    """A training checkpoint -> ONNX at ``output`` (and, when its stereo fusion layer was trained, the fusion
    weights beside it, ``stereo_weights_path``), with the torch/onnxruntime parity check. Returns {"onnx",
    "stereo" (path or None), "parity" (max abs difference per output)}."""
    from .train import build_from_checkpoint, load_checkpoint

    state = load_checkpoint(checkpoint)
    net = build_from_checkpoint(state)
    out = export_onnx(net, output)
    stereo, sp = state.get("stereo") or {}, None
    if stereo and float(stereo["fc.weight"].abs().sum() + stereo["fc.bias"].abs().sum()) > 0:  # trained fusion
        sp = stereo_weights_path(out)
        np.savez(sp, weight=stereo["fc.weight"].float().numpy(), bias=stereo["fc.bias"].float().numpy())
    return {"onnx": out, "stereo": sp, "parity": parity(net, out)}


def checkpoint_from_onnx(path: str | Path) -> dict:
    """An exported HandNet ONNX file -> a training checkpoint (``{"config", "model", "stereo", "bn_folded"}``) that
    computes the same outputs, so a shipped model can be fine-tuned without its original checkpoint.

    The exporter folds every BatchNorm into the convolution before it; the folded kernel and bias go back into that
    convolution, and its BatchNorm becomes the identity plus that bias (weight 1, mean 0, variance 1 - eps). The
    statistics of the original BatchNorms are gone, so ``bn_folded`` is set: training from such a checkpoint keeps
    every BatchNorm in eval mode (``train.train`` does). Convolutions are matched to the graph's Conv nodes in
    execution order and checked by shape; the caller can check the result with ``parity``."""
    import onnx
    from onnx import numpy_helper

    from .handnet import HandNetConfig

    path = Path(path)
    if not path.is_file():
        raise OnnxError(f"no HandNet ONNX model at {path}")
    try:
        m = onnx.load(str(path))
    except Exception as e:
        raise OnnxError(f"{path} is not a readable ONNX model ({type(e).__name__}: {str(e)[:200]})") from None
    meta = {p.key: p.value for p in m.metadata_props}
    if "realhands_handnet_config" not in meta:
        raise OnnxError(f"{path} is not a RealHands HandNet export (no realhands_handnet_config metadata)")
    net = HandNet(HandNetConfig(**json.loads(meta["realhands_handnet_config"]))).eval()
    init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    # the torch convolutions in execution order (the exporter writes the graph in the same order)
    order: list[torch.nn.Conv2d] = []
    hooks = [mod.register_forward_hook(lambda mod, _i, _o: order.append(mod))
             for mod in net.modules() if isinstance(mod, torch.nn.Conv2d)]
    S = net.config.input_size
    with torch.no_grad():
        net(torch.zeros(1, 3, S, S), torch.zeros(1, 21, S, S) if net.config.use_keypoints else None)
    for h in hooks:
        h.remove()
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    if len(convs) != len(order):
        raise OnnxError(f"{path}: {len(convs)} convolutions in the graph, {len(order)} in its config's network")
    # the BatchNorm that follows each bias-free convolution, in registration order
    mods = list(net.modules())
    bn_of = {}
    for i, mod in enumerate(mods):
        if isinstance(mod, torch.nn.Conv2d) and mod.bias is None:
            bn = next((b for b in mods[i + 1:] if isinstance(b, torch.nn.BatchNorm2d)), None)
            if bn is None or bn.num_features != mod.out_channels:
                raise OnnxError(f"{path}: no BatchNorm after a bias-free convolution of the network")
            bn_of[mod] = bn
    with torch.no_grad():
        for node, conv in zip(convs, order, strict=True):
            w = init.get(node.input[1])
            b = init.get(node.input[2]) if len(node.input) > 2 else None
            if w is None or tuple(w.shape) != tuple(conv.weight.shape):
                raise OnnxError(f"{path}: a convolution's kernel does not fit the network "
                                f"({None if w is None else tuple(w.shape)} vs {tuple(conv.weight.shape)})")
            conv.weight.copy_(w)
            b = torch.zeros(conv.out_channels) if b is None else b
            if conv.bias is not None:
                conv.bias.copy_(b)
            else:
                bn = bn_of[conv]
                bn.weight.fill_(1.0)
                bn.bias.copy_(b)
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
        state = net.state_dict()
        named = [k for k in state if k in init]
        for k in named:
            if tuple(init[k].shape) != tuple(state[k].shape):
                raise OnnxError(f"{path}: {k} has shape {tuple(init[k].shape)}, the network {tuple(state[k].shape)}")
            state[k].copy_(init[k])
    stereo = {}
    sp = stereo_weights_path(path)
    if sp.is_file():
        with np.load(sp) as z:
            stereo = {"fc.weight": torch.from_numpy(z["weight"]), "fc.bias": torch.from_numpy(z["bias"])}
    return {"config": net.config.to_dict(), "model": net.state_dict(), "stereo": stereo, "bn_folded": True,
            "source": str(path)}


def providers(prefer_cuda: bool = True) -> list[str]:
    import onnxruntime as ort

    have = ort.get_available_providers()
    want = (["CUDAExecutionProvider"] if prefer_cuda else []) + ["CPUExecutionProvider"]
    return [p for p in want if p in have]


#: onnxruntime's threads for HandNet on a CPU. One, and no spinning: HandNet runs inside the live process's
#: reconstruction stage while MediaPipe works in the perception stage's thread, and onnxruntime's default (a thread
#: per core, spinning while it waits for work) took the other core from them. Live benchmark, stereo with the
#: default textures (HandNet's mask at 10 Hz), 2 cores, 2026-11-27: 9.3-10.3 -> 14.5-15.7 fps, latency p50
#: 168-176 -> 108-113 ms; mono 24-26 -> 29 fps. HandNet alone costs a few ms more on one thread.
CPU_THREADS = 1
CPU_SPINNING = False


class OnnxHandNet:
    """A HandNet ONNX file on onnxruntime. ``config``: the HandNetConfig dict stored in the file. ``threads``: its
    CPU threads (0: CPU_THREADS)."""

    def __init__(self, path: str | Path, device: str = "auto", threads: int = 0):
        path = Path(path)
        if not path.is_file():
            raise OnnxError(f"no HandNet ONNX model at {path}")
        try:
            import onnxruntime as ort
        except ImportError:
            raise OnnxError("onnxruntime is not installed (pip install onnxruntime; it is in the 'perception' "
                            "extra)") from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or CPU_THREADS
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if CPU_SPINNING else "0")
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=providers(device in ("auto", "cuda")))
        except Exception as e:
            raise OnnxError(f"{path} is not a loadable ONNX model ({type(e).__name__}: {str(e)[:200]}); it may be "
                            "truncated — export it again (realhands export-onnx)") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        self.config = json.loads(meta.get("realhands_handnet_config", "{}"))
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.provider = self.session.get_providers()[0]
        self._pose_only = self._without_mask(path, opts, providers(device in ("auto", "cuda")))

    def _without_mask(self, path: Path, opts, providers_: list):
        """(session, outputs) of the graph without its segmentation decoder, for calls that want no mask
        (``onnx.utils.Extractor``, built once here, ~0.3 s): onnxruntime runs every node of a graph whatever outputs
        are asked for, and the decoder is over half of the network's time (8.4 against 17.7 ms a crop on one CPU
        thread). None without a mask output, or without the ``onnx`` package (the whole graph then serves)."""
        if "mask_logits" not in self.outputs:
            return None
        try:
            import onnx
            from onnx.utils import Extractor
        except ImportError:
            return None
        import onnxruntime as ort

        outputs = [o for o in self.outputs if o != "mask_logits"]
        try:
            graph = Extractor(onnx.load(str(path))).extract_model(self.inputs, outputs)
            return ort.InferenceSession(graph.SerializeToString(), opts, providers=providers_), outputs
        except Exception:  # a graph the extractor cannot cut (custom ops, external data): the whole one serves
            return None

    def __call__(self, rgb: np.ndarray, heatmaps: np.ndarray | None = None, mask: bool = True) -> dict[str, np.ndarray]:
        """The network's outputs by name for a batch of crops; ``mask`` False: without ``mask_logits`` (faster)."""
        feed = {"rgb": np.ascontiguousarray(rgb, np.float32)}
        if "heatmaps" in self.inputs:
            if heatmaps is None:
                raise ValueError("this HandNet uses keypoints: pass heatmaps (B,21,S,S)")
            feed["heatmaps"] = np.ascontiguousarray(heatmaps, np.float32)
        if not mask and self._pose_only is not None:
            session, outputs = self._pose_only
            return dict(zip(outputs, session.run(outputs, feed), strict=True))
        return dict(zip(self.outputs, self.session.run(self.outputs, feed), strict=True))


def parity(net: HandNet, onnx_path: str | Path, batch: int = 2, seed: int = 0) -> dict[str, float]:
    """Max abs difference per output between torch and onnxruntime on random inputs."""
    g = torch.Generator().manual_seed(seed)
    S = net.config.input_size
    rgb = torch.rand(batch, 3, S, S, generator=g)
    hm = torch.rand(batch, 21, S, S, generator=g)
    with torch.no_grad():
        ref = net.eval()(rgb, hm if net.config.use_keypoints else None)
    got = OnnxHandNet(onnx_path, device="cpu")(rgb.numpy(), hm.numpy())
    return {k: float(np.abs(got[k] - ref[k].numpy()).max()) for k in got}
