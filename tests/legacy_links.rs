//! Issue 12, store migration: links written before links were scoped by flow (kept by the
//! store in the empty flow's scope, their ids keyed by vendor name) are adopted by the flow
//! whose connections they link, with their ids renamed to the connections' names, so an
//! upgrade creates nothing twice and a Full after it writes nothing.

use puente_core::Kind;
use puente_e2e::{test_retry, TestEnv};
use puente_runtime::{run, App, Config, Mode, NoProgress};
use puente_sandbox::SandboxConfig;
use puente_store::sqlite::SqliteStore;
use puente_store::{Scope, Store};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_migration_links_of_an_earlier_version_are_adopted_by_their_flow() {
    let cfg = SandboxConfig {
        contacts: 20,
        companies: 6,
        shared_contacts: 6,
        shared_companies: 2,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let env = TestEnv::start("legacy", cfg).await;
    env.activate().await;
    env.sync(Mode::Full).await;

    // What the previous version left behind: the same links without a flow (the store's
    // schema migration puts rows of version 1 there), ids keyed by vendor name.
    let store = env.app.store.clone();
    let mut legacy_count = 0;
    for kind in ["contact", "company"] {
        for l in store
            .links(Scope::new("test", puente_e2e::FLOW, kind))
            .await
            .unwrap()
        {
            store.delete_link(&l).await.unwrap();
            let mut old = l.clone();
            old.flow = String::new();
            old.version = 0;
            store.save_link(&old).await.unwrap();
            legacy_count += 1;
        }
    }
    assert!(legacy_count > 20, "{legacy_count} links");
    let legacy_ids: Vec<(String, String)> = store
        .links(Scope::new("test", "", "contact"))
        .await
        .unwrap()
        .iter()
        .map(|l| (l.ids["clientify"].clone(), l.ids["alegra"].clone()))
        .collect();

    // The upgraded version's config names the connections after their role, not the
    // vendor, and the flow has another name: the links are its all the same.
    let toml = format!(
        r#"
tenant = "test"
[store]
path = "{store}"
[connections.crm]
type = "clientify"
base_url = "{cu}"
api_key = "{ck}"
[connections.erp]
type = "alegra"
base_url = "{au}"
email = "{ae}"
token = "{at}"
[[flows]]
name = "crm-erp"
a = "crm"
b = "erp"
entities = ["contact", "company"]
prefer_on_tie = "erp"
"#,
        store = env.store_path.display(),
        cu = env.sb.clientify.base_url,
        ck = env.cfg.clientify_token,
        au = env.sb.alegra.base_url,
        ae = env.cfg.alegra_email,
        at = env.cfg.alegra_token,
    );
    let config = Config::parse(&toml).unwrap();
    let store2: Arc<dyn Store> = Arc::new(SqliteStore::open(&env.store_path).unwrap());
    let app = App::build(config, store2.clone(), test_retry()).unwrap();
    let flow = app.flow("crm-erp").unwrap();
    env.sb.clientify.reset_stats();
    env.sb.alegra.reset_stats();
    let s = run(flow, Mode::Full, false, &NoProgress).await;
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    for (kind, c) in &s.entities {
        assert_eq!(
            (c.created_total(), c.updated_total(), c.failed),
            (0, 0, 0),
            "{kind}: nothing created or written after the upgrade: {c:?}"
        );
    }
    assert_eq!(puente_e2e::writes(&env.sb.clientify), 0);
    assert_eq!(puente_e2e::writes(&env.sb.alegra), 0);
    // Every legacy link now lives in the flow, keyed by connection name.
    for kind in ["contact", "company"] {
        assert!(store2
            .links(Scope::new("test", "", kind))
            .await
            .unwrap()
            .is_empty());
    }
    let adopted = store2
        .links(Scope::new("test", "crm-erp", "contact"))
        .await
        .unwrap();
    let mut now: Vec<(String, String)> = adopted
        .iter()
        .map(|l| (l.ids["crm"].clone(), l.ids["erp"].clone()))
        .collect();
    let mut before = legacy_ids;
    now.sort();
    before.sort();
    assert_eq!(now, before, "the same pairs, renamed");
    for l in &adopted {
        assert_eq!(l.flow, "crm-erp");
        assert!(
            l.record_hashes.contains_key("crm") && l.record_hashes.contains_key("erp"),
            "{l:?}"
        );
    }
    // And the single-record path finds them too.
    let cid = &adopted[0].ids["crm"];
    assert!(store2
        .link_by_external(
            Scope::new("test", "crm-erp", Kind::Contact.as_str()),
            "crm",
            cid
        )
        .await
        .unwrap()
        .is_some());
}
