/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IAM test fixture of spec oci-iam.md section 10: tenancy T
 * ("acme"); compartments A and C under the root, B under A, D under B;
 * groups Readers {alice, dave}, Writers {bob}, 'Sec Ops' {dave}; carol
 * in no group; dynamic groups FnA, Prod, AnyFn; functions F (in A) and
 * F2 (in B), instances I (in A, tag ops.env = prod) and I2 (in C);
 * vault V and key K in A, key K2 in C; secrets S 'db-password', S2
 * 'api-token', S3 'db-*', S5 'tagged' in B, S4 'prod-db' in D.
 */
#ifndef TR_TEST_IAM_FIXTURE_H
#define TR_TEST_IAM_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "iam/iam.h"

#define FX_T	"ocid1.tenancy.oc1..tenancy0001"
#define FX_A	"ocid1.compartment.oc1..compa0001"
#define FX_B	"ocid1.compartment.oc1..compb0001"
#define FX_C	"ocid1.compartment.oc1..compc0001"
#define FX_D	"ocid1.compartment.oc1..compd0001"
#define FX_READERS	"ocid1.group.oc1..readers0001"
#define FX_WRITERS	"ocid1.group.oc1..writers0001"
#define FX_SECOPS	"ocid1.group.oc1..secops0001"
#define FX_ALICE	"ocid1.user.oc1..alice0001"
#define FX_BOB		"ocid1.user.oc1..bob0001"
#define FX_CAROL	"ocid1.user.oc1..carol0001"
#define FX_DAVE		"ocid1.user.oc1..dave0001"
#define FX_FNA	"ocid1.dynamicgroup.oc1..fna0001"
#define FX_PROD	"ocid1.dynamicgroup.oc1..prod0001"
#define FX_F	"ocid1.fnfunc.oc1.phx.func0001"
#define FX_F2	"ocid1.fnfunc.oc1.phx.func0002"
#define FX_I	"ocid1.instance.oc1.phx.inst0001"
#define FX_I2	"ocid1.instance.oc1.phx.inst0002"
#define FX_V	"ocid1.vault.oc1.phx.vault0001"
#define FX_K	"ocid1.key.oc1.phx.vault0001.key0001"
#define FX_K2	"ocid1.key.oc1.phx.vault0001.key0002"
#define FX_S	"ocid1.vaultsecret.oc1.phx.secret0001"
#define FX_S2	"ocid1.vaultsecret.oc1.phx.secret0002"
#define FX_S3	"ocid1.vaultsecret.oc1.phx.secret0003"
#define FX_S4	"ocid1.vaultsecret.oc1.phx.secret0004"
#define FX_S5	"ocid1.vaultsecret.oc1.phx.secret0005"

/* 2025-06-16T10:30:00Z, a Monday */
#define FX_NOW	1750069800000LL

/* world and principal variations */
#define FX_KEYUSE_ON	0x01u	/* secret_reads_require_key_use */
#define FX_NO_ALICE	0x02u	/* alice removed from Readers */
#define FX_NO_TAG	0x04u	/* instance I without its tag */
#define FX_FOREIGN	0x08u	/* the caller is of another tenancy */
#define FX_NEW_CONTENT	0x10u	/* UpdateSecret with new content */
#define FX_PLAINTEXT	0x20u	/* includePlainTextKey = 'true' */
#define FX_NO_PLAINTEXT	0x40u	/* includePlainTextKey = 'false' */

/* A target object of the fixture. */
struct fx_obj {
	const char *name;
	const char *compartment;	/* target.compartment.id */
	const char *vault;		/* target.vault.id */
	const char *key;		/* target.key.id (key objects) */
	const char *secret_id;
	const char *secret_name;
	const char *tags;		/* target.resource.tag.* */
	const char *content_key;	/* the key of a secret's content */
};

/* The object called `name`, or NULL. */
const struct fx_obj *fx_obj(const char *name);

/*
 * Fill *p with principal `who` (alice, bob, carol, dave, F, F2, I, I2);
 * false when unknown.
 */
bool fx_principal(struct tr_principal *p, const char *who, unsigned flags);

/*
 * Build the fixture world with one policy of `n` statements attached to
 * `attach` (NULL: the tenancy).  Returns tr_iam_world_build's code.
 */
int fx_world(struct tr_iam_world **out, const char *const *stmts, size_t n,
    const char *attach, unsigned flags);

/*
 * The fixture's decision for principal `who` calling `op` on `obj`: the
 * operation's permissions on the object, then (like the API layer) the
 * key permissions of tr_iam_op_key_permissions() on the object's key.
 * *missing gets the first missing permission ("" when allowed).  The
 * trace, when not NULL, collects both decisions.
 */
int fx_decide(const struct tr_iam_world *w, const char *who, const char *op,
    const char *obj, unsigned flags, long long now_ms, bool *allowed,
    char *missing, size_t missingsz, struct tr_buf *trace);

#endif /* TR_TEST_IAM_FIXTURE_H */
