"""The exception tree. Each error is scoped to one call or one request, never the process.

AssistError
├── ConfigError            a setting is missing or invalid (raised at start-up)
├── ModelError             a model's files are missing or broken (says how to fix it)
├── AudioFormatError       audio that does not match its declared format
│   └── UnsupportedFormatError   a codec, rate or channel layout we do not take
└── ProtocolError          a wire message that breaks its protocol (reported to that client)
"""


class AssistError(Exception):
    """Base class for errors raised by assist."""


class ConfigError(AssistError):
    """A configuration value is missing or invalid."""


class ModelError(AssistError):
    """A model cannot be loaded; the message says what is missing and how to fix it."""


class AudioFormatError(AssistError):
    """Audio bytes do not fit the declared format (odd length, wrong size, ...)."""


class UnsupportedFormatError(AudioFormatError):
    """The declared audio format is one we do not accept."""


class ProtocolError(AssistError):
    """A client message breaks the protocol; ``reason`` is safe to send back to the client."""

    def __init__(self, reason: str, *, code: int = 1008) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
