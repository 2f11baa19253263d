// IAM fixtures through the SDK's IdentityClient: compartments, groups, users with their own
// API keys (and so their own SDK clients), dynamic groups, policies; and the outcome of a
// call as {status, code, message} for decision tables.

import crypto from "node:crypto";

import { clientsWith, common } from "./server.mjs";
import { assert, assertResp } from "./world.mjs";
import { fingerprintOf } from "./sign.mjs";

export function rsaKeyPair() {
  return new Promise((resolve, reject) =>
    crypto.generateKeyPair(
      "rsa",
      { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } },
      (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey })),
    ),
  );
}

export async function createCompartment(w, parentId, name) {
  const r = await w.identity.createCompartment({
    createCompartmentDetails: { compartmentId: parentId, name, description: `compartment ${name}` },
  });
  assertResp(r, "CreateCompartment");
  return r.compartment;
}

export async function createGroup(w, name) {
  const r = await w.identity.createGroup({ createGroupDetails: { compartmentId: w.tenancy, name, description: `group ${name}` } });
  return r.group;
}

/**
 * A user in `groups` (Group models) with an API key of its own; returns
 * { user, keyPair, fingerprint, auth, ...clients } where the clients sign with the user's key.
 */
export async function createUser(w, name, groups = []) {
  const user = (await w.identity.createUser({ createUserDetails: { compartmentId: w.tenancy, name, description: `user ${name}` } })).user;
  for (const g of groups) {
    await w.identity.addUserToGroup({ addUserToGroupDetails: { userId: user.id, groupId: g.id } });
  }
  const keyPair = await rsaKeyPair();
  const apiKey = (await w.identity.uploadApiKey({ userId: user.id, createApiKeyDetails: { key: keyPair.publicKey } })).apiKey;
  assert.equal(apiKey.fingerprint, fingerprintOf(keyPair.publicKey), "UploadApiKey: fingerprint as OCI computes it");
  const auth = new common.SimpleAuthenticationDetailsProvider(w.tenancy, user.id, apiKey.fingerprint, keyPair.privateKey, null, null);
  return { user, name, keyPair, apiKey, fingerprint: apiKey.fingerprint, ...clientsWith(w.srv, auth, w.tenancy) };
}

export async function createPolicy(w, name, statements, compartmentId = w.tenancy) {
  const r = await w.identity.createPolicy({
    createPolicyDetails: { compartmentId, name, description: `policy ${name}`, statements },
  });
  assertResp(r, "CreatePolicy");
  return r.policy;
}

export async function createDynamicGroup(w, name, matchingRule) {
  const r = await w.identity.createDynamicGroup({
    createDynamicGroupDetails: { compartmentId: w.tenancy, name, description: `dynamic group ${name}`, matchingRule },
  });
  return r.dynamicGroup;
}

/** Await an SDK call and describe its outcome: {status: 200|4xx, code, message, value}. */
export async function outcome(promise) {
  try {
    const value = await promise;
    return { status: 200, code: null, message: null, value };
  } catch (e) {
    if (typeof e?.statusCode !== "number") throw e;
    return { status: e.statusCode, code: e.serviceCode, message: e.message };
  }
}
