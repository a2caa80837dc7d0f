"""Pictures for people: overlays of reconstructed hands on their images (``overlay``) and a small CPU preview
renderer for docs and the demo (``preview``)."""
