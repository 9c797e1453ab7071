/**
 * @file fuzz_sip_msg.c  libFuzzer harness for the SIP parser (msg.c, hdr.c).
 *
 * Each input is tried as a stream (sip_msg_frame, then decoding the framed
 * message) and as a datagram (sip_msg_decode on all of it). Every header
 * of the decoded message then goes through each value helper, whole and
 * split by sip_hdr_values(). Beyond the sanitizers, the harness aborts
 * when a view points outside the input or a contract is broken (an error
 * without msg->err, a framed length past the input, a header that cannot
 * be found again by its own name).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lo, *hi;     /* the input */

static void inside(const struct pl *pl)
{
	uintptr_t p = (uintptr_t)pl->p;

	if (pl->l && (p < (uintptr_t)lo || p + pl->l > (uintptr_t)hi))
		abort();
}

static void uri_inside(const struct sip_uri *u)
{
	inside(&u->scheme);
	inside(&u->user);
	inside(&u->password);
	inside(&u->host);
	inside(&u->params);
	inside(&u->headers);
}

static void addr_inside(const struct sip_addr *a)
{
	inside(&a->dname);
	inside(&a->auri);
	uri_inside(&a->uri);
	inside(&a->params);
	inside(&a->tag);
}

static void via_inside(const struct sip_via *v)
{
	inside(&v->transport);
	inside(&v->host);
	inside(&v->branch);
	inside(&v->received);
	inside(&v->rport);
	inside(&v->params);
	inside(&v->val);
}

static void try_all(const struct pl *val)
{
	struct sip_addr a;
	struct sip_uri u;
	struct sip_via v;
	struct sip_cseq c;
	struct sip_auth au;
	struct pl p;

	if (sip_addr_decode(&a, val) == 0) {
		addr_inside(&a);
		if (sip_param_get(&a.params, "expires", &p) == 0)
			inside(&p);
		if (sip_param_get(&a.uri.params, "transport", &p) == 0)
			inside(&p);
	}
	if (sip_uri_decode(&u, val) == 0)
		uri_inside(&u);
	if (sip_via_decode(&v, val) == 0)
		via_inside(&v);
	if (sip_cseq_decode(&c, val) == 0)
		inside(&c.met);
	if (sip_auth_decode(&au, val) == 0) {
		inside(&au.scheme);
		inside(&au.username);
		inside(&au.realm);
		inside(&au.nonce);
		inside(&au.uri);
		inside(&au.response);
		inside(&au.algorithm);
		inside(&au.cnonce);
		inside(&au.opaque);
		inside(&au.qop);
		inside(&au.nc);
	}
	if (sip_param_get(val, "tag", &p) == 0)
		inside(&p);
}

static int each_value(const struct pl *val, void *arg)
{
	unsigned *n = arg;

	inside(val);
	if (!val->l)
		abort();        /* empty elements are skipped */
	try_all(val);
	return ++*n > 64;   /* stop long lists: covers the early exit too */
}

static void check(const struct sip_msg *msg)
{
	unsigned i;

	inside(&msg->met);
	inside(&msg->ruri_s);
	uri_inside(&msg->ruri);
	inside(&msg->reason);
	inside(&msg->ver);
	via_inside(&msg->via);
	addr_inside(&msg->from);
	addr_inside(&msg->to);
	inside(&msg->callid);
	inside(&msg->cseq.met);
	inside(&msg->body);
	if (msg->hdrc > SIP_MAX_HDRS)
		abort();
	for (i = 0; i < msg->hdrc; i++) {
		inside(&msg->hdrv[i].name);
		inside(&msg->hdrv[i].val);
	}
}

static void exercise(const struct sip_msg *msg)
{
	unsigned i;

	for (i = 0; i < msg->hdrc; i++) {
		const struct sip_hdr *h = &msg->hdrv[i];
		char name[64];
		unsigned n = 0;

		try_all(&h->val);
		if (sip_hdr_values(&h->val, each_value, &n) > 1)
			abort();
		pl_strcpy(&h->name, name, sizeof(name));
		if (strlen(name) == h->name.l && !sip_msg_hdr_name(msg, name))
			abort();
		if (sip_msg_hdr_next(msg, h) && sip_msg_hdr_next(msg, h) <= h)
			abort();
	}
	(void)sip_msg_hdr(msg, SIP_HDR_CONTACT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_msg msg;
	const char *buf = (const char *)data;
	size_t skip = 0, ml = 0;
	int err;

	lo = buf;
	hi = buf + size;

	err = sip_msg_frame(buf, size, &skip, &ml);
	if (skip > size)
		abort();
	if (err == 0) {
		if (!ml || ml > size - skip || ml > SIP_MSG_MAX)
			abort();
		err = sip_msg_decode(&msg, buf + skip, ml);
		if ((err != 0 && err != EBADMSG) || (err == 0) != (msg.err == NULL))
			abort();
		check(&msg);
	}
	else if (err != EAGAIN && err != EBADMSG && err != EMSGSIZE)
		abort();

	err = sip_msg_decode(&msg, buf, size);
	if ((err != 0 && err != EBADMSG) || (err == 0) != (msg.err == NULL))
		abort();
	if (msg.len > size || (msg.req && !msg.met.l))
		abort();
	check(&msg);
	exercise(&msg);
	return 0;
}
