//! Crash points (test builds only, cargo feature `crash-points`): places in the worker path
//! where a test can make the process "die" — stop at once, running nothing after, as a
//! killed process or a Lambda timing out would — to prove that a redelivered message
//! converges without duplicates.
//!
//! The feature is enabled only by the end-to-end test crate's dev-dependency. Without it the
//! [`crash_point!`](crate::crash_point) macro expands to nothing and this module does not
//! exist, so production builds carry no trace of it.
//!
//! A plan is scoped to one future (a tokio task-local), so tests running in parallel, and a
//! Full run beside the worker, never see each other's plans. "Dying" unwinds with a
//! [`Crashed`] payload via `resume_unwind` (no panic message), which [`with_plan`] catches:
//! nothing after the point runs — no link save, no activity-log flush, no acknowledgement.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Where the worker can be made to die.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CrashPoint {
    /// Right after a vendor write (create, update or the marks write) succeeded and before
    /// the pair's link is saved.
    AfterVendorWrite,
    /// After the event was handled (links saved, activity log written) and before the queue
    /// message is acknowledged.
    AfterLinkSave,
}

/// The unwind payload of a simulated death.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crashed(pub CrashPoint);

/// When to die: at the `nth` time (1-based) `point` is reached inside the plan's scope.
#[derive(Debug)]
pub struct CrashPlan {
    point: CrashPoint,
    nth: u32,
    hits: Mutex<u32>,
}

impl CrashPlan {
    pub fn new(point: CrashPoint, nth: u32) -> Arc<CrashPlan> {
        Arc::new(CrashPlan {
            point,
            nth: nth.max(1),
            hits: Mutex::new(0),
        })
    }

    /// How many times the point was reached so far.
    pub fn hits(&self) -> u32 {
        *self.hits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the process died (the point was reached `nth` times).
    pub fn fired(&self) -> bool {
        self.hits() >= self.nth
    }
}

tokio::task_local! {
    static PLAN: Arc<CrashPlan>;
}

/// Called at a crash point: dies when the plan in scope says so; nothing otherwise.
pub fn point(p: CrashPoint) {
    let die = PLAN
        .try_with(|plan| {
            if plan.point != p {
                return false;
            }
            let mut hits = plan.hits.lock().unwrap_or_else(|e| e.into_inner());
            *hits += 1;
            *hits == plan.nth
        })
        .unwrap_or(false);
    if die {
        std::panic::resume_unwind(Box::new(Crashed(p)));
    }
}

/// Runs `fut` under `plan`. `Err(Crashed)` when it died at a crash point (everything after
/// the point was skipped); any other panic goes on unwinding.
pub async fn with_plan<F: Future>(plan: Arc<CrashPlan>, fut: F) -> Result<F::Output, Crashed> {
    CatchCrash(Box::pin(PLAN.scope(plan, fut))).await
}

struct CatchCrash<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchCrash<F> {
    type Output = Result<F::Output, Crashed>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => match payload.downcast::<Crashed>() {
                Ok(c) => Poll::Ready(Err(*c)),
                Err(other) => std::panic::resume_unwind(other),
            },
        }
    }
}
