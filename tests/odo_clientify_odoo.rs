//! Clientify ⇄ Odoo (issue 4), end to end: the local runtime between the Clientify sandbox and
//! an Odoo server. Test names carry the requirement ids they prove.
//!
//! **Which Odoo.** By default each test starts the Odoo sandbox of the version in its name (16
//! without `sale_stock`, 17 and 18 with it), pre-loaded with unrelated generated data as a real
//! database would be. With `ODOO_URL`, `ODOO_DB`, `ODOO_USER` and `ODOO_API_KEY` set, the same
//! tests run against that server instead (the ones whose version differs from the server's
//! major version return early, saying so). Nothing else changes: every record a test relies
//! on is created through the Odoo API with a per-run unique tax id / SKU, and assertions only
//! look at those records (plus "nothing failed" and "a second run writes nothing").

use puente_connectors::odoo::{many2one, text_or_empty, Domain, OdooClient, OdooSettings};
use puente_core::Kind;
use puente_e2e::test_retry;
use puente_runtime::{run, App, Config, Mode, NoProgress, Summary};
use puente_sandbox::odoo::spanish_state_id;
use puente_sandbox::{
    start_clientify_seeded, start_odoo, ClientifySeed, OdooConfig, OdooSeed, Sandbox, SandboxConfig,
};
use puente_store::sqlite::SqliteStore;
use puente_store::Store;
use serde_json::{json, Value};
use std::sync::Arc;

const FLOW: &str = "clientify-odoo";
const SECRET: &str = "s3cret-hook";

/// The Odoo server a test talks to.
struct OdooTarget {
    url: String,
    db: String,
    login: String,
    key: String,
    sandbox: Option<Sandbox>,
    sale_stock: bool,
}

/// The sandbox of `version`, or the real server from the environment (`None` when that
/// server is another major version: the test is for `version`).
async fn odoo_target(version: u8) -> Option<OdooTarget> {
    if let Ok(url) = std::env::var("ODOO_URL") {
        let env =
            |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} must be set with ODOO_URL"));
        let t = OdooTarget {
            url,
            db: env("ODOO_DB"),
            login: env("ODOO_USER"),
            key: env("ODOO_API_KEY"),
            sandbox: None,
            sale_stock: false,
        };
        let c = t.client();
        let major = c.version().await.expect("ODOO_URL answers common.version");
        if major != u32::from(version) {
            eprintln!("skipped: this test is for Odoo {version}; ODOO_URL is Odoo {major}");
            return None;
        }
        let sale_stock = c
            .fields_get("sale.order.line", &["type"])
            .await
            .expect("fields_get")
            .contains_key("qty_to_deliver");
        return Some(OdooTarget { sale_stock, ..t });
    }
    let cfg = OdooConfig {
        version,
        sale_stock: version != 16,
        ..OdooConfig::default()
    };
    let sb = start_odoo(
        &cfg,
        None,
        OdooSeed::generate(u64::from(version), 4, 6, 5, 4),
    )
    .await
    .expect("odoo sandbox starts");
    Some(OdooTarget {
        url: sb.base_url.clone(),
        db: cfg.database.clone(),
        login: cfg.login.clone(),
        key: cfg.api_key.clone(),
        sale_stock: cfg.sale_stock,
        sandbox: Some(sb),
    })
}

impl OdooTarget {
    fn client(&self) -> OdooClient {
        OdooClient::new(OdooSettings {
            url: self.url.clone(),
            database: self.db.clone(),
            login: self.login.clone(),
            api_key: self.key.clone(),
            retry: test_retry(),
        })
    }
}

/// Per-run unique numbers, so runs against one real database never collide.
fn nonce() -> u32 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    (n % 1_000_003) as u32 * 37 + std::process::id() % 37
}

/// What the test created, by side.
struct Data {
    // Odoo-only
    o_company: (i64, String),
    o_company_noref: i64,
    o_person: (i64, String),
    o_child: (i64, String),
    o_person_noref: i64,
    o_product_barcode: (i64, String, String),
    o_product_plain: (i64, String),
    o_product_nosku: i64,
    o_order: i64,
    o_draft: i64,
    // on both sides
    shared_company: (i64, String),
    shared_person: (i64, String),
    shared_product: (i64, String),
    // Clientify-only keys
    c_company_cif: String,
    c_contact_dni: String,
    c_product_sku: String,
    tag: String,
}

struct Env {
    odoo: OdooTarget,
    oc: OdooClient,
    clientify: Sandbox,
    sbcfg: SandboxConfig,
    app: App,
    store_path: std::path::PathBuf,
    http: reqwest::Client,
    d: Data,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.clientify.shutdown();
        if let Some(s) = &self.odoo.sandbox {
            s.shutdown();
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.store_path.display()));
        }
    }
}

