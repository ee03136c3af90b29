/* lock-order: move money between accounts, each with its own lock. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

struct account {
    pthread_mutex_t lock;
    int id;                 /* unique per account */
    long balance;
};

void account_init(struct account *a, int id, long balance)
{
    pthread_mutex_init(&a->lock, NULL);
    a->id = id;
    a->balance = balance;
}

void account_destroy(struct account *a)
{
    pthread_mutex_destroy(&a->lock);
}

/* Move `amount` from `from` to `to` (two different accounts). */
void transfer(struct account *from, struct account *to, long amount)
{
    pthread_mutex_lock(&from->lock);
    pthread_mutex_lock(&to->lock);
    from->balance -= amount;
    to->balance += amount;
    pthread_mutex_unlock(&to->lock);
    pthread_mutex_unlock(&from->lock);
}
