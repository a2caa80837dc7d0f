"""Builders of committed files (``python -m tools.build.NAME``): our hand model (``hand_model``, from
``data/webxr_generic_hand`` with ``handbuild``), the pose-library renders, shared_schema/hand_conventions.json and
the golden wire vectors. Tests rebuild and compare them."""
