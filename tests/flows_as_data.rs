//! Issue 12, flows as data: an entity's match keys, write mode and filters come from the
//! flow's config, not from the engine. Here the Clientify ⇄ Alegra flow matches contacts by
//! email instead of tax id, end to end (Full, then a webhook, then a Full that writes
//! nothing), and bad rules are config errors that name their key.

use puente_core::Kind;
use puente_e2e::{test_retry, TestEnv};
use puente_runtime::events::work_once;
use puente_runtime::serve::accept_webhook;
use puente_runtime::{App, Config, Mode};
use puente_sandbox::SandboxConfig;
use puente_store::{MemoryStore, Scope, Store};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const BY_EMAIL: &str = "\n[flows.rules.contact]\nmatch = [\"email\"]\n";

fn small() -> SandboxConfig {
    SandboxConfig {
        contacts: 6,
        companies: 2,
        shared_contacts: 2,
        shared_companies: 1,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

fn with_email<'a>(
    records: &'a [Value],
    email: &str,
    field: impl Fn(&Value) -> String,
) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| field(r).eq_ignore_ascii_case(email))
        .collect()
}

fn clientify_email(c: &Value) -> String {
    c["emails"]
        .as_array()
        .and_then(|e| e.first())
        .and_then(|e| e["email"].as_str())
        .unwrap_or("")
        .to_string()
}

