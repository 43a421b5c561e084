/* redis_cluster: slot hashing against the published CRC16 test vector and
 * the Cluster specification's examples, hash tags, the slot map from a
 * CLUSTER SLOTS reply (parsed by hiredis's reader from the bytes a server
 * sends), MOVED and ASK, and which argument of a command is its key. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "redis_cluster.h"

static int slot_of(const char *key)
{
	return rcluster_key_slot(key, strlen(key));
}

static void test_crc16_vectors(void **state)
{
	(void)state;
	/* the check value of CRC-16/XMODEM, as the Cluster specification gives it */
	assert_int_equal(rcluster_crc16("123456789", 9), 0x31C3);
	assert_int_equal(rcluster_crc16("", 0), 0);
	assert_int_equal(rcluster_crc16("A", 1), 0x58E5);
	/* binary-safe: a NUL byte counts */
	assert_int_not_equal(rcluster_crc16("a\0b", 3), rcluster_crc16("ab", 2));
}

static void test_key_slot(void **state)
{
	(void)state;
	/* CLUSTER KEYSLOT of a real server */
	assert_int_equal(slot_of("foo"), 12182);
	assert_int_equal(slot_of("bar"), 5061);
	assert_int_equal(slot_of("hello"), 866);
	assert_int_equal(slot_of("123456789"), 0x31C3 % 16384);
	for (int i = 0; i < 1000; i++) {
		char k[32];
		snprintf(k, sizeof k, "blocked:10.0.%d.%d", i / 256, i % 256);
		int s = slot_of(k);
		assert_true(s >= 0 && s < RCLUSTER_SLOTS);
	}
}

/* The specification's examples of hash tags. */
static void test_hash_tags(void **state)
{
	(void)state;
	assert_int_equal(slot_of("{user1000}.following"), slot_of("user1000"));
	assert_int_equal(slot_of("{user1000}.followers"), slot_of("user1000"));
	assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
	assert_int_equal(slot_of("foo{{bar}}zap"), slot_of("{bar"));
	/* an empty tag: the whole key */
	assert_int_equal(slot_of("foo{}{bar}"), rcluster_crc16("foo{}{bar}", 10) % 16384);
	/* no closing brace: the whole key */
	assert_int_equal(slot_of("foo{bar"), rcluster_crc16("foo{bar", 7) % 16384);
	assert_int_equal(slot_of("blocked:{x}1"), slot_of("blocked:{x}2"));
}

static redisReply *parse_resp(const char *bytes)
{
	redisReader *r = redisReaderCreate();
	void *rep = NULL;
	assert_int_equal(redisReaderFeed(r, bytes, strlen(bytes)), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &rep), REDIS_OK);
	assert_non_null(rep);
	redisReaderFree(r);
	return rep;
}

static void test_map_from_slots(void **state)
{
	(void)state;
	/* three masters; the second announced with an empty host (the one asked);
	 * the first with a replica */
	redisReply *rep = parse_resp(
		"*3\r\n"
		"*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:30001\r\n$4\r\nid-a\r\n"
		"*3\r\n$9\r\n127.0.0.1\r\n:30004\r\n$4\r\nid-d\r\n"
		"*3\r\n:5461\r\n:10922\r\n*3\r\n$0\r\n\r\n:30002\r\n$4\r\nid-b\r\n"
		"*3\r\n:10923\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:30003\r\n$4\r\nid-c\r\n");
	struct rcluster_map *m = malloc(sizeof *m);
	assert_int_equal(rcluster_map_from_slots(m, rep, "10.9.9.9"), 0);
	assert_int_equal(m->n_nodes, 3);
	assert_int_equal(m->nodes[m->node_of[0]].port, 30001);
	assert_int_equal(m->nodes[m->node_of[5460]].port, 30001);
	assert_int_equal(m->nodes[m->node_of[5461]].port, 30002);
	assert_string_equal(m->nodes[m->node_of[5461]].host, "10.9.9.9");
	assert_int_equal(m->nodes[m->node_of[16383]].port, 30003);
	/* a replica is not a master */
	assert_int_equal(rcluster_map_node(m, "127.0.0.1", 30004), 3);
	freeReplyObject(rep);

	/* slots nobody serves stay unassigned */
	rep = parse_resp("*1\r\n*3\r\n:0\r\n:99\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n");
	assert_int_equal(rcluster_map_from_slots(m, rep, "h"), 0);
	assert_int_equal(m->node_of[99], 0);
	assert_int_equal(m->node_of[100], RCLUSTER_NO_NODE);
	freeReplyObject(rep);

	/* not a map */
	rep = parse_resp("-ERR This instance has cluster support disabled\r\n");
	assert_int_equal(rcluster_map_from_slots(m, rep, "h"), -1);
	freeReplyObject(rep);
	rep = parse_resp("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n");
	assert_int_equal(rcluster_map_from_slots(m, rep, "h"), -1);
	freeReplyObject(rep);
	rep = parse_resp("*0\r\n");
	assert_int_equal(rcluster_map_from_slots(m, rep, "h"), -1);
	freeReplyObject(rep);
	free(m);
}

