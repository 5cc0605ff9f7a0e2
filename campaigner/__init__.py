"""campaigner: a command-line social-media campaign scheduler."""

__version__ = "0.1.0"
