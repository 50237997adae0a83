#include "config.h"

#include "stats/registry.h"

#include <stdio.h>

#include "codec/dnstap.h"

#define G(field) offsetof(struct stats, field)
#define C(field) offsetof(struct stats_out, field)
#define I(field) offsetof(struct stats_in, field)

const char *stats_drop_name(enum stats_drop d)
{
    static const char *const names[STATS_DROP_COUNT] = {
        "no_answer", "not_auth", "oversize", "unmatched", "bailiwick", "unparsable",
        "queue_full", "shutdown", "send_error",
    };
    return (unsigned)d < STATS_DROP_COUNT ? names[d] : "unknown";
}

static const char *drop_member(int i)
{
    return stats_drop_name((enum stats_drop)i);
}

static const char *pkt_member(int i)
{
    return pkt_reason_name(-i);
}

static const char *fs_member(int i)
{
    return fs_error_name(-i);
}

static const char *type_member(int i)
{
    return dnstap_type_name(i);
}

#define ONE(scope, type, flags, key, metric, field, help) \
    {scope, type, flags, key, metric, NULL, NULL, field, 0, 1, NULL, help}
#define GLOBAL(key, metric, field, help) \
    ONE(STATS_GLOBAL, STATS_COUNTER, 0, key, metric, G(field), help)
#define COLL(key, metric, field, help) \
    ONE(STATS_COLL, STATS_COUNTER, 0, key, metric, C(field), help)
#define REF(key) ONE(STATS_GLOBAL, STATS_COUNTER, STATS_F_REF, key, NULL, 0, NULL)
#define TOTAL(key) ONE(STATS_GLOBAL, STATS_COUNTER, STATS_F_TOTAL, key, NULL, 0, NULL)
#define INPUT(key, metric, field, help) \
    ONE(STATS_INPUT, STATS_COUNTER, 0, key, metric, I(field), help)

