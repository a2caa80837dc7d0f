"""Synthetic stereo hands for training and evaluation: the stereo rigs (``rig``), hand, view and light sampling
(``sampling``), procedural skin in the model's UV atlas (``skin``), backgrounds and camera effects
(``backgrounds``), the renders (``generate``: StereoSample, deterministic per seed and index), sharded datasets
(``dataset``) and gesture sequences (``sequence``)."""

#: Background styles of the renders: "mixed" (training: everyday scenes and hard cases) and "everyday".
BACKGROUND_STYLES = ("mixed", "everyday")
