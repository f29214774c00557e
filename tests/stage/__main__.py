"""`make stage`: the production shape on this machine until Ctrl-C (tests/stage/cluster.py).

    make stage                          # https://127.0.0.1:8443/ (or a free port)
    make stage STAGE_ARGS="--port 9443 --keep"

Everything listens on 127.0.0.1 only and lives in a temporary directory, removed on exit
(--keep keeps it: data and logs).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from tests.stage.cluster import HOST, WEB_NODES, WORKERS, Stage


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.stage", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=None, help="HTTPS port (default 8443 if free)")
    parser.add_argument("--keep", action="store_true", help="keep the directory (data, logs)")
    parser.add_argument("--no-demo", action="store_true", help="an empty site")
    args = parser.parse_args()
    # Ctrl-C and TERM both end the `with` below, which stops everything in order (INT is
    # set explicitly: a shell starting us in the background would have it ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with Stage.start(https_port=args.port, demo=not args.no_demo, keep=args.keep) as stage:
            nodes = ", ".join(f"{n} {HOST}:{stage.web_ports[n]}" for n in WEB_NODES)
            print(
                f"\nSolidaire is up at {stage.origin}/  (self-signed certificate: "
                f"{stage.certificate})\n"
                f"  nginx (TLS) -> {nodes}"
                f"\n  {len(WORKERS)} Celery workers, 1 beat; pgbouncer {HOST}:{stage.bouncer_port}"
                f" -> PostgreSQL {HOST}:{stage.pg_port}; Redis {HOST}:{stage.redis_port}\n"
                f"  files: {stage.root}  (logs in logs/)\n"
                "Demo logins: see `manage.py load_demo` (password demo-solidaire-2026).\n"
                "Ctrl-C stops everything.",
                flush=True,
            )
            while True:
                for name, process in stage.processes.items():
                    if not process.running():
                        print(f"stage: {name} stopped; see {process.log}", file=sys.stderr)
                        return 1
                time.sleep(2)
    except KeyboardInterrupt:
        print("\nstage: stopping", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
