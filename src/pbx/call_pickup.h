/**
 * @file call_pickup.h  Call pickup as Asterisk's: the pickup extension
 * (features.conf pickupexten, *8) by call/pickup group, and the
 * directed Pickup() and PickupChan() applications.
 */
#ifndef TANDEM_PBX_CALL_PICKUP_H
#define TANDEM_PBX_CALL_PICKUP_H

struct call;

/**
 * Read pickupexten from confdir's features.conf ([general]; else sip.conf
 * [general]'s; else *8) and register Pickup and PickupChan. Before the
 * dialplan is checked, as call_apps_init().
 */
void call_pickup_init(const char *confdir);

/**
 * Before the dialplan: when c dialled the pickup extension, take the
 * oldest call ringing in one of c's pickup groups. 0 when taken (c is
 * then ended), 480 when there is none, -1 when c dialled something else.
 */
int  call_pickup_exten(struct call *c);

#endif
