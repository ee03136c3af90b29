/* registry.c - the one table of demos, in chapter order.
 *
 * The list itself is in demos/meson.build, which writes demo-list.h with
 * one CT_DEMO(id) per demo; this file only turns it into a table.  list,
 * help, completion, the man page and the tests that run every demo all
 * read the table.
 */
#include "registry.h"

#include <string.h>

#define CT_DEMO(id) extern const struct ct_demo ct_demo_##id;
#include "demo-list.h"
#undef CT_DEMO

const struct ct_demo *const ct_demos[] = {
#define CT_DEMO(id) &ct_demo_##id,
#include "demo-list.h"
#undef CT_DEMO
};

const size_t ct_demo_count = sizeof ct_demos / sizeof ct_demos[0];

const struct ct_demo *ct_demo_find(const char *name)
{
    for (size_t i = 0; i < ct_demo_count; i++) {
        if (strcmp(ct_demos[i]->name, name) == 0)
            return ct_demos[i];
    }
    return NULL;
}
