//! The pages and the two buttons. Each handler checks the session first; everything it reads
//! or changes is the session's tenant's.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::Value;
use puente_core::Kind;
use puente_runtime::events::ChangeEvent;
use puente_store::{Action, ActivityEntry, DeadLetter, Link, LogQuery, RecordRef, RunQuery};
use serde::{Deserialize, Serialize};

use crate::params::{normalise_key, parse_time, ActivityParams};
use crate::{auth, base, query_string, TenantView, Ui};

/// Notices a redirect may ask a page to show: a code, never text from the request.
fn notice(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "retry" => Some("Queued: the record is synced again in a moment; its timeline shows the result."),
        "replay" => Some("Replayed: the dead letter is back in the queue; its record's timeline shows the result."),
        _ => None,
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct NoticeParam {
    notice: Option<String>,
}

fn ctx(pairs: Vec<(&'static str, Value)>) -> Value {
    Value::from_iter(pairs)
}

/// A store error as the page shows it (the details go to the process log).
fn store_failed(e: impl std::fmt::Display) -> String {
    tracing::error!(error = %e, "activity page: store query failed");
    "The store did not answer; try again.".to_string()
}

pub(crate) async fn activity(
    State(ui): State<Ui>,
    Path(tenant): Path<String>,
    Query(p): Query<ActivityParams>,
    headers: HeaderMap,
) -> Response {
    let (t, s) = match ui.authed(&tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut error = None;
    let mut entries = Vec::new();
    let mut next = None;
    match p.to_query(&t.name, ui.opts.page_size) {
        Err(e) => error = Some(e),
        Ok(q) => match t.store.query(&q).await {
            Ok(v) => {
                if v.len() == q.limit {
                    let more = ActivityParams {
                        before: v.last().map(|e| e.seq.to_string()),
                        ..p.clone()
                    };
                    next = Some(format!(
                        "{}/activity?{}",
                        base(&t.name),
                        query_string(&more)
                    ));
                }
                entries = v;
            }
            Err(e) => error = Some(store_failed(e)),
        },
    }
    let mut c = ui.page(&t, &s, "activity", "Activity");
    c.extend([
        ("entries", Value::from_serialize(&entries)),
        ("q", Value::from_serialize(&p)),
        ("next", Value::from_serialize(&next)),
        ("flows", Value::from_serialize(flow_names(&t))),
        ("kinds", Value::from_serialize(t.kinds())),
        ("systems", Value::from_serialize(t.systems())),
        (
            "actions",
            Value::from_serialize(Action::ALL.map(|a| a.as_str())),
        ),
        ("error", Value::from_serialize(&error)),
    ]);
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    ui.render(status, "activity.html", ctx(c))
}

fn flow_names(t: &TenantView) -> Vec<String> {
    t.flows.iter().map(|f| f.name.clone()).collect()
}

#[derive(Deserialize, Serialize, Default)]
pub(crate) struct RunsParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<String>,
}

#[derive(Serialize)]
struct RunView {
    started_at: String,
    flow: String,
    mode: String,
    duration: String,
    counts: BTreeMap<String, puente_store::RunCounts>,
    calls: BTreeMap<String, u64>,
    errors: Vec<String>,
}

pub(crate) async fn runs(
    State(ui): State<Ui>,
    Path(tenant): Path<String>,
    Query(p): Query<RunsParams>,
    headers: HeaderMap,
) -> Response {
    let (t, s) = match ui.authed(&tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut error = None;
    let before = match p.before.as_deref().filter(|b| !b.is_empty()) {
        Some(b) => match parse_time(b) {
            Ok(t) => Some(t),
            Err(e) => {
                error = Some(e);
                None
            }
        },
        None => None,
    };
    let q = RunQuery {
        tenant: t.name.clone(),
        flow: p.flow.clone().filter(|f| !f.is_empty()),
        before,
        limit: 30,
    };
    let runs = match t.store.runs(&q).await {
        Ok(r) => r,
        Err(e) => {
            error = Some(store_failed(e));
            Vec::new()
        }
    };
    let next = (runs.len() == q.limit).then(|| {
        let more = RunsParams {
            flow: q.flow.clone(),
            before: runs.last().map(|r| r.started_at.to_rfc3339()),
        };
        format!("{}/runs?{}", base(&t.name), query_string(&more))
    });
    let views: Vec<RunView> = runs
        .into_iter()
        .map(|r| RunView {
            started_at: r.started_at.to_rfc3339(),
            flow: r.flow,
            mode: r.mode,
            duration: if r.duration_ms < 1000 {
                format!("{} ms", r.duration_ms)
            } else {
                format!("{:.1} s", r.duration_ms as f64 / 1000.0)
            },
            counts: r.counts,
            calls: r.calls,
            errors: r.errors,
        })
        .collect();
    let mut c = ui.page(&t, &s, "runs", "Runs");
    c.extend([
        ("runs", Value::from_serialize(&views)),
        ("next", Value::from_serialize(&next)),
        ("error", Value::from_serialize(&error)),
    ]);
    ui.render(StatusCode::OK, "runs.html", ctx(c))
}

/// Every entry about a record: those of its link, and those naming any of its ids on either
/// side (failures before it was linked have no link id), newest first, each once.
async fn timeline(
    t: &TenantView,
    kind: &str,
    rec: &RecordRef,
    link: Option<&Link>,
) -> Result<Vec<ActivityEntry>, puente_store::StoreError> {
    let mut refs = vec![rec.clone()];
    if let Some(l) = link {
        for (sys, id) in &l.ids {
            let r = RecordRef::new(sys, id);
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    let mut queries: Vec<LogQuery> = refs
        .into_iter()
        .map(|r| LogQuery {
            record: Some(r),
            kind: Some(kind.to_string()),
            ..LogQuery::new(&t.name, 200)
        })
        .collect();
    if let Some(l) = link {
        queries.push(LogQuery {
            link_id: Some(l.id.clone()),
            kind: Some(kind.to_string()),
            ..LogQuery::new(&t.name, 200)
        });
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for q in queries {
        for e in t.store.query(&q).await? {
            if seen.insert(e.seq) {
                out.push(e);
            }
        }
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.seq));
    out.truncate(200);
    Ok(out)
}

pub(crate) async fn record(
    State(ui): State<Ui>,
    Path((tenant, kind, system, id)): Path<(String, String, String, String)>,
    Query(n): Query<NoticeParam>,
    headers: HeaderMap,
) -> Response {
    let (t, s) = match ui.authed(&tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let kind = match kind.parse::<Kind>() {
        Ok(k) => k.as_str().to_string(),
        Err(e) => return (StatusCode::NOT_FOUND, e).into_response(),
    };
    let rec = RecordRef::new(&system, &id);
    let mut error = None;
    let link = match t.link_of(&kind, &system, &id).await {
        Ok(l) => l,
        Err(e) => {
            error = Some(store_failed(e));
            None
        }
    };
    let entries = match timeline(&t, &kind, &rec, link.as_ref()).await {
        Ok(v) => v,
        Err(e) => {
            error = Some(store_failed(e));
            Vec::new()
        }
    };
    let mut c = ui.page(&t, &s, "activity", "Timeline");
    c.extend([
        ("kind", Value::from(kind)),
        ("system", Value::from(system)),
        ("id", Value::from(id)),
        ("link", Value::from_serialize(&link)),
        ("entries", Value::from_serialize(&entries)),
        ("error", Value::from_serialize(&error)),
        ("notice", Value::from_serialize(notice(n.notice.as_deref()))),
    ]);
    ui.render(StatusCode::OK, "record.html", ctx(c))
}

#[derive(Serialize)]
struct FailureView {
    at: String,
    kind: String,
    system: String,
    id: String,
    failed_system: String,
    reason: String,
    request: Option<puente_store::FailedRequest>,
    attempts: usize,
    resolved: bool,
}

#[derive(Serialize)]
struct DeadView {
    id: String,
    group: String,
    receive_count: u32,
    failed_at: String,
    last_error: Option<String>,
    record: Option<RecordView>,
}

#[derive(Serialize)]
struct RecordView {
    kind: String,
    system: String,
    id: String,
}

/// The tenant's dead letters: the queue is shared, each message names its tenant.
async fn tenant_dead_letters(
    t: &TenantView,
) -> Result<Vec<(DeadLetter, Option<ChangeEvent>)>, puente_store::StoreError> {
    let all = t.store.dead_letters(10_000).await?;
    Ok(all
        .into_iter()
        .filter_map(|d| match serde_json::from_str::<ChangeEvent>(&d.body) {
            Ok(ev) if ev.tenant == t.name => Some((d, Some(ev))),
            Ok(_) => None,
            // Unreadable: its group starts with the tenant it was sent for.
            Err(_) => d
                .group
                .starts_with(&format!("{}/", t.name))
                .then_some((d, None)),
        })
        .collect())
}

/// Failed records shown per page: the newest failures, one row per record.
const FAILURES_SHOWN: usize = 25;
/// Failed entries read to group them by record.
const FAILURES_READ: usize = 500;

pub(crate) async fn failures(
    State(ui): State<Ui>,
    Path(tenant): Path<String>,
    Query(n): Query<NoticeParam>,
    headers: HeaderMap,
) -> Response {
    let (t, s) = match ui.authed(&tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut error = None;
    let failed = match t
        .store
        .query(&LogQuery {
            action: Some(Action::Failed),
            ..LogQuery::new(&t.name, FAILURES_READ)
        })
        .await
    {
        Ok(v) => v,
        Err(e) => {
            error = Some(store_failed(e));
            Vec::new()
        }
    };
    // One row per record, newest failure first; attempts = its failures among those read.
    let mut rows: Vec<FailureView> = Vec::new();
    let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for e in &failed {
        let Some(id) = e.external_id.clone() else {
            continue;
        };
        let k = (e.kind.clone(), e.system.clone(), id.clone());
        if let Some(&i) = index.get(&k) {
            rows[i].attempts += 1;
            continue;
        }
        if rows.len() >= FAILURES_SHOWN {
            continue;
        }
        index.insert(k, rows.len());
        rows.push(FailureView {
            at: e.at.to_rfc3339(),
            kind: e.kind.clone(),
            system: e.system.clone(),
            id,
            failed_system: e
                .target_system
                .clone()
                .or_else(|| failed_system(e.reason.as_deref()))
                .unwrap_or_else(|| e.system.clone()),
            reason: e.reason.clone().unwrap_or_default(),
            request: e.request.clone(),
            attempts: 1,
            resolved: false,
        });
    }
    // Whether each record synced since its last failure: its newest entry is not a failure.
    for r in &mut rows {
        let q = LogQuery {
            record: Some(RecordRef::new(&r.system, &r.id)),
            kind: Some(r.kind.clone()),
            ..LogQuery::new(&t.name, 1)
        };
        if let Ok(v) = t.store.query(&q).await {
            r.resolved = v.first().is_some_and(|e| e.action != Action::Failed);
        }
    }
    let dead = match tenant_dead_letters(&t).await {
        Ok(v) => v,
        Err(e) => {
            error = Some(store_failed(e));
            Vec::new()
        }
    };
    let dead: Vec<DeadView> = dead
        .into_iter()
        .map(|(d, ev)| DeadView {
            id: d.id,
            group: d.group,
            receive_count: d.receive_count,
            failed_at: d.failed_at.to_rfc3339(),
            last_error: d.last_error,
            record: ev.map(|ev| RecordView {
                kind: ev.kind.as_str().to_string(),
                system: ev.system,
                id: ev.id,
            }),
        })
        .collect();
    let mut c = ui.page(&t, &s, "failures", "Failures");
    c.extend([
        ("failures", Value::from_serialize(&rows)),
        ("dead", Value::from_serialize(&dead)),
        ("error", Value::from_serialize(&error)),
        ("notice", Value::from_serialize(notice(n.notice.as_deref()))),
    ]);
    ui.render(StatusCode::OK, "failures.html", ctx(c))
}

/// The system a failure's message names first (`alegra answered HTTP 503: …`).
fn failed_system(reason: Option<&str>) -> Option<String> {
    let first = reason?.split([' ', ':']).next()?;
    (!first.is_empty() && first.chars().all(|c| c.is_ascii_lowercase())).then(|| first.to_string())
}

#[derive(Deserialize, Default)]
pub(crate) struct LinksParams {
    q: Option<String>,
}

/// Links whose key, or whose id in some system, is `q`, in any of the tenant's entities.
async fn find_links(t: &TenantView, q: &str) -> Result<Vec<Link>, puente_store::StoreError> {
    let mut out: Vec<Link> = Vec::new();
    let mut push = |l: Option<Link>| {
        if let Some(l) = l {
            if !out
                .iter()
                .any(|o| o.flow == l.flow && o.kind == l.kind && o.id == l.id)
            {
                out.push(l);
            }
        }
    };
    for (flow, kind, systems) in t.scopes() {
        let k = kind.parse::<Kind>().ok();
        let scope = || puente_store::Scope::new(&t.name, flow, kind);
        for key in [q.trim().to_string(), normalise_key(q, k)] {
            push(t.store.link_by_key(scope(), &key).await?);
        }
        if let Ok(r) = q.parse::<RecordRef>() {
            push(t.store.link_by_external(scope(), &r.system, &r.id).await?);
        } else {
            for sys in systems {
                push(t.store.link_by_external(scope(), sys, q.trim()).await?);
            }
        }
    }
    Ok(out)
}

pub(crate) async fn links(
    State(ui): State<Ui>,
    Path(tenant): Path<String>,
    Query(p): Query<LinksParams>,
    headers: HeaderMap,
) -> Response {
    let (t, s) = match ui.authed(&tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let q = p.q.filter(|q| !q.trim().is_empty());
    let mut error = None;
    let found = match &q {
        Some(q) => match find_links(&t, q).await {
            Ok(v) => v,
            Err(e) => {
                error = Some(store_failed(e));
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let mut c = ui.page(&t, &s, "links", "Links");
    c.extend([
        ("q", Value::from_serialize(&q)),
        ("links", Value::from_serialize(&found)),
        ("error", Value::from_serialize(&error)),
    ]);
    ui.render(StatusCode::OK, "links.html", ctx(c))
}

#[derive(Deserialize)]
pub(crate) struct RetryForm {
    #[serde(default)]
    csrf: String,
    kind: String,
    system: String,
    id: String,
    #[serde(default)]
    back: Option<String>,
}

/// Retry one record: a change event for it, sent to the queue as a webhook's is, so the
/// worker re-reads the record and syncs it through the usual path.
pub(crate) async fn retry(
    State(ui): State<Ui>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(f): Form<RetryForm>,
) -> Response {
    let (t, s) = match ui.authed(&tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !auth::csrf_ok(&s, &f.csrf) {
        return (StatusCode::FORBIDDEN, "invalid form token; reload the page").into_response();
    }
    let Ok(kind) = f.kind.parse::<Kind>() else {
        return (StatusCode::BAD_REQUEST, "unknown entity").into_response();
    };
    if !t.systems().contains(&f.system) || f.id.trim().is_empty() {
        return (StatusCode::BAD_REQUEST, "unknown system or empty id").into_response();
    }
    let event_id = format!("retry-{}", puente_store::util::token("ui"));
    let ev = ChangeEvent {
        tenant: t.name.clone(),
        system: f.system.clone(),
        kind,
        id: f.id.clone(),
        event_id: event_id.clone(),
        observed_at: chrono::Utc::now(),
    };
    let body = match serde_json::to_string(&ev) {
        Ok(b) => b,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if let Err(e) = t
        .store
        .send(&ev.group(), &format!("{}/{event_id}", t.name), &body)
        .await
    {
        tracing::error!(tenant = %t.name, error = %e, "retry not queued");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the queue did not answer; try again",
        )
            .into_response();
    }
    tracing::info!(tenant = %t.name, system = %f.system, kind = %kind, record = %f.id, "activity page: retry queued");
    let to = if f.back.as_deref() == Some("record") {
        format!(
            "{}?notice=retry",
            puente_runtime::notify::timeline_path(&t.name, kind.as_str(), &f.system, &f.id)
        )
    } else {
        format!("{}/failures?notice=retry", base(&t.name))
    };
    Redirect::to(&to).into_response()
}

#[derive(Deserialize)]
pub(crate) struct ReplayForm {
    #[serde(default)]
    csrf: String,
    id: String,
}

/// Replay one dead letter, as `puente dlq replay` does; only one of the session's tenant.
pub(crate) async fn replay(
    State(ui): State<Ui>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ReplayForm>,
) -> Response {
    let (t, s) = match ui.authed(&tenant, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !auth::csrf_ok(&s, &f.csrf) {
        return (StatusCode::FORBIDDEN, "invalid form token; reload the page").into_response();
    }
    let mine = match tenant_dead_letters(&t).await {
        Ok(v) => v.iter().any(|(d, _)| d.id == f.id),
        Err(e) => {
            tracing::error!(error = %e, "dead letters unavailable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the queue did not answer; try again",
            )
                .into_response();
        }
    };
    if !mine {
        // Another tenant's dead letter looks exactly like one that does not exist.
        return (StatusCode::NOT_FOUND, "no such dead letter").into_response();
    }
    if let Err(e) = t.store.replay_dead_letter(&f.id).await {
        tracing::error!(tenant = %t.name, error = %e, "replay failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the queue did not answer; try again",
        )
            .into_response();
    }
    tracing::info!(tenant = %t.name, dead_letter = %f.id, "activity page: dead letter replayed");
    Redirect::to(&format!("{}/failures?notice=replay", base(&t.name))).into_response()
}
