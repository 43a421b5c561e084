/* snapshot_out.h: the snapshot as text or JSON on a stream, for
 * `sectop snapshot`.  Reads only the model. */
#ifndef SECTOP_SNAPSHOT_OUT_H
#define SECTOP_SNAPSHOT_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct model;
struct ip_stat;

int snapshot_write_json(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms);
/* ascii: the terminal is not UTF-8, escape every non-ASCII character */
int snapshot_write_text(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms,
                        bool ascii);

/* Does this address cross the brute-force threshold?  Its Redis counter
 * (the servers' own 5-minute window) or its failures in a window no longer
 * than the alert window. */
bool snapshot_ip_alert(const struct model *m, const struct config *cfg, const struct ip_stat *s);

/* One block as the snapshot lists it (a new JSON object). */
struct block_entry;
typedef struct json_t json_t;
json_t *snapshot_block_json(const struct block_entry *b);

/* --all-blocks: the snapshot with every block key, streamed as the walk
 * finds them: the head (everything else), one block at a time, the tail
 * (the count and the walk's state). */
int snapshot_json_stream_head(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms);
int snapshot_json_stream_block(const struct block_entry *b, FILE *f, unsigned long nth);
int snapshot_json_stream_tail(const struct model *m, FILE *f, unsigned long n);
int snapshot_text_stream_head(const struct model *m, const struct config *cfg, FILE *f, int64_t now_ms,
                              bool ascii);
int snapshot_text_stream_block(const struct block_entry *b, FILE *f, bool ascii);
int snapshot_text_stream_tail(const struct model *m, FILE *f, unsigned long n);

/* "2026-11-23T21:59:00Z" */
void snapshot_iso_time(char *buf, size_t n, int64_t unix_s);

#endif
