# SPDX-License-Identifier: Apache-2.0
"""`tresor agent` against a real tresord: it renders secrets to files
(mode and content), re-reads them every TTL and rewrites a file only
when the version changed (after `tresor vault secret update-base64`),
runs the secret's command after a change, keeps the last good files
while tresord is down (saying so in its log, with OCIDs and versions
only, never content), recovers when tresord is back, reloads its
configuration on SIGHUP and ends cleanly on SIGTERM.
"""

import os
import signal
import stat
import subprocess
import time
import unittest

from harness import CANARY, TRESOR, TresorTestCase, b64


def wait_for(pred, timeout=20, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


class Agent(TresorTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vault, cls.key = cls.make_vault_key()

    def setUp(self):
        self.out = os.path.join(self.tmp, "out-" + self._testMethodName)
        os.mkdir(self.out, 0o700)
        self.agent = None
        self.log = os.path.join(self.tmp, self._testMethodName + ".log")

    def tearDown(self):
        if self.agent is not None and self.agent.poll() is None:
            self.agent.kill()
            self.agent.wait()

    def write_config(self, sections, ttl="1"):
        path = os.path.join(self.tmp, self._testMethodName + ".conf")
        with open(path, "w") as f:
            f.write("# written by test_agent.py\nttl = %s\n"
                    "max_backoff = 2s\nlog_level = debug\n\n" % ttl)
            for name, body in sections:
                f.write("[secret %s]\n%s\n" % (name, body))
        return path

    def start(self, conf):
        logf = open(self.log, "ab")
        self.agent = subprocess.Popen([TRESOR, "agent", "--config", conf],
                                      stdout=logf, stderr=logf,
                                      env=self.env())
        logf.close()

    def agent_log(self):
        return read(self.log) or ""

    def stop_agent(self):
        self.agent.send_signal(signal.SIGTERM)
        code = self.agent.wait(timeout=20)
        self.agent = None
        return code

    def test_renders_rotates_and_survives_an_outage(self):
        s = self.make_secret(self.vault, self.key, "agent-db", CANARY)
        path = os.path.join(self.out, "db-password")
        marker = os.path.join(self.out, "reloads")
        conf = self.write_config([("db", (
            "secret_id = %s\npath = %s\nmode = 0640\n"
            "command = echo \"$TRESOR_SECRET_VERSION\" >> %s\n") %
            (s["id"], path, marker))])
        self.start(conf)
        self.assertEqual(wait_for(lambda: read(path)), CANARY)
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertEqual(wait_for(lambda: read(marker)), "1\n")
        ino = st.st_ino

        # unchanged versions are not rewritten
        time.sleep(2.5)
        self.assertEqual(os.stat(path).st_ino, ino)
        self.assertEqual(read(marker), "1\n")

        # a new version: the file is replaced and the command runs again
        self.ok("vault", "secret", "update-base64", "--secret-id", s["id"],
                "--secret-content-content", b64("rotated-value"))
        self.assertEqual(wait_for(lambda: read(path) == "rotated-value"
                                  and read(path)), "rotated-value")
        self.assertNotEqual(os.stat(path).st_ino, ino)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        self.assertEqual(wait_for(lambda: read(marker) == "1\n2\n" and
                                  read(marker)), "1\n2\n")
        # a program re-reading its file sees the new value: no restart
        with open(path) as f:
            self.assertEqual(f.read(), "rotated-value")

        # tresord down: the file stays, the log says so
        self.server.stop()
        self.assertTrue(wait_for(lambda: "unreachable" in self.agent_log()))
        time.sleep(3)
        self.assertEqual(read(path), "rotated-value")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
        log = self.agent_log()
        self.assertIn("keeping version 2 in " + path, log)
        self.assertIn(s["id"], log)
        self.assertIn("retrying in", log)

        # back: the agent recovers by itself
        self.server.start()
        self.assertTrue(wait_for(lambda: "reachable again" in
                                 self.agent_log(), timeout=30))
        self.ok("vault", "secret", "update-base64", "--secret-id", s["id"],
                "--secret-content-content", b64("third"))
        self.assertEqual(wait_for(lambda: read(path) == "third" and
                                  read(path)), "third")

        self.assertEqual(self.stop_agent(), 0)
        log = self.agent_log()
        self.assertIn("SIGTERM", log)
        # never content in the log
        for value in (CANARY, b64(CANARY), "rotated-value",
                      b64("rotated-value"), "third", b64("third")):
            self.assertNotIn(value, log)
        # no temporary files left behind
        self.assertEqual(sorted(os.listdir(self.out)),
                         ["db-password", "reloads"])

    def test_sighup_reloads(self):
        a = self.make_secret(self.vault, self.key, "agent-a", "AAA")
        b = self.make_secret(self.vault, self.key, "agent-b", "BBB")
        pa = os.path.join(self.out, "a")
        pb = os.path.join(self.out, "b")
        conf = self.write_config([("a", "secret_id = %s\npath = %s\n" %
                                   (a["id"], pa))])
        self.start(conf)
        self.assertEqual(wait_for(lambda: read(pa)), "AAA")
        self.assertEqual(stat.S_IMODE(os.stat(pa).st_mode), 0o600)
        # by vault and name, pinned to a version
        self.write_config([
            ("a", "secret_id = %s\npath = %s\n" % (a["id"], pa)),
            ("b", "vault_id = %s\nname = agent-b\nversion = 1\n"
                  "path = %s\n" % (self.vault["id"], pb))])
        ino = os.stat(pa).st_ino
        self.agent.send_signal(signal.SIGHUP)
        self.assertEqual(wait_for(lambda: read(pb)), "BBB")
        self.assertIn("configuration reloaded", self.agent_log())
        # the unchanged secret was not rewritten by the reload
        self.assertEqual(os.stat(pa).st_ino, ino)
        # a broken configuration is refused; the agent keeps running
        with open(conf, "a") as f:
            f.write("[secret broken]\nnonsense = 1\n")
        self.agent.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "reload refused" in
                                 self.agent_log()))
        self.assertIsNone(self.agent.poll())
        self.assertEqual(self.stop_agent(), 0)

    def test_once_and_adopting_existing_files(self):
        s = self.make_secret(self.vault, self.key, "agent-once", "ONCE")
        path = os.path.join(self.out, "once")
        marker = os.path.join(self.out, "ran")
        conf = self.write_config([("once", (
            "secret_id = %s\npath = %s\ncommand = echo x >> %s\n") %
            (s["id"], path, marker))])
        r = self.cli("agent", "--config", conf, "--once")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(read(path), "ONCE")
        self.assertEqual(read(marker), "x\n")
        # a restart finds the file up to date: no rewrite, no command
        ino = os.stat(path).st_ino
        r = self.cli("agent", "--config", conf, "--once")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(os.stat(path).st_ino, ino)
        self.assertEqual(read(marker), "x\n")
        self.assertIn("already holds version 1", r.err)
        # a secret that cannot be read: --once exits 1
        bad = self.write_config([("gone", (
            "secret_id = ocid1.vaultsecret.oc1..gone\npath = %s\n") %
            os.path.join(self.out, "gone"))])
        r = self.cli("agent", "--config", bad, "--once")
        self.assertEqual(r.code, 1, r)
        self.assertIn("NotAuthorizedOrNotFound", r.err)
        self.assertFalse(os.path.exists(os.path.join(self.out, "gone")))

    def test_bad_config_exits_1(self):
        conf = self.write_config([("x", "path = relative\n")])
        r = self.cli("agent", "--config", conf, "--once")
        self.assertEqual(r.code, 1, r)
        self.assertIn("path must be an absolute", r.err)
        r = self.cli("agent")
        self.assertEqual(r.code, 2, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
