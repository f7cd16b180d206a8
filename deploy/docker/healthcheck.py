"""Container health check: GET http://127.0.0.1:<port>/healthz with the standard library.

One image serves all four services, so the port is found in this order:
  1. HEALTHCHECK_PORT, if set;
  2. <SERVICE>_PORT, the variable the service itself reads, where <service> is taken
     from the container's command (``python -m services.<service>``, PID 1);
  3. that service's default port.
Exit 0 when /healthz answers 200, 1 otherwise (Docker's contract for HEALTHCHECK)."""

import os
import sys
import urllib.request

DEFAULT_PORTS = {"registry": 8001, "scoring": 8002, "sampling": 8003, "publication": 8004}


def _service_from_pid1() -> str | None:
    try:
        with open("/proc/1/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").split("\0")
    except OSError:
        return None
    for arg in args:
        if arg.startswith("services."):
            return arg.split(".", 2)[1]
    return None


def _port() -> int:
    if os.environ.get("HEALTHCHECK_PORT"):
        return int(os.environ["HEALTHCHECK_PORT"])
    service = _service_from_pid1()
    if service is None:
        raise SystemExit("healthcheck: cannot tell which service runs; set HEALTHCHECK_PORT")
    env = f"{service.upper()}_PORT"
    return int(os.environ.get(env) or DEFAULT_PORTS[service])


def main() -> int:
    url = f"http://127.0.0.1:{_port()}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
