"""The docker-compose topology with real local processes: PostgreSQL, two `kb serve` replicas, nginx.

    python deploy/local_cluster.py [--replicas 2] [--port 8100] [--database kb_cluster] [--root DIR]

Uses the PostgreSQL server on 127.0.0.1:5432 (trust auth), creates the
database when missing, migrates it and loads the demo once (the first admin's
password is printed then), starts the replicas on the ports after ``--port``
with a data dir each, and Debian's nginx on ``--port`` in front of them. It
waits until every replica is ready (``/readyz``), prints the addresses and
runs until Ctrl-C. The tests and ``bench/load.py`` drive the same ``Cluster``
class: kill a replica with SIGKILL, restart it, watch it catch up.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
NGINX = """
worker_processes 1;
error_log {root}/nginx-error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/nginx-body;
    proxy_temp_path {root}/nginx-proxy;
    fastcgi_temp_path {root}/nginx-fastcgi;
    uwsgi_temp_path {root}/nginx-uwsgi;
    scgi_temp_path {root}/nginx-scgi;
    upstream kb_replicas {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 200m;
        location / {{
            proxy_pass http://kb_replicas;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-User "";
        }}
    }}
}}
"""


def kb_command() -> list[str]:
    """`kb` from the same environment as this Python."""
    exe = Path(sys.executable).with_name("kb")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cli.main"]


def wait_for(url: str, timeout: float, status: int = 200) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == status:
                    return
        except urllib.error.HTTPError as exc:
            last = exc.code
        except (OSError, http.client.HTTPException) as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s (last: {last})")


class Cluster:
    """PostgreSQL database + N `kb serve` processes + nginx, all on 127.0.0.1."""

    def __init__(
        self,
        root: Path,
        *,
        database: str = "kb_cluster",
        replicas: int = 2,
        port: int = 8100,
        follow_seconds: float = 1.0,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.database = database
        self.url = f"{POSTGRES}/{database}"
        self.port = port
        self.ports = [port + 1 + n for n in range(replicas)]
        self.follow_seconds = follow_seconds
        self.env = {
            **os.environ,
            "KB_DATABASE_URL": self.url,
            "KB_FOLLOW_SECONDS": str(follow_seconds),
            "KB_TRUSTED_PROXIES": '["127.0.0.1"]',
            "HF_HUB_OFFLINE": "1",
            **(extra_env or {}),
        }
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.nginx: subprocess.Popen[bytes] | None = None

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replica_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[n]}"

    def create_database(self, *, fresh: bool) -> None:
        admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": self.database}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()

    def kb(self, *args: str, data_dir: Path | None = None) -> str:
        data = data_dir or self.root / "cli"
        result = subprocess.run(
            [*kb_command(), *args, "--data-dir", str(data)], env=self.env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"kb {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def start_replica(self, n: int) -> None:
        with (self.root / f"replica-{n}.log").open("ab") as log:  # the child keeps its own copy of the file
            self.processes[n] = subprocess.Popen(
                [*kb_command(), "serve", "--port", str(self.ports[n]), "--data-dir", str(self.root / f"replica-{n}")],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill_replica(self, n: int) -> None:
        """SIGKILL: no shutdown hook runs, as when a machine dies."""
        process = self.processes.pop(n)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    def start_proxy(self) -> None:
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            raise RuntimeError("nginx is not installed (apt-get install nginx-light; `make system-deps` does it)")
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in self.ports)
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX.format(root=self.root, servers=servers, port=self.port), encoding="utf-8")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.nginx = subprocess.Popen([nginx, "-c", str(conf), "-p", str(self.root), "-g", "daemon off;"])

    def start(self, *, fresh: bool = True, demo: bool = True, proxy: bool = True) -> str:
        """Create and migrate the database, load the demo once, start everything; return what `kb demo` printed."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.create_database(fresh=fresh)
        printed = self.kb("migrate")
        if demo:
            printed += self.kb("demo", "--no-index")
        for n in range(len(self.ports)):
            self.start_replica(n)
        if proxy:
            self.start_proxy()
        self.wait_ready()
        return printed

    def wait_ready(self, timeout: float = 300) -> None:
        for n in self.processes:
            wait_for(self.replica_url(n) + "/readyz", timeout)
        if self.nginx is not None:
            wait_for(self.proxy_url + "/healthz", 30)

    def stop(self) -> None:
        for n in list(self.processes):
            process = self.processes.pop(n)
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(timeout=30)
            self.nginx = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--database", default="kb_cluster")
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="Reuse the database instead of starting fresh.")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="kb-cluster-"))
    cluster = Cluster(root, database=args.database, replicas=args.replicas, port=args.port)
    try:
        print(cluster.start(fresh=not args.keep), end="")
        print(f"proxy   {cluster.proxy_url}")
        for n in range(args.replicas):
            print(f"replica {cluster.replica_url(n)}   (log: {root}/replica-{n}.log)")
        print("Ctrl-C stops everything.")
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
