/**
 * @file sipnet.h  A loopback socket pair for unit tests that drive the SIP
 * stack: "server" is where Tandem listens, "peer" plays the phone.
 */
#ifndef TANDEM_TEST_SIPNET_H
#define TANDEM_TEST_SIPNET_H

#include <stddef.h>
#include <sys/socket.h>

struct sipnet {
	int sfd, pfd;                       /* server and peer sockets */
	struct sockaddr_storage saddr, paddr;
};

/** Bind both sockets on 127.0.0.1 (ephemeral ports); asserts on failure. */
void sipnet_open(struct sipnet *n);
void sipnet_close(struct sipnet *n);
/** Hand text to the stack as if the peer had sent it to the server. */
void sipnet_deliver(const struct sipnet *n, const char *text);
#endif
