"""The live process: sources by name, the synthetic source among them (``sources``); the pipeline's threads, which
hand frames from capture to perception to reconstruction to the sinks (``pipeline``); sessions: run, record,
replay, re-run and listen (``session``). The stream's rules live in realhands.streaming.protocol, the recording
sink in realhands.recording."""
from .pipeline import FrameResult, LivePipeline, RunReport
from .sources import SyntheticSource, open_source

__all__ = ["FrameResult", "LivePipeline", "RunReport", "SyntheticSource", "open_source"]
