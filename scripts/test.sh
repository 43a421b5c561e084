#!/usr/bin/env bash
# test.sh: the project's test command, from nothing (as root, no terminal).
#
#   1. scripts/deps.sh: the Debian packages
#   2. autoreconf -fi
#   3. build/ (configure --enable-werror) and build-san/ (--enable-werror
#      --enable-sanitizers: ASan, leaks included, and UBSan): the programs
#      and their tests
#   4. both builds' tests, by lanes: a lane is a worker with servers of its
#      own (PostgreSQL, Redis and the health fixture on loopback,
#      scripts/stack.sh) that takes the next test no other lane has taken,
#      of either build, longest first, and runs it with automake's test
#      driver, as make check would, with SECTOP_REQUIRE_SERVERS=1 (a test
#      that finds no server fails instead of skipping)
#   5. in the same queue, for build/: scripts/fuzz.sh (every parser harness of
#      tests/fuzz/ under libFuzzer, ASan and UBSan, SECTOP_FUZZ_SECONDS each,
#      default 3, from its seeds), bench/soak.sh --smoke (the console under
#      injected server faults, one minute) and the benchmark's smoke run
#      (tests/cli/bench_smoke.sh, which checks the harness, not the figures:
#      build-san/ leaves it out)
#
# Within a lane the tests run one at a time: some stop or freeze a server on
# purpose, which would break a test beside them on the same servers.  Most
# of a test's time is spent waiting on a server or a terminal, so the lanes
# run side by side: SECTOP_TEST_LANES for each build (default 2: four lanes
# on two cores).  Results and logs are where make check puts them
# (build/tests/..., .log and .trs).  SECTOP_TEST_TIMEOUT (seconds, default
# 600) bounds each test, a guard against a hang.  With the packages
# installed the whole run takes about 12 minutes on two cores.
# Ends with the line "N passed, N failed"; exits non-zero if anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"
LANES=${SECTOP_TEST_LANES:-2}
TEST_TIMEOUT=${SECTOP_TEST_TIMEOUT:-600}
export LANG=${LANG:-C.UTF-8}

passed=0 failed=0 skipped=0
failures=()

say() { printf 'test: %s\n' "$*"; }

# fail NAME: count a failure that is not a test (a build step).
fail() { failed=$((failed + 1)); failures+=("$1"); }

# quietly LOG CMD...: run CMD with its output in LOG; show the end on failure.
quietly() {
	local log=$1
	shift
	if "$@" >"$log" 2>&1; then return 0; fi
	echo "---- last lines of $log ----"
	tail -n 40 "$log"
	return 1
}

# build_tree DIR CONFIGURE-ARGS...: configure and build in DIR (the
# programs and the tests); 0, or a failure counted.
build_tree() {
	local dir=$ROOT/$1
	shift
	mkdir -p "$dir"
	say "$(basename "$dir"): configure $*"
	if ! (cd "$dir" && quietly configure.log "$ROOT/configure" "$@"); then
		fail "$(basename "$dir"): configure"
		return 1
	fi
	say "$(basename "$dir"): make"
	if ! (cd "$dir" && quietly make.log make -j2 all && quietly make-tests.log make -j2 check TESTS=); then
		fail "$(basename "$dir"): make"
		return 1
	fi
}

# The items that take a minute or more, first in the queue, so that no lane
# is left alone with one of them at the end (each comes for build-san/,
# slower, then for build/); the rest follow in Makefile.am's order.
LONG_FIRST=(step:fuzz tests/cli/bench_smoke.sh tests/integration/test_pg tests/cli/report.sh
	step:soak tests/tui/bytes.sh tests/cli/notify.sh tests/tui/redis_cluster.sh tests/cli/rotate.sh
	tests/cli/snapshot.sh tests/tui/redis_tls.sh tests/tui/redis_sentinel.sh
	tests/integration/test_faults tests/cli/hardening.sh tests/cli/partitions.sh)
QUEUE=$ROOT/lanes

# make_var DIR NAME: the value of a variable of DIR's Makefile.
make_var() {
	make -s -C "$1" -f Makefile -f - print_var <<<"print_var: ; @echo \"\$($2)\""
}

