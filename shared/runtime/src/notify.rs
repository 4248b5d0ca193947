//! Failures notified at once (APC-8): a failed record, a run that stopped, a dead letter,
//! credentials that stopped working.
//!
//! The runtime calls a [`Notifier`] where it already knows of the problem (a pair fails, a
//! run stops, `check` is refused, a message dead-letters); the [`Dispatcher`] behind it turns
//! problems into messages for its [`Sink`]s: an outgoing webhook with a JSON body Slack and
//! Teams both accept (`{"text": ...}`), and on AWS the stack's SNS topic.
//!
//! No storm: problems are gathered for a short window (a couple of seconds, so "at once"
//! still holds); a window with a few problems sends one message each, a window with more
//! sends one digest that counts them by kind and system and lists the first ones. The same
//! problem (same kind, record and message) is not repeated within `repeat_after`, so a
//! record retried by the queue five times is one message, not five.
//!
//! `notify` never blocks and never fails the sync: it only queues. A process that keeps
//! running (`puente serve`) sends from a background task; a Lambda handler calls
//! [`Dispatcher::flush`] before it returns, because a frozen container runs no task.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;

/// What went wrong, in the four kinds APC-8 names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A record failed to sync (logged `failed`).
    RecordFailed,
    /// A run stopped before the end (a vendor unreachable while listing, the store down).
    RunStopped,
    /// A queued change failed every delivery and went to the dead letters.
    DeadLetter,
    /// A vendor refused the credentials.
    Credentials,
}

impl ProblemKind {
    pub fn label(self) -> &'static str {
        match self {
            ProblemKind::RecordFailed => "record failed",
            ProblemKind::RunStopped => "run stopped",
            ProblemKind::DeadLetter => "dead letter",
            ProblemKind::Credentials => "credentials refused",
        }
    }
}

/// A record as the activity page addresses it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ProblemRecord {
    pub kind: String,
    pub system: String,
    pub id: String,
}

/// One problem: which tenant, flow, system and record, and the exact message (the vendor's,
/// as the activity log keeps it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub tenant: String,
    pub flow: Option<String>,
    /// The system that failed (or whose credentials were refused).
    pub system: String,
    pub record: Option<ProblemRecord>,
    pub detail: String,
}

impl Problem {
    /// What makes two problems the same one (for `repeat_after`): a record failing on one
    /// system is one problem whatever the vendor answers each time (a 500, then a 503); a
    /// problem about no record is told apart by its message.
    fn identity(&self) -> String {
        let what = match &self.record {
            Some(r) => format!("{}/{}/{}", r.kind, r.system, r.id),
            None => self.detail.clone(),
        };
        format!(
            "{:?}|{}|{}|{}|{what}",
            self.kind,
            self.tenant,
            self.flow.as_deref().unwrap_or(""),
            self.system,
        )
    }
}

impl fmt::Display for Problem {
    /// `[acme] record failed: contact clientify:12 (flow clientify-alegra) on alegra: …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.tenant, self.kind.label())?;
        if let Some(r) = &self.record {
            write!(f, ": {} {}:{}", r.kind, r.system, r.id)?;
        }
        if let Some(flow) = &self.flow {
            write!(f, " (flow {flow})")?;
        }
        write!(f, " on {}: {}", self.system, self.detail)
    }
}

/// Where the runtime reports problems. Must not block: implementations queue.
pub trait Notifier: Send + Sync {
    fn notify(&self, problem: Problem);
}

/// Drops every problem (tests, one-off commands that print their own errors).
pub struct NoNotifier;

impl Notifier for NoNotifier {
    fn notify(&self, _problem: Problem) {}
}

/// One message for a sink: the text people read and how many problems it covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub text: String,
    pub problems: usize,
    /// The tenant it is about.
    pub tenant: String,
}

/// Where messages go.
#[async_trait]
pub trait Sink: Send + Sync {
    /// A short name for logs (`webhook`, `sns`).
    fn name(&self) -> &str;
    async fn send(&self, msg: &Message) -> Result<(), String>;
}

/// An outgoing webhook: `POST {"text": ...}`, which Slack incoming webhooks and Teams
/// workflows both accept.
pub struct WebhookSink {
    url: String,
    http: reqwest::Client,
}

