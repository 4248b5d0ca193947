//! Issue 12: one tenant running Clientify ⇄ Alegra and Clientify ⇄ Odoo on shared Clientify
//! data (as `puente.example.toml` suggests). Links belong to their flow: the second flow
//! never finds the first flow's link of a Clientify record, so Full, Modified and webhooks,
//! in either order, make no duplicate on any side, each flow keeps links of its own two
//! connections only, and a second Full of each flow writes nothing.

use puente_connectors::odoo::{Domain, OdooClient, OdooSettings};
use puente_core::Kind;
use puente_e2e::{
    alegra_duplicate_keys, clientify_duplicate_keys, key_of, temp_path, test_retry, TestEnv,
};
use puente_runtime::events::work_once;
use puente_runtime::serve::accept_webhook;
use puente_runtime::{run, App, Config, Mode, NoProgress, Summary};
use puente_sandbox::{start_odoo, OdooConfig, OdooSeed, Sandbox, SandboxConfig};
use puente_store::sqlite::SqliteStore;
use puente_store::{Scope, Store};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "s3cret-hook";
const ALEGRA_FLOW: &str = "clientify-alegra";
const ODOO_FLOW: &str = "clientify-odoo";

/// Both flows over one Clientify sandbox, an Alegra sandbox and an Odoo sandbox whose
/// partners share tax ids with Clientify records (some of which Alegra has too).
struct Multi {
    env: TestEnv,
    odoo: Sandbox,
    oc: OdooClient,
    app: App,
}

async fn start(name: &str) -> Multi {
    let cfg = SandboxConfig {
        contacts: 24,
        companies: 8,
        shared_contacts: 8,
        shared_companies: 3,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let env = TestEnv::start_entities(name, cfg, &["contact", "company"]).await;
    // Odoo holds some Clientify persons and companies under the same tax ids: among them
    // the first Clientify records, which the world also shares with Alegra.
    let with_id = |records: &[Value]| -> Vec<Value> {
        records
            .iter()
            .filter(|r| {
                key_of(r["taxpayer_identification_number"].as_str().unwrap_or("")).is_some()
            })
            .cloned()
            .collect()
    };
    let mut partners = Vec::new();
    for c in with_id(&env.sb.world.clientify_contacts).iter().take(10) {
        partners.push(json!({
            "name": format!("{} {}", c["first_name"].as_str().unwrap_or(""), c["last_name"].as_str().unwrap_or("")).trim(),
            "is_company": false,
            "ref": c["taxpayer_identification_number"],
            "city": "Lugo",
        }));
    }
    for c in with_id(&env.sb.world.clientify_companies).iter().take(4) {
        partners.push(json!({"name": c["name"], "is_company": true,
                             "ref": c["taxpayer_identification_number"], "city": "Vigo"}));
    }
    // And some of its own.
    partners.extend(
        OdooSeed::generate(9, 2, 3, 0, 0)
            .partners
            .into_iter()
            .map(|mut p| {
                p.as_object_mut().unwrap().remove("id");
                p.as_object_mut().unwrap().remove("parent_id");
                p
            }),
    );
    let ocfg = OdooConfig {
        version: 17,
        ..OdooConfig::default()
    };
    let odoo = start_odoo(
        &ocfg,
        None,
        OdooSeed {
            partners,
            ..OdooSeed::default()
        },
    )
    .await
    .expect("odoo sandbox starts");
    let toml = format!(
        r#"
tenant = "test"
[store]
path = "{store}"
[server]
webhook_secret = "{SECRET}"
[connections.clientify]
type = "clientify"
base_url = "{cu}"
api_key = "{ck}"
[connections.alegra]
type = "alegra"
base_url = "{au}"
email = "{ae}"
token = "{at}"
[connections.odoo]
type = "odoo"
url = "{ou}"
database = "{odb}"
user = "{ol}"
api_key = "{ok}"
[[flows]]
name = "{ALEGRA_FLOW}"
a = "clientify"
b = "alegra"
entities = ["contact", "company"]
prefer_on_tie = "alegra"
[[flows]]
name = "{ODOO_FLOW}"
a = "clientify"
b = "odoo"
entities = ["contact", "company"]
prefer_on_tie = "odoo"
"#,
        store = temp_path(name).display(),
        cu = env.sb.clientify.base_url,
        ck = env.cfg.clientify_token,
        au = env.sb.alegra.base_url,
        ae = env.cfg.alegra_email,
        at = env.cfg.alegra_token,
        ou = odoo.base_url,
        odb = ocfg.database,
        ol = ocfg.login,
        ok = ocfg.api_key,
    );
    let config = Config::parse(&toml).expect("config");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&config.store.path).expect("store opens"));
    let app = App::build(config, store, test_retry()).expect("app builds");
    for f in &app.flows {
        puente_runtime::activate(f).await.expect("activates");
    }
    let oc = OdooClient::new(OdooSettings {
        url: odoo.base_url.clone(),
        database: ocfg.database.clone(),
        login: ocfg.login.clone(),
        api_key: ocfg.api_key.clone(),
        retry: test_retry(),
    });
    Multi { env, odoo, oc, app }
}

