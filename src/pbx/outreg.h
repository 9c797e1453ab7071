/**
 * @file outreg.h  Registering to providers: chan_sip's
 *   register => [peer?]user[:secret[:authuser]]@host[:port][/contact]
 * lines of sip.conf [general]. Each registration is refreshed before it
 * expires and retried with a growing delay (registertimeout, doubling up
 * to 5 minutes) while the provider refuses or does not answer.
 */
#ifndef TANDEM_PBX_OUTREG_H
#define TANDEM_PBX_OUTREG_H

#include <jansson.h>

#include "core/conf.h"

enum outreg_state { OUTREG_UNREGISTERED, OUTREG_REQUEST_SENT, OUTREG_REGISTERED,
		    OUTREG_AUTH_FAILED, OUTREG_REJECTED, OUTREG_NO_ANSWER };

/** Replace the registrations with those of sip.conf [general]. */
int  outreg_configure(const struct conf_section *general);
void outreg_close(void);
json_t *outreg_json(void);
const char *outreg_state_name(enum outreg_state s);

#endif
