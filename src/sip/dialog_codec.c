/**
 * @file dialog_codec.c  A dialog as TLVs for a standby (CALL_SNAP,
 * docs/design/cluster.md 9) and back. Everything but the table link, the
 * in_table flag and the owner, which the node that restores it rebuilds;
 * dst keeps transport, address and local address, not the socket (UDP
 * leaves from the listener of the family, sip_transp_send()).
 *
 * Decoding treats the bytes as hostile: each value's length is checked,
 * strings may not hold a NUL, unknown tags are skipped, a dialog missing
 * a field it needs is EBADMSG.
 */
#include <stdlib.h>
#include <string.h>

#include "ha/tlv_val.h"
#include "sip/dialog.h"

/* The tripwire of design 9: a new field in struct sip_dialog must be
 * added to the codec below (or named here as rebuilt), then N updated. */
#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(struct sip_dialog) == 384, "add the field to dialog_codec.c");
#endif

enum {
	T_STATE = 1, T_UAC, T_CALLID, T_LTAG, T_RTAG, T_LHDR, T_RHDR, T_RTARGET, T_ROUTES,
	T_CONTACT, T_LSEQ, T_RSEQ, T_TP, T_ADDR, T_LOCAL,
};

#define STR_MAX 8192u     /* a header value, a route set */

int sip_dialog_encode(struct jnl_wbuf *b, const struct sip_dialog *d)
{
	int e = 0;

	e = e ? e : tlv_put_u64(b, T_STATE, (uint64_t)d->state);
	e = e ? e : tlv_put_u64(b, T_UAC, d->uac);
	e = e ? e : tlv_put_str(b, T_CALLID, d->callid);
	e = e ? e : tlv_put_str(b, T_LTAG, d->ltag);
	e = e ? e : tlv_put_str(b, T_RTAG, d->rtag);
	e = e ? e : tlv_put_str(b, T_LHDR, d->lhdr);
	e = e ? e : tlv_put_str(b, T_RHDR, d->rhdr);
	e = e ? e : tlv_put_str(b, T_RTARGET, d->rtarget);
	e = e ? e : tlv_put_str(b, T_ROUTES, d->routes);
	e = e ? e : tlv_put_str(b, T_CONTACT, d->contact);
	e = e ? e : tlv_put_u64(b, T_LSEQ, d->lseq);
	e = e ? e : tlv_put_u64(b, T_RSEQ, d->rseq);
	e = e ? e : tlv_put_u64(b, T_TP, (uint64_t)d->dst.tp);
	e = e ? e : tlv_put_sa(b, T_ADDR, &d->dst.addr);
	e = e ? e : tlv_put_sa(b, T_LOCAL, &d->dst.local);
	return e;
}

static int dup_str(const struct pl *v, char **out)
{
	char *s;

	if (v->l > STR_MAX || memchr(v->p, '\0', v->l))
		return EBADMSG;
	if (!(s = malloc(v->l + 1)))
		return ENOMEM;
	memcpy(s, v->p, v->l);
	s[v->l] = '\0';
	free(*out);      /* a repeated tag: the last one wins */
	*out = s;
	return 0;
}

static int field(struct sip_dialog *d, uint16_t tag, const struct pl *v)
{
	uint64_t x;
	int e;

	switch (tag) {
	case T_STATE:
		if (!(e = tlv_get_uint(v, DIALOG_TERMINATED, &x)))
			d->state = (enum sip_dialog_state)x;
		return e;
	case T_UAC:
		if (!(e = tlv_get_uint(v, 1, &x)))
			d->uac = x;
		return e;
	case T_CALLID:  return dup_str(v, &d->callid);
	case T_LTAG:    return dup_str(v, &d->ltag);
	case T_RTAG:    return dup_str(v, &d->rtag);
	case T_LHDR:    return dup_str(v, &d->lhdr);
	case T_RHDR:    return dup_str(v, &d->rhdr);
	case T_RTARGET: return dup_str(v, &d->rtarget);
	case T_ROUTES:  return dup_str(v, &d->routes);
	case T_CONTACT: return dup_str(v, &d->contact);
	case T_LSEQ:
		if (!(e = tlv_get_uint(v, UINT32_MAX, &x)))
			d->lseq = (uint32_t)x;
		return e;
	case T_RSEQ:
		if (!(e = tlv_get_uint(v, UINT32_MAX, &x)))
			d->rseq = (uint32_t)x;
		return e;
	case T_TP:
		if (!(e = tlv_get_uint(v, SIP_TRANSP_TCP, &x)))
			d->dst.tp = (enum sip_transp)x;
		return e;
	case T_ADDR:
		if ((e = tlv_get_sa(v, &d->dst.addr)))
			return e;
		d->dst.alen = d->dst.addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							       : sizeof(struct sockaddr_in);
		return 0;
	case T_LOCAL:
		return tlv_get_sa(v, &d->dst.local);
	default:
		return 0;        /* a newer node's field: skipped */
	}
}

int sip_dialog_decode(struct sip_dialog **dp, struct pl tlv)
{
	struct sip_dialog *d = calloc(1, sizeof(*d));
	uint16_t tag;
	struct pl v;
	int e = 0;

	if (!d)
		return ENOMEM;
	d->dst.fd = -1;
	while (!e && jnl_tlv_next(&tlv, &tag, &v))
		e = field(d, tag, &v);
	if (!e && (tlv.l || !d->callid || !d->ltag || !d->rtag || !d->lhdr || !d->rhdr ||
		   !d->rtarget || !d->routes || !d->contact || !d->ltag[0] || !d->rtag[0] ||
		   d->dst.addr.ss_family == 0))
		e = EBADMSG;
	if (e) {
		sip_dialog_free(d);
		return e;
	}
	*dp = d;
	return 0;
}
