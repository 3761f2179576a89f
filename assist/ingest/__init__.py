"""One module per wire format (native, audiohook, twilio): bytes in, frames + metadata out.
Pure protocol logic without sockets; assist.web wraps each in a thin async layer."""
