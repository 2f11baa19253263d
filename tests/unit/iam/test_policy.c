/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Table-driven tests of the authorisation decision: a policy, a caller
 * and an operation on an object of the fixture (fixture.h) -> allowed or
 * denied, and the first missing permission.  Covers every case of spec
 * oci-iam.md section 10, then the grammar, verb and compartment
 * inheritance, conditions and patterns, dynamic groups, any-user /
 * any-group, the key permissions of secret operations and variables
 * that do not apply.  Also: the simulator trace, suggestions, reference
 * counting, fault injection and concurrent readers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "iam/iam.h"
#include "tresor/errors.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"

#define ALLOW true
#define DENY false

struct pcase {
	const char *name;
	const char *stmts[6];
	const char *attach;	/* NULL: the tenancy */
	const char *who;
	const char *op;
	const char *obj;
	unsigned flags;
	long long now;		/* 0: FX_NOW (a Monday, 10:30Z) */
	bool allow;
	const char *missing;	/* expected first missing permission */
};

#define RSF_A "Allow group Readers to read secret-family in compartment A"
#define UK_A "Allow group Readers to use keys in compartment A"

static const struct pcase cases[] = {
	/* ---- spec section 10 ---- */
	{ "s10.1 read secret-family, setting off: bundle allowed",
	  { RSF_A }, NULL, "alice", "GetSecretBundle", "S", 0, 0, ALLOW,
	  NULL },
	{ "s10.1 read secret-family, setting on: KEY_DECRYPT missing",
	  { RSF_A }, NULL, "alice", "GetSecretBundle", "S", FX_KEYUSE_ON, 0,
	  DENY, "KEY_DECRYPT" },
	{ "s10.2 + use keys, setting off", { RSF_A, UK_A }, NULL, "alice",
	  "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.2 + use keys, setting on", { RSF_A, UK_A }, NULL, "alice",
	  "GetSecretBundle", "S", FX_KEYUSE_ON, 0, ALLOW, NULL },
	{ "s10.2 use keys gives Decrypt", { RSF_A, UK_A }, NULL, "alice",
	  "Decrypt", "K", 0, 0, ALLOW, NULL },
	{ "s10.2 use keys does not give CreateKeyVersion", { RSF_A, UK_A },
	  NULL, "alice", "CreateKeyVersion", "K", 0, 0, DENY, "KEY_ROTATE" },
	{ "s10.3 read secrets gives GetSecret",
	  { "Allow group Readers to read secrets in compartment A" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "s10.3 read secrets is not secret-bundles",
	  { "Allow group Readers to read secrets in compartment A" }, NULL,
	  "alice", "GetSecretBundle", "S", 0, 0, DENY, "SECRET_BUNDLE_READ" },
	{ "s10.4 inspect secrets lists",
	  { "Allow group Readers to inspect secrets in compartment A" }, NULL,
	  "alice", "ListSecrets", "B", 0, 0, ALLOW, NULL },
	{ "s10.4 inspect secrets does not read",
	  { "Allow group Readers to inspect secrets in compartment A" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "s10.5 no sideways inheritance",
	  { "Allow group Readers to read secret-family in compartment C" },
	  NULL, "alice", "GetSecretBundle", "S", 0, 0, DENY,
	  "SECRET_BUNDLE_READ" },
	{ "s10.6 pattern /db-*/ matches db-password",
	  { RSF_A " where target.secret.name = /db-*/" }, NULL, "alice",
	  "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.6 pattern /db-*/ does not match api-token",
	  { RSF_A " where target.secret.name = /db-*/" }, NULL, "alice",
	  "GetSecretBundle", "S2", 0, 0, DENY, "SECRET_BUNDLE_READ" },
	{ "s10.6 ListSecrets: target.secret.name does not apply",
	  { RSF_A " where target.secret.name = /db-*/" }, NULL, "alice",
	  "ListSecrets", "B", 0, 0, DENY, "SECRET_INSPECT" },
	{ "s10.7 quoted 'db-*' is literal",
	  { RSF_A " where target.secret.name = 'db-*'" }, NULL, "alice",
	  "GetSecretBundle", "S", 0, 0, DENY, "SECRET_BUNDLE_READ" },
	{ "s10.7 quoted 'db-*' matches a secret named db-*",
	  { RSF_A " where target.secret.name = 'db-*'" }, NULL, "alice",
	  "GetSecretBundle", "S3", 0, 0, ALLOW, NULL },
	{ "s10.8 values compare case-insensitively",
	  { RSF_A " where target.secret.name = 'DB-PASSWORD'" }, NULL,
	  "alice", "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.9 != on a variable that does not apply is false",
	  { RSF_A " where target.secret.name != 'api-token'" }, NULL, "alice",
	  "ListSecrets", "B", 0, 0, DENY, "SECRET_INSPECT" },
	{ "s10.9 != allows another secret",
	  { RSF_A " where target.secret.name != 'api-token'" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "s10.9 != excludes api-token",
	  { RSF_A " where target.secret.name != 'api-token'" }, NULL, "alice",
	  "GetSecret", "S2", 0, 0, DENY, "SECRET_READ" },
	{ "s10.10 all-resources minus a permission: GetSecret",
	  { "Allow group Readers to read all-resources in compartment A "
	    "where request.permission != 'SECRET_BUNDLE_READ'" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "s10.10 all-resources minus a permission: GetKey",
	  { "Allow group Readers to read all-resources in compartment A "
	    "where request.permission != 'SECRET_BUNDLE_READ'" }, NULL,
	  "alice", "GetKey", "K", 0, 0, ALLOW, NULL },
	{ "s10.10 all-resources minus a permission: bundle denied",
	  { "Allow group Readers to read all-resources in compartment A "
	    "where request.permission != 'SECRET_BUNDLE_READ'" }, NULL,
	  "alice", "GetSecretBundle", "S", 0, 0, DENY, "SECRET_BUNDLE_READ" },
	{ "s10.11 permission list: bundle",
	  { "Allow group Readers to {SECRET_BUNDLE_READ} in compartment A" },
	  NULL, "alice", "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.11 permission list: not GetSecret",
	  { "Allow group Readers to {SECRET_BUNDLE_READ} in compartment A" },
	  NULL, "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "s10.11 permission list: not ListSecrets",
	  { "Allow group Readers to {SECRET_BUNDLE_READ} in compartment A" },
	  NULL, "alice", "ListSecrets", "B", 0, 0, DENY, "SECRET_INSPECT" },
	{ "s10.12 CreateSecret without a key grant",
	  { "Allow group Writers to manage secret-family in compartment A",
	    "Allow group Writers to use vaults in compartment A" }, NULL,
	  "bob", "CreateSecret", "new@B", 0, 0, DENY, "KEY_ENCRYPT" },
	{ "s10.12 CreateSecret with the key grant on K",
	  { "Allow group Writers to manage secret-family in compartment A",
	    "Allow group Writers to use vaults in compartment A",
	    "Allow group Writers to use keys in compartment A where "
	    "target.key.id = '" FX_K "'" }, NULL, "bob", "CreateSecret",
	  "new@B", 0, 0, ALLOW, NULL },
	{ "s10.12 CreateSecret with the key grant scoped to K2",
	  { "Allow group Writers to manage secret-family in compartment A",
	    "Allow group Writers to use vaults in compartment A",
	    "Allow group Writers to use keys in compartment A where "
	    "target.key.id = '" FX_K2 "'" }, NULL, "bob", "CreateSecret",
	  "new@B", 0, 0, DENY, "KEY_ENCRYPT" },
	{ "s10.13 CreateSecret without use vaults",
	  { "Allow group Writers to manage secret-family in compartment A",
	    "Allow group Writers to use keys in compartment A" }, NULL, "bob",
	  "CreateSecret", "new@B", 0, 0, DENY, "VAULT_CREATE_SECRET" },
	{ "s10.14 use secret-family: UpdateSecret with content (off)",
	  { "Allow group Writers to use secret-family in compartment A" },
	  NULL, "bob", "UpdateSecret", "S", FX_NEW_CONTENT, 0, ALLOW, NULL },
	{ "s10.14 use secret-family: no CreateSecret",
	  { "Allow group Writers to use secret-family in compartment A" },
	  NULL, "bob", "CreateSecret", "new@B", 0, 0, DENY, "SECRET_CREATE" },
	{ "s10.14 use secret-family: no ScheduleSecretDeletion",
	  { "Allow group Writers to use secret-family in compartment A" },
	  NULL, "bob", "ScheduleSecretDeletion", "S", 0, 0, DENY,
	  "SECRET_DELETE" },
	{ "s10.14 setting on: new content needs KEY_ENCRYPT",
	  { "Allow group Writers to use secret-family in compartment A" },
	  NULL, "bob", "UpdateSecret", "S", FX_NEW_CONTENT | FX_KEYUSE_ON, 0,
	  DENY, "KEY_ENCRYPT" },
	{ "s10.14 setting on: metadata update needs no key",
	  { "Allow group Writers to use secret-family in compartment A" },
	  NULL, "bob", "UpdateSecret", "S", FX_KEYUSE_ON, 0, ALLOW, NULL },
	{ "s10.15 any-user narrowed to fnfunc: F",
	  { "Allow any-user to read secret-bundles in compartment A where "
	    "request.principal.type = 'fnfunc'" }, NULL, "F",
	  "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.15 any-user narrowed to fnfunc: alice",
	  { "Allow any-user to read secret-bundles in compartment A where "
	    "request.principal.type = 'fnfunc'" }, NULL, "alice",
	  "GetSecretBundle", "S", 0, 0, DENY, "SECRET_BUNDLE_READ" },
	{ "s10.16 any-user: carol in no group",
	  { "Allow any-user to read secret-bundles in compartment A" }, NULL,
	  "carol", "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.16 any-user: function F",
	  { "Allow any-user to read secret-bundles in compartment A" }, NULL,
	  "F", "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.16 any-user: instance I",
	  { "Allow any-user to read secret-bundles in compartment A" }, NULL,
	  "I", "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.17 dynamic group FnA: F in A",
	  { "Allow dynamic-group FnA to read secret-bundles in compartment "
	    "A" }, NULL, "F", "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.17 dynamic group FnA: F2 in B (exact compartment)",
	  { "Allow dynamic-group FnA to read secret-bundles in compartment "
	    "A" }, NULL, "F2", "GetSecretBundle", "S", 0, 0, DENY,
	  "SECRET_BUNDLE_READ" },
	{ "s10.17 dynamic group FnA: instance I",
	  { "Allow dynamic-group FnA to read secret-bundles in compartment "
	    "A" }, NULL, "I", "GetSecretBundle", "S", 0, 0, DENY,
	  "SECRET_BUNDLE_READ" },
	{ "s10.18 dynamic group Prod by tag: I",
	  { "Allow dynamic-group Prod to read secret-bundles in compartment "
	    "A" }, NULL, "I", "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "s10.18 dynamic group Prod: tag removed",
	  { "Allow dynamic-group Prod to read secret-bundles in compartment "
	    "A" }, NULL, "I", "GetSecretBundle", "S", FX_NO_TAG, 0, DENY,
	  "SECRET_BUNDLE_READ" },
	{ "s10.20 alice removed from Readers", { RSF_A }, NULL, "alice",
	  "GetSecretBundle", "S", FX_NO_ALICE, 0, DENY, "SECRET_BUNDLE_READ" },
	{ "s10.20 expired time window",
	  { RSF_A " where request.utc-timestamp before '2020-01-01T00:00Z'" },
	  NULL, "alice", "GetSecretBundle", "S", 0, 0, DENY,
	  "SECRET_BUNDLE_READ" },

	/* ---- grammar ---- */
	{ "keywords and names are case-insensitive",
	  { "ALLOW GROUP readers TO READ SECRET-FAMILY IN COMPARTMENT a" },
	  NULL, "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "blanks and newlines are insignificant",
	  { "  allow\tgroup\nReaders\n  to read\r\n secret-family in\n"
	    "compartment   A  " }, NULL, "alice", "GetSecret", "S", 0, 0,
	  ALLOW, NULL },
	{ "group by OCID",
	  { "Allow group id " FX_READERS " to read secrets in tenancy" },
	  NULL, "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "several groups",
	  { "Allow group Writers, Readers to read secrets in tenancy" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "several groups without a space",
	  { "Allow group Writers,Readers to read secrets in tenancy" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "several groups by OCID",
	  { "Allow group id " FX_WRITERS ", id " FX_READERS " to read "
	    "secrets in tenancy" }, NULL, "alice", "GetSecret", "S", 0, 0,
	  ALLOW, NULL },
	{ "quoted group name",
	  { "Allow group 'Readers' to read secrets in tenancy" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "Default identity domain",
	  { "Allow group 'Default'/'Readers' to read secrets in tenancy" },
	  NULL, "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "another identity domain names no tresor group",
	  { "Allow group 'Partners'/'Readers' to read secrets in tenancy" },
	  NULL, "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "group name with a space",
	  { "Allow group 'Sec Ops' to read secrets in tenancy" }, NULL,
	  "dave", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "another group's grant",
	  { "Allow group Writers to read secrets in tenancy" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "unknown group grants nothing",
	  { "Allow group Nobody to read secrets in tenancy" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "any-group: a user in a group",
	  { "Allow any-group to read secrets in tenancy" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "any-group: a user in no group",
	  { "Allow any-group to read secrets in tenancy" }, NULL, "carol",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "any-group: a function in a dynamic group",
	  { "Allow any-group to read secrets in tenancy" }, NULL, "F",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "any-group: an instance in no dynamic group",
	  { "Allow any-group to read secrets in tenancy" }, NULL, "I2",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "dynamic group by OCID",
	  { "Allow dynamic-group id " FX_FNA " to read secrets in tenancy" },
	  NULL, "F", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "several dynamic groups",
	  { "Allow dynamic-group FnA, Prod to read secrets in tenancy" },
	  NULL, "I", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "a group statement does not cover workloads",
	  { "Allow group Readers to read secrets in tenancy" }, NULL, "F",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "a dynamic-group statement does not cover users",
	  { "Allow dynamic-group FnA to read secrets in tenancy" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "a caller of another tenancy gets nothing, even from any-user",
	  { "Allow any-user to read secrets in tenancy" }, NULL, "alice",
	  "GetSecret", "S", FX_FOREIGN, 0, DENY, "" },

	/* ---- verbs and resource types ---- */
	{ "inspect secret-family lists",
	  { "Allow group Readers to inspect secret-family in tenancy" }, NULL,
	  "alice", "ListSecrets", "B", 0, 0, ALLOW, NULL },
	{ "inspect secret-family does not read",
	  { "Allow group Readers to inspect secret-family in tenancy" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "use keys includes read keys",
	  { "Allow group Readers to use keys in tenancy" }, NULL, "alice",
	  "GetKey", "K", 0, 0, ALLOW, NULL },
	{ "use keys gives Encrypt",
	  { "Allow group Readers to use keys in tenancy" }, NULL, "alice",
	  "Encrypt", "K", 0, 0, ALLOW, NULL },
	{ "use keys does not delete",
	  { "Allow group Readers to use keys in tenancy" }, NULL, "alice",
	  "ScheduleKeyDeletion", "K", 0, 0, DENY, "KEY_DELETE" },
	{ "manage keys rotates",
	  { "Allow group Readers to manage keys in tenancy" }, NULL, "alice",
	  "CreateKeyVersion", "K", 0, 0, ALLOW, NULL },
	{ "manage keys alone does not CreateKey (vault permission)",
	  { "Allow group Readers to manage keys in tenancy" }, NULL, "alice",
	  "CreateKey", "V", 0, 0, DENY, "VAULT_CREATE_KEY" },
	{ "CreateKey from two statements",
	  { "Allow group Readers to manage keys in tenancy",
	    "Allow group Readers to use vaults in tenancy" }, NULL, "alice",
	  "CreateKey", "V", 0, 0, ALLOW, NULL },
	{ "manage key-family creates keys",
	  { "Allow group Readers to manage key-family in tenancy" }, NULL,
	  "alice", "CreateKey", "V", 0, 0, ALLOW, NULL },
	{ "read vaults gets a vault",
	  { "Allow group Readers to read vaults in compartment A" }, NULL,
	  "alice", "GetVault", "V", 0, 0, ALLOW, NULL },
	{ "read vaults does not update",
	  { "Allow group Readers to read vaults in compartment A" }, NULL,
	  "alice", "UpdateVault", "V", 0, 0, DENY, "VAULT_UPDATE" },
	{ "manage vaults deletes",
	  { "Allow group Readers to manage vaults in compartment A" }, NULL,
	  "alice", "ScheduleVaultDeletion", "V", 0, 0, ALLOW, NULL },
	{ "GetVaultUsage is VAULT_READ",
	  { "Allow group Readers to read vaults in compartment A" }, NULL,
	  "alice", "GetVaultUsage", "V", 0, 0, ALLOW, NULL },
	{ "use key-delegate is not use keys",
	  { "Allow group Readers to use key-delegate in tenancy" }, NULL,
	  "alice", "Decrypt", "K", 0, 0, DENY, "KEY_DECRYPT" },
	{ "manage all-resources moves secrets",
	  { "Allow group Writers to manage all-resources in tenancy" }, NULL,
	  "bob", "ChangeSecretCompartment", "S", 0, 0, ALLOW, NULL },
	{ "read all-resources reads bundles (setting off)",
	  { "Allow group Readers to read all-resources in tenancy" }, NULL,
	  "alice", "GetSecretBundle", "S", 0, 0, ALLOW, NULL },
	{ "read all-resources does not decrypt (setting on)",
	  { "Allow group Readers to read all-resources in tenancy" }, NULL,
	  "alice", "GetSecretBundle", "S", FX_KEYUSE_ON, 0, DENY,
	  "KEY_DECRYPT" },
	{ "use secret-family cannot delete versions",
	  { "Allow group Writers to use secret-family in tenancy" }, NULL,
	  "bob", "ScheduleSecretVersionDeletion", "S", 0, 0, DENY,
	  "SECRET_VERSION_DELETE" },
	{ "manage secret-family deletes versions",
	  { "Allow group Writers to manage secret-family in tenancy" }, NULL,
	  "bob", "ScheduleSecretVersionDeletion", "S", 0, 0, ALLOW, NULL },
	{ "read secret-versions",
	  { "Allow group Readers to read secret-versions in tenancy" }, NULL,
	  "alice", "GetSecretVersion", "S", 0, 0, ALLOW, NULL },
	{ "read secret-versions is not secrets",
	  { "Allow group Readers to read secret-versions in tenancy" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "two-permission list (IoT style)",
	  { "Allow group Readers to {SECRET_BUNDLE_READ, SECRET_READ} in "
	    "compartment A" }, NULL, "alice", "GetSecret", "S", 0, 0, ALLOW,
	  NULL },
	{ "permission list grants the key permission (setting on)",
	  { "Allow group Readers to read secret-bundles in compartment A",
	    "Allow group Readers to {KEY_DECRYPT} in compartment A" }, NULL,
	  "alice", "GetSecretBundle", "S", FX_KEYUSE_ON, 0, ALLOW, NULL },
	{ "RotateSecret is SECRET_UPDATE",
	  { "Allow group Writers to use secrets in tenancy" }, NULL, "bob",
	  "RotateSecret", "S", 0, 0, ALLOW, NULL },

	/* ---- identity ---- */
	{ "manage users uploads API keys",
	  { "Allow group Writers to manage users in tenancy" }, NULL, "bob",
	  "UploadApiKey", "T", 0, 0, ALLOW, NULL },
	{ "read users does not upload API keys",
	  { "Allow group Writers to read users in tenancy" }, NULL, "bob",
	  "UploadApiKey", "T", 0, 0, DENY, "USER_APIKEY_ADD" },
	{ "inspect users lists users",
	  { "Allow group Writers to inspect users in tenancy" }, NULL, "bob",
	  "ListUsers", "T", 0, 0, ALLOW, NULL },
	{ "use users + use groups: AddUserToGroup",
	  { "Allow group Writers to use users in tenancy",
	    "Allow group Writers to use groups in tenancy" }, NULL, "bob",
	  "AddUserToGroup", "T", 0, 0, ALLOW, NULL },
	{ "use users alone: AddUserToGroup needs GROUP_UPDATE",
	  { "Allow group Writers to use users in tenancy" }, NULL, "bob",
	  "AddUserToGroup", "T", 0, 0, DENY, "GROUP_UPDATE" },
	{ "all-resources covers identity types",
	  { "Allow group Writers to manage all-resources in tenancy" }, NULL,
	  "bob", "CreatePolicy", "T", 0, 0, ALLOW, NULL },
	{ "inspect compartments",
	  { "Allow group Writers to inspect compartments in tenancy" }, NULL,
	  "bob", "ListCompartments", "A", 0, 0, ALLOW, NULL },
	{ "manage policies in A: create a policy in B",
	  { "Allow group Writers to manage policies in compartment A" }, NULL,
	  "bob", "CreatePolicy", "B", 0, 0, ALLOW, NULL },
	{ "manage policies in A: not in the tenancy (upward)",
	  { "Allow group Writers to manage policies in compartment A" }, NULL,
	  "bob", "CreatePolicy", "T", 0, 0, DENY, "POLICY_CREATE" },
	{ "inspect tenancies: GetTenancy",
	  { "Allow group Writers to inspect tenancies in tenancy" }, NULL,
	  "bob", "GetTenancy", "T", 0, 0, ALLOW, NULL },
	{ "manage dynamic-groups",
	  { "Allow group Writers to manage dynamic-groups in tenancy" }, NULL,
	  "bob", "UpdateDynamicGroup", "T", 0, 0, ALLOW, NULL },

	/* ---- compartments ---- */
	{ "path A:B from the root",
	  { "Allow group Readers to read secrets in compartment A:B" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "bare name of a direct child (policy in A)",
	  { "Allow group Readers to read secrets in compartment B" }, FX_A,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "compartment by OCID",
	  { "Allow group Readers to read secrets in compartment id " FX_B },
	  NULL, "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "no upward inheritance",
	  { "Allow group Readers to read secrets in compartment id " FX_D },
	  NULL, "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "two levels of inheritance (A -> B -> D)",
	  { "Allow group Readers to read secrets in compartment A" }, NULL,
	  "alice", "GetSecret", "S4", 0, 0, ALLOW, NULL },
	{ "in tenancy covers everything",
	  { "Allow group Readers to read secrets in tenancy" }, NULL, "alice",
	  "GetSecret", "S4", 0, 0, ALLOW, NULL },
	{ "a grandchild by bare name does not resolve (statement skipped)",
	  { "Allow group Readers to read secrets in compartment B" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "a sibling of the attachment does not resolve",
	  { "Allow group Readers to read secrets in compartment C" }, FX_A,
	  "alice", "GetSecret", "K2", 0, 0, DENY, "SECRET_READ" },
	{ "in tenancy from a non-root policy is skipped",
	  { "Allow group Readers to read secrets in tenancy" }, FX_A, "alice",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "the attachment compartment itself by name",
	  { "Allow group Readers to read secrets in compartment B" }, FX_B,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "an unknown target compartment matches nothing",
	  { "Allow group Readers to inspect secrets in tenancy" }, NULL,
	  "alice", "ListSecrets", "X", 0, 0, DENY, "SECRET_INSPECT" },

	/* ---- conditions ---- */
	{ "pattern ending /*token/",
	  { RSF_A " where target.secret.name = /*token/" }, NULL, "alice",
	  "GetSecret", "S2", 0, 0, ALLOW, NULL },
	{ "pattern containing /*-PASS*/ (case-insensitive)",
	  { RSF_A " where target.secret.name = /*-PASS*/" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "pattern with a star in the middle",
	  { RSF_A " where target.secret.name = /d*sw*d/" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "pattern without a star is exact",
	  { RSF_A " where target.secret.name = /db-pass/" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "vault scope",
	  { RSF_A " where target.vault.id = '" FX_V "'" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "vault scope: another vault",
	  { RSF_A " where target.vault.id = 'ocid1.vault.oc1.phx.other'" },
	  NULL, "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "any {...}",
	  { RSF_A " where any {target.secret.name = 'api-token', "
	    "target.secret.name = 'db-password'}" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "all {...} with one false member",
	  { RSF_A " where all {target.secret.name = 'db-password', "
	    "request.operation = 'GetSecretBundle'}" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "nested all { any {...} }",
	  { RSF_A " where ALL {target.secret.name='db-password', Any "
	    "{request.permission='SECRET_READ', "
	    "request.permission='SECRET_BUNDLE_READ'}}" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "variable on the right: F in the key's compartment",
	  { "Allow any-user to read keys in tenancy where "
	    "request.principal.compartment.id = target.compartment.id" },
	  NULL, "F", "GetKey", "K", 0, 0, ALLOW, NULL },
	{ "variable on the right: F2 elsewhere",
	  { "Allow any-user to read keys in tenancy where "
	    "request.principal.compartment.id = target.compartment.id" },
	  NULL, "F2", "GetKey", "K", 0, 0, DENY, "KEY_READ" },
	{ "variable on the right: users carry no principal compartment",
	  { "Allow any-user to read keys in tenancy where "
	    "request.principal.compartment.id = target.compartment.id" },
	  NULL, "alice", "GetKey", "K", 0, 0, DENY, "KEY_READ" },
	{ "request.user.name",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.user.name = 'ALICE'" }, NULL, "alice", "GetSecret", "S",
	  0, 0, ALLOW, NULL },
	{ "request.groups.id: member",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.groups.id = '" FX_READERS "'" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "request.groups.id: not a member",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.groups.id = '" FX_READERS "'" }, NULL, "carol",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "request.groups.id does not apply to workloads",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.groups.id != '" FX_READERS "'" }, NULL, "F", "GetSecret",
	  "S", 0, 0, DENY, "SECRET_READ" },
	{ "request.groups.id != for a user in no group",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.groups.id != '" FX_WRITERS "'" }, NULL, "carol",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "request.groups.name, dave in two groups",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.groups.name = 'sec ops'" }, NULL, "dave", "GetSecret",
	  "S", 0, 0, ALLOW, NULL },
	{ "includePlainTextKey = 'false' allows a wrapped-only DEK",
	  { "Allow group Readers to use keys in tenancy where "
	    "request.includePlainTextKey = 'false'" }, NULL, "alice",
	  "GenerateDataEncryptionKey", "K", FX_NO_PLAINTEXT, 0, ALLOW, NULL },
	{ "includePlainTextKey = 'false' refuses a plaintext DEK",
	  { "Allow group Readers to use keys in tenancy where "
	    "request.includePlainTextKey = 'false'" }, NULL, "alice",
	  "GenerateDataEncryptionKey", "K", FX_PLAINTEXT, 0, DENY,
	  "KEY_ENCRYPT" },
	{ "includePlainTextKey does not apply to Encrypt",
	  { "Allow group Readers to use keys in tenancy where "
	    "request.includePlainTextKey = 'false'" }, NULL, "alice",
	  "Encrypt", "K", 0, 0, DENY, "KEY_ENCRYPT" },
	{ "utc-timestamp after",
	  { RSF_A " where request.utc-timestamp after '2020-01-01T00:00:00Z'" },
	  NULL, "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "utc-timestamp before a date",
	  { RSF_A " where request.utc-timestamp before '2030-01-01'" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "day-of-week on a Monday",
	  { RSF_A " where request.utc-timestamp.day-of-week in ('monday', "
	    "'Tuesday')" }, NULL, "alice", "GetSecret", "S", 0, 0, ALLOW,
	  NULL },
	{ "day-of-week on a Sunday",
	  { RSF_A " where request.utc-timestamp.day-of-week in ('monday', "
	    "'Tuesday')" }, NULL, "alice", "GetSecret", "S", 0,
	  1749983400000LL, DENY, "SECRET_READ" },
	{ "time-of-day inside office hours",
	  { RSF_A " where request.utc-timestamp.time-of-day between "
	    "'09:00:00Z' and '17:00:00Z'" }, NULL, "alice", "GetSecret", "S",
	  0, 0, ALLOW, NULL },
	{ "time-of-day wrapping midnight, at 10:30",
	  { RSF_A " where request.utc-timestamp.time-of-day between "
	    "'22:00:00Z' and '06:00:00Z'" }, NULL, "alice", "GetSecret", "S",
	  0, 0, DENY, "SECRET_READ" },
	{ "time-of-day wrapping midnight, at 23:00",
	  { RSF_A " where request.utc-timestamp.time-of-day between "
	    "'22:00:00Z' and '06:00:00Z'" }, NULL, "alice", "GetSecret", "S",
	  0, 1750114800000LL, ALLOW, NULL },
	{ "month-of-year",
	  { RSF_A " where request.utc-timestamp.month-of-year = '6'" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "day-of-month not in",
	  { RSF_A " where request.utc-timestamp.day-of-month not in ('16')" },
	  NULL, "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "target tag matches",
	  { RSF_A " where target.resource.tag.ops.env = 'prod'" }, NULL,
	  "alice", "GetSecret", "S5", 0, 0, ALLOW, NULL },
	{ "target tag absent",
	  { RSF_A " where target.resource.tag.ops.env = 'prod'" }, NULL,
	  "alice", "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "target compartment tag",
	  { "Allow group Readers to read keys in tenancy where "
	    "target.resource.compartment.tag.cost.center = '42'" }, NULL,
	  "alice", "GetKey", "K", 0, 0, ALLOW, NULL },
	{ "target compartment tag: another compartment",
	  { "Allow group Readers to read keys in tenancy where "
	    "target.resource.compartment.tag.cost.center = '42'" }, NULL,
	  "alice", "GetKey", "K2", 0, 0, DENY, "KEY_READ" },
	{ "target.compartment.name",
	  { RSF_A " where target.compartment.name = 'b'" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "request.principal.id",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.principal.id = '" FX_F "'" }, NULL, "F", "GetSecret",
	  "S", 0, 0, ALLOW, NULL },
	{ "an OCI variable tresor never sets is false",
	  { "Allow group Writers to inspect users in tenancy where "
	    "target.group.name != 'Administrators'" }, NULL, "bob",
	  "ListUsers", "T", 0, 0, DENY, "USER_INSPECT" },
	{ "request.dynamicgroup.name: F",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.dynamicgroup.name = 'fna'" }, NULL, "F", "GetSecret",
	  "S", 0, 0, ALLOW, NULL },
	{ "request.dynamicgroup.name: I",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.dynamicgroup.name = 'fna'" }, NULL, "I", "GetSecret",
	  "S", 0, 0, DENY, "SECRET_READ" },
	{ "request.instance.compartment.id: I",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.instance.compartment.id = '" FX_A "'" }, NULL, "I",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "request.instance.compartment.id does not apply to F",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.instance.compartment.id = '" FX_A "'" }, NULL, "F",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "request.resource.compartment.id does not apply to I",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.resource.compartment.id != '" FX_C "'" }, NULL, "I",
	  "GetSecret", "S", 0, 0, DENY, "SECRET_READ" },
	{ "target.tenant.name",
	  { RSF_A " where target.tenant.name = 'ACME'" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "request.operation pattern: Get*",
	  { RSF_A " where request.operation = /Get*/" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "request.operation pattern: not List*",
	  { RSF_A " where request.operation = /Get*/" }, NULL, "alice",
	  "ListSecrets", "B", 0, 0, DENY, "SECRET_INSPECT" },
	{ "not in: allowed name",
	  { RSF_A " where target.secret.name not in ('api-token', 'x')" },
	  NULL, "alice", "GetSecret", "S", 0, 0, ALLOW, NULL },
	{ "not in: excluded name",
	  { RSF_A " where target.secret.name not in ('api-token', 'x')" },
	  NULL, "alice", "GetSecret", "S2", 0, 0, DENY, "SECRET_READ" },
	{ "request.principal.type = 'user'",
	  { "Allow any-user to read secrets in tenancy where "
	    "request.principal.type = 'user'" }, NULL, "alice", "GetSecret",
	  "S", 0, 0, ALLOW, NULL },
	{ "the older spelling target.secret.ocid",
	  { RSF_A " where target.secret.ocid = '" FX_S "'" }, NULL, "alice",
	  "GetSecret", "S", 0, 0, ALLOW, NULL },
};

static void
test_case(void **state)
{
	const struct pcase *c = *state;
	struct tr_iam_world *w = NULL;
	struct tr_buf trace;
	char missing[64];
	bool allowed;
	size_t n;
	int rc;

	for (n = 0; n < 6 && c->stmts[n] != NULL; n++)
		;
	assert_int_equal(fx_world(&w, c->stmts, n, c->attach, c->flags), 0);
	rc = fx_decide(w, c->who, c->op, c->obj, c->flags, c->now, &allowed,
	    missing, sizeof(missing), NULL);
	assert_int_equal(rc, 0);
	if (allowed != c->allow || (c->missing != NULL &&
	    strcmp(missing, c->missing) != 0)) {
		/* show the simulator's explanation of the failure */
		tr_buf_init(&trace, 0);
		(void)fx_decide(w, c->who, c->op, c->obj, c->flags, c->now,
		    &allowed, missing, sizeof(missing), &trace);
		print_error("case '%s': expected %s (missing %s), got %s "
		    "(missing %s)\n%s", c->name, c->allow ? "allow" : "deny",
		    c->missing != NULL ? c->missing : "-",
		    allowed ? "allow" : "deny", missing,
		    tr_buf_cstr(&trace));
		tr_buf_dispose(&trace);
		tr_iam_world_unlink(w);
		fail();
	}
	/* the trace path decides the same way */
	tr_buf_init(&trace, 0);
	rc = fx_decide(w, c->who, c->op, c->obj, c->flags, c->now, &allowed,
	    missing, sizeof(missing), &trace);
	assert_int_equal(rc, 0);
	assert_int_equal(allowed, c->allow);
	assert_non_null(strstr(tr_buf_cstr(&trace), "decision: "));
	tr_buf_dispose(&trace);
	tr_iam_world_unlink(w);
}

/* ---------------------------------------------------------------- */
/* beyond the table                                                 */
/* ---------------------------------------------------------------- */

static void
decide(const struct tr_iam_world *w, const char *who, const char *op,
    const char *obj, unsigned flags, struct tr_iam_decision *d,
    struct tr_buf *trace)
{
	const struct fx_obj *o = fx_obj(obj);
	struct tr_principal p;
	struct tr_iam_request req;

	assert_non_null(o);
	assert_true(fx_principal(&p, who, flags));
	memset(&req, 0, sizeof(req));
	req.principal = &p;
	req.operation = op;
	req.permissions = tr_iam_op_permissions(op);
	req.compartment_id = o->compartment;
	req.vault_id = o->vault;
	req.key_id = o->key;
	req.secret_id = o->secret_id;
	req.secret_name = o->secret_name;
	req.now_ms = FX_NOW;
	assert_int_equal(tr_iam_authorize(w, &req, d, trace), 0);
}

static void
test_trace_explains(void **state)
{
	const char *stmts[] = {
		"Allow group Writers to read secrets in tenancy",
		"Allow group Readers to inspect secrets in tenancy",
		"Allow group Readers to read secrets in compartment C",
		RSF_A " where target.secret.name = 'api-token'",
		"Allow group Readers to read secrets in compartment B",
		RSF_A,
	};
	struct tr_iam_world *w = NULL;
	struct tr_iam_decision d;
	struct tr_buf t;
	const char *s;

	(void)state;
	assert_int_equal(fx_world(&w, stmts, 6, NULL, 0), 0);
	tr_buf_init(&t, 0);
	decide(w, "alice", "GetSecret", "S", 0, &d, &t);
	s = tr_buf_cstr(&t);
	assert_true(d.allowed);
	assert_non_null(strstr(s, "request: user " FX_ALICE " (alice), "
	    "groups: Readers; operation GetSecret on compartment A:B, secret "
	    "db-password; needs SECRET_READ\n"));
	assert_non_null(strstr(s, "statement 0: \"Allow group Writers to read "
	    "secrets in tenancy\": subject did not match: the user is in "
	    "none of the groups Writers\n"));
	assert_non_null(strstr(s, "statement 1: \"Allow group Readers to "
	    "inspect secrets in tenancy\": permission not covered: inspect "
	    "secrets does not include SECRET_READ"));
	assert_non_null(strstr(s, "statement 2: \"Allow group Readers to read "
	    "secrets in compartment C\": location outside: the target is in "
	    "compartment A:B, which is not compartment C or below it"));
	assert_non_null(strstr(s, "statement 3: \"" RSF_A " where "
	    "target.secret.name = 'api-token'\": condition false: "
	    "target.secret.name is 'db-password', which does not match "
	    "'api-token'"));
	assert_non_null(strstr(s, "statement 4: \"Allow group Readers to read "
	    "secrets in compartment B\": not evaluated: column 52: The "
	    "compartment B"));
	assert_non_null(strstr(s, "statement 5: \"" RSF_A "\": matched: "
	    "grants SECRET_READ"));
	assert_non_null(strstr(s, "decision: ALLOWED"));
	assert_string_equal(d.granted_by, "policy 'case-policy' statement 5: "
	    RSF_A);
	tr_buf_dispose(&t);

	/* a denial names the permission and suggests a statement */
	tr_buf_init(&t, 0);
	decide(w, "alice", "Decrypt", "K", 0, &d, &t);
	s = tr_buf_cstr(&t);
	assert_false(d.allowed);
	assert_string_equal(d.missing_permission, "KEY_DECRYPT");
	assert_string_equal(d.granted_by, "");
	assert_non_null(strstr(s, "a statement such as \"Allow group Readers "
	    "to use keys in compartment A\" would grant it"));
	assert_non_null(strstr(s, "decision: DENIED: KEY_DECRYPT is not "
	    "granted"));
	tr_buf_dispose(&t);

	/* a variable that does not apply is named as such */
	tr_buf_init(&t, 0);
	decide(w, "alice", "ListSecrets", "C", 0, &d, &t);
	assert_true(d.allowed);
	tr_buf_dispose(&t);
	tr_iam_world_unlink(w);
}

static void
test_trace_condition_reasons(void **state)
{
	const char *stmts[] = {
		RSF_A " where target.secret.name != 'api-token'",
		RSF_A " where any {target.secret.name = /x*/, "
		"request.operation = 'Foo'}",
		"Allow dynamic-group FnA to read secrets in tenancy",
	};
	struct tr_iam_world *w = NULL;
	struct tr_iam_decision d;
	struct tr_buf t;
	const char *s;

	(void)state;
	assert_int_equal(fx_world(&w, stmts, 3, NULL, 0), 0);
	tr_buf_init(&t, 0);
	decide(w, "alice", "ListSecrets", "B", 0, &d, &t);
	s = tr_buf_cstr(&t);
	assert_false(d.allowed);
	assert_non_null(strstr(s, "condition false: target.secret.name does "
	    "not apply to this request (a condition on it is false, even "
	    "with !=)"));
	assert_non_null(strstr(s, "condition false: no condition of any "
	    "{...} holds (the last: request.operation is 'ListSecrets', "
	    "which does not match 'Foo')"));
	assert_non_null(strstr(s, "subject did not match: dynamic groups "
	    "hold instances and resources; the caller is a user"));
	tr_buf_dispose(&t);
	tr_iam_world_unlink(w);
}

static void
test_suggest_statement(void **state)
{
	const char *stmts[] = { RSF_A };
	const char *perms[] = { "KEY_DECRYPT", NULL };
	struct tr_iam_world *w = NULL;
	struct tr_iam_request req;
	struct tr_principal p;
	char out[300];

	(void)state;
	assert_int_equal(fx_world(&w, stmts, 1, NULL, 0), 0);
	memset(&req, 0, sizeof(req));
	req.principal = &p;
	req.permissions = perms;
	req.compartment_id = FX_B;
	assert_true(fx_principal(&p, "alice", 0));
	assert_int_equal(tr_iam_suggest_statement(w, &req, "KEY_DECRYPT", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "Allow group Readers to use keys in "
	    "compartment A:B");
	assert_true(fx_principal(&p, "F", 0));
	assert_int_equal(tr_iam_suggest_statement(w, &req,
	    "SECRET_BUNDLE_READ", out, sizeof(out)), 0);
	assert_string_equal(out, "Allow dynamic-group FnA to read "
	    "secret-bundles in compartment A:B");
	assert_true(fx_principal(&p, "I2", 0));
	req.compartment_id = FX_T;
	assert_int_equal(tr_iam_suggest_statement(w, &req, "VAULT_INSPECT",
	    out, sizeof(out)), 0);
	assert_string_equal(out, "Allow any-user to inspect vaults in tenancy "
	    "where request.principal.id = '" FX_I2 "'");
	assert_true(fx_principal(&p, "carol", 0));
	assert_int_equal(tr_iam_suggest_statement(w, &req, "VAULT_INSPECT",
	    out, sizeof(out)), 0);
	assert_string_equal(out, "Allow group <a group of carol> to inspect "
	    "vaults in tenancy");
	tr_iam_world_unlink(w);
}

static void
test_no_permissions_denies(void **state)
{
	const char *stmts[] = { "Allow any-user to manage all-resources in "
	    "tenancy" };
	const char *none[] = { NULL };
	const char *unknown[] = { "BUCKET_READ", NULL };
	struct tr_iam_world *w = NULL;
	struct tr_iam_request req;
	struct tr_iam_decision d;
	struct tr_principal p;

	(void)state;
	assert_int_equal(fx_world(&w, stmts, 1, NULL, 0), 0);
	assert_true(fx_principal(&p, "alice", 0));
	memset(&req, 0, sizeof(req));
	req.principal = &p;
	req.compartment_id = FX_A;
	req.permissions = NULL;
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_false(d.allowed);
	req.permissions = none;
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_false(d.allowed);
	req.permissions = unknown;
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_false(d.allowed);
	assert_string_equal(d.missing_permission, "BUCKET_READ");
	req.principal = NULL;
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_false(d.allowed);
	/* a half-made principal gets nothing, not even from any-user */
	req.principal = &p;
	req.permissions = tr_iam_op_permissions("GetSecret");
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_true(d.allowed);
	p.kind = 0;
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_false(d.allowed);
	assert_true(fx_principal(&p, "alice", 0));
	p.id[0] = '\0';
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_false(d.allowed);
	assert_int_equal(tr_iam_authorize(w, &req, NULL, NULL),
	    TRESOR_EINVAL);
	tr_iam_world_unlink(w);
}

/* Every allocation of build + authorize may fail: ENOMEM, no leak. */
static void
test_fault_injection(void **state)
{
	const char *stmts[] = {
		RSF_A " where any {target.resource.tag.ops.env = 'prod', "
		"request.groups.name = 'Readers'}",
		"Allow dynamic-group Prod to read secrets in tenancy",
		"Allow group Readers to use keys in compartment A",
	};
	struct tr_iam_world *w;
	struct tr_buf t;
	char missing[64];
	bool allowed, ok = false;
	long n;
	int rc;

	(void)state;
	for (n = 0; n < 2000 && !ok; n++) {
		w = NULL;
		tr_alloc_fail_after(n);
		rc = fx_world(&w, stmts, 3, NULL, FX_KEYUSE_ON);
		if (rc == 0) {
			tr_buf_init(&t, 0);
			rc = fx_decide(w, "I", "GetSecretBundle", "S5",
			    FX_KEYUSE_ON, 0, &allowed, missing,
			    sizeof(missing), &t);
			if (rc == 0)
				rc = fx_decide(w, "alice", "GetSecretBundle",
				    "S", FX_KEYUSE_ON, 0, &allowed, missing,
				    sizeof(missing), &t);
			tr_buf_dispose(&t);
			if (rc == 0 && allowed)
				ok = true;
		}
		tr_alloc_fail_after(-1);
		assert_true(rc == 0 || rc == TRESOR_ENOMEM);
		tr_iam_world_unlink(w);
	}
	assert_true(ok);
}

static void
test_link_unlink(void **state)
{
	const char *stmts[] = { RSF_A };
	struct tr_iam_world *w = NULL;

	(void)state;
	assert_int_equal(fx_world(&w, stmts, 1, NULL, 0), 0);
	assert_ptr_equal(tr_iam_world_link(w), w);
	tr_iam_world_unlink(w);
	tr_iam_world_unlink(w);
	assert_null(tr_iam_world_link(NULL));
	tr_iam_world_unlink(NULL);
}

struct thread_arg {
	const struct tr_iam_world *w;
	int failures;
};

static void *
reader(void *p)
{
	struct thread_arg *a = p;
	char missing[64];
	bool allowed;
	int i;

	for (i = 0; i < 2000; i++) {
		if (fx_decide(a->w, "alice", "GetSecretBundle", "S", 0, 0,
		    &allowed, missing, sizeof(missing), NULL) != 0 || !allowed)
			a->failures++;
		if (fx_decide(a->w, "I", "GetSecret", "S5", 0, 0, &allowed,
		    missing, sizeof(missing), NULL) != 0 || !allowed)
			a->failures++;
		if (fx_decide(a->w, "carol", "GetSecret", "S", 0, 0, &allowed,
		    missing, sizeof(missing), NULL) != 0 || allowed)
			a->failures++;
	}
	return NULL;
}

/* One world, several threads: the same answers, no data race. */
static void
test_concurrent_readers(void **state)
{
	const char *stmts[] = {
		RSF_A,
		"Allow dynamic-group Prod to read secrets in tenancy where "
		"target.resource.tag.ops.env = 'prod'",
	};
	struct thread_arg args[4];
	pthread_t th[4];
	struct tr_iam_world *w = NULL;
	int i;

	(void)state;
	assert_int_equal(fx_world(&w, stmts, 2, NULL, 0), 0);
	for (i = 0; i < 4; i++) {
		args[i].w = tr_iam_world_link(w);
		args[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, reader,
		    &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
		tr_iam_world_unlink(w);
	}
	tr_iam_world_unlink(w);
}

/* More groups than the merge handles inline: same decisions. */
static void
test_many_groups(void **state)
{
	static struct tr_iam_group groups[100];
	static struct tr_iam_membership members[100];
	static char ids[100][64], names[100][16];
	static const char *stmts[] = {
		"Allow group g99 to read secrets in tenancy",
		"Allow group g3, g4 to inspect secrets in tenancy",
	};
	struct tr_iam_policy pol = { "ocid1.policy.oc1..p", "p", FX_T, stmts,
		2 };
	struct tr_iam_compartment comps[] = { { FX_T, NULL, "acme", NULL } };
	struct tr_iam_world_input in;
	struct tr_iam_world *w = NULL;
	struct tr_iam_decision d;
	struct tr_iam_request req;
	struct tr_principal p;
	const char *perm[] = { "SECRET_READ", NULL };
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		(void)snprintf(ids[i], sizeof(ids[i]),
		    "ocid1.group.oc1..g%04d", i);
		(void)snprintf(names[i], sizeof(names[i]), "g%d", i);
		groups[i].id = ids[i];
		groups[i].name = names[i];
		members[i].user_id = FX_ALICE;
		members[i].group_id = ids[i];
	}
	memset(&in, 0, sizeof(in));
	in.tenancy_id = FX_T;
	in.compartments = comps;
	in.ncompartments = 1;
	in.groups = groups;
	in.ngroups = 100;
	in.memberships = members;
	in.nmemberships = 100;
	in.policies = &pol;
	in.npolicies = 1;
	assert_int_equal(tr_iam_world_build(&w, &in), 0);
	assert_true(fx_principal(&p, "alice", 0));
	memset(&req, 0, sizeof(req));
	req.principal = &p;
	req.permissions = perm;
	req.compartment_id = FX_T;
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_true(d.allowed);
	assert_string_equal(d.granted_by, "policy 'p' statement 0: Allow "
	    "group g99 to read secrets in tenancy");
	tr_iam_world_unlink(w);
}

/* More dynamic groups than the stack bitmap and the inline merge hold. */
static void
test_many_dynamic_groups(void **state)
{
	static struct tr_iam_dynamic_group dgs[300];
	static char ids[300][64], names[300][16];
	static const char *stmts[] = {
		"Allow dynamic-group d299 to read secrets in tenancy",
		"Allow dynamic-group d7 to inspect secrets in tenancy where "
		"request.dynamicgroup.name = 'd250'",
	};
	struct tr_iam_policy pol = { "ocid1.policy.oc1..p", "p", FX_T, stmts,
		2 };
	struct tr_iam_compartment comps[] = { { FX_T, NULL, "acme", NULL } };
	struct tr_iam_world_input in;
	struct tr_iam_world *w = NULL;
	struct tr_iam_decision d;
	struct tr_iam_request req;
	struct tr_principal p;
	const char *read[] = { "SECRET_READ", "SECRET_INSPECT", NULL };
	int i;

	(void)state;
	for (i = 0; i < 300; i++) {
		(void)snprintf(ids[i], sizeof(ids[i]),
		    "ocid1.dynamicgroup.oc1..d%04d", i);
		(void)snprintf(names[i], sizeof(names[i]), "d%d", i);
		dgs[i].id = ids[i];
		dgs[i].name = names[i];
		dgs[i].matching_rule = "resource.type = 'fnfunc'";
	}
	memset(&in, 0, sizeof(in));
	in.tenancy_id = FX_T;
	in.compartments = comps;
	in.ncompartments = 1;
	in.dynamic_groups = dgs;
	in.ndynamic_groups = 300;
	in.policies = &pol;
	in.npolicies = 1;
	assert_int_equal(tr_iam_world_build(&w, &in), 0);
	assert_true(fx_principal(&p, "F", 0));
	memset(&req, 0, sizeof(req));
	req.principal = &p;
	req.permissions = read;
	req.compartment_id = FX_T;
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_true(d.allowed);
	assert_true(fx_principal(&p, "I", 0));
	assert_int_equal(tr_iam_authorize(w, &req, &d, NULL), 0);
	assert_false(d.allowed);
	assert_string_equal(d.missing_permission, "SECRET_READ");
	tr_iam_world_unlink(w);
}

int
main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 16];
	size_t i, n = 0;

	tr_log_set_level(TR_LOG_NONE);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = cases[i].name;
		tests[n].test_func = test_case;
		tests[n].initial_state = (void *)&cases[i];
		n++;
	}
#define ADD(f) do {							\
	memset(&tests[n], 0, sizeof(tests[n]));				\
	tests[n].name = #f;						\
	tests[n].test_func = f;						\
	n++;								\
} while (0)
	ADD(test_trace_explains);
	ADD(test_trace_condition_reasons);
	ADD(test_suggest_statement);
	ADD(test_no_permissions_denies);
	ADD(test_fault_injection);
	ADD(test_link_unlink);
	ADD(test_concurrent_readers);
	ADD(test_many_groups);
	ADD(test_many_dynamic_groups);
#undef ADD
	return _cmocka_run_group_tests("iam_policy", tests, n, NULL, NULL);
}
