/**
 * @file test_dtmf.c  RFC 4733 digit decoding without sockets: the packet
 * sequences phones send, lost and repeated packets, reordering, floods.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "media/dtmf.h"
#include "suites.h"

struct ev {
	char digit;
	enum dtmf_ev ev;
	uint32_t ms;
};

static struct ev evs[64];
static size_t nev;

static void on_ev(char digit, enum dtmf_ev ev, uint32_t ms, void *arg)
{
	(void)arg;
	assert_true(nev < 64);
	evs[nev++] = (struct ev){ digit, ev, ms };
}

static void pkt(struct dtmf_rx4733 *s, uint8_t event, bool end, uint16_t dur, uint32_t ts)
{
	uint8_t pl[4];

	dtmf_4733_encode(pl, event, end, 10, dur);
	assert_int_equal(dtmf_rx4733_packet(s, pl, sizeof(pl), ts, 8000, on_ev, NULL), 0);
}

/* A whole key press as phones send it: updates every 20 ms, 3 ends. */
static void press(struct dtmf_rx4733 *s, uint8_t event, uint32_t ts, uint16_t dur)
{
	for (uint16_t d = 160; d < dur; d += 160)
		pkt(s, event, false, d, ts);
	for (int i = 0; i < 3; i++)
		pkt(s, event, true, dur, ts);
}

static void expect(size_t i, char digit, enum dtmf_ev ev, uint32_t ms)
{
	assert_true(i < nev);
	assert_int_equal(evs[i].digit, digit);
	assert_int_equal(evs[i].ev, ev);
	assert_int_equal(evs[i].ms, ms);
}

static void t_press(void **state)
{
	struct dtmf_rx4733 s;

	(void)state;
	memset(&s, 0, sizeof(s));
	nev = 0;
	press(&s, 5, 1000, 800);                 /* '5', 100 ms */
	assert_int_equal(nev, 2);
	expect(0, '5', DTMF_BEGIN, 0);
	expect(1, '5', DTMF_END, 100);
	/* the same key again: a new timestamp, a new digit */
	press(&s, 5, 3000, 1600);
	press(&s, 11, 6000, 400);                /* '#' */
	assert_int_equal(nev, 6);
	expect(3, '5', DTMF_END, 200);
	expect(5, '#', DTMF_END, 50);
	assert_int_equal(s.events, 3);
	/* every event name */
	for (unsigned e = 0; e < 16; e++)
		assert_int_equal(dtmf_event(dtmf_digit(e)), (int)e);
	assert_int_equal(dtmf_event('a'), 12);
	assert_int_equal(dtmf_event('x'), -1);
	assert_int_equal(dtmf_digit(16), 0);
}

static void t_lost_packets(void **state)
{
	struct dtmf_rx4733 s;

	(void)state;
	memset(&s, 0, sizeof(s));
	nev = 0;
	/* start packets lost: the ends alone make a digit */
	pkt(&s, 1, true, 960, 100);
	pkt(&s, 1, true, 960, 100);
	assert_int_equal(nev, 2);
	expect(0, '1', DTMF_BEGIN, 0);
	expect(1, '1', DTMF_END, 120);
	/* all three ends lost: the next digit ends it first */
	pkt(&s, 2, false, 160, 2000);
	pkt(&s, 2, false, 320, 2000);
	pkt(&s, 3, false, 160, 4000);
	assert_int_equal(nev, 5);
	expect(2, '2', DTMF_BEGIN, 0);
	expect(3, '2', DTMF_END, 40);
	expect(4, '3', DTMF_BEGIN, 0);
	/* ... or audio past its duration does */
	dtmf_rx4733_audio(&s, 4100, 8000, on_ev, NULL);    /* inside: nothing */
	assert_int_equal(nev, 5);
	dtmf_rx4733_audio(&s, 4160, 8000, on_ev, NULL);
	assert_int_equal(nev, 6);
	expect(5, '3', DTMF_END, 20);
	/* its late end packets change nothing */
	pkt(&s, 3, true, 800, 4000);
	assert_int_equal(nev, 6);
	assert_int_equal(s.events, 3);
}

static void t_reorder_and_garbage(void **state)
{
	struct dtmf_rx4733 s;
	uint8_t pl[4] = { 1, 0, 0 };

	(void)state;
	memset(&s, 0, sizeof(s));
	nev = 0;
	press(&s, 7, 50000, 640);
	/* a late copy of the previous key, an older timestamp: ignored */
	pkt(&s, 6, true, 640, 40000);
	pkt(&s, 7, false, 160, 50000);
	assert_int_equal(nev, 2);
	/* short payload */
	assert_int_equal(dtmf_rx4733_packet(&s, pl, 3, 60000, 8000, on_ev, NULL), EBADMSG);
	assert_int_equal(s.bad, 1);
	/* flash (16) and fax tones are not keys */
	pkt(&s, 16, false, 160, 70000);
	pkt(&s, 32, true, 160, 70160);
	assert_int_equal(nev, 2);
	/* timestamps wrap */
	press(&s, 9, 0x7FFFFF00u, 800);
	press(&s, 9, 0xFFFF0000u, 800);
	press(&s, 8, 0x00000100u, 800);
	assert_int_equal(nev, 8);
	expect(7, '8', DTMF_END, 100);
	/* a stream that restarted far back in time: a new digit */
	press(&s, 2, 0x00000100u - 8000 * 61, 800);
	assert_int_equal(nev, 10);
	/* a restart (reset) ends a digit in progress */
	pkt(&s, 3, false, 160, 0x00100000u);
	dtmf_rx4733_reset(&s, 8000, on_ev, NULL);
	expect(11, '3', DTMF_END, 20);
	press(&s, 3, 0x00000200u, 160);         /* "older", but after a reset */
	assert_int_equal(nev, 14);
	/* no handler: still counted */
	pkt(&s, 4, true, 160, 0x00010000u);
	dtmf_4733_encode(pl, 4, true, 10, 160);
	assert_int_equal(dtmf_rx4733_packet(&s, pl, 4, 0x00020000u, 8000, NULL, NULL), 0);
	assert_int_equal(s.events, 9);
}

static void t_flood(void **state)
{
	struct dtmf_rx4733 s;

	(void)state;
	memset(&s, 0, sizeof(s));
	/* thousands of packets for one key: one digit */
	nev = 0;
	for (int i = 0; i < 5000; i++)
		pkt(&s, 0, i > 4990, (uint16_t)(160 + i), 777);
	assert_int_equal(nev, 2);
	expect(1, '0', DTMF_END, (160 + 4991) * 1000 / 8000);
	/* one digit per timestamp, whatever the rate */
	nev = 0;
	for (uint32_t i = 0; i < 30; i++)
		pkt(&s, (uint8_t)(i % 10), true, 160, 1000 + 160 * i);
	assert_int_equal(nev, 60);
}

static void t_encode(void **state)
{
	uint8_t pl[4];

	(void)state;
	dtmf_4733_encode(pl, 11, true, 10, 0x1234);
	assert_int_equal(pl[0], 11);
	assert_int_equal(pl[1], 0x8a);
	assert_int_equal(pl[2], 0x12);
	assert_int_equal(pl[3], 0x34);
	dtmf_4733_encode(pl, 1, false, 70, 160);
	assert_int_equal(pl[1], 70 & 0x3f);
}

int test_dtmf_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_press),
		cmocka_unit_test(t_lost_packets),
		cmocka_unit_test(t_reorder_and_garbage),
		cmocka_unit_test(t_flood),
		cmocka_unit_test(t_encode),
	};

	return cmocka_run_group_tests_name("dtmf", tests, NULL, NULL);
}
