#!/usr/bin/env bash
# test.sh: the project's test command, from nothing (as root, no terminal).
#
#   1. scripts/deps.sh: the Debian packages
#   2. autoreconf -fi
#   3. build/ (configure --enable-werror) and build-san/ (--enable-werror
#      --enable-sanitizers: ASan, leaks included, and UBSan): the programs
#      and their tests
#   4. each build's tests, by lanes: a lane is a worker with servers of its
#      own (PostgreSQL, Redis and the health fixture on loopback,
#      scripts/stack.sh) that takes the next test no other lane has taken,
#      longest first, and runs it with automake's test driver, as make check
#      would, with SECTOP_REQUIRE_SERVERS=1 (a test that finds no server
#      fails instead of skipping)
#   5. in build/'s lanes too: scripts/fuzz.sh (every parser harness of
#      tests/fuzz/ under libFuzzer, ASan and UBSan, SECTOP_FUZZ_SECONDS each,
#      default 3, from its seeds), bench/soak.sh --smoke (the console under
#      injected server faults, one minute) and the benchmark's smoke run
#      (tests/cli/bench_smoke.sh, which checks the harness, not the figures:
#      build-san/ leaves it out)
#
# Within a lane the tests run one at a time: some stop or freeze a server on
# purpose, which would break a test beside them on the same servers.  Most
# of a test's time is spent waiting on a server or a terminal, so the lanes
# run side by side: SECTOP_TEST_LANES a build (default 2; four lanes in all
# on two cores).  SECTOP_TEST_TIMEOUT (seconds, default 600) bounds each
# test, a guard against a hang.  With the packages installed the whole run
# takes about 11 minutes on two cores.
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

# The items that take a minute or more under the sanitizers, first in the
# queue, so that no lane is left alone with one of them at the end; the
# rest follow in Makefile.am's order.
LONG_FIRST=(step:fuzz tests/integration/test_pg tests/cli/report.sh tests/tui/bytes.sh
	tests/cli/notify.sh tests/tui/redis_cluster.sh step:soak tests/cli/bench_smoke.sh
	tests/cli/rotate.sh tests/cli/snapshot.sh tests/tui/redis_tls.sh tests/tui/redis_sentinel.sh
	tests/integration/test_faults tests/cli/hardening.sh tests/cli/partitions.sh)

# make_var DIR NAME: the value of a variable of DIR's Makefile.
make_var() {
	make -s -C "$1" -f Makefile -f - print_var <<<"print_var: ; @echo \"\$($2)\""
}

# write_queue DIR ITEM...: DIR/lanes/queue, the ITEMs in LONG_FIRST's order,
# then the rest as given; earlier results and claims go.
write_queue() {
	local dir=$1 t x
	shift
	rm -rf "$dir/lanes" "$dir/steps"
	find "$dir" -name '*.trs' -delete
	mkdir -p "$dir/lanes/claimed" "$dir/steps"
	{
		for t in "${LONG_FIRST[@]}"; do
			for x in "$@"; do [[ $x == "$t" ]] && echo "$t"; done
		done
		for t in "$@"; do
			for x in "${LONG_FIRST[@]}"; do [[ $x == "$t" ]] && continue 2; done
			echo "$t"
		done
	} >"$dir/lanes/queue"
}

# result TRS PASS|FAIL: a result where automake's driver wrote none.
result() { printf ':test-result: %s\n' "$2" >"$1"; }

# run_test DIR TEST ENV...: one test of DIR, with automake's test driver and
# the environment Makefile.am gives its tests (DIR/lanes/am_env); the
# driver's own line (PASS: NAME) goes, the lane says it with the time.
run_test() {
	local dir=$1 t=$2 src rc=0
	shift 2
	src=$dir/$t
	[[ -e $src ]] || src=$ROOT/$t # a script lives in the source tree
	mkdir -p "$(dirname "$dir/$t")"
	(
		cd "$dir"
		eval "$(cat "$dir/lanes/am_env")"
		exec env "$@" timeout --kill-after=10 "$TEST_TIMEOUT" "$ROOT/build-aux/test-driver" \
			--test-name "$t" --log-file "$dir/$t.log" --trs-file "$dir/$t.trs" --color-tests no \
			--enable-hard-errors yes --expect-failure no -- "$src" </dev/null >/dev/null
	) || rc=$?
	if [[ ! -s $dir/$t.trs ]]; then
		echo "test.sh: no result (exit $rc; 124: timed out after $TEST_TIMEOUT s)" >>"$dir/$t.log"
		result "$dir/$t.trs" FAIL
	fi
}

