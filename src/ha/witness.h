/**
 * @file witness.h  The witness (docs/design/cluster.md 6): the process
 * (`tandemd --witness`), its frames, and the nodes' side of it (quorum.c).
 *
 * Link: the nodes' TLS-PSK link (link.h) between node N and the end named
 * "witness", key and identity "tandem/<cluster>/N/witness"; the node dials.
 * The witness listens on `witness = ADDR[:PORT]` of [cluster] (or -l), one
 * port per node: PORT for the first node of [cluster], PORT + 1 for the
 * second. The link's PINGs (every 50 ms: epoch, role, offset) are W_STATE.
 *
 * Frames (little-endian, str = u16 length + bytes):
 *   W_REQUEST  u64 epoch; u64 offset          node -> witness (renewal too)
 *   W_GRANT    u64 epoch; u32 lease_ms        witness -> node
 *   W_DENY     u64 epoch; u32 ms_left; str holder; str why
 *   W_RELEASE  (empty)                        node -> witness
 *   W_OUTDATED str node; u64 offset           holder -> witness, echoed back
 *   W_CURRENT  str node                       holder -> witness, echoed back
 */
#ifndef TANDEM_HA_WITNESS_H
#define TANDEM_HA_WITNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha/cluster_conf.h"
#include "ha/jnl_codec.h"
#include "ha/link.h"

#define WITNESS_NAME "witness"

struct wit_msg {
	uint64_t epoch, offset;
	uint32_t lease_ms, ms_left;
	char node[CLUSTER_NAME_MAX];     /* OUTDATED, CURRENT; DENY: holder */
	char why[256];                   /* DENY */
};

/** Encode frame type from m into b (0 or ENOMEM/EINVAL). */
int wit_msg_encode(struct jnl_wbuf *b, uint8_t type, const struct wit_msg *m);
/** Decode; 0 or EBADMSG (lengths, trailing bytes). */
int wit_msg_decode(struct wit_msg *m, uint8_t type, const uint8_t *p, size_t len);
const char *wit_msg_name(uint8_t type);

/** The witness's address for node i (port + i). */
void witness_addr_of(const struct sockaddr_storage *base, unsigned i,
		     struct sockaddr_storage *out);

/**
 * `tandemd --witness -C CONFDIR -D DIR [-l ADDR:PORT]`: runs until SIGTERM
 * or SIGINT. The exit status (0, or 1 with why on stderr and in the log).
 */
int witness_main(const char *confdir, const char *dir, const char *listen);

/* ------------------------------------------------- the nodes' side */

/** Start the witness link of node self (nothing when cc has no witness). */
int  quorum_start(const struct cluster_conf *cc, unsigned self);
void quorum_stop(void);
/** True when a witness is configured. */
bool quorum_witness(void);
/** This node holds a witness lease that has not run out (own clock). */
bool quorum_lease_valid(void);

/** A standby's vote to promote on the peer's silence. */
enum quorum_vote { QV_NONE, QV_WAIT, QV_GRANTED, QV_DENIED };
/**
 * GRANTED: the witness granted the next epoch (always, without a witness);
 * WAIT: asked, no answer yet (the change callback runs when it comes);
 * DENIED: not taking over, quorum_denied() says why.
 */
enum quorum_vote quorum_vote(void);
/** The last vote asked was granted (no side effect). */
bool quorum_granted(void);
/** Forget the vote (the peer is heard again). */
void quorum_vote_reset(void);
const char *quorum_denied(void);
typedef void (quorum_changed_h)(void);
void quorum_on_change(quorum_changed_h *h);

/** After a freeze: may an ACTIVE node go on (its lease still runs)? */
bool quorum_resume_ok(void);
/** ACTIVE -> FENCED with why (ha_quiesce). */
void quorum_fence(const char *why);

/** Going alone: W_OUTDATED(peer, offset); W_CURRENT(peer) once caught up. */
void quorum_outdated(uint64_t offset);
/** The standby went silent at offset: W_OUTDATED now, again every 500 ms
 * until echoed (the echo calls repl_alone_recorded). */
void quorum_alone(uint64_t offset);
void quorum_current(void);
/*
 * The peer's vote (design 6), with or without a witness. A node that does
 * not serve grants its vote in each PONG (vote_lease_ms = lease) and
 * promises not to promote, nor ask the witness, before its last grant +
 * lease unless the active's link closed (FIN, RST). The active holds the
 * vote until the send time of the PING that a granting PONG answered +
 * 0.95 x lease, on its own clock.
 */
/** Start the peer vote with the lease of [cluster] (before any PONG). */
void quorum_peer_start(uint32_t lease_ms);
/** What this node's PONG grants now: lease_ms while it does not serve, else 0. */
uint32_t quorum_peer_grant(void);
/** A PING was answered by a PONG carrying quorum_peer_grant(). */
void quorum_peer_pinged(void);
/** A PONG answered our PING sent at sent_ms (own clock), granting lease_ms. */
void quorum_peer_ponged(uint64_t sent_ms, uint32_t lease_ms);
/** The replication link closed (any reason): the peer's vote ends now. */
void quorum_peer_lost(void);
/** The active holds the peer's vote now. */
bool quorum_peer_vote(void);
/** ms left of this node's promise (last grant + lease), 0 when none. */
uint64_t quorum_promise_left(void);

/** {"have", "of", "witness": {address, state, holder, lease_ms_left} | null} */
json_t *quorum_status_json(void);

#endif
