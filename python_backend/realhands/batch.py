"""Batch reconstruction (`realhands reconstruct`): images, folders and videos in, one JSON line per image or frame
out, with optional overlays and each hand's fused texture (PNG + textured GLB).

    summary = reconstruct_files(["photos/", "clip.mp4"], "results.jsonl", overlay_dir="overlays/",
                                texture_dir="textures/")

Still images share one Reconstructor (unrelated images); each video gets its own in video mode (tracking, warm
starts, smoothing). An input or frame that fails becomes an ``{"image", "error"}`` line and the run goes on.

Stereo (``calibration``: a ZED ``.conf`` or OpenCV stereo YAML): every image or frame is a side-by-side pair (left
| right, as a ZED records), or, with ``right``, the left views come from ``paths`` and the right views from
``right`` (two folders paired by sorted name, two videos frame by frame, or two images); the hands are fitted in
both views (their placement measured, not guessed) and the results are in the left camera's coordinates.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .camera import Camera, StereoPair
from .capture.files import expand_media, iter_video, read_image
from .config import BATCH_TEXTURE_SIZE, ReconstructConfig
from .conventions import opencv_to_gltf
from .errors import OutputError, RealHandsError
from .outputs import OutputFolder, output_folder, same_folder
from .reconstruct import Reconstructor, SecondView


@dataclass
class BatchSummary:
    written: int = 0  # result lines
    failures: int = 0  # inputs or frames that failed
    textures: list = field(default_factory=list)  # written texture PNG paths


def reconstruct_files(paths, out: str | Path, config: ReconstructConfig | None = None, camera: Camera | None = None,
                      overlay_dir: str | Path | None = None, texture_dir: str | Path | None = None,
                      with_vertices: bool = True, model_path=None, log=print, force: bool = False,
                      calibration: str | Path | None = None, right: str | Path | None = None) -> BatchSummary:
    """Reconstruct every image and video frame in ``paths`` (files and folders) into the JSON-lines file ``out``.

    ``config``: the reconstruction choices (default ReconstructConfig()); ``camera``: the intrinsics of every input
    (default: the default field of view of each image's size); ``overlay_dir``: a JPEG per image or frame with the
    meshes and keypoints drawn; ``texture_dir``: each hand's fused texture and a textured GLB, one per video and
    one for all still images (the atlas side is ``config.texture_size`` or BATCH_TEXTURE_SIZE). ``out`` may not
    be one of the inputs, nor an existing file other than a previous result (.jsonl) unless ``force``. The
    overlay and texture folders may not hold an input, and their files that RealHands did not write are never
    replaced (:class:`OutputFolder`).
    ``calibration``: the inputs are side-by-side stereo pairs of the rig this file describes (see the module
    docstring); ``camera`` is then not used. ``right``: with ``calibration``, the right views (a folder, video or
    image) paired in order with the left views in ``paths``.

    Every input that fails (missing, unreadable, too large, not a picture) and every frame that fails becomes an
    ``{"image", "error"}`` line; the run goes on with the next."""
    from PIL import Image

    from .viz.overlay import draw_overlay

    cfg = config or ReconstructConfig()
    from .errors import MediaError

    if right is not None and not calibration:
        raise MediaError("the right views (--right) need the rig's calibration (--calibration)")
    stereo = _StereoInputs(calibration) if calibration else None
    items = _paired(paths, right)
    if not items:
        from .config import IMAGE_SUFFIXES, VIDEO_SUFFIXES

        raise MediaError(f"nothing to reconstruct in {', '.join(map(str, paths)) or 'no paths'}: no images "
                         f"({' '.join(sorted(IMAGE_SUFFIXES))}) or videos ({' '.join(sorted(VIDEO_SUFFIXES))})")
    inputs = [p for _, p, _ in items] + [r for _, _, r in items if r is not None]
    out = _check_output(Path(out), inputs, force)
    overlays = OutputFolder(_apart(overlay_dir, inputs, "--overlay"), log) if overlay_dir else None
    textures = OutputFolder(_apart(texture_dir, inputs, "--texture"), log) if texture_dir else None
    # a mask only where something uses it (refinement, texture): nothing else here writes one
    cfg = dataclasses.replace(cfg, texture_size=(cfg.texture_size or BATCH_TEXTURE_SIZE) if textures else 0,
                              mask=cfg.mask if (cfg.refine_iterations or textures) else "none")
    images = Reconstructor(cfg, model_path=model_path)
    for note in images.notes:
        log(note)
    summary = BatchSummary()
    last_vertices: dict = {}  # (id of a Reconstructor, side) -> its newest mesh, for the textured GLB

    def write_textures(rec: Reconstructor, stem: str):
        for side, fusion in rec.textures.items():
            if not fusion.seen.any() or (id(rec), side) not in last_vertices:
                continue
            vertices = opencv_to_gltf(last_vertices[(id(rec), side)])
            faces = rec.models[side].faces
            png, _, _ = textures.write(f"{stem}_{side}", {
                ".png": fusion.save_image,
                "_observed.png": lambda p, f=fusion: f.save_image(p, observed=True),
                ".glb": lambda p, f=fusion, v=vertices, t=faces: f.export_glb(p, v, t)})
            summary.textures.append(png)
            base = png.with_suffix("")
            log(f"texture: {base}.png/.glb, _observed.png: where it was seen ({fusion.coverage:.0%} of the atlas)")

    with _open_output(out) as fh:
        for kind, path, right_path in items:
            rec = images if kind == "image" else Reconstructor(cfg, video=True, model_path=model_path)
            try:
                for name, img, right_img, t in _frames(kind, path, right_path):
                    second = None
                    try:
                        if stereo is not None:
                            img, second = stereo.split(img) if right_img is None else stereo.views(img, right_img)
                            cam = second.pair.left
                            found, second.detections = rec.detect_pair(img, second.image)
                        else:
                            cam = Camera.coerce(camera, img.shape[1], img.shape[0])
                            found = rec.detect(img)
                        hands = rec.solve(img, found, cam, timestamp=t, second_view=second)
                    except Exception as exc:  # one bad frame must not end a long run
                        fh.write(json.dumps({"image": name, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
                        summary.failures += 1
                        continue
                    line = {"image": name, "width": img.shape[1], "height": img.shape[0],
                            "intrinsics": [round(x, 4) for x in cam.intrinsics]}
                    if second is not None:
                        line["stereo"] = {"baseline_m": round(second.pair.baseline, 5), "views": 2}
                    line["hands"] = [h.to_json(with_vertices=with_vertices) for h in hands]
                    fh.write(json.dumps(line) + "\n")
                    summary.written += 1
                    for h in hands:
                        last_vertices[(id(rec), h.handedness)] = h.vertices
                    if overlays:
                        vis = draw_overlay(img, hands, cam, rec.models["right"].faces)
                        source, _, frame = name.partition("#frame=")
                        overlays.write(Path(source).stem + (f"_f{frame}" if frame else ""),
                                       {".jpg": lambda p, vis=vis: Image.fromarray(vis).save(p, quality=92)})
            except OutputError:
                raise  # the outputs cannot be written: nothing later would be either
            except Exception as exc:  # one bad input must not end the run; the message names the file
                msg = str(exc) if isinstance(exc, RealHandsError) else f"{path}: {type(exc).__name__}: {exc}"
                print(f"error: {msg}", file=sys.stderr)
                fh.write(json.dumps({"image": str(path), "error": msg}) + "\n")
                summary.failures += 1
            if rec is not images:
                if textures:
                    write_textures(rec, Path(path).stem)
                rec.close()
        if textures:
            write_textures(images, "images")
    images.close()
    return summary


class _StereoInputs:
    """Side-by-side stereo inputs of one calibrated rig: each image split into its views, with the pair's cameras
    for that resolution (a ZED .conf holds every resolution's)."""

    def __init__(self, calibration: str | Path):
        from .capture.calibration import load_calibration

        self.path, self._load, self._pairs = Path(calibration), load_calibration, {}
        self._load(self.path, width=None)  # a missing or broken calibration fails before any input is read

    def pair_for(self, width: int) -> StereoPair:
        if width not in self._pairs:
            self._pairs[width] = self._load(self.path, width=width)
        return self._pairs[width]

    def split(self, image):
        """(left view, SecondView of the right one) of a side-by-side image."""
        from .errors import MediaError

        h, w = image.shape[:2]
        if w % 2 or w < 2 * h // 3:
            raise MediaError(f"a {w}x{h} image is not a side-by-side stereo pair (left | right); without "
                             "--calibration each image is one view")
        half = w // 2
        pair = self.pair_for(half)
        if pair.left.width is not None and (pair.left.width, pair.left.height) != (half, h):
            raise MediaError(f"the calibration is for {pair.left.width}x{pair.left.height} views, the input's are "
                             f"{half}x{h}")
        return image[:, :half], SecondView(image[:, half:], pair)

    def views(self, left, right):
        """(left view, SecondView of the right one) of two separate images of the rig."""
        from .errors import MediaError

        if left.shape != right.shape:
            raise MediaError(f"the left view is {left.shape[1]}x{left.shape[0]}, the right {right.shape[1]}x"
                             f"{right.shape[0]}: the two views of a rig have one size")
        h, w = left.shape[:2]
        pair = self.pair_for(w)
        if pair.left.width is not None and (pair.left.width, pair.left.height) != (w, h):
            raise MediaError(f"the calibration is for {pair.left.width}x{pair.left.height} views, the input's are "
                             f"{w}x{h}")
        return left, SecondView(right, pair)


def _check_output(out: Path, inputs: list[Path], force: bool) -> Path:
    """The results file, checked: not an input, not a folder, not a user's other file (unless ``force``)."""
    if out.is_dir():
        raise OutputError(f"--out {out} is a folder; give a results file, e.g. {out / 'results.jsonl'}")
    resolved = out.resolve()
    for p in inputs:
        if p.exists() and p.resolve() == resolved:
            raise OutputError(f"--out {out} is one of the inputs: it would be overwritten with results; choose "
                              "another name, e.g. results.jsonl")
    if out.exists() and out.suffix.lower() != ".jsonl" and not force:
        raise OutputError(f"--out {out} exists and is not a results file (.jsonl); choose another name, or pass "
                          "--force to replace it")
    output_folder(out.parent)
    return out


def _apart(folder: str | Path, inputs: list[Path], flag: str) -> Path:
    """An output folder of images (overlays, textures) that holds none of the inputs: its files are named after
    the inputs (``photo.jpg``'s overlay is ``photo.jpg``), so written beside them they would replace the photos."""
    folder = Path(folder)
    for p in inputs:  # the input's own folder, and (a link) its target's: a write through the link replaces that
        if any(same_folder(folder, d) for d in (p.parent, p.resolve().parent)):
            raise OutputError(f"{flag} {folder} holds the inputs ({p.name}): what is written there is named after "
                              "them (photo.jpg's overlay is photo.jpg) and could replace them; give another folder")
    return folder


def _open_output(out: Path):
    try:
        return open(out, "w")
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from None


def _paired(paths, right) -> list[tuple[str, Path, Path | None]]:
    """(kind, left input, its right input or None): ``right`` (a folder, video or image) pairs up one to one, in
    sorted order, with the inputs of ``paths``."""
    from .errors import MediaError

    left = expand_media(paths)
    if right is None:
        return [(k, p, None) for k, p in left]
    if not Path(right).exists():
        raise MediaError(f"no such file or folder: {right} (--right)")
    rights = expand_media([right])
    if len(left) != len(rights):
        raise MediaError(f"{len(left)} left input(s) but {len(rights)} right one(s) in {right}: the two views pair up "
                         "one to one, in sorted order")
    for (kl, pl), (kr, pr) in zip(left, rights, strict=True):
        if kl != kr:
            raise MediaError(f"{pl} is a {kl} but its right view {pr} is a {kr}")
    return [(kl, pl, pr) for (kl, pl), (_, pr) in zip(left, rights, strict=True)]


def _frames(kind: str, path: Path, right: Path | None = None):
    """(name, RGB image, the right view's image or None, timestamp s or None) of an image, or of each frame of a
    video; with ``right``, its frames in step (a video pair ends with the shorter one)."""
    if kind == "image":
        yield str(path), read_image(path), (None if right is None else read_image(right)), None
        return
    if right is None:
        for i, t, rgb in iter_video(path):
            yield f"{path}#frame={i}", rgb, None, t
        return
    for (i, t, rgb), (_, _, rgb_r) in zip(iter_video(path), iter_video(right), strict=False):
        yield f"{path}#frame={i}", rgb, rgb_r, t
