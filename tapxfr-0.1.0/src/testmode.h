/* testmode.h: -T, the 2004 dnslogger-forward's test mode.
 *
 * One raw IP packet is read from standard input and goes through the
 * normal decode, stage and collector to a collector that tapxfr runs
 * itself on 127.0.0.1 (UDP, or TCP with a banner under -t). After the
 * output has flushed and closed, what that collector received is printed
 * as "Received data: HEX" (TCP: with the length prefix), or "No data
 * received.", with debug lines that say why a packet was dropped. */
#ifndef TAPXFR_TESTMODE_H
#define TAPXFR_TESTMODE_H

#include <pthread.h>

#include "stage/stage.h"

struct testmode {
    int tcp;        /* -t: the collector is TCP, with a banner */
    int fd;         /* the collector's socket (UDP, or TCP listener) */
    char port[8];   /* its port, as text for outputs_add() */
    int stop[2];    /* TCP: tells the collector thread to finish */
    pthread_t thread;
    int thread_started;
    unsigned char rx[65536 + 4096];
    size_t rx_len;
};

/* Opens the collector socket (SOCK_DGRAM, or SOCK_STREAM with a banner)
 * on 127.0.0.1 and an ephemeral port. */
int testmode_init(struct testmode *t, int socktype);

/* Reads the packet from standard input and submits it. */
int testmode_run(struct testmode *t, struct stage *stage);

/* After the loop has ended: collects what arrived and prints it. */
void testmode_report(struct testmode *t);

void testmode_close(struct testmode *t);

#endif
