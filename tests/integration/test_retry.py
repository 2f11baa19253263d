# SPDX-License-Identifier: Apache-2.0
"""Retries against a real tresord behind a fault-injecting proxy: 429 and
503 answers (Retry-After honoured), a 503 after the server already did
the create (the opc-retry-token keeps it from being duplicated), a
dropped connection, a 400 (never retried), --no-retry and --max-retries.
"""

import time
import unittest

from harness import FaultProxy, TresorTestCase, b64


class Retry(TresorTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vault, cls.key = cls.make_vault_key()
        cls.proxy = FaultProxy(cls.server.port)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.close()
        super().tearDownClass()

    def via_proxy(self, *args, **kw):
        return self.cli("--endpoint", self.proxy.endpoint, *args, **kw)

    def create(self, name, *extra):
        return self.via_proxy("vault", "secret", "create-base64",
                              "--compartment-id", self.server.tenancy,
                              "--vault-id", self.vault["id"], "--key-id",
                              self.key["id"], "--secret-name", name,
                              "--secret-content-content", b64("v"), *extra)

    def count(self, name):
        d = self.okj("vault", "secret", "list", "--compartment-id",
                     self.server.tenancy, "--name", name, "--all")
        return len(d["data"])

    def test_429_then_503_then_ok(self):
        p = self.proxy
        p.add("POST", "/20180608/secrets", ("status", 429,
                                            [("Retry-After", "1")], False))
        p.add("POST", "/20180608/secrets", ("status", 503, [], False))
        t0 = time.time()
        r = self.create("retried-create")
        self.assertEqual(r.code, 0, r)
        self.assertGreaterEqual(time.time() - t0, 1.0)   # Retry-After
        reqs = p.requests("POST", "/20180608/secrets")[-3:]
        self.assertEqual(len(reqs), 3)
        tokens = {h.get("opc-retry-token") for _, _, h in reqs}
        self.assertEqual(len(tokens), 1)
        self.assertTrue(tokens.pop())
        ids = {h.get("opc-request-id") for _, _, h in reqs}
        self.assertEqual(len(ids), 1)
        self.assertEqual(self.count("retried-create"), 1)

    def test_retried_create_is_not_duplicated(self):
        # the server creates the secret, the client sees a 503 and retries
        # with the same opc-retry-token: still one secret
        p = self.proxy
        p.add("POST", "/20180608/secrets", ("status", 503, [], True))
        r = self.create("created-once")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.count("created-once"), 1)
        reqs = p.requests("POST", "/20180608/secrets")[-2:]
        self.assertEqual(reqs[0][2]["opc-retry-token"],
                         reqs[1][2]["opc-retry-token"])

    def test_dropped_connection_retried(self):
        self.proxy.add("GET", "/20180608/vaults/", ("drop",))
        r = self.via_proxy("kms", "management", "vault", "get",
                           "--vault-id", self.vault["id"])
        self.assertEqual(r.code, 0, r)

    def test_400_not_retried(self):
        n0 = len(self.proxy.requests("GET", "/20180608/vaults/"))
        self.proxy.add("GET", "/20180608/vaults/", ("status", 400, [],
                                                     False))
        r = self.via_proxy("kms", "management", "vault", "get",
                           "--vault-id", self.vault["id"])
        self.assertEqual(r.code, 1, r)
        self.assertIn("Injected", r.err)
        self.assertEqual(len(self.proxy.requests("GET", "/20180608/vaults/"))
                         - n0, 1)

    def test_no_retry_and_max_retries(self):
        p = self.proxy
        n0 = len(p.requests("GET", "/20180608/vaults/"))
        p.add("GET", "/20180608/vaults/", ("status", 503, [], False))
        r = self.via_proxy("kms", "management", "vault", "get",
                           "--vault-id", self.vault["id"], "--no-retry")
        self.assertEqual(r.code, 1, r)
        self.assertEqual(len(p.requests("GET", "/20180608/vaults/")) - n0,
                         1)
        for _ in range(4):
            p.add("GET", "/20180608/vaults/", ("status", 502, [], False))
        n0 = len(p.requests("GET", "/20180608/vaults/"))
        r = self.via_proxy("kms", "management", "vault", "get",
                           "--vault-id", self.vault["id"], "--max-retries",
                           "2")
        self.assertEqual(r.code, 1, r)
        self.assertEqual(len(p.requests("GET", "/20180608/vaults/")) - n0,
                         3)
        # the leftover 502 is consumed by one more successful call
        r = self.via_proxy("kms", "management", "vault", "get",
                           "--vault-id", self.vault["id"])
        self.assertEqual(r.code, 0, r)

    def test_debug_log_shows_retries_not_secrets(self):
        self.proxy.add("GET", "/20190301/secretbundles/",
                       ("status", 503, [], False))
        s = self.make_secret(self.vault, self.key, "debugged", "s3cr3t-x")
        r = self.via_proxy("--debug", "secrets", "secret-bundle", "get",
                           "--secret-id", s["id"])
        self.assertEqual(r.code, 0, r)
        self.assertIn("retrying in", r.err)
        self.assertNotIn(b64("s3cr3t-x"), r.err)
        self.assertNotIn("Signature version", r.err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
