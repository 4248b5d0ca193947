//! The `/_sandbox/*` control routes every sandbox answers, whatever the vendor: they let a
//! test or a benchmark in another process read the counters, move the clock and set faults.
//! Not vendor facts: no auth, not counted in the stats, never faulted.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::{Common, Faults};

#[derive(Deserialize)]
struct AdvanceQuery {
    seconds: i64,
}

/// Sandbox-only control routes (not vendor facts; no auth, not counted):
/// `GET /_sandbox/stats` → [`super::Stats`] JSON, `POST /_sandbox/stats/reset` →
/// 204, `POST /_sandbox/clock/advance?seconds=N` → 200 `{"now": …}`,
/// `GET`/`POST /_sandbox/faults` → the [`Faults`] in force / set them (JSON).
pub(crate) fn control_router(common: Arc<Common>) -> Router {
    Router::new()
        .route(
            "/_sandbox/stats",
            get(|State(c): State<Arc<Common>>| async move { Json(c.stats()) }),
        )
        .route(
            "/_sandbox/stats/reset",
            post(|State(c): State<Arc<Common>>| async move {
                c.reset_stats();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sandbox/faults",
            get(|State(c): State<Arc<Common>>| async move { Json(c.faults()) }).post(
                |State(c): State<Arc<Common>>, Json(f): Json<Faults>| async move {
                    c.set_faults(f.clone());
                    Json(f)
                },
            ),
        )
        .route(
            "/_sandbox/clock/advance",
            post(
                |State(c): State<Arc<Common>>, Query(q): Query<AdvanceQuery>| async move {
                    c.advance(q.seconds);
                    Json(serde_json::json!({ "now": c.now().to_rfc3339() }))
                },
            ),
        )
        .with_state(common)
}
