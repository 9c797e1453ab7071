/**
 * @file queue_store.c  Dynamic queue members kept in Asterisk's DB, as
 * app_queue does with persistentmembers=yes: family
 * "Queue/PersistentMembers", one key per queue, value in app_queue's dump
 * format (queue_persist_dump). Written on every change, read at start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "pbx/queue.h"
#include "store/astdb.h"

#define FAMILY "Queue/PersistentMembers"

static void save(const char *queue, const char *value, void *arg)
{
	int e;

	(void)arg;
	e = value && *value ? astdb_put(FAMILY, queue, value) : astdb_del(FAMILY, queue);
	if (e && e != ENOENT)
		log_warn("queue %s: cannot save its dynamic members in %s: %s", queue,
			 astdb_path(), strerror(e));
}

/* astdb_show("Queue") splits "/Queue/PersistentMembers/q" into family
 * "Queue" and key "PersistentMembers/q". */
static void restore(const char *family, const char *key, const char *value, void *arg)
{
	static const char pm[] = "PersistentMembers/";
	const char *queue = key + sizeof(pm) - 1;
	int n;

	(void)family;
	if (strncmp(key, pm, sizeof(pm) - 1))
		return;
	n = queue_persist_load(arg, queue, value);
	if (n == -ENOENT)
		log_warn("queue '%s' has saved dynamic members but is not in queues.conf; "
			 "kept in the DB (%s/%s)", queue, FAMILY, queue);
	else if (n < 0)
		log_warn("queue '%s': saved dynamic members '%s' are malformed (%s); the "
			 "members before the fault were restored", queue, value, strerror(-n));
	else if (n > 0)
		log_info("queue %s: %d dynamic members restored", queue, n);
}

int queue_store_attach(struct queue_state *qs)
{
	queue_state_set_persist(qs, save, NULL);
	if (!qs->cf->gen.persistentmembers)
		return 0;
	return astdb_show("Queue", restore, qs);
}

/* Cluster standby after a full resync (the DB replaced under it): every
 * queue's dynamic members become those of the installed DB. */
int queue_store_reload(void)
{
	struct queue_state *qs = queue_state_current();

	if (!qs || !qs->cf || !qs->cf->gen.persistentmembers)
		return 0;
	for (size_t i = 0; i < qs->n; i++) {
		char *v = NULL;
		int e = astdb_get(FAMILY, qs->queues[i]->name, &v);

		if (e && e != ENOENT) {
			log_warn("queue %s: cannot read its dynamic members from %s: %s",
				 qs->queues[i]->name, astdb_path(), strerror(e));
			continue;
		}
		queue_store_apply(qs->queues[i]->name, e ? NULL : v);
		free(v);
	}
	return 0;
}

/* The standby's view: queue's dynamic members become exactly those of
 * value (NULL or "": none), without writing them back to the DB. */
int queue_store_apply(const char *queue, const char *value)
{
	struct queue_state *qs = queue_state_current();
	struct queue *q;
	queue_persist_h *h;
	void *arg;
	size_t i;
	int n;

	if (!qs || !(q = queue_find(qs, queue)))
		return 0;   /* not in this node's queues.conf: kept in the DB only */
	h = qs->persist_h;
	arg = qs->persist_arg;
	queue_state_set_persist(qs, NULL, NULL);
	for (i = q->nmembers; i-- > 0;)
		if (q->members[i]->dynamic)
			queue_member_remove(qs, queue, q->members[i]->interface);
	n = value && *value ? queue_persist_load(qs, queue, value) : 0;
	queue_state_set_persist(qs, h, arg);
	if (n < 0)
		log_warn("queue %s: replicated dynamic members '%s' are malformed (%s)",
			 queue, value, strerror(-n));
	return 0;
}
