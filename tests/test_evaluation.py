"""Evaluation: metrics on hand-computed cases, matching, summaries, the annotated-keypoint and FreiHAND
evaluations end to end (real MediaPipe on rendered images written to disk), and the report generator."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from realhands.camera import Camera
from realhands.errors import DatasetError
from realhands.evaluation import hand_metrics, match_detection, summarise


def _hand(rng):
    return rng.normal(0, 0.04, (21, 3)) + np.array([0.0, 0.0, 0.5])


def test_hand_metrics_hand_computed():
    rng = np.random.default_rng(0)
    gt = _hand(rng)
    shifted = gt + np.array([0.003, 0.004, 0.0])  # 5 mm everywhere: nothing after alignment, 5 mm without
    camera = Camera(500.0, 500.0, 320.0, 240.0)
    m = hand_metrics(shifted, gt, shifted, gt, camera, camera.project(gt))
    assert m["pa_mpjpe_mm"] == pytest.approx(0, abs=1e-6) and m["pa_mpve_mm"] == pytest.approx(0, abs=1e-6)
    assert m["mpjpe_mm"] == pytest.approx(5.0) and m["root_mm"] == pytest.approx(5.0)
    assert m["f5"] == 1.0 and m["f15"] == 1.0
    assert m["reproj_px"] == pytest.approx(0.005 * 500 / 0.5, rel=0.2)  # 5 mm at ~0.5 m, f = 500 px
    # one joint 21 mm off: after alignment the error spreads, but the worst joint is still that one
    bent = gt.copy()
    bent[8] += [0.021, 0, 0]
    m = hand_metrics(bent, gt)
    assert int(np.argmax(m["per_joint_pa_mm"])) == 8 and m["mpjpe_mm"] == pytest.approx(1.0)
    assert "pa_mpve_mm" not in m  # no vertices given


def test_summaries_pck_auc_and_timings():
    rows = [{"pa_mpjpe_mm": 2.0, "per_joint_pa_mm": [0.0] * 10 + [50.0] * 10, "timings_ms": {"fit": 10, "net": 2}},
            {"pa_mpjpe_mm": 4.0, "per_joint_pa_mm": [0.0] * 20, "timings_ms": {"fit": 30, "net": 4}}]
    s = summarise(rows)
    assert s["hands"] == 2 and s["pa_mpjpe_mm"] == 3.0
    assert s["pck"]["fraction"][0] == 0.75 and s["pck"]["fraction"][-1] == 1.0  # 30 of 40 at 0 mm; all by 50
    assert s["auc_0_50"] == pytest.approx(0.75, abs=0.01)
    assert s["timings_ms"] == {"fit": 20.0, "net": 3.0} and s["total_ms"] == 23.0


def test_match_detection_picks_the_hand_near_the_truth():
    class D:
        def __init__(self, kp):
            self.keypoints_2d = kp

    gt = np.random.default_rng(1).uniform(100, 200, (21, 2))
    near, far = D(gt + 3), D(gt + 300)
    assert match_detection([far, near], gt) is near
    assert match_detection([far], gt) is None and match_detection([], gt) is None


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    """Three held-out renders written as JPEG files, with their ground truth."""
    from realhands.synth.generate import SynthConfig, SynthGenerator

    out = tmp_path_factory.mktemp("renders")
    gen = SynthGenerator(SynthConfig(rig="zedm", resolution="640x480"), seed=99)
    samples = [gen.sample(i) for i in (0, 2, 3)]
    for i, s in enumerate(samples):
        cv2.imwrite(str(out / f"{i:08d}.jpg"), cv2.cvtColor(s.rgb_left, cv2.COLOR_RGB2BGR))
    return out, samples


def test_keypoint_folder_evaluation_and_its_errors(renders, tmp_path):
    from realhands.evaluation.datasets import evaluate_keypoint_folder

    folder, samples = renders
    entries = [{"file": f"{i:08d}.jpg", "keypoints": s.joints2d_left.tolist(), "side": s.side,
                "intrinsics": list(s.camera.intrinsics)}
               for i, s in enumerate(samples)]
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    entries.append({"file": str(tmp_path / "broken.jpg"), "keypoints": samples[0].joints2d_left.tolist()})
    ann = folder / "annotations.json"
    ann.write_text(json.dumps({"images": entries}))
    r = evaluate_keypoint_folder(folder, progress=False)
    assert r["images"] == 4 and len(r["unreadable"]) == 1 and r["detected"] >= 2
    mp = r["methods"]["MediaPipe keypoints"]
    assert mp["median_px"] < 10 and mp["pck"]["fraction"][-1] > 0.9
    assert r["methods"]["reconstructed hand, reprojected"]["median_px"] < 15
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"images": [{"file": "a.jpg", "keypoints": [[1, 2]] * 20}]}))
    with pytest.raises(DatasetError, match="21 \\[u, v\\]"):
        evaluate_keypoint_folder(bad)
    bad.write_text("{")
    with pytest.raises(DatasetError, match="not valid JSON"):
        evaluate_keypoint_folder(bad)


def test_freihand_evaluation_layout_writes_the_submission(renders, tmp_path):
    """A FreiHAND-layout folder (our renders standing in for its images; FreiHAND itself is never in the repo):
    pred.json has one [xyz, verts] entry per image, and the ground truth, when present, is scored."""
    import shutil

    from realhands.evaluation.datasets import evaluate_freihand

    folder, samples = renders
    root = tmp_path / "frei"
    (root / "evaluation" / "rgb").mkdir(parents=True)
    for i in range(len(samples)):
        shutil.copy(folder / f"{i:08d}.jpg", root / "evaluation" / "rgb" / f"{i:08d}.jpg")
    (root / "evaluation_K.json").write_text(json.dumps([s.K_left.tolist() for s in samples]))
    (root / "evaluation_xyz.json").write_text(json.dumps([s.joints3d.tolist() for s in samples]))
    (root / "evaluation_verts.json").write_text(json.dumps([s.vertices.tolist() for s in samples]))
    r = evaluate_freihand(root, tmp_path / "out", progress=False)
    pred = json.loads((tmp_path / "out" / "pred.json").read_text())
    assert len(pred) == 2 and len(pred[0]) == len(samples) == len(pred[1])
    assert np.asarray(pred[0][0]).shape == (21, 3) and np.asarray(pred[1][0]).shape == samples[0].vertices.shape
    assert r["has_ground_truth"] and r["detected"] >= 2
    # the scores are those of the submitted predictions against the ground truth, worked out here on their own
    from realhands.metrics import mpvpe

    found = [i for i in range(len(samples)) if i not in r["missed"]]
    own = np.mean([mpvpe(np.asarray(pred[1][i]), samples[i].vertices, align="procrustes") for i in found])
    assert r["summary"]["pa_mpve_mm"] == pytest.approx(own, abs=0.01)
    with pytest.raises(DatasetError, match="evaluation layout"):
        evaluate_freihand(tmp_path, tmp_path / "o2")


def test_report_generator_on_a_tiny_run(tmp_path):
    from realhands.evaluation import evaluate_synthetic
    from realhands.evaluation.report import plot_pck, results_markdown
    from realhands.evaluation.synthetic import HYBRID

    variants = {"keypoint fit": {"regressor": "fit", "mask": "none"},
                HYBRID: {"regressor": "handnet", "mask": "handnet"}}
    r = evaluate_synthetic(2, variants=variants, progress=False)
    assert r["split"]["detected"] >= 1
    assert set(r["variants"]) == set(variants) and r["masks"]["HandNet"]["mask_iou"] > 0.5
    png = plot_pck(r["variants"], tmp_path / "pck.png", "tiny")
    assert png.stat().st_size > 5000
    recorded = {"ablations": {"note": "n", "command": "c", "rows": {"x": {"epochs": 1, "net_pa_mpve": 1.0, "f5": 0.5,
                                                                          "f15": 0.9, "hybrid_pa_mpve": 0.5,
                                                                          "mask_iou": 0.9}}}}
    md = results_markdown(r, {"command": "python -m tools.eval.make_results", "hardware": "test", "date": "today",
                              "commit": "abc"}, {"pck": "pck.png"}, recorded)
    for heading in ("## Table 1", "Table 2", "## Table 3", "## Table 4", "## Timing"):
        assert heading in md
    assert "| keypoint fit |" in md and "**Reading it.**" in md and "python -m tools.eval.make_results" in md


def test_real3d_loader_metrics_and_bad_samples(renders, tmp_path):
    """``realhands eval real3d`` on a tiny annotated set made here (renders with known joints and intrinsics):
    the hands found are scored beside MediaPipe with the same numbers as scoring each by hand; a NaN annotation, an
    image that does not load and a malformed entry are counted and skipped; a missing or malformed file is one
    clear error."""
    from realhands.evaluation.real3d import MEDIAPIPE, evaluate_real3d, load_real3d, real3d_table

    folder, samples = renders
    entries = [{"image": f"{i:08d}.jpg", "K": s.camera.K.tolist(), "joints_3d": s.joints3d.tolist()}
               for i, s in enumerate(samples)]
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    nan = np.array(samples[0].joints3d, np.float64)
    nan[3, 1] = np.nan
    entries += [{"image": "broken.jpg", "K": samples[0].camera.K.tolist(), "joints_3d": samples[0].joints3d.tolist()},
                {"image": "00000000.jpg", "K": samples[0].camera.K.tolist(), "joints_3d": nan.tolist()},
                {"image": "00000000.jpg", "K": [[1, 0], [0, 1]], "joints_3d": samples[0].joints3d.tolist()},
                {"image": "00000000.jpg", "K": samples[0].camera.K.tolist(),
                 "joints_3d": (np.asarray(samples[0].joints3d) * 1000).tolist()}]  # millimetres
    ann = folder / "real3d.json"
    ann.write_text(json.dumps({"samples": entries}))
    _, good, skipped = load_real3d(ann)
    assert len(good) == 4 and len(skipped) == 3
    assert any("NaN" in x for x in skipped) and any("3x3" in x for x in skipped)
    assert any("millimetres" in x for x in skipped)
    variants = {"fit": {"regressor": "fit", "mask": "none", "landmark_offsets": False}}
    r = evaluate_real3d(ann, variants=variants, progress=False)
    assert r["samples"] == 7 and len(r["skipped"]) == 4 and any("broken.jpg" in x for x in r["skipped"])
    assert r["detected"] + r["missed"] == 3 and r["detected"] >= 2
    mp, fit = r["variants"][MEDIAPIPE], r["variants"]["fit"]
    assert fit["hands"] == mp["hands"] == r["detected"]
    assert "mpjpe_mm" not in mp and mp["reproj_px"] < 10  # MediaPipe has no placement; its 2D keypoints are scored
    assert fit["pa_mpjpe_mm"] < 20 and fit["reproj_px"] < 15
    # the same numbers by hand: each found hand reconstructed and scored on its own
    import cv2

    from realhands.metrics import joint_errors
    from realhands.reconstruct import Reconstructor

    rec, mine = Reconstructor(**variants["fit"]), []
    for i, s in enumerate(samples):  # the very images the evaluation read (JPEG-decoded)
        img = cv2.cvtColor(cv2.imread(str(folder / f"{i:08d}.jpg")), cv2.COLOR_BGR2RGB)
        d = match_detection(rec.detect(img), s.joints2d_left)
        if d is not None:
            mine.append(joint_errors(rec.solve(img, [d], s.camera)[0].landmarks_3d, s.joints3d))
    assert fit["pa_mpjpe_mm"] == pytest.approx(np.mean([m["pa_mpjpe_mm"] for m in mine]), abs=0.05)
    assert fit["root_mm_median"] == pytest.approx(np.median([m["root_mm"] for m in mine]), rel=0.05)
    assert fit["pck"]["fraction"][-1] > 0.9 and fit["total_ms"] > 0
    md = real3d_table(r)
    assert md.splitlines()[2].startswith(f"| {MEDIAPIPE} | ") and "| fit |" in md
    (folder / "empty.json").write_text(json.dumps({"samples": []}))
    with pytest.raises(DatasetError, match="at least one sample"):
        load_real3d(folder / "empty.json")
    with pytest.raises(DatasetError, match="not found"):
        load_real3d(folder / "missing.json")
    (folder / "bad.json").write_text("{\"samples\": [")
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_real3d(folder / "bad.json")
    # nothing scorable: the command says so, names what it skipped, and fails
    (folder / "none.json").write_text(json.dumps({"samples": entries[-3:]}))
    res = subprocess.run([sys.executable, "-m", "realhands.cli", "eval", "real3d", str(folder / "none.json"),
                          "--out", str(tmp_path / "ev")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and "nothing was scored" in res.stderr and "warning: skipped sample 0" in res.stderr, \
        res.stderr[-2000:]


def test_the_mutation_table_keeps_the_rows_of_mutants_a_run_did_not_take():
    """`tools.eval.mutants --mutants a b --markdown F` replaces those rows and the control's, keeps the others (in the
    mutants' order) and names them as earlier; a row for a mutant no longer known is dropped."""
    from tools.eval import mutants

    block = ("\n| mutant | what it breaks | tests that fail |\n| --- | --- | --- |\n| none (control) | old | none |\n"
             "| `mean_pose` | old mean | t1 |\n| `zero_depth` | old depth | t2 |\n| `gone` | removed | t3 |\n\n"
             "Command: `python -m tools.eval.mutants`, 2026-11-26.\n")
    lines = ["| mutant | what it breaks | tests that fail |", "| --- | --- | --- |", "| none (control) | new | none |",
             "| `zero_depth` | new depth | t4 |", "| `one_view` | new view | t5 |"]
    table, kept = mutants.merged_table(block, lines, [None, "zero_depth", "one_view"])
    rows = table.splitlines()
    assert rows[:3] == lines[:3]
    assert rows[3:] == ["| `mean_pose` | old mean | t1 |", "| `zero_depth` | new depth | t4 |",
                        "| `one_view` | new view | t5 |"]
    assert kept == ["mean_pose"]


