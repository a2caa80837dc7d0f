"""Staged HandNet training (`realhands train --recipe ...`): the paper's five monocular stages and two stereo stages,
each with its frozen and active parts; Adam (lr 2e-4, betas 0.9/0.99) with a linear decay over each stage's last
epochs; checkpoints after every epoch (resume continues where it stopped); a JSON-lines log and a loss plot.

Data-parallel: the same recipe runs on several processes with PyTorch's own engine, e.g.
``torchrun --standalone --nproc-per-node 4 -m realhands.cli train ...`` (one GPU each, NCCL) or ``--nproc-per-node 2``
on a CPU (gloo). Each process trains on its share of every epoch's shuffled order (a distributed sampler: the same
permutation everywhere, disjoint equal slices), gradients are averaged by DistributedDataParallel, and process 0
alone validates, logs and writes checkpoints. ``recipe.batch_size`` is per process.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import tomllib
import torch
from tqdm import tqdm

from ..errors import CheckpointError, RecipeError
from .data import expand_batch
from .handnet import HandNet, HandNetConfig, StereoFusion, fuse_views
from .losses import mano_loss, mask_loss, stereo_loss

#: stage -> (forward branch, active groups, losses). Everything not active is frozen (no gradient, BN in eval).
STAGES = {
    "image": ("image", ["image", "tail", "regressor"], ["mano"]),
    "keypoint": ("keypoint", ["keypoint", "tail", "regressor"], ["mano"]),
    "fusion": ("fused", ["fusion", "tail", "regressor"], ["mano"]),
    "segmentation": ("fused", ["decoder"], ["mask"]),
    "finalize": ("fused", ["image", "keypoint", "fusion", "tail", "regressor", "decoder"], ["mano", "mask"]),
    "stereo_adapt": ("fused", ["image"], ["mano", "mask"]),       # synthetic adaption of the image head
    "stereo_weights": ("fused", ["stereo"], ["stereo"]),          # the per-parameter stereo fusion weights
}




@dataclass
class Stage:
    name: str
    epochs: int
    decay_epochs: int = 0
    lr: float | None = None


@dataclass
class Recipe:
    model: HandNetConfig
    stages: list[Stage]
    batch_size: int = 16
    val_fraction: float = 0.05
    lr: float = 2e-4
    source: str = ""
    extra: dict = field(default_factory=dict)


def load_recipe(name_or_path: str) -> Recipe:
    """A recipe by name (python_backend/realhands/net/recipes/NAME.toml) or path."""
    p = Path(name_or_path)
    if not p.is_file():
        builtin = resources.files("realhands.net").joinpath(f"recipes/{name_or_path}.toml")
        if not builtin.is_file():
            known = sorted(x.name[:-5] for x in resources.files("realhands.net").joinpath("recipes").iterdir()
                           if x.name.endswith(".toml"))
            raise RecipeError(f"no recipe {name_or_path!r}: not a file, and not one of {known}")
        text, src = builtin.read_text(), f"recipes/{name_or_path}.toml"
    else:
        text, src = p.read_text(), str(p)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RecipeError(f"{src}: not valid TOML ({e})") from None
    try:
        model = HandNetConfig(**raw.get("model", {}))
        t = raw.get("train", {})
        stages = [Stage(**s) for s in raw.get("stages", [])]
    except TypeError as e:
        raise RecipeError(f"{src}: {e}") from None
    if not stages:
        raise RecipeError(f"{src}: no [[stages]]")
    for s in stages:
        if s.name not in STAGES:
            raise RecipeError(f"{src}: unknown stage {s.name!r}; stages are {list(STAGES)}")
        if s.epochs < 1 or not 0 <= s.decay_epochs <= s.epochs:
            raise RecipeError(f"{src}: stage {s.name}: epochs >= 1 and 0 <= decay_epochs <= epochs")
        if not model.use_keypoints and s.name in ("keypoint", "fusion"):
            raise RecipeError(f"{src}: stage {s.name} needs use_keypoints = true")
    return Recipe(model, stages, int(t.get("batch_size", 16)), float(t.get("val_fraction", 0.05)),
                  float(t.get("lr", 2e-4)), src)


def set_trainable(net: HandNet, active: list[str], stereo: StereoFusion | None = None) -> list[torch.nn.Parameter]:
    """Freeze everything, then unfreeze the ``active`` groups; frozen BatchNorms stay in eval mode. Returns the
    trainable parameters."""
    groups = net.groups()
    if stereo is not None:
        groups["stereo"] = [stereo]
    for p in net.parameters():
        p.requires_grad_(False)
    if stereo is not None:
        for p in stereo.parameters():
            p.requires_grad_(False)
    params = []
    for g in active:
        for m in groups.get(g, []):
            for p in m.parameters():
                p.requires_grad_(True)
                params.append(p)
    return params


def train_mode(net: HandNet, active: list[str], frozen_bn: bool = False) -> None:
    """Train mode only for the active groups (frozen parts keep their BatchNorm statistics). ``frozen_bn``: every
    BatchNorm stays in eval mode (its affine parameters still train) — for weights whose BatchNorms were folded
    into the convolutions (``runtime.checkpoint_from_onnx``), where batch statistics would undo the folding."""
    net.eval()
    for g in active:
        for m in net.groups().get(g, []):
            m.train()
    if frozen_bn:
        for m in net.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()


def lr_at(stage: Stage, base: float, epoch: int, step: int, steps: int) -> float:
    """Constant, then linear decay to 0 over the stage's last ``decay_epochs`` epochs."""
    if not stage.decay_epochs:
        return base
    start = stage.epochs - stage.decay_epochs
    t = epoch + step / max(1, steps)
    return base if t < start else base * max(0.0, 1 - (t - start) / stage.decay_epochs)