# run_step DIR NAME: one of the checks that are not make check's, its result
# and log in DIR/steps/.
run_step() {
	local log=$1/steps/$2.log trs=$1/steps/$2.trs rc=0
	case $2 in
	fuzz) nice -n 10 "$ROOT/scripts/fuzz.sh" "${SECTOP_FUZZ_SECONDS:-3}" </dev/null >"$log" 2>&1 || rc=$? ;;
	soak) env SECTOP_SOAK_BUILD="$1" "$ROOT/bench/soak.sh" --smoke </dev/null >"$log" 2>&1 || rc=$? ;;
	*) echo "no step $2" >"$log"; rc=1 ;;
	esac
	if ((rc == 0)); then result "$trs" PASS; else result "$trs" FAIL; fi
}

# lane DIR K ENV...: worker K of DIR's checks, on servers of its own, with
# a journal of its own: it runs the items of DIR/lanes/queue that no other
# lane took, and says how each went.  A lane whose servers do not start
# takes nothing: the others run its share.
lane() {
	local dir=$ROOT/$1 k=$2 item t0 res
	shift 2
	(
		# shellcheck disable=SC2034,SC2030 # stack.sh's state: a fresh stack, in this lane only
		STACK_DIR="" STACK_OWNED="" STACK_EXIT_HOOKS=()
		stack_trap
		if ! stack_start_all >/dev/null || ! stack_load_schema >/dev/null; then
			say "$(basename "$dir") lane $k: its servers did not start"
			exit 1
		fi
		export SECTOP_REQUIRE_SERVERS=1 XDG_STATE_HOME=$dir/state/$k
		mkdir -p "$XDG_STATE_HOME"
		while IFS= read -r -u 3 item; do
			mkdir "$dir/lanes/claimed/${item//\//_}" 2>/dev/null || continue
			t0=$SECONDS
			case $item in
			step:*) run_step "$dir" "${item#step:}"; res=$dir/steps/${item#step:}.trs ;;
			*) run_test "$dir" "$item" "$@"; res=$dir/$item.trs ;;
			esac
			say "$(basename "$dir") lane $k: $item $(sed -n 's/^:test-result: //p' "$res" | head -n 1)" \
				"$((SECONDS - t0)) s"
		done 3<"$dir/lanes/queue"
	)
}

# check_build DIR ITEM...: DIR's lanes, in the background; their pids are
# added to lane_pids.
check_build() {
	local dir=$ROOT/$1 k env=()
	shift
	[[ $(basename "$dir") == build-san ]] && env=("${SAN_ENV[@]}")
	write_queue "$dir" "$@"
	make_var "$dir" AM_TESTS_ENVIRONMENT >"$dir/lanes/am_env"
	for ((k = 1; k <= LANES; k++)); do
		lane "$(basename "$dir")" "$k" "${env[@]}" &
		lane_pids+=($!)
	done
}

# tally_tree DIR: count DIR's results, show the logs of those that failed,
# and count as failed what no lane ran.
tally_tree() {
	local dir=$ROOT/$1 item trs res
	while IFS= read -r item; do
		case $item in
		step:*) trs=$dir/steps/${item#step:}.trs ;;
		*) trs=$dir/$item.trs ;;
		esac
		res=$(sed -n 's/^:test-result: //p' "$trs" 2>/dev/null | head -n 1)
		case $res in
		PASS | XFAIL) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)); say "skipped: $1/$item" ;;
		*)
			fail "$1/$item (${res:-not run})"
			if [[ -f ${trs%.trs}.log ]]; then
				echo "==== ${trs%.trs}.log ===="
				cat "${trs%.trs}.log"
			fi
			;;
		esac
	done <"$dir/lanes/queue"
	for item in fuzz soak; do
		[[ -f $dir/steps/$item.log ]] && say "$item: $(tail -n 1 "$dir/steps/$item.log")"
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
for b in "${built[@]}"; do
	tests=$(make_var "$ROOT/$b" TESTS)
	if [[ $b == build ]]; then
		# shellcheck disable=SC2086 # the list of tests, split on spaces
		check_build "$b" $tests step:fuzz step:soak
	else
		# shellcheck disable=SC2086
		check_build "$b" ${tests//tests\/cli\/bench_smoke.sh/}
	fi
done
say "${#lane_pids[@]} lanes: ${built[*]}"
for pid in "${lane_pids[@]}"; do wait "$pid" || true; done
lane_pids=()
for b in "${built[@]}"; do tally_tree "$b"; done

((passed > 0)) || fail "no test passed: did any run?"
summary
((failed == 0))
