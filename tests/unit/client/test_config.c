/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: the OCI config file parser (profiles, DEFAULT
 * inheritance, case-insensitive keys, comments, both separators), bad
 * files with the line named, limits, a missing file or profile, the
 * environment overriding the file, the resource-principal 2.2
 * environment, and a key file readable by group or others refused by the
 * signer with a message saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "client/client_int.h"
#include "util/alloc.h"
#include "util/base64.h"

#include "new_file.h"

static char dir[64];
static char keypath[128];

static void
write_file(const char *name, const char *text, mode_t mode, char *path_out)
{
	char path[256];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
	f = new_file(path, mode);
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	if (path_out != NULL)
		(void)snprintf(path_out, 256, "%s", path);
}

static int
setup(void **state)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	FILE *f;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/tresor-cfgXXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	(void)snprintf(keypath, sizeof(keypath), "%s/key.pem", dir);
	if ((f = new_file(keypath, 0600)) == NULL)
		return -1;
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(k);
	unsetenv("OCI_CLI_USER");
	unsetenv("OCI_CLI_PROFILE");
	unsetenv("OCI_CLI_CONFIG_FILE");
	unsetenv("OCI_CLI_AUTH");
	unsetenv("TRESOR_ENDPOINT");
	unsetenv("OCI_CLI_ENDPOINT");
	unsetenv("TRESOR_PROFILE");
	unsetenv("TRESOR_CONFIG_FILE");
	unsetenv("TRESOR_AUTH");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
load(tresor_config **c, const char *file, const char *profile, bool env)
{
	tresor_config_options o = TRESOR_CONFIG_OPTIONS_INIT;

	o.config_file = file;
	o.profile = profile;
	o.ignore_environment = !env;
	return tresor_config_load(c, &o);
}

static void
test_profiles_and_default_inheritance(void **state)
{
	char path[256], text[2048];
	tresor_config *c = NULL;

	(void)state;
	(void)snprintf(text, sizeof(text),
	    "# a comment\n"
	    "; another\n"
	    "[DEFAULT]\n"
	    "tenancy = ocid1.tenancy.oc1..t\n"
	    "region: xx-local-1\n"
	    "ENDPOINT = http://127.0.0.1:8200\n"
	    "\n"
	    "[alice]\n"
	    "user=ocid1.user.oc1..alice\n"
	    "  fingerprint =  aa:bb:cc  \n"
	    "key_file=%s\r\n"
	    "[bob]\n"
	    "user=ocid1.user.oc1..bob\n"
	    "fingerprint=dd\n"
	    "key_file=%s\n"
	    "tenancy=ocid1.tenancy.oc1..other\n"
	    "endpoint=https://tresor.example/base\n", keypath, keypath);
	write_file("config", text, 0600, path);
	assert_int_equal(load(&c, path, "alice", false), 0);
	assert_string_equal(tresor_config_get(c, "user"),
	    "ocid1.user.oc1..alice");
	assert_string_equal(tresor_config_get(c, "fingerprint"), "aa:bb:cc");
	assert_string_equal(tresor_config_get(c, "key_file"), keypath);
	/* inherited from DEFAULT; keys are case-insensitive */
	assert_string_equal(tresor_config_get(c, "tenancy"),
	    "ocid1.tenancy.oc1..t");
	assert_string_equal(tresor_config_get(c, "region"), "xx-local-1");
	assert_string_equal(tresor_config_get(c, "endpoint"),
	    "http://127.0.0.1:8200");
	assert_string_equal(tresor_config_get(c, "profile"), "alice");
	assert_string_equal(tresor_config_get(c, "config_file"), path);
	assert_null(tresor_config_get(c, "pass_phrase"));
	assert_int_equal(tresor_config_auth(c), TRESOR_AUTH_API_KEY);
	tresor_config_free(c);
	/* a profile's own values win over DEFAULT */
	assert_int_equal(load(&c, path, "bob", false), 0);
	assert_string_equal(tresor_config_get(c, "tenancy"),
	    "ocid1.tenancy.oc1..other");
	assert_string_equal(tresor_config_get(c, "endpoint"),
	    "https://tresor.example/base");
	tresor_config_free(c);
}

