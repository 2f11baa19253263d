/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoints and percent-encoding (see client_int.h).  An endpoint is the
 * profile's `endpoint` or a vault's management/crypto endpoint; the host
 * it yields is what the Host header carries and what is signed.
 */
#include <stdio.h>
#include <string.h>

#include "client/client_int.h"
#include "util/error.h"
#include "util/parse.h"

static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

int
tr_url_parse(struct tr_url *u, const char *endpoint)
{
	const char *p, *auth, *auth_end, *host_end, *port = NULL;
	size_t hlen, plen, i;
	uint64_t portnum = 0;
	bool v6 = false;

	memset(u, 0, sizeof(*u));
	if (strncmp(endpoint, "https://", 8) == 0) {
		u->https = true;
		auth = endpoint + 8;
	} else if (strncmp(endpoint, "http://", 7) == 0) {
		auth = endpoint + 7;
	} else {
		return tr_error_set(TRESOR_EINVAL,
		    "endpoint '%.200s' must start with http:// or https://",
		    endpoint);
	}
	if (strpbrk(endpoint, "?#@ \t\r\n\"\\") != NULL)
		return tr_error_set(TRESOR_EINVAL,
		    "endpoint '%.200s' must not contain user info, a query, a "
		    "fragment, spaces or quotes", endpoint);
	auth_end = strchr(auth, '/');
	if (auth_end == NULL)
		auth_end = auth + strlen(auth);
	if (auth == auth_end)
		return tr_error_set(TRESOR_EINVAL,
		    "endpoint '%.200s' has no host", endpoint);
	p = auth;
	if (*p == '[') {
		v6 = true;
		host_end = memchr(p, ']', (size_t)(auth_end - p));
		if (host_end == NULL)
			return tr_error_set(TRESOR_EINVAL,
			    "endpoint '%.200s': unterminated [IPv6] host",
			    endpoint);
		for (i = 1; p + i < host_end; i++)
			if (!(host_char(p[i]) || p[i] == ':'))
				goto badhost;
		host_end++;
		if (host_end < auth_end) {
			if (*host_end != ':')
				goto badhost;
			port = host_end + 1;
		}
	} else {
		host_end = memchr(p, ':', (size_t)(auth_end - p));
		if (host_end != NULL)
			port = host_end + 1;
		else
			host_end = auth_end;
		for (i = 0; p + i < host_end; i++)
			if (!host_char(p[i]))
				goto badhost;
	}
	hlen = (size_t)(host_end - p);
	if (hlen == 0 || (v6 && hlen < 3))
		goto badhost;
	if (port != NULL) {
		if (tr_parse_u64(port, (size_t)(auth_end - port), 1, 65535,
		    &portnum) < 0)
			return tr_error_set(TRESOR_EINVAL,
			    "endpoint '%.200s' has an invalid port", endpoint);
	}
	if ((size_t)(auth_end - endpoint) >= sizeof(u->origin) ||
	    hlen + 7 >= sizeof(u->host))
		return tr_error_set(TRESOR_EINVAL,
		    "endpoint '%.200s' is too long", endpoint);
	memcpy(u->origin, endpoint, (size_t)(auth_end - endpoint));
	u->origin[auth_end - endpoint] = '\0';
	memcpy(u->host, p, hlen);
	u->host[hlen] = '\0';
	if (port != NULL && portnum != (u->https ? 443u : 80u))
		(void)snprintf(u->host + hlen, sizeof(u->host) - hlen, ":%u",
		    (unsigned int)portnum);
	plen = strlen(auth_end);
	while (plen > 0 && auth_end[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(u->prefix))
		return tr_error_set(TRESOR_EINVAL,
		    "endpoint '%.200s' has a path prefix that is too long",
		    endpoint);
	memcpy(u->prefix, auth_end, plen);
	u->prefix[plen] = '\0';
	return 0;
badhost:
	return tr_error_set(TRESOR_EINVAL,
	    "endpoint '%.200s' has an invalid host", endpoint);
}

int
tr_url_encode(struct tr_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			tr_buf_addc(out, (char)*p);
		} else {
			tr_buf_addc(out, '%');
			tr_buf_addc(out, hex[*p >> 4]);
			tr_buf_addc(out, hex[*p & 15]);
		}
	}
	return tr_buf_error(out);
}