static bool redirect(const char *s, struct rcluster_redirect *rd)
{
	return rcluster_redirect_parse(s, strlen(s), "10.1.1.1", rd);
}

static void test_redirections(void **state)
{
	struct rcluster_redirect rd;

	(void)state;
	assert_true(redirect("MOVED 3999 127.0.0.1:6381", &rd));
	assert_false(rd.ask);
	assert_int_equal(rd.slot, 3999);
	assert_string_equal(rd.host, "127.0.0.1");
	assert_int_equal(rd.port, 6381);
	assert_true(redirect("ASK 12182 127.0.0.2:7002", &rd));
	assert_true(rd.ask);
	assert_int_equal(rd.slot, 12182);
	assert_string_equal(rd.host, "127.0.0.2");
	/* IPv6: the last colon ends the host */
	assert_true(redirect("MOVED 1 ::1:7000", &rd));
	assert_string_equal(rd.host, "::1");
	assert_int_equal(rd.port, 7000);
	/* no host: the node that answered */
	assert_true(redirect("MOVED 5 :7001", &rd));
	assert_string_equal(rd.host, "10.1.1.1");
	/* anything else is not a redirection */
	assert_false(redirect("ERR unknown command", &rd));
	assert_false(redirect("READONLY You can't write against a read only replica.", &rd));
	assert_false(redirect("MOVED 16384 h:1", &rd));
	assert_false(redirect("MOVED -1 h:1", &rd));
	assert_false(redirect("MOVED 1 h", &rd));
	assert_false(redirect("MOVED 1 h:0", &rd));
	assert_false(redirect("MOVED 1 h:70000", &rd));
	assert_false(redirect("MOVED x h:1", &rd));
	assert_false(redirect("CLUSTERDOWN The cluster is down", &rd));
}

static void check_key(const char *want, size_t want_len, const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	va_start(ap, fmt);
	int len = redisvFormatCommand(&cmd, fmt, ap);
	va_end(ap);
	assert_true(len > 0);
	const char *key;
	size_t klen;
	bool has = rcluster_command_key(cmd, (size_t)len, &key, &klen);
	if (!want) {
		assert_false(has);
	} else {
		assert_true(has);
		assert_int_equal(klen, want_len);
		assert_memory_equal(key, want, want_len);
	}
	redisFreeCommand(cmd);
}

static void test_command_key(void **state)
{
	(void)state;
	check_key("blocked:1.2.3.4", 15, "GET %s%s", "blocked:", "1.2.3.4");
	check_key("blocked:1.2.3.4", 15, "SET %s %s EX %d", "blocked:1.2.3.4", "{\"by\":\"a\"}", 60);
	check_key("a\0b", 3, "TTL %b", "a\0b", (size_t)3);
	check_key("k", 1, "del k");
	check_key(NULL, 0, "PING");
	check_key(NULL, 0, "SCAN %s MATCH %s COUNT %d", "0", "blocked:*", 100);
	check_key(NULL, 0, "CONFIG GET notify-keyspace-events");
	check_key(NULL, 0, "auth %s", "secret");
	check_key(NULL, 0, "CLUSTER SLOTS");
	/* malformed input is no key */
	const char *key;
	size_t klen;
	assert_false(rcluster_command_key("*2\r\n$3\r\nGET\r\n$9\r\nshort\r\n", 24, &key, &klen));
	assert_false(rcluster_command_key("PING\r\n", 6, &key, &klen));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc16_vectors),
		cmocka_unit_test(test_key_slot),
		cmocka_unit_test(test_hash_tags),
		cmocka_unit_test(test_map_from_slots),
		cmocka_unit_test(test_redirections),
		cmocka_unit_test(test_command_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
