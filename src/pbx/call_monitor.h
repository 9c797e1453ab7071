/**
 * @file call_monitor.h  Call recording as Asterisk's MixMonitor and
 * Monitor (app_mixmonitor, res_monitor) into DATADIR/monitor/.
 */
#ifndef TANDEM_PBX_CALL_MONITOR_H
#define TANDEM_PBX_CALL_MONITOR_H

struct call;

/** Register MixMonitor, StopMixMonitor, Monitor, StopMonitor; recordings
 * with a relative name go to datadir/monitor/. Before the dialplan is
 * checked, as call_apps_init(). */
void call_monitor_init(const char *datadir);
/** The call was bridged: recordings waiting for it (b) start. */
void call_monitor_bridged(struct call *c);
/** The bridge ended, the call goes on (Dial's g): recordings made only
 * while bridged (b) stop writing. */
void call_monitor_unbridged(struct call *c);
/** The call ends: finish (rename) its recordings, run MixMonitor's
 * command. NULL-safe. Before the relay is freed. */
void call_monitor_free(struct call *c);

#endif
