// What `tresord init` bootstraps, seen through IdentityClient: the tenancy, the admin user,
// group Administrators with the user in it, the policy
// "Allow group Administrators to manage all-resources in tenancy", and the API key.
//
// Issue 2 asks `init` for these objects; the Identity API (spec 4.7) is how a client sees them.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";

import { NO_RETRY } from "../lib/server.mjs";
import { fingerprintOf } from "../lib/sign.mjs";
import { assertNoSdkRetries, startWorld, stopWorld } from "../lib/world.mjs";

let w;

before(async () => {
  w = await startWorld("idboot");
});
after(async () => {
  await stopWorld(w);
});

const nr = { retryConfiguration: NO_RETRY };

test("GetTenancy returns the config's tenancy", async () => {
  const r = await w.identity.getTenancy({ tenancyId: w.tenancy, ...nr });
  assert.equal(r.tenancy.id, w.tenancy);
});

test("GetUser returns the ACTIVE admin user", async () => {
  const r = await w.identity.getUser({ userId: w.cfg.user, ...nr });
  assert.equal(r.user.id, w.cfg.user);
  assert.equal(r.user.compartmentId, w.tenancy);
  assert.equal(r.user.lifecycleState, "ACTIVE");
});

test("group Administrators exists and holds the admin user", async () => {
  const g = await w.identity.listGroups({ compartmentId: w.tenancy, ...nr });
  const admins = g.items.filter((x) => x.name === "Administrators");
  assert.equal(admins.length, 1);
  const m = await w.identity.listUserGroupMemberships({ compartmentId: w.tenancy, userId: w.cfg.user, groupId: admins[0].id, ...nr });
  assert.equal(m.items.length, 1);
});

test("the policy 'Allow group Administrators to manage all-resources in tenancy' exists", async () => {
  const p = await w.identity.listPolicies({ compartmentId: w.tenancy, ...nr });
  const statements = p.items.flatMap((x) => x.statements || []);
  assert.ok(
    statements.some((s) => /^allow group administrators to manage all-resources in tenancy$/i.test(s.trim())),
    JSON.stringify(statements),
  );
});

test("ListApiKeys shows the admin key with the config's fingerprint", async () => {
  const r = await w.identity.listApiKeys({ userId: w.cfg.user, ...nr });
  const fp = fingerprintOf(fs.readFileSync(w.cfg.key_file, "utf8"));
  assert.ok(r.items.some((k) => k.fingerprint === fp && k.lifecycleState === "ACTIVE"), JSON.stringify(r.items));
});

test("no SDK call needed a retry", () => assertNoSdkRetries());
