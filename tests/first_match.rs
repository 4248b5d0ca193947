//! Issue 17, defect 3: when two records are linked for the first time and both hold a value
//! for a field, a first match must not overwrite either (an Alegra client was renamed after
//! a newer Clientify lead and demoted to a lead). It fills gaps only; fields both hold with
//! different values are kept on each side and reported once as a `conflict`; the next edit
//! of such a field flows across as usual. `first_match = "newest"` opts into the newer
//! record winning — and a client is still never demoted to a lead (ALG-4).

use puente_core::Kind;
use puente_e2e::{alegra_key, clientify_key, TestEnv};
use puente_runtime::Mode;
use puente_sandbox::SandboxConfig;
use puente_store::{Action, ActivityEntry, LogQuery};
use serde_json::{json, Value};

const DNI: &str = "12345678Z";

fn small() -> SandboxConfig {
    SandboxConfig {
        contacts: 2,
        companies: 0,
        shared_contacts: 0,
        shared_companies: 0,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

async fn conflicts(env: &TestEnv) -> Vec<ActivityEntry> {
    env.app
        .store
        .query(&LogQuery {
            tenant: "test".into(),
            action: Some(Action::Conflict),
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap()
}

fn ours(rows: &[Value], key: impl Fn(&Value) -> Option<String>) -> &Value {
    let mine: Vec<&Value> = rows
        .iter()
        .filter(|r| key(r).as_deref() == Some(DNI))
        .collect();
    assert_eq!(mine.len(), 1, "one record with {DNI}: {mine:?}");
    mine[0]
}

/// An Alegra client "Ana Pérez" in Lugo, then (a minute later, so newer) a Clientify lead
/// "Ana Perez García" with an email and the same DNI.
async fn both_sides(env: &TestEnv) -> (String, String) {
    let a = env
        .alegra_post(
            "contacts",
            json!({"name": "Ana Pérez", "identification": DNI, "type": ["client"],
                   "address": {"city": "Lugo"}}),
        )
        .await;
    env.sb.clientify.advance_clock(60);
    env.sb.alegra.advance_clock(60);
    let c = env
        .clientify_post(
            Kind::Contact,
            json!({"first_name": "Ana", "last_name": "Perez García", "status": "cold-lead",
                   "taxpayer_identification_number": DNI,
                   "emails": [{"email": "ana@example.es", "type": 1}]}),
        )
        .await;
    (c["id"].to_string(), a["id"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_match_keeps_both_values_fills_gaps_and_never_demotes_a_client() {
    let env = TestEnv::start_entities("first-match-keep", small(), &["contact"]).await;
    let (cid, aid) = both_sides(&env).await;
    env.activate().await;
    let s = env.sync(Mode::Full).await;
    assert_eq!(s.entities["contact"].failed, 0, "{s:?}");

    let alegra = env.alegra_all().await;
    let a = ours(&alegra, alegra_key);
    assert_eq!(a["id"].as_str(), Some(aid.as_str()));
    assert_eq!(
        a["name"], "Ana Pérez",
        "the Alegra name is not overwritten: {a}"
    );
    assert!(
        a["type"].to_string().contains("client") && !a["type"].to_string().contains("lead"),
        "the Alegra client is not demoted: {a}"
    );
    assert_eq!(a["email"], "ana@example.es", "the gap is filled: {a}");
    let clientify = env.clientify_all(Kind::Contact).await;
    let c = ours(&clientify, clientify_key);
    assert_eq!(c["id"].to_string(), cid);
    assert_eq!(
        c["last_name"], "Perez García",
        "the Clientify name is kept: {c}"
    );
    assert_eq!(
        c["status"], "client",
        "the client status reaches Clientify: {c}"
    );

    // One conflict entry, naming the fields and showing both values.
    let entries = conflicts(&env).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    let why = e.reason.clone().unwrap_or_default();
    assert!(why.contains("conflict at first match"), "{why}");
    assert!(why.contains("last_name"), "{why}");
    assert!(why.contains("first_match = \"newest\""), "{why}");
    assert_eq!(
        e.values.get("clientify.last_name").map(String::as_str),
        Some("Perez García"),
        "{e:?}"
    );
    assert_eq!(
        e.values.get("alegra.last_name").map(String::as_str),
        Some("Pérez"),
        "{e:?}"
    );

    // A second Full writes nothing and reports nothing again.
    let before = puente_e2e::writes(&env.sb.alegra) + puente_e2e::writes(&env.sb.clientify);
    let again = env.sync(Mode::Full).await;
    assert_eq!(again.entities["contact"].failed, 0, "{again:?}");
    let after = puente_e2e::writes(&env.sb.alegra) + puente_e2e::writes(&env.sb.clientify);
    assert_eq!(after, before, "{again:?}");
    assert_eq!(conflicts(&env).await.len(), 1);

    // The next edit of a kept field, on either side, flows across as usual (even from the
    // older side: it is the only change).
    env.sb.clientify.advance_clock(60);
    env.clientify_put(Kind::Contact, &cid, json!({"last_name": "Pérez Gil"}))
        .await;
    env.sync(Mode::Full).await;
    let a = env.alegra_get(&aid).await;
    assert_eq!(a["name"], "Ana Pérez Gil", "{a}");
    assert_eq!(conflicts(&env).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_match_newest_opt_in_lets_the_newer_record_win_but_never_demotes() {
    let env = TestEnv::start_with_toml(
        "first-match-newest",
        small(),
        &["contact"],
        "first_match = \"newest\"\n",
    )
    .await;
    let (cid, aid) = both_sides(&env).await;
    env.activate().await;
    let s = env.sync(Mode::Full).await;
    assert_eq!(s.entities["contact"].failed, 0, "{s:?}");
    let a = env.alegra_get(&aid).await;
    assert_eq!(a["name"], "Ana Perez García", "the newer name wins: {a}");
    assert!(
        a["type"].to_string().contains("client") && !a["type"].to_string().contains("lead"),
        "still a client: {a}"
    );
    let c = env.clientify_get(Kind::Contact, &cid).await;
    assert_eq!(c["status"], "client", "{c}");
    assert!(conflicts(&env).await.is_empty());
}

#[test]
fn first_match_unknown_mode_is_a_config_error_naming_the_key() {
    let toml = puente_e2e::config_toml(
        "http://127.0.0.1:9/v1",
        "http://127.0.0.1:9/api/v1",
        &small(),
        std::path::Path::new("/tmp/unused.sqlite"),
    ) + "first_match = \"oldest\"\n";
    let e = puente_runtime::Config::parse(&toml)
        .unwrap_err()
        .to_string();
    assert!(e.contains("first_match"), "{e}");
    assert!(e.contains("keep-both"), "{e}");
}
