//! The threads the server's opinion engine runs on. The background recompute
//! of a big conversation keeps both cores busy for a while after every burst
//! of votes (reading the new votes, the engine, serialising the snapshot); on
//! the web workers' threads' priority it took about a third of the CPU from
//! the vote requests that caused it. Here it runs on its own pool, one thread
//! per core, at a lower CPU priority (nice about 10 on Linux): when requests
//! are waiting they get the CPU first, and the recompute uses what is left.
//! It still progresses on a saturated server (a nice-10 thread gets about a
//! tenth of a core that a normal thread wants too), and on an idle one it is
//! as fast as before.

use std::sync::LazyLock;

use thread_priority::{ThreadPriority, ThreadPriorityValue};

/// On the crate's 0–99 scale; mapped to nice 9 for Linux's normal policy.
const PRIORITY: u8 = 25;

static POOL: LazyLock<Option<rayon::ThreadPool>> = LazyLock::new(|| {
    let built = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("samskab-engine-{i}"))
        .start_handler(|_| lower_priority())
        .build();
    match built {
        Ok(pool) => Some(pool),
        Err(e) => {
            // The engine then runs where it is called, as it did before.
            tracing::warn!(error = %e, "starting the opinion engine's threads failed");
            None
        }
    }
});

fn lower_priority() {
    let lowered = ThreadPriorityValue::try_from(PRIORITY)
        .map_err(|e| format!("{e:?}"))
        .and_then(|p| {
            thread_priority::set_current_thread_priority(ThreadPriority::Crossplatform(p))
                .map_err(|e| format!("{e:?}"))
        });
    if let Err(e) = lowered {
        // Only the priority is lost: the engine runs as fast, requests wait longer.
        tracing::warn!(error = %e, "lowering the opinion engine's priority failed");
    }
}

/// Run `work` (and the parallel work it starts) on the engine's threads, and
/// wait for it. Call from a blocking context (`spawn_blocking`), never on a
/// web worker.
pub fn run<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    match &*POOL {
        Some(pool) => pool.install(work),
        None => work(),
    }
}
