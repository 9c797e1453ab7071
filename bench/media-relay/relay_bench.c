/**
 * @file relay_bench.c  How many relayed calls one core sustains.
 *
 * N relays (src/media/rtp.c) on 127.0.0.1, served by the real loop on the
 * main thread pinned to CPU 0. A generator thread pinned to CPU 1 plays
 * both phones of every call: every 20 ms one G.711 packet (12 + 160
 * bytes) into each leg, i.e. 100 packets/s per call, sent with sendmmsg
 * from one socket; the relayed packets all go to one sink socket it
 * drains with recvmmsg. Loss = 1 - received/sent after a drain period.
 * CPU is the relay thread's own CPU time over the measured window.
 *
 *   relay_bench [-t] [-d SECONDS] N [N...]
 *     -t  transcode: leg A speaks PCMA, leg B PCMU
 *
 * Note that on loopback the kernel work of delivering a datagram runs on
 * the sender's CPU: the relay's CPU includes delivering its output to the
 * sink, and the generator's includes delivering input to the relay.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "media/rtp.h"

#define BATCH 1024

static int ncalls, secs = 10, transcode;
static struct rtp_relay **relays;
static struct sockaddr_in *dsts;          /* 2 per call: leg A, leg B */
static int gfd, sfd;
static struct sockaddr_in sink_sa, gen_sa;
static atomic_ulong sent, rcvd;
static atomic_int stop_send, stop_all;
static double gen_cpu;
static struct tmr t_start, t_end, t_drain;
static double cpu0, wall0, cpu1, wall1;
static unsigned long sent0, rcvd0, sent1, rcvd1;
static unsigned long udp_err0[2], udp_err1[2];

static double ts_sec(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Udp: InErrors and RcvbufErrors from /proc/net/snmp. */
static void udp_errors(unsigned long out[2])
{
	FILE *f = fopen("/proc/net/snmp", "r");
	char hdr[512], val[512];

	out[0] = out[1] = 0;
	if (!f)
		return;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		unsigned long v[8] = { 0 };
		if (strncmp(hdr, "Udp:", 4))
			continue;
		sscanf(val, "Udp: %lu %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5]);
		out[0] = v[2];   /* InErrors */
		out[1] = v[4];   /* RcvbufErrors */
	}
	fclose(f);
}

static int udp_sock(struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), big = 64 << 20;
	socklen_t l = sizeof(*sa);

	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &l) < 0) {
		perror("bind");
		exit(1);
	}
	return fd;
}

static void drain_sink(void)
{
	static char buf[BATCH][256];
	static struct mmsghdr m[BATCH];
	static struct iovec iov[BATCH];
	int n;

	do {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
			m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(sfd, m, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			atomic_fetch_add(&rcvd, (unsigned long)n);
	} while (n == BATCH);
}

static void *generator(void *arg)
{
	size_t npkt = 2 * (size_t)ncalls;
	uint8_t (*hdr)[12] = calloc(npkt, 12);
	uint8_t payload[160];
	struct mmsghdr *m = calloc(npkt, sizeof(*m));
	struct iovec *iov = calloc(2 * npkt, sizeof(*iov));
	struct timespec next;
	uint32_t tick = 0;
	double c0 = ts_sec(CLOCK_THREAD_CPUTIME_ID);

	(void)arg;
	pin(1);
	memset(payload, 0xd5, sizeof(payload));
	for (size_t i = 0; i < npkt; i++) {
		hdr[i][0] = 0x80;
		hdr[i][1] = transcode && (i & 1) == 0 ? 8 : 0;
		hdr[i][8] = (uint8_t)(i >> 24);
		hdr[i][9] = (uint8_t)(i >> 16);
		hdr[i][10] = (uint8_t)(i >> 8);
		hdr[i][11] = (uint8_t)i;
		iov[2 * i] = (struct iovec){ hdr[i], 12 };
		iov[2 * i + 1] = (struct iovec){ payload, sizeof(payload) };
		m[i].msg_hdr = (struct msghdr){ .msg_name = &dsts[i],
			.msg_namelen = sizeof(dsts[i]), .msg_iov = &iov[2 * i], .msg_iovlen = 2 };
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&stop_all)) {
		if (!atomic_load(&stop_send)) {
			uint32_t ts = tick * 160;
			for (size_t i = 0; i < npkt; i++) {
				hdr[i][2] = (uint8_t)(tick >> 8);
				hdr[i][3] = (uint8_t)tick;
				hdr[i][4] = (uint8_t)(ts >> 24);
				hdr[i][5] = (uint8_t)(ts >> 16);
				hdr[i][6] = (uint8_t)(ts >> 8);
				hdr[i][7] = (uint8_t)ts;
			}
			for (size_t off = 0; off < npkt; ) {
				unsigned k = npkt - off > BATCH ? BATCH : (unsigned)(npkt - off);
				int r = sendmmsg(gfd, m + off, k, 0);
				if (r <= 0) {
					drain_sink();
					continue;
				}
				atomic_fetch_add(&sent, (unsigned long)r);
				off += (size_t)r;
			}
			tick++;
		}
		next.tv_nsec += 20 * 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		for (;;) {
			struct timespec now;
			long ms;
			struct pollfd p = { sfd, POLLIN, 0 };

			drain_sink();
			clock_gettime(CLOCK_MONOTONIC, &now);
			ms = (next.tv_sec - now.tv_sec) * 1000 +
			     (next.tv_nsec - now.tv_nsec) / 1000000;
			if (ms <= 0)
				break;
			poll(&p, 1, (int)ms);
		}
	}
	drain_sink();
	gen_cpu = ts_sec(CLOCK_THREAD_CPUTIME_ID) - c0;
	free(hdr);
	free(m);
	free(iov);
	return NULL;
}

