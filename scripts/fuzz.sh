#!/usr/bin/env bash
# fuzz.sh: build the parser harnesses of tests/fuzz/ with clang's libFuzzer
# under ASan and UBSan, and run each for SECONDS (default 5) from its seed
# corpus in tests/fuzz/corpus/NAME/.  Exits non-zero if any harness crashed,
# hung, leaked or broke an invariant; the input that did it is kept in
# build-fuzz/crashes/ and its path printed.
#
#   scripts/fuzz.sh                  every harness, 5 s each
#   scripts/fuzz.sh 300 sanitize     one harness (fuzz_sanitize), 5 minutes
#   scripts/fuzz.sh 0                replay the seed corpora only
#   SECTOP_FUZZ_DIR=DIR              where objects, binaries and the grown
#                                    corpora go (default build-fuzz/)
#   SECTOP_FUZZ_JOBS=N               compile with N jobs (default 2)
#
# tests/fuzz/NAME.dict, when there is one, gives the fuzzer the words of the
# syntax (setting names, URL parts) that it would take long to guess.
# Needs clang and libclang-rt-14-dev (scripts/deps.sh installs them), and the
# libraries sectop builds with.  The seed corpora stay small and meaningful;
# inputs the fuzzer finds go to DIR/corpus/NAME/, outside the tree.  A crash
# once fixed gets its input added to the seeds, so every later run replays it.
# Runs under nice -n 10.
set -euo pipefail

ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
SECONDS_EACH=${1:-5}
shift || true
OUT=${SECTOP_FUZZ_DIR:-$ROOT/build-fuzz}
JOBS=${SECTOP_FUZZ_JOBS:-2}
CC=${SECTOP_FUZZ_CC:-clang}

say() { printf 'fuzz: %s\n' "$*"; }

[[ $SECONDS_EACH =~ ^[0-9]+$ ]] || { echo "usage: fuzz.sh [SECONDS] [NAME...]" >&2; exit 2; }
if ! command -v "$CC" >/dev/null; then
	say "$CC not found: run scripts/deps.sh (clang, libclang-rt-14-dev)"
	exit 1
fi

