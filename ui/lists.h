/* lists.h: the full-screen lists, each a set of columns and the rows it
 * builds from the model. */
#ifndef SECTOP_LISTS_H
#define SECTOP_LISTS_H

#include <stdint.h>

#include "table.h"

struct model;
struct config;

/* What Enter on a row opens. */
enum row_kind { ROW_NONE, ROW_IP, ROW_TENANT, ROW_HEALTH, ROW_KEY, ROW_SECRET, ROW_RANGE };

enum list_id { LIST_IPS, LIST_TENANTS, LIST_HEALTH, LIST_BLOCKED, LIST_TAIL, LIST_KEYS, LIST_ACTIONS,
               LIST_ROTATIONS, LIST_RATELIMITS, LIST_RANGES, LIST_COUNT };

struct api_key;
struct rotation_status;
struct timeline;

/* What some lists show beyond the model: read off the loop by the console. */
struct list_extra {
	const struct api_key *keys;          /* the keys view */
	size_t n_keys;
	const struct timeline *journal;      /* the actions view: every record */
	const struct rotation_status *rotations;   /* the rotations view */
	size_t n_rotations;
};

struct list_def {
	char key;                /* the key that shows it, said in its title */
	const char *title;
	const struct column *cols;
	int ncols;
	int default_sort;        /* column, or -1 for the model's order */
	void (*build)(struct rows *r, const struct model *m, const struct config *cfg, int64_t now_ms,
	              const struct list_extra *x);
	const char *hint;        /* the footer: what Enter and the action keys do here */
};

extern const struct list_def list_defs[LIST_COUNT];

/* "1h02m", "59s", "no expiry" */
void format_ttl(char *buf, size_t n, long ttl_s);
#endif