async fn create(oc: &OdooClient, model: &str, vals: Value) -> i64 {
    oc.create(model, vals)
        .await
        .unwrap_or_else(|e| panic!("{model}.create: {e}"))
}

async fn setup(name: &str, version: u8) -> Option<Env> {
    let odoo = odoo_target(version).await?;
    let oc = odoo.client();
    let n = nonce();
    let tag = format!("{n}");
    let es = oc
        .search_read(
            "res.country",
            &Domain::new().eq("code", "ES"),
            &["id"],
            Some(1),
            0,
            None,
        )
        .await
        .unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    let madrid = oc
        .search_read(
            "res.country.state",
            &Domain::new().eq("code", "M").eq("country_id", es),
            &["id"],
            Some(1),
            0,
            None,
        )
        .await
        .unwrap()
        .first()
        .and_then(|r| r["id"].as_i64());
    if odoo.sandbox.is_some() {
        assert_eq!(madrid, spanish_state_id("M"));
    }
    let cif = |i: u32| puente_sandbox::taxid::cif('B', (n * 10 + i) % 10_000_000);
    let dni = |i: u32| puente_sandbox::taxid::dni(10_000_000 + (n * 10 + i) % 80_000_000);
    let sku = |i: u32| format!("ODO-{n}-{i}");

    // Odoo side.
    let o_company_cif = cif(1);
    let o_company = create(
        &oc,
        "res.partner",
        json!({"name": format!("Odoo Alfa {tag} S.L."), "is_company": true, "ref": o_company_cif,
               "phone": "+34 910 000 001", "street": "Calle Mayor 1", "city": "Madrid",
               "zip": "28013", "country_id": es, "state_id": madrid.map_or(json!(false), |m| json!(m))}),
    )
    .await;
    let o_company_noref = create(
        &oc,
        "res.partner",
        json!({"name": format!("Sin Ref {tag} S.A."), "is_company": true}),
    )
    .await;
    let o_person_dni = dni(2);
    let o_person = create(
        &oc,
        "res.partner",
        json!({"name": format!("Marta Ruiz {tag}"), "is_company": false, "ref": o_person_dni,
               "phone": "+34 910 000 002", "mobile": "+34 600 000 002", "street": "Calle Sol 2",
               "city": "Lugo", "zip": "27001", "country_id": es}),
    )
    .await;
    let o_child_dni = dni(3);
    let o_child = create(
        &oc,
        "res.partner",
        json!({"name": format!("Pablo Gil {tag}"), "is_company": false, "ref": o_child_dni,
               "parent_id": o_company}),
    )
    .await;
    let o_person_noref = create(
        &oc,
        "res.partner",
        json!({"name": format!("Sin Nif {tag}"), "is_company": false}),
    )
    .await;
    let barcode = {
        // A valid EAN-13 from the nonce.
        let body = format!("84{:010}", n);
        let sum: u32 = body
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
            .sum();
        format!("{body}{}", (10 - sum % 10) % 10)
    };
    let o_product_barcode = create(
        &oc,
        "product.product",
        json!({"name": format!("Silla {tag}"), "default_code": sku(1), "list_price": 49.9,
               "barcode": barcode}),
    )
    .await;
    let o_product_plain = create(
        &oc,
        "product.product",
        json!({"name": format!("Mesa {tag}"), "default_code": sku(2), "list_price": 120.0}),
    )
    .await;
    let o_product_nosku = create(
        &oc,
        "product.product",
        json!({"name": format!("Sin SKU {tag}"), "list_price": 1.0}),
    )
    .await;
    let line = |p: i64, q: f64, price: f64, name: &str| json!([0, 0, {"product_id": p, "product_uom_qty": q, "price_unit": price, "name": name}]);
    let o_order = create(
        &oc,
        "sale.order",
        json!({"partner_id": o_company, "order_line": [
            line(o_product_barcode, 3.0, 45.5, "Silla roja"),
            line(o_product_plain, 1.0, 120.0, "Mesa de roble"),
        ]}),
    )
    .await;
    oc.execute_kw(
        "sale.order",
        "action_confirm",
        json!([[o_order]]),
        json!({}),
    )
    .await
    .expect("action_confirm");
    let o_draft = create(
        &oc,
        "sale.order",
        json!({"partner_id": o_company, "order_line": [line(o_product_plain, 2.0, 110.0, "Mesa")]}),
    )
    .await;

    // On both sides (Odoo part).
    let shared_cif = cif(4);
    let shared_company = create(
        &oc,
        "res.partner",
        json!({"name": format!("Compartida {tag} S.L."), "is_company": true, "ref": shared_cif,
               "city": "Sevilla", "country_id": es}),
    )
    .await;
    let shared_dni = dni(5);
    let shared_person = create(
        &oc,
        "res.partner",
        json!({"name": format!("Ana Torres {tag}"), "is_company": false, "ref": shared_dni,
               "city": "Vigo"}),
    )
    .await;
    let shared_sku = sku(3);
    let shared_product = create(
        &oc,
        "product.product",
        json!({"name": format!("Lámpara {tag}"), "default_code": shared_sku, "list_price": 30.0}),
    )
    .await;

    // Clientify side.
    let c_company_cif = cif(6);
    let c_contact_dni = dni(7);
    let c_product_sku = sku(4);
    let seed = ClientifySeed {
        companies: vec![
            json!({"name": format!("Clientify Beta {tag} S.L."), "taxpayer_identification_number": c_company_cif,
                   "phones": [{"type": 1, "phone": "+34 930 000 006"}],
                   "addresses": [{"type": 1, "street": "Rambla 6", "city": "Barcelona", "state": "Barcelona",
                                  "country": "España", "postal_code": "08002"}]}),
            // Same CIF as the Odoo company, another city: a first match, no duplicate.
            json!({"name": format!("Compartida {tag} S.L."), "taxpayer_identification_number": shared_cif,
                   "phones": [{"type": 1, "phone": "+34 950 000 004"}]}),
        ],
        contacts: vec![
            json!({"first_name": "Lucía", "last_name": format!("Gómez {tag}"), "status": "hot-lead",
                   "taxpayer_identification_number": c_contact_dni,
                   "phones": [{"type": 2, "phone": "+34 600 000 007"}],
                   "addresses": [{"type": 1, "city": "Ourense", "country": "España", "postal_code": "32001"}]}),
            json!({"first_name": format!("Ana Torres {tag}"), "status": "client", "contact_type": "Cliente actual",
                   "taxpayer_identification_number": shared_dni,
                   "phones": [{"type": 1, "phone": "+34 986 000 005"}]}),
            json!({"first_name": "Sin", "last_name": "Nif", "status": "cold-lead"}),
        ],
        products: vec![
            json!({"sku": c_product_sku, "name": format!("Alfombra {tag}"), "price": "75.00"}),
            // The shared SKU in another case: the same product (ODO-3).
            json!({"sku": shared_sku.to_lowercase(), "name": format!("Lámpara {tag}"), "price": "30.00"}),
        ],
        orders: vec![
            // Sold elsewhere: never sent to Odoo (ODO-4 is one way).
            json!({"order_id": format!("W-{tag}"), "ecommerce": "WooCommerce", "status": "confirmed",
                   "currency": "EUR", "items": [{"name": "Cojín", "sku": "X1", "price": "9.90", "quantity": 2}]}),
        ],
    };
    let sbcfg = SandboxConfig::default();
    let clientify = start_clientify_seeded(&sbcfg, None, seed)
        .await
        .expect("clientify sandbox starts");
    let store_path = puente_e2e::temp_path(name);
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
[connections.odoo]
type = "odoo"
url = "{ou}"
database = "{db}"
user = "{login}"
api_key = "{key}"
[[flows]]
name = "{FLOW}"
a = "clientify"
b = "odoo"
prefer_on_tie = "odoo"
"#,
        store = store_path.display(),
        cu = clientify.base_url,
        ck = sbcfg.clientify_token,
        ou = odoo.url,
        db = odoo.db,
        login = odoo.login,
        key = odoo.key,
    );
    let config = Config::parse(&toml).expect("config is valid");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&store_path).expect("store"));
    let app = App::build(config, store, test_retry()).expect("app builds");
    Some(Env {
        oc,
        clientify,
        sbcfg,
        app,
        store_path,
        http: reqwest::Client::new(),
        d: Data {
            o_company: (o_company, o_company_cif),
            o_company_noref,
            o_person: (o_person, o_person_dni),
            o_child: (o_child, o_child_dni),
            o_person_noref,
            o_product_barcode: (o_product_barcode, sku(1), barcode),
            o_product_plain: (o_product_plain, sku(2)),
            o_product_nosku,
            o_order,
            o_draft,
            shared_company: (shared_company, shared_cif),
            shared_person: (shared_person, shared_dni),
            shared_product: (shared_product, shared_sku),
            c_company_cif,
            c_contact_dni,
            c_product_sku,
            tag,
        },
        odoo,
    })
}

