//! The three Lambda handlers against DynamoDB + SQS on moto and the vendor sandboxes, each
//! invoked with the event JSON Lambda delivers (fixtures in `tests/fixtures/`, filled in with
//! this test's bodies and ids). Each test has its own table and queues.
//!
//! Needs a running emulator: `bash infra/moto.sh install && eval "$(bash infra/moto.sh
//! start)"`, then `cargo test -p puente-lambda`, then `bash infra/moto.sh stop`. Without
//! `AWS_ENDPOINT_URL` every test fails and says so (a skipped check would pass silently).

use aws_sdk_sqs::types::MessageSystemAttributeName;
use puente_core::Kind;
use puente_e2e::{config_toml, test_retry, writes, FLOW};
use puente_lambda::apigw::ApiGatewayV2httpRequest;
use puente_lambda::sqs::SqsEvent;
use puente_lambda::{Ctx, Env, FollowUp, ScheduleDetail};
use puente_runtime::events::ChangeEvent;
use puente_sandbox::{SandboxConfig, Sandboxes};
use puente_store::{Action, LogQuery, Store};
use puente_store_aws::{DynamoStore, SqsQueue};
use serde_json::{json, Value};

async fn sdk_config() -> aws_config::SdkConfig {
    puente_store_aws::testkit::sdk_config("puente-lambda").await
}

fn unique(tag: &str) -> String {
    puente_store_aws::testkit::unique("puente-fn", tag)
}

const SECRET: &str = "s3cret-hook";

/// A follow-up sink for runs that are never cut (no deadline).
struct NoFollowUp;

