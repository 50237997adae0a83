# ---------------------------------------------------------------- bench
# `make bench`: the benchmark (tests/bench/README.md); not part of check.
# Options for tests/bench/bench.py go in BENCH_ARGS, e.g.
#   make bench BENCH_ARGS='--runs 3 --only pcap-udp,memory'
# Generated inputs are cached in $TAPXFR_BENCH_CACHE, else in
# tests/bench/data/ of the build directory; results and logs go to
# tests/bench/results/. Exits non-zero if anything eligible was lost.
bench: all
	CC="$(CC)" PYTHON3="$(PYTHON3)" $(SHELL) $(abs_top_srcdir)/tests/bench/run.sh \
		$(abs_top_builddir) $(abs_top_srcdir)/tests/tools $(BENCH_ARGS)
.PHONY: bench
EXTRA_DIST += tests/bench/README.md tests/bench/run.sh tests/bench/bench.py \
	tests/bench/blast_timed.py tests/bench/bcollect.c tests/bench/rawsend.c \
	tests/bench/rssrun.c tests/bench/pcapcount.c