BIG = int("9" * 400)  # a valid JSON integer no float holds (OverflowError)


def test_malformed_annotation_entries_are_skipped_with_a_reason_naming_them(tmp_path):
    """A 400-digit integer in K, joints_3d or keypoints, "visible" of the wrong length, a "file" that is a list,
    "intrinsics" of the wrong shape: that entry is skipped with a reason naming it, the others are kept; a file
    nested too deeply or holding a 5000-digit number is one DatasetError naming the file."""
    from realhands.evaluation.datasets import load_keypoint_annotations
    from realhands.evaluation.real3d import load_real3d

    K = [[500, 0, 32], [0, 500, 24], [0, 0, 1]]
    joints = [[0.01 * i, 0.0, 0.5] for i in range(21)]
    ann = tmp_path / "real3d.json"
    ann.write_text(json.dumps({"samples": [
        {"image": "a.png", "K": [[BIG, 0, 32], [0, 500, 24], [0, 0, 1]], "joints_3d": joints},
        {"image": "b.png", "K": K, "joints_3d": [[BIG, 0, 0.5]] + joints[1:]},
        {"image": "c.png", "K": K, "joints_3d": joints}]}))
    _, good, skipped = load_real3d(ann)
    assert [s["image"] for s in good] == ["c.png"]
    assert [x.split(":")[0] for x in skipped] == ["sample 0 (a.png)", "sample 1 (b.png)"]
    kp = [[10.0 + i, 10.0] for i in range(21)]
    ann = tmp_path / "keypoints.json"
    ann.write_text(json.dumps({"images": [
        {"file": "a.png", "keypoints": [[BIG, 1]] + kp[1:]},
        {"file": "b.png", "keypoints": kp, "visible": [True] * 3},
        {"file": ["c.png"], "keypoints": kp},
        {"file": "d.png", "keypoints": kp, "intrinsics": [1, 2]},
        {"file": "e.png", "keypoints": kp, "intrinsics": [BIG, 500, 32, 24]},
        {"file": "f.png", "keypoints": kp, "visible": [False] * 21},
        {"file": "g.png", "keypoints": kp, "visible": [True] * 20 + [False], "intrinsics": [500, 500, 32, 24]}]}))
    _, good, skipped = load_keypoint_annotations(ann)
    assert [e["file"] for e in good] == ["g.png"] and good[0]["visible"].sum() == 20
    assert [x.split(":")[0] for x in skipped] == ["image entry 0 (a.png)", "image entry 1 (b.png)", "image entry 2",
                                                  "image entry 3 (d.png)", "image entry 4 (e.png)",
                                                  "image entry 5 (f.png)"]
    assert "visible" in skipped[1] and "intrinsics" in skipped[3] and "intrinsics" in skipped[4]
    for name, text in [("deep.json", "[" * 100000), ("long.json", '{"images": [' + "9" * 5000 + "]}")]:
        (tmp_path / name).write_text(text)
        for load in (load_keypoint_annotations, load_real3d):
            with pytest.raises(DatasetError, match="not valid JSON") as err:
                load(tmp_path / name)
            assert name in str(err.value) and "\n" not in str(err.value)