fn alegra_email(a: &Value) -> String {
    a["email"].as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_as_data_contacts_matched_by_email_instead_of_tax_id() {
    let env = TestEnv::start_with_toml("by-email", small(), &["contact"], BY_EMAIL).await;
    // Records without any identification, the same person on both sides under one email
    // (spelled in another case in Alegra), plus one person on each side only.
    env.clientify_post(
        Kind::Contact,
        json!({"first_name": "Eva", "last_name": "Soler", "emails": [{"type": 1, "email": "eva.soler@example.es"}]}),
    )
    .await;
    env.alegra_post(
        "contacts",
        json!({"name": "Eva Soler", "email": "Eva.Soler@Example.ES", "type": ["client"]}),
    )
    .await;
    env.clientify_post(
        Kind::Contact,
        json!({"first_name": "Solo", "last_name": "Clientify", "emails": [{"type": 1, "email": "solo.c@example.es"}]}),
    )
    .await;
    env.alegra_post(
        "contacts",
        json!({"name": "Solo Alegra", "email": "solo.a@example.es", "type": ["client"]}),
    )
    .await;
    env.activate().await;
    let s = env.sync(Mode::Full).await;
    assert_eq!(s.entities["contact"].failed, 0, "{s:?}");

    let (c, a) = (
        env.clientify_all(Kind::Contact).await,
        env.alegra_all().await,
    );
    for email in [
        "eva.soler@example.es",
        "solo.c@example.es",
        "solo.a@example.es",
    ] {
        assert_eq!(
            with_email(&c, email, clientify_email).len(),
            1,
            "Clientify {email}"
        );
        assert_eq!(
            with_email(&a, email, alegra_email).len(),
            1,
            "Alegra {email}"
        );
    }
    // Every contact with an email is linked, its link keyed by the email.
    let eva = with_email(&c, "eva.soler@example.es", clientify_email)[0];
    let link = env
        .link_for(Kind::Contact, "clientify", &eva["id"].to_string())
        .await
        .expect("Eva is linked");
    assert_eq!(link.key.as_deref(), Some("eva.soler@example.es"));
    assert_eq!(
        link.ids.get("alegra").map(String::as_str),
        with_email(&a, "eva.soler@example.es", alegra_email)[0]["id"].as_str()
    );

    // After the Full: the same person appears on both sides, unlinked; a webhook for the
    // Clientify one finds the Alegra one by email (a search, no listing) and links them.
    let zed = env
        .clientify_post(
            Kind::Contact,
            json!({"first_name": "Zed", "last_name": "Mora", "emails": [{"type": 1, "email": "zed@example.es"}]}),
        )
        .await;
    env.alegra_post(
        "contacts",
        json!({"name": "Zed Mora", "email": "ZED@example.es", "type": ["client"]}),
    )
    .await;
    let body = json!({"event": "contact.saved", "contact": {"id": zed["id"], "modified": "x"}});
    let (status, v) = accept_webhook(
        &env.app,
        Some("s3cret-hook"),
        "test",
        "clientify",
        "s3cret-hook",
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    for _ in 0..10 {
        work_once(
            &env.app,
            env.app.store.as_ref(),
            10,
            Duration::from_secs(30),
        )
        .await;
        if env.app.store.queue_depth().await.unwrap().0 == 0 {
            break;
        }
    }
    let a = env.alegra_all().await;
    assert_eq!(
        with_email(&a, "zed@example.es", alegra_email).len(),
        1,
        "linked to the Alegra contact with that email, not created again"
    );
    assert!(env
        .link_for(Kind::Contact, "clientify", &zed["id"].to_string())
        .await
        .is_some());

    // A second Full writes nothing.
    let s = env.sync(Mode::Full).await;
    let c = &s.entities["contact"];
    assert_eq!(
        (c.created_total(), c.updated_total(), c.failed),
        (0, 0, 0),
        "{c:?}"
    );
    let links = env
        .app
        .store
        .links(Scope::new("test", puente_e2e::FLOW, "contact"))
        .await
        .unwrap();
    assert!(links
        .iter()
        .all(|l| l.key.as_deref().is_some_and(|k| k.contains('@'))));
}

/// APC-7 in general form: a flow adjusts the mapping in its config. A read adjustment with
/// a transform (Clientify's phone normalised to E.164) and a write adjustment that sets a
/// field the canonical model does not have (Alegra's `observations`) both reach Alegra.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_as_data_mapping_override_with_a_transform_reaches_the_vendor() {
    let extra = r#"
[flows.mapping.contact.clientify]
phone = "(record.phones | rejectattr('type', 'eq', 2) | first).phone | phone('ES')"

[flows.mapping.contact.alegra.write]
observations = "'Alta desde Clientify: ' ~ (fields.email | upper)"
"#;
    let env = TestEnv::start_with_toml("mapping", small(), &["contact"], extra).await;
    let c = env
        .clientify_post(
            Kind::Contact,
            json!({"first_name": "Luz", "last_name": "Prieto",
                   "taxpayer_identification_number": "12345678Z",
                   "emails": [{"type": 1, "email": "luz@example.es"}],
                   "phones": [{"type": 1, "phone": "981 12 34 56"}]}),
        )
        .await;
    env.activate().await;
    let s = env.sync(Mode::Full).await;
    assert_eq!(s.entities["contact"].failed, 0, "{s:?}");
    let a = env
        .alegra_all()
        .await
        .into_iter()
        .find(|a| a["identification"].as_str() == Some("12345678Z"))
        .expect("Luz created in Alegra");
    assert_eq!(
        a["phonePrimary"], "+34981123456",
        "the transform's output: {a}"
    );
    assert_eq!(
        a["observations"], "Alta desde Clientify: LUZ@EXAMPLE.ES",
        "{a}"
    );
    // Clientify's own phone is left as the user typed it: the adjustment reads, it does
    // not write back (the canonical value is the normalised one on both sides).
    let again = env.clientify_get(Kind::Contact, &c["id"].to_string()).await;
    assert_eq!(again["phones"][0]["phone"], "981 12 34 56");
    // Nothing changed: a second Full writes nothing.
    let s = env.sync(Mode::Full).await;
    let n = &s.entities["contact"];
    assert_eq!((n.created_total(), n.updated_total()), (0, 0), "{n:?}");
}

fn config(extra: &str) -> String {
    format!(
        r#"
tenant = "t"
[connections.clientify]
type = "clientify"
api_key = "k"
[connections.alegra]
type = "alegra"
email = "me@acme.es"
token = "t"
[[flows]]
name = "f"
a = "clientify"
b = "alegra"
entities = ["contact", "product"]
{extra}"#
    )
}

#[test]
fn flows_as_data_bad_rules_are_config_errors_naming_the_key() {
    let e = Config::parse(&config("[flows.rules.contact]\nmatch = [\"mail\"]\n")).unwrap_err();
    assert_eq!(e.key, "flows[0].rules.contact.match[0]", "{e}");
    assert!(e.problem.contains("unknown match key 'mail'"), "{e}");
    let e = Config::parse(&config(
        "[flows.rules.contact]\nmatch = [\"phone:telefono\"]\n",
    ))
    .unwrap_err();
    assert_eq!(e.key, "flows[0].rules.contact.match[0]", "{e}");
    assert!(e.problem.contains("no field 'telefono'"), "{e}");
    assert!(e.fix.contains("mobile"), "the fix lists the fields: {e}");
    let e = Config::parse(&config(
        "[flows.rules.product]\ncreate_only = [\"colour\"]\n",
    ))
    .unwrap_err();
    assert_eq!(e.key, "flows[0].rules.product.create_only", "{e}");
    let e = Config::parse(&config("[flows.rules.product]\nwrite = \"sometimes\"\n")).unwrap_err();
    assert_eq!(e.key, "flows[0].rules.product.write", "{e}");
    let e = Config::parse(&config("[flows.rules.order]\nwrite = \"update-only\"\n")).unwrap_err();
    assert_eq!(e.key, "flows[0].rules.order", "{e}");
    let e = Config::parse(&config(
        "[flows.rules.contact]\ndirection = \"from:odoo\"\n",
    ))
    .unwrap_err();
    assert_eq!(e.key, "flows[0].rules.contact.direction", "{e}");
    let e = Config::parse(&config(
        "[flows.mapping.contact.alegra.write]\nobservations = \"fields.email |\"\n",
    ))
    .unwrap_err();
    assert_eq!(
        e.key, "flows[0].mapping.contact.alegra.write.observations",
        "{e}"
    );
    assert!(e.problem.contains("does not compile"), "{e}");
    let e = Config::parse(&config(
        "[flows.mapping.contact.clientify]\ntelefono = \"record.x\"\n",
    ))
    .unwrap_err();
    assert_eq!(e.key, "flows[0].mapping.contact.clientify.telefono", "{e}");
    assert!(e.fix.contains("first_name"), "{e}");
    let e = Config::parse(&config(
        "[flows.mapping.contact.odoo]\nname = \"record.x\"\n",
    ))
    .unwrap_err();
    assert_eq!(e.key, "flows[0].mapping.contact.odoo", "{e}");
    // Parses, but one side cannot search contacts by phone: refused when the app is built.
    let cfg = Config::parse(&config("[flows.rules.contact]\nmatch = [\"phone\"]\n")).unwrap();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let Err(e) = App::build(cfg, store, test_retry()) else {
        panic!("built a flow whose match key a side cannot search")
    };
    assert_eq!(e.key, "flows[0].rules.contact.match", "{e}");
    assert!(
        e.problem.contains("cannot look contacts up by phone"),
        "{e}"
    );
}
