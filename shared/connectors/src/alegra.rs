//! Alegra (invoicing), API v1. Facts from `spec/vendor-apis/clientify-alegra.md` §2.
//!
//! - Auth HTTP Basic `email:token` [D]; 150 requests/minute per user, `X-Rate-Limit-*`
//!   headers on every answer, 429 past it [D].
//! - `start`/`limit` paging, limit at most 30, bare JSON arrays; `metadata=true` adds the
//!   total [C]. Ids are strings [D].
//! - No modified-since filter exists [C], so Modified lists every contact and lets the link
//!   hashes tell what changed (see the README, "Modes").
//! - One `/contacts` resource holds persons (type `client`/`lead`) and providers (type
//!   `provider`, ALG-6 companies); a contact may be both, so writes keep the other types.
//! - `identification` reads as a string; writes send `{type, number}` (the Colombian shape
//!   "verified live" [C]; the Spanish shape is unknown) — one place to change: [`id_object`].

use crate::error::ConnectorError;
use crate::http::{Auth, CallStats, Http, RetryPolicy};
use crate::time::parse_vendor_time;
use crate::{Connector, Page};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puente_core::{canonical_tax_id, Fields, Kind, Record, Relationship, TaxId};
use serde_json::{json, Value};

pub const SYSTEM: &str = "alegra";
/// The API's page cap.
pub const PAGE_LIMIT: u32 = 30;

#[derive(Clone, Debug)]
pub struct AlegraConfig {
    pub base_url: String,
    pub email: String,
    pub token: String,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
}

pub struct Alegra {
    http: Http,
}

fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn join(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `type` list, whether the API sent an array (advanced mode) or a string (simple mode).
pub fn types_of(v: &Value) -> Vec<String> {
    match v.get("type") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(x)) if !x.is_empty() => vec![x.clone()],
        _ => Vec::new(),
    }
}

/// ALG-4, Alegra side: contact type → relationship (`client` → client, `lead` → lead,
/// anything else → other).
pub fn relationship_of(types: &[String]) -> Relationship {
    if types.iter().any(|t| t == "client") {
        Relationship::Client
    } else if types.iter().any(|t| t == "lead") {
        Relationship::Lead
    } else {
        Relationship::Other
    }
}

/// ALG-4 towards Alegra: replaces the client/lead part of `types`, keeping `provider`.
pub fn types_for(rel: Relationship, current: &[String]) -> Vec<String> {
    let mut out: Vec<String> = current
        .iter()
        .filter(|t| *t != "client" && *t != "lead")
        .cloned()
        .collect();
    match rel {
        Relationship::Client => out.insert(0, "client".into()),
        Relationship::Lead => out.insert(0, "lead".into()),
        Relationship::Other => {}
    }
    out
}

/// Whether an Alegra contact belongs to `kind`'s flow: providers are companies (ALG-6); every
/// other contact (client, lead or untyped) is a person contact.
pub fn is_kind(v: &Value, kind: Kind) -> bool {
    let types = types_of(v);
    let provider = types.iter().any(|t| t == "provider");
    match kind {
        Kind::Company => provider,
        Kind::Contact => !provider || types.iter().any(|t| t == "client" || t == "lead"),
        // Items and estimates are not built yet (ALG-7, ALG-8): no contact is one.
        Kind::Product | Kind::Order => false,
    }
}

/// The Alegra webhook subjects Puente syncs, the `message` key holding the record, and the
/// kinds it may be (ALG-11, spec §2.4). The one place to add one (`new-item`/`edit-item` →
/// products with ALG-7): Puente subscribes to exactly these, for the kinds a flow syncs.
/// `delete-*` is deliberately absent: deletions are not propagated, so those deliveries are
/// answered 202 and ignored.
pub const WEBHOOK_EVENTS: &[(&str, &str, &[Kind])] = &[
    ("new-client", "client", &[Kind::Contact, Kind::Company]),
    ("edit-client", "client", &[Kind::Contact, Kind::Company]),
];

