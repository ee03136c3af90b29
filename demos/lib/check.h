/* check.h - checking pthread calls that can only fail through a bug.
 *
 * pthread_mutex_lock() on a valid default mutex, pthread_cond_signal() and
 * friends return an error only when the program is already broken (a
 * destroyed or uninitialised object, a deadlock detected by an error-checking
 * mutex).  CT_PT() checks them anyway and aborts with the call, the error and
 * the place, so such a bug is loud instead of silent.  Calls that can fail in
 * a correct program (pthread_create with EAGAIN, timed waits) are handled at
 * the call site instead.
 */
#ifndef CT_CHECK_H
#define CT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_PT(call)                                                         \
    do {                                                                    \
        int ct_pt_rc_ = (call);                                             \
        if (ct_pt_rc_ != 0) {                                               \
            fprintf(stderr, "concur-tutor: %s:%d: %s failed: %s\n",         \
                    __FILE__, __LINE__, #call, strerror(ct_pt_rc_));        \
            abort();                                                        \
        }                                                                   \
    } while (0)

#endif