def test_eval_replaces_no_file_in_out_unless_forced(tmp_path, capsys):
    """`eval ... --out mine` where mine holds the user's summary.json or table.md: refused before any work, one
    line naming them, untouched; with --force the evaluation runs (here: an entry whose principal point lies far
    outside its image is skipped at run time, named, and the run goes on) and replaces them. An evaluation's own
    earlier outputs are replaced without --force."""
    from realhands.cli import main

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.json").write_text("my summary")
    (mine / "table.md").write_text("my table")
    kp = [[10.0 + i, 10.0] for i in range(21)]
    cv2.imwrite(str(tmp_path / "grey.png"), np.full((48, 64, 3), 128, np.uint8))
    ann = tmp_path / "annotations.json"
    ann.write_text(json.dumps({"images": [{"file": "grey.png", "keypoints": kp, "intrinsics": [500, 500, 5000, 24]},
                                          {"file": "grey.png", "keypoints": kp}]}))
    for args in (["real3d", ann], ["keypoints", ann], ["synthetic"], ["freihand", tmp_path], ["recording", ann]):
        capsys.readouterr()
        assert main(["eval", *map(str, args), "--out", str(mine)]) == 2, args
        err = capsys.readouterr().err
        assert "summary.json" in err and "--force" in err and err.count("\n") == 1, err
        assert ("table.md" in err) == (args[0] == "real3d"), err
    assert (mine / "summary.json").read_text() == "my summary" and (mine / "table.md").read_text() == "my table"
    assert sorted(p.name for p in mine.iterdir()) == ["summary.json", "table.md"]
    capsys.readouterr()
    assert main(["eval", "keypoints", str(ann), "--out", str(mine), "--force"]) == 0
    err = capsys.readouterr().err
    assert "skipped image entry 0 (grey.png)" in err and "principal point" in err, err
    summary = json.loads((mine / "summary.json").read_text())
    assert summary["images"] == 2 and len(summary["skipped"]) == 1 and summary["detected"] == 0
    assert (mine / "table.md").read_text() == "my table"  # not one of this evaluation's outputs
    assert main(["eval", "keypoints", str(ann), "--out", str(mine)]) == 0  # its own earlier outputs: replaced
    assert json.loads((mine / "summary.json").read_text())["images"] == 2
    capsys.readouterr()
    assert main(["eval", "real3d", str(ann), "--out", str(mine)]) == 2  # the user's table.md still is not
    assert "table.md" in capsys.readouterr().err and (mine / "table.md").read_text() == "my table"