# queue_build BUILD ITEM...: BUILD's items, for write_queue; earlier results
# of BUILD go, and the environment its Makefile.am gives its tests is kept
# for run_test.
queue_build() {
	local b=$1 t
	shift
	find "$ROOT/$b" -name '*.trs' -delete
	rm -rf "$ROOT/$b/steps"
	mkdir -p "$ROOT/$b/steps"
	make_var "$ROOT/$b" AM_TESTS_ENVIRONMENT >"$QUEUE/$b.am_env"
	for t in "$@"; do echo "$b $t"; done >>"$QUEUE/all"
}

# write_queue: QUEUE/queue, the lines of QUEUE/all ("BUILD ITEM") in
# LONG_FIRST's order, then the rest as queued.
write_queue() {
	local t b item
	{
		for t in "${LONG_FIRST[@]}"; do
			grep -x "build-san $t" "$QUEUE/all" || true
			grep -x "build $t" "$QUEUE/all" || true
		done
		while read -r b item; do
			for t in "${LONG_FIRST[@]}"; do [[ $item == "$t" ]] && continue 2; done
			echo "$b $item"
		done <"$QUEUE/all"
	} >"$QUEUE/queue"
}

# result TRS PASS|FAIL: a result where automake's driver wrote none.
result() { printf ':test-result: %s\n' "$2" >"$1"; }

# trs_of BUILD ITEM: where the item's result is.
trs_of() {
	case $2 in
	step:*) echo "$ROOT/$1/steps/${2#step:}.trs" ;;
	*) echo "$ROOT/$1/$2.trs" ;;
	esac
}

# run_test BUILD TEST: one test, with automake's test driver and the
# environment Makefile.am gives the build's tests, and the sanitizers'
# options for build-san/; the driver's own line (PASS: NAME) goes, the lane
# says it with the time.
run_test() {
	local dir=$ROOT/$1 t=$2 src rc=0 env=()
	[[ $1 == build-san ]] && env=("${SAN_ENV[@]}")
	src=$dir/$t
	[[ -e $src ]] || src=$ROOT/$t # a script lives in the source tree
	mkdir -p "$(dirname "$dir/$t")"
	(
		cd "$dir"
		eval "$(cat "$QUEUE/$1.am_env")"
		exec env "${env[@]}" timeout --kill-after=10 "$TEST_TIMEOUT" "$ROOT/build-aux/test-driver" \
			--test-name "$t" --log-file "$dir/$t.log" --trs-file "$dir/$t.trs" --color-tests no \
			--enable-hard-errors yes --expect-failure no -- "$src" </dev/null >/dev/null
	) || rc=$?
	if [[ ! -s $dir/$t.trs ]]; then
		echo "test.sh: no result (exit $rc; 124: timed out after $TEST_TIMEOUT s)" >>"$dir/$t.log"
		result "$dir/$t.trs" FAIL
	fi
}

# run_step BUILD NAME: one of the checks that are not make check's, its
# result and log in BUILD/steps/.
run_step() {
	local dir=$ROOT/$1 rc=0
	local log=$dir/steps/$2.log
	case $2 in
	fuzz) nice -n 10 "$ROOT/scripts/fuzz.sh" "${SECTOP_FUZZ_SECONDS:-3}" </dev/null >"$log" 2>&1 || rc=$? ;;
	soak) env SECTOP_SOAK_BUILD="$dir" "$ROOT/bench/soak.sh" --smoke </dev/null >"$log" 2>&1 || rc=$? ;;
	*) echo "no step $2" >"$log"; rc=1 ;;
	esac
	if ((rc == 0)); then result "${log%.log}.trs" PASS; else result "${log%.log}.trs" FAIL; fi
}