#[async_trait::async_trait]
impl FollowUp for NoFollowUp {
    async fn send(&self, d: &ScheduleDetail) -> anyhow::Result<()> {
        panic!("no follow-up expected: {d:?}")
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

/// Sandboxes (every Clientify contact has a valid identification and none is in Alegra yet,
/// so syncing one means creating it in Alegra), a table and queues, and the function context
/// built the way the binaries build it, from the same environment variables.
struct Harness {
    sb: Sandboxes,
    cfg: SandboxConfig,
    ctx: Ctx,
    sqs: aws_sdk_sqs::Client,
    queue: SqsQueue,
    table: String,
    ddb: aws_sdk_dynamodb::Client,
}

impl Harness {
    async fn start(tag: &str) -> Harness {
        let cfg = SandboxConfig {
            seed: 7,
            contacts: 6,
            companies: 2,
            shared_contacts: 0,
            shared_companies: 0,
            without_id_percent: 0,
            alegra_rate_limit: 0,
            ..SandboxConfig::default()
        };
        let sb = puente_sandbox::start(&cfg, None, None)
            .await
            .expect("sandboxes start");
        let sdk = sdk_config().await;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let name = unique(tag);
        DynamoStore::create_table(&ddb, &name)
            .await
            .expect("create table");
        let queue = SqsQueue::create(sqs.clone(), &name, 3)
            .await
            .expect("create queues");
        let toml = config_toml(
            &sb.clientify.base_url,
            &sb.alegra.base_url,
            &cfg,
            std::path::Path::new("unused-on-aws.sqlite"),
        );
        let vars = [
            ("TABLE_NAME", name.clone()),
            ("QUEUE_URL", queue.url().to_string()),
            ("DLQ_URL", queue.dlq_url().to_string()),
            ("MAX_RECEIVE_COUNT", "3".to_string()),
            ("PUENTE_CONFIG_TOML", toml),
        ];
        let env = Env::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .expect("env");
        let ctx = Ctx::build(&sdk, &env, test_retry()).expect("context builds");
        let app = ctx
            .tenant("test")
            .await
            .unwrap()
            .expect("the inline tenant");
        puente_runtime::activate(app.app.flow(FLOW).unwrap())
            .await
            .expect("flow activates");
        Harness {
            sb,
            cfg,
            ctx,
            sqs,
            queue,
            table: name,
            ddb,
        }
    }

    fn store(&self) -> &dyn Store {
        self.ctx.store.as_ref()
    }

    /// The id and record of the i-th seeded Clientify contact.
    fn contact(&self, i: usize) -> (String, Value) {
        let c = self.sb.world.clientify_contacts[i].clone();
        (c["id"].to_string().trim_matches('"').to_string(), c)
    }

    fn webhook_event(&self, secret: &str, tenant: &str, body: &str) -> ApiGatewayV2httpRequest {
        let mut ev = fixture("apigw-v2-webhook.json");
        let path = format!("/webhooks/{tenant}/clientify/{secret}");
        ev["rawPath"] = json!(path);
        ev["requestContext"]["http"]["path"] = json!(path);
        ev["pathParameters"] = json!({"tenant": tenant, "system": "clientify", "secret": secret});
        ev["headers"]["content-length"] = json!(body.len().to_string());
        ev["body"] = json!(body);
        serde_json::from_value(ev).expect("fixture is an HTTP API v2 request")
    }

    /// Every message on the main queue now (long polls until one comes back empty).
    async fn drain(&self) -> Vec<aws_sdk_sqs::types::Message> {
        let mut out = Vec::new();
        loop {
            let r = self
                .sqs
                .receive_message()
                .queue_url(self.queue.url())
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .visibility_timeout(60)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive");
            let msgs = r.messages.unwrap_or_default();
            if msgs.is_empty() {
                return out;
            }
            out.extend(msgs);
        }
    }

    async fn teardown(self) {
        self.sb.clientify.shutdown();
        self.sb.alegra.shutdown();
        self.queue.delete_queues().await.expect("delete queues");
        DynamoStore::delete_table(&self.ddb, &self.table)
            .await
            .expect("delete table");
    }
}

/// The SQS event Lambda would deliver for these received messages (the fixture's shape).
fn sqs_event(msgs: &[aws_sdk_sqs::types::Message], queue_url: &str) -> SqsEvent {
    let fx = fixture("sqs-batch.json");
    let template = fx["Records"][0].clone();
    let name = queue_url.rsplit('/').next().unwrap();
    let records: Vec<Value> = msgs
        .iter()
        .map(|m| {
            let mut r = template.clone();
            r["messageId"] = json!(m.message_id());
            r["receiptHandle"] = json!(m.receipt_handle());
            r["body"] = json!(m.body());
            r["md5OfBody"] = json!(m.md5_of_body());
            r["eventSourceARN"] = json!(format!("arn:aws:sqs:eu-west-1:123456789012:{name}"));
            let attrs: serde_json::Map<String, Value> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                        .collect()
                })
                .unwrap_or_default();
            r["attributes"] = Value::Object(attrs);
            r
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).expect("an SQS event")
}

async fn log_for(h: &Harness, cid: &str) -> Vec<puente_store::ActivityEntry> {
    let mut q = LogQuery::new("test", 50);
    q.system = Some("clientify".into());
    q.external_id = Some(cid.to_string());
    h.store().query(&q).await.expect("log query")
}

async fn alegra_contact(h: &Harness, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/contacts/{id}", h.sb.alegra.base_url))
        .basic_auth(&h.cfg.alegra_email, Some(&h.cfg.alegra_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The link in DynamoDB, the `created` log entry and the contact in Alegra for a synced
/// Clientify contact.
async fn assert_synced(h: &Harness, cid: &str) {
    let link = h
        .store()
        .link_by_external(
            puente_store::Scope::new("test", FLOW, "contact"),
            "clientify",
            cid,
        )
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no link in DynamoDB for clientify:{cid}"));
    let aid = link
        .ids
        .get("alegra")
        .expect("linked to an Alegra id")
        .clone();
    let log = log_for(h, cid).await;
    assert!(
        log.iter()
            .any(|e| e.action == Action::Created && e.target_id.as_deref() == Some(&aid)),
        "a 'created' entry for clientify:{cid} → alegra:{aid}: {log:?}"
    );
    let a = alegra_contact(h, &aid).await;
    assert_eq!(a["id"].to_string().trim_matches('"'), aid, "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_accepts_and_sends_one_message_to_sqs() {
    let h = Harness::start("wh").await;
    let (cid, contact) = h.contact(0);
    let body = json!({"event": "contact.saved", "contact": contact}).to_string();
    h.sb.alegra.reset_stats();
    h.sb.clientify.reset_stats();
    let r = puente_lambda::webhook(&h.ctx, h.webhook_event(SECRET, "test", &body)).await;
    assert_eq!(r.status_code, 202, "{:?}", r.body);
    // Clientify retries a delivery: still 202, still one message.
    let again = puente_lambda::webhook(&h.ctx, h.webhook_event(SECRET, "test", &body)).await;
    assert_eq!(again.status_code, 202);
    let msgs = h.drain().await;
    assert_eq!(msgs.len(), 1, "one message on SQS");
    let ev: ChangeEvent = serde_json::from_str(msgs[0].body().unwrap()).unwrap();
    assert_eq!(
        (ev.tenant.as_str(), ev.kind, ev.id.as_str()),
        ("test", Kind::Contact, cid.as_str())
    );
    assert_eq!(
        h.sb.alegra.stats().total,
        0,
        "answered before any vendor call"
    );
    h.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_rejections_enqueue_nothing() {
    let h = Harness::start("whrej").await;
    let (_, contact) = h.contact(0);
    let body = json!({"event": "contact.saved", "contact": contact}).to_string();
    for (secret, tenant, body, status) in [
        ("wrong", "test", body.as_str(), 401),
        (SECRET, "other", body.as_str(), 401),
        (SECRET, "test", "{not json", 400),
        (SECRET, "test", &"x".repeat(300 * 1024), 413),
    ] {
        let r = puente_lambda::webhook(&h.ctx, h.webhook_event(secret, tenant, body)).await;
        assert_eq!(r.status_code, status, "{secret} {tenant}: {:?}", r.body);
    }
    // An unknown system under a valid secret: 404.
    let mut ev = h.webhook_event(SECRET, "test", &body);
    ev.path_parameters.insert("system".into(), "odoo".into());
    assert_eq!(puente_lambda::webhook(&h.ctx, ev).await.status_code, 404);
    assert!(
        h.drain().await.is_empty(),
        "nothing on SQS for rejected requests"
    );
    h.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_syncs_a_batch_received_from_sqs() {
    let h = Harness::start("wk").await;
    let mut ids = Vec::new();
    for i in 0..2 {
        let (cid, _) = h.contact(i);
        let ev = ChangeEvent {
            tenant: "test".into(),
            system: "clientify".into(),
            kind: Kind::Contact,
            id: cid.clone(),
            event_id: format!("ev-{cid}"),
            observed_at: chrono_now(),
        };
        h.store()
            .send(
                &ev.group(),
                &ev.event_id,
                &serde_json::to_string(&ev).unwrap(),
            )
            .await
            .unwrap();
        ids.push(cid);
    }
    let msgs = h.drain().await;
    assert_eq!(msgs.len(), 2);
    h.sb.alegra.reset_stats();
    let r = puente_lambda::worker(&h.ctx, sqs_event(&msgs, h.queue.url())).await;
    assert!(
        r.batch_item_failures.is_empty(),
        "{:?}",
        r.batch_item_failures
    );
    for cid in &ids {
        assert_synced(&h, cid).await;
    }
    assert!(writes(&h.sb.alegra) >= 2, "created in Alegra");
    h.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_reports_a_poison_body_and_syncs_its_neighbour() {
    let h = Harness::start("poison").await;
    let (cid, _) = h.contact(1);
    let good = ChangeEvent {
        tenant: "test".into(),
        system: "clientify".into(),
        kind: Kind::Contact,
        id: cid.clone(),
        event_id: "ev-good".into(),
        observed_at: chrono_now(),
    };
    // The committed two-record batch: the first body is poison, the second a real event.
    let mut fx = fixture("sqs-batch.json");
    fx["Records"][0]["body"] = json!("{\"not\": \"an event\"");
    fx["Records"][1]["body"] = json!(serde_json::to_string(&good).unwrap());
    let batch: SqsEvent = serde_json::from_value(fx.clone()).unwrap();
    let r = puente_lambda::worker(&h.ctx, batch).await;
    let failed: Vec<_> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, [fx["Records"][0]["messageId"].as_str().unwrap()]);
    assert_synced(&h, &cid).await;
    // And the batch response is what Lambda expects on the wire.
    let wire = serde_json::to_value(&r).unwrap();
    assert_eq!(
        wire["batchItemFailures"][0]["itemIdentifier"],
        fx["Records"][0]["messageId"]
    );
    h.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_runs_a_full_sync_and_returns_its_summary() {
    let h = Harness::start("sched").await;
    let runs = puente_lambda::scheduler(&h.ctx, fixture("scheduled-full.json"), None, &NoFollowUp)
        .await
        .expect("scheduled run");
    assert_eq!(runs.len(), 1, "one tenant, one flow");
    let s = &runs[0];
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let v = serde_json::to_value(s).unwrap();
    assert_eq!(v["mode"], "full", "{v}");
    let created: u64 = s.entities["contact"].created.values().sum();
    assert!(created > 0, "{v}");
    // Each side's contacts are created on the other, and every one is linked in DynamoDB.
    let links = h
        .store()
        .links(puente_store::Scope::new("test", FLOW, "contact"))
        .await
        .unwrap();
    assert!(
        links.len() >= h.sb.world.clientify_contacts.len(),
        "{} links",
        links.len()
    );
    // The same detail bare (EventBridge Scheduler's constant input) and a bad mode.
    let runs = puente_lambda::scheduler(
        &h.ctx,
        json!({"flow": FLOW, "mode": "modified"}),
        None,
        &NoFollowUp,
    )
    .await
    .expect("modified run");
    assert!(runs[0].errors.is_empty(), "{:?}", runs[0].errors);
    let err = puente_lambda::scheduler(
        &h.ctx,
        json!({"detail": {"flow": "nope", "mode": "full"}}),
        None,
        &NoFollowUp,
    )
    .await
    .unwrap_err();
    assert!(err.contains("no flow named 'nope'"), "{err}");
    let err = puente_lambda::scheduler(
        &h.ctx,
        json!({"tenant": "nobody", "mode": "full"}),
        None,
        &NoFollowUp,
    )
    .await
    .unwrap_err();
    assert!(err.contains("no tenant named 'nobody'"), "{err}");
    h.teardown().await;
}

/// RUN-1 → RUN-3 end to end: webhook handler → SQS (received with the SQS client) → worker
/// handler → link and log in DynamoDB → the write in the Alegra sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_webhook_to_sqs_to_worker_to_alegra() {
    let h = Harness::start("e2e").await;
    let (cid, contact) = h.contact(2);
    let body = json!({"event": "contact.saved", "contact": contact}).to_string();
    let r = puente_lambda::webhook(&h.ctx, h.webhook_event(SECRET, "test", &body)).await;
    assert_eq!(r.status_code, 202, "{:?}", r.body);
    let msgs = h.drain().await;
    assert_eq!(msgs.len(), 1);
    h.sb.alegra.reset_stats();
    let r = puente_lambda::worker(&h.ctx, sqs_event(&msgs, h.queue.url())).await;
    assert!(
        r.batch_item_failures.is_empty(),
        "{:?}",
        r.batch_item_failures
    );
    assert_synced(&h, &cid).await;
    assert!(writes(&h.sb.alegra) >= 1, "written to Alegra");
    h.teardown().await;
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// FIFO order: after a record of a message group fails, the later records of that group in
/// the batch are reported too (unprocessed), while other groups go ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_keeps_a_failed_groups_later_records_for_the_retry() {
    let h = Harness::start("group").await;
    let event = |i: usize| {
        let (cid, _) = h.contact(i);
        let ev = ChangeEvent {
            tenant: "test".into(),
            system: "clientify".into(),
            kind: Kind::Contact,
            id: cid.clone(),
            event_id: format!("ev-{cid}"),
            observed_at: chrono_now(),
        };
        (cid, serde_json::to_string(&ev).unwrap())
    };
    let (held, held_body) = event(3);
    let (other, other_body) = event(4);
    let fx = fixture("sqs-batch.json");
    let mut recs = vec![
        fx["Records"][0].clone(),
        fx["Records"][0].clone(),
        fx["Records"][1].clone(),
    ];
    recs[0]["body"] = json!("poison");
    recs[1]["messageId"] = json!("same-group-later");
    recs[1]["body"] = json!(held_body);
    recs[2]["body"] = json!(other_body);
    let batch: SqsEvent = serde_json::from_value(json!({ "Records": recs })).unwrap();
    let r = puente_lambda::worker(&h.ctx, batch).await;
    let failed: Vec<_> = r
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(
        failed,
        [recs[0]["messageId"].as_str().unwrap(), "same-group-later"]
    );
    assert!(h
        .store()
        .link_by_external(
            puente_store::Scope::new("test", FLOW, "contact"),
            "clientify",
            &held
        )
        .await
        .unwrap()
        .is_none());
    assert_synced(&h, &other).await;
    h.teardown().await;
}

/// `config_toml` for another tenant of the same sandboxes, with its own webhook secret, and
/// its Alegra token given by name (`token_env`), as an operator's `tenant.toml` would.
fn tenant_toml(h: &Harness, tenant: &str, hook: &str, token_var: &str) -> String {
    config_toml(
        &h.sb.clientify.base_url,
        &h.sb.alegra.base_url,
        &h.cfg,
        std::path::Path::new("unused-on-aws.sqlite"),
    )
    .replace("tenant = \"test\"", &format!("tenant = \"{tenant}\""))
    .replace(SECRET, hook)
    .replace(
        &format!("token = \"{}\"", h.cfg.alegra_token),
        &format!("token_env = \"{token_var}\""),
    )
}

/// A context with no inline tenant: every tenant comes from the table and Secrets Manager.
async fn table_only_ctx(h: &Harness, prefix: &str) -> Ctx {
    let vars = [
        ("TABLE_NAME", h.table.clone()),
        ("QUEUE_URL", h.queue.url().to_string()),
        ("DLQ_URL", h.queue.dlq_url().to_string()),
        ("MAX_RECEIVE_COUNT", "3".to_string()),
        ("SECRETS_PREFIX", prefix.to_string()),
    ];
    let env = Env::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
        .expect("env");
    Ctx::build(&sdk_config().await, &env, test_retry()).expect("context builds")
}

/// RUN-4: `tenant put` stores the configuration in the table and the secrets in Secrets
/// Manager (none of them in the table); the functions then serve that tenant by the
/// `{tenant}` of the webhook path and the tenant of a queued event, and one tenant's secret
/// never enqueues for another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run4_stored_tenant_receives_webhooks_and_its_events_sync() {
    let h = Harness::start("tenant").await;
    let prefix = format!("{}/", unique("sec"));
    let ctx = table_only_ctx(&h, &prefix).await;
    let toml = tenant_toml(&h, "acme", "acme-hook", "ACME_TOKEN_FOR_TEST");
    let token = h.cfg.alegra_token.clone();
    let split = puente_lambda::tenants::split_secrets(&toml, |k| {
        (k == "ACME_TOKEN_FOR_TEST").then(|| token.clone())
    })
    .expect("valid tenant file");
    ctx.tenants().put(&split).await.expect("tenant put");
    assert_eq!(ctx.tenants().list().await.unwrap(), ["acme"]);

    // The table's item holds no secret.
    let item = h
        .ddb
        .get_item()
        .table_name(&h.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("TENANT".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("acme".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("tenant item");
    let stored = format!("{item:?}");
    for secret in ["acme-hook", &h.cfg.alegra_token, &h.cfg.clientify_token] {
        assert!(!stored.contains(secret), "a secret in the table: {stored}");
    }

    // Unknown tenant and another tenant's secret: 401, nothing enqueued.
    let (cid, contact) = h.contact(1);
    let body = json!({"event": "contact.saved", "contact": contact}).to_string();
    for (tenant, secret) in [
        ("nobody", "acme-hook"),
        ("acme", SECRET),
        ("test", "acme-hook"),
    ] {
        let r = puente_lambda::webhook(&ctx, h.webhook_event(secret, tenant, &body)).await;
        assert_eq!(r.status_code, 401, "{tenant}/{secret}: {:?}", r.body);
    }
    assert!(h.drain().await.is_empty(), "a rejected webhook enqueued");

    // The stored tenant's own secret: accepted, and its event syncs under its tenant.
    let r = puente_lambda::webhook(&ctx, h.webhook_event("acme-hook", "acme", &body)).await;
    assert_eq!(r.status_code, 202, "{:?}", r.body);
    let msgs = h.drain().await;
    assert_eq!(msgs.len(), 1);
    let app = ctx.tenant("acme").await.unwrap().unwrap();
    puente_runtime::activate(app.app.flow(FLOW).unwrap())
        .await
        .expect("acme's flow activates with the secrets from Secrets Manager");
    let r = puente_lambda::worker(&ctx, sqs_event(&msgs, h.queue.url())).await;
    assert!(
        r.batch_item_failures.is_empty(),
        "{:?}",
        r.batch_item_failures
    );
    let link = h
        .store()
        .link_by_external(
            puente_store::Scope::new("acme", FLOW, "contact"),
            "clientify",
            &cid,
        )
        .await
        .unwrap();
    assert!(link.is_some(), "acme's link for clientify:{cid}");
    h.teardown().await;
}

/// RUN-3 + `puente dlq replay`: an event the worker cannot process (its tenant is not
/// stored yet) is reported on every receive and reaches the dead-letter queue after
/// MAX_RECEIVE_COUNT (3) receives; once the cause is fixed (`tenant put`), replaying it
/// brings it back to the queue and it syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run3_poison_event_reaches_the_dlq_and_replay_brings_it_back() {
    let h = Harness::start("dlq").await;
    let prefix = format!("{}/", unique("sec"));
    let ctx = table_only_ctx(&h, &prefix).await;
    let (cid, _) = h.contact(5);
    let ev = ChangeEvent {
        tenant: "late".into(),
        system: "clientify".into(),
        kind: Kind::Contact,
        id: cid.clone(),
        event_id: format!("ev-late-{cid}"),
        observed_at: chrono::Utc::now(),
    };
    let body = serde_json::to_string(&ev).unwrap();
    assert!(h
        .store()
        .send(&format!("late/contact/{cid}"), &ev.event_id, &body)
        .await
        .unwrap());

    // Lambda's event source: receive (1 s visibility), invoke, delete what succeeded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut receives = 0;
    loop {
        let (_, dead) = h.store().queue_depth().await.unwrap();
        if dead >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not in the DLQ after {receives} receives"
        );
        let r = h
            .sqs
            .receive_message()
            .queue_url(h.queue.url())
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let msgs = r.messages.unwrap_or_default();
        if msgs.is_empty() {
            continue;
        }
        receives += 1;
        let out = puente_lambda::worker(&ctx, sqs_event(&msgs, h.queue.url())).await;
        assert_eq!(
            out.batch_item_failures.len(),
            1,
            "the unknown tenant's event fails"
        );
    }
    assert!(receives >= 3, "moved after {receives} receives (max 3)");
    let dead = h.store().dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].body, body);

    // Fix the cause, replay, and the worker syncs it.
    let token = h.cfg.alegra_token.clone();
    let split = puente_lambda::tenants::split_secrets(
        &tenant_toml(&h, "late", "late-hook", "LATE_TOKEN_FOR_TEST"),
        |k| (k == "LATE_TOKEN_FOR_TEST").then(|| token.clone()),
    )
    .unwrap();
    ctx.tenants().put(&split).await.unwrap();
    h.store()
        .replay_dead_letter(&dead[0].id)
        .await
        .expect("replay");
    assert_eq!(h.store().queue_depth().await.unwrap().1, 0, "DLQ emptied");
    let msgs = h.drain().await;
    assert_eq!(msgs.len(), 1, "replayed onto the queue");
    assert_eq!(msgs[0].body(), Some(body.as_str()));
    let app = ctx.tenant("late").await.unwrap().unwrap();
    puente_runtime::activate(app.app.flow(FLOW).unwrap())
        .await
        .unwrap();
    let out = puente_lambda::worker(&ctx, sqs_event(&msgs, h.queue.url())).await;
    assert!(
        out.batch_item_failures.is_empty(),
        "{:?}",
        out.batch_item_failures
    );
    assert!(h
        .store()
        .link_by_external(
            puente_store::Scope::new("late", FLOW, "contact"),
            "clientify",
            &cid
        )
        .await
        .unwrap()
        .is_some());
    h.teardown().await;
}

/// RUN-2: a Full run cut at its deadline sends its continuation through EventBridge (here a
/// rule on moto delivers it to an SQS queue, where the test picks it up as Lambda would get
/// it), and the chain of slices ends with everything synced exactly as one uncut run: every
/// record linked, no duplicate, and a further Full writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run2_full_run_cut_at_its_deadline_continues_in_follow_up_events() {
    let h = Harness::start("slices").await;
    let sdk = sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let name = unique("follow");
    let q = h.sqs.create_queue().queue_name(&name).send().await.unwrap();
    let q_url = q.queue_url.unwrap();
    let q_arn = format!("arn:aws:sqs:eu-west-1:123456789012:{name}");
    events
        .put_rule()
        .name(&name)
        .event_pattern(
            json!({"source": [puente_lambda::FOLLOW_UP_SOURCE],
                   "detail-type": [puente_lambda::FOLLOW_UP_DETAIL_TYPE]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(&name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("scheduler")
                .arn(&q_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let follow = puente_lambda::EventBridgeFollowUp::new(&sdk);

    // Every slice's deadline has passed already: each takes one pair and hands over.
    let mut event = fixture("scheduled-full.json");
    let mut slices = 0;
    let mut written = 0;
    loop {
        slices += 1;
        assert!(slices < 200, "the chain of slices does not end");
        let runs =
            puente_lambda::scheduler(&h.ctx, event, Some(std::time::Instant::now()), &follow)
                .await
                .expect("slice");
        let s = &runs[0];
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        written += s
            .entities
            .values()
            .map(|c| c.created_total() + c.updated_total())
            .sum::<u64>();
        if s.resume.is_none() {
            break;
        }
        let r = h
            .sqs
            .receive_message()
            .queue_url(&q_url)
            .wait_time_seconds(5)
            .send()
            .await
            .unwrap();
        let msgs = r.messages.unwrap_or_default();
        assert_eq!(msgs.len(), 1, "one follow-up per cut slice");
        event = serde_json::from_str(msgs[0].body().unwrap()).expect("an EventBridge event");
        assert_eq!(
            event["detail"]["resume"],
            serde_json::to_value(&s.resume).unwrap()
        );
        h.sqs
            .delete_message()
            .queue_url(&q_url)
            .receipt_handle(msgs[0].receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    // Every pair was created once on the other side and linked: as many writes as links.
    let links = h
        .store()
        .links(puente_store::Scope::new("test", FLOW, "contact"))
        .await
        .unwrap()
        .len()
        + h.store()
            .links(puente_store::Scope::new("test", FLOW, "company"))
            .await
            .unwrap()
            .len();
    let seeded = h.sb.world.clientify_contacts.len() + h.sb.world.clientify_companies.len();
    assert!(
        links >= seeded,
        "{links} links for {seeded} Clientify records"
    );
    assert_eq!(written as usize, links, "writes over all slices");
    // One pair per slice (each deadline had passed): the work really was cut.
    assert!(slices + 1 >= links, "{slices} slices for {links} pairs");
    let again = puente_lambda::scheduler(&h.ctx, fixture("scheduled-full.json"), None, &NoFollowUp)
        .await
        .unwrap();
    let c = &again[0].entities;
    assert_eq!(
        c.values()
            .map(|c| c.created_total() + c.updated_total())
            .sum::<u64>(),
        0,
        "{c:?}"
    );
    h.h_cleanup_rule(&events, &name, &q_url).await;
    h.teardown().await;
}

impl Harness {
    async fn h_cleanup_rule(&self, events: &aws_sdk_eventbridge::Client, name: &str, q: &str) {
        events
            .remove_targets()
            .rule(name)
            .ids("scheduler")
            .send()
            .await
            .unwrap();
        events.delete_rule().name(name).send().await.unwrap();
        self.sqs.delete_queue().queue_url(q).send().await.unwrap();
    }
}
