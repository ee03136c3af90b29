/* locks.c - see locks.h; the adapters and the table are in lock-table.h. */
#include "locks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lock-table.h"

#define ALIGN 128

const struct ct_lock_kind *const ct_lock_kinds = ct_lock_table;
const size_t ct_lock_kind_count = CT_LOCK_TABLE_SIZE;

const struct ct_lock_kind *ct_lock_kind_find(const char *name)
{
    for (size_t i = 0; i < ct_lock_kind_count; i++) {
        if (strcmp(ct_lock_kinds[i].name, name) == 0)
            return &ct_lock_kinds[i];
    }
    return NULL;
}

int ct_lock_new(const struct ct_lock_kind *k, void **out)
{
    size_t size = (k->size + ALIGN - 1) / ALIGN * ALIGN;
    void *l = aligned_alloc(ALIGN, size);
    if (!l)
        return -ENOMEM;
    memset(l, 0, size);
    int rc = k->init(l);
    if (rc != 0) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ct_lock_free(const struct ct_lock_kind *k, void *l)
{
    if (!l)
        return;
    k->destroy(l);
    free(l);
}
