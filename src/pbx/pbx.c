/**
 * @file pbx.c  Method dispatch and the current configuration snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "pbx/config.h"
#include "pbx/pbx.h"
#include "pbx/call.h"
#include "pbx/presence.h"
#include "pbx/registrar.h"

#define ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, NOTIFY, SUBSCRIBE, INFO, REFER, UPDATE"

static struct sipconf *cur;
static struct dialplan *cur_dp;
static struct vmconf *cur_vm;
static struct mohconf *cur_moh;

int pbx_set_business(struct pbx_config *cfg)
{
	struct queue_state *qs = queue_state_current();
	int e;

	vmconf_free(cur_vm);
	cur_vm = cfg->voicemail;
	cfg->voicemail = NULL;
	mohconf_free(cur_moh);
	cur_moh = cfg->moh;
	cfg->moh = NULL;
	if (qs)
		return queue_state_reload(qs, cfg->queues);
	e = queue_state_new(&qs, cfg->queues);
	if (e)
		return e;
	queue_state_set_current(qs);
	e = queue_store_attach(qs);
	if (e)
		log_warn("queues: the saved dynamic members could not be read: %s",
			 strerror(e));
	return 0;
}

const struct vmconf *pbx_vmconf(void)
{
	return cur_vm;
}

struct mohconf *pbx_mohconf(void)
{
	return cur_moh;
}

void pbx_set_dialplan(struct dialplan *dp)
{
	dialplan_free(cur_dp);
	cur_dp = dp;
}

struct dialplan *pbx_dialplan(void)
{
	return cur_dp;
}

const struct sipconf *pbx_sipconf(void)
{
	return cur;
}

void pbx_set_sipconf(struct sipconf *sc)
{
	struct sipconf *old = cur;

	cur = sc;
	sip_timers_set(sc->gen.timert1, sc->gen.timerb);
	if (old) {
		registrar_reconfigure();
		sipconf_free(old);
	}
}

void pbx_close(void)
{
	sipconf_free(cur);
	cur = NULL;
	dialplan_free(cur_dp);
	cur_dp = NULL;
	queue_state_free(queue_state_current());
	queue_state_set_current(NULL);
	vmconf_free(cur_vm);
	cur_vm = NULL;
	mohconf_free(cur_moh);
	cur_moh = NULL;
}

void pbx_request(struct sip_strans *st, const struct sip_msg *msg,
		 const struct sip_src *src)
{
	const struct pl *m = &msg->met;

	if (sip_met_is(m, "REGISTER")) {
		registrar_handle(st, msg, src);
	} else if (sip_met_is(m, "OPTIONS")) {
		sip_strans_reply(st, 200, NULL, "Allow: " ALLOW "\r\nAccept: application/sdp\r\n"
				 "Supported: replaces, timer\r\n", NULL, NULL, 0);
	} else if (sip_met_is(m, "INVITE") && !pl_isset(&msg->to.tag)) {
		call_incoming(st, msg, src);
	} else if (sip_met_is(m, "INVITE") || sip_met_is(m, "BYE") ||
		   sip_met_is(m, "CANCEL") || sip_met_is(m, "INFO") ||
		   sip_met_is(m, "UPDATE") || sip_met_is(m, "REFER")) {
		call_in_dialog(st, msg, src);
	} else if (sip_met_is(m, "SUBSCRIBE")) {
		presence_subscribe(st, msg, src);
	} else if (sip_met_is(m, "NOTIFY")) {
		presence_notify_in(st, msg, src);
	} else if (sip_met_is(m, "MESSAGE")) {
		/* messaging is not built yet */
		sip_strans_reply(st, 501, NULL, NULL, NULL, NULL, 0);
	} else {   /* PUBLISH too: no event state is published to Tandem */
		sip_strans_reply(st, 405, NULL, "Allow: " ALLOW "\r\n", NULL, NULL, 0);
	}
}

void pbx_ack(const struct sip_msg *msg, const struct sip_src *src)
{
	call_ack(msg, src);
}
