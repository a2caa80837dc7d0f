"""Evaluation (`realhands eval`): the paper's metrics on our held-out synthetic split (mono and stereo), FreiHAND's
evaluation layout, folders of images with 2D keypoint annotations, and recordings; JSON summaries, PCK curves and
docs/RESULTS.md (tools/eval/make_results.py)."""
from .common import METRIC_KEYS, hand_metrics, match_detection, summarise
from .synthetic import VARIANTS, evaluate_synthetic

__all__ = ["METRIC_KEYS", "VARIANTS", "evaluate_synthetic", "hand_metrics", "match_detection", "summarise"]