static void on_start(void *arg)
{
	(void)arg;
	cpu0 = ts_sec(CLOCK_THREAD_CPUTIME_ID);
	wall0 = ts_sec(CLOCK_MONOTONIC);
	sent0 = atomic_load(&sent);
	rcvd0 = atomic_load(&rcvd);
	udp_errors(udp_err0);
}

static void on_drained(void *arg)
{
	(void)arg;
	loop_stop();
}

static void on_end(void *arg)
{
	(void)arg;
	cpu1 = ts_sec(CLOCK_THREAD_CPUTIME_ID);
	wall1 = ts_sec(CLOCK_MONOTONIC);
	sent1 = atomic_load(&sent);
	rcvd1 = atomic_load(&rcvd);
	udp_errors(udp_err1);
	atomic_store(&stop_send, 1);
	tmr_start(&t_drain, 500, on_drained, NULL);
}

static void run(int n)
{
	static const char cf[] = "[general]\nrtpstart=10000\nrtpend=65000\n";
	static const struct sdp_pt ulaw[] = { { 0, CODEC_PCMU } };
	static const struct sdp_pt alaw[] = { { 8, CODEC_PCMA } };
	struct sockaddr_storage lo;
	struct conf *c = NULL;
	char err[128];
	pthread_t th;
	double cpu, wall, loss, pps;

	ncalls = n;
	atomic_store(&sent, 0);
	atomic_store(&rcvd, 0);
	atomic_store(&stop_send, 0);
	atomic_store(&stop_all, 0);
	if (conf_parse_buf(&c, NULL, "rtp.conf", cf, sizeof(cf) - 1, err, sizeof(err)) ||
	    rtp_init(c)) {
		fprintf(stderr, "rtp_init failed\n");
		exit(1);
	}
	conf_free(c);
	memset(&lo, 0, sizeof(lo));
	memcpy(&lo, &gen_sa, sizeof(gen_sa));
	relays = calloc((size_t)n, sizeof(*relays));
	dsts = calloc(2 * (size_t)n, sizeof(*dsts));
	for (int i = 0; i < n; i++) {
		struct rtp_leg_conf lc;
		int e = rtp_relay_alloc(&relays[i], &lo, &lo);

		if (e) {
			fprintf(stderr, "relay %d: %s\n", i, strerror(e));
			exit(1);
		}
		memset(&lc, 0, sizeof(lc));
		memcpy(&lc.rtp, &sink_sa, sizeof(sink_sa));
		lc.dir = SDP_SENDRECV;
		lc.npts = 1;
		memcpy(lc.pts, transcode ? alaw : ulaw, sizeof(ulaw));
		rtp_relay_leg_set(relays[i], RTP_LEG_A, &lc);
		memcpy(lc.pts, ulaw, sizeof(ulaw));
		rtp_relay_leg_set(relays[i], RTP_LEG_B, &lc);
		for (int leg = 0; leg < 2; leg++) {
			dsts[2 * i + leg] = gen_sa;
			dsts[2 * i + leg].sin_port = htons(rtp_relay_port(relays[i], (enum rtp_leg_id)leg));
		}
	}
	tmr_init(&t_start);
	tmr_init(&t_end);
	tmr_init(&t_drain);
	tmr_start(&t_start, 2000, on_start, NULL);
	tmr_start(&t_end, 2000 + (uint64_t)secs * 1000, on_end, NULL);
	pthread_create(&th, NULL, generator, NULL);
	loop_run();
	atomic_store(&stop_all, 1);
	pthread_join(th, NULL);

	cpu = cpu1 - cpu0;
	wall = wall1 - wall0;
	pps = (double)(rcvd1 - rcvd0) / wall;
	loss = sent1 ? 1.0 - (double)atomic_load(&rcvd) / (double)atomic_load(&sent) : 0;
	if (loss < 0)
		loss = 0;
	/* capacity from the CPU each relayed packet cost: a call is 100 pkt/s */
	printf("%6d calls  offered %7.0f pkt/s  relayed %7.0f pkt/s  relay CPU %5.1f%% "
	       "of a core  %5.2f us/pkt  => %5.0f calls/core  loss %.4f%%  "
	       "udp rcvbuf errors %lu  generator CPU %4.1f%%\n",
	       n, (double)(sent1 - sent0) / wall, pps, 100 * cpu / wall,
	       1e6 * cpu / (pps * wall), (pps * wall) / (cpu * 100), 100 * loss,
	       udp_err1[1] - udp_err0[1], 100 * gen_cpu / (wall + 2.5));
	fflush(stdout);
	for (int i = 0; i < n; i++)
		rtp_relay_free(relays[i]);
	free(relays);
	free(dsts);
	if (rtp_ports_in_use())
		fprintf(stderr, "leak: %zu ports in use\n", rtp_ports_in_use());
	rtp_close();
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 262144, 262144 };
	int opt;

	while ((opt = getopt(argc, argv, "td:")) != -1) {
		if (opt == 't')
			transcode = 1;
		else if (opt == 'd')
			secs = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: %s [-t] [-d SECONDS] N [N...]\n", argv[0]);
		return 2;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	log_init(NULL, LOG_LVL_WARN);
	pin(0);
	loop_init();
	gfd = udp_sock(&gen_sa);
	sfd = udp_sock(&sink_sa);
	for (int i = optind; i < argc; i++)
		run(atoi(argv[i]));
	loop_close();
	return 0;
}
