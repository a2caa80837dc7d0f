"""Errors of the synthetic-data stage (kept free of heavy imports so the CLI can catch them cheaply)."""


class DatasetError(RuntimeError):
    """A dataset folder or shard is missing, corrupt or of another dataset; the message names the file."""
