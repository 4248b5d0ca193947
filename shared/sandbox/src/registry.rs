//! The vendor sandboxes this crate holds, by name, each able to start on its default seeded
//! data and to say how a connection reaches it, so the demo and `puente sandbox` can start
//! whatever is here without naming a vendor (`shared/spec/platform.md` §1 and §9). A new
//! vendor's sandbox adds one line to [`SANDBOXES`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use crate::kit::Sandbox;
use crate::{alegra, ccv, clientify, eaccounting, economic, odoo, roapp, shopify, woocommerce};

/// What a registry entry's start function returns.
pub type StartFuture = Pin<Box<dyn Future<Output = io::Result<Started>> + Send>>;

/// One vendor sandbox.
#[derive(Clone, Copy, Debug)]
pub struct VendorSandbox {
    /// The vendor's name, as a config's connection `type` spells it (`clientify`).
    pub name: &'static str,
    /// What it stands in for, in a few words.
    pub about: &'static str,
    pub(crate) start: fn(Option<SocketAddr>) -> StartFuture,
}

impl VendorSandbox {
    /// Starts it on `addr` (127.0.0.1 on a free port when `None`) with its default seeded data.
    pub async fn start(&self, addr: Option<SocketAddr>) -> io::Result<Started> {
        (self.start)(addr).await
    }
}

/// A started sandbox and how a connection reaches it.
pub struct Started {
    pub sandbox: Sandbox,
    /// The settings of a `[connections.<name>]` table that reaches it, in order: `type`, its
    /// address (`base_url` or `url`) and its credentials.
    pub connection: Vec<(&'static str, String)>,
}

/// Every vendor sandbox, in the order a demo lists them.
const SANDBOXES: [VendorSandbox; 9] = [
    clientify::SANDBOX,
    alegra::SANDBOX,
    odoo::SANDBOX,
    shopify::SANDBOX,
    woocommerce::SANDBOX,
    roapp::SANDBOX,
    ccv::SANDBOX,
    economic::SANDBOX,
    eaccounting::SANDBOX,
];

/// Every vendor sandbox this crate holds.
pub fn registry() -> &'static [VendorSandbox] {
    &SANDBOXES
}

