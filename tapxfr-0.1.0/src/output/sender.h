/* sender.h: a thread that sends queued DNSXFR01 messages as datagrams on a
 * connected UDP socket.
 *
 * Sending a datagram costs the kernel more than tapxfr spends decoding
 * and encoding it, so the UDP transport hands the sending to a thread of
 * its own and the loop thread goes on reading and decoding on the other
 * core.
 *
 * The loop thread gives the sender jobs: runs of whole queue entries (each
 * with its 2-byte length prefix, which is not sent). The sender works
 * through them in order with sendmmsg() and wakes the loop (uv_async) as
 * each one finishes; the loop collects finished jobs with sender_harvest()
 * then and on each of its iterations, and only then consumes a job's
 * entries from the queue. (Waking the loop less often was tried: the
 * dnstap paths then left the sender idle more, 20 % slower.) So the queue stays the loop's own:
 * the sender only reads the entries of the jobs it holds, which the loop
 * does not touch until they come back.
 *
 * A job comes back whole, or cut short: by an entry the socket refused for
 * good (its errno in err), or by sender_stop(). The sender then starts no
 * further job, and harvesting the cut job hands back every later job
 * (submitted before or after the cut) untouched, so the loop can drop the
 * refused entry and submit the rest again with nothing sent twice or out
 * of order. */
#ifndef TAPXFR_OUTPUT_SENDER_H
#define TAPXFR_OUTPUT_SENDER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SENDER_JOBS 4        /* jobs held at once */
#define SENDER_JOB_MAX 1024  /* entries in one job */
#define SENDER_BATCH 256     /* datagrams per sendmmsg() */

struct sender_job {
    const uint8_t *p; /* the first entry */
    size_t len;       /* bytes of the n entries, prefixes included */
    size_t n;
    /* Filled in by the sender: */
    size_t sent;       /* the first `sent` entries went out */
    size_t sent_bytes; /* their bytes, prefixes included */
    int err;           /* 0, or the errno that refused entry `sent` */
    uint64_t refused;  /* ECONNREFUSED reports on the way (retried) */
};

struct sender {
    int fd;
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t cond;
    uv_async_t async;
    /* Under lock: jobs[first .. first + held) in ring order; the oldest
     * `done` of them are finished. */
    struct sender_job jobs[SENDER_JOBS];
    unsigned first, held, done;
    int cut;     /* the last finished job was cut short: take no more */
    int stop;    /* sender_stop() asked the thread to end */
    int running; /* the thread exists and is not joined yet */
    void (*on_done)(struct sender *s);
    void (*on_closed)(struct sender *s);
    void *data;
};

/* Sets up a sender for fd (which the caller keeps owning and closes only
 * after sender_close()). on_done runs on the loop thread after jobs have
 * finished. Returns 0, or a negative code with nothing to close. */
int sender_init(struct sender *s, uv_loop_t *loop, int fd,
                void (*on_done)(struct sender *s));

/* Starts the thread. Returns 0 or a negative code; either way the sender
 * is closed with sender_close(). Threads are started only after the
 * privileges were dropped: capabilities belong to each thread. */
int sender_start(struct sender *s);

/* Hands over n entries (len bytes) from p. Returns 0, or -EBUSY when
 * SENDER_JOBS are held or the sender was stopped (the loop counts its
 * jobs, so it never needs to ask). The entries must stay in place until
 * harvested. */
int sender_submit(struct sender *s, const uint8_t *p, size_t len, size_t n);

/* Takes the oldest finished job into *j. Returns 1, or 0 when none has
 * finished. When *j was cut short (j->sent < j->n), every later job is
 * handed back with it (unsent) and *withdrawn is set. */
int sender_harvest(struct sender *s, struct sender_job *j, int *withdrawn);

/* Ends the thread and waits for it: a job in progress comes back cut
 * short after its current batch. Jobs finished before can still be
 * harvested. Safe to call more than once. */
void sender_stop(struct sender *s);

/* Stops the thread if needed and closes the async handle; cb runs from
 * its close callback, after which s may be freed. */
void sender_close(struct sender *s, void (*cb)(struct sender *s));

#endif
