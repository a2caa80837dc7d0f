"""The shared schema that the Unity package reads matches the Python conventions."""
import json
from pathlib import Path

from realhands.conventions import conventions_dict

ROOT = Path(__file__).resolve().parents[1]


def test_hand_conventions_json_is_current():
    on_disk = json.loads((ROOT / "shared_schema/hand_conventions.json").read_text())
    assert on_disk == conventions_dict(), "run: python -m tools.build.shared_schema"


def test_conventions_are_consistent():
    c = conventions_dict()
    assert len(c["mano_joint_names"]) == len(c["mano_parents"]) == 16
    assert all(c["mano_parents"][j] < j for j in range(1, 16))
    assert sorted(c["mano21_to_keypoints"]) == list(range(21))
    for k, name in enumerate(c["keypoint_names"]):
        parent = c["keypoint_parents"][k]
        assert parent == -1 or c["keypoint_names"][parent].split("_")[0] in (name.split("_")[0], "wrist")
