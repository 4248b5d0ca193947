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
use puente_lambda::{Ctx, Env};
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
        puente_runtime::activate(ctx.app.flow(FLOW).unwrap())
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
        self.ctx.app.store.as_ref()
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
        .link_by_external("test", "contact", "clientify", cid)
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
    let s = puente_lambda::scheduler(&h.ctx, fixture("scheduled-full.json"))
        .await
        .expect("scheduled run");
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["mode"], "full", "{v}");
    let created: u64 = s.entities["contact"].created.values().sum();
    assert!(created > 0, "{v}");
    // Each side's contacts are created on the other, and every one is linked in DynamoDB.
    let links = h.store().links("test", "contact").await.unwrap();
    assert!(
        links.len() >= h.sb.world.clientify_contacts.len(),
        "{} links",
        links.len()
    );
    // The same detail bare (EventBridge Scheduler's constant input) and a bad mode.
    let s = puente_lambda::scheduler(&h.ctx, json!({"flow": FLOW, "mode": "modified"}))
        .await
        .expect("modified run");
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let err = puente_lambda::scheduler(&h.ctx, json!({"detail": {"flow": "nope", "mode": "full"}}))
        .await
        .unwrap_err();
    assert!(err.contains("no flow named 'nope'"), "{err}");
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
        .link_by_external("test", "contact", "clientify", &held)
        .await
        .unwrap()
        .is_none());
    assert_synced(&h, &other).await;
    h.teardown().await;
}