static void
test_missing_profile_and_file(void **state)
{
	char path[256];
	tresor_config *c = NULL;

	(void)state;
	write_file("config2", "[DEFAULT]\nregion=r\n[one]\nuser=u\n", 0600,
	    path);
	assert_int_equal(load(&c, path, "two", false), TRESOR_ENOTFOUND);
	assert_non_null(strstr(tresor_error_last(), "profile 'two' not found"));
	assert_non_null(strstr(tresor_error_last(), "DEFAULT, one"));
	/* DEFAULT alone lacks user, key_file... */
	assert_int_equal(load(&c, path, NULL, false), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "lacks user"));
	assert_int_equal(load(&c, "/nonexistent/config", NULL, false),
	    TRESOR_ENOTFOUND);
	assert_non_null(strstr(tresor_error_last(), "does not exist"));
}

static void
test_bad_files(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "user=x\n[DEFAULT]\n", "line 1: a setting before any" },
		{ "[DEFAULT]\nuser\n", "line 2: expected 'key = value'" },
		{ "[DEFAULT]\n[DEFAULT]\n", "line 2: section [DEFAULT] appears "
		    "twice" },
		{ "[DEFAULT]\nuser=a\nUSER=b\n",
		    "line 3: 'user' is set twice" },
		{ "[DEFAULT\n", "line 1: a section header" },
		{ "[]\n", "line 1: empty section name" },
		{ "[DEFAULT]\n=x\n", "line 2: empty key" },
	};
	char path[256];
	tresor_config *c = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file("bad", bad[i].text, 0600, path);
		assert_int_equal(load(&c, path, NULL, false), TRESOR_EINVAL);
		assert_non_null(strstr(tresor_error_last(), bad[i].msg));
		assert_non_null(strstr(tresor_error_last(), path));
	}
}

static void
test_limits(void **state)
{
	struct tr_ini ini;
	char *big;
	size_t i;

	(void)state;
	big = calloc(1, TR_CONFIG_MAX_LINE + 64);
	memcpy(big, "[DEFAULT]\nk=", 12);
	memset(big + 12, 'a', TR_CONFIG_MAX_LINE);
	assert_int_equal(tr_ini_parse(&ini, big, strlen(big), "f"),
	    TRESOR_ETOOBIG);
	assert_non_null(strstr(tresor_error_last(), "line 2: longer than"));
	free(big);
	assert_int_equal(tr_ini_parse(&ini, "[a]\nk=v\0x\n", 10, "f"),
	    TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "NUL"));
	big = malloc(TR_CONFIG_MAX_BYTES + 1);
	memset(big, '#', TR_CONFIG_MAX_BYTES + 1);
	assert_int_equal(tr_ini_parse(&ini, big, TR_CONFIG_MAX_BYTES + 1, "f"),
	    TRESOR_ETOOBIG);
	free(big);
	/* too many sections */
	big = malloc((TR_CONFIG_MAX_SECTIONS + 1) * 16);
	big[0] = '\0';
	for (i = 0; i <= TR_CONFIG_MAX_SECTIONS; i++)
		(void)snprintf(big + strlen(big), 16, "[s%zu]\n", i);
	assert_int_equal(tr_ini_parse(&ini, big, strlen(big), "f"),
	    TRESOR_ETOOBIG);
	free(big);
	/* a UTF-8 byte order mark is skipped */
	assert_int_equal(tr_ini_parse(&ini, "\xef\xbb\xbf[DEFAULT]\nk=v\n", 17,
	    "f"), 0);
	assert_string_equal(tr_ini_get(&ini, "DEFAULT", "k"), "v");
	tr_ini_dispose(&ini);
}

