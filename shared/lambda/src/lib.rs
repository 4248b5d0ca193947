//! Puente on AWS Lambda (RUN-1..4): the handler logic of the three functions, over
//! DynamoDB + SQS ([`puente_store_aws::AwsStore`]). The binaries in `functions/webhook`,
//! `functions/worker` and `functions/scheduler` only build a [`Ctx`] once per container and
//! hand each event to [`webhook`], [`worker`] or [`scheduler`]; tests call these directly
//! with real event JSON.
//!
//! Configuration, from the environment ([`Env::from_env`]):
//! - `TABLE_NAME`: the DynamoDB table (layout: `DynamoStore::create_table`);
//! - `QUEUE_URL`, `DLQ_URL`: the SQS FIFO queue and its dead-letter queue;
//! - `MAX_RECEIVE_COUNT` (optional, default 5): the queue's `RedrivePolicy` maxReceiveCount;
//! - `PUENTE_CONFIG_TOML`: the tenant configuration (the same TOML as `puente serve`, whose
//!   `[store]` section is ignored here). One tenant per deployment for now; the next step is
//!   per-tenant configuration in the DynamoDB table with secrets in AWS Secrets Manager,
//!   looked up by the `{tenant}` in the webhook path and the event's tenant.
//!
//! AWS clients come from `aws_config::load_defaults`, which honours `AWS_ENDPOINT_URL` (the
//! local emulator in tests) with no test-only branch here.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{header::CONTENT_TYPE, HeaderValue};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use base64::Engine as _;
use puente_connectors::RetryPolicy;
use puente_runtime::events::{handle, ChangeEvent, Handled};
use puente_runtime::{App, Config, Mode, NoProgress, Resume, RunOptions, Summary};
use puente_store_aws::{AwsStore, DynamoStore, SqsQueue};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument as _;

pub mod notify;
pub mod tenants;
pub mod ui;
pub use tenants::Tenants;

/// What the functions read from their environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    pub table_name: String,
    pub queue_url: String,
    pub dlq_url: String,
    pub max_receive_count: u32,
    /// A single tenant's configuration given inline (`PUENTE_CONFIG_TOML`), besides the
    /// tenants stored in the table (`puente tenant put`).
    pub config_toml: Option<String>,
    /// Name prefix of the tenants' secrets in Secrets Manager (`SECRETS_PREFIX`).
    pub secrets_prefix: String,
    /// The stack's SNS topic for problems (`ALERT_TOPIC_ARN`, APC-8), if any.
    pub alert_topic_arn: Option<String>,
    /// The HTTP API's URL (`PUENTE_UI_BASE_URL`): notifications link to the activity page
    /// under it when a tenant's config sets no `server.public_url`.
    pub ui_base_url: Option<String>,
}

impl Env {
    /// Reads `TABLE_NAME`, `QUEUE_URL`, `DLQ_URL`, `MAX_RECEIVE_COUNT`, `SECRETS_PREFIX`
    /// and `PUENTE_CONFIG_TOML`; an error names the missing variable.
    pub fn from_env() -> anyhow::Result<Env> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`from_env`](Self::from_env), from any lookup (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Env> {
        let opt = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let need =
            |k: &str| opt(k).ok_or_else(|| anyhow::anyhow!("environment variable {k} is not set"));
        let max_receive_count = match opt("MAX_RECEIVE_COUNT") {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("MAX_RECEIVE_COUNT={v:?} is not a number"))?,
            None => 5,
        };
        Ok(Env {
            table_name: need("TABLE_NAME")?,
            queue_url: need("QUEUE_URL")?,
            dlq_url: need("DLQ_URL")?,
            max_receive_count,
            config_toml: opt("PUENTE_CONFIG_TOML"),
            secrets_prefix: opt("SECRETS_PREFIX")
                .unwrap_or_else(|| tenants::DEFAULT_SECRETS_PREFIX.to_string()),
            alert_topic_arn: opt("ALERT_TOPIC_ARN"),
            ui_base_url: opt("PUENTE_UI_BASE_URL"),
        })
    }
}

/// One tenant's app (flows, connectors with their HTTP clients, the shared AWS store) and
/// its webhook secret.
pub struct TenantApp {
    pub app: App,
    pub webhook_secret: Option<String>,
}

