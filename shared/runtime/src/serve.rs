//! `puente serve`: webhook endpoint, scheduler and workers in one process on the local store.
//!
//! Webhooks (ALG-11): `POST /webhooks/{tenant}/{system}/{secret}` — the secret is compared in
//! constant time, the body parsed and deduplicated, the event stored durably in the queue and
//! answered 202 before any vendor call. Bad input is a 4xx with a clear message and nothing
//! enqueued.

use crate::events::{work_once, ChangeEvent};
use crate::notify::Notifier as _;
use crate::{activate, run, App, Mode, NoProgress};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use puente_connectors::WebhookRequest;
use puente_core::value_hash;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// Concurrent queue workers in `serve`.
pub const WORKERS: usize = 4;
/// Largest webhook body accepted (413 above).
pub const MAX_BODY: usize = 256 * 1024;
/// How long a delivered event id is remembered for deduplication.
pub const DEDUP_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Clone)]
pub struct ServerState {
    pub app: Arc<App>,
    pub secret: Option<String>,
    /// Flow name → activation error (inactive flows).
    pub inactive: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

/// The HTTP routes.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/webhooks/{tenant}/{system}/{secret}", post(webhook))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Every rejection is a JSON `{"error": ...}`, including those made before a handler runs.
fn json_error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

async fn not_found() -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        "no such endpoint; webhooks are POST /webhooks/{tenant}/{system}/{secret}",
    )
}

async fn method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed; webhooks are delivered with POST",
    )
}

async fn health(State(st): State<ServerState>) -> Response {
    let depth = st.app.store.queue_depth().await.ok();
    let inactive = st.inactive.lock().expect("inactive lock").clone();
    let flows: Vec<_> = st
        .app
        .flows
        .iter()
        .map(|f| {
            let err = inactive
                .iter()
                .find(|(n, _)| n == &f.name)
                .map(|(_, e)| e.clone());
            json!({"name": f.name, "active": err.is_none(), "error": err})
        })
        .collect();
    Json(json!({"flows": flows, "queue": depth.map(|(q, d)| json!({"pending": q, "dead": d}))}))
        .into_response()
}

async fn webhook(
    State(st): State<ServerState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Path((tenant, system, secret)) = match path {
        Ok(p) => p,
        Err(e) => return json_error(e.status(), e.body_text()),
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return json_error(e.status(), e.body_text()),
    };
    let (status, v) = accept_webhook_with(
        &st.app,
        st.secret.as_deref(),
        &tenant,
        &system,
        &secret,
        &header_pairs(&headers),
        &body,
    )
    .await;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(v)).into_response()
}

/// Header names (lower-case) and values, as [`WebhookRequest`] takes them; values that
/// are not text are left out (no vendor signs with those).
pub fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

fn rejected(status: u16, msg: impl Into<String>) -> (u16, serde_json::Value) {
    (status, json!({"error": msg.into()}))
}

/// [`accept_webhook_with`] for a delivery whose headers do not matter (tests; vendors
/// that do not sign).
pub async fn accept_webhook(
    app: &App,
    expected_secret: Option<&str>,
    tenant: &str,
    system: &str,
    given_secret: &str,
    body: &[u8],
) -> (u16, serde_json::Value) {
    accept_webhook_with(
        app,
        expected_secret,
        tenant,
        system,
        given_secret,
        &[],
        body,
    )
    .await
}

