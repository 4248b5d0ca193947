//! Issue 18: Alegra's Spain identification types as its documentation says today (A12,
//! Verifactu): a DNI is written as type `DNI`, an NIE and a company's CIF as `NIF` (the
//! types `NIE` and `CIF` no longer exist, and the sandbox refuses them as Alegra does); a
//! `NIF` needs city and province, so a record without a province fails with a reason naming
//! it; a contact Alegra identifies by another type (a foreign VAT number, `NIF-IVA`) is
//! skipped with a reason, never matched by a number that is not a Spanish tax id.

use puente_core::Kind;
use puente_e2e::TestEnv;
use puente_runtime::Mode;
use puente_sandbox::SandboxConfig;
use puente_store::{Action, LogQuery};
use serde_json::{json, Value};

fn small() -> SandboxConfig {
    SandboxConfig {
        contacts: 2,
        companies: 1,
        shared_contacts: 0,
        shared_companies: 0,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

fn address(state: &str) -> Value {
    json!([{"type": 1, "street": "Rúa Nova 1", "city": "Lugo", "state": state,
            "postal_code": "27001", "country": "España"}])
}

async fn entries(env: &TestEnv, action: Action) -> Vec<puente_store::ActivityEntry> {
    env.app
        .store
        .query(&LogQuery {
            tenant: "test".into(),
            action: Some(action),
            limit: 1000,
            ..LogQuery::default()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg2_spanish_tax_ids_are_written_with_alegras_documented_types() {
    let env = TestEnv::start_entities("alg-ident", small(), &["contact", "company"]).await;
    // A DNI, an NIE and a CIF in Clientify, each with a full address; a CIF without province.
    for (first, tax) in [("Dora", "12345678Z"), ("Nils", "X1234567L")] {
        env.clientify_post(
            Kind::Contact,
            json!({"first_name": first, "last_name": "Prueba", "status": "client",
                   "taxpayer_identification_number": tax, "addresses": address("Lugo")}),
        )
        .await;
    }
    env.clientify_post(
        Kind::Company,
        json!({"name": "Talleres Lugo SL", "taxpayer_identification_number": "B27123454",
               "addresses": address("Lugo")}),
    )
    .await;
    let sin = env
        .clientify_post(
            Kind::Company,
            json!({"name": "Sin Provincia SL", "taxpayer_identification_number": "B12345674",
                   "addresses": address("")}),
        )
        .await;
    // A contact made in Alegra's UI with a French VAT number.
    let vat = env
        .alegra_post(
            "contacts",
            json!({"name": "Société Exemple", "type": ["client"],
                   "identificationObject": {"type": "NIF-IVA", "number": "FR12345678901"},
                   "address": {"address": "1 rue de la Paix", "city": "Paris", "country": "Francia"}}),
        )
        .await;
    env.activate().await;
    let s = env.sync(Mode::Full).await;

    let alegra = env.alegra_all().await;
    let type_of = |tax: &str| -> String {
        let a = alegra
            .iter()
            .find(|a| a["identification"] == tax)
            .unwrap_or_else(|| panic!("{tax} in Alegra"));
        a["identificationObject"]["type"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(type_of("12345678Z"), "DNI");
    assert_eq!(type_of("X1234567L"), "NIF");
    assert_eq!(type_of("B27123454"), "NIF");
    assert!(
        !alegra.iter().any(|a| a["identification"] == "B12345674"),
        "a NIF without province is not written"
    );

    // The company without a province failed, naming what NIF requires and what is missing;
    // a create that failed is not counted as created.
    assert_eq!(s.entities["company"].failed, 1, "{s:?}");
    assert_eq!(
        s.entities["company"].created.get("alegra"),
        Some(&2),
        "{s:?}"
    );
    let failed = entries(&env, Action::Failed).await;
    let why = failed
        .iter()
        .find(|e| e.external_id.as_deref() == Some(&sin["id"].to_string()))
        .and_then(|e| e.reason.clone())
        .expect("the failure is logged");
    assert!(
        why.contains("type NIF") && why.contains("no province"),
        "{why}"
    );

    // The NIF-IVA contact is skipped with the reason; nothing was made of it in Clientify.
    let skipped = entries(&env, Action::Skipped).await;
    let why = skipped
        .iter()
        .find(|e| e.external_id.as_deref() == vat["id"].as_str())
        .and_then(|e| e.reason.clone())
        .expect("the skip is logged");
    assert!(
        why.contains("NIF-IVA") && why.contains("not synced"),
        "{why}"
    );
    let clientify = env.clientify_all(Kind::Contact).await;
    assert!(
        !clientify
            .iter()
            .any(|c| c["first_name"].as_str() == Some("Société")),
        "the VAT contact was not copied"
    );

    // Alegra as documented refuses the old types, in its error shape.
    let r = reqwest::Client::new()
        .post(format!("{}/contacts", env.sb.alegra.base_url))
        .basic_auth(&env.cfg.alegra_email, Some(&env.cfg.alegra_token))
        .json(&json!({"name": "Viejo", "identification": {"type": "NIE", "number": "X1234567L"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 400);
    assert!(
        body["message"].as_str().unwrap().contains("'NIE'"),
        "{body}"
    );

    // A second Full writes nothing and fails the same record again, for the same reason.
    let again = env.sync(Mode::Full).await;
    let writes: u64 = again
        .entities
        .values()
        .map(|c| c.created_total() + c.updated_total())
        .sum();
    assert_eq!(writes, 0, "{again:?}");
}
