//! Issue 17, defect 2: when the other side holds two or more unlinked records with a
//! record's key, Puente cannot tell which is its counterpart. Full sync and the webhook
//! path write to none of them, log each as `ambiguous` with every candidate's id, and
//! `puente link` (here `puente_runtime::pin::pin`) settles it: the next run syncs the pinned
//! pair and the leftover record is a duplicate, not a second record in the other system.

use puente_core::Kind;
use puente_e2e::{alegra_key, clientify_key, TestEnv};
use puente_runtime::events::work_once;
use puente_runtime::serve::accept_webhook;
use puente_runtime::Mode;
use puente_sandbox::SandboxConfig;
use puente_store::{Action, ActivityEntry, LogQuery};
use serde_json::{json, Value};
use std::time::Duration;

const DNI: &str = "12345678Z";

fn small() -> SandboxConfig {
    SandboxConfig {
        contacts: 3,
        companies: 1,
        shared_contacts: 1,
        shared_companies: 0,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

async fn ambiguous(env: &TestEnv) -> Vec<ActivityEntry> {
    env.app
        .store
        .query(&LogQuery {
            tenant: "test".into(),
            action: Some(Action::Ambiguous),
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap()
}

fn address() -> Value {
    json!([{"type": 1, "street": "Rúa Nova 1", "city": "Lugo", "state": "Lugo", "postal_code": "27001", "country": "España"}])
}

fn with_dni(rows: &[Value], key: impl Fn(&Value) -> Option<String>) -> Vec<&Value> {
    rows.iter()
        .filter(|r| key(r).as_deref() == Some(DNI))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_match_in_full_sync_writes_to_none_and_a_pinned_pair_syncs() {
    let env = TestEnv::start_entities("ambiguous-full", small(), &["contact"]).await;
    // Two Clientify contacts with one tax id (a duplicate someone made), one Alegra contact.
    let c1 = env
        .clientify_post(
            Kind::Contact,
            json!({"first_name": "Ana", "last_name": "Uno", "status": "client",
                   "taxpayer_identification_number": DNI, "addresses": address()}),
        )
        .await;
    let c2 = env
        .clientify_post(
            Kind::Contact,
            json!({"first_name": "Ana", "last_name": "Dos", "status": "cold-lead",
                   "taxpayer_identification_number": "12.345.678-z", "addresses": address()}),
        )
        .await;
    let a = env
        .alegra_post(
            "contacts",
            json!({"name": "Ana Alegra", "identification": DNI, "type": ["client"]}),
        )
        .await;
    env.activate().await;
    let s = env.sync(Mode::Full).await;
    assert_eq!(s.entities["contact"].failed, 0, "{s:?}");

    // Nothing written to any of the three; each reported once, naming the candidates.
    let alegra = env.alegra_all().await;
    let ours = with_dni(&alegra, alegra_key);
    assert_eq!(ours.len(), 1, "no second Alegra contact");
    assert_eq!(
        ours[0]["name"], "Ana Alegra",
        "the Alegra contact is untouched"
    );
    let clientify = env.clientify_all(Kind::Contact).await;
    for c in with_dni(&clientify, clientify_key) {
        assert!(
            !c["tags"].to_string().contains("alegra"),
            "no marks written to {c}"
        );
    }
    let entries = ambiguous(&env).await;
    assert_eq!(entries.len(), 3, "{entries:?}");
    let reason_of = |sys: &str, id: &str| -> String {
        entries
            .iter()
            .find(|e| e.system == sys && e.external_id.as_deref() == Some(id))
            .and_then(|e| e.reason.clone())
            .unwrap_or_else(|| panic!("no entry for {sys}:{id}: {entries:?}"))
    };
    let (c1id, c2id, aid) = (
        c1["id"].to_string(),
        c2["id"].to_string(),
        a["id"].as_str().unwrap().to_string(),
    );
    let why = reason_of("alegra", &aid);
    assert!(
        why.contains(&format!("clientify:{c1id}")) && why.contains(&format!("clientify:{c2id}")),
        "{why}"
    );
    assert!(why.contains("puente link"), "{why}");
    assert!(reason_of("clientify", &c1id).contains(&format!("alegra:{aid}")));
    assert!(reason_of("clientify", &c2id).contains(&format!("alegra:{aid}")));
    assert!(env
        .link_for(Kind::Contact, "clientify", &c1id)
        .await
        .is_none());

    // A second Full still writes nothing to them, and does not report them again (nothing
    // changed); it counts them.
    let again = env.sync(Mode::Full).await;
    assert_eq!(ambiguous(&env).await.len(), 3);
    assert_eq!(again.entities["contact"].skips_repeated, 3, "{again:?}");
    assert_eq!(
        with_dni(&env.alegra_all().await, alegra_key).len(),
        1,
        "{again:?}"
    );

    // Pinned by hand, the pair syncs; the other Clientify contact is a duplicate.
    let done = puente_runtime::pin::pin(
        &env.app,
        ("clientify", &c1id),
        ("alegra", &aid),
        Kind::Contact,
        None,
    )
    .await
    .unwrap();
    assert!(done.contains("linked"), "{done}");
    let again = puente_runtime::pin::pin(
        &env.app,
        ("alegra", &aid),
        ("clientify", &c1id),
        Kind::Contact,
        None,
    )
    .await
    .unwrap();
    assert!(again.contains("already linked"), "{again}");
    let e = puente_runtime::pin::pin(
        &env.app,
        ("clientify", &c2id),
        ("alegra", &aid),
        Kind::Contact,
        None,
    )
    .await
    .unwrap_err();
    assert!(e.contains("already linked"), "{e}");
    let e = puente_runtime::pin::pin(
        &env.app,
        ("clientify", "../companies/1"),
        ("alegra", &aid),
        Kind::Contact,
        None,
    )
    .await
    .unwrap_err();
    assert!(e.contains("clientify"), "{e}");

    let s = env.sync(Mode::Full).await;
    assert_eq!(s.entities["contact"].failed, 0, "{s:?}");
    let link = env
        .link_for(Kind::Contact, "clientify", &c1id)
        .await
        .expect("the pinned link");
    assert_eq!(link.ids.get("alegra"), Some(&aid));
    assert_eq!(
        link.key.as_deref(),
        Some(DNI),
        "the pair's key, once synced"
    );
    assert_eq!(
        with_dni(&env.alegra_all().await, alegra_key).len(),
        1,
        "the leftover Clientify contact made no second Alegra contact"
    );
    assert!(env
        .link_for(Kind::Contact, "clientify", &c2id)
        .await
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_match_on_the_webhook_path_writes_to_none() {
    let env = TestEnv::start_entities("ambiguous-hook", small(), &["contact"]).await;
    env.activate().await;
    env.sync(Mode::Full).await;
    // Two Alegra contacts whose tax ids are the same once normalised, made after the Full.
    let a1 = env
        .alegra_post(
            "contacts",
            json!({"name": "Beto Uno", "identification": DNI, "type": ["client"]}),
        )
        .await;
    let a2 = env
        .alegra_post(
            "contacts",
            json!({"name": "Beto Dos", "identification": "12345678z", "type": ["client"]}),
        )
        .await;
    let c = env
        .clientify_post(
            Kind::Contact,
            json!({"first_name": "Beto", "last_name": "Clientify", "status": "client",
                   "taxpayer_identification_number": DNI, "addresses": address()}),
        )
        .await;
    let body = json!({"event": "contact.saved", "contact": {"id": c["id"], "modified": "now"}});
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
    for _ in 0..20 {
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
    let names: Vec<String> = with_dni(&env.alegra_all().await, alegra_key)
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        vec!["Beto Uno", "Beto Dos"],
        "neither overwritten, none added"
    );
    let entries = ambiguous(&env).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let why = entries[0].reason.clone().unwrap();
    for a in [&a1, &a2] {
        assert!(
            why.contains(&format!("alegra:{}", a["id"].as_str().unwrap())),
            "{why}"
        );
    }
    assert!(env
        .link_for(Kind::Contact, "clientify", &c["id"].to_string())
        .await
        .is_none());
}

/// Issue 17, defect 8: an ineligible record is logged once per reason, not on every run; a
/// change of the record or of the reason is logged again; repeats are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_log_growth_a_skip_is_logged_when_the_record_or_the_reason_changes() {
    let env = TestEnv::start_entities("skip-growth", small(), &["contact"]).await;
    let c = env
        .clientify_post(
            Kind::Contact,
            json!({"first_name": "Sin", "last_name": "Documento", "status": "client"}),
        )
        .await;
    let id = c["id"].to_string();
    let entries_of = |env: &TestEnv| {
        let id = id.clone();
        let store = env.app.store.clone();
        async move {
            store
                .query(&LogQuery {
                    tenant: "test".into(),
                    system: Some("clientify".into()),
                    external_id: Some(id),
                    limit: 100,
                    ..LogQuery::default()
                })
                .await
                .unwrap()
        }
    };
    env.activate().await;
    env.sync(Mode::Full).await;
    let first = entries_of(&env).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("no identification"));
    for _ in 0..3 {
        let s = env.sync(Mode::Full).await;
        assert!(s.entities["contact"].skips_repeated >= 1, "{s:?}");
        assert!(s.render().contains("not logged again"), "{}", s.render());
    }
    assert_eq!(
        entries_of(&env).await.len(),
        1,
        "three more Fulls logged nothing new"
    );

    // The record changes (still without identification): logged again, once.
    env.sb.clientify.advance_clock(5);
    env.clientify_put(Kind::Contact, &id, json!({"first_name": "Sigue"}))
        .await;
    env.sync(Mode::Modified).await;
    env.sync(Mode::Full).await;
    assert_eq!(entries_of(&env).await.len(), 2);
    // The reason changes (an invalid identification): logged again.
    env.sb.clientify.advance_clock(5);
    env.clientify_put(
        Kind::Contact,
        &id,
        json!({"taxpayer_identification_number": "12345678A"}),
    )
    .await;
    env.sync(Mode::Full).await;
    let all = entries_of(&env).await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(
        all[0].reason.as_deref().unwrap().contains("expected 'Z'"),
        "{all:?}"
    );
}
