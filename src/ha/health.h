/**
 * @file health.h  DATADIR/cluster/heartbeat: a hung daemon is seen without
 * asking it (docs/design/cluster.md 8.2).
 *
 * 64 bytes mapped shared, written by tandemd at the end of every loop turn
 * (a 100 ms timer guarantees a turn that often), read by `tandemctl
 * health`, keepalived's track_script: exit 0 when the pid lives and the
 * last turn is at most HA_HEALTH_MAX_AGE_MS old (CLOCK_MONOTONIC, the same
 * for every process of the host), else 1 with the reason.
 */
#ifndef TANDEM_HA_HEALTH_H
#define TANDEM_HA_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#define HA_HEALTH_MAGIC       0x54484231u   /* "THB1" */
#define HA_HEALTH_MAX_AGE_MS  300
#define HA_HEALTH_TICK_MS     100

struct ha_heartbeat {
	uint32_t magic;
	uint32_t pid;
	uint64_t turn_ms;      /* CLOCK_MONOTONIC ms of the last loop turn */
	uint32_t role;         /* enum ha_role */
	uint32_t serving;
	uint8_t pad[40];
};
_Static_assert(sizeof(struct ha_heartbeat) == 64, "heartbeat is 64 bytes");

/** Create DATADIR/cluster/heartbeat, map it, start the tick. 0 or errno. */
int  ha_health_start(const char *datadir);
void ha_health_stop(void);

/**
 * `tandemctl health`: 0 healthy, else 1 with why (e.g. "last loop turn
 * 2317 ms ago: tandemd (pid 42) is stopped or stuck").
 */
int  ha_health_check(const char *datadir, char *why, size_t whysize);

/**
 * `tandemctl health --watch FILE`: every HA_HEALTH_TICK_MS write "0" (healthy)
 * or "1" into FILE when it changes, for keepalived's track_file (its 2.2.7
 * refuses vrrp_script intervals under 1 s). Started by tandemd; runs on
 * after tandemd dies or hangs (that is what it reports) and returns 0 when a
 * newer tandemd took over the heartbeat or tandemd stopped cleanly ("1"
 * written), 1 when the heartbeat is gone for 5 s (DATADIR removed).
 */
int  ha_health_watch(const char *datadir, const char *file);

#endif
