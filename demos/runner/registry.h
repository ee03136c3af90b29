/* registry.h - the one table of demos. */
#ifndef CT_REGISTRY_H
#define CT_REGISTRY_H

#include <stddef.h>

#include "demo.h"

/* Every demo, in chapter order. */
extern const struct ct_demo *const ct_demos[];
extern const size_t ct_demo_count;

/* The demo called `name`, or NULL. */
const struct ct_demo *ct_demo_find(const char *name);

#endif
