/**
 * @file vip.c  The floating address through rtnetlink (vip.h).
 *
 * Two NETLINK_ROUTE sockets: one subscribed to RTMGRP_IPV4_IFADDR and
 * RTMGRP_IPV6_IFADDR and watched by the loop (events), one for requests
 * (dumps and, with engine = none, RTM_NEWADDR/RTM_DELADDR), answered
 * synchronously within 200 ms. A lost event (ENOBUFS) is repaired by a dump.
 * Gratuitous ARP (RFC 5227 "ARP announcement"): an ARP request for the
 * address from the address, broadcast three times on the interface.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "ha/vip.h"

static struct {
	int ev, req;
	unsigned ifindex;
	int family;
	unsigned char addr[16];
	size_t alen;
	unsigned prefix;
	char ifname[IF_NAMESIZE], str[64];
	bool held;
	uint32_t seq;
	vip_change_h *h;
	void *arg;
} g = { .ev = -1, .req = -1 };

/* Does this RTM_NEWADDR/DELADDR message name our address on our interface? */
static bool is_ours(const struct nlmsghdr *nh)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	int len = (int)IFA_PAYLOAD(nh);

	if (ifa->ifa_family != g.family || ifa->ifa_index != g.ifindex)
		return false;
	for (const struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len)) {
		if ((rta->rta_type == IFA_LOCAL || (rta->rta_type == IFA_ADDRESS &&
		     g.family == AF_INET6)) && RTA_PAYLOAD(rta) == g.alen &&
		    !memcmp(RTA_DATA(rta), g.addr, g.alen))
			return true;
	}
	return false;
}

/* Walk a buffer of messages: *seen set when our address is in a NEWADDR,
 * cleared on a DELADDR. Returns 1 at NLMSG_DONE, -errno on NLMSG_ERROR.
 * seq: only answers to that request (0: events, any). */
static int walk(const char *buf, ssize_t n, int *seen, uint32_t seq)
{
	for (const struct nlmsghdr *nh = (const void *)buf; NLMSG_OK(nh, (unsigned)n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (seq && nh->nlmsg_seq != seq)
			continue;   /* late answer to a request that timed out */
		if (nh->nlmsg_type == NLMSG_DONE)
			return 1;
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *ne = NLMSG_DATA(nh);
			return ne->error ? ne->error : 1;
		}
		if (nh->nlmsg_type == RTM_NEWADDR && is_ours(nh))
			*seen = 1;
		else if (nh->nlmsg_type == RTM_DELADDR && is_ours(nh))
			*seen = 0;
	}
	return 0;
}

static void set_held(bool held)
{
	if (held == g.held)
		return;
	g.held = held;
	log_notice("cluster: address %s %s on %s", g.str, held ? "appeared" : "went away",
		   g.ifname);
	if (g.h)
		g.h(held, g.arg);
}

/* Send one request on g.req and read the answer (<= 200 ms). For a dump,
 * *seen tells whether the address was in it. 0 or errno. */
static int request(struct nlmsghdr *nh, int *seen)
{
	char buf[16384];
	uint64_t until = loop_now_update() + 200;
	int r = 0;

	nh->nlmsg_seq = ++g.seq;
	if (send(g.req, nh, nh->nlmsg_len, 0) < 0)
		return errno;
	while (!r) {
		struct pollfd p = { g.req, POLLIN, 0 };
		uint64_t now = loop_now_update();
		ssize_t n;

		if (now >= until || poll(&p, 1, (int)(until - now)) <= 0)
			return ETIMEDOUT;
		n = recv(g.req, buf, sizeof(buf), 0);
		if (n < 0)
			return errno == EINTR || errno == EAGAIN ? 0 : errno;
		r = walk(buf, n, seen, g.seq);
	}
	return r < 0 ? -r : 0;
}

bool vip_check_now(void)
{
	struct { struct nlmsghdr nh; struct ifaddrmsg ifa; } q = {
		.nh = { .nlmsg_len = sizeof(q), .nlmsg_type = RTM_GETADDR,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.ifa = { .ifa_family = (unsigned char)g.family },
	};
	int seen = 0, e;

	if (g.req < 0)
		return false;
	if ((e = request(&q.nh, &seen))) {
		log_warn("cluster: cannot list the addresses of %s: %s; keeping %s", g.ifname,
			 strerror(e), g.held ? "held" : "not held");
		return g.held;
	}
	set_held(seen);
	return g.held;
}

static void on_event(int fd, uint32_t events, void *arg)
{
	char buf[16384];
	ssize_t n;

	(void)events;
	(void)arg;
	for (int i = 0; i < 64; i++) {
		int seen = g.held;

		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS)   /* events lost: ask for the truth */
				vip_check_now();
			return;
		}
		walk(buf, n, &seen, 0);
		set_held(seen);
	}
}

bool vip_held(void)
{
	return g.held;
}

