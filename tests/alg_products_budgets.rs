//! ALG-7 (products) and ALG-8 (budgets) between Clientify and Alegra, end to end against the
//! sandboxes. Test names carry the requirement ids they prove.

use puente_core::Kind;
use puente_e2e::*;
use puente_runtime::Mode;
use puente_sandbox::SandboxConfig;
use puente_store::{Action, LogQuery};
use serde_json::{json, Value};

fn cfg() -> SandboxConfig {
    SandboxConfig {
        seed: 11,
        contacts: 12,
        companies: 3,
        shared_contacts: 4,
        shared_companies: 1,
        without_id_percent: 0,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

const ALL: &[&str] = &["contact", "company", "product", "budget"];

fn by_sku<'a>(rows: &'a [Value], sku: &str) -> Vec<&'a Value> {
    rows.iter()
        .filter(|v| v["sku"].as_str().unwrap_or("").eq_ignore_ascii_case(sku))
        .collect()
}

fn by_ref<'a>(rows: &'a [Value], r: &str) -> Vec<&'a Value> {
    rows.iter()
        .filter(|v| {
            v["reference"]
                .as_str()
                .unwrap_or("")
                .eq_ignore_ascii_case(r)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg7_full_sync_moves_products_with_reference_both_ways_and_skips_the_rest() {
    let env = TestEnv::start_entities("alg7full", cfg(), &["product"]).await;
    let s = env.sync(Mode::Full).await;
    let c = &s.entities["product"];
    // Alegra: 4 items with a reference (SIL-001, MES-002, LIB-004, cab-005), 2 without.
    // Clientify: CAB-005 (shared), LAM-010, PAP-011, and one without SKU.
    assert_eq!(c.created.get("clientify"), Some(&3), "{s:?}");
    assert_eq!(c.created.get("alegra"), Some(&2), "{s:?}");
    assert_eq!(
        c.skipped, 3,
        "2 Alegra items + 1 Clientify product without SKU"
    );

    let cl = env.clientify_all(Kind::Product).await;
    assert_eq!(cl.len(), 4 + 3);
    let sil = by_sku(&cl, "SIL-001");
    assert_eq!(sil.len(), 1);
    assert_eq!(sil[0]["name"], "Silla de oficina");
    assert_eq!(sil[0]["description"], "Ergonómica, negra");
    assert_eq!(sil[0]["price"], "120.00");
    assert_eq!(sil[0]["taxes"][0]["percentage"], "21.00");
    let lib = by_sku(&cl, "LIB-004");
    assert_eq!(
        lib[0]["taxes"][0]["percentage"], "4.00",
        "the 4 % tax stays with it"
    );
    assert_eq!(
        by_sku(&cl, "CAB-005").len(),
        1,
        "shared SKU linked, not duplicated"
    );

    let al = env.alegra_list("items").await;
    assert_eq!(al.len(), 6 + 2);
    let pap = by_ref(&al, "PAP-011");
    assert_eq!(pap.len(), 1);
    assert_eq!(pap[0]["price"][0]["price"], "4.50");
    assert_eq!(pap[0]["tax"][0]["id"], "2", "10 % is Alegra's tax 2");
    assert_eq!(pap[0]["tax"][0]["percentage"], "10.00");
    assert_eq!(by_ref(&al, "cab-005").len(), 1);
    assert!(
        by_ref(&al, "").len() == 2,
        "items without reference untouched"
    );

    // The shared pair: linked, and its differing name resolved once.
    let cab_cl = by_sku(&cl, "CAB-005")[0];
    let link = env
        .link_for(Kind::Product, "clientify", &cab_cl["id"].to_string())
        .await
        .expect("linked");
    assert_eq!(link.ids.get("alegra").map(String::as_str), Some("5"));

    // Skips are logged with the reason.
    let log = env
        .app
        .store
        .query(&LogQuery::new("test", 1000))
        .await
        .unwrap();
    let skipped: Vec<_> = log
        .iter()
        .filter(|e| e.kind == "product" && e.action == Action::Skipped)
        .collect();
    assert_eq!(skipped.len(), 3);
    assert!(skipped
        .iter()
        .all(|e| e.reason.as_deref().unwrap_or("").contains("no SKU")));

    // A re-run writes nothing (no echo).
    env.sb.clientify.reset_stats();
    env.sb.alegra.reset_stats();
    let again = env.sync(Mode::Full).await;
    assert_eq!(
        writes(&env.sb.clientify) + writes(&env.sb.alegra),
        0,
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg7_unknown_tax_fails_the_product_with_a_reason() {
    let env = TestEnv::start_entities("alg7tax", cfg(), &["product"]).await;
    let made = env
        .clientify_post(
            Kind::Product,
            json!({"sku": "ODD-7", "name": "Tasa rara", "price": 10,
                   "taxes": [{"name": "IGIC", "percentage": 7}]}),
        )
        .await;
    let s = run_all(&env).await;
    assert_eq!(s.entities["product"].failed, 1, "{s:?}");
    assert!(by_ref(&env.alegra_list("items").await, "ODD-7").is_empty());
    let log = env
        .app
        .store
        .query(&LogQuery::new("test", 1000))
        .await
        .unwrap();
    let failed = log
        .iter()
        .find(|e| {
            e.action == Action::Failed && e.external_id.as_deref() == Some(&made["id"].to_string())
        })
        .expect("failure logged");
    let why = failed.reason.clone().unwrap_or_default();
    assert!(why.contains("no Alegra tax has the rate 7%"), "{why}");
}

/// A Full run that may report per-record failures (`TestEnv::sync` asserts no run errors).
async fn run_all(env: &TestEnv) -> puente_runtime::Summary {
    puente_runtime::run(env.flow(), Mode::Full, false, &puente_runtime::NoProgress).await
}

/// An Alegra client with an identification that Clientify also has (a shared contact).
fn shared_alegra_client(env: &TestEnv) -> (String, String) {
    let cl_keys: std::collections::HashSet<_> = env
        .sb
        .world
        .clientify_contacts
        .iter()
        .filter_map(clientify_key)
        .collect();
    let v = env
        .sb
        .world
        .alegra_contacts
        .iter()
        .find(|v| {
            !alegra_types(v).contains(&"provider".to_string())
                && alegra_key(v).is_some_and(|k| cl_keys.contains(&k))
        })
        .expect("a shared person");
    (
        v["id"].as_str().unwrap().to_string(),
        alegra_key(v).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg8_alegra_budget_appears_in_clientify_as_alg_id_with_lines_and_total() {
    let env = TestEnv::start_entities("alg8a", cfg(), ALL).await;
    env.activate().await;
    let (client, nif) = shared_alegra_client(&env);
    let est = env
        .alegra_post(
            "estimates",
            json!({"client": {"id": client}, "date": "2026-11-20", "dueDate": "2026-12-20",
                   "observations": "Entrega en 2 semanas",
                   "items": [{"id": "1", "price": 100, "quantity": 2, "discount": 10, "tax": [{"id": "1"}]},
                             {"id": "4", "price": 18, "quantity": 1, "tax": [{"id": "3"}]}]}),
        )
        .await;
    let id = est["id"].as_str().unwrap().to_string();
    // 2 × 100 − 10 % = 180, + 21 % = 217.8; 18 + 4 % = 18.72 → 236.52
    assert_eq!(est["total"], 236.52);
    let s = env.sync(Mode::Full).await;
    let log = env
        .app
        .store
        .query(&LogQuery::new("test", 1000))
        .await
        .unwrap();
    let bad: Vec<_> = log
        .iter()
        .filter(|e| e.action == Action::Failed)
        .map(|e| (&e.kind, &e.reason))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(
        s.entities["budget"].created.get("clientify"),
        Some(&1),
        "{s:?}"
    );
    let budgets = env.clientify_all(Kind::Budget).await;
    assert_eq!(budgets.len(), 1);
    let b = &budgets[0];
    assert_eq!(b["code"], format!("ALG-{id}"));
    assert_eq!(b["total"], "236.52");
    assert_eq!(b["date"], "2026-11-20");
    assert_eq!(b["due_date"], "2026-12-20");
    assert_eq!(b["observations"], "Entrega en 2 semanas");
    assert_eq!(
        b["contact"]["taxpayer_identification_number"]
            .as_str()
            .map(key_of),
        Some(Some(nif))
    );
    let lines = b["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["sku"], "SIL-001");
    assert_eq!(lines[0]["quantity"], "2.00");
    assert_eq!(lines[0]["discount"], "10.00");
    assert_eq!(lines[0]["taxes"][0]["percentage"], "21.00");
    assert_eq!(lines[1]["sku"], "LIB-004");
    // The line's product is the Clientify product linked to Alegra item 1.
    let link = env
        .link_for(Kind::Product, "alegra", "1")
        .await
        .expect("item linked");
    assert_eq!(lines[0]["product"].to_string(), link.ids["clientify"]);

    // Re-run: nothing written anywhere (no echo).
    env.sb.clientify.reset_stats();
    env.sb.alegra.reset_stats();
    env.sync(Mode::Full).await;
    assert_eq!(writes(&env.sb.clientify) + writes(&env.sb.alegra), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg8_budget_contact_and_products_are_linked_not_duplicated() {
    // Only budgets in the flow: the contact and products must be made to exist by the
    // budget's own dependency path.
    let env = TestEnv::start_entities("alg8deps", cfg(), &["budget"]).await;
    env.activate().await;
    let (client, nif) = shared_alegra_client(&env);
    let contacts_before = env.clientify_all(Kind::Contact).await.len();
    let products_before = env.clientify_all(Kind::Product).await;
    let est = env
        .alegra_post(
            "estimates",
            json!({"client": {"id": client}, "date": "2026-11-21",
                   // cab-005 exists in Clientify as CAB-005; MES-002 does not.
                   "items": [{"id": "5", "price": 9.95, "quantity": 4, "tax": [{"id": "1"}]},
                             {"id": "2", "price": 450.5, "quantity": 1, "tax": [{"id": "1"}]}]}),
        )
        .await;
    let s = env.sync(Mode::Full).await;
    assert_eq!(
        s.entities["budget"].created.get("clientify"),
        Some(&1),
        "{s:?}"
    );
    assert_eq!(
        s.entities["product"].created.get("clientify"),
        Some(&1),
        "{s:?}"
    );

    let contacts = env.clientify_all(Kind::Contact).await;
    assert_eq!(
        contacts.len(),
        contacts_before,
        "the contact was linked, not duplicated"
    );
    let products = env.clientify_all(Kind::Product).await;
    assert_eq!(
        products.len(),
        products_before.len() + 1,
        "only MES-002 is new"
    );
    assert_eq!(by_sku(&products, "CAB-005").len(), 1);
    let cab_id = by_sku(&products_before, "CAB-005")[0]["id"].to_string();

    let b = &env.clientify_all(Kind::Budget).await[0];
    assert_eq!(b["code"], format!("ALG-{}", est["id"].as_str().unwrap()));
    let existing = contacts
        .iter()
        .find(|c| clientify_key(c).as_deref() == Some(nif.as_str()))
        .unwrap();
    assert_eq!(b["contact"]["id"], existing["id"]);
    assert_eq!(b["lines"][0]["product"].to_string(), cab_id);
    let link = env
        .link_for(Kind::Contact, "alegra", &client)
        .await
        .expect("contact linked");
    assert_eq!(link.ids["clientify"], existing["id"].to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg8_clientify_budget_reaches_alegra() {
    let env = TestEnv::start_entities("alg8c", cfg(), ALL).await;
    env.activate().await;
    let contact = env
        .sb
        .world
        .clientify_contacts
        .iter()
        .find(|c| clientify_key(c).is_some())
        .unwrap()
        .clone();
    let made = env
        .clientify_post(
            Kind::Budget,
            json!({"contact": contact["id"], "date": "2026-11-22", "observations": "Desde el CRM",
                   "total": "79.20",
                   "lines": [{"product": 502, "sku": "LAM-010", "name": "Lámpara de pie",
                              "quantity": 1, "price": "65.00", "discount": 0,
                              "taxes": [{"name": "IVA 21%", "percentage": 21}]},
                             {"product": 501, "sku": "CAB-005", "name": "Cable HDMI 2m",
                              "quantity": 1, "price": "0.45", "discount": 0,
                              "taxes": [{"name": "IVA 21%", "percentage": 21}]}]}),
        )
        .await;
    let s = env.sync(Mode::Full).await;
    assert_eq!(
        s.entities["budget"].created.get("alegra"),
        Some(&1),
        "{s:?}"
    );
    let ests = env.alegra_list("estimates").await;
    assert_eq!(ests.len(), 1);
    let e = &ests[0];
    // Alegra computes the total itself, rounding per line: 78.65 + 0.54 = 79.19.
    assert_eq!(e["total"], 79.19);
    let lines = e["items"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["reference"], "LAM-010");
    assert_eq!(lines[1]["id"], "5", "the linked Alegra item, not a new one");
    assert_eq!(e["observations"], "Desde el CRM");
    assert_eq!(
        e["client"]["identification"].as_str().and_then(key_of),
        clientify_key(&contact)
    );
    // The code Alegra minted is written back to Clientify.
    let b = env
        .clientify_get(Kind::Budget, &made["id"].to_string())
        .await;
    assert_eq!(b["code"], format!("ALG-{}", e["id"].as_str().unwrap()));
    // No item duplicated: LAM-010 created once, cab-005 reused.
    let items = env.alegra_list("items").await;
    assert_eq!(by_ref(&items, "LAM-010").len(), 1);
    assert_eq!(by_ref(&items, "CAB-005").len(), 1);

    // Re-runs settle: the second may carry Alegra's computed total back; the third writes 0.
    env.sync(Mode::Full).await;
    env.sb.clientify.reset_stats();
    env.sb.alegra.reset_stats();
    env.sync(Mode::Full).await;
    assert_eq!(writes(&env.sb.clientify) + writes(&env.sb.alegra), 0);
}
