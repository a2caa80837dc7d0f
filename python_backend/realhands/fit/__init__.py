"""The keypoint fit (``keypoint_fit.KeypointFitter``: the hand model fitted to 2D keypoints under a camera's K and to
MediaPipe's world landmarks, L-BFGS, batched) and the One Euro filter that smooths parameters over video frames
(``smoothing.OneEuroFilter``). The Reconstructor's "fit" and "smooth" stages call them."""