impl WebhookSink {
    pub fn new(url: impl Into<String>) -> Self {
        WebhookSink {
            url: url.into(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }
}

#[async_trait]
impl Sink for WebhookSink {
    fn name(&self) -> &str {
        "webhook"
    }

    async fn send(&self, msg: &Message) -> Result<(), String> {
        let r = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({ "text": msg.text }))
            .send()
            .await
            // The URL is a secret (it lets anyone post to the channel): never in the error.
            .map_err(|e| format!("notification webhook unreachable: {}", e.without_url()))?;
        if !r.status().is_success() {
            return Err(format!("notification webhook answered HTTP {}", r.status()));
        }
        Ok(())
    }
}

/// How a [`Dispatcher`] groups problems.
#[derive(Clone, Debug)]
pub struct DispatchPolicy {
    /// How long problems are gathered before a message goes out.
    pub window: Duration,
    /// More problems than this in one window make one digest instead of one message each.
    pub digest_over: usize,
    /// The same problem is not sent again within this time.
    pub repeat_after: Duration,
    /// `{public_url}`: messages link to the record's timeline under it. Without it they say
    /// where to look (`puente log --record …`).
    pub public_url: Option<String>,
}

impl Default for DispatchPolicy {
    fn default() -> Self {
        DispatchPolicy {
            window: Duration::from_secs(2),
            digest_over: 5,
            repeat_after: Duration::from_secs(3600),
            public_url: None,
        }
    }
}

/// What is percent-encoded in a path segment: all but the unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment, percent-encoded (ids come from vendors: `/` or `..` must stay inside
/// their segment).
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// The path of a record's timeline on the activity page; segments percent-encoded.
pub fn timeline_path(tenant: &str, kind: &str, system: &str, id: &str) -> String {
    let enc = segment;
    format!(
        "/ui/{}/record/{}/{}/{}",
        enc(tenant),
        enc(kind),
        enc(system),
        enc(id)
    )
}

/// The path of a tenant's failures page.
pub fn failures_path(tenant: &str) -> String {
    format!("/ui/{}/failures", segment(tenant))
}

/// Gathers problems and sends them as messages (module docs).
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    policy: Mutex<DispatchPolicy>,
    sinks: Mutex<Vec<Arc<dyn Sink>>>,
    pending: Mutex<Vec<Problem>>,
    recent: Mutex<HashMap<String, Instant>>,
    /// A flush is scheduled (a background task is waiting for the window to end).
    scheduled: AtomicBool,
    sent: AtomicU64,
}

impl Dispatcher {
    pub fn new(policy: DispatchPolicy) -> Self {
        Dispatcher {
            inner: Arc::new(Inner {
                policy: Mutex::new(policy),
                sinks: Mutex::new(Vec::new()),
                pending: Mutex::new(Vec::new()),
                recent: Mutex::new(HashMap::new()),
                scheduled: AtomicBool::new(false),
                sent: AtomicU64::new(0),
            }),
        }
    }

    /// Adds a sink (the webhook from the config; SNS on AWS).
    pub fn add_sink(&self, sink: Arc<dyn Sink>) {
        self.inner.sinks.lock().expect("sinks").push(sink);
    }

    /// Where timeline links point when the configuration gave no `server.public_url` (the
    /// local server's own address; the HTTP API's URL on AWS).
    pub fn set_default_public_url(&self, url: &str) {
        let mut p = self.inner.policy.lock().expect("policy");
        if p.public_url.is_none() {
            p.public_url = Some(url.to_string());
        }
    }

    fn policy(&self) -> DispatchPolicy {
        self.inner.policy.lock().expect("policy").clone()
    }

    pub fn has_sinks(&self) -> bool {
        !self.inner.sinks.lock().expect("sinks").is_empty()
    }

    /// Messages sent so far (every sink counted once per message).
    pub fn messages_sent(&self) -> u64 {
        self.inner.sent.load(Ordering::Relaxed)
    }