impl Env {
    fn flow(&self) -> &puente_runtime::Flow {
        self.app.flow(FLOW).expect("flow")
    }

    async fn sync(&self, mode: Mode) -> Summary {
        let s = run(self.flow(), mode, false, &NoProgress).await;
        assert!(s.errors.is_empty(), "run errors: {:?}", s.errors);
        let failed: u64 = s.entities.values().map(|c| c.failed).sum();
        assert_eq!(failed, 0, "failures: {:?}", self.failures().await);
        s
    }

    async fn failures(&self) -> Vec<String> {
        let q = puente_store::LogQuery {
            tenant: "test".into(),
            action: Some(puente_store::Action::Failed),
            limit: 20,
            ..Default::default()
        };
        self.app
            .store
            .query(&q)
            .await
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {:?} {:?}", e.kind, e.external_id, e.reason))
            .collect()
    }

    /// The newest activity-log entries that wrote something (for failure messages).
    async fn updates(&self) -> Vec<String> {
        let q = puente_store::LogQuery {
            tenant: "test".into(),
            action: Some(puente_store::Action::Updated),
            limit: 5,
            ..Default::default()
        };
        self.app
            .store
            .query(&q)
            .await
            .unwrap()
            .into_iter()
            .map(|e| {
                format!(
                    "{} {}:{:?} → {:?} {:?}",
                    e.kind, e.system, e.external_id, e.target_system, e.fields
                )
            })
            .collect()
    }

