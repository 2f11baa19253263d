# SPDX-License-Identifier: Apache-2.0
"""Every `tresor` command against a real tresord: oci-cli's grammar and
output ({"data": ...} with kebab-case names, etag, opc-next-page),
--query/--raw-output/--output table, usage errors (exit 2, suggestion),
service errors (exit 1, ServiceError), --help everywhere, key-file
permissions, and `tresor doctor secret`'s decision tree.

Identity, the policy simulator and the linter are tested when the
tresord under test serves them (skipped with a reason otherwise).
"""

import datetime
import json
import os
import shutil
import stat
import subprocess
import unittest

from harness import CANARY, TRESOR, TresorTestCase, b64


class Cli(TresorTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vault, cls.key = cls.make_vault_key()
        cls.mgmt = cls.vault["management-endpoint"]
        cls.crypto = cls.vault["crypto-endpoint"]
        cls.secret = cls.make_secret(cls.vault, cls.key, "canary-secret",
                                     CANARY)
        r = cls.cli("iam", "user", "list")
        cls.identity = r.code == 0
        r = cls.cli("iam", "policy", "lint", "--statements",
                    '["Allow any-user to read secret-family in tenancy"]')
        cls.tresor_api = r.code == 0

    def need_identity(self):
        if not self.identity:
            self.skipTest("this tresord does not serve Identity yet")

    # ------------------------------------------------------------------
    # kms management vault

    def test_vault_commands(self):
        t = self.server.tenancy
        d = self.okj("kms", "management", "vault", "create",
                     "--compartment-id", t, "--display-name", "v2",
                     "--vault-type", "default",
                     "--wait-for-state", "ACTIVE")
        v = d["data"]
        self.assertIn("etag", d)
        for k in ("management-endpoint", "crypto-endpoint",
                  "lifecycle-state", "compartment-id", "vault-type",
                  "display-name", "time-created"):
            self.assertIn(k, v)
        self.assertEqual(v["vault-type"], "DEFAULT")
        # the seed's script works as written
        r = self.ok("kms", "management", "vault", "get", "--vault-id",
                    v["id"], "--query", 'data."management-endpoint"',
                    "--raw-output")
        self.assertEqual(r.out, v["management-endpoint"] + "\n")
        lst = self.okj("kms", "management", "vault", "list",
                       "--compartment-id", t, "--all")["data"]
        self.assertIn(v["id"], [x["id"] for x in lst])
        self.assertNotIn("opc-next-page", lst)
        d = self.okj("kms", "management", "vault", "update", "--vault-id",
                     v["id"], "--display-name", "renamed")
        self.assertEqual(d["data"]["display-name"], "renamed")
        u = self.okj("kms", "management", "vault", "usage", "get",
                     "--vault-id", v["id"])["data"]
        self.assertIn("key-count", u)
        d = self.okj("kms", "management", "vault", "schedule-deletion",
                     "--vault-id", v["id"])
        self.assertEqual(d["data"]["lifecycle-state"], "PENDING_DELETION")
        d = self.okj("kms", "management", "vault", "cancel-deletion",
                     "--vault-id", v["id"])
        self.assertEqual(d["data"]["lifecycle-state"], "ACTIVE")
        # if-match with a stale etag: 412, exit 1
        r = self.cli("kms", "management", "vault", "update", "--vault-id",
                     v["id"], "--display-name", "x", "--if-match", "stale")
        self.assertEqual(r.code, 1, r)
        self.assertIn("NoEtagMatch", r.err)

    def test_pagination(self):
        t = self.server.tenancy
        for i in range(3):
            self.ok("kms", "management", "vault", "create",
                    "--compartment-id", t, "--display-name", "p%d" % i,
                    "--vault-type", "DEFAULT")
        r = self.cli("kms", "management", "vault", "list",
                     "--compartment-id", t, "--limit", "1")
        d = r.json()
        self.assertEqual(len(d["data"]), 1)
        self.assertIn("opc-next-page", d)
        self.assertIn("--all", r.err)
        d2 = self.okj("kms", "management", "vault", "list",
                      "--compartment-id", t, "--limit", "1", "--page",
                      d["opc-next-page"])
        self.assertNotEqual(d2["data"][0]["id"], d["data"][0]["id"])
        # --limit N gathers N over several pages of --page-size
        d = self.okj("kms", "management", "vault", "list",
                     "--compartment-id", t, "--limit", "3",
                     "--page-size", "1")
        self.assertEqual(len(d["data"]), 3)
        everything = self.okj("kms", "management", "vault", "list",
                              "--compartment-id", t, "--all",
                              "--page-size", "1")
        self.assertNotIn("opc-next-page", everything)
        self.assertGreaterEqual(len(everything["data"]), 4)
        r = self.cli("kms", "management", "vault", "list",
                     "--compartment-id", t, "--all", "--limit", "2")
        self.assertEqual(r.code, 2, r)

    # ------------------------------------------------------------------
    # kms management key / key-version, kms crypto

    def test_key_commands(self):
        t = self.server.tenancy
        m = ["--endpoint", self.mgmt]
        k = self.okj("kms", "management", "key", "create",
                     "--compartment-id", t, "--display-name", "k2",
                     "--key-shape", '{"algorithm": "AES", "length": 16}',
                     "--protection-mode", "SOFTWARE", *m)["data"]
        self.assertEqual(k["key-shape"], {"algorithm": "AES", "length": 16})
        self.assertEqual(k["lifecycle-state"], "ENABLED")
        g = self.okj("kms", "management", "key", "get", "--key-id",
                     k["id"], *m)
        self.assertIn("etag", g)
        self.assertEqual(g["data"]["current-key-version"],
                         k["current-key-version"])
        ids = self.ok("kms", "management", "key", "list",
                      "--compartment-id", t, "--all", "--query",
                      "data[].id", *m).json()
        self.assertIn(k["id"], ids)
        self.okj("kms", "management", "key", "update", "--key-id", k["id"],
                 "--display-name", "k2b", *m)
        d = self.okj("kms", "management", "key", "disable", "--key-id",
                     k["id"], *m)
        self.assertEqual(d["data"]["lifecycle-state"], "DISABLED")
        d = self.okj("kms", "management", "key", "enable", "--key-id",
                     k["id"], *m)
        self.assertEqual(d["data"]["lifecycle-state"], "ENABLED")
        kv = self.okj("kms", "management", "key-version", "create",
                      "--key-id", k["id"], *m)["data"]
        self.assertEqual(kv["key-id"], k["id"])
        lst = self.okj("kms", "management", "key-version", "list",
                       "--key-id", k["id"], "--all", *m)["data"]
        self.assertEqual(len(lst), 2)
        g = self.okj("kms", "management", "key-version", "get",
                     "--key-id", k["id"], "--key-version-id", kv["id"],
                     *m)["data"]
        self.assertEqual(g["id"], kv["id"])
        d = self.okj("kms", "management", "key", "schedule-deletion",
                     "--key-id", k["id"], *m)
        self.assertEqual(d["data"]["lifecycle-state"], "PENDING_DELETION")
        d = self.okj("kms", "management", "key", "cancel-deletion",
                     "--key-id", k["id"], *m)
        self.assertIn(d["data"]["lifecycle-state"], ("ENABLED",
                                                     "DISABLED"))
        # management commands need the vault's endpoint
        r = self.cli("kms", "management", "key", "list",
                     "--compartment-id", t)
        self.assertEqual(r.code, 2, r)
        self.assertIn("--endpoint", r.err)

    def test_crypto_commands(self):
        c = ["--endpoint", self.crypto]
        ct = self.ok("kms", "crypto", "encrypt", "--key-id", self.key["id"],
                     "--plaintext", b64("hello"), "--associated-data",
                     '{"app": "x"}', "--query", "data.ciphertext",
                     "--raw-output", *c).out.strip()
        d = self.okj("kms", "crypto", "decrypt", "--key-id",
                     self.key["id"], "--ciphertext", ct,
                     "--associated-data", '{"app": "x"}', *c)["data"]
        self.assertEqual(d["plaintext"], b64("hello"))
        self.assertIn("plaintext-checksum", d)
        r = self.cli("kms", "crypto", "decrypt", "--key-id", self.key["id"],
                     "--ciphertext", ct, "--associated-data",
                     '{"app": "y"}', *c)
        self.assertEqual(r.code, 1, r)
        g = self.okj("kms", "crypto", "generate-data-encryption-key",
                     "--key-id", self.key["id"], "--include-plaintext-key",
                     "true", "--key-shape",
                     '{"algorithm":"AES","length":32}', *c)["data"]
        self.assertIn("plaintext", g)
        self.assertIn("ciphertext", g)
        g = self.okj("kms", "crypto", "generate-data-encryption-key",
                     "--key-id", self.key["id"], "--include-plaintext-key",
                     "false", "--key-shape",
                     '{"algorithm":"AES","length":32}', *c)["data"]
        self.assertNotIn("plaintext", g)
        r = self.cli("kms", "crypto", "generate-data-encryption-key",
                     "--key-id", self.key["id"], "--include-plaintext-key",
                     "maybe", "--key-shape", "{}", *c)
        self.assertEqual(r.code, 2, r)

    # ------------------------------------------------------------------
    # vault secret / secret-version, secrets secret-bundle

    def test_secret_commands(self):
        t = self.server.tenancy
        s = self.okj("vault", "secret", "create-base64",
                     "--compartment-id", t, "--vault-id", self.vault["id"],
                     "--key-id", self.key["id"], "--secret-name", "db-pass",
                     "--secret-content-content", b64("one"),
                     "--secret-content-name", "v-one",
                     "--description", "d", "--freeform-tags", '{"MyTag": "a"}',
                     "--wait-for-state", "ACTIVE")
        sid = s["data"]["id"]
        self.assertIn("etag", s)
        self.assertEqual(s["data"]["freeform-tags"], {"MyTag": "a"})
        self.assertEqual(s["data"]["secret-name"], "db-pass")
        g = self.okj("vault", "secret", "get", "--secret-id", sid)
        self.assertEqual(g["data"]["lifecycle-state"], "ACTIVE")
        self.assertEqual(g["data"]["current-version-number"], 1)
        lst = self.okj("vault", "secret", "list", "--compartment-id", t,
                       "--name", "db-pass", "--all")["data"]
        self.assertEqual([x["id"] for x in lst], [sid])
        lst = self.okj("vault", "secret", "list", "--compartment-id", t,
                       "--vault-id", self.vault["id"], "--lifecycle-state",
                       "ACTIVE", "--sort-by", "NAME", "--sort-order", "ASC",
                       "--all")["data"]
        names = [x["secret-name"] for x in lst]
        self.assertEqual(names, sorted(names))
        # a new version: update-base64
        u = self.okj("vault", "secret", "update-base64", "--secret-id", sid,
                     "--secret-content-content", b64("two"))
        self.assertEqual(u["data"]["current-version-number"], 2)
        r = self.ok("secrets", "secret-bundle", "get", "--secret-id", sid,
                    "--decode")
        self.assertEqual(r.out, "two")
        b = self.okj("secrets", "secret-bundle", "get", "--secret-id", sid,
                     "--version-number", "1")["data"]
        self.assertEqual(b["secret-bundle-content"],
                         {"content-type": "BASE64", "content": b64("one")})
        self.assertEqual(b["version-number"], 1)
        b = self.okj("secrets", "secret-bundle", "get", "--secret-id", sid,
                     "--stage", "previous")["data"]
        self.assertEqual(b["version-number"], 1)
        b = self.okj("secrets", "secret-bundle", "get", "--secret-id", sid,
                     "--secret-version-name", "v-one")["data"]
        self.assertEqual(b["version-number"], 1)
        r = self.ok("secrets", "secret-bundle", "get-secret-bundle-by-name",
                    "--vault-id", self.vault["id"], "--secret-name",
                    "db-pass", "--decode")
        self.assertEqual(r.out, "two")
        # versions, both ways oci-cli spells them
        for cmd in (["vault", "secret", "list-versions"],
                    ["vault", "secret-version", "list"],
                    ["secrets", "secret-bundle-version", "list-versions"]):
            v = self.okj(*cmd, "--secret-id", sid, "--all")["data"]
            self.assertEqual(sorted(x["version-number"] for x in v), [1, 2])
        for cmd in (["vault", "secret", "get-secret-version"],
                    ["vault", "secret-version", "get"]):
            v = self.okj(*cmd, "--secret-id", sid,
                         "--secret-version-number", "2")["data"]
            self.assertIn("CURRENT", v["stages"])
        # a PENDING version, then a rollback to 1
        self.ok("vault", "secret", "update-base64", "--secret-id", sid,
                "--secret-content-content", b64("three"),
                "--secret-content-stage", "PENDING")
        r = self.ok("secrets", "secret-bundle", "get", "--secret-id", sid,
                    "--stage", "PENDING", "--decode")
        self.assertEqual(r.out, "three")
        u = self.okj("vault", "secret", "update-base64", "--secret-id", sid,
                     "--current-version-number", "1")
        self.assertEqual(u["data"]["current-version-number"], 1)
        r = self.ok("secrets", "secret-bundle", "get", "--secret-id", sid,
                    "--decode")
        self.assertEqual(r.out, "one")
        # deletion scheduled, then cancelled
        self.ok("vault", "secret", "schedule-secret-deletion",
                "--secret-id", sid, "--time-of-deletion",
                (datetime.datetime.now(datetime.timezone.utc) +
                 datetime.timedelta(days=10)).strftime("%Y-%m-%d"))
        g = self.okj("vault", "secret", "get", "--secret-id", sid)
        self.assertEqual(g["data"]["lifecycle-state"], "PENDING_DELETION")
        r = self.cli("secrets", "secret-bundle", "get", "--secret-id", sid)
        self.assertEqual(r.code, 1, r)
        self.ok("vault", "secret", "cancel-secret-deletion", "--secret-id",
                sid)
        g = self.okj("vault", "secret", "get", "--secret-id", sid)
        self.assertEqual(g["data"]["lifecycle-state"], "ACTIVE")

    def test_create_base64_needs_content(self):
        r = self.cli("vault", "secret", "create-base64", "--compartment-id",
                     "x", "--vault-id", "v", "--key-id", "k",
                     "--secret-name", "n")
        self.assertEqual(r.code, 2, r)
        self.assertIn("--secret-content-content", r.err)

    def test_from_json(self):
        path = os.path.join(self.tmp, "input.json")
        with open(path, "w") as f:
            json.dump({"compartmentId": self.server.tenancy,
                       "vaultId": self.vault["id"],
                       "keyId": self.key["id"],
                       "secretName": "from-json",
                       "secretContentContent": b64("fj")}, f)
        d = self.okj("vault", "secret", "create-base64", "--from-json",
                     "file://" + path)
        self.assertEqual(d["data"]["secret-name"], "from-json")
        # the command line wins over the file
        d = self.okj("vault", "secret", "create-base64", "--from-json",
                     "file://" + path, "--secret-name", "from-line")
        self.assertEqual(d["data"]["secret-name"], "from-line")

    # ------------------------------------------------------------------
    # rotation, version deletion, signing, tresor's own endpoints

    def test_rotation_and_version_deletion(self):
        t = self.server.tenancy
        g = self.okj("vault", "secret", "create-base64", "--compartment-id",
                     t, "--vault-id", self.vault["id"], "--key-id",
                     self.key["id"], "--secret-name", "generated",
                     "--enable-auto-generation", "true",
                     "--secret-generation-context",
                     '{"generationType": "PASSPHRASE", "generationTemplate":'
                     ' "SECRETS_DEFAULT_PASSWORD", "passphraseLength": 20}')
        gid = g["data"]["id"]
        d = self.okj("vault", "secret", "rotate", "--secret-id", gid)
        self.assertIn("opc-work-request-id", d)
        self.assertEqual(self.okj("vault", "secret", "get", "--secret-id",
                                  gid)["data"]["current-version-number"], 2)
        r = self.cli("vault", "secret", "cancel-secret-rotation",
                     "--secret-id", gid)
        self.assertIn(r.code, (0, 1), r)
        # three versions: the first becomes DEPRECATED, and only such a
        # version can be scheduled for deletion
        s = self.make_secret(self.vault, self.key, "versions", "a")
        for v in ("b", "c"):
            self.ok("vault", "secret", "update-base64", "--secret-id",
                    s["id"], "--secret-content-content", b64(v))
        v1 = self.okj("vault", "secret-version", "get", "--secret-id",
                      s["id"], "--secret-version-number", "1")["data"]
        self.assertIn("DEPRECATED", v1["stages"])
        self.ok("vault", "secret-version", "schedule-deletion",
                "--secret-id", s["id"], "--secret-version-number", "1")
        v1 = self.okj("vault", "secret-version", "get", "--secret-id",
                      s["id"], "--secret-version-number", "1")["data"]
        self.assertTrue(v1.get("time-of-deletion"))
        self.ok("vault", "secret-version", "cancel-deletion", "--secret-id",
                s["id"], "--secret-version-number", "1")
        r = self.cli("vault", "secret-version", "schedule-deletion",
                     "--secret-id", s["id"], "--secret-version-number", "3")
        self.assertEqual(r.code, 1, r)

    def test_sign_and_verify(self):
        m = ["--endpoint", self.mgmt]
        c = ["--endpoint", self.crypto]
        k = self.okj("kms", "management", "key", "create",
                     "--compartment-id", self.server.tenancy,
                     "--display-name", "signer", "--key-shape",
                     '{"algorithm":"RSA","length":256}', "--protection-mode",
                     "SOFTWARE", *m)["data"]
        sig = self.okj("kms", "crypto", "signed-data", "sign", "--key-id",
                       k["id"], "--message", b64("hello"),
                       "--signing-algorithm", "SHA_256_RSA_PKCS_PSS",
                       *c)["data"]
        d = self.okj("kms", "crypto", "verified-data", "verify", "--key-id",
                     k["id"], "--key-version-id", sig["key-version-id"],
                     "--message", b64("hello"), "--signature",
                     sig["signature"], "--signing-algorithm",
                     "SHA_256_RSA_PKCS_PSS", *c)["data"]
        self.assertTrue(d["is-signature-valid"])
        d = self.okj("kms", "crypto", "verified-data", "verify", "--key-id",
                     k["id"], "--key-version-id", sig["key-version-id"],
                     "--message", b64("hellO"), "--signature",
                     sig["signature"], "--signing-algorithm",
                     "SHA_256_RSA_PKCS_PSS", *c)["data"]
        self.assertFalse(d["is-signature-valid"])

    def test_tresor_endpoints(self):
        d = self.okj("iam", "tenancy-settings", "get")["data"]
        self.assertIn("secret-reads-require-key-use", d)
        d = self.okj("iam", "tenancy-settings", "update",
                     "--secret-reads-require-key-use", "true")["data"]
        self.assertTrue(d["secret-reads-require-key-use"])
        d = self.okj("usage", "get")["data"]
        self.assertIn("secret-retrievals", d)
        d = self.okj("kms", "management", "key", "rewrap-secret-versions",
                     "--key-id", self.key["id"])["data"]
        self.assertIn("complete", d)

    def test_audit_verify(self):
        log = os.path.join(self.server.data, "audit.log")
        if not os.path.exists(log):
            self.skipTest("this tresord writes no audit log")
        d = self.okj("audit", "verify", log)["data"]
        self.assertTrue(d["verified"])
        self.assertGreater(d["records"], 0)
        # a changed byte breaks the chain
        copy = os.path.join(self.tmp, "audit-copy.log")
        with open(log, "rb") as f:
            data = bytearray(f.read())
        i = data.index(b'"operation":"') + 13
        data[i] = ord("X") if data[i] != ord("X") else ord("Y")
        with open(copy, "wb") as f:
            f.write(data)
        r = self.cli("audit", "verify", copy)
        self.assertEqual(r.code, 1, r)
        self.assertIn("AuditError", r.err)
        r = self.cli("audit", "verify")
        self.assertEqual(r.code, 2, r)

    # ------------------------------------------------------------------
    # output options

    def test_output_options(self):
        sid = self.secret["id"]
        r = self.ok("vault", "secret", "get", "--secret-id", sid, "--query",
                    "data.\"lifecycle-state\"")
        self.assertEqual(r.out, '"ACTIVE"\n')
        r = self.ok("vault", "secret", "get", "--secret-id", sid, "--query",
                    "data.\"lifecycle-state\"", "--raw-output")
        self.assertEqual(r.out, "ACTIVE\n")
        r = self.ok("vault", "secret", "get", "--secret-id", sid, "--query",
                    "data.nothing")
        self.assertEqual(r.out, "")
        self.assertIn("Query returned empty result", r.err)
        r = self.ok("vault", "secret", "get", "--secret-id", sid,
                    "--output", "table", "--query",
                    "data.{name:\"secret-name\",state:\"lifecycle-state\"}")
        self.assertIn("| name          | state  |", r.out)
        self.assertIn("| canary-secret | ACTIVE |", r.out)
        # 2-space indentation, sorted keys: oci-cli's json.dumps
        r = self.ok("vault", "secret", "get", "--secret-id", sid)
        self.assertTrue(r.out.startswith('{\n  "data": {\n    "compartment'
                                         '-id": '), r.out)
        r = self.cli("vault", "secret", "get", "--secret-id", sid,
                     "--query", "data.[")
        self.assertEqual(r.code, 2, r)
        r = self.cli("vault", "secret", "get", "--secret-id", sid,
                     "--output", "yaml")
        self.assertEqual(r.code, 2, r)
        # global options anywhere; --endpoint overrides the profile
        r = self.ok("--query", "data.id", "--raw-output", "vault", "secret",
                    "get", "--secret-id", sid, "--endpoint",
                    self.server.endpoint)
        self.assertEqual(r.out.strip(), sid)

    # ------------------------------------------------------------------
    # errors and help

    def test_service_error(self):
        r = self.cli("vault", "secret", "get", "--secret-id",
                     "ocid1.vaultsecret.oc1..doesnotexist")
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.out, "")
        self.assertTrue(r.err.startswith("ServiceError:\n"), r.err)
        e = json.loads(r.err[len("ServiceError:\n"):])
        self.assertEqual(e["code"], "NotAuthorizedOrNotFound")
        self.assertEqual(e["status"], 404)
        self.assertEqual(e["operation_name"], "get_secret")
        self.assertTrue(e["opc-request-id"])
        self.assertIn("message", e)

    def test_usage_errors(self):
        r = self.cli("vault-secret", "create")
        self.assertEqual(r.code, 2, r)
        self.assertIn("No such command 'vault-secret'", r.err)
        self.assertIn("tresor vault secret create-base64", r.err)
        r = self.cli("vault", "secret", "get")
        self.assertEqual(r.code, 2, r)
        self.assertIn("Missing option(s) --secret-id", r.err)
        r = self.cli("vault", "secret", "get", "--secret-idd", "x")
        self.assertEqual(r.code, 2, r)
        self.assertIn("--secret-id", r.err)
        r = self.cli("kms", "management", "vault", "create",
                     "--compartment-id", "x", "--display-name", "y",
                     "--vault-type", "TINY")
        self.assertEqual(r.code, 2, r)
        self.assertIn("is not one of", r.err)
        r = self.cli("vault", "secret", "list", "--compartment-id", "x",
                     "--limit", "ten")
        self.assertEqual(r.code, 2, r)
        r = self.cli("kms", "management", "key", "create",
                     "--compartment-id", "x", "--display-name", "y",
                     "--key-shape", "{not json", "--endpoint", self.mgmt)
        self.assertEqual(r.code, 2, r)
        self.assertIn("key_shape", r.err)
        r = self.cli("vault", "secret", "get", "--secret-id", "a", "extra")
        self.assertEqual(r.code, 2, r)

    def test_help_everywhere(self):
        seen = set()
        todo = [[]]
        while todo:
            words = todo.pop()
            r = self.cli(*words, "--help")
            self.assertEqual(r.code, 0, (words, r))
            self.assertIn("Usage: tresor", r.out)
            if "Commands:" not in r.out:
                self.assertIn("--help", r.out)
                continue
            body = r.out.split("Commands:\n", 1)[1]
            for line in body.splitlines():
                if not line.startswith("  ") or line.startswith("   "):
                    if line and not line.startswith(" "):
                        break
                    continue
                name = line.split()[0]
                key = tuple(words + [name])
                if key not in seen:
                    seen.add(key)
                    todo.append(words + [name])
        for must in (("kms", "management", "vault", "create"),
                     ("kms", "crypto", "generate-data-encryption-key"),
                     ("vault", "secret", "update-base64"),
                     ("secrets", "secret-bundle",
                      "get-secret-bundle-by-name"),
                     ("iam", "policy", "simulate"), ("iam", "policy", "lint"),
                     ("doctor", "secret"), ("agent",)):
            self.assertIn(must, seen)
        # -h and -? too
        self.assertEqual(self.cli("vault", "-h").code, 0)
        self.assertEqual(self.cli("vault", "secret", "get", "-?").code, 0)

    def test_version(self):
        r = self.ok("--version")
        self.assertTrue(r.out.startswith("tresor "))

    def test_key_file_permissions(self):
        cfgdir = os.path.join(self.tmp, "openkey")
        os.mkdir(cfgdir)
        key = os.path.join(cfgdir, "key.pem")
        shutil.copy(os.path.join(self.server.data, "admin", "key.pem"), key)
        os.chmod(key, 0o644)
        cfg = os.path.join(cfgdir, "config")
        with open(self.server.config) as f, open(cfg, "w") as g:
            for line in f:
                g.write("key_file=%s\n" % key if line.startswith("key_file=")
                        else line)
        r = self.cli("vault", "secret", "get", "--secret-id",
                     self.secret["id"], "--config-file", cfg)
        self.assertEqual(r.code, 1, r)
        self.assertIn("readable by group or others", r.err)
        self.assertIn("chmod 600", r.err)
        os.chmod(key, 0o600)
        self.ok("vault", "secret", "get", "--secret-id", self.secret["id"],
                "--config-file", cfg)

    def test_profiles(self):
        cfg = os.path.join(self.tmp, "two-profiles")
        with open(self.server.config) as f:
            text = f.read()
        with open(cfg, "w") as g:
            g.write(text.replace("[DEFAULT]", "[DEFAULT]\nregion=r\n[ADMIN]",
                                 1).replace("region=xx-local-1\n", "", 1))
        self.ok("vault", "secret", "get", "--secret-id", self.secret["id"],
                "--config-file", cfg, "--profile", "ADMIN")
        r = self.cli("vault", "secret", "get", "--secret-id",
                     self.secret["id"], "--config-file", cfg, "--profile",
                     "NOPE")
        self.assertEqual(r.code, 1, r)
        self.assertIn("profile 'NOPE' not found", r.err)
        env = self.env(OCI_CLI_PROFILE="ADMIN", OCI_CLI_CONFIG_FILE=cfg)
        self.ok("vault", "secret", "get", "--secret-id", self.secret["id"],
                env=env)

    # ------------------------------------------------------------------
    # iam

    def test_iam_commands(self):
        self.need_identity()
        t = self.server.tenancy
        c = self.okj("iam", "compartment", "create", "--compartment-id", t,
                     "--name", "it-comp", "--description", "d")["data"]
        self.assertEqual(c["lifecycle-state"], "ACTIVE")
        self.okj("iam", "compartment", "get", "--compartment-id", c["id"])
        names = self.ok("iam", "compartment", "list", "--all", "--query",
                        "data[].name").json()
        self.assertIn("it-comp", names)
        d = self.okj("iam", "compartment", "update", "--compartment-id",
                     c["id"], "--description", "d2")["data"]
        self.assertEqual(d["description"], "d2")

        u = self.okj("iam", "user", "create", "--name", "it-user",
                     "--description", "a user")["data"]
        self.assertEqual(u["compartment-id"], t)
        self.okj("iam", "user", "get", "--user-id", u["id"])
        self.assertIn("it-user", self.ok("iam", "user", "list", "--all",
                                         "--query", "data[].name").json())
        self.okj("iam", "user", "update", "--user-id", u["id"],
                 "--description", "still a user")
        g = self.okj("iam", "group", "create", "--name", "it-group",
                     "--description", "g")["data"]
        self.okj("iam", "group", "get", "--group-id", g["id"])
        self.okj("iam", "group", "list", "--all")
        self.okj("iam", "group", "update", "--group-id", g["id"],
                 "--description", "g2")
        m = self.okj("iam", "group", "add-user", "--user-id", u["id"],
                     "--group-id", g["id"])["data"]
        self.assertEqual(m["user-id"], u["id"])
        users = self.okj("iam", "group", "list-users", "--group-id",
                         g["id"])["data"]
        self.assertEqual([x["id"] for x in users], [u["id"]])
        groups = self.okj("iam", "user", "list-groups", "--user-id",
                          u["id"])["data"]
        self.assertEqual([x["id"] for x in groups], [g["id"]])
        self.ok("iam", "group", "remove-user", "--user-id", u["id"],
                "--group-id", g["id"])
        # an empty list prints nothing, as oci-cli does
        self.assertEqual(self.ok("iam", "group", "list-users",
                                 "--group-id", g["id"]).out, "")

        # API keys
        pub = os.path.join(self.tmp, "pub.pem")
        subprocess.run(["openssl", "genrsa", "-out",
                        os.path.join(self.tmp, "k2.pem"), "2048"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-pubout", "-in",
                        os.path.join(self.tmp, "k2.pem"), "-out", pub],
                       check=True, capture_output=True)
        k = self.okj("iam", "user", "api-key", "upload", "--user-id",
                     u["id"], "--key-file", pub)["data"]
        self.assertEqual(len(k["fingerprint"]), 47)
        keys = self.okj("iam", "user", "api-key", "list", "--user-id",
                        u["id"])["data"]
        self.assertEqual([x["fingerprint"] for x in keys],
                         [k["fingerprint"]])
        self.ok("iam", "user", "api-key", "delete", "--user-id", u["id"],
                "--fingerprint", k["fingerprint"], "--force")

        dg = self.okj("iam", "dynamic-group", "create", "--name", "it-dg",
                      "--matching-rule", "ALL {resource.type = 'fnfunc'}",
                      "--description", "dg")["data"]
        self.okj("iam", "dynamic-group", "get", "--dynamic-group-id",
                 dg["id"])
        self.okj("iam", "dynamic-group", "list", "--all")
        self.okj("iam", "dynamic-group", "update", "--dynamic-group-id",
                 dg["id"], "--matching-rule",
                 "ANY {resource.type = 'fnfunc'}", "--force")
        p = self.okj("iam", "policy", "create", "--compartment-id", t,
                     "--name", "it-policy", "--description", "p",
                     "--statements",
                     '["Allow group it-group to read secret-family in '
                     'tenancy"]')["data"]
        self.assertEqual(len(p["statements"]), 1)
        self.okj("iam", "policy", "get", "--policy-id", p["id"])
        self.okj("iam", "policy", "list", "--compartment-id", t, "--all")
        p2 = self.okj("iam", "policy", "update", "--policy-id", p["id"],
                      "--statements",
                      '["Allow group it-group to read secrets in tenancy"]',
                      "--force")["data"]
        self.assertIn("read secrets", p2["statements"][0])
        tn = self.okj("iam", "tenancy", "get")["data"]
        self.assertEqual(tn["id"], t)

        # deletes ask for confirmation unless --force
        r = self.cli("iam", "policy", "delete", "--policy-id", p["id"],
                     input=b"n\n")
        self.assertEqual(r.code, 1, r)
        self.assertIn("Aborted", r.err)
        self.ok("iam", "policy", "delete", "--policy-id", p["id"], "--force")
        self.ok("iam", "dynamic-group", "delete", "--dynamic-group-id",
                dg["id"], input=b"y\n")
        self.ok("iam", "group", "delete", "--group-id", g["id"], "--force")
        d = self.okj("iam", "user", "delete", "--user-id", u["id"],
                     "--force", "--wait-for-state", "DELETED",
                     "--wait-interval-seconds", "1")
        self.assertEqual(d["data"]["lifecycle-state"], "DELETED")
        self.ok("iam", "compartment", "delete", "--compartment-id",
                c["id"], "--force")

    def test_policy_simulate_and_lint(self):
        if not self.tresor_api:
            self.skipTest("this tresord does not serve /tresor/v1 yet")
        d = self.okj("iam", "policy", "simulate", "--operation",
                     "GetSecretBundle", "--secret-id",
                     self.secret["id"])["data"]
        self.assertEqual(d["decision"], "ALLOW")
        self.assertIn("checks", d)
        d = self.okj("iam", "policy", "lint", "--statements",
                     '["Allow any-user to read secret-family in '
                     'tenancy"]')["data"]
        self.assertTrue(d["findings"])
        self.assertIn("rule", d["findings"][0])
        r = self.cli("iam", "policy", "lint")
        self.assertEqual(r.code, 2, r)

    def test_resource_principal_flow(self):
        self.need_identity()
        t = self.server.tenancy
        d = os.path.join(self.tmp, "workload")
        os.makedirs(d, exist_ok=True)
        key = os.path.join(d, "enroll.pem")
        pub = os.path.join(d, "enroll.pub")
        # openssl creates a private key file 0600 itself
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-pubout", "-in", key, "-out",
                        pub], check=True, capture_output=True)
        with open(pub) as f:
            pem = f.read()
        w = self.okj("iam", "workload", "create", "--compartment-id", t,
                     "--display-name", "fn", "--kind", "RESOURCE",
                     "--resource-type", "fnfunc", "--public-key",
                     pem)["data"]
        self.okj("iam", "workload", "get", "--workload-id", w["id"])
        self.okj("iam", "workload", "list", "--compartment-id", t, "--all")
        cfg = os.path.join(d, "config")
        with open(cfg, "w") as f:
            f.write("[DEFAULT]\nuser=%s\nfingerprint=%s\nkey_file=%s\n"
                    "tenancy=%s\nendpoint=%s\n" % (
                        w["id"], w["fingerprint"], key, t,
                        self.server.endpoint))
        tok = os.path.join(d, "rpst")
        sk = os.path.join(d, "session.pem")
        r = self.ok("iam", "workload", "request-token", "--token-file", tok,
                    "--private-key-file", sk, "--ttl-seconds", "600",
                    "--config-file", cfg)
        self.assertEqual(r.json()["data"]["version"], "2.2")
        for p in (tok, sk):
            self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o600)
        self.ok("iam", "policy", "create", "--compartment-id", t, "--name",
                "fn-reads", "--description", "functions read secrets",
                "--statements", json.dumps([
                    "Allow any-user to read secret-bundles in tenancy where "
                    "request.principal.type = 'fnfunc'",
                    "Allow any-user to use keys in tenancy where "
                    "request.principal.type = 'fnfunc'"]))
        env = self.env(OCI_RESOURCE_PRINCIPAL_VERSION="2.2",
                       OCI_RESOURCE_PRINCIPAL_RPST=tok,
                       OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM=sk)
        env.pop("OCI_CLI_CONFIG_FILE")
        r = self.ok("--auth", "resource_principal", "--endpoint",
                    self.server.endpoint, "secrets", "secret-bundle", "get",
                    "--secret-id", self.secret["id"], "--decode", env=env)
        self.assertEqual(r.out, CANARY)
        # a session key readable by others is refused
        os.chmod(sk, 0o644)
        r = self.cli("--auth", "resource_principal", "--endpoint",
                     self.server.endpoint, "secrets", "secret-bundle", "get",
                     "--secret-id", self.secret["id"], env=env)
        self.assertEqual(r.code, 1, r)
        self.assertIn("readable by group or others", r.err)
        os.chmod(sk, 0o600)
        # the workload deleted: its token stops working at once
        self.ok("iam", "workload", "delete", "--workload-id", w["id"],
                "--force")
        r = self.cli("--auth", "resource_principal", "--endpoint",
                     self.server.endpoint, "secrets", "secret-bundle", "get",
                     "--secret-id", self.secret["id"], env=env)
        self.assertEqual(r.code, 1, r)

    # ------------------------------------------------------------------
    # doctor

    def doctor(self, sid, **kw):
        return self.cli("doctor", "secret", "--secret-id", sid, **kw)

    def test_doctor_all_good(self):
        r = self.doctor(self.secret["id"])
        self.assertEqual(r.code, 0, r)
        self.assertIn("[OK  ] authenticate", r.out)
        self.assertIn("[OK  ] read the secret", r.out)
        self.assertIn("can read the secret", r.out)
        self.assertNotIn(CANARY, r.out)
        self.assertNotIn(b64(CANARY), r.out)

    def test_doctor_clock_skew(self):
        r = self.doctor(self.secret["id"], env=self.env(
            TRESOR_TEST_CLOCK_OFFSET_MS="900000"))
        self.assertEqual(r.code, 1, r)
        self.assertIn("[FAIL] clock", r.out)
        self.assertIn("ahead of", r.out)
        self.assertIn("timedatectl set-ntp true", r.out)

    def test_doctor_unknown_key(self):
        cfgdir = os.path.join(self.tmp, "stranger")
        os.makedirs(cfgdir, exist_ok=True)
        key = os.path.join(cfgdir, "key.pem")
        # openssl creates a private key file 0600 itself
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"],
                       check=True, capture_output=True)
        fp = subprocess.run(
            "openssl rsa -pubout -outform DER -in %s 2>/dev/null | "
            "openssl md5 -c" % key, shell=True, check=True,
            capture_output=True).stdout.decode().split()[-1]
        cfg = os.path.join(cfgdir, "config")
        with open(cfg, "w") as g:
            g.write("[DEFAULT]\nuser=%s\nfingerprint=%s\nkey_file=%s\n"
                    "tenancy=%s\nendpoint=%s\n" % (
                        self.server.user, fp, key, self.server.tenancy,
                        self.server.endpoint))
        r = self.doctor(self.secret["id"], env=self.env(
            OCI_CLI_CONFIG_FILE=cfg))
        self.assertEqual(r.code, 1, r)
        self.assertIn("[FAIL] authenticate", r.out)
        self.assertIn("api-key upload", r.out)
        # a fingerprint that is not the key's is caught before that
        with open(cfg, "w") as g:
            g.write("[DEFAULT]\nuser=%s\nfingerprint=aa:bb\nkey_file=%s\n"
                    "tenancy=%s\nendpoint=%s\n" % (
                        self.server.user, key, self.server.tenancy,
                        self.server.endpoint))
        r = self.doctor(self.secret["id"], env=self.env(
            OCI_CLI_CONFIG_FILE=cfg))
        self.assertEqual(r.code, 1, r)
        self.assertIn("[FAIL] key file", r.out)
        self.assertIn("fingerprint=" + fp, r.out)

    def test_doctor_pending_deletion_and_disabled_key(self):
        s = self.make_secret(self.vault, self.key, "doctor-me", "x")
        self.ok("vault", "secret", "schedule-secret-deletion",
                "--secret-id", s["id"])
        r = self.doctor(s["id"])
        self.assertEqual(r.code, 1, r)
        self.assertIn("[FAIL] not being deleted", r.out)
        self.assertIn("cancel-secret-deletion --secret-id " + s["id"], r.out)
        self.ok("vault", "secret", "cancel-secret-deletion", "--secret-id",
                s["id"])
        m = ["--endpoint", self.mgmt]
        k = self.okj("kms", "management", "key", "create",
                     "--compartment-id", self.server.tenancy,
                     "--display-name", "dk", "--key-shape",
                     '{"algorithm":"AES","length":32}', "--protection-mode",
                     "SOFTWARE", *m)["data"]
        s2 = self.make_secret(self.vault, k, "doctor-key", "x")
        self.ok("kms", "management", "key", "disable", "--key-id", k["id"],
                *m)
        r = self.doctor(s2["id"])
        self.assertEqual(r.code, 1, r)
        self.assertIn("[FAIL] key enabled", r.out)
        self.assertIn("key enable --key-id " + k["id"], r.out)
        self.ok("kms", "management", "key", "enable", "--key-id", k["id"],
                *m)
        self.assertEqual(self.doctor(s2["id"]).code, 0)

    def test_doctor_no_permission(self):
        self.need_identity()
        # a user with a key but no policy
        d = os.path.join(self.tmp, "nobody")
        os.makedirs(d, exist_ok=True)
        key = os.path.join(d, "key.pem")
        pub = os.path.join(d, "pub.pem")
        # openssl creates a private key file 0600 itself
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-pubout", "-in", key, "-out",
                        pub], check=True, capture_output=True)
        u = self.okj("iam", "user", "create", "--name", "nobody",
                     "--description", "no rights")["data"]
        k = self.okj("iam", "user", "api-key", "upload", "--user-id",
                     u["id"], "--key-file", pub)["data"]
        cfg = os.path.join(d, "config")
        with open(cfg, "w") as g:
            g.write("[DEFAULT]\nuser=%s\nfingerprint=%s\nkey_file=%s\n"
                    "tenancy=%s\nendpoint=%s\n" % (
                        u["id"], k["fingerprint"], key, self.server.tenancy,
                        self.server.endpoint))
        r = self.doctor(self.secret["id"], env=self.env(
            OCI_CLI_CONFIG_FILE=cfg))
        self.assertEqual(r.code, 1, r)
        self.assertIn("[OK  ] authenticate", r.out)
        self.assertIn("[FAIL] read the secret", r.out)
        if self.tresor_api:
            self.assertIn("[FAIL] read secret-family", r.out)
            self.assertIn("Allow ", r.out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
