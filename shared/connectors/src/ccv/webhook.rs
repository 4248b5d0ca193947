//! CCV Shop webhooks: one subscription per event (`POST /webhooks {event, address,
//! is_active}`), answered with the subscription's own `key` [C]. A delivery is `{event, id,
//! href}` signed with `x-hash` = hex HMAC-SHA512(key, raw body) [I: the page's best guess,
//! which the sandbox sends]; the receiver reads the resource itself.

use crate::{Delivery, WebhookError, WebhookRequest};
use puente_core::Kind;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The events Puente subscribes to and the entities each one names. `products.*` is [C];
/// the order events are named by analogy [I].
pub const EVENTS: [(&str, &[Kind]); 4] = [
    ("orders.created", &[Kind::Order]),
    ("orders.updated", &[Kind::Order]),
    ("products.created", &[Kind::Product]),
    ("products.updated", &[Kind::Product]),
];

/// How often the keys may be read again for a delivery no known key signs.
const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// The subscription keys known to this connection.
#[derive(Default)]
pub struct Keys {
    pub keys: Vec<String>,
    pub read_at: Option<Instant>,
}

impl Keys {
    pub fn add(&mut self, key: &str) {
        if !key.is_empty() && !self.keys.iter().any(|k| k == key) {
            self.keys.push(key.to_string());
        }
    }

    /// Whether the keys may be read from the API again.
    pub fn refresh_due(&self) -> bool {
        self.read_at.is_none_or(|t| t.elapsed() >= REFRESH_EVERY)
    }
}

/// Whether a subscription key signs the delivery (`x-hash` over the raw body).
pub fn verify(keys: &[String], req: &WebhookRequest<'_>) -> Result<(), String> {
    let Some(sig) = req.header("x-hash") else {
        return Err("the delivery is not signed (no x-hash)".into());
    };
    if keys.is_empty() {
        return Err("no webhook subscription key is known to check the signature".into());
    }
    if keys
        .iter()
        .any(|k| super::sign::verify(k.as_bytes(), &[req.body], sig))
    {
        Ok(())
    } else {
        Err("x-hash does not match the body under any subscription key".into())
    }
}

/// The delivery's event and record. Deliveries carry no version of the change, so each
/// one is its own (the worker reads the record; a repeat costs a read, never a write).
pub fn parse(body: &[u8]) -> Result<Delivery, WebhookError> {
    let v = crate::webhook_json(body)?;
    let event = v
        .get("event")
        .and_then(Value::as_str)
        .ok_or_else(|| WebhookError("no `event` in the delivery".into()))?
        .to_string();
    let kinds: &[Kind] = EVENTS
        .iter()
        .find(|(e, _)| *e == event)
        .map(|(_, k)| *k)
        .unwrap_or(&[]);
    let mut targets = Vec::new();
    if !kinds.is_empty() {
        let id = v
            .get("id")
            .and_then(crate::IdSyntax::from_json)
            .ok_or_else(|| WebhookError(format!("`{event}` names no record (`id`)")))?
            .map_err(|e| WebhookError(format!("`{event}`: {e}")))?;
        targets = kinds.iter().map(|k| (*k, id.clone())).collect();
    }
    let received = chrono::Utc::now()
        .timestamp_nanos_opt()
        .unwrap_or_default()
        .to_string();
    Ok(Delivery {
        event,
        targets,
        version: received,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apc1_ccv_deliveries_name_their_record_and_deletions_nothing() {
        let d = parse(br#"{"event":"orders.created","id":100001,"href":"x"}"#).unwrap();
        assert_eq!(d.targets, vec![(Kind::Order, "100001".to_string())]);
        let d = parse(br#"{"event":"products.updated","id":"2001"}"#).unwrap();
        assert_eq!(d.targets, vec![(Kind::Product, "2001".to_string())]);
        let d = parse(br#"{"event":"products.deleted","id":2001}"#).unwrap();
        assert!(d.targets.is_empty());
        assert!(parse(br#"{"event":"orders.created"}"#).is_err());
        assert!(parse(b"[1]").is_err());
    }

    #[test]
    fn apc1_ccv_delivery_signature_needs_a_known_key() {
        let body = br#"{"event":"orders.created","id":100001,"href":"x"}"#;
        // The second fixture vector (Python-computed): the key and body above.
        let fixture = include_str!("../../tests/fixtures/ccv_hmac_vectors.txt");
        let sig = fixture
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .nth(1)
            .unwrap();
        let headers = vec![("x-hash".to_string(), sig.to_string())];
        let req = WebhookRequest {
            headers: &headers,
            body,
        };
        let key = "0123456789abcdef0123456789abcdef".to_string();
        assert!(verify(std::slice::from_ref(&key), &req).is_ok());
        assert!(verify(&["other".to_string(), key.clone()], &req).is_ok());
        assert!(verify(&[], &req).is_err());
        let none: Vec<(String, String)> = Vec::new();
        let unsigned = WebhookRequest {
            headers: &none,
            body,
        };
        assert!(verify(&[key], &unsigned).is_err());
    }
}
