/* queue.h: a bounded byte ring of framed DNSXFR01 messages (no I/O).
 *
 * Each entry is stored exactly as it goes out over TCP: a 16-bit
 * big-endian length, then the DNSXFR01 message. The TCP transport writes
 * the ring's bytes as they are; the UDP transport skips each 2-byte prefix.
 * Entries never straddle the end of the buffer, so every entry is one
 * contiguous run and a run of entries from the head is one contiguous
 * block (queue_peek()).
 *
 * The queue is bounded both in bytes (the buffer, allocated once by
 * queue_init) and in entries. It owns its buffer; queue_close frees it. */
#ifndef TAPXFR_OUTPUT_QUEUE_H
#define TAPXFR_OUTPUT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue {
    uint8_t *buf;
    size_t cap;       /* bytes */
    size_t max_count; /* entries */
    size_t head;      /* first byte of the oldest entry */
    size_t tail;      /* where the next entry goes */
    size_t wrap;      /* when non-zero, data runs [head, wrap) then [0, tail) */
    size_t bytes;     /* bytes in use */
    size_t count;     /* entries in use */
};

/* Allocates cap bytes. Returns 0 or -ENOMEM. */
int queue_init(struct queue *q, size_t cap, size_t max_count);
void queue_close(struct queue *q);

/* Forgets every entry (the caller counts them). */
void queue_reset(struct queue *q);

/* Returns where an entry of len bytes (prefix included) can be written, or
 * NULL when the queue cannot take it (bytes or entry bound). Nothing
 * changes until queue_commit(). */
uint8_t *queue_reserve(struct queue *q, size_t len);

/* Makes the len bytes written at the last queue_reserve() an entry. */
void queue_commit(struct queue *q, size_t len);

/* Whether an entry of len bytes would fit now. */
int queue_fits(const struct queue *q, size_t len);

/* Sets *p to the oldest byte and returns the length of the contiguous run
 * of whole entries that starts there (0 when empty). */
size_t queue_peek(const struct queue *q, const uint8_t **p);

/* The same for the run that starts skip bytes after the oldest byte
 * (skip: whole entries, e.g. those already handed to a sender). */
size_t queue_peek_after(const struct queue *q, size_t skip, const uint8_t **p);

/* Removes len bytes holding n whole entries from the head. */
void queue_consume(struct queue *q, size_t len, size_t n);

/* The length of the entry at p (prefix included). */
static inline size_t queue_entry_len(const uint8_t *p)
{
    return 2 + ((size_t)p[0] << 8 | p[1]);
}

#endif
