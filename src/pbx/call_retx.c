/**
 * @file call_retx.c  Our 2xx to an INVITE, sent again until its ACK (RFC
 * 3261 13.3.1.4: the UAS core, not the transaction, retransmits 2xx over
 * UDP at T1, 2*T1, ... capped at T2, and gives up after 64*T1). Used for
 * the caller's answer (call.c) and the picker's (call_pickup.c).
 */
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "pbx/call_int.h"

static void retx_fire(void *arg)
{
	struct retx2xx *r = arg;

	if (r->acked || !r->st)
		return;
	r->total += r->interval;
	if (r->total >= 64 * sip_t1) {
		log_notice("call %u: no ACK for our 200 OK, hanging up", r->call->id);
		call_end(r->call, 0);
		return;
	}
	sip_strans_resend(r->st);
	r->interval = r->interval * 2 < SIP_T2 ? r->interval * 2 : SIP_T2;
	tmr_start(&r->tmr, r->interval, retx_fire, r);
}

void call_retx_start(struct retx2xx *r, struct call *c, struct sip_strans *st,
		     const struct sip_src *to)
{
	call_retx_stop(r);
	r->call = c;
	r->acked = false;
	if (to->tp != SIP_TRANSP_UDP)
		return;
	r->st = mem_ref(st);
	r->interval = sip_t1;
	r->total = 0;
	tmr_start(&r->tmr, r->interval, retx_fire, r);
}

bool call_retx_ack(struct retx2xx *r)
{
	bool first = !r->acked;

	r->acked = true;
	tmr_cancel(&r->tmr);
	r->st = mem_deref(r->st);
	return first;
}

void call_retx_stop(struct retx2xx *r)
{
	tmr_cancel(&r->tmr);
	r->st = mem_deref(r->st);
}
