/**
 * @file call_queue.h  The queue applications on calls (call_queue.c):
 * Queue, AddQueueMember, RemoveQueueMember, PauseQueueMember and
 * UnpauseQueueMember, as Asterisk's app_queue runs them.
 */
#ifndef TANDEM_PBX_CALL_QUEUE_H
#define TANDEM_PBX_CALL_QUEUE_H

/**
 * Register the queue applications. Idempotent. Must run before a
 * dialplan is built, as call_apps_init().
 */
void call_queue_init(void);

#endif
