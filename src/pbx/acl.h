/**
 * @file acl.h  chan_sip's permit=/deny= address rules (Asterisk's ast_ha):
 * rules apply in order, the last one that matches decides, and an address
 * no rule matches is permitted. "ADDR/MASK", "ADDR/BITS" or "ADDR"; IPv4
 * and IPv6.
 */
#ifndef TANDEM_PBX_ACL_H
#define TANDEM_PBX_ACL_H

#include <stdbool.h>
#include <sys/socket.h>

struct acl;

/** Append a rule; returns 0 or EINVAL for a value that is not ADDR[/MASK]. */
int  acl_add(struct acl **acl, bool permit, const char *value);
/** True when sa may pass (also true for an empty list). */
bool acl_permits(const struct acl *acl, const struct sockaddr_storage *sa);
void acl_free(struct acl *acl);

#endif