/// How long a function trusts a tenant configuration it loaded before reading it again
/// (so `puente tenant put` takes effect within this time, without a redeploy).
pub const TENANT_CACHE: Duration = Duration::from_secs(60);

/// What a function keeps for the life of its container: the AWS store and clients, and the
/// tenants it has loaded (cached for [`TENANT_CACHE`]).
pub struct Ctx {
    pub store: Arc<AwsStore>,
    /// The activity page's passwords (APC-8).
    pub ui_passwords: ui::UiPasswords,
    /// Where every tenant's problems are also published (the stack's SNS topic).
    alerts: Option<Arc<notify::SnsSink>>,
    ui_base_url: Option<String>,
    /// `MaxReceiveCount`: the worker knows a failing message's last delivery.
    max_receive_count: u32,
    tenants: Tenants,
    inline: Option<Arc<TenantApp>>,
    cache: Mutex<HashMap<String, (Instant, Arc<TenantApp>)>>,
    retry: RetryPolicy,
}

impl Ctx {
    /// Builds the context from an SDK config (clients are created here, once).
    pub fn build(
        sdk: &aws_config::SdkConfig,
        env: &Env,
        retry: RetryPolicy,
    ) -> anyhow::Result<Ctx> {
        let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name);
        let sqs = SqsQueue::from_urls(
            aws_sdk_sqs::Client::new(sdk),
            &env.queue_url,
            &env.dlq_url,
            env.max_receive_count,
        );
        let store = Arc::new(AwsStore::new(dynamo, sqs));
        let mut ctx = Ctx {
            store,
            ui_passwords: ui::UiPasswords::new(sdk, &env.secrets_prefix),
            alerts: env
                .alert_topic_arn
                .as_ref()
                .map(|arn| Arc::new(notify::SnsSink::new(sdk, arn))),
            ui_base_url: env.ui_base_url.clone(),
            max_receive_count: env.max_receive_count,
            tenants: Tenants::new(sdk, &env.table_name, &env.secrets_prefix),
            inline: None,
            cache: Mutex::new(HashMap::new()),
            retry,
        };
        if let Some(toml) = &env.config_toml {
            let config =
                Config::parse(toml).map_err(|e| anyhow::anyhow!("PUENTE_CONFIG_TOML: {e}"))?;
            ctx.inline = Some(
                ctx.tenant_app(config)
                    .map_err(|e| anyhow::anyhow!("PUENTE_CONFIG_TOML: {e}"))?,
            );
        }
        Ok(ctx)
    }

    /// What the binaries call once per container: the environment and the context over
    /// an SDK config from [`aws_sdk_config`].
    pub fn from_env(sdk: &aws_config::SdkConfig) -> anyhow::Result<Ctx> {
        Ctx::build(sdk, &Env::from_env()?, RetryPolicy::default())
    }

    fn tenant_app(&self, config: Config) -> anyhow::Result<Arc<TenantApp>> {
        let webhook_secret = config
            .webhook_secret()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let store: Arc<dyn puente_store::Store> = self.store.clone();
        let app =
            App::build(config, store, self.retry.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(sns) = &self.alerts {
            app.notifier.add_sink(sns.clone());
        }
        if let Some(url) = &self.ui_base_url {
            app.notifier.set_default_public_url(url);
        }
        Ok(Arc::new(TenantApp {
            app,
            webhook_secret,
        }))
    }

    /// The tenants' store (`puente tenant put` writes it).
    pub fn tenants(&self) -> &Tenants {
        &self.tenants
    }

    /// A tenant's app: the inline one, else from the cache, else loaded from the table and
    /// Secrets Manager. `Ok(None)`: no such tenant.
    pub async fn tenant(&self, name: &str) -> anyhow::Result<Option<Arc<TenantApp>>> {
        if let Some(t) = self.inline.as_ref().filter(|t| t.app.config.tenant == name) {
            return Ok(Some(t.clone()));
        }
        if let Some((at, t)) = self.cache.lock().expect("tenant cache").get(name) {
            if at.elapsed() < TENANT_CACHE {
                return Ok(Some(t.clone()));
            }
        }
        let Some(config) = self.tenants.get(name).await? else {
            return Ok(None);
        };
        let t = self.tenant_app(config)?;
        self.cache
            .lock()
            .expect("tenant cache")
            .insert(name.to_string(), (Instant::now(), t.clone()));
        Ok(Some(t))
    }

    /// Every tenant: the inline one and those in the table.
    pub async fn tenant_names(&self) -> anyhow::Result<Vec<String>> {
        let mut names = self.tenants.list().await?;
        if let Some(t) = &self.inline {
            names.push(t.app.config.tenant.clone());
        }
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// The AWS SDK configuration from the environment (`AWS_ENDPOINT_URL` included).
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Logs how long the container's initialisation took (`init_ms`: environment, SDK config,
/// clients), so cold starts can be read in CloudWatch and `bench/lambda.sh` reports them.
pub fn log_init(started: Instant) {
    let init_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(init_ms, "function initialised");
}

/// What a scheduled Full run leaves of its invocation for the last pair and the follow-up
/// (listing both sides happens before the deadline is checked, so it must fit in the rest).
pub const SLICE_MARGIN: Duration = Duration::from_secs(120);

/// The instant a run must stop taking new pairs, from the invocation's deadline
/// (milliseconds since the epoch, `lambda_runtime::Context::deadline`).
pub fn slice_deadline(invocation_deadline_ms: u64) -> Instant {
    let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let left = Duration::from_millis(invocation_deadline_ms.saturating_sub(now_ms));
    Instant::now() + left.saturating_sub(SLICE_MARGIN)
}

fn response(status: u16, body: &Value) -> ApiGatewayV2httpResponse {
    let mut r = ApiGatewayV2httpResponse::default();
    r.status_code = status as i64;
    r.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.body = Some(Body::Text(body.to_string()));
    r
}

/// The `{tenant}/{system}/{secret}` of `POST /webhooks/{tenant}/{system}/{secret}`: from the
/// route's path parameters, or else from the raw path (a stage prefix is allowed).
fn webhook_path(req: &ApiGatewayV2httpRequest) -> Option<(String, String, String)> {
    let p = &req.path_parameters;
    if let (Some(t), Some(s), Some(k)) = (p.get("tenant"), p.get("system"), p.get("secret")) {
        return Some((t.clone(), s.clone(), k.clone()));
    }
    let path = req.raw_path.as_deref()?;
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let i = parts.iter().position(|s| *s == "webhooks")?;
    match &parts[i + 1..] {
        [t, s, k] => Some((t.to_string(), s.to_string(), k.to_string())),
        _ => None,
    }
}

/// RUN-1: an API Gateway HTTP API (payload v2) request →
/// [`accept_webhook`](puente_runtime::serve::accept_webhook), the same as `puente serve` →
/// 202, or 4xx with nothing enqueued.
pub async fn webhook(ctx: &Ctx, req: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    if req.request_context.http.method != aws_lambda_events::http::Method::POST {
        return response(405, &json!({"error": "use POST"}));
    }
    let Some((tenant, system, secret)) = webhook_path(&req) else {
        return response(
            404,
            &json!({"error": "not found: POST /webhooks/{tenant}/{system}/{secret}"}),
        );
    };
    // Vendors that sign their deliveries sign the raw body and say so in headers.
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body: Vec<u8> = match (req.body, req.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(b), false) => b.into_bytes(),
        (Some(b), true) => match base64::engine::general_purpose::STANDARD.decode(b.as_bytes()) {
            Ok(b) => b,
            Err(e) => {
                return response(
                    400,
                    &json!({"error": format!("body is not valid base64: {e}")}),
                )
            }
        },
    };
    if body.len() > puente_runtime::serve::MAX_BODY {
        let msg = format!(
            "body too large: {} bytes; at most {}",
            body.len(),
            puente_runtime::serve::MAX_BODY
        );
        return response(413, &json!({ "error": msg }));
    }
    let t = match ctx.tenant(&tenant).await {
        Ok(Some(t)) => t,
        // The same answer as a wrong secret: the path says nothing about which tenants exist.
        Ok(None) => {
            return response(
                401,
                &json!({"error": "unknown tenant or wrong webhook secret"}),
            )
        }
        Err(e) => {
            tracing::error!(%tenant, error = %e, "tenant configuration unavailable");
            return response(
                503,
                &json!({"error": "tenant configuration unavailable; retry later"}),
            );
        }
    };
    let (status, v) = puente_runtime::serve::accept_webhook_with(
        &t.app,
        t.webhook_secret.as_deref(),
        &tenant,
        &system,
        &secret,
        &headers,
        &body,
    )
    .instrument(tracing::info_span!("webhook", %tenant, %system))
    .await;
    response(status, &v)
}

/// RUN-3: an SQS batch → [`handle`] per record → the records to retry.
///
/// Reported in `batchItemFailures` (SQS makes them visible again, and moves them to the
/// DLQ after maxReceiveCount): transient failures (vendor 429/5xx/timeouts, store
/// conflicts), and bodies that are not a `ChangeEvent` (they can never succeed, so they
/// reach the DLQ). Everything else, including permanent failures logged as `failed`,
/// succeeds and is deleted by Lambda itself: the handler never acks. One record's failure
/// never fails records of other message groups; later records of the *same* FIFO group are
/// reported too, unprocessed, so a record's changes stay in order.
pub async fn worker(ctx: &Ctx, event: SqsEvent) -> SqsBatchResponse {
    let mut failed_groups: HashSet<String> = HashSet::new();
    let mut failures = Vec::new();
    for rec in event.records {
        let id = rec.message_id.clone().unwrap_or_default();
        let group = rec.attributes.get("MessageGroupId").cloned();
        if let Some(g) = &group {
            if failed_groups.contains(g) {
                tracing::warn!(message_id = %id, "an earlier message of its group failed; left for the retry");
                failures.push(item_failure(id));
                continue;
            }
        }
        let ok = match serde_json::from_str::<ChangeEvent>(rec.body.as_deref().unwrap_or("")) {
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "unreadable event; it will reach the dead-letter queue");
                false
            }
            Ok(ev) => match ctx.tenant(&ev.tenant).await {
                Ok(None) => {
                    tracing::error!(message_id = %id, tenant = %ev.tenant, "event for an unknown tenant; it will reach the dead-letter queue (replay it after `puente tenant put`)");
                    false
                }
                Err(e) => {
                    tracing::warn!(message_id = %id, tenant = %ev.tenant, error = %e, "tenant configuration unavailable; will retry");
                    false
                }
                Ok(Some(t)) => {
                    let done = match handle(&t.app, &ev)
                        .instrument(tracing::info_span!("event", tenant = %ev.tenant, system = %ev.system, kind = %ev.kind, record = %ev.id))
                        .await
                    {
                        Handled::Done => {
                            let latency = (chrono::Utc::now() - ev.observed_at).num_milliseconds();
                            tracing::info!(tenant = %ev.tenant, system = %ev.system, kind = %ev.kind, record = %ev.id, latency_ms = latency, "event synced");
                            true
                        }
                        Handled::RetryLater(why) => {
                            tracing::warn!(tenant = %ev.tenant, system = %ev.system, kind = %ev.kind, record = %ev.id, error = %why, "will retry");
                            // APC-8: SQS moves it to the DLQ after this delivery.
                            if receive_count(&rec) >= ctx.max_receive_count {
                                notify::dead_letter(&t.app, &id, &rec, &why);
                            }
                            false
                        }
                    };
                    // A frozen container sends nothing: the problems go out now.
                    t.app.notifier.flush().await;
                    done
                }
            },
        };
        if !ok {
            if let Some(g) = group {
                failed_groups.insert(g);
            }
            failures.push(item_failure(id));
        }
    }
    let mut r = SqsBatchResponse::default();
    r.batch_item_failures = failures;
    r
}