    async fn c_all(&self, kind: Kind) -> Vec<Value> {
        puente_e2e_list(&self.http, &self.clientify, &self.sbcfg, kind).await
    }

    async fn c_find(&self, kind: Kind, key: &str, value: &str) -> Vec<Value> {
        self.c_all(kind)
            .await
            .into_iter()
            .filter(|v| text_or_empty(&v[key]).eq_ignore_ascii_case(value))
            .collect()
    }

    async fn c_one(&self, kind: Kind, key: &str, value: &str) -> Value {
        let mut v = self.c_find(kind, key, value).await;
        assert_eq!(
            v.len(),
            1,
            "exactly one Clientify {kind} with {key} = {value}: {v:?}"
        );
        v.remove(0)
    }

    async fn c_write(&self, method: reqwest::Method, kind: Kind, id: &str, body: Value) -> Value {
        let path = kind.as_str().to_string() + "s";
        let path = if kind == Kind::Company {
            "companies".into()
        } else {
            path
        };
        let url = if id.is_empty() {
            format!("{}/{path}/", self.clientify.base_url)
        } else {
            format!("{}/{path}/{id}/", self.clientify.base_url)
        };
        let r = self
            .http
            .request(method, url)
            .header(
                "Authorization",
                format!("Token {}", self.sbcfg.clientify_token),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "clientify write {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    async fn o_partners(&self, r#ref: &str) -> Vec<serde_json::Map<String, Value>> {
        self.oc
            .search_read(
                "res.partner",
                &Domain::new().eq("ref", r#ref),
                &[
                    "name",
                    "is_company",
                    "phone",
                    "mobile",
                    "city",
                    "zip",
                    "street",
                    "country_id",
                    "state_id",
                ],
                None,
                0,
                Some("id asc"),
            )
            .await
            .unwrap()
    }

    async fn o_products(&self, sku: &str) -> Vec<serde_json::Map<String, Value>> {
        self.oc
            .search_read(
                "product.product",
                &Domain::leaf("default_code", "=ilike", sku),
                &["name", "list_price", "default_code", "type"],
                None,
                0,
                None,
            )
            .await
            .unwrap()
    }

    async fn o_order_name(&self, id: i64) -> String {
        let r = self.oc.read("sale.order", &[id], &["name"]).await.unwrap();
        text_or_empty(&r[0]["name"])
    }

    /// Odoo `create`/`write` calls the sandbox received (sandbox only).
    fn odoo_writes(&self) -> Option<u64> {
        self.odoo.sandbox.as_ref().map(|sb| {
            sb.stats()
                .by_route
                .iter()
                .filter(|(k, _)| {
                    k.starts_with("execute_kw ")
                        && (k.ends_with(".create") || k.ends_with(".write"))
                })
                .map(|(_, n)| n)
                .sum()
        })
    }

    fn clientify_writes(&self) -> u64 {
        puente_e2e::writes(&self.clientify)
    }
}

/// Every Clientify record of `kind`, read straight from the sandbox.
async fn puente_e2e_list(
    http: &reqwest::Client,
    sb: &Sandbox,
    cfg: &SandboxConfig,
    kind: Kind,
) -> Vec<Value> {
    let path = match kind {
        Kind::Company => "companies".to_string(),
        k => format!("{}s", k.as_str()),
    };
    let mut out = Vec::new();
    let mut url = Some(format!("{}/{path}/?page_size=250", sb.base_url));
    while let Some(u) = url {
        let v: Value = http
            .get(&u)
            .header("Authorization", format!("Token {}", cfg.clientify_token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.extend(v["results"].as_array().unwrap().iter().cloned());
        url = v["next"].as_str().map(str::to_string);
    }
    out
}

fn phone_of(v: &Value, ty: i64) -> String {
    v["phones"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["type"].as_i64() == Some(ty)))
        .map(|p| text_or_empty(&p["phone"]))
        .unwrap_or_default()
}

/// The whole suite of ODO-1..5 checks after one Full sync, then a second Full that writes
/// nothing.
async fn full_sync_gives_odo1_to_odo5(version: u8) {
    let Some(env) = setup(&format!("odo-full-{version}"), version).await else {
        return;
    };
    let d = &env.d;
    puente_runtime::activate(env.flow())
        .await
        .expect("ODO-8: activation");
    let s = env.sync(Mode::Full).await;
    let created = |k: &str, sys: &str| {
        s.entities
            .get(k)
            .and_then(|c| c.created.get(sys))
            .copied()
            .unwrap_or(0)
    };
    if env.odoo.sandbox.is_some() {
        // Everything on the Clientify side that has a key and is not shared went to Odoo
        // (one company, one contact, one product; never the WooCommerce order).
        assert_eq!(created("company", "odoo"), 1, "{s:?}");
        assert_eq!(created("contact", "odoo"), 1, "{s:?}");
        assert_eq!(created("product", "odoo"), 1, "{s:?}");
        assert_eq!(created("order", "odoo"), 0);
        // The other direction: exactly the confirmed orders of the database.
        let confirmed = env
            .oc
            .search_count(
                "sale.order",
                &Domain::new().is_in("state", ["sale", "done"]),
            )
            .await
            .unwrap();
        assert_eq!(created("order", "clientify"), confirmed);
    }
    eprintln!(
        "Odoo {version} Full: {:?} calls {:?}",
        s.entities,
        s.calls.get("odoo").map(|c| c.total)
    );

    // ODO-1: Odoo company → Clientify company.
    let c = env
        .c_one(
            Kind::Company,
            "taxpayer_identification_number",
            &d.o_company.1,
        )
        .await;
    assert_eq!(c["name"], json!(format!("Odoo Alfa {} S.L.", d.tag)));
    assert_eq!(c["business_name"], c["name"], "name → business_name");
    assert_eq!(phone_of(&c, 1), "+34 910 000 001");
    let a = &c["addresses"][0];
    assert_eq!(
        (a["street"].as_str(), a["city"].as_str()),
        (Some("Calle Mayor 1"), Some("Madrid"))
    );
    assert_eq!(a["postal_code"], "28013");
    assert_eq!(a["country"], "España");
    assert_eq!(a["state"], "Madrid");
    // …and a Clientify company → Odoo company contact, state and country looked up.
    let p = env.o_partners(&d.c_company_cif).await;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["is_company"], json!(true));
    assert_eq!(
        p[0]["name"],
        json!(format!("Clientify Beta {} S.L.", d.tag))
    );
    assert_eq!(p[0]["city"], "Barcelona");
    assert_eq!(p[0]["zip"], "08002");
    assert_eq!(
        many2one(&p[0]["country_id"]).map(|c| c.1),
        Some("Spain".into())
    );
    assert!(
        many2one(&p[0]["state_id"]).is_some_and(|s| s.1.starts_with("Barcelona")),
        "{:?}",
        p[0]["state_id"]
    );
    // The shared company was matched (one record per side), not duplicated.
    assert_eq!(env.o_partners(&d.shared_company.1).await.len(), 1);
    env.c_one(
        Kind::Company,
        "taxpayer_identification_number",
        &d.shared_company.1,
    )
    .await;
    // No ref → not synced.
    let noref = env
        .c_find(Kind::Company, "name", &format!("Sin Ref {} S.A.", d.tag))
        .await;
    assert!(noref.is_empty(), "{noref:?}");
    let _ = d.o_company_noref;

    // ODO-2: Odoo person → Clientify contact: name → first_name, client, "Cliente actual".
    let c = env
        .c_one(
            Kind::Contact,
            "taxpayer_identification_number",
            &d.o_person.1,
        )
        .await;
    assert_eq!(c["first_name"], json!(format!("Marta Ruiz {}", d.tag)));
    assert_eq!(c["last_name"], "");
    assert_eq!(c["status"], "client");
    assert_eq!(c["contact_type"], "Cliente actual");
    assert_eq!(phone_of(&c, 1), "+34 910 000 002");
    assert_eq!(phone_of(&c, 2), "+34 600 000 002");
    assert_eq!(c["addresses"][0]["city"], "Lugo");
    assert_eq!(c["addresses"][0]["postal_code"], "27001");
    assert_eq!(c["addresses"][0]["country"], "España");
    // A company's person contact is a person too.
    env.c_one(
        Kind::Contact,
        "taxpayer_identification_number",
        &d.o_child.1,
    )
    .await;
    assert!(env
        .c_find(Kind::Contact, "first_name", &format!("Sin Nif {}", d.tag))
        .await
        .is_empty());
    let _ = d.o_person_noref;
    // Clientify contact → Odoo person with the whole name.
    let p = env.o_partners(&d.c_contact_dni).await;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["is_company"], json!(false));
    assert_eq!(p[0]["name"], json!(format!("Lucía Gómez {}", d.tag)));
    assert_eq!(p[0]["mobile"], "+34 600 000 007");
    assert_eq!(p[0]["city"], "Ourense");
    assert_eq!(env.o_partners(&d.shared_person.1).await.len(), 1);

    // ODO-3: products by SKU.
    let c = env
        .c_one(Kind::Product, "sku", &d.o_product_barcode.1)
        .await;
    assert_eq!(c["name"], json!(format!("Silla {}", d.tag)));
    assert_eq!(c["price"], "49.90");
    let p = env.o_products(&d.c_product_sku).await;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["name"], json!(format!("Alfombra {}", d.tag)));
    assert_eq!(p[0]["list_price"].as_f64(), Some(75.0));
    assert_eq!(p[0]["type"], "consu");
    // Same SKU in another case: one product per side.
    assert_eq!(env.o_products(&d.shared_product.1).await.len(), 1);
    env.c_one(Kind::Product, "sku", &d.shared_product.1).await;
    assert!(env
        .c_find(Kind::Product, "name", &format!("Sin SKU {}", d.tag))
        .await
        .is_empty());
    let _ = d.o_product_nosku;