# The core (every src/ file but main.c) and the console's theme parser: the
# linker takes from the archive only what a harness reaches.
CORE=()
for f in "$ROOT"/src/*.c ui/theme.c; do
	f=${f#"$ROOT"/}
	[[ $f == src/main.c ]] || CORE+=("$f")
done
PKGS="libpq hiredis libcurl jansson ncursesw openssl"
# the GeoIP reader is optional: linked when the tree was configured with it
pkg-config --exists libmaxminddb && PKGS+=" libmaxminddb"
CFLAGS_FUZZ=(-std=gnu11 -g -O1 -fno-omit-frame-pointer
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
	-I"$OUT" -I"$ROOT/src" -I"$ROOT/ui" -I"$ROOT/tests/fuzz")
read -ra PKG_CFLAGS <<<"$(pkg-config --cflags $PKGS)"
read -ra PKG_LIBS <<<"$(pkg-config --libs $PKGS) -lm -lpthread"

mkdir -p "$OUT/obj" "$OUT/bin" "$OUT/corpus" "$OUT/crashes"

# config.h: the tree's build has one (same system, same answers); else
# configure a tree of our own once.
config_header() {
	[[ -f $OUT/config.h ]] && return 0
	if [[ -f $ROOT/build/config.h ]]; then
		cp "$ROOT/build/config.h" "$OUT/config.h"
		return 0
	fi
	[[ -x $ROOT/configure ]] || (cd "$ROOT" && autoreconf -fi >/dev/null 2>&1)
	mkdir -p "$OUT/configure"
	(cd "$OUT/configure" && "$ROOT/configure" CC="$CC" >configure.log 2>&1)
	cp "$OUT/configure/config.h" "$OUT/config.h"
}

# stale OBJ SRC...: does OBJ need building (missing, or older than a source)?
stale() {
	local obj=$1 f
	shift
	[[ -f $obj ]] || return 0
	for f in "$@"; do [[ $f -nt $obj ]] && return 0; done
	return 1
}

# compile_core: each core file once; again only when it or a header changed.
compile_core() {
	local src obj todo=() newest_h
	newest_h=$(ls -t "$ROOT"/src/*.h "$ROOT"/ui/*.h "$OUT/config.h" | head -n 1)
	for src in "${CORE[@]}"; do
		obj=$OUT/obj/$(basename "${src%.c}").o
		stale "$obj" "$ROOT/$src" "$newest_h" "$0" && todo+=("$src")
	done
	((${#todo[@]})) || return 0
	say "compiling ${#todo[@]} core files"
	printf '%s\n' "${todo[@]}" | nice -n 10 xargs -P "$JOBS" -I{} sh -c \
		'"$0" "$@" -fsanitize=fuzzer-no-link -c "'"$ROOT"'/{}" -o "'"$OUT"'/obj/$(basename {} .c).o"' \
		"$CC" "${CFLAGS_FUZZ[@]}" "${PKG_CFLAGS[@]}"
	rm -f "$OUT/libcore.a"
	ar rcs "$OUT/libcore.a" "$OUT"/obj/*.o
}

# link NAME: tests/fuzz/fuzz_NAME.c into bin/fuzz_NAME.
link_harness() {
	local name=$1 src=$ROOT/tests/fuzz/fuzz_$1.c bin=$OUT/bin/fuzz_$1
	stale "$bin" "$src" "$ROOT/tests/fuzz/fuzz.h" "$OUT/libcore.a" || return 0
	nice -n 10 "$CC" "${CFLAGS_FUZZ[@]}" "${PKG_CFLAGS[@]}" -fsanitize=fuzzer \
		"$src" "$OUT/libcore.a" "${PKG_LIBS[@]}" -o "$bin"
}

# run NAME: fuzz for SECONDS_EACH; 0, or 1 with the crashing input kept.
run_harness() {
	local name=$1 log=$OUT/fuzz_$1.log seeds=$ROOT/tests/fuzz/corpus/$1 rc=0
	local grown=$OUT/corpus/$1
	mkdir -p "$grown" "$seeds"
	rm -f "$OUT/crashes/$name-"*
	local dict=()    # tests/fuzz/NAME.dict: the words of its syntax
	[[ -f $ROOT/tests/fuzz/$1.dict ]] && dict=(-dict="$ROOT/tests/fuzz/$1.dict")
	local limit=(-max_total_time="$SECONDS_EACH")
	((SECONDS_EACH > 0)) || limit=(-runs=0)     # 0: replay the corpus only
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a runaway
	# allocation is a finding too.  Leaks are reported (ASan's default).
	nice -n 10 env ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
		"$OUT/bin/fuzz_$name" "${limit[@]}" "${dict[@]}" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$OUT/crashes/$name-" \
		"$grown" "$seeds" >"$log" 2>&1 || rc=$?
	local execs corpus
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	corpus=$(find "$grown" "$seeds" -type f | wc -l)
	if ((rc == 0)); then
		say "$name: ok, ${SECONDS_EACH} s, ${execs:-0} execs, $corpus inputs"
		return 0
	fi
	say "$name: FAILED (exit $rc) after ${execs:-?} execs"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|.*runtime error)' "$log" | head -n 5 | sed 's/^/    /'
	ls "$OUT/crashes/$name-"* 2>/dev/null | sed 's/^/    input: /'
	say "    full output: $log"
	return 1
}

NAMES=("$@")
if ((${#NAMES[@]} == 0)); then
	for f in "$ROOT"/tests/fuzz/fuzz_*.c; do
		n=${f##*/fuzz_}
		NAMES+=("${n%.c}")
	done
fi

config_header
compile_core
for n in "${NAMES[@]}"; do
	[[ -f $ROOT/tests/fuzz/fuzz_$n.c ]] || { say "no harness tests/fuzz/fuzz_$n.c"; exit 2; }
	link_harness "$n"
done

failed=()
for n in "${NAMES[@]}"; do
	run_harness "$n" || failed+=("$n")
done
if ((${#failed[@]})); then
	say "${#failed[@]} of ${#NAMES[@]} harnesses failed: ${failed[*]}"
	exit 1
fi
say "${#NAMES[@]} harnesses, no crash"
