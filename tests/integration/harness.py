# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the integration tests: a real tresord on a free
loopback port in a temporary directory, the `tresor` CLI run against it,
and a scripted fault-injecting proxy.

The binaries come from the environment (TRESOR, TRESORD), set by
tests/integration/meson.build.  Nothing here needs network access beyond
127.0.0.1.

With TRESOR_TEST_STORE=pg the store is PostgreSQL instead of SQLite:
every Server gets a fresh database in the cluster that tests/pg/pg.sh
run started (TRESOR_TEST_PG, a libpq connection string), `tresord init
--store` puts the tenancy there and `tresord serve` finds it through
DIR/store.url.
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

TRESOR = os.environ.get("TRESOR", "build/tresor")
TRESORD = os.environ.get("TRESORD", "build/tresord")

# "pg": PostgreSQL from tests/pg/pg.sh run; anything else: SQLite
STORE = os.environ.get("TRESOR_TEST_STORE", "sqlite")

# A value planted as secret content; it must never show up in a log, an
# error message or any output other than an explicit --decode.
CANARY = "canary-Zq8-do-not-log-7f3a"


def b64(s):
    return base64.b64encode(s.encode()).decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_health(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return True
        except OSError:
            pass
        finally:
            c.close()
        time.sleep(0.05)
    return False


_pg_databases = 0


def pg_database():
    """A fresh, empty database in the test cluster; its connection
    string (libpq key=value words, no password)."""
    global _pg_databases
    conninfo = os.environ.get("TRESOR_TEST_PG")
    if not conninfo:
        raise RuntimeError("TRESOR_TEST_STORE=pg needs TRESOR_TEST_PG: run "
                           "the test under tests/pg/pg.sh run")
    _pg_databases += 1
    name = "tresor_it_%d_%d" % (os.getpid(), _pg_databases)
    psql = os.path.join(os.environ.get("TRESOR_TEST_PG_BIN", ""), "psql")
    if not os.access(psql, os.X_OK):
        psql = shutil.which("psql")
    if psql is None:
        raise RuntimeError("psql not found")
    subprocess.run([psql, conninfo, "-v", "ON_ERROR_STOP=1", "-qc",
                    "CREATE DATABASE " + name], check=True,
                   capture_output=True)
    words = [w for w in conninfo.split() if not w.startswith("dbname=")]
    return " ".join(words + ["dbname=" + name])


class Server:
    """tresord init + serve in a temporary directory."""

    def __init__(self, tmp, port=None):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        self.port = port or free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.log = os.path.join(tmp, "tresord.log")
        self.store = pg_database() if STORE == "pg" else None
        init = [TRESORD, "init", "--data", self.data, "--endpoint",
                self.endpoint]
        if self.store is not None:
            init += ["--store", self.store]
        p = subprocess.run(init, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("tresord init failed (%d): %s" %
                               (p.returncode,
                                p.stderr.decode(errors="replace")))
        if self.store is not None and (
                not os.path.exists(os.path.join(self.data, "store.url")) or
                os.path.exists(os.path.join(self.data, "tresor.db"))):
            raise RuntimeError("tresord init --store left no store.url "
                               "or made a SQLite file in " + self.data)
        self.config = os.path.join(self.data, "admin", "config")
        self.tenancy = self.value("tenancy")
        self.user = self.value("user")

    def value(self, key):
        with open(self.config) as f:
            for line in f:
                if line.startswith(key + "="):
                    return line.strip().split("=", 1)[1]
        return None

    def start(self):
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [TRESORD, "serve", "--data", self.data, "--listen",
             "127.0.0.1:%d" % self.port], stdout=out, stderr=out)
        out.close()
        deadline = time.time() + 30
        while not wait_health(self.port, timeout=0.5):
            if self.proc.poll() is not None or time.time() > deadline:
                with open(self.log, errors="replace") as f:
                    tail = f.read()[-2000:]
                raise RuntimeError("tresord did not start (exit %s); its "
                                   "log %s ends:\n%s" % (self.proc.poll(),
                                                         self.log, tail))

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


class Result:
    def __init__(self, p):
        self.code = p.returncode
        self.out = p.stdout.decode(errors="replace")
        self.err = p.stderr.decode(errors="replace")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "exit %d\nstdout: %s\nstderr: %s" % (self.code, self.out,
                                                    self.err)


class TresorTestCase(unittest.TestCase):
    """A test class with one tresord and the admin profile."""

    server = None
    tmp = None
    outputs = []

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tresor-it-")
        cls.home = os.path.join(cls.tmp, "home")
        os.mkdir(cls.home)
        cls.server = Server(cls.tmp)
        cls.server.start()
        cls.outputs = []

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None and cls.server.proc is not None and \
                cls.server.proc.poll() is not None:
            # tresord died under the tests: show why
            with open(cls.server.log, errors="replace") as f:
                tail = f.read()[-6000:]
            print("tresord exited with %d; its log ends:\n%s" %
                  (cls.server.proc.returncode, tail))
        if cls.server is not None:
            cls.server.stop()
        # T6: the canary never appears in the server's log
        if cls.server is not None and os.path.exists(cls.server.log):
            with open(cls.server.log, errors="replace") as f:
                log = f.read()
            assert CANARY not in log, "canary in tresord's log"
            assert b64(CANARY) not in log, "canary (base64) in the log"
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def env(cls, **extra):
        e = {k: v for k, v in os.environ.items()
             if not k.startswith(("OCI_", "TRESOR_"))}
        e["HOME"] = cls.home
        e["OCI_CLI_CONFIG_FILE"] = cls.server.config
        e.update(extra)
        return e

    @classmethod
    def cli(cls, *args, env=None, input=None, timeout=120):
        p = subprocess.run([TRESOR] + [str(a) for a in args],
                           capture_output=True, env=env or cls.env(),
                           input=input, timeout=timeout)
        r = Result(p)
        cls.outputs.append(r)
        return r

    def ok(self, *args, **kw):
        r = self.cli(*args, **kw)
        self.assertEqual(r.code, 0, r)
        # error streams never carry secret content
        self.assertNotIn(CANARY, r.err)
        self.assertNotIn(b64(CANARY), r.err)
        return r

    def okj(self, *args, **kw):
        return self.ok(*args, **kw).json()

    # ------------------------------------------------------------------
    # fixtures made with the CLI itself

    @classmethod
    def make_vault_key(cls):
        t = cls.server.tenancy
        r = cls.cli("kms", "management", "vault", "create",
                    "--compartment-id", t, "--display-name", "it-vault",
                    "--vault-type", "DEFAULT")
        assert r.code == 0, r
        vault = r.json()["data"]
        mgmt = vault["management-endpoint"]
        r = cls.cli("kms", "management", "key", "create",
                    "--compartment-id", t, "--display-name", "it-key",
                    "--key-shape", '{"algorithm":"AES","length":32}',
                    "--protection-mode", "SOFTWARE", "--endpoint", mgmt)
        assert r.code == 0, r
        return vault, r.json()["data"]

    @classmethod
    def make_secret(cls, vault, key, name, content):
        r = cls.cli("vault", "secret", "create-base64",
                    "--compartment-id", cls.server.tenancy,
                    "--vault-id", vault["id"], "--key-id", key["id"],
                    "--secret-name", name,
                    "--secret-content-content", b64(content))
        assert r.code == 0, r
        return r.json()["data"]


class FaultProxy:
    """An HTTP proxy in front of tresord that answers from a script
    before forwarding.  Each rule is (method, path substring, action);
    actions: ("status", code, headers, after_forward) or ("drop",).  A
    rule fires once.  Every request is recorded (method, path, headers).
    """

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.rules = []
        self.seen = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.running = True
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def close(self):
        self.running = False
        try:
            self.sock.close()
        except OSError:
            pass

    def add(self, method, path_part, action):
        with self.lock:
            self.rules.append((method, path_part, action))

    def take_rule(self, method, path):
        with self.lock:
            for i, (m, p, a) in enumerate(self.rules):
                if m == method and p in path:
                    del self.rules[i]
                    return a
        return None

    def accept_loop(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()

    @staticmethod
    def read_request(f):
        line = f.readline()
        if not line:
            return None
        method, target, _ = line.decode().split(" ", 2)
        headers = []
        while True:
            h = f.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            name, value = h.decode().split(":", 1)
            headers.append((name.strip(), value.strip()))
        n = 0
        for name, value in headers:
            if name.lower() == "content-length":
                n = int(value)
        body = f.read(n) if n else b""
        return method, target, headers, body

    def forward(self, method, target, headers, body):
        up = http.client.HTTPConnection("127.0.0.1", self.upstream,
                                        timeout=30)
        up.putrequest(method, target, skip_host=True,
                      skip_accept_encoding=True)
        for name, value in headers:
            up.putheader(name, value)
        up.endheaders(body if body else None)
        r = up.getresponse()
        data = r.read()
        hs = [(k, v) for k, v in r.getheaders()
              if k.lower() not in ("content-length", "connection",
                                   "transfer-encoding")]
        up.close()
        return r.status, hs, data

    def serve(self, c):
        f = c.makefile("rb")
        try:
            while True:
                req = self.read_request(f)
                if req is None:
                    return
                method, target, headers, body = req
                hmap = {k.lower(): v for k, v in headers}
                with self.lock:
                    self.seen.append((method, target, hmap))
                action = self.take_rule(method, target)
                if action is not None and action[0] == "drop":
                    return
                if action is not None and action[0] == "status" and \
                        not action[3]:
                    self.reply(c, action[1], action[2],
                               json.dumps({"code": "Injected",
                                           "message": "injected %d" %
                                           action[1]}).encode())
                    continue
                status, hs, data = self.forward(method, target, headers,
                                                body)
                if action is not None and action[0] == "status":
                    # the server did the work; the client sees a failure
                    self.reply(c, action[1], action[2], b'{"code":'
                               b'"Injected","message":"after forward"}')
                    continue
                self.reply(c, status, hs, data)
        except (OSError, ValueError):
            return
        finally:
            f.close()
            c.close()

    @staticmethod
    def reply(c, status, headers, data):
        out = ["HTTP/1.1 %d X" % status]
        for k, v in headers:
            out.append("%s: %s" % (k, v))
        out.append("Content-Length: %d" % len(data))
        out.append("")
        out.append("")
        c.sendall("\r\n".join(out).encode() + data)

    def requests(self, method=None, part=""):
        with self.lock:
            return [s for s in self.seen
                    if (method is None or s[0] == method) and part in s[1]]