static void
test_environment_overrides(void **state)
{
	char path[256], text[1024];
	tresor_config *c = NULL;

	(void)state;
	(void)snprintf(text, sizeof(text), "[DEFAULT]\nuser=u1\nfingerprint=f"
	    "\nkey_file=%s\ntenancy=t\nendpoint=http://a:1\n[p2]\nuser=u2\n",
	    keypath);
	write_file("config3", text, 0600, path);
	setenv("OCI_CLI_CONFIG_FILE", path, 1);
	setenv("OCI_CLI_PROFILE", "p2", 1);
	setenv("OCI_CLI_USER", "env-user", 1);
	setenv("TRESOR_ENDPOINT", "http://env:2", 1);
	assert_int_equal(load(&c, NULL, NULL, true), 0);
	assert_string_equal(tresor_config_get(c, "profile"), "p2");
	assert_string_equal(tresor_config_get(c, "user"), "env-user");
	assert_string_equal(tresor_config_get(c, "endpoint"), "http://env:2");
	tresor_config_free(c);
	/* explicit options beat the environment */
	{
		tresor_config_options o = TRESOR_CONFIG_OPTIONS_INIT;

		o.profile = "DEFAULT";
		o.endpoint = "http://opt:3";
		assert_int_equal(tresor_config_load(&c, &o), 0);
		assert_string_equal(tresor_config_get(c, "profile"),
		    "DEFAULT");
		assert_string_equal(tresor_config_get(c, "endpoint"),
		    "http://opt:3");
		tresor_config_free(c);
	}
	/* a malformed endpoint is refused, naming where it came from */
	setenv("TRESOR_ENDPOINT", "ftp://x", 1);
	assert_int_equal(load(&c, NULL, NULL, true), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "TRESOR_ENDPOINT"));
	/* ignored when asked */
	assert_int_equal(load(&c, path, NULL, false), 0);
	assert_string_equal(tresor_config_get(c, "user"), "u1");
	tresor_config_free(c);
	setenv("OCI_CLI_AUTH", "instance_principal", 1);
	assert_int_equal(load(&c, NULL, NULL, true), TRESOR_EINVAL);
	unsetenv("OCI_CLI_AUTH");
	unsetenv("OCI_CLI_CONFIG_FILE");
	unsetenv("OCI_CLI_PROFILE");
	unsetenv("OCI_CLI_USER");
	unsetenv("TRESOR_ENDPOINT");
}

static void
test_key_file_readable_by_others_refused(void **state)
{
	char path[256], text[1024], kp[256];
	tresor_config *c = NULL;
	tresor_signer *s = NULL;
	FILE *f, *g;
	char buf[8192];
	size_t n;

	(void)state;
	(void)snprintf(kp, sizeof(kp), "%s/open.pem", dir);
	f = fopen(keypath, "r");
	g = new_file(kp, 0644);	/* a key file others may read */
	assert_non_null(g);
	n = fread(buf, 1, sizeof(buf), f);
	fwrite(buf, 1, n, g);
	fclose(f);
	fclose(g);
	(void)snprintf(text, sizeof(text), "[DEFAULT]\nuser=u\nfingerprint=f\n"
	    "key_file=%s\ntenancy=t\n", kp);
	write_file("config4", text, 0600, path);
	assert_int_equal(load(&c, path, NULL, false), 0);
	assert_int_equal(tresor_signer_new(&s, c), TRESOR_EPERM);
	assert_non_null(strstr(tresor_error_last(), kp));
	assert_non_null(strstr(tresor_error_last(),
	    "readable by group or others"));
	chmod(kp, 0600);
	assert_int_equal(tresor_signer_new(&s, c), 0);
	tresor_signer_free(s);
	tresor_config_free(c);
}

static void
test_home_expansion(void **state)
{
	char *p = NULL;

	(void)state;
	setenv("HOME", "/home/someone", 1);
	assert_int_equal(tr_expand_home(&p, "~/.oci/key.pem"), 0);
	assert_string_equal(p, "/home/someone/.oci/key.pem");
	tr_free(p);
	assert_int_equal(tr_expand_home(&p, "/abs"), 0);
	assert_string_equal(p, "/abs");
	tr_free(p);
	assert_int_equal(tr_expand_home(&p, "~other/x"), TRESOR_EINVAL);
}

