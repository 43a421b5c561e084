/* fuzz.h: what the harnesses share.  Each harness is one libFuzzer entry
 * point over one parser that reads outside bytes; scripts/fuzz.sh builds and
 * runs them under ASan and UBSan.  A broken invariant aborts, so a fuzzer
 * reports it like a crash. */
#ifndef SECTOP_FUZZ_H
#define SECTOP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string: cut at its first NUL, as a C caller sees it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input as a file, for parsers that read a path: one memory file per
 * process, rewritten for each input.  Returns its /proc path. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		/* a real file of ours, 0600: a reader that refuses links (the
		 * journal's) must be able to open it by its name */
		snprintf(path, sizeof path, "/tmp/sectop-fuzz-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		fchmod(fd, 0600);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                              \
		if (!(cond)) {                                                                \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                             \
	} while (0)

#endif
