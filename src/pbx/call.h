/**
 * @file call.h  Calls: the back-to-back user agent (B2BUA).
 *
 * A call has an incoming leg (the caller's INVITE, a UAS dialog) and one
 * or more outgoing legs (our INVITEs, UAC dialogs; several when Dial forks
 * with '&'). The first outgoing leg to answer is bridged, the others are
 * cancelled. Every state is an enum with a name tandemctl prints.
 *
 *  CALL_ROUTING  -> the dialplan decides (call_router_h)
 *  CALL_DIALING  -> outgoing legs sent, nothing back yet
 *  CALL_RINGING  -> a 180/183 came back and was passed on
 *  CALL_UP       -> answered and bridged
 *  CALL_ENDED    -> both sides closed; the call is freed
 */
#ifndef TANDEM_PBX_CALL_H
#define TANDEM_PBX_CALL_H

#include <jansson.h>
#include <stdint.h>

#include "sip/dialog.h"
#include "sip/sip.h"

enum call_state { CALL_ROUTING, CALL_DIALING, CALL_RINGING, CALL_UP, CALL_ENDED };

struct call;

/**
 * Routing: decide what an incoming call does. By default (router NULL)
 * the dialplan does, from the caller's context and the dialled extension;
 * tests may route otherwise. Returns 0 when it started something
 * (call_dial), or a SIP status to answer the caller with.
 */
typedef int (call_router_h)(struct call *c, const char *context, const char *exten);

int  call_init(call_router_h *router);
void call_close(void);
/** A new INVITE (no To tag) arrived in server transaction st. */
void call_incoming(struct sip_strans *st, const struct sip_msg *msg,
		   const struct sip_src *src);
/** An in-dialog request (BYE, re-INVITE, ACK, INFO...) or CANCEL. */
bool call_in_dialog(struct sip_strans *st, const struct sip_msg *msg,
		    const struct sip_src *src);
/** ACK to a 2xx (no server transaction). */
void call_ack(const struct sip_msg *msg, const struct sip_src *src);
/** Dial "SIP/peer" targets ('&'-separated) with a timeout (0: none). */
int  call_dial(struct call *c, const char *targets, unsigned timeout_s);
/** Hang up a call by id (tandemctl calls hangup ID). */
int  call_hangup_id(uint32_t id);
size_t call_count(void);
/** Calls set up since start (incoming INVITEs that became calls). */
uint64_t call_started_total(void);
json_t *call_json(void);
const char *call_state_name(enum call_state s);
struct presence_usage;
/** How peer is in calls, for busy lamps (presence_usage_h of presence.h). */
void call_peer_usage(const char *peer, struct presence_usage *u);

#endif