static void
test_resource_principal_env(void **state)
{
	tresor_config_options o = TRESOR_CONFIG_OPTIONS_INIT;
	tresor_config *c = NULL;
	tresor_signer *s = NULL;
	tresor_signed_headers h;
	char tok[512], payload[256], tokpath[256], claims[128];
	FILE *f;

	(void)state;
	o.auth = TRESOR_AUTH_RESOURCE_PRINCIPAL;
	o.config_file = "/nonexistent/config";
	o.endpoint = "http://127.0.0.1:1";
	unsetenv("OCI_RESOURCE_PRINCIPAL_VERSION");
	assert_int_equal(tresor_config_load(&c, &o), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "2.2"));
	setenv("OCI_RESOURCE_PRINCIPAL_VERSION", "2.1", 1);
	assert_int_equal(tresor_config_load(&c, &o), TRESOR_EINVAL);
	setenv("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2", 1);
	assert_int_equal(tresor_config_load(&c, &o), TRESOR_EINVAL);

	/* a token file whose exp is far ahead, and the key as a path */
	(void)snprintf(claims, sizeof(claims), "{\"res_tenant\":\"t\","
	    "\"exp\":4102444800}");
	tr_base64url_encode(payload, sizeof(payload), claims, strlen(claims));
	(void)snprintf(tok, sizeof(tok), "eyJhbGciOiJIUzI1NiJ9.%s.c2ln\n",
	    payload);
	write_file("rpst", tok, 0600, tokpath);
	setenv("OCI_RESOURCE_PRINCIPAL_RPST", tokpath, 1);
	setenv("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", keypath, 1);
	assert_int_equal(tresor_config_load(&c, &o), 0);
	assert_int_equal(tresor_config_auth(c), TRESOR_AUTH_RESOURCE_PRINCIPAL);
	assert_int_equal(tresor_signer_new(&s, c), 0);
	assert_int_equal(tresor_sign(&h, s, "GET", "h", "/x", NULL, 0), 0);
	assert_non_null(strstr(h.authorization, "keyId=\"ST$eyJhbGciOiJIUzI1"
	    "NiJ9."));
	/* the trailing newline of the file is not part of the token */
	assert_non_null(strstr(h.authorization, ".c2ln\",algorithm"));
	tresor_signed_headers_dispose(&h);
	tresor_signer_free(s);
	tresor_config_free(c);
	/* a session key file readable by others is refused */
	chmod(keypath, 0644);
	assert_int_equal(tresor_config_load(&c, &o), 0);
	assert_int_equal(tresor_signer_new(&s, c), TRESOR_EPERM);
	chmod(keypath, 0600);
	tresor_config_free(c);
	/* the token inline */
	tok[strlen(tok) - 1] = '\0';
	setenv("OCI_RESOURCE_PRINCIPAL_RPST", tok, 1);
	assert_int_equal(tresor_config_load(&c, &o), 0);
	assert_int_equal(tresor_signer_new(&s, c), 0);
	tresor_signer_free(s);
	tresor_config_free(c);
	unsetenv("OCI_RESOURCE_PRINCIPAL_VERSION");
	unsetenv("OCI_RESOURCE_PRINCIPAL_RPST");
	unsetenv("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM");
	(void)f;
}

static void
test_encrypted_key_needs_pass_phrase(void **state)
{
	char path[256], text[1024], kp[256];
	tresor_config *c = NULL;
	tresor_signer *s = NULL;
	EVP_PKEY *k = EVP_RSA_gen(2048);
	FILE *f;

	(void)state;
	(void)snprintf(kp, sizeof(kp), "%s/enc.pem", dir);
	f = new_file(kp, 0600);
	assert_non_null(f);
	PEM_write_PrivateKey(f, k, EVP_aes_256_cbc(), NULL, 0, NULL,
	    (void *)"s3cret");
	fclose(f);
	EVP_PKEY_free(k);
	(void)snprintf(text, sizeof(text), "[DEFAULT]\nuser=u\nfingerprint=f\n"
	    "key_file=%s\ntenancy=t\n[withpass]\npass_phrase=s3cret\n"
	    "[wrongpass]\npass_phrase=nope\n", kp);
	write_file("config5", text, 0600, path);
	assert_int_equal(load(&c, path, NULL, false), 0);
	assert_int_equal(tresor_signer_new(&s, c), TRESOR_EINVAL);
	assert_non_null(strstr(tresor_error_last(), "pass_phrase"));
	tresor_config_free(c);
	assert_int_equal(load(&c, path, "wrongpass", false), 0);
	assert_int_equal(tresor_signer_new(&s, c), TRESOR_EINVAL);
	/* the pass phrase never appears in a message */
	assert_null(strstr(tresor_error_last(), "nope"));
	tresor_config_free(c);
	assert_int_equal(load(&c, path, "withpass", false), 0);
	assert_int_equal(tresor_signer_new(&s, c), 0);
	tresor_signer_free(s);
	tresor_config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles_and_default_inheritance),
		cmocka_unit_test(test_missing_profile_and_file),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_environment_overrides),
		cmocka_unit_test(test_key_file_readable_by_others_refused),
		cmocka_unit_test(test_home_expansion),
		cmocka_unit_test(test_resource_principal_env),
		cmocka_unit_test(test_encrypted_key_needs_pass_phrase),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
