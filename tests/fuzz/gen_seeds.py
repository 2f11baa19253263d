#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpora of fuzz_httpsig, fuzz_base64, fuzz_json_body and
fuzz_api into tests/fuzz/corpus/<name>/ (fuzz_token's seeds come from the
target itself: FUZZ_TOKEN_WRITE_SEEDS=DIR build-fuzz/fuzz/fuzz_token -runs=0).

The seeds are committed; this script documents where they come from and
regenerates them: python3 tests/fuzz/gen_seeds.py.  The SDK's requests and
bodies are the ones captured in ../shared/spec/oci-wire.md section 2.7.
"""
import base64
import hashlib
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

KEYID = ("ocid1.tenancy.oc1..tenant/ocid1.user.oc1..user/"
         "63:c3:43:76:85:1b:82:25:24:f7:c5:83:54:56:ba:a3")
DATE = "Sun, 29 Nov 2026 01:27:50 GMT"
GET_SIG = ("s/pVqvQegaHwWFUAJc/ibqnwKt665l/FmRxUMyvLtg6Vwup0DchQesjKCDd/+4VEEp"
           "BzC+cjC9GGg+2cZA3kEqW/pykQBfSr+PGq5AsE8jF1seHt+TuMfSzwFLOHDH+BTv5sA"
           "eHS4txXlkk5vzltPWNuSwsxtLRCSx47+NlgBit/xRGlyJLs78ZLe6SocCsmI9pYf3rw"
           "MXnor9pop1rEKSCfkI3ca0Xjy7ttR2r62kfxTFGI2sJu/9LQg5i1IxJhXXWicdejRrV"
           "UPues2cxjJ4f1YIWSwzzCque4Jeu8tWDRFlHmFWIjuXPVhoRZ+QqmPHTAWYO2bcaC+n"
           "ggguI4Fg==")
POST_SIG = ("AsekUAK3VuAIEd4EFEUYL1pd9EXFwX0gMTHBvHcctBBeMRA//GwxOdHQrrEoXMD5d"
            "ff0ew7elBCjkmioAvIG5nIbThOcy7jhHs14oK8omzvndJ6gFufroAQoFouW+Gg2w1"
            "2+7rS/KACM4aqp/vU8zW2YAVcunILnOJQQH45yVo3f5pq1XdiX4bm8w1H6BfNWG0l"
            "xRs/a2+HrXUme4kqHbwjEOxx6wx6SVSoVukllBTKjXnoaA0gg03RkgdnDQpeT/z7O"
            "4FXMWsBwbNpG8ILWThk6Vp0d4tIfKhAApo/FVZdedMkVIUnQGeiX0mRLJqf2X6+7Z"
            "7mE/WMmLyiknE1CEw==")
CREATE_SECRET = (
    '{"compartmentId":"ocid1.compartment.oc1..comp","vaultId":"ocid1.vault.'
    'oc1..vvvv","keyId":"ocid1.key.oc1..kkkk","secretName":"db-pass","descri'
    'ption":"d","secretContent":{"contentType":"BASE64","content":"czNjcjN0",'
    '"name":"v1","stage":"CURRENT"},"secretRules":[{"ruleType":"SECRET_EXPIRY'
    '_RULE","secretVersionExpiryInterval":"P30D","isSecretContentRetrievalBlo'
    'ckedOnExpiry":true},{"ruleType":"SECRET_REUSE_RULE","isEnforcedOnDeleted'
    'SecretVersions":true}],"freeformTags":{"a":"b"},"definedTags":{"ns":{"k"'
    ':"v"}},"metadata":{"m":1}}')
assert len(CREATE_SECRET) == 527
UPDATE_SECRET = ('{"secretContent":{"contentType":"BASE64","content":"bjN3",'
                 '"stage":"CURRENT"},"description":"d2"}')
CREATE_KEY = ('{"compartmentId":"ocid1.compartment.oc1..comp","displayName":'
              '"k","keyShape":{"algorithm":"AES","length":32},"protectionMode"'
              ':"SOFTWARE"}')
ENCRYPT = ('{"keyId":"ocid1.key.oc1..kkkk","plaintext":"aGVsbG8=",'
           '"associatedData":{"app":"x"}}')
GET_HEADERS = "x-date (request-target) host"
BODY_HEADERS = ("x-date (request-target) host Content-Type Content-Length "
                "x-content-sha256")


def sha(body):
    return base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()


def auth(headers=GET_HEADERS, sig=GET_SIG, keyid=KEYID, extra="",
         order=None):
    parts = {
        "version": '"1"',
        "keyId": f'"{keyid}"',
        "algorithm": '"rsa-sha256"',
        "headers": f'"{headers}"',
        "signature": f'"{sig}"',
    }
    names = order or ["version", "keyId", "algorithm", "headers", "signature"]
    return "Signature " + ",".join(f"{n}={parts[n]}" for n in names) + extra


def request(method, target, headers, body=None):
    text = f"{method} {target}\n"
    for k, v in headers:
        text += f"{k}: {v}\n"
    if body is not None:
        text += "\n" + body
    return text


def write(name, seeds):
    d = os.path.join(CORPUS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for fname, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)


def httpsig_seeds():
    gt = ("/secretsvc/abc/20190301/secretbundles/ocid1.vaultsecret.oc1..ssss"
          "?versionNumber=2&stage=CURRENT")
    host = ("host", "127.0.0.1:38089")
    s = {}
    s["sdk_get_valid"] = request("GET", gt, [
        host, ("Content-Type", "application/json"),
        ("opc-request-id", "176D4400EB94-11F1-9A28-C1BD50834A98"),
        ("x-date", DATE), ("Date", DATE), ("authorization", auth())])
    s["sdk_post_valid"] = request("POST", "/vaultsvc/20180608/secrets", [
        host, ("x-date", DATE), ("content-type", "application/json"),
        ("content-length", "527"),
        ("x-content-sha256", sha(CREATE_SECRET)),
        ("authorization", auth(BODY_HEADERS, POST_SIG))], CREATE_SECRET)
    s["post_tampered_body"] = s["sdk_post_valid"].replace('"d"', '"e"')
    s["get_altered_query"] = s["sdk_get_valid"].replace("versionNumber=2",
                                                        "versionNumber=3")
    s["no_version_reordered"] = request("GET", gt, [
        host, ("x-date", DATE), ("authorization", auth(
            order=["signature", "headers", "algorithm", "keyId"]))])
    s["version_2"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", auth().replace('version="1"', 'version="2"'))])
    s["date_not_xdate"] = request("GET", gt, [host, ("date", DATE), (
        "authorization", auth("date (request-target) host"))])
    s["old_date"] = request("GET", gt, [host, (
        "x-date", "Sun, 29 Nov 2026 01:00:00 GMT"), ("authorization", auth())])
    s["future_date"] = request("GET", gt, [host, (
        "x-date", "Fri, 01 Jan 2100 00:00:00 GMT"), ("authorization", auth())])
    s["bad_date"] = request("GET", gt, [host, ("x-date", "yesterday"),
                                        ("authorization", auth())])
    s["dup_xdate"] = request("GET", gt, [host, ("x-date", DATE), (
        "x-date", DATE), ("authorization", auth())])
    s["missing_host"] = request("GET", gt, [("x-date", DATE), (
        "authorization", auth())])
    s["post_without_body_headers"] = request(
        "POST", "/vaultsvc/20180608/secrets",
        [host, ("x-date", DATE), ("authorization", auth())], CREATE_SECRET)
    s["put_update"] = request(
        "PUT", "/vaultsvc/20180608/secrets/ocid1.vaultsecret.oc1..ssss", [
            host, ("x-date", DATE), ("content-type", "application/json"),
            ("content-length", str(len(UPDATE_SECRET))),
            ("x-content-sha256", sha(UPDATE_SECRET)), ("if-match", "etag-5"),
            ("authorization", auth(BODY_HEADERS, POST_SIG))], UPDATE_SECRET)
    s["post_empty_body"] = request(
        "POST", "/20180608/keys/ocid1.key.oc1..k/actions/enable", [
            host, ("x-date", DATE), ("content-type", "application/json"),
            ("content-length", "0"),
            ("x-content-sha256",
             "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
            ("authorization", auth(BODY_HEADERS, POST_SIG))], "")
    s["session_token_keyid"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", auth(keyid="ST$eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0"
                              ".c2ln"))])
    s["legacy_target_chars"] = request(
        "GET", "/20180608/secrets?name=a{b}|c\\d^e`f&x=%C3%A9'", [
            host, ("x-date", DATE), ("authorization", auth())])
    s["obo_token"] = request("GET", gt, [host, ("x-date", DATE), (
        "opc-obo-token", "tok"), ("authorization", auth(
            "x-date (request-target) host opc-obo-token"))])
    s["sixteen_headers"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", auth(" ".join(["x-date", "(request-target)", "host"]
                                       + [f"h{i}" for i in range(14)])))])
    s["dup_param"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", auth() + ',keyId="x/y/z"')])
    s["unterminated"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", 'Signature keyId="abc')])
    s["not_signature_scheme"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", "Bearer Oracle")])
    s["ecdsa_alg"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", auth().replace("rsa-sha256", "ecdsa-sha256"))])
    s["bad_b64_signature"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", auth(sig="!!!not base64!!!"))])
    s["header_only_sdk"] = auth()
    s["header_only_post"] = auth(BODY_HEADERS, POST_SIG)
    s["long_header_name"] = request("GET", gt, [host, ("x-date", DATE), (
        "authorization", auth("x-date (request-target) host " + "a" * 70))])
    s["crlf_in_values"] = request("GET", gt, [
        host, ("x-date", DATE + "\r"), ("authorization", auth() + "\r")])
    return s


def base64_seeds():
    s = {}
    for i, raw in enumerate([b"", b"f", b"fo", b"foo", b"foob", b"fooba",
                             b"foobar", bytes(range(256)),
                             b"\xfb\xff\xfe", b"s3cr3t"]):
        s[f"std_{i:02d}"] = base64.b64encode(raw)
        s[f"url_{i:02d}"] = base64.urlsafe_b64encode(raw).rstrip(b"=")
    s["wrapped_lines"] = base64.encodebytes(bytes(range(120)))
    s["crlf"] = b"Zm9v\r\nYmFy"
    s["bad_padding"] = b"Zm9=v"
    s["pad_in_middle"] = b"Zg==Zg=="
    s["one_char"] = b"Z"
    s["non_canonical"] = b"Zh=="
    s["url_with_pad"] = b"Zm8="
    s["sha256"] = sha(CREATE_SECRET).encode()
    s["signature"] = GET_SIG.encode()
    return s


def json_seeds():
    s = {
        "create_secret": CREATE_SECRET,
        "update_secret": UPDATE_SECRET,
        "create_key": CREATE_KEY,
        "encrypt": ENCRYPT,
        "empty": "",
        "empty_object": "{}",
        "whitespace": " \r\n\t ",
        "dup_keys": '{"a":1,"a":2}',
        "deep": "{" + '"a":{' * 20 + "}" * 21,
        "deep_arrays": '{"a":' + "[" * 17 + "]" * 17 + "}",
        "long_array": '{"a":[' + ",".join("1" for _ in range(1001)) + "]}",
        "many_members": "{" + ",".join(f'"k{i}":{i}' for i in range(1001)) +
                        "}",
        "big_int": '{"n":123456789012345678901234567890}',
        "int_edges": '{"a":9223372036854775807,"b":-9223372036854775808,'
                     '"c":1e309,"d":-0.0,"e":1.5e-400}',
        "nul_escape": '{"a":"x\\u0000y"}',
        "surrogates": '{"a":"\\ud800","b":"\\udc00\\ud800","c":'
                      '"\\ud83d\\ude00"}',
        "top_array": "[1,2]",
        "top_string": '"x"',
        "trailing": '{"a":1} x',
        "brackets_in_strings": '{"a":"[[[[[[[[[[[[[[[[[[[[{{{{{{{{"}',
        "policy": '{"compartmentId":"ocid1.tenancy.oc1..t","name":"p",'
                  '"description":"d","statements":["Allow group G to read '
                  'secret-family in tenancy"]}',
    }
    s = {k: v.encode() for k, v in s.items()}
    s["invalid_utf8"] = b'{"a":"\xff\xfe","\xc3\x28":1}'
    s["overlong_utf8"] = b'{"a":"\xc0\xaf"}'
    s["raw_nul"] = b'{"a":"x\x00y"}'
    return s


def api_seeds():
    """Requests in fuzz_api's format: a mode byte ('S' signed, other raw)
    then the request text with {X} placeholders for the set-up's OCIDs."""
    def S(method, target, body=None, headers=()):
        return "S" + request(method, target, list(headers), body)

    def R(method, target, headers=(), body=None):
        return "R" + request(method, target, list(headers), body)

    b64 = base64.b64encode(b"hello").decode()
    s = {
        # SecretsClient
        "get_bundle": S("GET", "/20190301/secretbundles/{S}"),
        "get_bundle_version": S(
            "GET", "/20190301/secretbundles/{S}?versionNumber=1&stage=LATEST"),
        "get_bundle_by_name": S(
            "POST", "/20190301/secretbundles/actions/getByName"
            "?secretName=fz-secret&vaultId={V}", ""),
        "list_bundle_versions": S(
            "GET", "/20190301/secretbundles/{S}/versions?limit=1&sortOrder="
            "DESC"),
        # VaultsClient
        "create_secret": S("POST", "/20180608/secrets", (
            '{"compartmentId":"{T}","vaultId":"{V}","keyId":"{K}",'
            '"secretName":"new-secret","description":"d","secretContent":'
            '{"contentType":"BASE64","content":"czNjcjN0","name":"v1",'
            '"stage":"CURRENT"},"secretRules":[{"ruleType":"SECRET_EXPIRY_RULE'
            '","secretVersionExpiryInterval":"P30D","isSecretContentRetrieval'
            'BlockedOnExpiry":true},{"ruleType":"SECRET_REUSE_RULE",'
            '"isEnforcedOnDeletedSecretVersions":true}],"freeformTags":'
            '{"a":"b"},"definedTags":{"ns":{"k":"v"}},"metadata":{"m":1}}'),
            [("opc-retry-token", "177b9be0-eb94-11f1-9a28-c1bd50834a98")]),
        "create_secret_generated": S("POST", "/20180608/secrets", (
            '{"compartmentId":"{T}","vaultId":"{V}","keyId":"{K}",'
            '"secretName":"gen","enableAutoGeneration":true,'
            '"secretGenerationContext":{"generationType":"PASSPHRASE",'
            '"generationTemplate":"SECRETS_DEFAULT_PASSWORD",'
            '"passphraseLength":24},"rotationConfig":{"rotationInterval":'
            '"P30D","isScheduledRotationEnabled":true}}')),
        "list_secrets": S(
            "GET", "/20180608/secrets?compartmentId={T}&name=fz-secret&"
            "lifecycleState=ACTIVE&sortBy=NAME&sortOrder=ASC&limit=10&vaultId="
            "{V}"),
        "list_secrets_sqlish": S(
            "GET", "/20180608/secrets?compartmentId={T}'%20OR%201=1--&name="
            "x'%3B%20DROP%20TABLE%20objects--&sortBy=NAME;"),
        "get_secret": S("GET", "/20180608/secrets/{S}"),
        "update_secret": S("PUT", "/20180608/secrets/{S}", UPDATE_SECRET,
                           [("if-match", "etag-5")]),
        "update_secret_promote": S("PUT", "/20180608/secrets/{S}",
                                   '{"currentVersionNumber":1}'),
        "schedule_secret_deletion": S(
            "POST", "/20180608/secrets/{S}/actions/scheduleDeletion",
            '{"timeOfDeletion":"2030-01-02T03:04:05.000Z"}'),
        "cancel_secret_deletion": S(
            "POST", "/20180608/secrets/{S}/actions/cancelDeletion", ""),
        "list_versions": S("GET", "/20180608/secrets/{S}/versions?limit=1&"
                           "page=v.1"),
        "get_version": S("GET", "/20180608/secrets/{S}/version/1"),
        "schedule_version_deletion": S(
            "POST", "/20180608/secrets/{S}/version/1/actions/scheduleDeletion",
            "{}"),
        "rotate": S("POST", "/20180608/secrets/{S}/actions/rotate", ""),
        # KmsVaultClient
        "create_vault": S("POST", "/20180608/vaults",
                          '{"compartmentId":"{T}","displayName":"v2",'
                          '"vaultType":"DEFAULT"}'),
        "list_vaults": S("GET", "/20180608/vaults?compartmentId={T}&sortBy="
                         "DISPLAYNAME&page=n.djI.ocid1.vault.oc1..x"),
        "get_vault_usage": S("GET", "/20180608/vaults/{V}/usage"),
        "update_vault": S("PUT", "/20180608/vaults/{V}",
                          '{"displayName":"renamed","freeformTags":{"x":"y"}}'),
        "schedule_vault_deletion": S(
            "POST", "/20180608/vaults/{V}/actions/scheduleDeletion", ""),
        # KmsManagementClient
        "create_key": S("POST", "{ME}/20180608/keys",
                        CREATE_KEY.replace("ocid1.compartment.oc1..comp",
                                           "{T}")),
        "create_key_ecdsa": S(
            "POST", "{ME}/20180608/keys",
            '{"compartmentId":"{T}","displayName":"e","keyShape":{"algorithm"'
            ':"ECDSA","length":32,"curveId":"NIST_P256"},"protectionMode":'
            '"SOFTWARE"}'),
        "list_keys": S("GET", "{ME}/20180608/keys?compartmentId={T}&algorithm"
                       "=AES&length=32&protectionMode=SOFTWARE"),
        "get_key": S("GET", "{ME}/20180608/keys/{K}"),
        "update_key": S("PUT", "{ME}/20180608/keys/{K}",
                        '{"displayName":"k2","isAutoRotationEnabled":false}'),
        "disable_key": S("POST", "{ME}/20180608/keys/{K}/actions/disable", ""),
        "schedule_key_deletion": S(
            "POST", "{ME}/20180608/keys/{K}/actions/scheduleDeletion",
            '{"timeOfDeletion":"2031-01-01T00:00:00Z"}'),
        "create_key_version": S("POST", "{ME}/20180608/keys/{K}/keyVersions",
                                ""),
        "list_key_versions": S("GET", "{ME}/20180608/keys/{K}/keyVersions"),
        "get_key_version": S("GET", "{ME}/20180608/keys/{K}/keyVersions/{KV}"),
        # KmsCryptoClient
        "encrypt": S("POST", "{CE}/20180608/encrypt",
                     ENCRYPT.replace("ocid1.key.oc1..kkkk", "{K}")),
        "decrypt_garbage": S("POST", "{CE}/20180608/decrypt",
                             '{"keyId":"{K}","ciphertext":"AAAAAAAAAAAAAAAA'
                             'AAAAAAAAAAAAAAAAAAAAAAAAAAAA","associatedData":'
                             '{"app":"x"}}'),
        "generate_dek": S("POST", "{CE}/20180608/generateDataEncryptionKey",
                          '{"keyId":"{K}","keyShape":{"algorithm":"AES",'
                          '"length":32},"includePlaintextKey":true}'),
        "sign": S("POST", "{CE}/20180608/sign",
                  '{"keyId":"{R}","message":"' + b64 + '","signingAlgorithm":'
                  '"SHA_256_RSA_PKCS_PSS","messageType":"RAW"}'),
        "verify": S("POST", "{CE}/20180608/verify",
                    '{"keyId":"{R}","keyVersionId":"{RV}","message":"' + b64 +
                    '","signature":"' + b64 + '","signingAlgorithm":'
                    '"SHA_256_RSA_PKCS1_V1_5"}'),
        # IdentityClient
        "get_tenancy": S("GET", "/20160918/tenancies/{T}"),
        "create_compartment": S("POST", "/20160918/compartments",
                                '{"compartmentId":"{C}","name":"child",'
                                '"description":"d"}'),
        "list_compartments": S(
            "GET", "/20160918/compartments?compartmentId={T}&accessLevel=ANY&"
            "compartmentIdInSubtree=true&lifecycleState=ACTIVE"),
        "update_user": S("PUT", "/20160918/users/{U}",
                         '{"description":"x","email":"a@b.c"}'),
        "delete_group": S("DELETE", "/20160918/groups/{G}"),
        "list_memberships": S("GET", "/20160918/userGroupMemberships?"
                              "compartmentId={T}&userId={U}"),
        "remove_membership": S("DELETE", "/20160918/userGroupMemberships/{M}"),
        "create_policy": S("POST", "/20160918/policies",
                           '{"compartmentId":"{T}","name":"p2","description":'
                           '"d","statements":["Allow group fzg to use keys in '
                           'compartment fzc where target.key.id = \'{K}\'",'
                           '"Allow any-user to read secret-bundles in tenancy '
                           'where request.principal.type = \'fnfunc\'"]}'),
        "update_policy": S("PUT", "/20160918/policies/{P}",
                           '{"statements":["Allow group fzg to manage vaults '
                           'in tenancy"]}'),
        "create_dynamic_group": S(
            "POST", "/20160918/dynamicGroups",
            '{"compartmentId":"{T}","name":"dg2","description":"d",'
            '"matchingRule":"ANY {resource.type = \'fnfunc\', tag.ops.env.value'
            ' = \'prod\'}"}'),
        "list_api_keys": S("GET", "/20160918/users/{U}/apiKeys"),
        "delete_api_key": S("DELETE", "/20160918/users/{U}/apiKeys/{FP}"),
        # tresor's own
        "simulate": S("POST", "/tresor/v1/actions/simulatePolicy",
                      '{"principal":{"userId":"{U}"},"operation":'
                      '"GetSecretBundle","target":{"secretId":"{S}"}}'),
        "lint": S("POST", "/tresor/v1/actions/lintPolicy",
                  '{"statements":["Allow group X to manage all-resources in '
                  'tenancy","Allow group X to read secrets in tenancy"]}'),
        "list_workloads": S("GET", "/tresor/v1/workloads?compartmentId={T}"),
        "delete_workload": S("DELETE", "/tresor/v1/workloads/{W}"),
        "settings": S("PUT", "/tresor/v1/settings",
                      '{"secretReadsRequireKeyUse":false}'),
        "usage": S("GET", "/tresor/v1/usage"),
        # raw: unauthenticated
        "raw_health": R("GET", "/health"),
        "raw_unsigned_get": R("GET", "/20190301/secretbundles/{S}",
                              [("host", "127.0.0.1:8200")]),
        "raw_bad_signature": R("GET", "/20180608/secrets/{S}", [
            ("host", "127.0.0.1:8200"), ("x-date", DATE),
            ("authorization", auth(keyid="{T}/{U}/{FP}"))]),
        "raw_imds": R("GET", "/tresor/v1/imds/nope/opc/v2/identity/cert.pem"),
        "raw_x509": R("POST", "/auth/v1/x509", [
            ("content-type", "application/json")],
            '{"certificate":"AAAA","publicKey":"AAAA","purpose":"DEFAULT",'
            '"intermediateCertificates":[]}'),
        "raw_double_slash": R("GET", "//20180608//vaults?compartmentId={T}"),
        "raw_dotdot": R("GET", "/20180608/secrets/..%2F..%2Fetc%2Fpasswd"),
        "raw_crlf_request_id": R("GET", "/health", [
            ("opc-request-id", "abc\r\nSet-Cookie: x=y")]),
        "raw_bad_method": R("BREW", "/20180608/vaults"),
    }
    return s


if __name__ == "__main__":
    write("httpsig", httpsig_seeds())
    write("base64", base64_seeds())
    write("json_body", json_seeds())
    write("api", api_seeds())
    for n in ("httpsig", "base64", "json_body", "api"):
        print(n, len(os.listdir(os.path.join(CORPUS, n))))
