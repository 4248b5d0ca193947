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
use puente_runtime::{App, Config, Mode, NoProgress, Summary};
use puente_store_aws::{AwsStore, DynamoStore, SqsQueue};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;

/// What the functions read from their environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    pub table_name: String,
    pub queue_url: String,
    pub dlq_url: String,
    pub max_receive_count: u32,
    pub config_toml: String,
}

impl Env {
    /// Reads `TABLE_NAME`, `QUEUE_URL`, `DLQ_URL`, `MAX_RECEIVE_COUNT` and
    /// `PUENTE_CONFIG_TOML`; an error names the missing variable.
    pub fn from_env() -> anyhow::Result<Env> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`from_env`](Self::from_env), from any lookup (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Env> {
        let need = |k: &str| {
            get(k)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| anyhow::anyhow!("environment variable {k} is not set"))
        };
        let max_receive_count = match get("MAX_RECEIVE_COUNT") {
            Some(v) if !v.trim().is_empty() => v
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("MAX_RECEIVE_COUNT={v:?} is not a number"))?,
            _ => 5,
        };
        Ok(Env {
            table_name: need("TABLE_NAME")?,
            queue_url: need("QUEUE_URL")?,
            dlq_url: need("DLQ_URL")?,
            max_receive_count,
            config_toml: need("PUENTE_CONFIG_TOML")?,
        })
    }
}

/// What a function keeps for the life of its container: the app (flows, connectors and
/// the AWS store, with their HTTP clients) and the webhook secret.
pub struct Ctx {
    pub app: Arc<App>,
    pub webhook_secret: Option<String>,
}

impl Ctx {
    /// Builds the context from an SDK config (clients are created here, once).
    pub fn build(
        sdk: &aws_config::SdkConfig,
        env: &Env,
        retry: RetryPolicy,
    ) -> anyhow::Result<Ctx> {
        let config = Config::parse(&env.config_toml)
            .map_err(|e| anyhow::anyhow!("PUENTE_CONFIG_TOML: {e}"))?;
        let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &env.table_name);
        let sqs = SqsQueue::from_urls(
            aws_sdk_sqs::Client::new(sdk),
            &env.queue_url,
            &env.dlq_url,
            env.max_receive_count,
        );
        let store = Arc::new(AwsStore::new(dynamo, sqs));
        let webhook_secret = config
            .webhook_secret()
            .map_err(|e| anyhow::anyhow!("PUENTE_CONFIG_TOML: {e}"))?;
        let app = App::build(config, store, retry)
            .map_err(|e| anyhow::anyhow!("PUENTE_CONFIG_TOML: {e}"))?;
        Ok(Ctx {
            app: Arc::new(app),
            webhook_secret,
        })
    }

    /// What the binaries call once per container: environment, SDK config, context.
    pub async fn from_env() -> anyhow::Result<Ctx> {
        let env = Env::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ctx::build(&sdk, &env, RetryPolicy::default())
    }
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
    let (status, v) = puente_runtime::serve::accept_webhook(
        &ctx.app,
        ctx.webhook_secret.as_deref(),
        &tenant,
        &system,
        &secret,
        &body,
    )
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
            Ok(ev) => match handle(&ctx.app, &ev).await {
                Handled::Done => {
                    let latency = (chrono::Utc::now() - ev.observed_at).num_milliseconds();
                    tracing::info!(tenant = %ev.tenant, system = %ev.system, kind = %ev.kind, record = %ev.id, latency_ms = latency, "event synced");
                    true
                }
                Handled::RetryLater(why) => {
                    tracing::warn!(tenant = %ev.tenant, system = %ev.system, kind = %ev.kind, record = %ev.id, error = %why, "will retry");
                    false
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

fn item_failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

/// What a schedule asks for: `{"flow": "...", "mode": "full|modified"}`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct ScheduleDetail {
    /// Optional when the configuration has exactly one flow.
    #[serde(default)]
    pub flow: Option<String>,
    pub mode: String,
}

/// The detail of a scheduled event: an EventBridge/CloudWatch event envelope whose
/// `detail` is a [`ScheduleDetail`], or the bare detail (what EventBridge Scheduler and rule
/// targets with a constant `Input` deliver).
pub fn schedule_detail(event: &Value) -> Result<ScheduleDetail, String> {
    let detail = match event.get("detail") {
        Some(d) if d.get("mode").is_some() => d,
        _ => event,
    };
    serde_json::from_value(detail.clone()).map_err(|e| {
        format!("scheduled event without a valid detail {{\"flow\": ..., \"mode\": \"full|modified\"}}: {e}")
    })
}

/// RUN-2: a scheduled event → (for Full, [`puente_runtime::activate`] first) →
/// [`puente_runtime::run`] of the flow (which takes the flow's
/// lease, so two runs never overlap) → the run's summary. Errors of the event itself (no such
/// flow, bad mode) are `Err`, which Lambda reports as a failed invocation.
pub async fn scheduler(ctx: &Ctx, event: Value) -> Result<Summary, String> {
    let d = schedule_detail(&event)?;
    let mode: Mode = d.mode.parse()?;
    let flow = match d.flow.as_deref() {
        Some(name) => ctx.app.flow(name)?,
        None if ctx.app.flows.len() == 1 => &ctx.app.flows[0],
        None => return Err("the detail names no flow and the configuration has several".into()),
    };
    if mode == Mode::Full {
        // ALG-12/13: a Full run (the first import, then weekly) first checks both
        // connections and creates what the flow needs (idempotent), as `serve` does at start.
        puente_runtime::activate(flow)
            .await
            .map_err(|e| format!("flow '{}' is not active: {e}", flow.name))?;
    }
    let s = puente_runtime::run(flow, mode, false, &NoProgress).await;
    tracing::info!(
        tenant = %flow.tenant,
        flow = %flow.name,
        mode = mode.as_str(),
        summary = %serde_json::to_string(&s).unwrap_or_default(),
        "scheduled run done"
    );
    Ok(s)
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
                mode: "full".into()
            }
        );
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
