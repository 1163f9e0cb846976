// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side unit tests of vstubctl's parsers and JSON writer; no kernel
 * needed.  Run under valgrind by "make -C user check".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vstubctl.h"

static int failures, checks;

#define CHECK(cond) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
	}								\
} while (0)

static void test_bdf(void)
{
	static const struct { const char *in, *out; } good[] = {
		{ "0000:00:02.0", "0000:00:02.0" },
		{ "00:02.0", "0000:00:02.0" },
		{ "0:2.7", "0000:00:02.7" },
		{ "ABCD:ff:1f.7", "abcd:ff:1f.7" },
		{ "1:0:0.0", "0001:00:00.0" },
	};
	static const char * const bad[] = {
		"", "0000:00:02", "00:02", "0000:00:20.0", "0000:00:02.8",
		"0000:100:02.0", "10000:00:02.0", "0000:00:02.0.1", "0:0:0:0.0",
		"zz:00.0", "0000:00:02.0 ", " 00:02.0", "00:02.", ":02.0",
		"00:.0", "0000:00:02.0000000000", "00.02:0",
	};
	char out[VSTUB_BDF_MAX_LEN];
	unsigned int i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(parse_bdf(good[i].in, out, sizeof(out)) == 0);
		CHECK(!strcmp(out, good[i].out));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_bdf(bad[i], out, sizeof(out)) != -EINVAL) {
			fprintf(stderr, "accepted bad BDF '%s'\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK(parse_bdf(NULL, out, sizeof(out)) == -EINVAL);
	CHECK(parse_bdf("0000:00:02.0", out, 5) == -EINVAL);
}

static void test_id(void)
{
	static const char * const good[] = {
		"8086:10d3", "1234:11E8", "8086:10d3:ffffffff:ffffffff",
		"8086:10d3:1:2:020000", "8086:10d3:1:2:020000:ffff00",
	};
	static const char * const bad[] = {
		"", "8086", "8086:", ":10d3", "80866:10d3", "8086:10d3:",
		"8086:10d3:1:2:3:4:5", "8086:10g3", "8086:10d3:123456789",
		"8086:10d3:1:2:1234567", "8086 :10d3",
	};
	unsigned int i, v = 0, d = 0;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(parse_id(good[i], NULL, NULL) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_id(bad[i], NULL, NULL) != -EINVAL) {
			fprintf(stderr, "accepted bad ID '%s'\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK(parse_id("8086:10d3", &v, &d) == 0 && v == 0x8086 && d == 0x10d3);
}

static void test_uint(void)
{
	unsigned long v;

	CHECK(parse_uint("0", 10, &v) == 0 && v == 0);
	CHECK(parse_uint("10", 10, &v) == 0 && v == 10);
	CHECK(parse_uint("11", 10, &v) == -EINVAL);
	CHECK(parse_uint("-1", 10, &v) == -EINVAL);
	CHECK(parse_uint("1x", 10, &v) == -EINVAL);
	CHECK(parse_uint("", 10, &v) == -EINVAL);
	CHECK(parse_uint("99999999999999999999999", ~0UL, &v) == -EINVAL);
}

static void test_size(void)
{
	uint64_t v;

	CHECK(parse_size("4096", &v) == 0 && v == 4096);
	CHECK(parse_size("64K", &v) == 0 && v == 65536);
	CHECK(parse_size("2M", &v) == 0 && v == 2 << 20);
	CHECK(parse_size("1GiB", &v) == 0 && v == 1ULL << 30);
	CHECK(parse_size("1gb", &v) == 0 && v == 1ULL << 30);
	CHECK(parse_size("3T", &v) == 0 && v == 3ULL << 40);
	CHECK(parse_size("0", &v) == -EINVAL);
	CHECK(parse_size("", &v) == -EINVAL);
	CHECK(parse_size("-1", &v) == -EINVAL);
	CHECK(parse_size("12Q", &v) == -EINVAL);
	CHECK(parse_size("1Mx", &v) == -EINVAL);
	CHECK(parse_size("99999999999999999999", &v) == -EINVAL);
	CHECK(parse_size("16777216T", &v) == -EINVAL);
}

static void test_conf_lines(void)
{
	struct conf_entry e;
	const char *why = NULL;

	CHECK(conf_parse_line("", &e, &why) == 0);
	CHECK(conf_parse_line("   # comment\n", &e, &why) == 0);
	CHECK(conf_parse_line("id 8086:10D3\n", &e, &why) == 1);
	CHECK(e.kind == CONF_ID && !strcmp(e.value, "8086:10d3"));
	CHECK(conf_parse_line("  bdf 00:02.0  # edu\n", &e, &why) == 1);
	CHECK(e.kind == CONF_BDF && !strcmp(e.value, "0000:00:02.0"));
	CHECK(conf_parse_line("bdf 00:02.0 extra", &e, &why) == -EINVAL && why);
	CHECK(conf_parse_line("id", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("dev 00:02.0", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("id 8086", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("bdf 0000:00:02", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("id 8086:10d3:1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19:20:21:22", &e, &why) == -EINVAL);
	/* the owner field (bdf lines only) */
	CHECK(conf_parse_line("bdf 00:02.0", &e, &why) == 1 && !e.owner[0]);
	CHECK(conf_parse_line("bdf 00:02.0 owner=alice:vfio", &e, &why) == 1);
	CHECK(!strcmp(e.owner, "alice:vfio"));
	CHECK(conf_parse_line("bdf 00:02.0 owner=1000 # dpdk", &e, &why) == 1);
	CHECK(!strcmp(e.owner, "1000"));
	CHECK(conf_parse_line("bdf 00:02.0 owner=:kvm", &e, &why) == 1);
	CHECK(conf_parse_line("bdf 00:02.0 owner=", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("bdf 00:02.0 owner=a:", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("bdf 00:02.0 owner=a:b:c", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("bdf 00:02.0 owner=a/b", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("bdf 00:02.0 user=a", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("bdf 00:02.0 owner=a extra", &e, &why) == -EINVAL);
	CHECK(conf_parse_line("id 8086:10d3 owner=alice", &e, &why) == -EINVAL);
}

static void test_conf_file(void)
{
	char path[] = "/tmp/vstub-unit-XXXXXX", why[256];
	struct conf c;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# test\nid 8086:10d3\n\nbdf 00:02.0 owner=alice\nid 8086:10D3\n", f);
	fclose(f);
	CHECK(conf_load(path, &c, why, sizeof(why)) == 0);
	CHECK(c.n == 2);	/* duplicates collapse */
	CHECK(conf_has(&c, CONF_BDF, "0000:00:02.0"));
	CHECK(conf_add(&c, CONF_BDF, "0000:00:02.0") == -EEXIST);
	CHECK(conf_add(&c, CONF_ID, "1234:11e8") == 0);
	CHECK(conf_del(&c, CONF_ID, "8086:10d3") == 0);
	CHECK(conf_del(&c, CONF_ID, "8086:10d3") == -ENOENT);
	CHECK(conf_save(path, &c) == 0);
	conf_free(&c);
	CHECK(conf_load(path, &c, why, sizeof(why)) == 0);
	CHECK(c.n == 2 && c.e[0].kind == CONF_BDF && c.e[1].kind == CONF_ID);
	CHECK(!strcmp(c.e[1].value, "1234:11e8"));
	CHECK(!strcmp(c.e[0].owner, "alice") && !c.e[1].owner[0]);
	CHECK(conf_find(&c, CONF_BDF, "0000:00:02.0") == &c.e[0]);
	CHECK(conf_find(&c, CONF_BDF, "0000:00:03.0") == NULL);
	conf_free(&c);

	f = fopen(path, "w");
	fputs("id 8086:10d3\nbogus line\n", f);
	fclose(f);
	CHECK(conf_load(path, &c, why, sizeof(why)) == -EINVAL);
	CHECK(strstr(why, ":2: ") != NULL);
	CHECK(c.n == 0 && c.e == NULL);
	unlink(path);
	/* a missing file is an empty configuration */
	CHECK(conf_load(path, &c, why, sizeof(why)) == 0 && c.n == 0);
	conf_free(&c);
}

/* Run @fn writing JSON into a memory stream and compare with @want. */
static void json_expect(void (*fn)(struct json *js), const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json *js = json_new(f);

	fn(js);
	json_free(js);
	fclose(f);
	if (strcmp(buf, want)) {
		fprintf(stderr, "JSON: got  %s\n      want %s\n", buf, want);
		CHECK(0);
	} else {
		CHECK(1);
	}
	free(buf);
}

static void j_escape(struct json *js)
{
	json_str(js, NULL, "a\"b\\c\n\t\r\b\f\x01\x1f\x7f/é");
	json_done(js);
}

static void j_nested(struct json *js)
{
	json_obj_begin(js, NULL);
	json_str(js, "s", "x");
	json_int(js, "i", -42);
	json_bool(js, "t", true);
	json_null(js, "n");
	json_arr_begin(js, "a");
	json_int(js, NULL, 1);
	json_obj_begin(js, NULL);
	json_obj_end(js);
	json_arr_begin(js, NULL);
	json_arr_end(js);
	json_arr_end(js);
	json_obj_begin(js, "k\"ey");
	json_bool(js, "f", false);
	json_obj_end(js);
	json_obj_end(js);
	json_done(js);
	/* a second document starts clean */
	json_arr_begin(js, NULL);
	json_str(js, NULL, "");
	json_arr_end(js);
	json_done(js);
}

static void test_json(void)
{
	json_expect(j_escape,
		    "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f/é\"\n");
	json_expect(j_nested,
		    "{\"s\":\"x\",\"i\":-42,\"t\":true,\"n\":null,\"a\":[1,{},[]],\"k\\\"ey\":{\"f\":false}}\n"
		    "[\"\"]\n");
}

static void test_scopy(void)
{
	char b[4];

	scopy(b, "abcdef", sizeof(b));
	CHECK(!strcmp(b, "abc"));
	scopy(b, "", sizeof(b));
	CHECK(!strcmp(b, ""));
}

int main(void)
{
	test_bdf();
	test_id();
	test_uint();
	test_size();
	test_conf_lines();
	test_conf_file();
	test_json();
	test_scopy();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
