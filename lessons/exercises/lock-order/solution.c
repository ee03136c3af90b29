/* lock-order, solved: every thread takes the two locks in one global
 * order (lower id first), so no thread can hold the second lock another
 * thread is waiting for while it waits for the first. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

struct account {
    pthread_mutex_t lock;
    int id;
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

void transfer(struct account *from, struct account *to, long amount)
{
    struct account *first = from->id < to->id ? from : to;
    struct account *second = first == from ? to : from;
    pthread_mutex_lock(&first->lock);
    pthread_mutex_lock(&second->lock);
    from->balance -= amount;
    to->balance += amount;
    pthread_mutex_unlock(&second->lock);
    pthread_mutex_unlock(&first->lock);
}
