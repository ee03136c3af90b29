/* demo-json.h - reading a demo's --json object in tests: its results and
 * its checks.  Include after <cmocka.h> (it asserts) and util.h.
 *
 * (A candidate for tests/util.h, which other demo tests could share.)
 */
#ifndef CT_TEST_DEMO_JSON_H
#define CT_TEST_DEMO_JSON_H

#include <jansson.h>

/* results.KEY as an integer (0 if absent). */
static inline long long ct_json_result_int(json_t *j, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(j, "results"), key));
}

/* Fail, naming the check, unless every recorded check passed; returns how
 * many there were. */
static inline size_t ct_json_assert_checks_ok(json_t *j)
{
    json_t *checks = json_object_get(j, "checks"), *c;
    size_t i;
    json_array_foreach(checks, i, c) {
        if (!json_is_true(json_object_get(c, "ok")))
            fail_msg("check failed: %s", json_string_value(json_object_get(c, "what")));
    }
    return json_array_size(checks);
}

#endif
