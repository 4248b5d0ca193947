//! APC-8 on AWS, against moto: the activity page through the HTTP API's `/ui/` route (the
//! page password read from Secrets Manager, cookies in the v2 payload's `cookies`), and
//! problems published to the stack's SNS topic.

use aws_sdk_sqs::types::QueueAttributeName;
use puente_e2e::{config_toml, test_retry, FLOW};
use puente_lambda::apigw::ApiGatewayV2httpRequest;
use puente_lambda::{ui, Ctx, Env};
use puente_runtime::notify::{Notifier as _, Problem, ProblemKind, ProblemRecord};
use puente_runtime::Mode;
use puente_sandbox::SandboxConfig;
use puente_store_aws::{DynamoStore, SqsQueue};
use serde_json::{json, Value};

async fn sdk() -> aws_config::SdkConfig {
    puente_store_aws::testkit::sdk_config("puente-lambda").await
}

/// An HTTP API (payload v2) request for the page.
fn request(
    method: &str,
    path: &str,
    query: &str,
    cookie: Option<&str>,
    body: Option<&str>,
) -> ApiGatewayV2httpRequest {
    let mut ev = json!({
        "version": "2.0",
        "routeKey": "ANY /ui/{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "abc.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc", "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc", "requestId": "r1", "routeKey": "ANY /ui/{proxy+}", "stage": "$default",
            "time": "03/Dec/2026:10:00:00 +0000", "timeEpoch": 1796292000000u64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "test"}
        },
        "isBase64Encoded": false
    });
    if let Some(c) = cookie {
        ev["cookies"] = json!([c]);
    }
    if let Some(b) = body {
        ev["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
        ev["body"] = json!(b);
    }
    serde_json::from_value(ev).expect("an HTTP API v2 request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apc8_activity_page_on_lambda_and_problems_on_the_sns_topic() {
    let cfg = SandboxConfig {
        seed: 9,
        contacts: 5,
        companies: 1,
        shared_contacts: 0,
        shared_companies: 0,
        without_id_percent: 0,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let sb = puente_sandbox::start(&cfg, None, None).await.unwrap();
    let sdk = sdk().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);
    let name = puente_store_aws::testkit::unique("puente-fn", "ui");
    DynamoStore::create_table(&ddb, &name).await.unwrap();
    let queue = SqsQueue::create(sqs.clone(), &name, 3).await.unwrap();
    // The stack's topic, with a queue subscribed to read what it publishes.
    let topic = sns
        .create_topic()
        .name(&name)
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let inbox = sqs
        .create_queue()
        .queue_name(format!("{name}-inbox"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let inbox_arn = sqs
        .get_queue_attributes()
        .queue_url(&inbox)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(&inbox_arn)
        .send()
        .await
        .unwrap();

    let toml = config_toml(
        &sb.clientify.base_url,
        &sb.alegra.base_url,
        &cfg,
        std::path::Path::new("unused.sqlite"),
    );
    let prefix = format!("{name}/");
    let vars = [
        ("TABLE_NAME", name.clone()),
        ("QUEUE_URL", queue.url().to_string()),
        ("DLQ_URL", queue.dlq_url().to_string()),
        ("PUENTE_CONFIG_TOML", toml),
        ("SECRETS_PREFIX", prefix.clone()),
        ("ALERT_TOPIC_ARN", topic.clone()),
        (
            "PUENTE_UI_BASE_URL",
            "https://abc.execute-api.eu-west-1.amazonaws.com".to_string(),
        ),
    ];
    let env =
        Env::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
    // As the webhook binary does: one context for the container's life.
    let ctx: &'static Ctx = Box::leak(Box::new(Ctx::build(&sdk, &env, test_retry()).unwrap()));
    let t = ctx.tenant("test").await.unwrap().unwrap();
    let flow = t.app.flow(FLOW).unwrap();
    puente_runtime::activate(flow).await.unwrap();
    let s = puente_runtime::run(flow, Mode::Full, false, &puente_runtime::NoProgress).await;
    assert!(s.errors.is_empty(), "{s:?}");

    // `puente ui password --aws` stores the hash in Secrets Manager, under the prefix.
    let hash = puente_web::auth::hash_password("lambda-page-password").unwrap();
    ctx.ui_passwords.put("test", &hash).await.unwrap();
    assert_eq!(
        ctx.ui_passwords.secret_name("test"),
        format!("{prefix}test/ui")
    );

    let router = ui::router(ctx);
    let anon = request("GET", "/ui/test/activity", "", None, None);
    assert!(ui::is_ui(&anon));
    let r = ui::handle(router.clone(), anon).await;
    assert_eq!(r.status_code, 303);
    assert_eq!(r.headers["location"], "/ui/test/login");
    let r = ui::handle(
        router.clone(),
        request(
            "POST",
            "/ui/test/login",
            "",
            None,
            Some("password=wrong-password"),
        ),
    )
    .await;
    assert_eq!(r.status_code, 401);
    assert!(r.cookies.is_empty());
    let r = ui::handle(
        router.clone(),
        request(
            "POST",
            "/ui/test/login",
            "",
            None,
            Some("password=lambda-page-password"),
        ),
    )
    .await;
    assert_eq!(r.status_code, 303);
    let set = r.cookies.first().expect("a session cookie").clone();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let r = ui::handle(
        router.clone(),
        request(
            "GET",
            "/ui/test/activity",
            "action=created",
            Some(&cookie),
            None,
        ),
    )
    .await;
    assert_eq!(r.status_code, 200);
    let page = match r.body {
        Some(aws_lambda_events::encodings::Body::Text(t)) => t,
        other => panic!("{other:?}"),
    };
    assert!(
        page.contains("pill created"),
        "the Full run's creations are on the page"
    );
    let r = ui::handle(
        router.clone(),
        request("GET", "/ui/test/runs", "", Some(&cookie), None),
    )
    .await;
    assert_eq!(r.status_code, 200);

    // A problem goes to the topic, with a link to the record's timeline on the HTTP API.
    t.app.notifier.notify(Problem {
        kind: ProblemKind::RecordFailed,
        tenant: "test".into(),
        flow: Some(FLOW.into()),
        system: "alegra".into(),
        record: Some(ProblemRecord {
            kind: "contact".into(),
            system: "clientify".into(),
            id: "42".into(),
        }),
        detail: "alegra answered HTTP 422: identificación inválida".into(),
    });
    t.app.notifier.flush().await;
    let got = sqs
        .receive_message()
        .queue_url(&inbox)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let msgs = got.messages.unwrap_or_default();
    assert_eq!(msgs.len(), 1);
    let envelope: Value = serde_json::from_str(msgs[0].body().unwrap()).unwrap();
    let text = envelope["Message"].as_str().unwrap();
    assert!(text.contains("alegra answered HTTP 422"), "{text}");
    assert!(
        text.contains(
            "https://abc.execute-api.eu-west-1.amazonaws.com/ui/test/record/contact/clientify/42"
        ),
        "{text}"
    );
    assert_eq!(envelope["Subject"], "Puente: 1 problem (test)");

    sb.clientify.shutdown();
    sb.alegra.shutdown();
    queue.delete_queues().await.unwrap();
    DynamoStore::delete_table(&ddb, &name).await.unwrap();
}