impl Drop for Multi {
    fn drop(&mut self) {
        self.odoo.shutdown();
    }
}

impl Multi {
    async fn sync(&self, flow: &str, mode: Mode) -> Summary {
        let s = run(self.app.flow(flow).expect("flow"), mode, false, &NoProgress).await;
        assert!(s.errors.is_empty(), "{flow} {mode:?}: {:?}", s.errors);
        s
    }

    /// Both flows, in the order given.
    async fn both(&self, order: [&str; 2], mode: Mode) -> Vec<Summary> {
        let mut out = Vec::new();
        for f in order {
            out.push(self.sync(f, mode).await);
        }
        out
    }

    async fn odoo_partners(&self) -> Vec<Value> {
        self.oc
            .search_read(
                "res.partner",
                &Domain::new(),
                &["id", "name", "ref", "is_company"],
                None,
                0,
                None,
            )
            .await
            .expect("odoo search_read")
            .into_iter()
            .map(Value::Object)
            .collect()
    }

    /// Tax ids held by more than one record, per side and kind: all must be empty.
    async fn duplicates(&self) -> Vec<String> {
        let mut out = Vec::new();
        for kind in [Kind::Contact, Kind::Company] {
            for k in clientify_duplicate_keys(&self.env.clientify_all(kind).await) {
                out.push(format!("clientify {kind} {k}"));
            }
        }
        for k in alegra_duplicate_keys(&self.env.alegra_all().await) {
            out.push(format!("alegra {k}"));
        }
        let partners = self.odoo_partners().await;
        for company in [false, true] {
            let of_kind: Vec<Value> = partners
                .iter()
                .filter(|p| p["is_company"].as_bool() == Some(company))
                .cloned()
                .collect();
            for k in
                puente_e2e::duplicate_keys(&of_kind, |p| key_of(p["ref"].as_str().unwrap_or("")))
            {
                out.push(format!("odoo company={company} {k}"));
            }
        }
        out
    }

    /// Each flow's links hold its own two connections' ids, and nothing of the other flow.
    async fn assert_links_are_their_flows_own(&self) {
        for (flow, own, other) in [
            (ALEGRA_FLOW, "alegra", "odoo"),
            (ODOO_FLOW, "odoo", "alegra"),
        ] {
            for kind in ["contact", "company"] {
                let links = self
                    .app
                    .store
                    .links(Scope::new("test", flow, kind))
                    .await
                    .unwrap();
                assert!(!links.is_empty(), "{flow} has {kind} links");
                for l in links {
                    assert_eq!(l.flow, flow);
                    let systems: Vec<&str> = l.ids.keys().map(String::as_str).collect();
                    assert_eq!(systems, sorted(["clientify", own]), "{flow} link {l:?}");
                    assert!(!l.record_hashes.contains_key(other), "{l:?}");
                }
            }
        }
    }
}