def save_checkpoint(path: Path, state: dict) -> None:
    """Atomic: a crash never leaves a half-written checkpoint under the final name."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """A checkpoint written by the trainer (or ``export_weights``), with clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # zip errors, pickle errors, EOF: all mean a truncated or foreign file
        raise CheckpointError(f"{path} is not a readable HandNet checkpoint ({type(e).__name__}: {e}); it may be "
                              "truncated (an interrupted copy or download) — restore it or retrain") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(f"{path} is a torch file but not a HandNet checkpoint (no 'model'/'config')")
    return state


def build_from_checkpoint(state: dict) -> HandNet:
    net = HandNet(HandNetConfig(**state["config"]))
    try:
        net.load_state_dict(state["model"])
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint weights do not fit its own config {state['config']}: {e}") from None
    return net


def distributed(device: str = "cpu") -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) alone; under ``torchrun`` (WORLD_SIZE > 1 in the environment) the
    process group is started here if nobody did (NCCL for CUDA, else gloo)."""
    import torch.distributed as dist

    if not dist.is_available():
        return 0, 1
    if not dist.is_initialized():
        if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
            return 0, 1
        dist.init_process_group("nccl" if str(device).startswith("cuda") else "gloo")
    return dist.get_rank(), dist.get_world_size()


def _share(order: np.ndarray, rank: int, world: int) -> np.ndarray:
    """This process's slice of an epoch's order: equal lengths on every process (DDP steps in lockstep)."""
    per = len(order) // world
    return order[rank * per:(rank + 1) * per]


def _broadcast_modules(*modules) -> None:
    """Process 0's parameters and buffers to every process (a common start; the stereo stage, trained on 0)."""
    import torch.distributed as dist

    for m in modules:
        for t in m.state_dict().values():
            dist.broadcast(t, 0)


