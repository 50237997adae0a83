# ---------------------------------------------------------------- fuzz
# Paste below the tests section of Makefile.am (after the line that sets
# EXTRA_DIST, since this appends to it, and after TESTS and check_PROGRAMS
# are first set).
#
# Each fuzz target tests/fuzz/fuzz_<t>.c is built twice: here as
# tests/fuzz/replay_<t> (the target + replay.c, no libFuzzer), which
# tests/fuzz/run_replay.sh runs over the checked-in corpus
# tests/fuzz/corpus/<t>/ in `make check` (and under ASan/UBSan in
# `make check-asan`); and by `make fuzz` (tests/fuzz/build.sh) as a real
# libFuzzer binary with clang, for tests/fuzz/run.sh.
FUZZ_TARGETS = packet dns frame dnstap dnstap_scan collect ipfrag
FUZZ_REPLAYERS = \
	tests/fuzz/replay_packet \
	tests/fuzz/replay_dns \
	tests/fuzz/replay_frame \
	tests/fuzz/replay_dnstap \
	tests/fuzz/replay_dnstap_scan \
	tests/fuzz/replay_collect \
	tests/fuzz/replay_ipfrag
check_PROGRAMS += $(FUZZ_REPLAYERS)
TESTS += tests/fuzz/run_replay.sh

FUZZ_CFLAGS = $(AM_CFLAGS) $(LIBFSTRM_CFLAGS) $(LIBPROTOBUF_C_CFLAGS)
FUZZ_COMMON = tests/fuzz/replay.c tests/fuzz/fuzz.h

tests_fuzz_replay_packet_SOURCES = tests/fuzz/fuzz_packet.c $(FUZZ_COMMON)
tests_fuzz_replay_packet_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_packet_LDADD = $(CODEC_LIBS)
tests_fuzz_replay_dns_SOURCES = tests/fuzz/fuzz_dns.c $(FUZZ_COMMON)
tests_fuzz_replay_dns_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_dns_LDADD = $(CODEC_LIBS)
tests_fuzz_replay_frame_SOURCES = tests/fuzz/fuzz_frame.c $(FUZZ_COMMON)
tests_fuzz_replay_frame_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_frame_LDADD = $(CODEC_LIBS)
tests_fuzz_replay_dnstap_SOURCES = tests/fuzz/fuzz_dnstap.c $(FUZZ_COMMON)
tests_fuzz_replay_dnstap_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_dnstap_LDADD = $(CODEC_LIBS)
tests_fuzz_replay_dnstap_scan_SOURCES = tests/fuzz/fuzz_dnstap_scan.c $(FUZZ_COMMON)
tests_fuzz_replay_dnstap_scan_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_dnstap_scan_LDADD = $(CODEC_LIBS)
tests_fuzz_replay_collect_SOURCES = tests/fuzz/fuzz_collect.c $(FUZZ_COMMON)
tests_fuzz_replay_collect_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_collect_LDADD = $(CODEC_LIBS)
tests_fuzz_replay_ipfrag_SOURCES = tests/fuzz/fuzz_ipfrag.c $(FUZZ_COMMON)
tests_fuzz_replay_ipfrag_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_ipfrag_LDADD = $(CODEC_LIBS)

# The corpora, the scripts, the dictionaries and this fragment (listed
# one by one: an in-tree build leaves objects and binaries in tests/fuzz).
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/README.md \
	tests/fuzz/run_replay.sh tests/fuzz/build.sh tests/fuzz/run.sh \
	tests/fuzz/make_corpus.py tests/fuzz/frame.dict tests/fuzz/collect.dict \
	tests/fuzz/dnstap_scan.dict tests/fuzz/Makefile.am.frag

# libFuzzer binaries (clang, libclang-rt-dev): `make fuzz`, then e.g.
#   FUZZ_BIN=tests/fuzz/bin tests/fuzz/run.sh frame 600
# from the top build directory. FUZZ_OUT picks another directory, FUZZ_CC
# another clang (not $(CC): libFuzzer needs clang whatever configure chose).
FUZZ_OUT = $(abs_top_builddir)/tests/fuzz/bin
FUZZ_CC = clang
fuzz:
	$(AM_V_GEN)CC="$(FUZZ_CC)" $(SHELL) $(top_srcdir)/tests/fuzz/build.sh \
		$(FUZZ_OUT) $(FUZZ_TARGETS)
clean-local: clean-fuzz
clean-fuzz:
	rm -rf $(abs_top_builddir)/tests/fuzz/bin
.PHONY: fuzz clean-fuzz
