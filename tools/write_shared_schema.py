#!/usr/bin/env python3
"""Write shared_schema/hand_conventions.json from realhands.conventions (read by the Unity package too).

    python tools/write_shared_schema.py
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python_backend"))

from realhands.conventions import conventions_dict  # noqa: E402

OUT = ROOT / "shared_schema" / "hand_conventions.json"

if __name__ == "__main__":
    OUT.write_text(json.dumps(conventions_dict(), indent=2) + "\n")
    print(f"wrote {OUT}")