def _collate(items: list[dict]) -> dict:
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def _batches(dataset, indices, batch_size: int, workers: int, dev: torch.device):
    """Collated batches of ``dataset[indices]`` in order; ``workers`` > 0 loads them in worker processes (forked
    per call, so a changed ``dataset.epoch`` or ``dataset.augment`` reaches them)."""
    indices = [int(i) for i in indices]
    if workers > 0:
        import cv2

        # one OpenCV thread per loader process (its pool otherwise starts a thread per core in each, and a dozen
        # workers thrash the cores they share): set here, before the fork; setting it in a forked worker can
        # deadlock on the pool state it inherits
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            yield from torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=indices,
                                                   num_workers=workers, collate_fn=_collate,
                                                   pin_memory=dev.type == "cuda", prefetch_factor=4)
        finally:
            cv2.setNumThreads(threads)
    else:
        for s in range(0, len(indices), batch_size):
            yield _collate([dataset[i] for i in indices[s:s + batch_size]])


def scale_stages(stages: list[Stage], factor: float) -> list[Stage]:
    """The stages with their epochs (and decay epochs) multiplied by ``factor``, at least one epoch each."""
    out = []
    for s in stages:
        epochs = max(1, round(s.epochs * factor))
        decay = min(epochs, max(1 if s.decay_epochs else 0, round(s.decay_epochs * factor)))
        out.append(Stage(s.name, epochs, decay, s.lr))
    return out


#: a time budget's plan is made after each of the first this-many epochs
PLAN_EPOCHS = 2


