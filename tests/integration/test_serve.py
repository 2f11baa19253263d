# SPDX-License-Identifier: Apache-2.0
"""tresord serve --cpus: where the threads run.

- --cpus LIST pins the event loops, loop i on the i-th CPU listed, and
  moves every other thread (group commit, maintenance) to the CPUs not
  listed; the threads carry names (tresord-loopN, tresord-sync...) that
  top -H and ps -L show.  The placed server serves reads and writes.
- without --threads, --cpus gives one loop per CPU listed.
- bad lists (a CPU tresord may not use, a CPU twice, not a number) are
  refused before anything starts, the message naming --cpus.
"""

import os
import subprocess
import time
import unittest

from harness import TRESORD, TresorTestCase, b64, free_port, wait_health


def allowed_cpus():
    return sorted(os.sched_getaffinity(0))


def threads_of(pid):
    """{thread name: [set of allowed CPUs, ...]} of a process."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            cpus = os.sched_getaffinity(int(tid))
        except (FileNotFoundError, ProcessLookupError):
            continue
        out.setdefault(name, []).append(set(cpus))
    return out


class ServeCpusTest(TresorTestCase):

    def serve(self, *extra):
        """A second tresord on the class's data directory (the first is
        stopped), with `extra` options; returns the Popen."""
        srv = self.server
        srv.stop()
        out = open(srv.log, "ab")
        p = subprocess.Popen(
            [TRESORD, "serve", "--data", srv.data, "--listen",
             "127.0.0.1:%d" % srv.port] + list(extra),
            stdout=out, stderr=out)
        out.close()
        srv.proc = p
        self.addCleanup(self.restart_plain)
        self.assertTrue(wait_health(srv.port), "tresord did not start")
        return p

    def restart_plain(self):
        self.server.stop()
        self.server.start()

    def wait_threads(self, pid, names):
        deadline = time.time() + 10
        while time.time() < deadline:
            t = threads_of(pid)
            if all(n in t for n in names):
                return t
            time.sleep(0.05)
        self.fail("threads %s not all there: %s" % (names, threads_of(pid)))

    @unittest.skipUnless(len(allowed_cpus()) >= 2, "needs two CPUs")
    def test_loops_on_listed_cpus_others_elsewhere(self):
        cpus = allowed_cpus()
        first, rest = cpus[0], set(cpus[1:])
        p = self.serve("--cpus", str(first), "--threads", "1")
        t = self.wait_threads(p.pid, ["tresord-loop0", "tresord-sync",
                                      "tresord-maint"])
        self.assertEqual(t["tresord-loop0"], [{first}])
        for name in ("tresord-sync", "tresord-maint"):
            for s in t[name]:
                self.assertEqual(s, rest, "%s on %s" % (name, s))
        self.assertNotIn("tresord-loop1", t)
        # and it serves: a write acknowledged, then read back
        vault, key = self.make_vault_key()
        sid = self.make_secret(vault, key, "placed", "on-cpu")["id"]
        got = self.okj("secrets", "secret-bundle", "get", "--secret-id",
                       sid)["data"]["secret-bundle-content"]["content"]
        self.assertEqual(got, b64("on-cpu"))

    @unittest.skipUnless(len(allowed_cpus()) >= 2, "needs two CPUs")
    def test_one_loop_per_listed_cpu(self):
        cpus = allowed_cpus()
        order = "%d,%d" % (cpus[1], cpus[0])
        p = self.serve("--cpus", order)
        t = self.wait_threads(p.pid, ["tresord-loop0", "tresord-loop1"])
        self.assertEqual(t["tresord-loop0"], [{cpus[1]}])
        self.assertEqual(t["tresord-loop1"], [{cpus[0]}])
        self.assertNotIn("tresord-loop2", t)

    def test_bad_lists_refused(self):
        srv = self.server
        bad_cpu = max(allowed_cpus()) + 1
        for arg, why in ((str(bad_cpu), "may use"), ("0,0", "twice"),
                         ("zero", "not a CPU number"), ("", "empty"),
                         ("2-1", "goes down")):
            port = free_port()
            r = subprocess.run(
                [TRESORD, "serve", "--data", srv.data, "--listen",
                 "127.0.0.1:%d" % port, "--cpus", arg],
                capture_output=True, timeout=30)
            err = r.stderr.decode(errors="replace")
            self.assertNotEqual(r.returncode, 0, "--cpus %r accepted" % arg)
            self.assertIn("--cpus", err)
            self.assertIn(why, err, err)
            self.assertFalse(wait_health(port, timeout=0.3))


if __name__ == "__main__":
    unittest.main(verbosity=2)
