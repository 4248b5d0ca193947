//! Alegra webhook deliveries (ALG-11): subjects, payloads and subscription URLs.

use super::mapping::{is_kind, s};
use super::ID_SYNTAX;
use crate::ids::IdSyntax;
use puente_core::Kind;
use serde_json::Value;

/// The Alegra webhook subjects Puente syncs, the `message` key holding the record, and the
/// kinds it may be (ALG-11, spec §2.4). The one place to add one: Puente subscribes to
/// exactly these, for the kinds a flow syncs (items only when products are synced).
/// `delete-*` is deliberately absent: deletions are not propagated, so those deliveries are
/// answered 202 and ignored. Estimates have no event (§2.4), so budgets made in Alegra still
/// wait for a poll.
pub const WEBHOOK_EVENTS: &[(&str, &str, &[Kind])] = &[
    ("new-client", "client", &[Kind::Contact, Kind::Company]),
    ("edit-client", "client", &[Kind::Contact, Kind::Company]),
    ("new-item", "item", &[Kind::Product]),
    ("edit-item", "item", &[Kind::Product]),
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

/// Parses an Alegra webhook body `{"subject": "edit-client", "message": {"client": {…}}}`
/// (`{"subject": "edit-item", "message": {"item": {…}}}` for items). Only the id and a
/// contact's types are taken from it (the types say which flows' kinds it belongs to, as the
/// record has no kind of its own); the worker re-reads the record. Items carry no
/// `updated_at`, so their version is the content alone.
pub fn parse_webhook(body: &[u8]) -> Result<WebhookDelivery, crate::WebhookError> {
    use crate::WebhookError;
    let v = crate::webhook_json(body)?;
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
    // The id goes into a URL: only an Alegra id is taken (a path, a query or an inexact
    // number such as 1e+23 is refused here, before anything is queued).
    let id = match record.get("id").and_then(IdSyntax::from_json) {
        None => return Err(WebhookError(format!("`{event}` without a {key} id"))),
        Some(raw) => raw
            .and_then(|raw| ID_SYNTAX.parse(&raw))
            .map_err(|e| WebhookError(format!("`{event}`: {e}")))?,
    };
    // A client's types say which of its kinds it is; an item is always a product.
    let mut targets: Vec<(Kind, String)> = kinds
        .iter()
        .filter(|k| *key != "client" || is_kind(record, **k))
        .map(|k| (*k, id.clone()))
        .collect();
    if targets.is_empty() {
        // A record of none of the kinds: the first kind re-reads it.
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
