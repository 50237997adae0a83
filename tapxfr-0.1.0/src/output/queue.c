#include "config.h"

#include "output/queue.h"

#include <errno.h>
#include <stdlib.h>

int queue_init(struct queue *q, size_t cap, size_t max_count)
{
    q->buf = malloc(cap);
    if (!q->buf)
        return -ENOMEM;
    q->cap = cap;
    q->max_count = max_count;
    q->head = q->tail = q->wrap = 0;
    q->bytes = q->count = 0;
    return 0;
}

void queue_reset(struct queue *q)
{
    q->head = q->tail = q->wrap = 0;
    q->bytes = q->count = 0;
}

void queue_close(struct queue *q)
{
    free(q->buf);
    q->buf = NULL;
    q->cap = 0;
}

/* Where the entry would go: tail, or 0 after wrapping; SIZE_MAX if none. */
static size_t place(const struct queue *q, size_t len)
{
    if (q->count >= q->max_count)
        return SIZE_MAX;
    if (q->wrap)
        return q->head - q->tail >= len ? q->tail : SIZE_MAX;
    if (q->cap - q->tail >= len)
        return q->tail;
    /* Wrapping needs room before head; an entry that ends exactly at head
     * is fine because wrap tells a full ring from an empty one. */
    return q->head >= len ? 0 : SIZE_MAX;
}

int queue_fits(const struct queue *q, size_t len)
{
    return place(q, len) != SIZE_MAX;
}

uint8_t *queue_reserve(struct queue *q, size_t len)
{
    size_t at = place(q, len);

    return at == SIZE_MAX ? NULL : q->buf + at;
}

void queue_commit(struct queue *q, size_t len)
{
    if (!q->wrap && q->cap - q->tail < len) {
        q->wrap = q->tail;
        q->tail = 0;
    }
    q->tail += len;
    q->bytes += len;
    q->count++;
}

size_t queue_peek(const struct queue *q, const uint8_t **p)
{
    if (q->count == 0)
        return 0;
    *p = q->buf + q->head;
    return (q->wrap ? q->wrap : q->tail) - q->head;
}

size_t queue_peek_after(const struct queue *q, size_t skip, const uint8_t **p)
{
    size_t at, end;

    if (skip >= q->bytes)
        return 0;
    if (!q->wrap) {
        at = q->head + skip;
        end = q->tail;
    } else if (skip < q->wrap - q->head) {
        at = q->head + skip;
        end = q->wrap;
    } else {
        /* Past the end of the first part: into the part at the front. */
        at = skip - (q->wrap - q->head);
        end = q->tail;
    }
    *p = q->buf + at;
    return end - at;
}

void queue_consume(struct queue *q, size_t len, size_t n)
{
    q->head += len;
    q->bytes -= len;
    q->count -= n;
    if (q->count == 0) {
        /* Empty: start over at the front for the longest contiguous runs. */
        q->head = q->tail = q->wrap = 0;
    } else if (q->wrap && q->head == q->wrap) {
        q->head = 0;
        q->wrap = 0;
    }
}