/// An Alegra webhook delivery, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookDelivery {
    /// The `subject`, e.g. `edit-client`.
    pub event: String,
    /// What to sync: (kind, id). A contact that is a client and a provider is both a person
    /// contact and a company (ALG-6); empty when the subject is not synced.
    pub targets: Vec<(Kind, String)>,
    /// What makes two deliveries of the same change equal: `updated_at` has one-second
    /// resolution, so the record's content is part of it (two edits in one second differ).
    pub version: String,
}

/// Parses an Alegra webhook body `{"subject": "edit-client", "message": {"client": {…}}}`.
/// Only the id and the contact's types are taken from it (the types say which flows' kinds it
/// belongs to, as the record has no kind of its own); the worker re-reads the record.
pub fn parse_webhook(body: &[u8]) -> Result<WebhookDelivery, crate::WebhookError> {
    use crate::WebhookError;
    let v: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError(format!("body is not JSON: {e}")))?;
    if !v.is_object() {
        return Err(WebhookError("body is not a JSON object".into()));
    }
    let event = v
        .get("subject")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| WebhookError("no `subject` in the body".into()))?
        .to_string();
    let Some((_, key, kinds)) = WEBHOOK_EVENTS.iter().find(|(e, _, _)| *e == event) else {
        return Ok(WebhookDelivery {
            event,
            targets: Vec::new(),
            version: String::new(),
        });
    };
    let record = v
        .get("message")
        .and_then(|m| m.get(*key))
        .filter(|r| r.is_object())
        .ok_or_else(|| WebhookError(format!("`{event}` without `message.{key}`")))?;
    let id = s(record, "id");
    if id.is_empty() {
        return Err(WebhookError(format!("`{event}` without a {key} id")));
    }
    let mut targets: Vec<(Kind, String)> = kinds
        .iter()
        .filter(|k| is_kind(record, **k))
        .map(|k| (*k, id.clone()))
        .collect();
    if targets.is_empty() {
        // A record of none of the kinds (an item before ALG-7): the first kind re-reads it.
        targets.push((kinds[0], id));
    }
    let content = serde_json::to_string(record).unwrap_or_default();
    let version = format!(
        "{}|{}",
        s(record, "updated_at"),
        puente_core::value_hash(&content)
    );
    Ok(WebhookDelivery {
        event,
        targets,
        version,
    })
}

/// A subscription URL as Alegra takes it: without the scheme [C: A9, A10].
pub fn subscription_url(url: &str) -> &str {
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
}

/// Maps an Alegra contact to a canonical record of `kind`.
pub fn to_record(kind: Kind, v: &Value) -> Record {
    let mut f = Fields::new();
    let ident = match v.get("identification") {
        Some(Value::Object(o)) => o
            .get("number")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => s(v, "identification"),
    };
    f.set("tax_id", canonical_tax_id(&ident));
    let types = types_of(v);
    match kind {
        Kind::Contact => {
            match v.get("nameObject").filter(|n| n.is_object()) {
                Some(n) => {
                    f.set("first_name", join(&[s(n, "firstName"), s(n, "secondName")]));
                    f.set(
                        "last_name",
                        join(&[s(n, "lastName"), s(n, "secondLastName")]),
                    );
                }
                None => {
                    let name = s(v, "name");
                    let mut it = name.trim().splitn(2, ' ');
                    f.set("first_name", it.next().unwrap_or(""));
                    f.set("last_name", it.next().unwrap_or(""));
                }
            }
            f.set("status", relationship_of(&types).as_str());
            f.set("mobile", s(v, "mobile"));
        }
        Kind::Company => f.set("name", s(v, "name")),
        Kind::Product | Kind::Order => {}
    }
    f.set("email", s(v, "email"));
    f.set("phone", s(v, "phonePrimary"));
    if kind == Kind::Company && f.get("phone").is_empty() {
        f.set("phone", s(v, "mobile"));
    }
    if let Some(a) = v.get("address").filter(|a| a.is_object()) {
        f.set("street", s(a, "address"));
        f.set("city", s(a, "city"));
        f.set("region", s(a, "department"));
        f.set("postal_code", s(a, "zipCode"));
        f.set("country", s(a, "country"));
    }
    Record {
        system: SYSTEM.into(),
        kind,
        id: s(v, "id"),
        modified: parse_vendor_time(&s(v, "updated_at")),
        fields: f,
        partner_ref: None,
        marked: true,
        extra: json!({ "type": types }),
    }
}