/// Accepts one webhook delivery (ALG-11): the HTTP status and JSON body to answer with.
/// Shared by the local server's route and the AWS Lambda (`puente-lambda`), so both behave
/// the same: `expected_secret` is the configured webhook secret (`None`: webhooks are off,
/// 404); `given_secret` the one in the URL, compared in constant time; a body over
/// [`MAX_BODY`] is 413 (checked first, as axum's body limit does). `system` is a
/// connection's name: its connector's [`Webhooks`](puente_connectors::Webhooks) checks the
/// vendor's signature (401 when it fails), recognises the vendor's handshake (2XX, nothing
/// queued) and parses the body (400 when it does not parse). An accepted event is
/// deduplicated and sent to the store's queue before the 202, with no vendor call. Nothing
/// is enqueued for a rejection.
pub async fn accept_webhook_with(
    app: &App,
    expected_secret: Option<&str>,
    tenant: &str,
    system: &str,
    given_secret: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, serde_json::Value) {
    // First, as the local server's body limit rejects before anything else is looked at.
    if body.len() > MAX_BODY {
        return rejected(
            413,
            format!("body too large: {} bytes; at most {MAX_BODY}", body.len()),
        );
    }
    let Some(expected) = expected_secret else {
        return rejected(
            404,
            "webhooks are not enabled: set server.webhook_secret in the config",
        );
    };
    // Constant-time on the secret; the tenant is public (it is in the URL) but must match too.
    let secret_ok: bool = given_secret.as_bytes().ct_eq(expected.as_bytes()).into();
    if !secret_ok || tenant != app.config.tenant {
        return rejected(401, "unknown tenant or wrong webhook secret");
    }
    // The system in the URL is a connection's name: the connector that will read the
    // record, and whose webhooks capability knows the vendor's signature, handshake,
    // payload shapes and event names.
    let Some(conn) = app
        .flows
        .iter()
        .find_map(|f| f.side_of(system).map(|side| f.conn(side).clone()))
    else {
        return rejected(404, format!("no webhook receiver for system '{system}'"));
    };
    let Some(hooks) = conn.webhooks() else {
        return rejected(
            404,
            format!(
                "no webhook receiver for system '{system}': {} sends no webhooks",
                conn.vendor()
            ),
        );
    };
    let req = WebhookRequest { headers, body };
    if let Err(why) = hooks.verify(&req) {
        tracing::warn!(%tenant, %system, "webhook refused: {why}");
        return rejected(401, why);
    }
    if hooks.is_handshake(&req) {
        tracing::info!(%tenant, %system, "webhook handshake answered (subscription being created); nothing queued");
        return (200, json!({"status": "handshake"}));
    }
    let parsed = hooks.parse(&req).map(|d| (d.event, d.targets, d.version));
    let (event, targets, version) = match parsed {
        Ok(p) => p,
        Err(e) => return rejected(400, e.0),
    };
    if targets.is_empty() {
        let why = if event.contains("delete") {
            "deletions are not propagated"
        } else {
            "not synced by any flow"
        };
        tracing::info!(%tenant, %system, %event, "webhook event ignored: {why}");
        return (202, json!({"status": "ignored", "event": event}));
    }
    // Every id goes into vendor URLs later: it must be one of the vendor's ids now, or
    // nothing is queued (a vendor parser already refused what it knows is wrong; this is
    // the same rule for every vendor, from the connector that will read the record).
    let mut checked = Vec::with_capacity(targets.len());
    for (kind, id) in targets {
        match conn.id_syntax(kind).parse(&id) {
            Ok(id) => checked.push((kind, id)),
            Err(e) => return rejected(400, format!("`{event}`: {e}")),
        }
    }
    let store = &app.store;
    let mut ids = Vec::new();
    let mut queued = false;
    for (kind, id) in checked {
        let event_id = value_hash(&format!("{system}|{}|{id}|{version}", kind.as_str()));
        ids.push(event_id.clone());
        let ev = ChangeEvent {
            tenant: tenant.to_string(),
            system: system.to_string(),
            kind,
            id: id.clone(),
            event_id: event_id.clone(),
            observed_at: chrono::Utc::now(),
        };
        match store.first_seen(tenant, &event_id, DEDUP_TTL).await {
            Ok(false) => continue,
            Ok(true) => {}
            Err(e) => return rejected(503, format!("store unavailable: {e}")),
        }
        let body = serde_json::to_string(&ev).expect("event serialises");
        if let Err(e) = store
            .send(&ev.group(), &format!("{tenant}/{event_id}"), &body)
            .await
        {
            return rejected(503, format!("queue unavailable: {e}"));
        }
        queued = true;
        tracing::info!(%tenant, %system, kind = %kind, record = %id, %event_id, "webhook event queued");
    }
    let status = if queued { "queued" } else { "duplicate" };
    (
        202,
        json!({"status": status, "event_id": ids[0], "event_ids": ids}),
    )
}

/// Options of `serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub listen: String,
    /// Run a Full sync of each active flow at start (the first activation's import).
    pub initial_full: bool,
    /// Overrides each flow's Modified interval (demo mode uses a short one).
    pub modified_every: Option<Duration>,
    /// More routes served beside the webhooks: the activity page (`puente-web`), which
    /// depends on this crate and so is handed in by the binary.
    pub ui: Option<Router>,
}

/// How often `serve` looks for new dead letters to notify (APC-8).
pub const DEAD_LETTER_POLL: Duration = Duration::from_secs(5);