def train(recipe: Recipe, dataset, out: str | Path, device: str = "cpu", resume: bool = True, workers: int = 0,
          max_steps_per_epoch: int | None = None, hand_model=None, log=print, time_budget_s: float | None = None,
          amp: bool = True, init: str | Path | None = None) -> dict:
    """Run every stage of ``recipe`` on ``dataset`` (a HandNetDataset); checkpoints and logs in ``out``.
    Returns the final metrics. ``max_steps_per_epoch`` caps epochs (smoke runs). ``workers`` loads batches in that
    many processes. ``time_budget_s`` scales every stage's epochs (same proportions) so that the run fits the
    budget, planned from the first epoch's time and again from the second's; the scale is kept in the checkpoint.
    ``amp``: bfloat16 autocast of
    the network on CUDA (the hand model and losses stay float32). ``init``: a checkpoint (or an exported ``.onnx``,
    ``runtime.checkpoint_from_onnx``) whose weights a fresh run starts from (fine-tuning; e.g. the stereo-weights
    stage on a trained model). Under ``torchrun`` (or an
    initialised process group) it trains data-parallel (module docstring); the metrics are process 0's."""
    from ..model import HandModel

    rank, world = distributed(device)
    if world > 1 and str(device) == "cuda":
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', rank))}"
    lead = rank == 0
    if not lead:
        log = _quiet
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device)
    hand_model = (hand_model or HandModel(side="right", flat_hand_mean=True)).to(dev)
    hands_mean = hand_model.data.hands_mean
    mean_pose = torch.zeros(48)
    if hands_mean is not None:  # start from the model's mean hand pose, not a flat hand
        mean_pose[3:] = torch.as_tensor(np.asarray(hands_mean, np.float32).reshape(45))
    net = HandNet(recipe.model, mean_pose=mean_pose).to(dev)
    stereo = StereoFusion().to(dev)
    n_val = max(1, int(len(dataset) * recipe.val_fraction))
    idx = np.random.default_rng(0).permutation(len(dataset))
    val_idx, train_idx = idx[:n_val].tolist(), idx[n_val:].tolist()
    ckpt = out / "checkpoint.pt"
    frozen_bn = False
    if init and not (resume and ckpt.is_file()):
        if str(init).lower().endswith(".onnx"):  # a shipped model: its weights recovered from the export
            from .runtime import checkpoint_from_onnx

            st = checkpoint_from_onnx(init)
        else:
            st = load_checkpoint(init, dev)
        if HandNetConfig(**st["config"]) != recipe.model:
            raise RecipeError(f"--init {init}: its model {st['config']} is not the recipe's {recipe.model.to_dict()}")
        net.load_state_dict(st["model"])
        if st.get("stereo"):
            stereo.load_state_dict(st["stereo"])
        frozen_bn = bool(st.get("bn_folded"))
        log(f"starting from the weights of {init}" + (" (BatchNorms folded: kept in eval mode)" if frozen_bn else ""))
    start_stage, start_epoch = 0, 0
    base_stages, scale = list(recipe.stages), None
    stages = base_stages
    if resume and ckpt.is_file():
        st = load_checkpoint(ckpt, dev)
        net.load_state_dict(st["model"])
        stereo.load_state_dict(st["stereo"])
        start_stage, start_epoch = st["stage"], st["epoch"] + 1
        scale = st.get("epoch_scale")
        frozen_bn = bool(st.get("bn_folded"))
        if scale:
            stages = scale_stages(base_stages, scale)
        log(f"resuming {ckpt}: stage {stages[start_stage].name if start_stage < len(stages) else 'done'}, "
            f"epoch {start_epoch}")
    amp = amp and dev.type == "cuda"
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if world > 1:
        _broadcast_modules(net, stereo)
        log(f"data-parallel on {world} processes ({torch.distributed.get_backend()}): batch {recipe.batch_size} "
            "per process")
    logf = open(out / "train_log.jsonl" if lead else os.devnull, "a")  # noqa: SIM115 (closed in the finally below)
    metrics = {}
    t0 = time.time()
    planned = PLAN_EPOCHS if scale is not None else 0  # a resumed run keeps its plan
    try:
        si = start_stage
        while si < len(stages):
            stage = stages[si]
            branch, active, losses = STAGES[stage.name]
            if not recipe.model.use_keypoints:
                active = [a for a in active if a not in ("keypoint", "fusion")]
            params = set_trainable(net, active, stereo)
            opt = torch.optim.Adam(params, lr=stage.lr or recipe.lr, betas=(0.9, 0.99))
            model = net
            if world > 1 and stage.name != "stereo_weights":  # wrapped per stage: its trainable set is what syncs
                model = torch.nn.parallel.DistributedDataParallel(
                    net, device_ids=[dev.index] if dev.type == "cuda" else None, find_unused_parameters=True)
            if resume and si == start_stage and start_epoch and ckpt.is_file():
                st = load_checkpoint(ckpt, dev)
                if st.get("optimizer") is not None:
                    with contextlib.suppress(ValueError):
                        opt.load_state_dict(st["optimizer"])
            epoch = start_epoch if si == start_stage else 0
            while epoch < stages[si].epochs:
                stage = stages[si]
                if hasattr(dataset, "epoch"):
                    dataset.epoch = epoch + 1000 * si
                order = _share(np.random.default_rng([si, epoch]).permutation(train_idx), rank, world)
                steps = math.ceil(len(order) / recipe.batch_size)
                if max_steps_per_epoch:
                    steps = min(steps, max_steps_per_epoch)
                t_epoch = time.time()
                if stage.name == "stereo_weights":  # one small layer: trained on process 0, then shared
                    if lead:
                        pairs = _pairs_for(dataset, recipe)
                        run, metrics = stereo_weights_epoch(net, stereo, pairs, opt, hand_model, dev, recipe, stage,
                                                            epoch, workers, max_steps_per_epoch)
                    if world > 1:
                        _broadcast_modules(stereo)
                    if not lead:
                        epoch += 1
                        continue
                    entry = {"stage": stage.name, "epoch": epoch, "time_s": round(time.time() - t0, 1), "train": run,
                             "val": metrics}
                    logf.write(json.dumps(entry) + "\n")
                    logf.flush()
                    log(f"{stage.name} epoch {epoch + 1}/{stage.epochs}: " +
                        ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
                    save_checkpoint(ckpt, {"model": net.state_dict(), "stereo": stereo.state_dict(),
                                           "optimizer": opt.state_dict(), "config": recipe.model.to_dict(),
                                           "stage": si, "epoch": epoch, "recipe": recipe.source, "epoch_scale": scale,
                                           "bn_folded": frozen_bn})
                    epoch += 1
                    continue
                train_mode(net, active, frozen_bn)
                bar = tqdm(_batches(dataset, order[:steps * recipe.batch_size], recipe.batch_size, workers, dev),
                           total=steps, desc=f"{stage.name} {epoch + 1}/{stage.epochs}", unit="batch", leave=False,
                           disable=not lead)
                run = {}
                for step, batch in enumerate(bar):
                    batch = expand_batch({k: v.to(dev, non_blocking=True) for k, v in batch.items()})
                    for g in opt.param_groups:
                        g["lr"] = lr_at(stage, stage.lr or recipe.lr, epoch, step, steps)
                    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                        o = model(batch["rgb"], batch["heatmaps"] if recipe.model.use_keypoints else None,
                                  branch=branch)
                    o = {k: v.float() for k, v in o.items()}
                    terms = {}
                    if "mano" in losses:
                        terms.update({f"mano_{k}": v for k, v in mano_loss(o, batch, hand_model).items()})
                    if "mask" in losses and recipe.model.segmentation:
                        terms.update({f"mask_{k}": v for k, v in mask_loss(o, batch).items()})
                    total = sum(v for k, v in terms.items() if k.endswith("_total"))
                    opt.zero_grad(set_to_none=True)
                    total.backward()
                    opt.step()
                    for k, v in terms.items():
                        run[k] = run.get(k, 0.0) + v.detach()
                    if step % 20 == 0:
                        bar.set_postfix(loss=f"{float(total.detach()):.4f}")
                run = {k: float(v) / steps for k, v in run.items()}
                if lead:
                    metrics = evaluate(net, dataset, val_idx, hand_model, dev, recipe, branch=branch, workers=workers)
                if time_budget_s and planned < PLAN_EPOCHS:
                    # fit the plan to the budget from the first epoch's time, then again from the second's: the
                    # first carries one-off costs (loaders starting, CUDA picking kernels, the data's first read;
                    # 35 s against 13 s on a lent H200), which made the first plan use half the budget
                    planned += 1
                    per_epoch = time.time() - t_epoch
                    left = time_budget_s - (time.time() - t0)
                    scale = [max(0.01, (planned + max(0.0, left) / per_epoch) / sum(s_.epochs for s_ in base_stages))]
                    if world > 1:  # every process follows process 0's plan
                        torch.distributed.broadcast_object_list(scale, 0)
                    scale = scale[0]
                    stages = scale_stages(base_stages, scale)
                    if planned < PLAN_EPOCHS and stages[si].epochs < PLAN_EPOCHS <= base_stages[si].epochs:
                        # keep this stage alive for the next plan: the first epoch's one-off costs must not end it
                        # (a one-stage recipe would end the run after one epoch)
                        s_ = stages[si]
                        stages[si] = Stage(s_.name, PLAN_EPOCHS, min(s_.decay_epochs, PLAN_EPOCHS), s_.lr)
                    log(f"time budget {time_budget_s / 60:.1f} min, {per_epoch:.1f} s for epoch {planned}: stage "
                        f"epochs scaled x{scale:.2f} to " + ", ".join(f"{s_.name} {s_.epochs}" for s_ in stages))
                entry = {"stage": stage.name, "epoch": epoch, "time_s": round(time.time() - t0, 1), "train": run,
                         "val": metrics}
                logf.write(json.dumps(entry) + "\n")
                logf.flush()
                log(f"{stage.name} epoch {epoch + 1}/{stage.epochs}: "
                    + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
                if lead:
                    save_checkpoint(ckpt, {"model": net.state_dict(), "stereo": stereo.state_dict(),
                                           "optimizer": opt.state_dict(), "config": recipe.model.to_dict(),
                                           "stage": si, "epoch": epoch, "recipe": recipe.source,
                                           "epoch_scale": scale, "bn_folded": frozen_bn})
                epoch += 1
            start_epoch = 0
            si += 1
        if lead:
            save_checkpoint(ckpt, {"model": net.state_dict(), "stereo": stereo.state_dict(), "optimizer": None,
                                   "config": recipe.model.to_dict(), "stage": len(stages), "epoch": -1,
                                   "recipe": recipe.source, "epoch_scale": scale, "bn_folded": frozen_bn})
    finally:
        logf.close()
    if world > 1:
        torch.distributed.barrier()  # the last checkpoint is on disk before any process returns
    if lead:
        plot_log(out / "train_log.jsonl", out / "loss.png")
    return metrics


def _quiet(*_args, **_kwargs) -> None:
    """The log of processes other than 0."""


def _pairs_for(dataset, recipe: Recipe):
    """Two-view samples over the synthetic samples behind ``dataset`` (a HandNetDataset)."""
    from .data import StereoPairDataset

    base = getattr(dataset, "base", None)
    if base is None:
        raise RecipeError("stage stereo_weights needs stereo samples: train on a synthetic dataset (--data or "
                          "--on-the-fly), not on a monocular one")
    return StereoPairDataset(base, recipe.model.input_size, augment=True, seed=getattr(dataset, "seed", 0))


def _stereo_forward(net: HandNet, stereo: StereoFusion, b: dict, recipe: Recipe, hand_model) -> tuple[dict, dict]:
    """Frozen HandNet on both views, the fusion, and the fused hand (root-relative, right crop frame)."""
    with torch.no_grad():
        outs = [net(b[f"{v}_rgb"], b[f"{v}_heatmaps"] if recipe.model.use_keypoints else None) for v in "lr"]
    outs = [{k: v.float() for k, v in o.items()} for o in outs]
    fused = fuse_views(stereo, outs[0], outs[1], b["left_to_right"])
    orient, hand_pose = fused["pose"][:, :3], fused["pose"][:, 3:]
    mo = hand_model(global_orient=orient, hand_pose=hand_pose, betas=fused["shape"])
    joints = hand_model.keypoints(orient, hand_pose, fused["shape"], torch.zeros_like(orient))
    return fused, {"vertices": mo.vertices, "joints": joints}


def stereo_weights_epoch(net: HandNet, stereo: StereoFusion, pairs, opt, hand_model, dev, recipe: Recipe, stage: Stage,
                         epoch: int, workers: int = 0, max_steps: int | None = None) -> tuple[dict, dict]:
    """One epoch of the stereo-weights stage (Eq. 11; only the fusion layer learns), then validation on held-out
    pairs: PA-MPVE (mm) of the fused hand and of each view alone."""
    from ..metrics import mpvpe

    n_val = max(1, int(len(pairs) * recipe.val_fraction))
    idx = np.random.default_rng(1).permutation(len(pairs))
    val_idx, train_idx = idx[:n_val].tolist(), idx[n_val:].tolist()
    pairs.epoch = epoch
    order = np.random.default_rng([99, epoch]).permutation(train_idx)
    steps = math.ceil(len(order) / recipe.batch_size)
    if max_steps:
        steps = min(steps, max_steps)
    net.eval()
    stereo.train()
    run = {}
    bar = tqdm(_batches(pairs, order[:steps * recipe.batch_size], recipe.batch_size, workers, dev), total=steps,
               desc=f"{stage.name} {epoch + 1}/{stage.epochs}", unit="batch", leave=False)
    for step, b in enumerate(bar):
        b = expand_batch({k: v.to(dev) for k, v in b.items()})
        for g in opt.param_groups:
            g["lr"] = lr_at(stage, stage.lr or recipe.lr, epoch, step, steps)
        _, hand = _stereo_forward(net, stereo, b, recipe, hand_model)
        terms = stereo_loss(hand["vertices"], hand["joints"],
                            {"vertices": b["r_vertices"], "joints3d": b["r_joints3d"]})
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt.step()
        for k, v in terms.items():
            run[f"stereo_{k}"] = run.get(f"stereo_{k}", 0.0) + float(v.detach())
    run = {k: v / max(steps, 1) for k, v in run.items()}
    stereo.eval()
    pairs.augment = False
    err = {"pa_mpve_mm": [], "left_view_mm": [], "right_view_mm": []}
    try:
        with torch.no_grad():
            for b in _batches(pairs, val_idx, recipe.batch_size, workers, dev):
                b = expand_batch({k: v.to(dev) for k, v in b.items()})
                _, hand = _stereo_forward(net, stereo, b, recipe, hand_model)
                singles = {}
                for v in "lr":
                    o = net(b[f"{v}_rgb"], b[f"{v}_heatmaps"] if recipe.model.use_keypoints else None)
                    singles[v] = hand_model(global_orient=o["pose"][:, :3], hand_pose=o["pose"][:, 3:],
                                            betas=o["shape"]).vertices
                for i in range(len(hand["vertices"])):
                    g_r, g_l = b["r_vertices"][i].cpu().numpy(), b["l_vertices"][i].cpu().numpy()
                    err["pa_mpve_mm"].append(mpvpe(hand["vertices"][i].cpu().numpy(), g_r, align="procrustes"))
                    err["left_view_mm"].append(mpvpe(singles["l"][i].cpu().numpy(), g_l, align="procrustes"))
                    err["right_view_mm"].append(mpvpe(singles["r"][i].cpu().numpy(), g_r, align="procrustes"))
    finally:
        pairs.augment = True
    return run, {k: float(np.mean(v)) for k, v in err.items()}


@torch.no_grad()
def evaluate(net: HandNet, dataset, indices: list[int], hand_model, dev, recipe: Recipe, batch_size: int = 32,
             branch: str = "fused", workers: int = 0) -> dict:
    """Validation: PA-MPVE (mm), F@5 and F@15 mm (Procrustes-aligned vertices), mask IoU; through ``branch`` (the
    training stage's path: the fusion block is untrained during the image and keypoint stages)."""
    from ..metrics import f_score, mpvpe, silhouette_iou

    net.eval()
    aug_state = getattr(dataset, "augment", None)
    if aug_state is not None:
        dataset.augment = False
    pa, f5, f15, iou = [], [], [], []
    try:
        for b in _batches(dataset, indices, batch_size, workers, dev):
            b = expand_batch({k: v.to(dev) for k, v in b.items()})
            o = net(b["rgb"], b["heatmaps"] if recipe.model.use_keypoints else None, branch=branch)
            verts = hand_model(global_orient=o["pose"][:, :3], hand_pose=o["pose"][:, 3:], betas=o["shape"]).vertices
            for i in range(len(verts)):
                p, g = verts[i].cpu().numpy(), b["vertices"][i].cpu().numpy()
                pa.append(mpvpe(p, g, align="procrustes"))
                f5.append(f_score(p, g, 0.005))
                f15.append(f_score(p, g, 0.015))
                if "mask_logits" in o:
                    iou.append(silhouette_iou(o["mask_logits"][i, 0].cpu().numpy() > 0,
                                              b["mask"][i].cpu().numpy() > 0.5))
    finally:
        if aug_state is not None:
            dataset.augment = aug_state
    m = {"pa_mpve_mm": float(np.mean(pa)), "f5": float(np.mean(f5)), "f15": float(np.mean(f15))}
    if iou:
        m["mask_iou"] = float(np.mean(iou))
    return m


def plot_log(log_path: Path, png: Path) -> None:
    """Training loss and validation PA-MPVE per epoch, stages marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line.strip()]
    if not rows:
        return
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    x = np.arange(len(rows))
    keys = sorted({k for r in rows for k in r["train"] if k.endswith("_total")})
    for k in keys:
        ax[0].plot(x, [r["train"].get(k, np.nan) for r in rows], label=k.replace("_total", ""))
    ax[0].set_yscale("log")
    ax[0].set_title("training loss")
    ax[0].legend()
    ax[1].plot(x, [r["val"]["pa_mpve_mm"] for r in rows], "o-")
    ax[1].set_title("validation PA-MPVE (mm)")
    for a in ax:
        for i in range(1, len(rows)):
            if rows[i]["stage"] != rows[i - 1]["stage"]:
                a.axvline(i - 0.5, color="grey", lw=0.5)
        a.set_xlabel("epoch (all stages)")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
