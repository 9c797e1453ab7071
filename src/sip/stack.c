/**
 * @file stack.c  Dispatch of incoming messages (RFC 3261 17.1.3, 17.2.3):
 * responses to client transactions, retransmitted requests to their server
 * transaction, new requests to the TU in a new server transaction, ACKs
 * for 2xx to the TU; a 2xx to an INVITE that nothing knows gets ACK and
 * BYE (sip_dialog_stray_2xx: a callee that answered a node that failed). Malformed requests whose Via, From, To, Call-ID and
 * CSeq could be read get a stateless 400 naming the problem; anything
 * less is dropped and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "ha/ha.h"
#include "sip/sip.h"

int sip_strans_table_init(void);
int sip_ctrans_table_init(void);

static struct sip_stack_handlers handlers;

uint32_t sip_t1 = SIP_T1_DEFAULT;
uint32_t sip_timer_b = 64 * SIP_T1_DEFAULT;

void sip_timers_set(uint32_t t1, uint32_t timer_b)
{
	sip_t1 = t1 ? t1 : SIP_T1_DEFAULT;
	sip_timer_b = timer_b ? timer_b : 64 * sip_t1;
}

int sip_stack_init(const struct sip_stack_handlers *h)
{
	int err;

	handlers = *h;
	err = sip_strans_table_init();
	if (!err)
		err = sip_ctrans_table_init();
	return err;
}

void sip_stack_close(void)
{
	sip_strans_close();
	sip_ctrans_close();
}

static void bad_request(const struct sip_msg *msg, const struct sip_src *src)
{
	char a[80], reason[96];

	sip_sa_str(&src->addr, a, sizeof(a));
	log_security("request_rejected", a, "", msg->err ? msg->err : "malformed");
	/* Only a request whose routing headers were read can be answered. */
	if (!msg->req || !pl_isset(&msg->via.val) || !pl_isset(&msg->callid) ||
	    !pl_isset(&msg->cseq.met) || !sip_msg_hdr(msg, SIP_HDR_FROM) ||
	    !sip_msg_hdr(msg, SIP_HDR_TO) || sip_met_is(&msg->met, "ACK"))
		return;
	if (msg->err && !strncmp(msg->err, "Version", 7)) {
		sip_reply_stateless(msg, src, 505, NULL, NULL);
		return;
	}
	snprintf(reason, sizeof(reason), "Bad Request (%s)",
		 msg->err ? msg->err : "malformed");
	sip_reply_stateless(msg, src, 400, reason, NULL);
}

void sip_stack_recv(struct sip_msg *msg, int err, const struct sip_src *src)
{
	struct sip_strans *st;

	/* A cluster node that does not serve (standby, promoting, fenced:
	 * docs/design/cluster.md 5) answers nothing: datagrams that reach it
	 * are dropped and the UA retransmits to whoever holds the address. */
	if (!ha_serving())
		return;
	if (err) {
		bad_request(msg, src);
		return;
	}
	if (!msg->req) {
		if (sip_ctrans_recv(msg, src))
			return;
		if (msg->scode >= 200 && msg->scode < 300 && sip_met_is(&msg->cseq.met, "INVITE"))
			sip_dialog_stray_2xx(msg, src);   /* 13.2.2.4: ACK, then BYE */
		else
			log_debug("sip: stray %u response dropped", msg->scode);
		return;
	}
	if (sip_strans_recv(msg, src))
		return;
	if (sip_met_is(&msg->met, "ACK")) {
		if (handlers.ack)
			handlers.ack(msg, src);
		return;
	}
	if (msg->has_maxfwd && msg->maxfwd == 0 && !sip_met_is(&msg->met, "OPTIONS")) {
		sip_reply_stateless(msg, src, 483, NULL, NULL);
		return;
	}
	if (sip_strans_new(&st, msg, src) != 0) {
		sip_reply_stateless(msg, src, 500, NULL, NULL);
		return;
	}
	handlers.request(st, msg, src);
}