/// `ApproximateReceiveCount` of an SQS record (1 when missing).
fn receive_count(rec: &aws_lambda_events::sqs::SqsMessage) -> u32 {
    rec.attributes
        .get("ApproximateReceiveCount")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn item_failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

/// What a schedule (or a Full run's follow-up event) asks for:
/// `{"mode": "full|modified", "tenant"?: "...", "flow"?: "...", "resume"?: {...}}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ScheduleDetail {
    /// One tenant; without it, every tenant (the table's and the inline one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// One flow; without it, every flow of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    pub mode: String,
    /// A Full run cut at the invocation's deadline continues here (a follow-up event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Resume>,
}

/// The `source` and `detail-type` of the follow-up event a cut Full run sends to
/// EventBridge; the template routes it back to the scheduler function.
pub const FOLLOW_UP_SOURCE: &str = "puente.scheduler";
pub const FOLLOW_UP_DETAIL_TYPE: &str = "Puente Full continuation";

/// The detail of a scheduled event: an EventBridge/CloudWatch event envelope whose
/// `detail` is a [`ScheduleDetail`], or the bare detail (what EventBridge Scheduler and rule
/// targets with a constant `Input` deliver).
pub fn schedule_detail(event: &Value) -> Result<ScheduleDetail, String> {
    let detail = match event.get("detail") {
        Some(d) if d.get("mode").is_some() => d,
        _ => event,
    };
    serde_json::from_value(detail.clone()).map_err(|e| {
        format!("scheduled event without a valid detail {{\"mode\": \"full|modified\", \"tenant\"?: ..., \"flow\"?: ...}}: {e}")
    })
}

