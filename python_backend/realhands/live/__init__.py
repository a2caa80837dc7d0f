"""The live process: sources by name, the threaded pipeline, recording and replay."""
from .pipeline import FrameResult, LivePipeline, RunReport
from .sources import open_source

__all__ = ["FrameResult", "LivePipeline", "RunReport", "open_source"]