    // ODO-4/ODO-5: the confirmed order, once; the draft never.
    let name = env.o_order_name(d.o_order).await;
    let o = env.c_one(Kind::Order, "order_id", &name).await;
    assert_eq!(o["ecommerce"], "Odoo");
    assert_eq!(o["currency"], "EUR");
    assert_eq!(o["status"], "confirmed");
    let date = env
        .oc
        .read("sale.order", &[d.o_order], &["date_order"])
        .await
        .unwrap()[0]["date_order"]
        .clone();
    let date = puente_connectors::odoo::datetime(&date).unwrap();
    assert_eq!(
        puente_connectors::odoo::datetime(&json!(
            o["order_date"].as_str().unwrap().replace('T', " ")[..19]
        )),
        Some(date),
        "date_order → order_date"
    );
    let items = o["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["name"], "Silla roja");
    assert_eq!(
        items[0]["sku"],
        json!(d.o_product_barcode.2),
        "barcode → sku"
    );
    assert_eq!(items[0]["price"], "45.50");
    // Nothing delivered: qty_to_deliver (sale_stock) equals the ordered quantity, and
    // without sale_stock the ordered quantity is used.
    assert_eq!(
        items[0]["quantity"], "3.00",
        "sale_stock: {}",
        env.odoo.sale_stock
    );
    assert_eq!(
        items[1]["sku"],
        json!(d.o_product_plain.1),
        "no barcode: the SKU"
    );
    assert_eq!(items[1]["quantity"], "1.00");
    let draft = env.o_order_name(d.o_draft).await;
    assert!(
        env.c_find(Kind::Order, "order_id", &draft).await.is_empty(),
        "drafts are not sent"
    );
    // The WooCommerce order stayed in Clientify only.
    let odoo_orders = env
        .oc
        .search_count(
            "sale.order",
            &Domain::new().eq("client_order_ref", format!("W-{}", d.tag)),
        )
        .await
        .unwrap();
    assert_eq!(odoo_orders, 0);

    // A second Full writes nothing anywhere.
    let (cw, ow) = (env.clientify_writes(), env.odoo_writes());
    let again = env.sync(Mode::Full).await;
    for (k, c) in &again.entities {
        assert_eq!(c.created_total() + c.updated_total(), 0, "{k}: {c:?}");
    }
    assert_eq!(env.clientify_writes(), cw, "re-run wrote to Clientify");
    assert_eq!(env.odoo_writes(), ow, "re-run wrote to Odoo");
    eprintln!(
        "Odoo {version} re-run: {} Odoo calls, {} Clientify calls, 0 writes",
        again.calls.get("odoo").map(|c| c.total).unwrap_or(0),
        again.calls.get("clientify").map(|c| c.total).unwrap_or(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odo1_odo2_odo3_odo4_odo5_full_sync_odoo16() {
    full_sync_gives_odo1_to_odo5(16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odo1_odo2_odo3_odo4_odo5_full_sync_odoo17() {
    full_sync_gives_odo1_to_odo5(17).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odo1_odo2_odo3_odo4_odo5_full_sync_odoo18() {
    full_sync_gives_odo1_to_odo5(18).await;
}

/// Posts a Clientify webhook to the app's endpoint (as the local server does) and drains the
/// queue with one worker pass.
async fn webhook(env: &Env, event: &str, entity: &str, id: &str) {
    let body = json!({"event": event, entity: {"id": id.parse::<u64>().unwrap(),
        "modified": chrono::Utc::now().to_rfc3339()}});
    let (status, answer) = puente_runtime::serve::accept_webhook(
        &env.app,
        Some(SECRET),
        "test",
        "clientify",
        SECRET,
        body.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "queued", "{answer}");
}

async fn drain(env: &Env) -> usize {
    let mut total = 0;
    loop {
        let done = puente_runtime::events::work_once(
            &env.app,
            env.app.store.as_ref(),
            10,
            std::time::Duration::from_secs(30),
        )
        .await;
        if done.taken == 0 {
            return total;
        }
        total += done.taken;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odo6_clientify_webhooks_for_contacts_companies_and_products_reach_odoo() {
    let Some(env) = setup("odo-webhooks", 17).await else {
        return;
    };
    let d = &env.d;
    env.sync(Mode::Full).await;
    let (cw, ow) = (env.clientify_writes(), env.odoo_writes());

    // Edit a contact, a company and a product in Clientify, and add a product.
    let contact = env
        .c_one(
            Kind::Contact,
            "taxpayer_identification_number",
            &d.o_person.1,
        )
        .await;
    let cid = contact["id"].to_string();
    let mut phones = contact["phones"].clone();
    for p in phones.as_array_mut().unwrap() {
        if p["type"] == 1 {
            p["phone"] = json!("+34 910 999 999");
        }
    }
    env.c_write(
        reqwest::Method::PUT,
        Kind::Contact,
        &cid,
        json!({"phones": phones}),
    )
    .await;
    let company = env
        .c_one(
            Kind::Company,
            "taxpayer_identification_number",
            &d.o_company.1,
        )
        .await;
    let coid = company["id"].to_string();
    let mut addr = company["addresses"].clone();
    addr[0]["city"] = json!("Alcalá de Henares");
    env.c_write(
        reqwest::Method::PUT,
        Kind::Company,
        &coid,
        json!({"addresses": addr}),
    )
    .await;
    let product = env.c_one(Kind::Product, "sku", &d.o_product_plain.1).await;
    let pid = product["id"].to_string();
    env.c_write(
        reqwest::Method::PUT,
        Kind::Product,
        &pid,
        json!({"price": "135.00"}),
    )
    .await;
    let new_sku = format!("ODO-{}-9", d.tag);
    let created = env
        .c_write(
            reqwest::Method::POST,
            Kind::Product,
            "",
            json!({"sku": new_sku, "name": format!("Cortina {}", d.tag), "price": 19.5}),
        )
        .await;

    webhook(&env, "contact.saved", "contact", &cid).await;
    webhook(&env, "company.saved", "company", &coid).await;
    webhook(&env, "product.saved", "product", &pid).await;
    webhook(&env, "product.saved", "product", &created["id"].to_string()).await;
    assert_eq!(drain(&env).await, 4);

    let p = env.o_partners(&d.o_person.1).await;
    assert_eq!(p[0]["phone"], "+34 910 999 999");
    let p = env.o_partners(&d.o_company.1).await;
    assert_eq!(p[0]["city"], "Alcalá de Henares");
    let p = env.o_products(&d.o_product_plain.1).await;
    assert_eq!(p[0]["list_price"].as_f64(), Some(135.0));
    let p = env.o_products(&new_sku).await;
    assert_eq!(p.len(), 1, "the new Clientify product was created in Odoo");
    assert_eq!(p[0]["list_price"].as_f64(), Some(19.5));
    // Exactly the four changes were written to Odoo (sandbox: 3 writes + 1 create), nothing
    // went back to Clientify.
    if let Some(before) = ow {
        assert_eq!(env.odoo_writes().unwrap() - before, 4);
    }
    assert_eq!(
        env.clientify_writes() - cw,
        4,
        "only the test's own 4 Clientify writes"
    );

    // The same delivery twice is one event; a re-read of an unchanged record writes nothing.
    let body = json!({"event": "contact.saved", "contact": {"id": cid.parse::<u64>().unwrap(),
        "modified": "2026-11-22T10:00:00+00:00"}})
    .to_string();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (_, a) = puente_runtime::serve::accept_webhook(
            &env.app,
            Some(SECRET),
            "test",
            "clientify",
            SECRET,
            body.as_bytes(),
        )
        .await;
        answers.push(a["status"].clone());
    }
    assert_eq!(answers, vec![json!("queued"), json!("duplicate")]);
    assert_eq!(drain(&env).await, 1);
    // Odoo itself moved the company's person contact to the company's new address (a child
    // contact shares its parent's address): the next Full carries that one change back.
    let s = env.sync(Mode::Full).await;
    let written: u64 = s
        .entities
        .values()
        .map(|c| c.created_total() + c.updated_total())
        .sum();
    let child = env
        .c_one(
            Kind::Contact,
            "taxpayer_identification_number",
            &d.o_child.1,
        )
        .await;
    assert_eq!(child["addresses"][0]["city"], "Alcalá de Henares");
    assert_eq!(written, 1, "{:?} {:?}", s.entities, env.updates().await);
    let s = env.sync(Mode::Full).await;
    for (k, c) in &s.entities {
        assert_eq!(
            c.created_total() + c.updated_total(),
            0,
            "{k}: {c:?} {:?}",
            env.updates().await
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odo7_deletions_are_not_propagated_either_way() {
    let Some(env) = setup("odo-deletions", 17).await else {
        return;
    };
    let d = &env.d;
    env.sync(Mode::Full).await;
    // Delete an Odoo person and a Clientify company (each synced to the other side).
    env.oc
        .execute_kw("res.partner", "unlink", json!([[d.o_person.0]]), json!({}))
        .await
        .expect("unlink");
    let company = env
        .c_one(
            Kind::Company,
            "taxpayer_identification_number",
            &d.c_company_cif,
        )
        .await;
    let id = company["id"].to_string();
    let r = env
        .http
        .delete(format!("{}/companies/{id}/", env.clientify.base_url))
        .header(
            "Authorization",
            format!("Token {}", env.sbcfg.clientify_token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (cw, ow) = (env.clientify_writes(), env.odoo_writes());

    for mode in [Mode::Full, Mode::Modified] {
        let s = env.sync(mode).await;
        for (k, c) in &s.entities {
            assert_eq!(
                c.created_total() + c.updated_total(),
                0,
                "{mode:?} {k}: {c:?}"
            );
        }
    }
    // The counterparts are still there, untouched, and nothing was re-created.
    env.c_one(
        Kind::Contact,
        "taxpayer_identification_number",
        &d.o_person.1,
    )
    .await;
    assert_eq!(env.o_partners(&d.c_company_cif).await.len(), 1);
    assert!(
        env.o_partners(&d.o_person.1).await.is_empty(),
        "not re-created in Odoo"
    );
    assert!(env
        .c_find(
            Kind::Company,
            "taxpayer_identification_number",
            &d.c_company_cif
        )
        .await
        .is_empty());
    assert_eq!(env.clientify_writes(), cw);
    assert_eq!(env.odoo_writes(), ow);
    // …and the log says why.
    let q = puente_store::LogQuery {
        tenant: "test".into(),
        action: Some(puente_store::Action::Skipped),
        limit: 500,
        ..Default::default()
    };
    let log = env.app.store.query(&q).await.unwrap();
    assert!(
        log.iter().any(|e| e
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("deletions are not propagated"))),
        "skip logged with the reason"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odo4_odo5_modified_picks_up_order_line_edits_that_leave_the_order_write_date() {
    let Some(env) = setup("odo-modified", 18).await else {
        return;
    };
    let d = &env.d;
    env.sync(Mode::Full).await;
    let before = env
        .oc
        .read("sale.order", &[d.o_order], &["write_date", "order_line"])
        .await
        .unwrap()[0]
        .clone();
    // Let the clock pass a second so a new write_date differs.
    if let Some(sb) = &env.odoo.sandbox {
        sb.advance_clock(2);
    } else {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let lines = puente_connectors::odoo::x2many_ids(&before["order_line"]);
    env.oc
        .write("sale.order.line", &[lines[0]], json!({"price_unit": 44.0}))
        .await
        .expect("line write");
    let after = env
        .oc
        .read("sale.order", &[d.o_order], &["write_date"])
        .await
        .unwrap()[0]["write_date"]
        .clone();
    assert_eq!(
        after, before["write_date"],
        "odoo.md §3: a line write leaves the order"
    );
    // A product price edited in Odoo too.
    env.oc
        .write(
            "product.product",
            &[d.o_product_barcode.0],
            json!({"list_price": 52.0}),
        )
        .await
        .unwrap();

    let s = env.sync(Mode::Modified).await;
    assert_eq!(
        s.entities["order"].updated.get("clientify"),
        Some(&1),
        "{:?}",
        s.entities
    );
    assert_eq!(
        s.entities["product"].updated.get("clientify"),
        Some(&1),
        "{:?}",
        s.entities
    );
    let name = env.o_order_name(d.o_order).await;
    let o = env.c_one(Kind::Order, "order_id", &name).await;
    assert_eq!(o["items"][0]["price"], "44.00");
    let p = env
        .c_one(Kind::Product, "sku", &d.o_product_barcode.1)
        .await;
    assert_eq!(p["price"], "52.00");
    // Nothing else moved, and a second Modified is a no-op.
    let s = env.sync(Mode::Modified).await;
    for (k, c) in &s.entities {
        assert_eq!(c.created_total() + c.updated_total(), 0, "{k}: {c:?}");
    }
}