/// Where a cut Full run's continuation goes.
#[async_trait::async_trait]
pub trait FollowUp: Send + Sync {
    async fn send(&self, detail: &ScheduleDetail) -> anyhow::Result<()>;
}

/// [`FollowUp`] through EventBridge `PutEvents` on the default bus.
pub struct EventBridgeFollowUp(pub aws_sdk_eventbridge::Client);

impl EventBridgeFollowUp {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        EventBridgeFollowUp(aws_sdk_eventbridge::Client::new(sdk))
    }
}

#[async_trait::async_trait]
impl FollowUp for EventBridgeFollowUp {
    async fn send(&self, detail: &ScheduleDetail) -> anyhow::Result<()> {
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source(FOLLOW_UP_SOURCE)
            .detail_type(FOLLOW_UP_DETAIL_TYPE)
            .detail(serde_json::to_string(detail)?)
            .build();
        let r = self
            .0
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("EventBridge PutEvents: {e:?}"))?;
        if r.failed_entry_count > 0 {
            anyhow::bail!(
                "EventBridge PutEvents refused the follow-up: {:?}",
                r.entries
            );
        }
        Ok(())
    }
}

/// RUN-2: a scheduled event → for each tenant and flow it names (all by default): for Full,
/// [`puente_runtime::activate`] first (not on a continuation), then
/// [`puente_runtime::run_with`] (which takes the flow's lease, so two runs never overlap)
/// until `deadline` → the runs' summaries. A Full run cut at the deadline sends its
/// continuation to `follow_up` (the next invocation resumes there). Errors of the event
/// itself (no such tenant or flow, bad mode) are `Err`, which Lambda reports as a failed
/// invocation; a tenant's failed run is in its summary's `errors`.
pub async fn scheduler(
    ctx: &Ctx,
    event: Value,
    deadline: Option<Instant>,
    follow_up: &dyn FollowUp,
) -> Result<Vec<Summary>, String> {
    let d = schedule_detail(&event)?;
    let mode: Mode = d.mode.parse()?;
    let tenants = match &d.tenant {
        Some(t) => vec![t.clone()],
        None => ctx.tenant_names().await.map_err(|e| e.to_string())?,
    };
    let mut out = Vec::new();
    for name in tenants {
        let t = ctx
            .tenant(&name)
            .await
            .map_err(|e| format!("tenant '{name}': {e}"))?
            .ok_or_else(|| format!("no tenant named '{name}'"))?;
        let flows: Vec<&puente_runtime::Flow> = match &d.flow {
            Some(f) => vec![t.app.flow(f)?],
            None => t.app.flows.iter().collect(),
        };
        for flow in flows {
            if mode == Mode::Full && d.resume.is_none() {
                // ALG-12/13: a Full run (the first import, then weekly) first checks both
                // connections and creates what the flow needs (idempotent), as `serve` does.
                if let Err(e) = puente_runtime::activate(flow).await {
                    t.app.notifier.flush().await;
                    let msg = format!("flow '{}' of tenant '{name}' is not active: {e}", flow.name);
                    tracing::error!(tenant = %name, flow = %flow.name, error = %e, "flow not active");
                    if d.tenant.is_some() {
                        return Err(msg);
                    }
                    continue;
                }
            }
            let opts = RunOptions {
                deadline,
                resume: d.resume.clone(),
            };
            let s = puente_runtime::run_with(flow, mode, false, &NoProgress, opts)
                .instrument(tracing::info_span!("run", tenant = %name, flow = %flow.name, mode = mode.as_str()))
                .await;
            t.app.notifier.flush().await;
            tracing::info!(
                tenant = %flow.tenant,
                flow = %flow.name,
                mode = mode.as_str(),
                summary = %serde_json::to_string(&s).unwrap_or_default(),
                "scheduled run done"
            );
            if let Some(r) = &s.resume {
                let next = ScheduleDetail {
                    tenant: Some(name.clone()),
                    flow: Some(flow.name.clone()),
                    mode: mode.as_str().to_string(),
                    resume: Some(r.clone()),
                };
                follow_up.send(&next).await.map_err(|e| {
                    format!("flow '{}' stopped at its deadline and its continuation could not be sent: {e}", flow.name)
                })?;
                tracing::info!(tenant = %name, flow = %flow.name, kind = %r.kind, "Full run continues in a follow-up invocation");
            }
            out.push(s);
        }
    }
    Ok(out)
}

