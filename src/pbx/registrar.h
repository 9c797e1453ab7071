/**
 * @file registrar.h  The registrar (RFC 3261 10) with chan_sip's peer
 * semantics: one contact per peer, host=dynamic peers only, expiry
 * bounded by sip.conf's minexpiry/maxexpiry (423 below the minimum),
 * digest authentication per RFC 8760, bindings persisted in the store
 * and restored at start, qualify (OPTIONS) per peer.
 */
#ifndef TANDEM_PBX_REGISTRAR_H
#define TANDEM_PBX_REGISTRAR_H

#include <jansson.h>
#include <stdint.h>

#include "core/hash.h"
#include "core/loop.h"
#include "pbx/peers.h"
#include "sip/sip.h"

enum qualify_state { QUALIFY_UNMONITORED, QUALIFY_UNKNOWN, QUALIFY_OK,
		     QUALIFY_LAGGED, QUALIFY_UNREACHABLE };

struct binding {
	struct hash_le le;
	char *peer;
	char *contact;
	char *callid;
	char *ua;
	uint32_t cseq;
	int64_t expires_at;      /* wall clock seconds */
	struct sip_src src;      /* where requests to the peer go (NAT aware) */
	struct tmr expire;
	/* qualify */
	enum qualify_state qstate;
	uint32_t latency_ms;
	uint64_t qsent;
	struct tmr qtmr;
	struct sip_ctrans *qct;
};

int  registrar_init(void);
void registrar_close(void);
/** Restore stored bindings (at start-up, after the config is loaded). */
int  registrar_restore(void);
/** Cluster standby after a full resync: drop every binding in memory and
 * restore the stored ones (registrar_restore). */
int  registrar_reload(void);
/* The cluster's write path (ha/turn.h): on the standby, replicated
 * bindings update memory only (no expiry timer, no qualify, nothing sent);
 * registrar_promote() starts timers and qualify for every binding (an
 * expired one is removed), registrar_quiesce() stops them. */
struct jnl_binding_put;
struct jnl_binding_del;
int  registrar_apply_put(const struct jnl_binding_put *jb);
int  registrar_apply_del(const struct jnl_binding_del *jb);
void registrar_promote(void);
void registrar_quiesce(void);
/** Handle a REGISTER in server transaction st. */
void registrar_handle(struct sip_strans *st, const struct sip_msg *msg,
		      const struct sip_src *src);
/** The config changed: drop bindings of peers that are gone. */
void registrar_reconfigure(void);
struct binding *registrar_find(const char *peer);
size_t registrar_count(void);
/** {"registrations":[...]} for tandemctl. */
json_t *registrar_json(void);
const char *qualify_state_name(enum qualify_state s);
/** Peer status as chan_sip prints it: "OK (12 ms)", "UNREACHABLE", ... */
void registrar_peer_status(const struct peer *p, char *buf, size_t size);

/* qualify.c */
void qualify_start(struct binding *b);
void qualify_stop(struct binding *b);

/* The current sip.conf snapshot (owned by main.c's config holder). */
const struct sipconf *pbx_sipconf(void);

#endif