fn sorted(mut v: [&'static str; 2]) -> Vec<&'static str> {
    v.sort();
    v.to_vec()
}

/// What a run wrote: created plus updated records, over every entity.
fn writes(s: &Summary) -> u64 {
    s.entities
        .values()
        .map(|c| c.created_total() + c.updated_total())
        .sum()
}

async fn multi_flow_scenario(name: &str, order: [&str; 2]) {
    let m = start(name).await;
    let first = m.both(order, Mode::Full).await;
    assert!(
        first.iter().all(|s| writes(s) > 0),
        "each flow synced something"
    );
    assert_eq!(m.duplicates().await, Vec::<String>::new(), "after Full");
    m.assert_links_are_their_flows_own().await;

    // A shared Clientify contact (present in Alegra and in Odoo too) changes, an Alegra
    // contact changes, and an Odoo partner changes; then Modified in the same order.
    let shared_dni = m.env.sb.world.clientify_contacts[0]["taxpayer_identification_number"]
        .as_str()
        .unwrap()
        .to_string();
    let c = m
        .env
        .clientify_all(Kind::Contact)
        .await
        .into_iter()
        .find(|c| c["taxpayer_identification_number"].as_str() == Some(&shared_dni))
        .expect("shared contact in Clientify");
    let cid = c["id"].to_string();
    m.env
        .clientify_put(Kind::Contact, &cid, json!({"last_name": "Modificada"}))
        .await;
    let a = m
        .env
        .alegra_all()
        .await
        .into_iter()
        .find(|a| key_of(a["identification"].as_str().unwrap_or("")).is_some())
        .unwrap();
    m.env
        .alegra_put(
            a["id"].as_str().unwrap(),
            json!({"observations": "editado"}),
        )
        .await;
    let p = m
        .odoo_partners()
        .await
        .into_iter()
        .find(|p| p["ref"].as_str() == Some(&shared_dni))
        .expect("shared partner in Odoo");
    m.oc.write(
        "res.partner",
        &[p["id"].as_i64().unwrap()],
        json!({"phone": "+34 600 111 222"}),
    )
    .await
    .unwrap();
    m.env.sb.clientify.advance_clock(2);
    m.both(order, Mode::Modified).await;
    assert_eq!(m.duplicates().await, Vec::<String>::new(), "after Modified");

    // A webhook for the shared contact goes through both flows.
    m.env
        .clientify_put(Kind::Contact, &cid, json!({"first_name": "Webhook"}))
        .await;
    let body = json!({"event": "contact.saved", "contact": {"id": c["id"], "modified": "later"}});
    let (status, v) = accept_webhook(
        &m.app,
        Some(SECRET),
        "test",
        "clientify",
        SECRET,
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    for _ in 0..20 {
        work_once(&m.app, m.app.store.as_ref(), 10, Duration::from_secs(30)).await;
        if m.app.store.queue_depth().await.unwrap().0 == 0 {
            break;
        }
    }
    assert_eq!(m.app.store.queue_depth().await.unwrap(), (0, 0));
    assert_eq!(m.duplicates().await, Vec::<String>::new(), "after webhooks");
    m.assert_links_are_their_flows_own().await;
    // The webhook's change reached both other sides.
    let alegra_has = m.env.alegra_all().await.into_iter().any(|a| {
        key_of(a["identification"].as_str().unwrap_or("")).as_deref() == Some(shared_dni.as_str())
            && a["name"].to_string().contains("Webhook")
    });
    assert!(alegra_has, "the webhook's change reached Alegra");
    let odoo_has = m.odoo_partners().await.iter().any(|p| {
        p["ref"].as_str() == Some(&shared_dni) && p["name"].to_string().contains("Webhook")
    });
    assert!(odoo_has, "the webhook's change reached Odoo");

    // A second Full of each flow writes nothing.
    for s in m.both(order, Mode::Full).await {
        assert_eq!(
            writes(&s),
            0,
            "second Full of {} wrote: {:?}",
            s.flow,
            s.entities
        );
        // The only failures: Odoo persons with an NIE copied to Clientify without a
        // province (ODO-2 syncs no state for persons), which Alegra's identification type
        // NIF cannot take without one (issue 18, A12); each logged with that reason.
        let failed: u64 = s.entities.values().map(|c| c.failed).sum();
        let entries = m
            .app
            .store
            .query(&puente_store::LogQuery {
                tenant: "test".into(),
                run_id: Some(s.run_id.clone()),
                action: Some(puente_store::Action::Failed),
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(entries.len() as u64, failed, "{}: {:?}", s.flow, s.entities);
        for e in &entries {
            let why = e.reason.as_deref().unwrap_or("");
            assert!(
                s.flow == ALEGRA_FLOW && why.contains("type NIF requires city and province"),
                "{}: {e:?}",
                s.flow
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_flow_alegra_then_odoo_on_shared_clientify_data_never_duplicates() {
    multi_flow_scenario("multi-ao", [ALEGRA_FLOW, ODOO_FLOW]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_flow_odoo_then_alegra_on_shared_clientify_data_never_duplicates() {
    multi_flow_scenario("multi-oa", [ODOO_FLOW, ALEGRA_FLOW]).await;
}

/// Every contact of an Alegra account at `base_url`.
async fn alegra_contacts_at(base_url: &str, cfg: &SandboxConfig) -> Vec<Value> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for start in (0..).step_by(30) {
        let rows: Vec<Value> = http
            .get(format!("{base_url}/contacts"))
            .query(&[("start", start.to_string()), ("limit", "30".into())])
            .basic_auth(&cfg.alegra_email, Some(&cfg.alegra_token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let n = rows.len();
        out.extend(rows);
        if n < 30 {
            break;
        }
    }
    out
}

/// Issue 12: two connections of one vendor in one tenant (two Alegra accounts, say the
/// Spanish and the Colombian company's books), each with a flow from the same Clientify.
/// Identity is the connection's name, not the vendor's: each flow's links hold its own
/// account's ids, neither account gets the other's records twice, webhooks reach both,
/// and a second Full of each writes nothing. Sharing the preset's back-reference field
/// would make the flows overwrite each other's ids, so that is a config error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_flow_two_connections_of_one_vendor_keep_their_links_apart() {
    let cfg = SandboxConfig {
        contacts: 10,
        companies: 4,
        shared_contacts: 4,
        shared_companies: 1,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let env = TestEnv::start_entities("two-alegras", cfg.clone(), &["contact"]).await;
    // The second account starts with two of the first account's people (same tax ids).
    let second = puente_sandbox::start_alegra(
        &cfg,
        None,
        env.sb
            .world
            .alegra_contacts
            .iter()
            .take(2)
            .cloned()
            .collect(),
    )
    .await
    .expect("second alegra starts");
    let toml = |second_field: &str| {
        format!(
            r#"
tenant = "test"
[store]
path = "{store}"
[server]
webhook_secret = "{SECRET}"
[connections.crm]
type = "clientify"
base_url = "{cu}"
api_key = "{ck}"
[connections.books_es]
type = "alegra"
base_url = "{au}"
email = "{ae}"
token = "{at}"
[connections.books_co]
type = "alegra"
base_url = "{bu}"
email = "{ae}"
token = "{at}"
[[flows]]
name = "crm-es"
a = "crm"
b = "books_es"
entities = ["contact"]
[[flows]]
name = "crm-co"
a = "crm"
b = "books_co"
entities = ["contact"]
{second_field}
"#,
            store = temp_path("two-alegras").display(),
            cu = env.sb.clientify.base_url,
            ck = env.cfg.clientify_token,
            au = env.sb.alegra.base_url,
            bu = second.base_url,
            ae = env.cfg.alegra_email,
            at = env.cfg.alegra_token,
        )
    };
    let e = Config::parse(&toml("")).unwrap_err();
    assert_eq!(e.key, "flows[1].back_reference.crm.field", "{e}");
    assert!(e.problem.contains("crm-es"), "{e}");

    let config = Config::parse(&toml(
        "[flows.back_reference.crm]\nfield = \"in_alegra_co\"",
    ))
    .expect("config");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&config.store.path).expect("store opens"));
    let app = App::build(config, store, test_retry()).expect("app builds");
    for f in &app.flows {
        puente_runtime::activate(f).await.expect("activates");
    }
    let sync = |flow: &'static str, mode: Mode| {
        let app = &app;
        async move {
            let s = run(app.flow(flow).expect("flow"), mode, false, &NoProgress).await;
            assert!(s.errors.is_empty(), "{flow}: {:?}", s.errors);
            s
        }
    };
    sync("crm-es", Mode::Full).await;
    sync("crm-co", Mode::Full).await;

    let es = env.alegra_all().await;
    let co = alegra_contacts_at(&second.base_url, &cfg).await;
    assert_eq!(alegra_duplicate_keys(&es), Vec::<String>::new(), "books_es");
    assert_eq!(alegra_duplicate_keys(&co), Vec::<String>::new(), "books_co");
    assert_eq!(
        clientify_duplicate_keys(&env.clientify_all(Kind::Contact).await),
        Vec::<String>::new()
    );
    // Each Clientify contact with a tax id is in both accounts, under each account's id.
    let ids_of = |rows: &[Value]| -> std::collections::BTreeMap<String, String> {
        rows.iter()
            .filter_map(|a| puente_e2e::alegra_key(a).map(|k| (k, a["id"].to_string())))
            .collect()
    };
    let (es_ids, co_ids) = (ids_of(&es), ids_of(&co));
    for (flow, own, ids) in [
        ("crm-es", "books_es", &es_ids),
        ("crm-co", "books_co", &co_ids),
    ] {
        let links = app
            .store
            .links(Scope::new("test", flow, "contact"))
            .await
            .unwrap();
        assert!(links.len() >= 4, "{flow}: {} links", links.len());
        for l in &links {
            let systems: Vec<&str> = l.ids.keys().map(String::as_str).collect();
            assert_eq!(systems, sorted(["crm", own]), "{flow} {l:?}");
            let key = l.keys().into_iter().next().expect("a key");
            let key = key
                .split_once(':')
                .map(|(_, k)| k)
                .unwrap_or(key)
                .to_string();
            assert_eq!(
                Some(l.ids[own].trim_matches('"')),
                ids.get(&key).map(|s| s.trim_matches('"')),
                "{flow}: the link holds {own}'s own id for {key}"
            );
        }
    }
    // Each flow keeps its counterpart's id in its own Clientify field.
    let contacts = env.clientify_all(Kind::Contact).await;
    let field = |c: &Value, name: &str| -> Option<String> {
        c["custom_fields"].as_array()?.iter().find_map(|f| {
            (f["field"] == name).then(|| f["value"].as_str().unwrap_or("").to_string())
        })
    };
    let both = contacts
        .iter()
        .filter(|c| field(c, "in_alegra").is_some() && field(c, "in_alegra_co").is_some())
        .count();
    assert!(both >= 4, "{both} contacts carry both accounts' ids");
    for c in &contacts {
        if let (Some(a), Some(b)) = (field(c, "in_alegra"), field(c, "in_alegra_co")) {
            let key = puente_e2e::clientify_key(c).expect("linked contacts have a key");
            assert_eq!(
                Some(a),
                es_ids.get(&key).map(|s| s.trim_matches('"').to_string())
            );
            assert_eq!(
                Some(b),
                co_ids.get(&key).map(|s| s.trim_matches('"').to_string())
            );
        }
    }

    // A Clientify webhook reaches both accounts.
    let c = contacts
        .iter()
        .find(|c| field(c, "in_alegra_co").is_some())
        .unwrap();
    let cid = c["id"].to_string();
    env.clientify_put(Kind::Contact, &cid, json!({"first_name": "Gemma"}))
        .await;
    let body = json!({"event": "contact.saved", "contact": {"id": c["id"], "modified": "later"}});
    let (status, v) = accept_webhook(
        &app,
        Some(SECRET),
        "test",
        "crm",
        SECRET,
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    for _ in 0..20 {
        work_once(&app, app.store.as_ref(), 10, Duration::from_secs(30)).await;
        if app.store.queue_depth().await.unwrap().0 == 0 {
            break;
        }
    }
    let key = puente_e2e::clientify_key(c).unwrap();
    for rows in [
        env.alegra_all().await,
        alegra_contacts_at(&second.base_url, &cfg).await,
    ] {
        let a = rows
            .iter()
            .find(|a| puente_e2e::alegra_key(a).as_deref() == Some(key.as_str()))
            .expect("the contact is in the account");
        assert!(a["name"].to_string().contains("Gemma"), "{a}");
    }

    // A second Full of each flow writes nothing.
    for flow in ["crm-es", "crm-co"] {
        let s = sync(flow, Mode::Full).await;
        assert_eq!(writes(&s), 0, "second Full of {flow}: {:?}", s.entities);
    }
    second.shutdown();
}
