"""Evaluation (`realhands eval`): the paper's metrics on our held-out synthetic split, mono and stereo (``synthetic``),
FreiHAND's evaluation layout, folders of images with 2D keypoint annotations and recordings (``datasets``), the
per-hand metrics and summaries they share (``common``), and PCK pictures and docs/RESULTS.md (``report``;
``python -m tools.eval.make_results``)."""
from .common import METRIC_KEYS, hand_metrics, match_detection, summarise
from .synthetic import VARIANTS, evaluate_synthetic

__all__ = ["METRIC_KEYS", "VARIANTS", "evaluate_synthetic", "hand_metrics", "match_detection", "summarise"]
