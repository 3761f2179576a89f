"""Audio front end: wire codecs → float32 16 kHz per speaker → voice activity."""

from assist.audio.codec import AudioFormat, decode_frame, encode_pcm
from assist.audio.resample import TARGET_RATE_HZ, StreamResampler

__all__ = ["TARGET_RATE_HZ", "AudioFormat", "StreamResampler", "decode_frame", "encode_pcm"]