# lane K: worker K, on servers of its own: it runs the items of the queue
# that no other lane took, of either build, and says how each went; each
# build's tests get a journal of the lane's own.  A lane whose servers do
# not start takes nothing: the others run its share.
lane() {
	local k=$1 b item t0
	(
		# shellcheck disable=SC2034,SC2030 # stack.sh's state: a fresh stack, in this lane only
		STACK_DIR="" STACK_OWNED="" STACK_EXIT_HOOKS=()
		stack_trap
		if ! stack_start_all >/dev/null || ! stack_load_schema >/dev/null; then
			say "lane $k: its servers did not start"
			exit 1
		fi
		export SECTOP_REQUIRE_SERVERS=1
		while read -r -u 3 b item; do
			mkdir "$QUEUE/claimed/$b ${item//\//_}" 2>/dev/null || continue
			export XDG_STATE_HOME=$ROOT/$b/state/$k
			mkdir -p "$XDG_STATE_HOME"
			t0=$SECONDS
			case $item in
			step:*) run_step "$b" "${item#step:}" ;;
			*) run_test "$b" "$item" ;;
			esac
			say "lane $k: $b/$item $(sed -n 's/^:test-result: //p' "$(trs_of "$b" "$item")" | head -n 1)" \
				"$((SECONDS - t0)) s"
		done 3<"$QUEUE/queue"
	)
}

# tally: count the results, show the logs of those that failed, and count
# as failed what no lane ran.
tally() {
	local b item trs res
	while read -r b item; do
		trs=$(trs_of "$b" "$item")
		res=$(sed -n 's/^:test-result: //p' "$trs" 2>/dev/null | head -n 1)
		case $res in
		PASS | XFAIL) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)); say "skipped: $b/$item" ;;
		*)
			fail "$b/$item (${res:-not run})"
			if [[ -f ${trs%.trs}.log ]]; then
				echo "==== ${trs%.trs}.log ===="
				cat "${trs%.trs}.log"
			fi
			;;
		esac
	done <"$QUEUE/queue"
	for item in fuzz soak; do
		[[ -f $ROOT/build/steps/$item.log ]] && say "$item: $(tail -n 1 "$ROOT/build/steps/$item.log")"
	done
	return 0
}

summary() {
	if ((${#failures[@]})); then
		say "failed:"
		printf '  %s\n' "${failures[@]}"
	fi
	((skipped == 0)) || say "$skipped skipped"
	echo "$passed passed, $failed failed"
}

say "packages"
"$ROOT/scripts/deps.sh"

# A tree configured in place refuses out-of-tree builds.
if [[ -f config.status ]]; then
	say "the source tree is configured in place: make distclean first"
	make distclean >/dev/null 2>&1 || rm -f config.status
fi
say "autoreconf"
mkdir -p build
if ! quietly "$ROOT/build/autoreconf.log" autoreconf -fi; then
	fail "autoreconf"
	summary
	exit 1
fi

# shellcheck source=scripts/stack.sh
source "$ROOT/scripts/stack.sh"

SAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
built=()
build_tree build --enable-werror && built+=(build)
build_tree build-san --enable-werror --enable-sanitizers && built+=(build-san)

# stopped early (CI's limit, ^C): the lanes go too, and with them their servers
lane_pids=()
trap 'kill "${lane_pids[@]}" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rm -rf "$QUEUE"
mkdir -p "$QUEUE/claimed"
: >"$QUEUE/all"
for b in "${built[@]}"; do
	tests=$(make_var "$ROOT/$b" TESTS)
	if [[ $b == build ]]; then
		# shellcheck disable=SC2086 # the list of tests, split on spaces
		queue_build "$b" $tests step:fuzz step:soak
	else
		# the benchmark's smoke run checks the harness, which build/ does
		# shellcheck disable=SC2086
		queue_build "$b" ${tests//tests\/cli\/bench_smoke.sh/}
	fi
done
write_queue
for ((k = 1; k <= LANES * ${#built[@]}; k++)); do
	lane "$k" &
	lane_pids+=($!)
done
say "${#lane_pids[@]} lanes: $(wc -l <"$QUEUE/queue") items of ${built[*]}"
for pid in "${lane_pids[@]}"; do wait "$pid" || true; done
lane_pids=()
tally

((passed > 0)) || fail "no test passed: did any run?"
summary
((failed == 0))
