/**
 * @file qualify.c  chan_sip's qualify: OPTIONS to each registered peer
 * with qualify=yes every qualifyfreq seconds. An answer (any status)
 * within maxms is OK, a later one LAGGED; none within twice maxms (at
 * least 2 s) is UNREACHABLE. Transitions are logged once.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "pbx/registrar.h"

static void send_options(void *arg);

static const struct peer *peer_of(const struct binding *b)
{
	struct pl n = { b->peer, strlen(b->peer) };
	return sipconf_peer(pbx_sipconf(), &n);
}

static void set_state(struct binding *b, enum qualify_state s)
{
	if (b->qstate == s)
		return;
	if (s == QUALIFY_UNREACHABLE || b->qstate == QUALIFY_UNREACHABLE ||
	    b->qstate == QUALIFY_UNKNOWN)
		log_notice("qualify: peer %s is now %s%s", b->peer, qualify_state_name(s),
			   s == QUALIFY_OK ? "" : "");
	b->qstate = s;
}

static void resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct binding *b = arg;
	const struct peer *p = peer_of(b);
	uint64_t rtt;

	if (!msg || msg->scode < 200) {
		if (err && b->qct) {
			b->qct = NULL;
			set_state(b, QUALIFY_UNREACHABLE);
		}
		return;
	}
	b->qct = NULL;
	rtt = loop_now() - b->qsent;
	b->latency_ms = (uint32_t)rtt;
	set_state(b, p && rtt > p->qualify_maxms ? QUALIFY_LAGGED : QUALIFY_OK);
	tmr_start(&b->qtmr, p ? (uint64_t)p->qualifyfreq * 1000 : 60000, send_options, b);
}

static void timeout_h(void *arg)
{
	struct binding *b = arg;
	const struct peer *p = peer_of(b);

	if (b->qct) {
		sip_ctrans_abandon(b->qct);
		b->qct = NULL;
		set_state(b, QUALIFY_UNREACHABLE);
	}
	tmr_start(&b->qtmr, p ? (uint64_t)p->qualifyfreq * 1000 : 60000, send_options, b);
}

static void send_options(void *arg)
{
	struct binding *b = arg;
	const struct peer *p = peer_of(b);
	char hdrs[1600], callid[33], tag[17], host[64];
	uint16_t port;
	uint32_t wait;

	if (!p || !p->qualify)
		return;
	sip_rand_token(callid, 32);
	sip_rand_token(tag, 16);
	if (sip_transp_local(&b->src, host, sizeof(host), &port) != 0)
		host[0] = '\0';
	snprintf(hdrs, sizeof(hdrs),
		 "Max-Forwards: 70\r\nFrom: <sip:tandem@%s>;tag=%s\r\nTo: <%s>\r\n"
		 "Call-ID: %s\r\nCSeq: 102 OPTIONS\r\nAccept: application/sdp\r\n"
		 "User-Agent: Tandem/" TANDEM_VERSION "\r\n", host, tag, b->contact, callid);
	if (b->qct)
		sip_ctrans_abandon(b->qct);
	b->qct = NULL;
	b->qsent = loop_now();
	if (sip_ctrans_request(&b->qct, &b->src, "OPTIONS", b->contact, hdrs, NULL,
			       NULL, 0, resp_h, b) != 0) {
		b->qct = NULL;
		set_state(b, QUALIFY_UNREACHABLE);
		tmr_start(&b->qtmr, (uint64_t)p->qualifyfreq * 1000, send_options, b);
		return;
	}
	wait = p->qualify_maxms * 2 > 2000 ? p->qualify_maxms * 2 : 2000;
	tmr_start(&b->qtmr, wait, timeout_h, b);
}

void qualify_start(struct binding *b)
{
	const struct peer *p = peer_of(b);
	uint16_t r = 0;

	if (!p || !p->qualify) {
		qualify_stop(b);
		b->qstate = QUALIFY_UNMONITORED;
		return;
	}
	if (tmr_isset(&b->qtmr))
		return;
	if (b->qstate == QUALIFY_UNMONITORED)
		b->qstate = QUALIFY_UNKNOWN;
	RAND_bytes((unsigned char *)&r, sizeof(r));
	tmr_start(&b->qtmr, 50 + r % 1000, send_options, b);   /* spread the load */
}

void qualify_stop(struct binding *b)
{
	tmr_cancel(&b->qtmr);
	if (b->qct)
		sip_ctrans_abandon(b->qct);
	b->qct = NULL;
}
