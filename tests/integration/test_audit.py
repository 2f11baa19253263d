# SPDX-License-Identifier: Apache-2.0
"""The audit log: a hash chain that `tresor audit verify` checks, and a
log that fails closed.

- verify: an edited, a removed and a reordered record are each found,
  with the file and line named; an intact log verifies.
- disk full: tresord's audit log on a small tmpfs (mounted here; the
  test needs root for that and is skipped without it).  Once the disk
  is full, reads and writes answer 503 ServiceUnavailable; the refused
  write changed nothing (its version never appears); with space again,
  the same tresord serves, and the chain still verifies.
- removed: the audit log deleted under a running tresord: every request
  answers 503 and a write changes nothing.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import TresorTestCase, b64, wait_health


class AuditTest(TresorTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vault, cls.key = cls.make_vault_key()

    # ------------------------------------------------------------------
    # helpers

    def restart_with_audit_log(self, path):
        """Restart the class's tresord with --audit-log PATH."""
        srv = self.server
        srv.stop()
        out = open(srv.log, "ab")
        srv.proc = subprocess.Popen(
            [os.environ.get("TRESORD", "build/tresord"), "serve", "--data",
             srv.data, "--listen", "127.0.0.1:%d" % srv.port,
             "--audit-log", path], stdout=out, stderr=out)
        out.close()
        self.assertTrue(wait_health(srv.port), "tresord did not restart")

    def versions(self, sid):
        d = self.okj("vault", "secret", "list-versions", "--secret-id",
                     sid, "--all")["data"]
        return sorted(v["version-number"] for v in d)

    def bundle(self, sid):
        return self.okj("secrets", "secret-bundle", "get", "--secret-id",
                        sid)["data"]["secret-bundle-content"]["content"]

    def verify(self, *paths):
        return self.cli("audit", "verify", *paths)

    # ------------------------------------------------------------------

    def test_verify_finds_edits_removals_and_reorders(self):
        # a few requests so that the log holds records to tamper with
        s = self.make_secret(self.vault, self.key, "audit-verify", "v1")
        for _ in range(3):
            self.bundle(s["id"])
        log = os.path.join(self.server.data, "audit.log")
        with open(log, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        self.assertGreater(len(lines), 6)
        d = self.okj("audit", "verify", log)["data"]
        self.assertTrue(d["verified"])

        def tampered(name, new_lines):
            p = os.path.join(self.tmp, name)
            with open(p, "wb") as f:
                f.write(b"".join(new_lines))
            return p

        mid = len(lines) // 2
        # removed: the record after the gap does not follow
        p = tampered("removed.log", lines[:mid] + lines[mid + 1:])
        r = self.verify(p)
        self.assertEqual(r.code, 1, r)
        self.assertIn("AuditError", r.err)
        self.assertIn("removed.log:%d:" % (mid + 1), r.err)
        # reordered: two records swapped
        p = tampered("reordered.log", lines[:mid] + [lines[mid + 1],
                     lines[mid]] + lines[mid + 2:])
        r = self.verify(p)
        self.assertEqual(r.code, 1, r)
        self.assertIn("reordered.log:%d:" % (mid + 1), r.err)
        # edited: one byte of a record's operation
        e = bytearray(lines[mid])
        i = e.index(b'"operation":"') + 13
        e[i] = ord("X") if e[i] != ord("X") else ord("Y")
        p = tampered("edited.log", lines[:mid] + [bytes(e)] + lines[mid + 1:])
        r = self.verify(p)
        self.assertEqual(r.code, 1, r)
        self.assertIn("edited.log:%d:" % (mid + 2), r.err)
        # a record cut short (a torn write) is named too
        p = tampered("torn.log", lines[:mid] + [lines[mid][:20]])
        r = self.verify(p)
        self.assertEqual(r.code, 1, r)
        self.assertIn("torn.log:%d:" % (mid + 1), r.err)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("mount"),
                         "mounting a tmpfs needs root")
    def test_disk_full_fails_closed(self):
        mnt = tempfile.mkdtemp(prefix="tresor-audit-fs-")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k",
                            "tresor-audit", mnt], capture_output=True)
        if p.returncode != 0:
            os.rmdir(mnt)
            self.skipTest("cannot mount a tmpfs: %s" % p.stderr.decode())
        try:
            self._disk_full(mnt)
        finally:
            self.restart_with_audit_log(
                os.path.join(self.server.data, "audit.log"))
            subprocess.run(["umount", "-l", mnt], capture_output=True)
            os.rmdir(mnt)

    def _disk_full(self, mnt):
        log = os.path.join(mnt, "audit.log")
        self.restart_with_audit_log(log)
        s = self.make_secret(self.vault, self.key, "audit-full", "before")
        sid = s["id"]
        self.assertEqual(self.versions(sid), [1])
        # fill the file system: what is left is the audit log's last page
        filler = os.path.join(mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            for chunk in (65536, 4096, 1):
                while True:
                    try:
                        os.write(fd, b"\0" * chunk)
                    except OSError:
                        break
        finally:
            os.close(fd)
        # reads until the log cannot take a record (at most a page's worth)
        refused = None
        for _ in range(40):
            r = self.cli("--no-retry", "secrets", "secret-bundle", "get",
                         "--secret-id", sid)
            if r.code != 0:
                refused = r
                break
        self.assertIsNotNone(refused, "no request was refused on a full "
                             "disk")
        self.assertEqual(refused.code, 1, refused)
        self.assertIn("ServiceUnavailable", refused.err)
        self.assertIn("audit", refused.err)
        # a write is refused too, and changes nothing
        r = self.cli("--no-retry", "vault", "secret", "update-base64",
                     "--secret-id", sid, "--secret-content-content",
                     b64("after"))
        self.assertEqual(r.code, 1, r)
        self.assertIn("ServiceUnavailable", r.err)
        # space again: the same tresord serves, nothing changed
        os.unlink(filler)
        self.assertEqual(self.versions(sid), [1])
        self.assertEqual(self.bundle(sid), b64("before"))
        d = self.okj("audit", "verify", log)["data"]
        self.assertTrue(d["verified"])
        with open(log, "rb") as f:
            text = f.read()
        # the refused requests left no partial record behind
        self.assertTrue(text.endswith(b"\n"))

    def test_removed_log_fails_closed(self):
        log = os.path.join(self.tmp, "removable-audit.log")
        self.restart_with_audit_log(log)
        try:
            s = self.make_secret(self.vault, self.key, "audit-rm", "before")
            sid = s["id"]
            os.unlink(log)
            r = self.cli("--no-retry", "secrets", "secret-bundle", "get",
                         "--secret-id", sid)
            self.assertEqual(r.code, 1, r)
            self.assertIn("ServiceUnavailable", r.err)
            r = self.cli("--no-retry", "vault", "secret", "update-base64",
                         "--secret-id", sid, "--secret-content-content",
                         b64("after"))
            self.assertEqual(r.code, 1, r)
            self.assertIn("ServiceUnavailable", r.err)
        finally:
            self.restart_with_audit_log(
                os.path.join(self.server.data, "audit.log"))
        # a fresh start (a new log) shows the write never happened
        self.assertEqual(self.versions(sid), [1])
        self.assertEqual(self.bundle(sid), b64("before"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
