//! Clientify webhook deliveries (ALG-11, ODO-6): the payload shapes and event names.

use super::{mapping::s, ID_SYNTAX};
use crate::ids::IdSyntax;
use puente_core::Kind;
use serde_json::Value;

/// A Clientify webhook delivery, parsed (ALG-11). The vendor's own n8n node accepts three
/// payload shapes, so all three are read: `{"event", "contact"}`, `{"hook": {"id", "event"},
/// "contact"}` (django-rest-hooks) and `{"event", "timestamp", "data": {"contact"}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookDelivery {
    /// e.g. `contact.saved`
    pub event: String,
    /// The entity, when the event is one Puente syncs.
    pub kind: Option<Kind>,
    /// The record's id, when the body carries the record.
    pub id: Option<String>,
    /// What makes two deliveries of the same change equal: the record's `modified`, else the
    /// delivery timestamp, else the hook id.
    pub version: String,
}

pub use crate::WebhookError;

/// The Clientify webhook events Puente syncs, and the entity each is about (ALG-11, ODO-6).
/// The one place to add an event (`budget.saved` → budgets). `product.saved` is not in the
/// vendor node's list but both seeds name it. Every other event (`company.deleted`:
/// deletions are not propagated; `deal.saved`, `task.saved`; orders flow to Clientify only)
/// is answered 202 and ignored.
pub const WEBHOOK_EVENTS: &[(&str, Kind)] = &[
    ("contact.saved", Kind::Contact),
    ("company.saved", Kind::Company),
    ("product.saved", Kind::Product),
    // ALG-11: `budget.saved` (budgets are modelled, see the module doc).
    ("budget.saved", Kind::Budget),
];

/// Parses a Clientify webhook body. The record in the body is not trusted beyond its id: the
/// worker re-reads it from the API.
pub fn parse_webhook(body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let v = crate::webhook_json(body)?;
    let event = v
        .get("event")
        .and_then(Value::as_str)
        .or_else(|| v.pointer("/hook/event").and_then(Value::as_str))
        .ok_or_else(|| WebhookError("no `event` (nor `hook.event`) in the body".into()))?
        .to_string();
    let entity = event.split('.').next().unwrap_or("");
    let kind = WEBHOOK_EVENTS
        .iter()
        .find(|(e, _)| *e == event)
        .map(|(_, k)| *k);
    let record = v
        .get(entity)
        .or_else(|| v.get("data").and_then(|d| d.get(entity)))
        .filter(|r| r.is_object());
    // The id goes into a URL: only a Clientify id is taken (a path, a query or an inexact
    // number such as 1e+23 is refused here, before anything is queued).
    let id = match record
        .and_then(|r| r.get("id"))
        .and_then(IdSyntax::from_json)
    {
        Some(Ok(raw)) if kind.is_some() => Some(
            ID_SYNTAX
                .parse(&raw)
                .map_err(|e| WebhookError(format!("`{event}`: {e}")))?,
        ),
        Some(Err(e)) if kind.is_some() => return Err(WebhookError(format!("`{event}`: {e}"))),
        _ => None,
    };
    if kind.is_some() && id.is_none() {
        return Err(WebhookError(format!("`{event}` without a {entity} id")));
    }
    let version = record
        .map(|r| s(r, "modified"))
        .filter(|m| !m.is_empty())
        .or_else(|| v.get("timestamp").map(|t| t.to_string()))
        .or_else(|| v.pointer("/hook/id").map(|t| t.to_string()))
        .unwrap_or_default();
    Ok(WebhookDelivery {
        event,
        kind,
        id,
        version,
    })
}

#[cfg(test)]
mod webhook_tests {
    use super::*;

    #[test]
    fn alg11_three_payload_shapes_parse_to_the_same_event() {
        let c = r#"{"id": 5, "modified": "2026-11-22T10:00:00+00:00"}"#;
        let shapes = [
            format!(r#"{{"event":"contact.saved","contact":{c}}}"#),
            format!(r#"{{"hook":{{"id":9823,"event":"contact.saved"}},"contact":{c}}}"#),
            format!(
                r#"{{"event":"contact.saved","timestamp":1,"account_id":1,"data":{{"contact":{c},"changes":{{}}}}}}"#
            ),
        ];
        for b in shapes {
            let d = parse_webhook(b.as_bytes()).unwrap();
            assert_eq!(d.kind, Some(Kind::Contact));
            assert_eq!(d.id.as_deref(), Some("5"));
            assert_eq!(d.version, "2026-11-22T10:00:00+00:00");
        }
    }

    #[test]
    fn alg11_product_and_budget_events_map_to_their_kinds() {
        let d = parse_webhook(br#"{"event":"budget.saved","budget":{"id":7001}}"#).unwrap();
        assert_eq!(
            (d.kind, d.id.as_deref()),
            (Some(Kind::Budget), Some("7001"))
        );
        let d = parse_webhook(br#"{"event":"product.saved","product":{"id":501}}"#).unwrap();
        assert_eq!(
            (d.kind, d.id.as_deref()),
            (Some(Kind::Product), Some("501"))
        );
    }

    #[test]
    fn alg11_bad_bodies_are_rejected_with_a_reason_and_unknown_events_pass() {
        assert!(parse_webhook(b"not json")
            .unwrap_err()
            .0
            .contains("not JSON"));
        assert!(parse_webhook(b"[1]").is_err());
        assert!(parse_webhook(br#"{"contact":{"id":1}}"#)
            .unwrap_err()
            .0
            .contains("no `event`"));
        assert!(parse_webhook(br#"{"event":"company.saved","company":{}}"#).is_err());
        let d = parse_webhook(br#"{"event":"task.saved","task":{"id":3}}"#).unwrap();
        assert_eq!(d.kind, None);
    }
}
