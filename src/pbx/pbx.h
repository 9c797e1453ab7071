/**
 * @file pbx.h  The PBX as the SIP stack's transaction user: holds the
 * current configuration snapshot and sends each new request to the part
 * that handles its method.
 */
#ifndef TANDEM_PBX_PBX_H
#define TANDEM_PBX_PBX_H

#include "dialplan/dialplan.h"
#include "pbx/peers.h"
#include "sip/sip.h"

/** Install a new sip.conf snapshot; the previous one is freed. */
void pbx_set_sipconf(struct sipconf *sc);
/** Install a new dialplan snapshot (calls keep the one they started on). */
void pbx_set_dialplan(struct dialplan *dp);
/** The current dialplan snapshot. */
struct dialplan *pbx_dialplan(void);

struct pbx_config;
/**
 * Install what cfg holds for voicemail, music on hold and queues (taken
 * from cfg, which keeps NULLs). The first call creates the live queues and
 * restores their saved members; later calls (reload) keep waiting callers
 * and dynamic members. 0 or ENOMEM.
 */
int  pbx_set_business(struct pbx_config *cfg);
const struct vmconf *pbx_vmconf(void);
struct mohconf *pbx_mohconf(void);
void pbx_close(void);
/** sip_request_h for the stack. */
void pbx_request(struct sip_strans *st, const struct sip_msg *msg,
		 const struct sip_src *src);
void pbx_ack(const struct sip_msg *msg, const struct sip_src *src);

#endif