/// The identification as Alegra takes it on writes.
pub fn id_object(tax: &str) -> Value {
    match TaxId::parse(tax) {
        Ok(t) => json!({"type": t.kind().label(), "number": t.as_str()}),
        Err(_) => json!(tax),
    }
}

fn body_for(kind: Kind, fields: &Fields, changed: &[String], current: Option<&Record>) -> Value {
    let touched = |f: &str| current.is_none() || changed.iter().any(|c| c == f);
    let mut b = serde_json::Map::new();
    if touched("tax_id") {
        b.insert("identification".into(), id_object(fields.get("tax_id")));
    }
    let current_types: Vec<String> = current
        .and_then(|c| c.extra.get("type"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match kind {
        Kind::Contact => {
            if touched("first_name") || touched("last_name") {
                let (first, last) = (fields.get("first_name"), fields.get("last_name"));
                b.insert(
                    "nameObject".into(),
                    json!({"firstName": first, "secondName": "", "lastName": last, "secondLastName": ""}),
                );
                b.insert("name".into(), json!(join(&[first.into(), last.into()])));
            }
            if touched("status") {
                let rel = Relationship::from_canonical(fields.get("status"));
                b.insert("type".into(), json!(types_for(rel, &current_types)));
            }
            if touched("mobile") {
                b.insert("mobile".into(), json!(fields.get("mobile")));
            }
            if current.is_none() {
                b.insert("kindOfPerson".into(), json!("PERSON_ENTITY"));
            }
        }
        Kind::Company => {
            if touched("name") {
                b.insert("name".into(), json!(fields.get("name")));
            }
            if current.is_none() {
                b.insert("kindOfPerson".into(), json!("LEGAL_ENTITY"));
                b.insert("type".into(), json!(["provider"]));
            }
        }
        Kind::Product | Kind::Order => {}
    }
    if touched("email") {
        b.insert("email".into(), json!(fields.get("email")));
    }
    if touched("phone") {
        b.insert("phonePrimary".into(), json!(fields.get("phone")));
    }
    let mut addr = serde_json::Map::new();
    for (canon, key) in [
        ("street", "address"),
        ("city", "city"),
        ("region", "department"),
        ("postal_code", "zipCode"),
        ("country", "country"),
    ] {
        if touched(canon) {
            addr.insert(key.into(), json!(fields.get(canon)));
        }
    }
    if !addr.is_empty() {
        b.insert("address".into(), Value::Object(addr));
    }
    Value::Object(b)
}

impl Alegra {
    pub fn new(cfg: AlegraConfig) -> Alegra {
        let http = Http::new(
            SYSTEM,
            &cfg.base_url,
            Auth::Basic(cfg.email, cfg.token),
            cfg.retry,
        )
        .with_budget(cfg.budget);
        Alegra { http }
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth { system, status, message, .. } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check connections.alegra.email and the API token (Alegra → Configuración → API - Integraciones con otros sistemas)".into(),
            },
            other => other,
        }
    }

    fn array(body: &Value) -> Result<&Vec<Value>, ConnectorError> {
        body.as_array()
            .or_else(|| body.get("data").and_then(Value::as_array))
            .ok_or_else(|| ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: "expected a JSON array of contacts".into(),
            })
    }
}

impl Alegra {
    /// Contacts and companies only, so far (items and estimates: ALG-7, ALG-8).
    fn supported(kind: Kind) -> Result<(), ConnectorError> {
        match kind {
            Kind::Contact | Kind::Company => Ok(()),
            k => Err(ConnectorError::unsupported(SYSTEM, k)),
        }
    }
}