static int addr_change(int type)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} q = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
			.nlmsg_type = (unsigned short)type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
				       (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0) },
		.ifa = { .ifa_family = (unsigned char)g.family,
			 .ifa_prefixlen = (unsigned char)g.prefix,
			 .ifa_index = g.ifindex },
	};
	struct rtattr *rta;
	int seen = 0;

	for (int t = IFA_LOCAL; t >= IFA_ADDRESS; t--) {   /* IFA_LOCAL = 2, ADDRESS = 1 */
		rta = (struct rtattr *)((char *)&q + NLMSG_ALIGN(q.nh.nlmsg_len));
		rta->rta_type = (unsigned short)t;
		rta->rta_len = (unsigned short)RTA_LENGTH(g.alen);
		memcpy(RTA_DATA(rta), g.addr, g.alen);
		q.nh.nlmsg_len = NLMSG_ALIGN(q.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	}
	return request(&q.nh, &seen);
}

/* Three ARP announcements: neighbours and the switch learn the new owner. */
static void garp(void)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_halen = ETH_ALEN };
	struct ether_arp a = { 0 };
	int fd;

	if (g.family != AF_INET)
		return;   /* IPv6: the kernel's DAD sends the unsolicited NA */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", g.ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		log_warn("cluster: no gratuitous ARP for %s on %s: %s", g.str, g.ifname,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	ll.sll_ifindex = (int)g.ifindex;
	memset(ll.sll_addr, 0xff, ETH_ALEN);
	a.ea_hdr.ar_hrd = htons(ARPHRD_ETHER);
	a.ea_hdr.ar_pro = htons(ETH_P_IP);
	a.ea_hdr.ar_hln = ETH_ALEN;
	a.ea_hdr.ar_pln = 4;
	a.ea_hdr.ar_op = htons(ARPOP_REQUEST);
	memcpy(a.arp_sha, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	memcpy(a.arp_spa, g.addr, 4);
	memcpy(a.arp_tpa, g.addr, 4);
	for (int i = 0; i < 3; i++)
		if (sendto(fd, &a, sizeof(a), 0, (struct sockaddr *)&ll, sizeof(ll)) < 0)
			log_warn("cluster: gratuitous ARP for %s: %s", g.str, strerror(errno));
	close(fd);
}

int vip_add(void)
{
	int e;

	if (!g.str[0])          /* no vip = in [cluster]: nothing to move */
		return 0;
	e = addr_change(RTM_NEWADDR);

	if (e == EEXIST)
		e = 0;
	if (e) {
		log_error("cluster: cannot add %s to %s: %s", g.str, g.ifname, strerror(e));
		return e;
	}
	garp();
	vip_check_now();
	return 0;
}

int vip_del(void)
{
	int e;

	if (!g.str[0])
		return 0;
	e = addr_change(RTM_DELADDR);

	if (e == EADDRNOTAVAIL || e == ENOENT)
		e = 0;
	if (e) {
		log_error("cluster: cannot remove %s from %s: %s", g.str, g.ifname, strerror(e));
		return e;
	}
	vip_check_now();
	return 0;
}

int vip_start(const struct cluster_conf *cc, vip_change_h *h, void *arg, char *err,
	      size_t errsize)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int e;

	g.family = cc->vip.ss_family;
	g.alen = g.family == AF_INET ? 4 : 16;
	memcpy(g.addr, g.family == AF_INET ?
	       (const void *)&((const struct sockaddr_in *)&cc->vip)->sin_addr :
	       (const void *)&((const struct sockaddr_in6 *)&cc->vip)->sin6_addr, g.alen);
	g.prefix = cc->vip_prefix;
	snprintf(g.ifname, sizeof(g.ifname), "%s", cc->interface);
	snprintf(g.str, sizeof(g.str), "%s", cc->vip_str);
	g.ifindex = if_nametoindex(cc->interface);
	if (!g.ifindex) {
		snprintf(err, errsize, "cluster: interface %s (for vip %s): %s", cc->interface,
			 cc->vip_str, strerror(errno));
		return ENODEV;
	}
	g.h = h;
	g.arg = arg;
	g.ev = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	g.req = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (g.ev < 0 || g.req < 0 || bind(g.ev, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		snprintf(err, errsize, "cluster: rtnetlink: %s", strerror(e));
		vip_stop();
		return e;
	}
	if ((e = loop_fd_listen(g.ev, EPOLLIN, on_event, NULL))) {
		snprintf(err, errsize, "cluster: rtnetlink watch: %s", strerror(e));
		vip_stop();
		return e;
	}
	g.held = false;
	vip_check_now();
	return 0;
}

void vip_stop(void)
{
	if (g.ev >= 0) {
		loop_fd_forget(g.ev);
		close(g.ev);
	}
	if (g.req >= 0)
		close(g.req);
	g.ev = g.req = -1;
	g.h = NULL;
}
