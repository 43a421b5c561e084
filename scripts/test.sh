#!/usr/bin/env bash
# test.sh: the project's test command, from nothing (as root, no terminal).
#
#   1. scripts/deps.sh: the Debian packages
#   2. autoreconf -fi
#   3. build/      configure --enable-werror, make
#   4. PostgreSQL, Redis and the health fixture on loopback (scripts/stack.sh)
#   5. make check in build/, with SECTOP_REQUIRE_SERVERS=1: a test that finds
#      no server fails instead of skipping
#   6. build-san/  configure --enable-werror --enable-sanitizers, make check
#      under ASan (leaks too) and UBSan, at the same time as step 5, on
#      servers of its own (a second stack.sh stack); the benchmark's smoke
#      run (tests/cli/bench_smoke.sh, which checks that the harness still
#      runs, not the figures) in neither: it runs in step 8 on build/
#   7. scripts/fuzz.sh: every parser harness of tests/fuzz/ under libFuzzer,
#      ASan and UBSan, SECTOP_FUZZ_SECONDS each (default 3), from its seeds
#   8. bench/soak.sh --smoke: the console under injected server faults (one
#      minute), and the benchmark's smoke run, beside step 7; steps 7 and 8
#      start once build/'s check is over, while build-san/'s ends
#
# Within one build the tests run one at a time: some stop or freeze a
# server on purpose, which would break a test running beside them.  The two
# builds have servers apart, so their checks run side by side (most of a
# test's time is spent waiting on a server or a terminal);
# SECTOP_TEST_SERIAL=1 runs them one after the other instead.
# SECTOP_CHECK_TIMEOUT (seconds, default 900) bounds each make check (a
# guard against a hang).  With the packages installed the whole run takes
# about 15 minutes on two cores (20 one build after the other).
# Ends with the line "N passed, N failed"; exits non-zero if anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$ROOT"
CHECK_TIMEOUT=${SECTOP_CHECK_TIMEOUT:-900}
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

# tally DIR: add up the automake .trs results of one build directory.
tally() {
	local dir=$1 res name trs
	while IFS= read -r trs; do
		name=${trs#"$ROOT"/}
		name=${name%.trs}
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
		case $res in
		PASS | XFAIL) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)); say "skipped: $name" ;;
		*) fail "$name (${res:-no result})" ;;
		esac
	done < <(find "$dir" -name '*.trs' | sort)
}

