"""The model file: a checksummed header, then the engine's state dict as Flax msgpack.

Layout (bytes)::

    SWARMLOG-NEURAL-MODEL\\n          the magic line
    {"format": ..., ...}\\n           the header: one line of JSON
    <payload>                        flax.serialization.msgpack_serialize(state)

The header holds ``format`` (:data:`FORMAT`), ``format_version``, the engine's
``feature_version`` and ``config``, the version's metadata as the registry knows it,
and the payload's ``sha256`` and ``size``. :func:`read` checks all of that, then
decodes the payload and compares every array's shape with a fresh engine's of the
same configuration, before anyone loads anything: a corrupt, truncated or foreign
file is a :class:`ModelFileInvalid` (code ``MODEL_FILE_INVALID``) and nothing has
changed.

The payload is plain data (dicts, lists, numbers, strings, NumPy arrays): the optax
state, a tuple of named tuples in memory, is stored as the list of its leaves (the
engine rebuilds its structure from a fresh initialisation when loading). msgpack
decoding runs no code from the file (unlike pickle).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from domain.errors import DomainError

MAGIC = b"SWARMLOG-NEURAL-MODEL\n"
FORMAT = "swarmlog-neural-model"
FORMAT_VERSION = 1
MAX_HEADER = 1 << 20


class ModelFileInvalid(DomainError):
    """A model file that cannot be used: corrupt, truncated, foreign, or made for
    another feature layout or model shape. Nothing was loaded or recorded."""

    code = "MODEL_FILE_INVALID"


@dataclass(frozen=True)
class ModelFile:
    header: dict[str, Any]
    state: dict[str, Any]
    sha256: str
    """Of the payload: what the registry records and looks the file up by."""


BIG = "__int__"
"""Integers beyond 64 bits (a NumPy generator's state) travel as ``{BIG: "digits"}``."""


def plain(value: Any) -> Any:
    """``value`` as msgpack-friendly plain data: tuples (named ones too) become lists,
    arrays and NumPy scalars become NumPy arrays, integers beyond 64 bits strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return {BIG: str(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return np.asarray(value)
    if hasattr(value, "__array__") and not isinstance(value, np.ndarray):
        return np.asarray(value)
    return value


def restored(value: Any) -> Any:
    """The inverse of :func:`plain` for what it changed that matters: big integers."""
    if isinstance(value, dict):
        if set(value) == {BIG} and isinstance(value[BIG], str) and value[BIG].lstrip("-").isdigit():
            return int(value[BIG])
        return {k: restored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restored(v) for v in value]
    return value


def encode(state: dict[str, Any], header: dict[str, Any]) -> tuple[bytes, str]:
    """The file's bytes and the payload's sha256."""
    from flax import serialization

    payload = serialization.msgpack_serialize(plain(state))
    digest = hashlib.sha256(payload).hexdigest()
    full = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **header,
        "sha256": digest,
        "size": len(payload),
    }
    line = json.dumps(full, sort_keys=True, default=str).encode()
    return MAGIC + line + b"\n" + payload, digest


def write(path: Path, state: dict[str, Any], header: dict[str, Any]) -> str:
    """Write atomically (a temporary file renamed into place); the payload's sha256."""
    data, digest = encode(state, header)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return digest


def read_header(path: Path) -> dict[str, Any]:
    """Only the header (cheap: for finding a file by checksum); MODEL_FILE_INVALID if
    the file does not start like a model file."""
    with path.open("rb") as stream:
        head = stream.read(len(MAGIC) + MAX_HEADER)
    return _header(head, path)[0]


def _header(data: bytes, path: Path) -> tuple[dict[str, Any], int]:
    if not data.startswith(MAGIC):
        raise ModelFileInvalid(f"{path.name} is not a swarmlog model file", reason="magic")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    if end < 0:
        raise ModelFileInvalid(f"{path.name}: the header is cut off", reason="header")
    try:
        header = json.loads(data[len(MAGIC) : end])
    except ValueError:
        raise ModelFileInvalid(f"{path.name}: the header is not JSON", reason="header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileInvalid(f"{path.name} is not a {FORMAT} file", reason="format")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileInvalid(
            f"{path.name} has format version {header.get('format_version')!r}; "
            f"this code reads version {FORMAT_VERSION}",
            reason="format_version",
        )
    return header, end + 1


def read(
    path: Path,
    *,
    feature_version: int,
    template_for: Callable[[dict[str, Any]], dict[str, Any]],
) -> ModelFile:
    """Read and check a model file (see the module docstring). ``template_for(config)``
    is the state dict of a fresh engine of the file's configuration, whose models'
    structure and array shapes the file's must match."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileInvalid(f"cannot read {path}: {error.strerror}", reason="io") from None
    header, start = _header(data, path)
    payload = data[start:]
    if len(payload) != header.get("size"):
        raise ModelFileInvalid(
            f"{path.name} is truncated or padded: {len(payload)} bytes of payload, "
            f"the header says {header.get('size')}",
            reason="size",
        )
    digest = hashlib.sha256(payload).hexdigest()
    if digest != header.get("sha256"):
        raise ModelFileInvalid(
            f"{path.name} is corrupt: its checksum does not match its header", reason="checksum"
        )
    if header.get("feature_version") != feature_version:
        raise ModelFileInvalid(
            f"{path.name} was trained on feature layout {header.get('feature_version')!r}; "
            f"this engine reads layout {feature_version}",
            reason="feature_version",
        )
    from flax import serialization

    try:
        state = restored(serialization.msgpack_restore(payload))
    except Exception:
        raise ModelFileInvalid(
            f"{path.name}: the payload cannot be decoded", reason="payload"
        ) from None
    missing = [key for key in STATE_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise ModelFileInvalid(
            f"{path.name}: the payload is not an engine state (no {', '.join(missing)})",
            reason="payload",
        )
    try:
        template = template_for(state["config"])
    except Exception:
        raise ModelFileInvalid(
            f"{path.name}: its configuration is not one this engine can build", reason="config"
        ) from None
    mismatch = _mismatch(template["models"], state["models"], "models.")
    if mismatch is not None:
        raise ModelFileInvalid(
            f"{path.name} does not fit this engine: {mismatch}", reason="shape", at=mismatch
        )
    return ModelFile(header, state, digest)


STATE_KEYS = ("feature_version", "config", "models", "version", "history")
"""What an engine's state dict holds (:meth:`NeuralEngine.state_dict`)."""


def _mismatch(template: Any, found: Any, where: str) -> str | None:
    """Where ``found`` differs in structure or array shape from ``template`` (None:
    nowhere). Only the model parameters and optimizer state are compared strictly;
    the replay buffer may be absent (None) in an exported file."""
    if isinstance(template, dict):
        if not isinstance(found, dict):
            return f"{where or 'state'} is not a mapping"
        for key, value in template.items():
            if key == "replay":
                continue
            if key not in found:
                return f"{where}{key} is missing"
            deeper = _mismatch(value, found[key], f"{where}{key}.")
            if deeper is not None:
                return deeper
        return None
    if isinstance(template, list | tuple):
        if not isinstance(found, list | tuple) or len(found) != len(template):
            return f"{where.rstrip('.')} has {_length(found)} entries, expected {len(template)}"
        for i, (a, b) in enumerate(zip(template, found, strict=True)):
            deeper = _mismatch(a, b, f"{where}{i}.")
            if deeper is not None:
                return deeper
        return None
    if isinstance(template, np.ndarray | np.generic) or hasattr(template, "__array__"):
        shape = np.shape(template)
        if not isinstance(found, np.ndarray) or found.shape != shape:
            got = found.shape if isinstance(found, np.ndarray) else type(found).__name__
            return f"{where.rstrip('.')} has shape {got}, expected {shape}"
    return None


def _length(value: Any) -> str:
    return str(len(value)) if isinstance(value, list | tuple) else "no"