    /// Sends what is pending now, without waiting for the window (a Lambda handler before it
    /// returns; tests).
    pub async fn flush(&self) {
        let problems = std::mem::take(&mut *self.inner.pending.lock().expect("pending"));
        if problems.is_empty() {
            return;
        }
        let messages = compose(&problems, &self.policy());
        let sinks = self.inner.sinks.lock().expect("sinks").clone();
        for msg in &messages {
            if sinks.is_empty() {
                // Counted only: the text can quote a value (a vendor's message about an
                // identification), and values belong in the activity log, never the process log.
                tracing::warn!(problems = msg.problems, tenant = %msg.tenant,
                    "problem not notified: no [notify] webhook_url or SNS topic is configured; see the activity page's failures");
            }
            for sink in &sinks {
                match sink.send(msg).await {
                    Ok(()) => {
                        self.inner.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tracing::error!(sink = sink.name(), error = %e, "notification not delivered")
                    }
                }
            }
        }
    }
}

impl Notifier for Dispatcher {
    fn notify(&self, problem: Problem) {
        let now = Instant::now();
        let policy = self.policy();
        {
            let mut recent = self.inner.recent.lock().expect("recent");
            let id = problem.identity();
            if recent
                .get(&id)
                .is_some_and(|at| now.duration_since(*at) < policy.repeat_after)
            {
                return;
            }
            if recent.len() > 10_000 {
                let keep = policy.repeat_after;
                recent.retain(|_, at| now.duration_since(*at) < keep);
            }
            recent.insert(id, now);
        }
        self.inner.pending.lock().expect("pending").push(problem);
        if self.inner.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let me = self.clone();
                rt.spawn(async move {
                    tokio::time::sleep(policy.window).await;
                    me.inner.scheduled.store(false, Ordering::Release);
                    me.flush().await;
                });
            }
            // No runtime to send from: whoever owns the dispatcher flushes.
            Err(_) => self.inner.scheduled.store(false, Ordering::Release),
        }
    }
}

/// The problem a dead letter is: the record its change event was about, and the last error.
/// A body that is not a change event (it could never be synced) still names its group.
pub fn dead_letter_problem(d: &puente_store::DeadLetter) -> Problem {
    let detail = format!(
        "failed {} deliveries{}; replay it from the failures page or with `puente dlq replay {}`",
        d.receive_count,
        d.last_error
            .as_deref()
            .map(|e| format!(", last error: {e}"))
            .unwrap_or_default(),
        d.id
    );
    match serde_json::from_str::<crate::events::ChangeEvent>(&d.body) {
        Ok(ev) => Problem {
            kind: ProblemKind::DeadLetter,
            tenant: ev.tenant,
            flow: None,
            system: ev.system.clone(),
            record: Some(ProblemRecord {
                kind: ev.kind.as_str().to_string(),
                system: ev.system,
                id: ev.id,
            }),
            detail,
        },
        Err(_) => Problem {
            kind: ProblemKind::DeadLetter,
            tenant: d.group.split('/').next().unwrap_or_default().to_string(),
            flow: None,
            system: "queue".into(),
            record: None,
            detail: format!("unreadable event in group {}: {detail}", d.group),
        },
    }
}

/// The dispatcher a configuration asks for: its `[notify]` policy, the webhook sink when
/// `notify.webhook_url` is set, links under `server.public_url`.
pub fn dispatcher_for(config: &crate::Config) -> Result<Dispatcher, crate::ConfigError> {
    let n = &config.notify;
    let d = DispatchPolicy::default();
    let policy = DispatchPolicy {
        window: n
            .window_seconds
            .map(Duration::from_secs)
            .unwrap_or(d.window),
        digest_over: n.digest_over.unwrap_or(d.digest_over),
        repeat_after: n
            .repeat_after_minutes
            .map(|m| Duration::from_secs(m * 60))
            .unwrap_or(d.repeat_after),
        public_url: config.server.public_url.clone(),
    };
    let dispatcher = Dispatcher::new(policy);
    if let Some(url) = n.webhook_url()? {
        dispatcher.add_sink(Arc::new(WebhookSink::new(url)));
    }
    Ok(dispatcher)
}

