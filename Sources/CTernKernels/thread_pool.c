// The thread pool behind every parallel kernel. The caller runs part 0 itself; workers spin for
// about two milliseconds after a task (yielding every 1024 spins, so two threads sharing one
// core still progress), then sleep on a condition variable until the next task.
#include "CTernKernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_NANOSECONDS 2000000L

struct tern_pool {
    int threads;
    pthread_t *workers;
    _Atomic unsigned generation;
    _Atomic int pending;
    _Atomic int sleepers;
    _Atomic int stopping;
    tern_task_fn fn;
    void *context;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_mutex_t callers;    // one run at a time when several threads share the pool
};

typedef struct {
    tern_pool *pool;
    int index;
} worker_start;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *worker_main(void *arg) {
    worker_start start = *(worker_start *)arg;
    free(arg);
    tern_pool *pool = start.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned generation;
        long spin_start = now_ns();
        unsigned spins = 0;
        while ((generation = atomic_load(&pool->generation)) == seen) {
            if (atomic_load(&pool->stopping)) return 0;
            CPU_RELAX();
            if (++spins % 1024 == 0) {
                sched_yield();
                if (now_ns() - spin_start > SPIN_NANOSECONDS) {
                    pthread_mutex_lock(&pool->mutex);
                    atomic_fetch_add(&pool->sleepers, 1);
                    while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stopping)) {
                        pthread_cond_wait(&pool->wake, &pool->mutex);
                    }
                    atomic_fetch_sub(&pool->sleepers, 1);
                    pthread_mutex_unlock(&pool->mutex);
                    spin_start = now_ns();
                }
            }
        }
        seen = generation;
        pool->fn(pool->context, start.index, pool->threads);
        atomic_fetch_sub(&pool->pending, 1);
    }
}

tern_pool *tern_pool_create(int threads) {
    tern_pool *pool = calloc(1, sizeof(tern_pool));
    pool->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&pool->mutex, 0);
    pthread_mutex_init(&pool->callers, 0);
    pthread_cond_init(&pool->wake, 0);
    pool->workers = calloc((size_t)pool->threads, sizeof(pthread_t));
    for (int i = 1; i < pool->threads; i++) {
        worker_start *start = malloc(sizeof(worker_start));
        start->pool = pool;
        start->index = i;
        pthread_create(&pool->workers[i], 0, worker_main, start);
    }
    return pool;
}

void tern_pool_destroy(tern_pool *pool) {
    atomic_store(&pool->stopping, 1);
    pthread_mutex_lock(&pool->mutex);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->threads; i++) pthread_join(pool->workers[i], 0);
    pthread_mutex_destroy(&pool->mutex);
    pthread_mutex_destroy(&pool->callers);
    pthread_cond_destroy(&pool->wake);
    free(pool->workers);
    free(pool);
}

int tern_pool_threads(const tern_pool *pool) { return pool->threads; }

void tern_pool_run(tern_pool *pool, tern_task_fn fn, void *context) {
    if (pool->threads == 1) {
        fn(context, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->callers);
    pool->fn = fn;
    pool->context = context;
    atomic_store(&pool->pending, pool->threads - 1);
    atomic_fetch_add(&pool->generation, 1);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
    }
    fn(context, 0, pool->threads);
    unsigned spins = 0;
    while (atomic_load(&pool->pending) > 0) {
        CPU_RELAX();
        if (++spins % 1024 == 0) sched_yield();
    }
    pthread_mutex_unlock(&pool->callers);
}
