/** @file sipnet.c  Loopback socket pair for SIP unit tests (sipnet.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sip/sip.h"
#include "sipnet.h"

static void bind_lo(int *fd, struct sockaddr_storage *sa)
{
	struct sockaddr_in *in = (void *)sa;
	socklen_t l = sizeof(*in);

	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(*fd >= 0);
	memset(sa, 0, sizeof(*sa));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(*fd, (struct sockaddr *)in, sizeof(*in)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)sa, &l), 0);
}

void sipnet_open(struct sipnet *n)
{
	bind_lo(&n->sfd, &n->saddr);
	bind_lo(&n->pfd, &n->paddr);
}

void sipnet_close(struct sipnet *n)
{
	close(n->sfd);
	close(n->pfd);
	n->sfd = n->pfd = -1;
}

void sipnet_deliver(const struct sipnet *n, const char *text)
{
	static char buf[8192];
	struct sip_msg msg;
	struct sip_src src;
	size_t len = strlen(text);
	int err;

	assert_true(len < sizeof(buf));
	memcpy(buf, text, len + 1);
	memset(&src, 0, sizeof(src));
	src.addr = n->paddr;
	src.alen = sizeof(struct sockaddr_in);
	src.tp = SIP_TRANSP_UDP;
	src.fd = n->sfd;
	src.local = n->saddr;
	err = sip_msg_decode(&msg, buf, len);
	sip_stack_recv(&msg, err, &src);
}