/// The messages for one window's problems: one each, or one digest.
pub fn compose(problems: &[Problem], policy: &DispatchPolicy) -> Vec<Message> {
    let base = policy
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_string());
    let one = |p: &Problem| {
        let mut text = p.to_string();
        match (&p.record, &base) {
            (Some(r), Some(b)) => {
                text.push_str(&format!(
                    "\nTimeline: {b}{}",
                    timeline_path(&p.tenant, &r.kind, &r.system, &r.id)
                ));
            }
            (Some(r), None) => text.push_str(&format!(
                "\nTimeline: puente log --record {}:{}",
                r.system, r.id
            )),
            (None, Some(b)) => {
                text.push_str(&format!("\nFailures: {b}{}", failures_path(&p.tenant)))
            }
            (None, None) => {}
        }
        Message {
            text,
            problems: 1,
            tenant: p.tenant.clone(),
        }
    };
    if problems.len() <= policy.digest_over {
        return problems.iter().map(one).collect();
    }
    // One digest per tenant: a person gets one message, however many records failed.
    let mut by_tenant: BTreeMap<&str, Vec<&Problem>> = BTreeMap::new();
    for p in problems {
        by_tenant.entry(&p.tenant).or_default().push(p);
    }
    by_tenant
        .into_iter()
        .map(|(tenant, ps)| {
            let mut counts: BTreeMap<(ProblemKind, &str), usize> = BTreeMap::new();
            for p in &ps {
                *counts.entry((p.kind, p.system.as_str())).or_default() += 1;
            }
            let summary = counts
                .iter()
                .map(|((k, sys), n)| format!("{n} {} on {sys}", k.label()))
                .collect::<Vec<_>>()
                .join(", ");
            let mut text = format!("[{tenant}] {} problems at once: {summary}.", ps.len());
            const SHOWN: usize = 5;
            for p in ps.iter().take(SHOWN) {
                text.push_str(&format!("\n- {p}"));
            }
            if ps.len() > SHOWN {
                text.push_str(&format!("\n- … and {} more", ps.len() - SHOWN));
            }
            if let Some(b) = &base {
                text.push_str(&format!("\nFailures: {b}{}", failures_path(tenant)));
            }
            Message {
                text,
                problems: ps.len(),
                tenant: tenant.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(id: usize) -> Problem {
        Problem {
            kind: ProblemKind::RecordFailed,
            tenant: "acme".into(),
            flow: Some("clientify-alegra".into()),
            system: "alegra".into(),
            record: Some(ProblemRecord {
                kind: "contact".into(),
                system: "clientify".into(),
                id: id.to_string(),
            }),
            detail: "alegra answered HTTP 400: la identificación ya existe".into(),
        }
    }

    fn policy() -> DispatchPolicy {
        DispatchPolicy {
            public_url: Some("https://puente.acme.es/".into()),
            ..DispatchPolicy::default()
        }
    }

    #[test]
    fn apc8_one_message_names_record_system_problem_and_timeline() {
        let msgs = compose(&[failed(12)], &policy());
        assert_eq!(msgs.len(), 1);
        assert_eq!(
            msgs[0].text,
            "[acme] record failed: contact clientify:12 (flow clientify-alegra) on alegra: \
             alegra answered HTTP 400: la identificación ya existe\n\
             Timeline: https://puente.acme.es/ui/acme/record/contact/clientify/12"
        );
    }

    #[test]
    fn apc8_many_problems_in_one_window_make_one_digest() {
        let ps: Vec<Problem> = (0..500).map(failed).collect();
        let msgs = compose(&ps, &policy());
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].problems, 500);
        assert!(msgs[0]
            .text
            .starts_with("[acme] 500 problems at once: 500 record failed on alegra."));
        assert!(msgs[0].text.contains("… and 495 more"));
        assert!(msgs[0]
            .text
            .ends_with("Failures: https://puente.acme.es/ui/acme/failures"));
    }

    #[test]
    fn apc8_timeline_paths_encode_their_segments() {
        assert_eq!(
            timeline_path("acme", "contact", "alegra", "7/../x y"),
            "/ui/acme/record/contact/alegra/7%2F..%2Fx%20y"
        );
    }

    #[tokio::test]
    async fn apc8_the_same_problem_is_sent_once() {
        let d = Dispatcher::new(DispatchPolicy {
            window: Duration::from_secs(3600),
            ..policy()
        });
        for _ in 0..5 {
            d.notify(failed(12));
        }
        d.notify(failed(13));
        let pending = d.inner.pending.lock().unwrap().len();
        assert_eq!(pending, 2, "retries of one failure are one problem");
    }
}
