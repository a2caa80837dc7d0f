"""Perception: MediaPipe Hands from the pinned wheel (``mediapipe_hands.HandDetector``: 2D keypoints, world landmarks,
handedness), square crops and keypoint heatmaps (``crop``: the crop affines, the left-hand mirror, OpenCV's pixel
convention) and classical masks (``segment``: keypoint-seeded GrabCut, an HSV skin threshold)."""
