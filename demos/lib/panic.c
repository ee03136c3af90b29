/* panic.c - see panic.h. */
#include "panic.h"

#include <pthread.h>
#include <stddef.h>

const char ct_panic_token = 'p';

static _Thread_local const char *panic_what;
static _Thread_local bool panicking;

void ct_panic(const char *what)
{
    panicking = true;
    panic_what = what;
    pthread_exit(CT_PANICKED);
}

bool ct_panicking(void)
{
    return panicking;
}

const char *ct_panic_message(void)
{
    return panicking ? panic_what : NULL;
}
