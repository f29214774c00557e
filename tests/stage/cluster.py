"""The production shape on one machine, started from the checkout and thrown away after.

    with Stage.start() as stage:          # everything below, on 127.0.0.1 only
        stage.url("/health/")             # https://127.0.0.1:PORT/health/ through nginx
        stage.kill("web-a")               # SIGKILL a web node (and its workers)
        stage.start_process("web-a")      # bring it back, as systemd's Restart= would

What runs, each in a temporary directory removed at the end:
- PostgreSQL 15 (its own cluster) and pgbouncer in transaction pooling in front of it;
  every Django process reaches the database through pgbouncer only.
- Redis: the Celery broker (database 0) and the cache (database 1), no persistence.
- Two web nodes (gunicorn, the command line of docs/deploy/solidaire-web.service), each
  with its own SOLIDAIRE_VAR_DIR as if on two machines; MEDIA_ROOT is the one directory
  they share.
- Two Celery workers and one beat (docs/deploy/solidaire-{worker,beat}.service), each
  with its own SOLIDAIRE_VAR_DIR too.
- nginx with TLS (a self-signed certificate made here with openssl), its site built from
  docs/deploy/solidaire.nginx.conf (tests/stage/nginx.py).

The settings are those of docs/deploy.md for more than one machine: server mode,
DATABASE_TRANSACTION_POOLING, CACHE_URL on Redis, TRUSTED_PROXY_COUNT=1, HTTPS on.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.stage import nginx

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "docs" / "deploy"
HOST = "127.0.0.1"  # every server of the stage listens here and nowhere else
WEB_NODES = ("web-a", "web-b")
WORKERS = ("worker-1", "worker-2")
STRIPE_WEBHOOK_SECRET = "whsec_stage"


def log(message: str) -> None:
    print(f"stage: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def pg_bindir() -> Path:
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    for candidate in [
        "/usr/lib/postgresql/15/bin",
        *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True),
    ]:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise SystemExit("stage: no PostgreSQL server binaries (apt-get install postgresql-15)")


def unit_command(unit: str) -> list[str]:
    """ExecStart of a systemd unit in docs/deploy/, as an argument list."""
    lines = (UNITS / unit).read_text().splitlines()
    joined, taking = "", False
    for line in lines:
        if line.startswith("ExecStart="):
            joined, taking = line.removeprefix("ExecStart="), True
        elif taking:
            joined += " " + line.strip()
        else:
            continue
        if joined.endswith("\\"):
            joined = joined[:-1]
        else:
            break
    # systemd writes a literal % as %%.
    return shlex.split(joined.replace("%%", "%"))


def unit_restart_seconds(unit: str) -> float | None:
    """RestartSec= of a unit that says Restart=on-failure; None if systemd would not
    restart it."""
    settings = dict(
        line.split("=", 1) for line in (UNITS / unit).read_text().splitlines() if "=" in line
    )
    if settings.get("Restart") not in ("on-failure", "always"):
        return None
    return float(settings.get("RestartSec", "0.1"))


DEMO_PASSWORD = "demo-solidaire-2026"
LOGIN_LINE = re.compile(r"^  (?P<user>\S+)\s+(?P<role>.+?)\s{2,}.*?(?:key (?P<key>[A-Z2-7]+))?$")


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    totp_key: str
    password: str = DEMO_PASSWORD


@dataclass
class Process:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    as_postgres: bool = False
    popen: subprocess.Popen[bytes] | None = None
    stop_signal: int = signal.SIGTERM
    # As systemd's Restart=on-failure: started again this many seconds after it exits on
    # its own with a failure (None: left down). Never after stop_process() or kill(),
    # which stand for an operator or a drill, who start it again themselves.
    restart_sec: float | None = None
    held: bool = False
    exits: list[str] = field(default_factory=list)  # what it exited with, when restarted

    def spawn(self, as_pg: list[str]) -> None:
        out = self.log.open("ab")
        command = [*as_pg, *self.command] if self.as_postgres else self.command
        self.popen = subprocess.Popen(
            command,
            cwd=REPO if not self.as_postgres else self.log.parent,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: a kill reaches its children
        )
        out.close()

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.popen is not None and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 30) -> None:
        if not self.running():
            return
        assert self.popen is not None
        self.signal_group(self.stop_signal)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.popen.wait(timeout=10)
        # Children a SIGKILLed master left behind are in the same group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)


@dataclass
class Stage:
    root: Path
    https_port: int
    http_port: int
    pg_port: int
    bouncer_port: int
    redis_port: int
    web_ports: dict[str, int]
    env: dict[str, str]
    stripe: bool
    processes: dict[str, Process] = field(default_factory=dict)
    as_pg: list[str] = field(default_factory=list)
    keep: bool = False
    _supervising: threading.Event = field(default_factory=threading.Event)
    _spawning: threading.Lock = field(default_factory=threading.Lock)
    # Options appended to the unit's gunicorn command line (the last of a repeated option
    # wins), to measure another worker class or count than the one deployed.
    gunicorn_args: list[str] = field(default_factory=list)

    # --- addresses -----------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def url(self, path: str) -> str:
        return self.origin + path

    @property
    def certificate(self) -> Path:
        return self.root / "tls" / "cert.pem"

    def tls_context(self) -> ssl.SSLContext:
        """Trusts the stage's own certificate, and only it."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def connection(self, timeout: float = 60) -> http.client.HTTPSConnection:
        """A connection to nginx (TLS)."""
        return http.client.HTTPSConnection(
            HOST, self.https_port, timeout=timeout, context=self.tls_context()
        )

    def node_connection(self, node: str, timeout: float = 60) -> http.client.HTTPConnection:
        """Straight to one web node, past nginx (send X-Forwarded-Proto: https)."""
        return http.client.HTTPConnection(HOST, self.web_ports[node], timeout=timeout)

    @property
    def direct_database_url(self) -> str:
        """PostgreSQL itself, not through pgbouncer (for checks and admin work)."""
        return f"postgres://postgres@{HOST}:{self.pg_port}/solidaire"

    @property
    def redis_url(self) -> str:
        return f"redis://{HOST}:{self.redis_port}"

    def sms_dirs(self) -> list[Path]:
        """Where the file SMS backend of every worker (and web node) writes."""
        return [self.root / name / "var" / "sms" for name in (*WORKERS, *WEB_NODES, "admin")]

    def demo_logins(self) -> list[Login]:
        """The demo's logins, as load_demo printed them (office bearers with their key)."""
        logins = []
        path = self.root / "demo-logins.txt"
        for line in path.read_text().splitlines() if path.exists() else []:
            match = LOGIN_LINE.match(line)
            if match:
                logins.append(Login(match["user"], match["role"].strip(), match["key"] or ""))
        return logins

    def login_for(self, role: str) -> Login:
        return next(x for x in self.demo_logins() if x.role == role)

    # --- running commands ------------------------------------------------------------

    def node_env(self, name: str, **extra: str) -> dict[str, str]:
        env = {**self.env, "SOLIDAIRE_VAR_DIR": str(self.root / name / "var"), **extra}
        Path(env["SOLIDAIRE_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
        return env

    def manage(self, *args: str, capture: bool = False, **extra: str) -> str:
        """manage.py with the stage's settings, as an operator would run it."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.node_env("admin", **extra),
            check=True,
            capture_output=capture,
            text=True,
            timeout=1800,
        )
        return result.stdout if capture else ""

    def psql(self, sql: str) -> str:
        """One SQL statement against PostgreSQL itself; the rows as text."""
        result = subprocess.run(
            [
                str(pg_bindir() / "psql"),
                "-h", HOST, "-p", str(self.pg_port), "-U", "postgres", "-d", "solidaire",
                "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )  # fmt: skip
        return result.stdout.strip()

    def pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A PostgreSQL server program (pg_ctl...) as the postgres user."""
        result = subprocess.run(
            [*self.as_pg, str(pg_bindir() / args[0]), *args[1:]],
            cwd=self.root,
            check=False,
            capture_output=True,
            start_new_session=True,  # a Ctrl-C in the terminal is for us, not for postgres
            text=True,
            timeout=300,
        )
        if check and result.returncode:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
        return result

    # --- processes -----------------------------------------------------------------

    def add(self, name: str, command: list[str], env: dict[str, str], **kw: object) -> Process:
        process = Process(
            name=name, command=command, env=env, log=self.root / "logs" / f"{name}.log", **kw
        )  # type: ignore[arg-type]
        self.processes[name] = process
        return process

    def start_process(self, name: str) -> None:
        process = self.processes[name]
        with self._spawning:
            process.held = False
            if not process.running():
                process.spawn(self.as_pg)

    def stop_process(self, name: str, timeout: float = 30) -> None:
        self.processes[name].held = True
        self.processes[name].stop(timeout=timeout)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill a process and everything it started (its process group)."""
        process = self.processes[name]
        process.held = True
        process.signal_group(sig)
        if process.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=10)

    def restarts(self) -> dict[str, list[str]]:
        """The processes that failed on their own and were started again, with how each
        run ended (the supervisor's doing: systemd's Restart=on-failure)."""
        return {name: list(p.exits) for name, p in self.processes.items() if p.exits}

    def _supervise(self) -> None:
        """Do what systemd does for the units that say Restart=on-failure."""
        exited_at: dict[str, float] = {}
        while not self._supervising.wait(0.5):
            for name, process in self.processes.items():
                if process.restart_sec is None or process.held or process.popen is None:
                    exited_at.pop(name, None)
                    continue
                status = process.popen.poll()
                if status is None or status == 0:
                    continue
                since = exited_at.setdefault(name, time.monotonic())
                if time.monotonic() - since < process.restart_sec:
                    continue
                with self._spawning:
                    if process.held or process.running():
                        continue
                    process.exits.append(f"status {status}")
                    log(f"{name} exited with status {status}: started again, as systemd would")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.popen.pid, signal.SIGKILL)  # what it left behind
                    process.spawn(self.as_pg)
                exited_at.pop(name, None)

    def stop_postgres(self) -> None:
        self.pg("pg_ctl", "-D", str(self.root / "pgdata"), "-m", "fast", "-w", "stop")

    def start_postgres(self) -> None:
        logfile = str(self.root / "logs" / "postgres.log")
        self.pg("pg_ctl", "-D", str(self.root / "pgdata"), "-l", logfile, "-w", "-t", "60", "start")

    def restart_postgres(self) -> None:
        # Stop and start rather than `pg_ctl restart`, which would start the server with
        # our pipes as its output (and this call would wait for them to close).
        self.stop_postgres()
        self.start_postgres()

    def wait_http(
        self, path: str = "/health/", timeout: float = 90, node: str | None = None
    ) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                conn = self.node_connection(node, 5) if node else self.connection(5)
                headers = {"X-Forwarded-Proto": "https", "Host": HOST} if node else {}
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
            except OSError as exc:
                last = type(exc).__name__
            time.sleep(0.3)
        raise RuntimeError(f"{node or 'nginx'} {path} not ready after {timeout:.0f} s ({last})")

    def wait_workers(self, timeout: float = 90) -> None:
        """Until both workers answer a ping over the broker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(
                [sys.executable, "-m", "celery", "-A", "union", "inspect", "ping", "--timeout=2"],
                cwd=REPO,
                env=self.node_env("admin"),
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            if out.count("pong") >= len(WORKERS):
                return
            time.sleep(1)
        raise RuntimeError("workers did not answer")

    # --- the whole -------------------------------------------------------------------

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        *,
        https_port: int | None = None,
        demo: bool = True,
        apps: bool = True,
        stripe: bool = False,
        extra_env: dict[str, str] | None = None,
        keep: bool = False,
        gunicorn_args: list[str] | None = None,
    ) -> Iterator[Stage]:
        root = Path(tempfile.mkdtemp(prefix="solidaire-stage-"))
        root.chmod(0o711)  # nginx's workers (nobody) reach the static files below
        stage = cls._configure(root, https_port, stripe, extra_env or {}, keep)
        stage.gunicorn_args = list(gunicorn_args or [])
        try:
            stage._bring_up(demo=demo, apps=apps)
            yield stage
        finally:
            stage.shut_down()

    @classmethod
    def _configure(
        cls, root: Path, https_port: int | None, stripe: bool, extra_env: dict[str, str], keep: bool
    ) -> Stage:
        ports = [free_port() for _ in range(6)]
        while len(set(ports)) < len(ports):
            ports = [free_port() for _ in range(6)]
        if https_port is None:
            https_port = 8443 if port_free(8443) else free_port()
        pg_port, bouncer_port, redis_port, http_port, web_a, web_b = ports
        keys = {
            "SECRET_KEY": secrets.token_urlsafe(64),
            "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "FIELD_HASH_KEY": secrets.token_urlsafe(36),
        }
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PG", "DJANGO_", "CELERY_", "STRIPE_"))
            and key not in ("DATABASE_URL", "CACHE_URL", "SOLIDAIRE_VAR_DIR", "TEST_REDIS_URL")
        }
        env.update(
            {
                **keys,
                "DJANGO_SETTINGS_MODULE": os.environ.get("STAGE_SETTINGS", "union.settings"),
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": str(REPO),
                "DATABASE_URL": f"postgres://solidaire@{HOST}:{bouncer_port}/solidaire",
                "DATABASE_TRANSACTION_POOLING": "true",
                "CELERY_BROKER_URL": f"redis://{HOST}:{redis_port}/0",
                "CACHE_URL": f"redis://{HOST}:{redis_port}/1",
                "ALLOWED_HOSTS": f"{HOST},localhost",
                "CSRF_TRUSTED_ORIGINS": f"https://{HOST}:{https_port},https://localhost:{https_port}",
                "TRUSTED_PROXY_COUNT": "1",
                # HTTPS as in production, but no HSTS: browsers would remember it for
                # localhost long after this throwaway certificate is gone.
                "SECURE_HTTPS": "true",
                "SECURE_HSTS_SECONDS": "0",
                "SITE_URL": f"https://{HOST}:{https_port}",
                "MEDIA_ROOT": str(root / "shared" / "media"),
                "STATIC_ROOT": str(root / "static"),
                "LOG_LEVEL": "WARNING",
            }
        )
        if stripe:
            env.update(
                {
                    "STRIPE_SECRET_KEY": "sk_test_stage",
                    "STRIPE_PUBLISHABLE_KEY": "pk_test_stage",
                    "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
                }
            )
        env.update(extra_env)
        as_pg: list[str] = []
        if os.getuid() == 0:
            user = "postgres"
            try:
                subprocess.run(["id", user], check=True, capture_output=True)
            except subprocess.CalledProcessError:
                user = "nobody"
            as_pg = ["runuser", "-u", user, "--"]
        return cls(
            root=root,
            https_port=https_port,
            http_port=http_port,
            pg_port=pg_port,
            bouncer_port=bouncer_port,
            redis_port=redis_port,
            web_ports={"web-a": web_a, "web-b": web_b},
            env=env,
            stripe=stripe,
            as_pg=as_pg,
            keep=keep,
        )

    def _chown_pg(self, *paths: Path) -> None:
        if self.as_pg:
            user = self.as_pg[2]
            for path in paths:
                shutil.chown(path, user)

    def _bring_up(self, *, demo: bool, apps: bool = True) -> None:
        started = time.monotonic()
        (self.root / "logs").mkdir()
        (self.root / "shared" / "media").mkdir(parents=True)
        self._chown_pg(self.root / "logs")
        self._postgres()
        self._pgbouncer()
        self._redis()
        log("migrating the database (through pgbouncer)")
        self.manage("migrate", "--noinput", "--verbosity=0")
        self.manage("collectstatic", "--noinput", "--verbosity=0")
        (self.root / "static").chmod(0o755)
        self.manage("compilemessages", "--ignore=.venv", "--verbosity=0")
        if demo:
            log("loading the demo union")
            (self.root / "demo-logins.txt").write_text(self.manage("load_demo", capture=True))
        if apps:  # without: the databases only (the restore drill)
            self._app_processes()
            self._nginx()
            for node in WEB_NODES:
                self.wait_http(node=node)
            self.wait_http()
        log(f"up in {time.monotonic() - started:.0f} s")

    def _postgres(self) -> None:
        self.create_cluster()
        log(f"PostgreSQL on {HOST}:{self.pg_port}")

    def create_cluster(self) -> None:
        """A new, empty PostgreSQL cluster with the solidaire role and database, started."""
        data = self.root / "pgdata"
        sock = self.root / "pgsock"
        sock.mkdir(exist_ok=True)
        self._chown_pg(sock)
        data.mkdir(mode=0o700)
        self._chown_pg(data)
        self.pg("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--no-locale", "--no-sync")  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{HOST}'\nport = {self.pg_port}\n"
                f"unix_socket_directories = '{sock}'\nmax_connections = 200\n"
                "timezone = 'UTC'\nfsync = off\nsynchronous_commit = off\n"
                "full_page_writes = off\n"
            )
        self.start_postgres()
        self.pg("createuser", "-h", HOST, "-p", str(self.pg_port), "-U", "postgres", "solidaire")
        self.pg("createdb", "-h", HOST, "-p", str(self.pg_port), "-U", "postgres",
                "--owner=solidaire", "solidaire")  # fmt: skip

    def _pgbouncer(self) -> None:
        folder = self.root / "pgbouncer"
        folder.mkdir()
        (folder / "userlist.txt").write_text('"solidaire" ""\n"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"solidaire = host={HOST} port={self.pg_port} dbname=solidaire\n"
            "[pgbouncer]\n"
            f"listen_addr = {HOST}\nlisten_port = {self.bouncer_port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {folder / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            "max_client_conn = 1000\n"
            "default_pool_size = 20\n"
            "reserve_pool_size = 5\n"
            # A restarted PostgreSQL: clients wait for a server connection this long.
            "query_wait_timeout = 20\n"
            "server_login_retry = 1\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
        for path in (folder, folder / "userlist.txt", folder / "pgbouncer.ini"):
            self._chown_pg(path)
        self.add(
            "pgbouncer",
            ["pgbouncer", str(folder / "pgbouncer.ini")],
            {"PATH": os.environ["PATH"]},
            as_postgres=True,
        )
        self.start_process("pgbouncer")
        _wait_port(self.bouncer_port, "pgbouncer", self.processes["pgbouncer"])
        log(f"pgbouncer (transaction pooling) on {HOST}:{self.bouncer_port}")

    def _redis(self) -> None:
        folder = self.root / "redis"
        folder.mkdir()
        self.add(
            "redis",
            ["redis-server", "--bind", HOST, "--port", str(self.redis_port), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(folder)],
            {"PATH": os.environ["PATH"]},
        )  # fmt: skip
        self.start_process("redis")
        _wait_port(self.redis_port, "redis", self.processes["redis"])
        log(f"Redis on {HOST}:{self.redis_port}")

    def _app_processes(self) -> None:
        venv_bin = str(Path(sys.executable).parent) + "/"
        for node in WEB_NODES:
            command = [
                part.replace("/srv/solidaire/.venv/bin/", venv_bin).replace(
                    "127.0.0.1:8000", f"{HOST}:{self.web_ports[node]}"
                )
                for part in unit_command("solidaire-web.service")
            ]
            if f"{HOST}:{self.web_ports[node]}" not in command:
                raise RuntimeError("solidaire-web.service: no --bind 127.0.0.1:8000 to replace")
            self.add(
                node,
                [*command, *self.gunicorn_args],
                self.node_env(node),
                restart_sec=unit_restart_seconds("solidaire-web.service"),
            )
        for worker in WORKERS:
            command = [
                part.replace("/srv/solidaire/.venv/bin/", venv_bin)
                for part in unit_command("solidaire-worker.service")
            ]
            self.add(
                worker,
                [*command, f"--hostname={worker}@stage"],
                self.node_env(worker),
                restart_sec=unit_restart_seconds("solidaire-worker.service"),
            )
        beat = [
            part.replace("/srv/solidaire/.venv/bin/", venv_bin)
            for part in unit_command("solidaire-beat.service")
        ]
        self.add(
            "beat",
            beat,
            self.node_env("beat"),
            restart_sec=unit_restart_seconds("solidaire-beat.service"),
        )
        for name in (*WEB_NODES, *WORKERS, "beat"):
            self.start_process(name)
        threading.Thread(target=self._supervise, name="supervisor", daemon=True).start()
        log(
            "web nodes on "
            + ", ".join(f"{n} {HOST}:{p}" for n, p in self.web_ports.items())
            + f"; {len(WORKERS)} workers, 1 beat"
        )

    def _nginx(self) -> None:
        folder = self.root / "nginx"
        (folder / "tls").mkdir(parents=True)
        tls = self.root / "tls"
        tls.mkdir()
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
             "-addext", f"subjectAltName=IP:{HOST},DNS:localhost",
             "-keyout", str(tls / "key.pem"), "-out", str(tls / "cert.pem")],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        conf = nginx.stage_config(
            prefix=folder,
            https_port=self.https_port,
            http_port=self.http_port,
            nodes=[f"{HOST}:{port}" for port in self.web_ports.values()],
            certificate=tls / "cert.pem",
            key=tls / "key.pem",
            static_root=self.root / "static",
            error_log=self.root / "logs" / "nginx-error.log",
        )
        (folder / "nginx.conf").write_text(conf)
        test = subprocess.run(
            ["nginx", "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if test.returncode:
            raise RuntimeError(f"nginx refused its configuration:\n{test.stderr}")
        self.add(
            "nginx",
            ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
            {"PATH": os.environ["PATH"]},
            stop_signal=signal.SIGQUIT,  # nginx's graceful stop
        )
        self.start_process("nginx")
        _wait_port(self.https_port, "nginx", self.processes["nginx"])

    def shut_down(self) -> None:
        # A second Ctrl-C (or make passing one on) must not leave servers behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self._supervising.set()
        order = ["nginx", *WEB_NODES, "beat", *WORKERS, "redis", "pgbouncer"]
        for process in self.processes.values():
            process.held = True
        for name in order:
            if name in self.processes:
                self.processes[name].stop(timeout=20)
        if (self.root / "pgdata" / "postmaster.pid").exists():
            self.pg("pg_ctl", "-D", str(self.root / "pgdata"), "-m", "immediate", "-w", "stop",
                    check=False)  # fmt: skip
        if self.keep:
            log(f"kept {self.root}")
        else:
            for _ in range(3):  # a server still closing its files may leave one behind
                shutil.rmtree(self.root, ignore_errors=True)
                if not self.root.exists():
                    break
                time.sleep(1)


def _wait_port(port: int, name: str, process: Process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running():
            raise RuntimeError(f"{name} exited:\n{process.log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} not listening on {port} after {timeout:.0f} s")
