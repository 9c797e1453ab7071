/**
 * @file ha.h  What the rest of tandemd sees of the cluster: the node's
 * role, and the journal write path (docs/design/cluster.md 1, 2.5, 5).
 *
 * Three parts, three owners; this header is their agreement:
 *  - roles (src/ha/role.c): who serves;
 *  - write path (src/ha/turn.c): every durable change is a journal entry,
 *    applied to the stores by one apply function on both nodes; the end of
 *    a loop turn appends the turn to the journal, commits the stores and
 *    hands the turn to replication; confirmations wait for durability;
 *  - replication (src/ha/repl*.c): streams turns to the standby, which
 *    receives them through ha_turn_receive(), and reports ACKs back
 *    through ha_durable_release().
 * A single node (no [cluster]) has role HA_ROLE_SINGLE, no journal, and
 * its confirmations run at the end of the turn, as before.
 */
#ifndef TANDEM_HA_H
#define TANDEM_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ha/jnl_codec.h"
#include "store/store.h"

struct jnl;

/* ------------------------------------------------------------ roles */

enum ha_role {
	HA_ROLE_SINGLE,      /* no [cluster]: serves, alone */
	HA_ROLE_STARTING,    /* stores open, peer not heard */
	HA_ROLE_SYNCING,     /* full resync or catch-up */
	HA_ROLE_STANDBY,     /* in sync, eligible */
	HA_ROLE_PROMOTING,
	HA_ROLE_ACTIVE,      /* serves */
	HA_ROLE_DEMOTING,
	HA_ROLE_FENCED,      /* votes lost or higher epoch seen */
};

enum ha_role ha_role(void);
const char *ha_role_name(enum ha_role r);
/** The contract's role word: "active" or "standby" (SINGLE: "active"). */
const char *ha_role_contract(enum ha_role r);
/** True when this node answers SIP and relays media (SINGLE, ACTIVE). */
bool ha_serving(void);
/**
 * Move to role to, logging `cluster: role A -> B (epoch N): why` and
 * running the role hook. EINVAL (logged) for a transition design 5 does
 * not allow.
 */
int ha_role_set(enum ha_role to, const char *why);
typedef void (ha_role_h)(enum ha_role from, enum ha_role to, void *arg);
/** Call h after every role change (several watchers; 0 or ENOMEM). */
int ha_role_watch(ha_role_h *h, void *arg);

/* ------------------------------------------------------------ write path */

/**
 * Open DATADIR/journal and read the stores' position stamps, replaying
 * the journal beyond the smaller stamp. Only with [cluster]. 0, or an
 * errno with the reason in err.
 */
int ha_jnl_open(const char *datadir, char *err, size_t errsize);
void ha_jnl_close(void);
/** The journal, or NULL on a single node. */
struct jnl *ha_jnl(void);
/** This node's position: replid (41 bytes with NUL), offset, epoch. */
void ha_position(char replid[JNL_REPLID_LEN + 1], uint64_t *offset,
		 char replid2[JNL_REPLID_LEN + 1], uint64_t *offset2, uint64_t *epoch);

/**
 * End of a loop turn on the serving node (replaces main.c commit_turn):
 * append this turn's entries (and its TURN) to the journal, commit the
 * stores (each stamps the end offset), call the feed, then run or park
 * this turn's durable callbacks.
 */
void ha_turn_end(void);

/** Called on the serving node after each turn reached the journal:
 * bytes [start, end) of the stream are one or more whole turns. */
typedef void (ha_feed_h)(uint64_t start, uint64_t end, void *arg);
void ha_set_feed(ha_feed_h *h, void *arg);

/**
 * On the standby: one or more whole turns received from the active,
 * starting at stream offset start (must equal this node's head): append
 * them unchanged to the journal, apply every entry to the stores, commit.
 * 0 with *end = the new head; EBADMSG for bytes that do not decode (err
 * says what and where; nothing applied), ERANGE for a start that is not
 * the head, EIO when the journal or a store cannot be written.
 */
int ha_turn_receive(uint64_t start, const uint8_t *buf, size_t len, uint64_t *end,
		    char *err, size_t errsize);

/**
 * Run h(ok, arg) once this turn's writes are durable: committed locally
 * and, while ha_set_sync(true), ACKed by the standby. Same signature as
 * store_on_commit(). 0 or ENOMEM.
 */
int ha_on_durable(store_commit_h *h, void *arg);
/** Replication: the standby holds everything before offset acked. */
void ha_durable_release(uint64_t acked);
/** Replication: wait for ACKs (standby in SYNC) or not (alone; releases
 * everything parked). */
void ha_set_sync(bool wait);
/** Replication: stop waiting and run everything parked with ok false
 * (the standby never ACKed it and going alone was never recorded); how
 * many there were. */
size_t ha_durable_drop(void);

/**
 * Roles: the memory views on a standby follow the replicated stores
 * without timers (ha_turn_receive applies bindings, DB keys, queue members
 * to memory only). ha_restore() on promotion starts what the serving node
 * runs: the registrar's expiry timers (expired bindings go at once) and
 * qualify. ha_quiesce() on becoming standby stops them again (a node that
 * starts as standby: registrar_restore() at start armed them).
 */
void ha_restore(void);
void ha_quiesce(void);

#endif