/// The event types the binaries deserialise.
pub use aws_lambda_events::{apigw, sqs};

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(v: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| v.iter().find(|(n, _)| *n == k).map(|(_, x)| x.to_string())
    }

    #[test]
    fn env_names_what_is_missing_and_defaults_max_receives() {
        let all = [
            ("TABLE_NAME", "t"),
            ("QUEUE_URL", "q"),
            ("DLQ_URL", "d"),
            ("PUENTE_CONFIG_TOML", "tenant = 'x'"),
        ];
        let env = Env::from_lookup(vars(&all)).unwrap();
        assert_eq!(env.max_receive_count, 5);
        assert_eq!(env.table_name, "t");
        assert_eq!(env.secrets_prefix, "puente/");
        // Tenants may all be in the table: the inline configuration is optional.
        let env = Env::from_lookup(vars(&all[..3])).unwrap();
        assert_eq!(env.config_toml, None);
        let err = Env::from_lookup(vars(&all[1..])).unwrap_err().to_string();
        assert!(err.contains("TABLE_NAME"), "{err}");
        let mut bad = all.to_vec();
        bad.push(("MAX_RECEIVE_COUNT", "many"));
        let err = Env::from_lookup(vars(&bad)).unwrap_err().to_string();
        assert!(err.contains("MAX_RECEIVE_COUNT"), "{err}");
    }

    #[test]
    fn schedule_detail_from_an_envelope_or_bare() {
        let env = json!({"detail-type": "Scheduled Event", "source": "aws.events",
            "detail": {"flow": "f", "mode": "full"}});
        assert_eq!(
            schedule_detail(&env).unwrap(),
            ScheduleDetail {
                flow: Some("f".into()),
                mode: "full".into(),
                ..ScheduleDetail::default()
            }
        );
        // A follow-up event round-trips.
        let next = ScheduleDetail {
            tenant: Some("acme".into()),
            flow: Some("f".into()),
            mode: "full".into(),
            resume: Some(Resume {
                kind: "contact".into(),
                after: "12345678Z".into(),
            }),
        };
        let ev = json!({"detail-type": FOLLOW_UP_DETAIL_TYPE, "source": FOLLOW_UP_SOURCE,
            "detail": serde_json::to_value(&next).unwrap()});
        assert_eq!(schedule_detail(&ev).unwrap(), next);
        let bare = json!({"mode": "modified"});
        assert_eq!(schedule_detail(&bare).unwrap().flow, None);
        // A plain scheduled event (detail {}) says what is missing.
        let plain = json!({"detail-type": "Scheduled Event", "detail": {}});
        assert!(schedule_detail(&plain).unwrap_err().contains("mode"));
    }

    #[test]
    fn webhook_path_from_route_parameters_or_the_raw_path() {
        let mut req = ApiGatewayV2httpRequest::default();
        req.raw_path = Some("/prod/webhooks/acme/clientify/abc".into());
        assert_eq!(
            webhook_path(&req),
            Some(("acme".into(), "clientify".into(), "abc".into()))
        );
        req.raw_path = Some("/webhooks/acme/clientify".into());
        assert_eq!(webhook_path(&req), None);
        req.path_parameters = [("tenant", "t"), ("system", "s"), ("secret", "k")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(
            webhook_path(&req),
            Some(("t".into(), "s".into(), "k".into()))
        );
    }
}