#[async_trait]
impl Connector for Alegra {
    fn system(&self) -> &str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.http
            .get("contacts", &[("start", "0".into()), ("limit", "1".into())])
            .await
            .map(|_| ())
            .map_err(Self::auth_hint)
    }

    async fn prepare(&self) -> Result<Vec<String>, ConnectorError> {
        // Alegra contacts have no custom fields; the Clientify id lives in Puente's links.
        Ok(Vec::new())
    }

    fn has_modified_filter(&self, _kind: Kind) -> bool {
        false
    }

    /// Subscribes `url` to each [`WEBHOOK_EVENTS`] subject of `kinds`, after listing the
    /// subscriptions so that an activation repeated (every `serve` start) adds none.
    async fn subscribe_webhooks(
        &self,
        url: &str,
        kinds: &[Kind],
    ) -> Result<Vec<String>, ConnectorError> {
        let url = subscription_url(url);
        let a = self
            .http
            .get("webhooks/subscriptions", &[])
            .await
            .map_err(Self::auth_hint)?;
        let existing: Vec<(String, String)> = a
            .body
            .get("subscriptions")
            .or(Some(&a.body))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|sub| (s(sub, "event"), s(sub, "url")))
            .collect();
        let mut created = Vec::new();
        for (event, _, ek) in WEBHOOK_EVENTS {
            if !ek.iter().any(|k| kinds.contains(k) && self.supports(*k)) {
                continue;
            }
            if existing
                .iter()
                .any(|(e, u)| e == event && subscription_url(u) == url)
            {
                continue;
            }
            self.http
                .post(
                    "webhooks/subscriptions",
                    &json!({"event": event, "url": url}),
                )
                .await
                .map_err(Self::auth_hint)?;
            created.push(format!("Alegra webhook subscription {event} → {url}"));
        }
        Ok(created)
    }

    async fn list(
        &self,
        kind: Kind,
        _since: Option<DateTime<Utc>>,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        Self::supported(kind)?;
        let start: u64 = page.and_then(|p| p.parse().ok()).unwrap_or(0);
        let mut q = vec![
            ("start", start.to_string()),
            ("limit", PAGE_LIMIT.to_string()),
            ("order_field", "id".to_string()),
            ("order_direction", "ASC".to_string()),
            ("metadata", "true".to_string()),
        ];
        if kind == Kind::Company {
            q.push(("type", "provider".into()));
        }
        let a = self
            .http
            .get("contacts", &q)
            .await
            .map_err(Self::auth_hint)?;
        let rows = Self::array(&a.body)?;
        let total = a.body.pointer("/metadata/total").and_then(|t| {
            t.as_u64()
                .or_else(|| t.as_str().and_then(|x| x.parse().ok()))
        });
        let next =
            (rows.len() as u32 >= PAGE_LIMIT).then(|| (start + rows.len() as u64).to_string());
        let records = rows
            .iter()
            .filter(|v| is_kind(v, kind))
            .map(|v| to_record(kind, v))
            .collect();
        Ok(Page {
            records,
            next,
            total,
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        Self::supported(kind)?;
        match self.http.get(&format!("contacts/{id}"), &[]).await {
            Ok(a) => Ok(Some(to_record(kind, &a.body))),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(Self::auth_hint(e)),
        }
    }

    async fn find_by_key(&self, kind: Kind, key: &str) -> Result<Vec<Record>, ConnectorError> {
        Self::supported(kind)?;
        let a = self
            .http
            .get("contacts", &[("identification", key.to_string())])
            .await
            .map_err(Self::auth_hint)?;
        Ok(Self::array(&a.body)?
            .iter()
            .map(|v| to_record(kind, v))
            .collect())
    }

    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        _partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        Self::supported(kind)?;
        let body = body_for(kind, fields, &[], None);
        let a = self
            .http
            .post("contacts", &body)
            .await
            .map_err(Self::auth_hint)?;
        Ok(to_record(kind, &a.body))
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        _partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        Self::supported(current.kind)?;
        let (target, changed) = current.fields.apply(set, clear);
        let mut body = body_for(current.kind, &target, &changed, Some(current));
        // A company written through the contact resource stays a provider (ALG-6).
        if current.kind == Kind::Company {
            let mut types: Vec<String> = current
                .extra
                .get("type")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if !types.iter().any(|t| t == "provider") {
                types.push("provider".into());
                body["type"] = json!(types);
            }
        }
        if body.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(current.clone());
        }
        let a = self
            .http
            .put(&format!("contacts/{}", current.id), &body)
            .await
            .map_err(Self::auth_hint)?;
        Ok(to_record(current.kind, &a.body))
    }

    fn calls(&self) -> CallStats {
        self.http.stats()
    }

    fn reset_budget(&self) {
        self.http.reset_budget()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alg11_alegra_webhook_kinds_come_from_the_types_and_deletions_are_not_synced() {
        let body = |subject: &str, client: Value| {
            json!({"subject": subject, "message": {"client": client}}).to_string()
        };
        let person = json!({"id": "3", "type": ["client"], "updated_at": "2026-11-22 10:00:00"});
        let d = parse_webhook(body("edit-client", person.clone()).as_bytes()).unwrap();
        assert_eq!(d.targets, vec![(Kind::Contact, "3".to_string())]);
        let provider = json!({"id": 4, "type": ["provider"]});
        let d = parse_webhook(body("new-client", provider).as_bytes()).unwrap();
        assert_eq!(d.targets, vec![(Kind::Company, "4".to_string())]);
        // Same second, other content: another version (no false duplicate).
        let mut edited = person.clone();
        edited["name"] = json!("Ana");
        assert_ne!(
            parse_webhook(body("edit-client", person).as_bytes())
                .unwrap()
                .version,
            parse_webhook(body("edit-client", edited).as_bytes())
                .unwrap()
                .version
        );
        let d = parse_webhook(body("delete-client", json!({"id": "3"})).as_bytes()).unwrap();
        assert!(d.targets.is_empty());
        assert!(parse_webhook(br#"{"event":"x","data":{}}"#).is_err());
        assert_eq!(
            subscription_url("https://h.es/webhooks/t/alegra/s"),
            "h.es/webhooks/t/alegra/s"
        );
    }

    #[test]
    fn alg4_alegra_types_map_to_relationship_and_back_keeping_provider() {
        assert_eq!(relationship_of(&["client".into()]), Relationship::Client);
        assert_eq!(relationship_of(&["lead".into()]), Relationship::Lead);
        assert_eq!(relationship_of(&[]), Relationship::Other);
        assert_eq!(relationship_of(&["provider".into()]), Relationship::Other);
        assert_eq!(
            types_for(Relationship::Lead, &["client".into(), "provider".into()]),
            vec!["lead", "provider"]
        );
        assert_eq!(
            types_for(Relationship::Other, &["client".into()]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn alg6_providers_are_companies_persons_are_contacts() {
        let p = json!({"type": ["provider"]});
        let c = json!({"type": ["client"]});
        let both = json!({"type": ["client", "provider"]});
        let none = json!({"type": []});
        assert!(is_kind(&p, Kind::Company) && !is_kind(&p, Kind::Contact));
        assert!(is_kind(&c, Kind::Contact) && !is_kind(&c, Kind::Company));
        assert!(is_kind(&both, Kind::Contact) && is_kind(&both, Kind::Company));
        assert!(is_kind(&none, Kind::Contact));
    }

    #[test]
    fn alg2_alegra_contact_maps_to_canonical() {
        let v = json!({"id": "774", "name": "Lina María Montoya Ruiz",
            "nameObject": {"firstName": "Lina", "secondName": "María", "lastName": "Montoya", "secondLastName": "Ruiz"},
            "identification": "x1234567l", "email": "lina@ex.com", "phonePrimary": "981", "mobile": "600",
            "type": ["client"], "address": {"address": "Calle 10", "city": "Lugo", "zipCode": "27001"},
            "updated_at": "2026-11-22 10:00:00"});
        let r = to_record(Kind::Contact, &v);
        assert_eq!(r.fields.get("first_name"), "Lina María");
        assert_eq!(r.fields.get("last_name"), "Montoya Ruiz");
        assert_eq!(r.fields.get("tax_id"), "X1234567L");
        assert_eq!(r.fields.get("status"), "client");
        assert_eq!(r.fields.get("postal_code"), "27001");
        assert!(r.modified.is_some());
        // and the write side keeps the names whole, so they read back the same (no echo loop)
        let body = body_for(Kind::Contact, &r.fields, &[], None);
        assert_eq!(body["nameObject"]["firstName"], "Lina María");
        assert_eq!(
            body["identification"],
            json!({"type": "NIE", "number": "X1234567L"})
        );
    }
}