/* The order is the order of the stats line. */
const struct stats_def stats_defs[] = {
    GLOBAL("received", "received_total", received, "Packets and dnstap frames read by all inputs."),
    GLOBAL("malformed", "malformed_total", malformed, "Records that did not decode."),
    GLOBAL("ignored", "ignored_total", ignored,
           "Decoded records that are not DNS responses to consider."),
    GLOBAL("held", "held_total", held,
           "Packets taken by a reassembler (IP fragments, DNS over TCP segments)."),
    GLOBAL("reassembled", "reassembled_total", reassembled,
           "Messages put together from several packets, counted like received ones."),
    GLOBAL("dns_error", "dns_errors_total", dns_error,
           "DNS messages too short or with implausible counts."),
    GLOBAL("queries", "queries_total", queries, "DNS queries seen (never forwarded)."),
    GLOBAL("responses", "responses_total", responses, "DNS responses seen."),
    REF("forwarded"),
    TOTAL("dropped"),
    TOTAL("pending"),
    {STATS_GLOBAL, STATS_COUNTER, 0, "drop_", "filtered_total", "reason", NULL,
     G(filtered), STATS_DROP_NO_ANSWER, STATS_DROP_UNPARSABLE + 1, drop_member,
     "Responses not forwarded because of a filter."},
    REF("drop_"),
    GLOBAL("match_queries", "match_queries_total", match.queries, "Queries seen by the matcher (--match)."),
    GLOBAL("match_responses", "match_responses_total", match.responses, "Responses seen by the matcher."),
    GLOBAL("match_matched", "match_matched_total", match.matched, "Responses that matched an outstanding query (RFC 5452)."),
    GLOBAL("match_unmatched", "match_unmatched_total", match.unmatched, "Responses that matched no query: spoofed, or their query was not seen."),
    GLOBAL("match_duplicates", "match_duplicates_total", match.duplicates, "Further responses to a query already answered."),
    GLOBAL("match_unanswered", "match_unanswered_total", match.unanswered, "Queries not answered within --match-timeout."),
    GLOBAL("match_evicted", "match_evicted_total", match.evicted, "Outstanding queries forgotten, oldest first, for a full table."),
    GLOBAL("match_forgotten", "match_forgotten_total", match.forgotten, "Answered queries forgotten early for a full table (duplicates then look unmatched)."),
    GLOBAL("match_replaced", "match_replaced_total", match.replaced, "Queries repeated with the same key before an answer (the newest counts)."),
    GLOBAL("match_bad_query", "match_bad_query_total", match.bad_query, "Queries whose question could not be read."),
    GLOBAL("match_bad_response", "match_bad_response_total", match.bad_response, "Responses whose question could not be read."),
    ONE(STATS_GLOBAL, STATS_GAUGE, 0, "match_outstanding", "match_outstanding", G(match.outstanding), "Queries waiting for their answer now."),
    ONE(STATS_GLOBAL, STATS_HISTOGRAM, 0, "match_latency", "match_latency_seconds", G(latency), "Time from a query to its matched response, in packet time."),
    GLOBAL("bailiwick_checked", "bailiwick_checked_total", bw_checked,
           "dnstap responses with a query_zone checked or scrubbed (--bailiwick)."),
    GLOBAL("bailiwick_scrubbed", "bailiwick_scrubbed_total", bw_scrubbed,
           "dnstap responses forwarded without their out-of-bailiwick records."),
    GLOBAL("bailiwick_removed", "bailiwick_removed_total", bw_removed,
           "Records removed as not at or below query_zone (--bailiwick scrub)."),
    GLOBAL("csum_offloaded", "csum_offloaded_total", csum_offloaded,
           "UDP checksums left to the NIC, accepted unverified."),
    GLOBAL("kernel_drops", "kernel_drops_total", kernel_drops, "Packets libpcap reports dropped."),
    REF("forwarded_bytes"),
    REF("connects"),
    REF("disconnects"),
    REF("send_errors"),
    GLOBAL("frag_fragments", "frag_fragments_total", frag.fragments, "IP fragments given to reassembly."),
    GLOBAL("frag_reassembled", "frag_reassembled_total", frag.reassembled, "IP datagrams reassembled whole."),
    GLOBAL("frag_atomic", "frag_atomic_total", frag.atomic, "IPv6 atomic fragments (offset 0, no more fragments), taken whole."),
    GLOBAL("frag_duplicates", "frag_duplicates_total", frag.duplicates, "IP fragments seen twice, ignored."),
    GLOBAL("frag_overlapping", "frag_overlapping_total", frag.overlapping, "IP fragments overlapping another: their datagram is dropped (RFC 5722)."),
    GLOBAL("frag_invalid", "frag_invalid_total", frag.invalid, "IP fragments that invalidate their datagram (length not a multiple of 8, two ends)."),
    GLOBAL("frag_too_big", "frag_too_big_total", frag.too_big, "IP fragments ending past 65,535 bytes: their datagram is dropped."),
    GLOBAL("frag_no_room", "frag_no_room_total", frag.no_room, "IP fragments of a datagram larger than --frag-memory, dropped."),
    GLOBAL("frag_dropped_dead", "frag_dropped_dead_total", frag.dropped_dead, "IP fragments of a datagram already dropped, until it times out."),
    GLOBAL("frag_timed_out", "frag_timed_out_total", frag.timed_out, "IP datagrams not complete within --frag-timeout."),
    GLOBAL("frag_evicted", "frag_evicted_total", frag.evicted, "IP datagrams evicted, oldest first, for a full table."),
    ONE(STATS_GLOBAL, STATS_GAUGE, 0, "frag_bytes", "frag_bytes", G(frag.bytes), "IP fragment bytes held now."),
    ONE(STATS_GLOBAL, STATS_GAUGE, 0, "frag_datagrams", "frag_datagrams", G(frag.datagrams), "IP datagrams in reassembly now."),
    GLOBAL("tcp_segments", "tcp_segments_total", stream.segments, "TCP segments of port-53 streams."),
    GLOBAL("tcp_flows", "tcp_flows_total", stream.flows, "TCP directions started."),
    GLOBAL("tcp_messages", "tcp_messages_total", stream.messages, "DNS messages cut from TCP streams."),
    GLOBAL("tcp_midstream", "tcp_midstream_total", stream.midstream, "TCP directions picked up without their SYN."),
    GLOBAL("tcp_resyncs", "tcp_resyncs_total", stream.resyncs, "TCP stream positions found again by validating a DNS header."),
    GLOBAL("tcp_gaps", "tcp_gaps_total", stream.gaps, "TCP gaps given up: the stream resumed at the next message."),
    GLOBAL("tcp_out_of_order", "tcp_out_of_order_total", stream.out_of_order, "TCP segments held ahead of a gap."),
    GLOBAL("tcp_retransmits", "tcp_retransmits_total", stream.retransmits, "TCP segments that brought no new byte."),
    GLOBAL("tcp_overlaps", "tcp_overlaps_total", stream.overlaps, "TCP segments partly old or already held."),
    GLOBAL("tcp_evicted", "tcp_evicted_total", stream.evicted, "TCP directions evicted (least recently used) for a full table."),
    GLOBAL("tcp_timed_out", "tcp_timed_out_total", stream.timed_out, "TCP directions idle for --tcp-timeout."),
    GLOBAL("tcp_closed", "tcp_closed_total", stream.closed, "TCP directions ended by FIN."),
    GLOBAL("tcp_resets", "tcp_resets_total", stream.resets, "TCP directions ended by RST."),
    GLOBAL("tcp_oversize", "tcp_oversize_total", stream.oversize, "DNS messages over TCP too long to hold, skipped."),
    GLOBAL("tcp_invalid", "tcp_invalid_total", stream.invalid, "DNS messages over TCP with an implausible header, skipped."),
    GLOBAL("tcp_bad_length", "tcp_bad_length_total", stream.bad_length, "TCP length prefixes below a DNS header: sync lost."),
    GLOBAL("tcp_truncated", "tcp_truncated_total", stream.truncated, "Partial DNS messages left at FIN."),
    GLOBAL("tcp_dropped", "tcp_dropped_total", stream.dropped, "TCP segments refused."),
    GLOBAL("tcp_unread", "tcp_unread_total", stream.unread,
           "DNS messages over TCP lost for want of room in the output area (expected 0)."),
    ONE(STATS_GLOBAL, STATS_GAUGE, 0, "tcp_active", "tcp_active", G(stream.active), "TCP directions followed now."),
    {STATS_GLOBAL, STATS_COUNTER, STATS_F_NONZERO, "pkt_", "packets_skipped_total", "reason",
     NULL, G(malformed_by), 1, PKT_REASON_COUNT, pkt_member,
     "Packets that gave no DNS message, by reason (malformed or ignored)."},

    COLL("queued", "queued_total", queued, "Messages queued for the collector."),
    COLL("forwarded", "forwarded_total", forwarded, "Messages sent to the collector."),
    COLL("forwarded_bytes", "forwarded_bytes_total", forwarded_bytes,
         "DNSXFR01 bytes sent to the collector."),
    {STATS_COLL, STATS_COUNTER, 0, "drop_", "dropped_total", "reason", NULL, C(drop),
     STATS_DROP_QUEUE_FULL, STATS_DROP_COUNT, drop_member,
     "Messages for the collector that were dropped."},
    COLL("connects", "connects_total", connects, "Connections made to the collector."),
    COLL("disconnects", "disconnects_total", disconnects, "Connections to the collector lost."),
    COLL("send_errors", "send_errors_total", send_errors,
         "Transient send errors (e.g. ECONNREFUSED over UDP), retried."),
    ONE(STATS_COLL, STATS_GAUGE, 0, "queued_messages", "queued_messages", C(queued_now),
        "Messages waiting in the collector's queue."),
    ONE(STATS_COLL, STATS_GAUGE, 0, "collector_up", "collector_up", C(up),
        "1 when the collector connection is ready."),

    INPUT("connections", "dnstap_connections_total", connections, "dnstap writers accepted."),
    INPUT("rejected_connections", "dnstap_rejected_connections_total", conn_rejected,
          "dnstap writers refused over the connection limit."),
    INPUT("handshake_failures", "dnstap_handshake_failures_total", handshake_fail,
          "dnstap connections closed before START."),
    INPUT("protocol_errors", "dnstap_protocol_errors_total", protocol_errors,
          "dnstap connections closed on a protocol error."),
    INPUT("frames", "dnstap_frames_total", frames, "dnstap data frames."),
    INPUT("bytes", "dnstap_bytes_total", bytes, "dnstap data frame bytes."),
    INPUT("oversize", "dnstap_oversize_total", oversize, "dnstap frames skipped as too large."),
    INPUT("malformed", "dnstap_malformed_total", malformed, "dnstap frames that did not decode."),
    INPUT("queries", "dnstap_queries_total", queries, "dnstap query messages (never forwarded)."),
    INPUT("not_selected", "dnstap_not_selected_total", not_selected,
          "dnstap messages of a type not in --dnstap-types."),
    INPUT("no_response", "dnstap_no_response_total", no_response,
          "dnstap frames without a response message."),
    INPUT("accepted", "dnstap_accepted_total", accepted, "dnstap responses queued for forwarding."),
    INPUT("rejected", "dnstap_rejected_total", rejected,
          "dnstap responses stopped by the DNS checks or filters."),
    INPUT("pauses", "dnstap_pauses_total", pauses,
          "dnstap reads stopped until a UDP collector's queue had room."),
    {STATS_INPUT, STATS_COUNTER, STATS_F_NONZERO, "", "dnstap_messages_total", "type", NULL,
     I(by_type), 1, STATS_DNSTAP_TYPES, type_member, "dnstap messages by type."},
    {STATS_INPUT, STATS_COUNTER, STATS_F_NONZERO, "fs_", "dnstap_stream_errors_total", "reason",
     NULL, I(fs_errors), 1, FS_ERR_COUNT, fs_member,
     "Frame Streams violations that closed a connection, by reason."},
};

const size_t stats_n_defs = sizeof(stats_defs) / sizeof(stats_defs[0]);

const char *stats_key(const struct stats_def *d, int i, char *buf, size_t size)
{
    const char *m;

    if (!d->member) {
        snprintf(buf, size, "%s", d->key);
        return buf;
    }
    m = d->member(i);
    if (!m)
        return NULL;
    snprintf(buf, size, "%s%s", d->key, m);
    return buf;
}
