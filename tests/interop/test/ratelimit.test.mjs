// Issue 7, rate limits: `tresord serve --rate-limit 2 --rate-burst 3` (a token bucket per
// principal) answers 429 TooManyRequests with Retry-After once the bucket is empty; other
// principals are not affected; the SDK with its default retries (and its REAL back-off in
// this file: 1, 2, 4... s plus jitter) backs off and succeeds.
import "../lib/real-backoff.mjs"; // must stay the first import

import { after, before, test } from "node:test";

import { createUser } from "../lib/iam.mjs";
import { sdkRetries, sleep } from "../lib/server.mjs";
import { loadCredentials, signedRequest } from "../lib/sign.mjs";
import { NO_RETRY, assert, expectOciError, startWorld, stopWorld } from "../lib/world.mjs";

let w, creds, other;
const RATE = 2;
const BURST = 3;

before(async () => {
  w = await startWorld("ratelimit", { serveArgs: ["--rate-limit", String(RATE), "--rate-burst", String(BURST)] });
  creds = loadCredentials(w.srv.configPath);
  // Two admin calls make a second user with a key of its own (its bucket is its own).
  other = await createUser(w, "other");
});

after(async () => {
  await stopWorld(w);
});

const list = () => signedRequest(w.srv.port, { method: "GET", target: `/20180608/vaults?compartmentId=${encodeURIComponent(creds.tenancy)}`, creds });

/** Wait until the admin's bucket is full again (the bucket refills in real time; no test clock). */
async function refill() {
  await sleep(Math.ceil((BURST / RATE) * 1000) + 100);
}

/** Spend the admin's bucket: request until one is refused (429); returns that answer. */
async function drain() {
  for (let i = 0; i < BURST + 10; i++) {
    const r = await list();
    if (r.status === 429) return r;
    assert.equal(r.status, 200, r.text);
  }
  assert.fail("never limited");
}

test("a burst: BURST concurrent requests pass, the rest get 429 TooManyRequests with Retry-After and the OCI envelope", async () => {
  await refill();
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: BURST + 5 }, () => list()));
  const elapsed = (Date.now() - t0) / 1000;
  const statuses = rs.map((r) => r.status);
  const ok = statuses.filter((x) => x === 200).length;
  // A full bucket holds BURST tokens; while the burst is in flight it refills at RATE/s.
  assert.ok(ok >= BURST && ok <= BURST + Math.ceil(elapsed * RATE), `${ok} passed in ${elapsed} s: ${statuses}`);
  assert.deepEqual([...new Set(statuses)].sort(), [200, 429], `only 200 and 429: ${statuses}`);
  const limited = rs.find((r) => r.status === 429);
  assert.equal(limited.json?.code, "TooManyRequests", limited.text);
  assert.ok(limited.json?.message, "message");
  assert.ok(limited.headers["opc-request-id"], "opc-request-id on a 429");
  const ra = limited.headers["retry-after"];
  assert.match(String(ra), /^\d+$/, `Retry-After in seconds: ${ra}`);
  assert.ok(Number(ra) >= 1 && Number(ra) <= 5, `Retry-After ${ra} for a rate of ${RATE}/s`);
});

test("the limit is per principal: while the admin is limited, another user is served", async () => {
  await drain();
  const o = await other.kmsVault.listVaults({ compartmentId: w.tenancy, retryConfiguration: NO_RETRY }).then(
    () => 200,
    (e) => e.statusCode,
  );
  assert.notEqual(o, 429, "another principal is not limited by the admin's bucket");
  assert.equal(o, 404, "(the other user has no grants: 404, which proves it was authenticated and authorised, not throttled)");
});

test("the SDK without retries surfaces the 429 as OciError TooManyRequests", async () => {
  await drain();
  await expectOciError(w.kmsVault.listVaults({ compartmentId: w.tenancy, retryConfiguration: NO_RETRY }), {
    status: 429,
    code: "TooManyRequests",
    what: "ListVaults with an empty bucket",
  });
});

test("the SDK with its default retries backs off and succeeds (ListSecrets retries by default): 6 concurrent calls all succeed", async () => {
  await drain();
  const before = sdkRetries.length;
  const t0 = Date.now();
  const results = await Promise.all(
    Array.from({ length: 6 }, () => w.vaults.listSecrets({ compartmentId: w.tenancy }).then(() => "ok", (e) => `${e.statusCode} ${e.serviceCode}`)),
  );
  const ms = Date.now() - t0;
  assert.deepEqual(results, Array(6).fill("ok"), `after ${ms} ms`);
  const retries = sdkRetries.slice(before);
  assert.ok(retries.length >= 1, "the bucket was empty: the SDK must have retried");
  assert.ok(retries.every((r) => /rate limit exceeded|TooManyRequests|429/.test(r)), `only 429s were retried: ${retries.join("\n")}`);
  assert.ok(ms < 60000, `took ${ms} ms`);
});
