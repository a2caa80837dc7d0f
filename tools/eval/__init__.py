"""Evaluations behind the docs (``python -m tools.eval.NAME``): docs/RESULTS.md (``make_results``), HandNet's model card
figures (``handnet``) and the synthetic renders' realism check (``realism_check``)."""
