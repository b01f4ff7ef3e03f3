"""Shared helpers of the hardening scripts: build and start the release
binary, seed a workspace, send GraphQL, read RSS. Standard library only."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def binary():
    """Builds the release binary and returns its path."""
    log("cargo build --release")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    if not target.is_absolute():
        target = ROOT / target
    return str(target / "release" / "chat-gateway")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_database(name):
    """A fresh PostgreSQL database called `name`; returns its URL."""
    base = PG_ADMIN.rsplit("/", 1)[0]
    subprocess.run(["psql", PG_ADMIN, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)
    subprocess.run(["psql", PG_ADMIN, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    return f"{base}/{name}"


def seed(exe, database_url, chats):
    """Seeds a workspace; returns the seed summary (with `apiKey`)."""
    log(f"seeding {chats} chats into {database_url}")
    out = subprocess.run(
        [exe, "seed", "--chats", str(chats), "--database-url", database_url],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


class Gateway:
    """The gateway as a child process, its logs in `log_path`."""

    def __init__(self, exe, database_url, log_path, *args, port=None):
        self.args = (exe, database_url, log_path, *args)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.log_file = open(log_path, "ab")
        self.process = subprocess.Popen(
            [exe, "serve", "--listen", f"127.0.0.1:{self.port}", "--no-demo",
             "--database-url", database_url, *args],
            stdout=self.log_file, stderr=self.log_file,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info")},
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"gateway exited with {self.process.returncode}; see {log_path}")
                time.sleep(0.1)
        raise RuntimeError("gateway did not start")

    def alive(self):
        return self.process.poll() is None

    def kill(self):
        """SIGKILL: no graceful shutdown, whatever is in flight is cut."""
        self.process.kill()
        self.process.wait()
        self.log_file.close()

    def restart(self):
        """A new process on the same port."""
        return Gateway(*self.args, port=self.port)

    def rss_kb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log_file.close()
        return self.process.returncode


def post(url, key, query, variables=None, timeout=30):
    """POSTs a GraphQL request; returns (status, body or None). Status 0 means
    no HTTP response (connection refused or reset, or the client timed out)."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {key}",
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read())
        except ValueError:
            return error.code, None
    except (OSError, ValueError):
        return 0, None


def references(url, key):
    """Channel and owner ids of the seeded workspace, for createChat."""
    status, body = post(url, key, "{ chats(pageSize: 100) { items { id channelId ownerSuperIdentityId } } }")
    assert status == 200 and "errors" not in body, body
    items = body["data"]["chats"]["items"]
    return [(i["channelId"], i["ownerSuperIdentityId"]) for i in items], [i["id"] for i in items]


CREATE = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }"


def need(tool, hint):
    if shutil.which(tool) is None:
        sys.exit(f"{tool} is not installed: {hint}")
