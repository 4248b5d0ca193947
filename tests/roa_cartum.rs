//! ROA-9: a Cartum → RO App flow is configured like the other shops and its activation says,
//! clearly, that Cartum has no public API yet; nothing is read or written.

use puente_e2e::roa::roapp_config;
use puente_runtime::{App, Config};
use puente_store::{MemoryStore, Store};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa9_cartum_flow_is_configured_and_activation_says_there_is_no_api_yet() {
    let roapp = puente_sandbox::start_roapp(&roapp_config(), None)
        .await
        .unwrap();
    let toml = format!(
        r#"
tenant = "test"
[connections.tienda]
type = "cartum"
domain = "tienda.example.es"
login = "api"
password_env = "PUENTE_TEST_CARTUM_PASSWORD"
[connections.roapp]
type = "roapp"
base_url = "{}"
api_key = "{}"
[[flows]]
name = "cartum-roapp"
a = "tienda"
b = "roapp"
"#,
        roapp.sandbox.root_url,
        roapp.config().api_key
    );
    std::env::set_var("PUENTE_TEST_CARTUM_PASSWORD", "x");
    let config = Config::parse(&toml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.flows[0].entities,
        vec!["contact", "product", "order"]
    );
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let app = App::build(config, store, puente_e2e::test_retry()).unwrap_or_else(|e| panic!("{e}"));
    let flow = app.flow("cartum-roapp").unwrap();
    // The preset applies: orders from the shop, without Delivered ones in the backfill.
    assert!(flow
        .rules(puente_core::Kind::Order)
        .filters
        .iter()
        .any(|f| f.none_of.contains(&"Delivered".to_string())));
    roapp.sandbox.reset_stats();
    let e = puente_runtime::activate(flow)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Cartum has no public API yet"), "{e}");
    assert!(roapp.sandbox.writes().is_empty());
    roapp.sandbox.shutdown();
}
