#!/usr/bin/env python3
"""Write shared_schema/hand_conventions.json from realhands.conventions (read by the Unity package too).

    python -m tools.build.shared_schema
"""
import json
from pathlib import Path

from realhands.conventions import conventions_dict

ROOT = Path(__file__).resolve().parents[2]

OUT = ROOT / "shared_schema" / "hand_conventions.json"

if __name__ == "__main__":
    OUT.write_text(json.dumps(conventions_dict(), indent=2) + "\n")
    print(f"wrote {OUT}")