/// Notifies each dead letter once, as it appears (APC-8). Those already there when the
/// process starts were notified by the process that made them.
async fn watch_dead_letters(app: Arc<App>) {
    let mut seen: std::collections::HashSet<String> = match app.store.dead_letters(10_000).await {
        Ok(d) => d.into_iter().map(|d| d.id).collect(),
        Err(_) => Default::default(),
    };
    loop {
        tokio::time::sleep(DEAD_LETTER_POLL).await;
        let Ok(dead) = app.store.dead_letters(10_000).await else {
            continue;
        };
        let now: std::collections::HashSet<String> = dead.iter().map(|d| d.id.clone()).collect();
        for d in &dead {
            if !seen.contains(&d.id) {
                app.notifier.notify(crate::notify::dead_letter_problem(d));
            }
        }
        seen = now;
    }
}

/// Activates flows, then serves HTTP, runs the workers and the schedule until `shutdown`.
pub async fn serve(
    app: Arc<App>,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let secret = app
        .config
        .webhook_secret()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let inactive = Arc::new(std::sync::Mutex::new(Vec::new()));
    for f in &app.flows {
        match activate(f).await {
            Ok(_) => tracing::info!(tenant = %f.tenant, flow = %f.name, "flow active"),
            Err(e) => {
                tracing::error!(tenant = %f.tenant, flow = %f.name, error = %e, "flow NOT active: its connections do not work");
                inactive
                    .lock()
                    .expect("inactive lock")
                    .push((f.name.clone(), e.to_string()));
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(&opts.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    app.notifier
        .set_default_public_url(&format!("http://{addr}"));
    if opts.ui.is_some() {
        tracing::info!("activity page: http://{addr}/ui/{}/", app.config.tenant);
    }
    if secret.is_some() {
        let mut seen = std::collections::BTreeSet::new();
        for conn in app.flows.iter().flat_map(|f| [&f.a, &f.b]) {
            let Some(hooks) = conn.webhooks() else {
                continue;
            };
            if !seen.insert(conn.system().to_string()) {
                continue;
            }
            let how = match hooks.setup() {
                puente_connectors::WebhookSetup::Manual => {
                    "paste it into the vendor's webhook settings"
                }
                puente_connectors::WebhookSetup::Api => {
                    "subscribed on activation when server.public_url is set"
                }
            };
            tracing::info!(connection = %conn.system(), "webhook URL: http://{addr}/webhooks/{}/{}/<secret> ({how})", app.config.tenant, conn.system());
        }
    }
    let state = ServerState {
        app: app.clone(),
        secret,
        inactive: inactive.clone(),
    };

    // Workers: take events off the durable queue. FIFO groups keep one record's changes in
    // order while different records proceed in parallel.
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let wapp = app.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let done =
                    work_once(&wapp, wapp.store.as_ref(), 10, Duration::from_secs(120)).await;
                if done.taken == 0 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
    }
    // Scheduler: Full at start (optional), then Modified every interval, Full every full interval.
    let mut schedulers = Vec::new();
    for i in 0..app.flows.len() {
        let sapp = app.clone();
        let inactive = inactive.clone();
        let opts = opts.clone();
        schedulers.push(tokio::spawn(async move {
            let flow = &sapp.flows[i];
            if inactive.lock().expect("inactive lock").iter().any(|(n, _)| n == &flow.name) {
                return;
            }
            let cfg = sapp.config.flows.iter().find(|c| c.name == flow.name).expect("flow config");
            let modified_every = opts.modified_every.unwrap_or(Duration::from_secs(cfg.modified_every_minutes * 60));
            let full_every = Duration::from_secs(cfg.full_every_hours * 3600);
            if opts.initial_full {
                let s = run(flow, Mode::Full, false, &NoProgress).await;
                tracing::info!(flow = %flow.name, summary = %serde_json::to_string(&s.entities).unwrap_or_default(), "initial full sync done");
            }
            let mut last_full = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(modified_every).await;
                let mode = if last_full.elapsed() >= full_every { last_full = tokio::time::Instant::now(); Mode::Full } else { Mode::Modified };
                let s = run(flow, mode, false, &NoProgress).await;
                tracing::info!(flow = %flow.name, mode = mode.as_str(), summary = %serde_json::to_string(&s.entities).unwrap_or_default(), errors = ?s.errors, "scheduled sync done");
                // Retention (APC-8): drop expired activity-log entries.
                let _ = sapp.store.purge_expired(chrono::Utc::now()).await;
            }
        }));
    }
    let dead_letters = tokio::spawn(watch_dead_letters(app.clone()));
    let mut routes = router(state);
    if let Some(ui) = opts.ui {
        routes = ui.merge(routes);
    }
    let res = axum::serve(listener, routes)
        .with_graceful_shutdown(shutdown)
        .await;
    dead_letters.abort();
    for w in workers {
        w.abort();
    }
    for s in schedulers {
        s.abort();
    }
    res
}
