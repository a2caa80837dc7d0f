"""The Unity package's harness (``python -m tools.unity.NAME``): ``harness`` builds the C# core with mono and runs its
NUnit tests, ``meta`` writes and checks the .meta files, ``bench`` times the core; ``probe/`` is the C# console
probe, ``stubs/`` the UnityEngine stand-in the Unity layer is type-checked against."""
