// A persistent thread pool whose dispatch costs well under a microsecond: workers spin briefly
// between tasks (yielding now and then), then sleep on a futex when idle.
#ifndef TERN_POOL_H
#define TERN_POOL_H

typedef struct tern_pool tern_pool;

/// A task part: called once on each thread with its index (0 is the caller).
typedef void (*tern_task_fn)(void *context, int thread, int threads);

tern_pool *tern_pool_create(int threads);
void tern_pool_destroy(tern_pool *pool);
int tern_pool_threads(const tern_pool *pool);
/// Runs fn on every thread of the pool and returns when all parts are done. Callers on several
/// threads take turns.
void tern_pool_run(tern_pool *pool, tern_task_fn fn, void *context);

#endif
