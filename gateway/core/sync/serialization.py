"""Job payloads as msgpack (msgspec), never pickle: a Redis write must not become code execution."""

from __future__ import annotations

from typing import Any

import msgspec

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder()


def serialize_job(payload: dict[str, Any]) -> bytes:
    return _encoder.encode(payload)


def deserialize_job(data: bytes) -> dict[str, Any]:
    payload: dict[str, Any] = _decoder.decode(data)
    return payload