/// The sandbox of the vendor called `name`.
pub fn sandbox(name: &str) -> Option<&'static VendorSandbox> {
    SANDBOXES.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::{json, Value};

    use super::*;

    fn setting<'a>(s: &'a Started, key: &str) -> &'a str {
        s.connection
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} in {:?}", s.connection))
    }

    #[test]
    fn names_are_unique_and_found() {
        let names: HashSet<&str> = registry().iter().map(|s| s.name).collect();
        assert_eq!(names.len(), registry().len());
        assert_eq!(
            registry().iter().map(|s| s.name).collect::<Vec<_>>(),
            [
                "clientify",
                "alegra",
                "odoo",
                "shopify",
                "woocommerce",
                "roapp",
                "ccv",
                "economic",
                "eaccounting"
            ]
        );
        for s in registry() {
            assert_eq!(sandbox(s.name).map(|x| x.name), Some(s.name));
            assert!(!s.about.is_empty());
        }
        assert!(sandbox("cartum").is_none());
    }

    /// Each entry starts with seeded data that its `connection` settings can read.
    #[tokio::test]
    async fn every_entry_starts_seeded_and_its_settings_reach_it() {
        let http = reqwest::Client::new();
        for entry in registry() {
            let s = entry.start(None).await.unwrap();
            assert_eq!(setting(&s, "type"), entry.name);
            let records = match entry.name {
                "clientify" => {
                    assert_eq!(setting(&s, "base_url"), s.sandbox.base_url);
                    let url = format!("{}/contacts/", s.sandbox.base_url);
                    let auth = format!("Token {}", setting(&s, "api_key"));
                    let body: Value = http
                        .get(url)
                        .header("Authorization", auth)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    body["count"].as_u64().unwrap()
                }
                "alegra" => {
                    assert_eq!(setting(&s, "base_url"), s.sandbox.base_url);
                    let url = format!("{}/contacts?metadata=true", s.sandbox.base_url);
                    let body: Value = http
                        .get(url)
                        .basic_auth(setting(&s, "email"), Some(setting(&s, "token")))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    body["metadata"]["total"].as_u64().unwrap()
                }
                "odoo" => {
                    assert_eq!(setting(&s, "url"), s.sandbox.base_url);
                    let call = |service: &str, method: &str, args: Value| {
                        json!({"jsonrpc": "2.0", "method": "call", "id": 1,
                               "params": {"service": service, "method": method, "args": args}})
                    };
                    let (db, login, key) = (
                        setting(&s, "database"),
                        setting(&s, "login"),
                        setting(&s, "api_key"),
                    );
                    let url = format!("{}/jsonrpc", s.sandbox.base_url);
                    let uid: Value = http
                        .post(&url)
                        .json(&call("common", "authenticate", json!([db, login, key, {}])))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let count: Value = http
                        .post(&url)
                        .json(&call(
                            "object",
                            "execute_kw",
                            json!([
                                db,
                                uid["result"],
                                key,
                                "res.partner",
                                "search_count",
                                [[["is_company", "=", true]]]
                            ]),
                        ))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    count["result"].as_u64().unwrap()
                }
                "shopify" => {
                    let url = format!(
                        "{}/admin/api/{}/orders/count.json?status=any",
                        setting(&s, "base_url"),
                        setting(&s, "api_version")
                    );
                    let body: Value = http
                        .get(url)
                        .header("X-Shopify-Access-Token", setting(&s, "access_token"))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    body["count"].as_u64().unwrap()
                }
                "woocommerce" => {
                    let url = format!("{}/orders?per_page=1", setting(&s, "base_url"));
                    let r = http
                        .get(url)
                        .basic_auth(
                            setting(&s, "consumer_key"),
                            Some(setting(&s, "consumer_secret")),
                        )
                        .send()
                        .await
                        .unwrap();
                    r.headers()["x-wp-total"].to_str().unwrap().parse().unwrap()
                }
                "roapp" => {
                    let url = format!("{}/v2/contacts/people", setting(&s, "base_url"));
                    let body: Value = http
                        .get(url)
                        .bearer_auth(setting(&s, "api_key"))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    body["paging"]["count"].as_u64().unwrap()
                }
                "ccv" => {
                    // A signed request as CCV's SDK makes it.
                    let base = setting(&s, "base_url");
                    let uri = "/api/rest/v1/products?size=250";
                    assert_eq!(
                        format!("{}{uri}", s.sandbox.root_url),
                        format!("{base}/products?size=250")
                    );
                    let public = setting(&s, "public_key");
                    let date = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
                    let msg = format!("{public}|GET|{uri}||{date}");
                    let hash = crate::kit::sign::hmac_sha512_hex(
                        setting(&s, "secret").as_bytes(),
                        msg.as_bytes(),
                    );
                    let body: Value = http
                        .get(format!("{base}/products?size=250"))
                        .header("x-public", public)
                        .header("x-date", date)
                        .header("x-hash", hash)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    body["items"].as_array().map_or(0, |a| a.len() as u64)
                }
                "economic" => {
                    let body: Value = http
                        .get(format!("{}/customers", setting(&s, "base_url")))
                        .header("X-AppSecretToken", setting(&s, "app_secret_token"))
                        .header(
                            "X-AgreementGrantToken",
                            setting(&s, "agreement_grant_token"),
                        )
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    body["pagination"]["results"].as_u64().unwrap()
                }
                "eaccounting" => {
                    let token: Value = http
                        .post(setting(&s, "token_url"))
                        .basic_auth(setting(&s, "client_id"), Some(setting(&s, "client_secret")))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(format!(
                            "grant_type=refresh_token&refresh_token={}",
                            setting(&s, "refresh_token")
                        ))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let body: Value = http
                        .get(format!("{}/customers", setting(&s, "base_url")))
                        .bearer_auth(token["access_token"].as_str().unwrap())
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    body["Meta"]["TotalNumberOfResults"].as_u64().unwrap()
                }
                other => panic!("no check for {other}"),
            };
            assert!(records > 1, "{}: {records} records", entry.name);
            s.sandbox.shutdown();
        }
    }
}
