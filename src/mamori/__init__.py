"""mamori (守り): software supply-chain security along Japan's guidelines."""

__version__ = "0.1.0"
