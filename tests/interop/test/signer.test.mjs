// Self-test of lib/sign.mjs against the verification vector of spec oci-wire.md 2.7
// (requests logged from the real SDK 2.139.1). Needs no server.

import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";

import { BODY_HEADERS, EMPTY_SHA256, GET_HEADERS, authorizationHeader, sha256b64, signedHeaders, signingString, fingerprintOf } from "../lib/sign.mjs";

const PUB = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0qwZYqiwrIG08EVyhwqA
gYAx9fNAy3Egrn5l9v3o2sJqfX7uYQ1vFI6PBHfy42Pecb22YPz98tqOFQ+FfSaY
D3vRaRtcgnrN0heLlAZLAZ1fXCxp3qL6IsrcO5H/FPSOaxAW/1Iy08pHxQuS2T5J
lYAIRf1ZFG8ld5EN+wzqUljSCX89N61jEmd7TcRgIph2UmnR4hs/8fnBl9jf7+BS
02LD+5a3gebzNUaMKbFR058gvQPrEwKbOHW0ojDF0+YOXrEMQDFs4DJBgovhh455
vwKakTG+1DIVMt8/Fe9iS6FsrrCTQ2ntWytkGhfR5pebPIMPF+GxVbqhY7TIGQ72
ZQIDAQAB
-----END PUBLIC KEY-----
`;
const KEY_ID = "ocid1.tenancy.oc1..tenant/ocid1.user.oc1..user/63:c3:43:76:85:1b:82:25:24:f7:c5:83:54:56:ba:a3";
const GET_SIG = "s/pVqvQegaHwWFUAJc/ibqnwKt665l/FmRxUMyvLtg6Vwup0DchQesjKCDd/+4VEEpBzC+cjC9GGg+2cZA3kEqW/pykQBfSr+PGq5AsE8jF1seHt+TuMfSzwFLOHDH+BTv5sAeHS4txXlkk5vzltPWNuSwsxtLRCSx47+NlgBit/xRGlyJLs78ZLe6SocCsmI9pYf3rwMXnor9pop1rEKSCfkI3ca0Xjy7ttR2r62kfxTFGI2sJu/9LQg5i1IxJhXXWicdejRrVUPues2cxjJ4f1YIWSwzzCque4Jeu8tWDRFlHmFWIjuXPVhoRZ+QqmPHTAWYO2bcaC+nggguI4Fg==";
const POST_SIG = "AsekUAK3VuAIEd4EFEUYL1pd9EXFwX0gMTHBvHcctBBeMRA//GwxOdHQrrEoXMD5dff0ew7elBCjkmioAvIG5nIbThOcy7jhHs14oK8omzvndJ6gFufroAQoFouW+Gg2w12+7rS/KACM4aqp/vU8zW2YAVcunILnOJQQH45yVo3f5pq1XdiX4bm8w1H6BfNWG0lxRs/a2+HrXUme4kqHbwjEOxx6wx6SVSoVukllBTKjXnoaA0gg03RkgdnDQpeT/z7O4FXMWsBwbNpG8ILWThk6Vp0d4tIfKhAApo/FVZdedMkVIUnQGeiX0mRLJqf2X6+7Z7mE/WMmLyiknE1CEw==";
const POST_BODY = '{"compartmentId":"ocid1.compartment.oc1..comp","vaultId":"ocid1.vault.oc1..vvvv","keyId":"ocid1.key.oc1..kkkk","secretName":"db-pass","description":"d","secretContent":{"contentType":"BASE64","content":"czNjcjN0","name":"v1","stage":"CURRENT"},"secretRules":[{"ruleType":"SECRET_EXPIRY_RULE","secretVersionExpiryInterval":"P30D","isSecretContentRetrievalBlockedOnExpiry":true},{"ruleType":"SECRET_REUSE_RULE","isEnforcedOnDeletedSecretVersions":true}],"freeformTags":{"a":"b"},"definedTags":{"ns":{"k":"v"}},"metadata":{"m":1}}';
const DATE = "Sun, 29 Nov 2026 01:27:50 GMT";
const HOST = "127.0.0.1:38089";

test("signer: GET signing string matches the SDK's (spec 2.7 vector verifies)", () => {
  const ss = signingString(GET_HEADERS, {
    method: "GET",
    target: "/secretsvc/abc/20190301/secretbundles/ocid1.vaultsecret.oc1..ssss?versionNumber=2&stage=CURRENT",
    headers: { "x-date": DATE, host: HOST },
  });
  assert.equal(
    ss,
    "x-date: Sun, 29 Nov 2026 01:27:50 GMT\n" +
      "(request-target): get /secretsvc/abc/20190301/secretbundles/ocid1.vaultsecret.oc1..ssss?versionNumber=2&stage=CURRENT\n" +
      "host: 127.0.0.1:38089",
  );
  assert.ok(crypto.verify("sha256", Buffer.from(ss), PUB, Buffer.from(GET_SIG, "base64")));
});

test("signer: POST signing string and body hash match the SDK's (spec 2.7 vector verifies)", () => {
  assert.equal(Buffer.byteLength(POST_BODY), 527);
  assert.equal(sha256b64(POST_BODY), "XM03fbkhd3k2oOIG/8IdD994EXGTcj4LENJ0pV3Pf6Y=");
  const ss = signingString(BODY_HEADERS, {
    method: "POST",
    target: "/vaultsvc/20180608/secrets",
    headers: {
      "x-date": DATE,
      host: HOST,
      "content-type": "application/json",
      "content-length": "527",
      "x-content-sha256": sha256b64(POST_BODY),
    },
  });
  assert.ok(crypto.verify("sha256", Buffer.from(ss), PUB, Buffer.from(POST_SIG, "base64")));
});

test("signer: empty-body hash and Authorization header layout", () => {
  assert.equal(sha256b64(""), EMPTY_SHA256);
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" });
  const { headers, signingString: ss } = signedHeaders({
    method: "POST",
    host: HOST,
    target: "/20180608/encrypt",
    body: '{"a":1}',
    keyId: KEY_ID,
    privateKeyPem: pem,
    date: new Date(Date.UTC(2026, 10, 29, 1, 27, 50)),
  });
  assert.equal(headers["x-date"], DATE);
  assert.equal(headers["Content-Length"], "7");
  assert.match(
    headers.authorization,
    /^Signature version="1",keyId="[^"]+",algorithm="rsa-sha256",headers="x-date \(request-target\) host Content-Type Content-Length x-content-sha256",signature="[A-Za-z0-9+/]{342}=="$/,
  );
  const sig = /signature="([^"]+)"/.exec(headers.authorization)[1];
  assert.ok(crypto.verify("sha256", Buffer.from(ss), publicKey, Buffer.from(sig, "base64")));
  assert.equal(authorizationHeader({ keyId: "k", names: ["host"], signature: "s", version: null }), 'Signature keyId="k",algorithm="rsa-sha256",headers="host",signature="s"');
  assert.match(fingerprintOf(pem), /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
});
