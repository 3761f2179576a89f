"""Audio front end: wire codecs → float32 16 kHz per speaker → voice activity."""

from assist.audio.codec import AudioFormat, decode_frame, encode_pcm
from assist.audio.resample import StreamResampler

TARGET_RATE_HZ = 16_000

__all__ = ["TARGET_RATE_HZ", "AudioFormat", "StreamResampler", "decode_frame", "encode_pcm"]