# show_failed_logs DIR: the harness's summary log holds each failing test's log.
show_failed_logs() {
	[[ -s $1/test-suite.log ]] || return 0
	echo "==== $1/test-suite.log ===="
	cat "$1/test-suite.log"
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

# check_tree DIR ENV...: make check in DIR with ENV (the sanitizers'
# options), on the servers this shell's environment names, without the
# tests in CHECK_EXCLUDE.  The exit status goes to DIR/check.rc, for
# tally_tree: this runs in the background beside the other build's.
check_tree() {
	local dir=$ROOT/$1 rc=0 tests=()
	shift
	stack_start_all >/dev/null # revive a server an earlier test left stopped
	stack_reset_data
	find "$dir" -name '*.trs' -delete
	if ((${#CHECK_EXCLUDE[@]})); then
		tests=("TESTS=$(check_tests "$dir")")
		say "$(basename "$dir"): not here: ${CHECK_EXCLUDE[*]}"
	fi
	say "$(basename "$dir"): make check (servers in $SECTOP_TEST_STACK_DIR)"
	# a journal of its own, apart from the other build's (a test may name its own)
	mkdir -p "$dir/state"
	(cd "$dir" && env XDG_STATE_HOME="$dir/state" "$@" timeout --kill-after=10 "$CHECK_TIMEOUT" \
		make check "${tests[@]}") || rc=$?
	echo "$rc" >"$dir/check.rc"
}

# tally_tree DIR: count DIR's results, and say what failed.
tally_tree() {
	local dir=$ROOT/$1 before=$failed rc
	rc=$(cat "$dir/check.rc" 2>/dev/null || echo 255)
	tally "$dir"
	if ((rc == 124 || rc == 137)); then
		fail "$(basename "$dir"): make check timed out after $CHECK_TIMEOUT s"
	elif ((rc != 0 && failed == before)); then
		fail "$(basename "$dir"): make check (exit $rc)"
	fi
	((failed == before)) || show_failed_logs "$dir"
}

# check_tests DIR: the build's TESTS without those in CHECK_EXCLUDE.
check_tests() {
	local t x keep=()
	for t in $(make -s -C "$1" -f Makefile -f - print_tests <<<'print_tests: ; @echo $(TESTS)'); do
		for x in "${CHECK_EXCLUDE[@]}"; do [[ $t == "$x" ]] && continue 2; done
		keep+=("$t")
	done
	echo "${keep[*]}"
}

# step NAME CMD...: a check that is not part of make check, counted as one test.
step() {
	local name=$1 log=$ROOT/build/$1.log
	shift
	say "$name"
	if quietly "$log" "$@"; then
		passed=$((passed + 1))
		tail -n 1 "$log" | sed 's/^/  /'
	else
		fail "$name"
	fi
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
stack_trap
say "servers: PostgreSQL, Redis, health fixture"
stack_start_all
stack_load_schema
say "state in $SECTOP_TEST_STACK_DIR"
export SECTOP_REQUIRE_SERVERS=1

SAN_ENV=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
built=()
build_tree build --enable-werror && built+=(build)
build_tree build-san --enable-werror --enable-sanitizers && built+=(build-san)

# build-san/'s check, on a stack of its own: in a subshell, whose trap
# stops those servers whatever happens.  The benchmark's smoke run checks
# the harness, which build/ already does.
check_san() {
	(
		# shellcheck disable=SC2034 # stack.sh's state: a fresh stack, not the first one's
		STACK_DIR="" STACK_OWNED="" STACK_EXIT_HOOKS=()
		stack_trap
		if ! stack_start_all >/dev/null || ! stack_load_schema >/dev/null; then
			echo 99 >"$ROOT/build-san/check.rc"
			exit 0
		fi
		CHECK_EXCLUDE=(tests/cli/bench_smoke.sh)
		check_tree build-san "${SAN_ENV[@]}"
	)
}
has_built() { [[ " ${built[*]} " == *" $1 "* ]]; }

# The fuzzers keep a core busy while the soak and the benchmark's smoke
# run mostly wait (on faults, on their servers): side by side, the three
# cost the longest of them (about two minutes).  None is timed: they run
# while the other build's check ends.
# waited NAME PID LOG: a background check, counted as one test: its last
# line, or the end of its log when it failed.
waited() {
	say "$1"
	if wait "$2"; then
		passed=$((passed + 1))
		tail -n 1 "$3" | sed 's/^/  /'
	else
		echo "---- last lines of $3 ----"
		tail -n 40 "$3"
		fail "$1"
	fi
}

fuzz_and_soak() {
	local fuzz_log=$ROOT/build/fuzz.log fuzz_pid smoke_pid
	nice -n 10 "$ROOT/scripts/fuzz.sh" "${SECTOP_FUZZ_SECONDS:-3}" >"$fuzz_log" 2>&1 &
	fuzz_pid=$!
	# tests/cli/bench_smoke.sh as make check would run it
	env top_srcdir="$ROOT" top_builddir="$ROOT/build" SECTOP="$ROOT/build/sectop" \
		bash "$ROOT/tests/cli/bench_smoke.sh" >"$ROOT/build/bench_smoke.log" 2>&1 &
	smoke_pid=$!
	step soak env SECTOP_SOAK_BUILD="$ROOT/build" "$ROOT/bench/soak.sh" --smoke
	waited bench_smoke "$smoke_pid" "$ROOT/build/bench_smoke.log"
	waited fuzz "$fuzz_pid" "$fuzz_log"
}

CHECK_EXCLUDE=()
san_pid=
if has_built build-san && [[ ${SECTOP_TEST_SERIAL:-0} != 1 ]]; then
	check_san >"$ROOT/build-san/check.out" 2>&1 &
	san_pid=$!
fi
if has_built build; then
	CHECK_EXCLUDE=(tests/cli/bench_smoke.sh)    # run beside the fuzzers, below
	check_tree build
	tally_tree build
	fuzz_and_soak
fi
if [[ -n $san_pid ]]; then
	wait "$san_pid" || true
	cat "$ROOT/build-san/check.out"
elif has_built build-san; then
	check_san
fi
has_built build-san && tally_tree build-san

((passed > 0)) || fail "no test passed: did any run?"
summary
((failed == 0))
