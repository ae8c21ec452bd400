"""A real PostgreSQL server for the tests, started and stopped by them (never a mock).

``Server.start()`` runs Debian's server binaries (``initdb``, ``pg_ctl``; package ``postgresql``) into a fresh
folder on a free local port with a private socket folder; as root they run as the ``postgres`` user, since the
server refuses to run as root. A role ``evtools`` with a password (``PASSWORD``, checked by scram-sha-256 over TCP)
owns the database ``evtools``; the superuser connects through the socket. ``load`` copies a DuckDB query's result
into a table with COPY.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "evtools-" + secrets.token_hex(8)
# DuckDB type -> PostgreSQL type of the loaded tables
PG_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
}


def binaries() -> Path | None:
    """The folder of the newest installed server's initdb and pg_ctl, or None."""
    for folder in sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    ):
        if Path(folder, "initdb").is_file() and Path(folder, "pg_ctl").is_file():
            return Path(folder)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    folder: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        """The evtools role's URL, without its password (given through the environment)."""
        return f"postgresql://evtools@127.0.0.1:{self.port}/evtools"

    def admin(self) -> str:
        """A libpq connection string for the superuser, through the socket."""
        return f"host={self.folder} port={self.port} user=postgres dbname=evtools"

    def _as_owner(self, *argv: str, **kw) -> subprocess.CompletedProcess:
        command = [str(a) for a in argv]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, **kw)

    @classmethod
    def start(cls) -> Server:
        bin_dir = binaries()
        folder = Path(tempfile.mkdtemp(prefix="evtools-pg-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        server = cls(folder, _free_port(), bin_dir)
        pwfile = folder / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        server._as_owner(
            bin_dir / "initdb",
            "-D",
            folder / "data",
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = (
            f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c shared_buffers=128MB -c work_mem=64MB -c max_wal_size=2GB"
        )
        server._as_owner(
            bin_dir / "pg_ctl", "-D", folder / "data", "-o", options, "-l", folder / "log", "-w", "start"
        )
        import psycopg

        with psycopg.connect(
            f"host={folder} port={server.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f"CREATE ROLE evtools LOGIN PASSWORD '{PASSWORD}'")
            c.execute("CREATE DATABASE evtools OWNER evtools")
        return server

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_owner(self.bin / "pg_ctl", "-D", self.folder / "data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def load(self, schema: str, table: str, duck, query: str, params: dict | None = None) -> int:
        """``query`` (run on the DuckDB connection ``duck``) as the table ``schema.table``, owned by evtools,
        through COPY; returns its rows."""
        import psycopg

        duck.execute("SET TimeZone = 'UTC'")
        types = duck.execute(f"DESCRIBE {query}", params or {}).fetchall()
        columns = ", ".join(f'"{name}" {PG_TYPES[kind]}' for name, kind, *_ in types)
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "rows.csv"
            duck.execute(
                f"COPY ({query}) TO '{csv}' (HEADER, TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S.%f%z')", params or {}
            )
            with psycopg.connect(self.admin(), autocommit=True) as c:
                c.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION evtools')
                c.execute(f'DROP TABLE IF EXISTS "{schema}"."{table}"')
                c.execute(f'CREATE TABLE "{schema}"."{table}" ({columns})')
                c.execute(f'ALTER TABLE "{schema}"."{table}" OWNER TO evtools')
                with (
                    c.cursor().copy(f'COPY "{schema}"."{table}" FROM STDIN (FORMAT csv, HEADER)') as copy,
                    csv.open("rb") as f,
                ):
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
                c.execute(f'ANALYZE "{schema}"."{table}"')
                return c.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
