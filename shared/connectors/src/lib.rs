//! One module per vendor API: HTTP client, mapping to canonical records, and webhook parsing
//! and subscription. Every vendor-specific path and field name lives in its module, so a correction
//! when a real API disagrees with the sandbox touches one file.

pub mod alegra;
pub mod clientify;
pub mod kit;
pub mod odoo;

pub use kit::{error, http, ids, time};

pub use error::ConnectorError;
pub use http::{Auth, CallStats, Http, RetryPolicy};
pub use ids::{segment, IdError, IdSyntax};
pub use kit::named::named;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puente_core::{Fields, Kind, Record};

/// Why a webhook body was rejected (answered 400).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookError(pub String);

/// A webhook body as JSON: every vendor's deliveries are one JSON object, so anything else
/// is a malformed request (answered 400).
pub(crate) fn webhook_json(body: &[u8]) -> Result<serde_json::Value, WebhookError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| WebhookError(format!("body is not JSON: {e}")))?;
    if !v.is_object() {
        return Err(WebhookError("body is not a JSON object".into()));
    }
    Ok(v)
}

/// One page of a listing.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub records: Vec<Record>,
    /// Token for the next page; `None` at the end.
    pub next: Option<String>,
    /// Total matching records, when the vendor says (for progress bars).
    pub total: Option<u64>,
}

/// What Puente needs from a vendor, per entity kind.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The connection's name in this tenant (links, events, logs, webhook URLs): the key of
    /// its `[connections.NAME]` section once built by the runtime (see [`named`]), the
    /// vendor's name before.
    fn system(&self) -> &str;

    /// The vendor (`clientify`, `alegra`, `odoo`).
    fn vendor(&self) -> &'static str;

    /// ALG-12: checks that the credentials work, with a clear error naming the system.
    async fn check(&self) -> Result<(), ConnectorError>;

    /// ALG-13: makes sure what the flow needs exists on the vendor side (e.g. custom fields).
    /// Returns a description of each thing it created.
    async fn prepare(&self) -> Result<Vec<String>, ConnectorError>;

    /// ALG-11: makes sure the vendor posts changes of `kinds` to `url` (Puente's webhook
    /// receiver for this system), without subscribing twice. Returns a description of each
    /// subscription created. The default does nothing: Clientify, for one, registers webhooks
    /// in its UI only (spec §1.4), so its URL is given to the user instead.
    async fn subscribe_webhooks(
        &self,
        _url: &str,
        _kinds: &[Kind],
    ) -> Result<Vec<String>, ConnectorError> {
        Ok(Vec::new())
    }

    /// Whether this connector syncs `kind` at all. Flows only include kinds both of their
    /// connectors support (checked when the app is built); the other methods answer
    /// [`ConnectorError::Unsupported`] for the rest.
    fn supports(&self, kind: Kind) -> bool {
        matches!(kind, Kind::Contact | Kind::Company)
    }

    /// How this vendor spells ids of `kind`. Every id that comes from outside (a webhook, a
    /// CLI argument, a replayed event) is parsed with it before it is queued or put in a URL
    /// (see [`ids`]).
    fn id_syntax(&self, kind: Kind) -> IdSyntax;

    /// Whether [`Connector::list`] can filter by modification time for `kind`.
    fn has_modified_filter(&self, kind: Kind) -> bool;

    /// One page of records of `kind`, all of them or (where supported) those modified at or
    /// after `since`, in a stable order. `page` is the token from the previous page.
    async fn list(
        &self,
        kind: Kind,
        since: Option<DateTime<Utc>>,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError>;

    /// One record by id; `None` when it does not exist.
    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError>;

    /// Records whose natural key ([`puente_core::natural_key`]: tax id, SKU, or
    /// `ecommerce/order_id`) equals `key` (one search call).
    async fn find_by_key(&self, kind: Kind, key: &str) -> Result<Vec<Record>, ConnectorError>;

    /// Creates a record from canonical `fields`. `partner_id` is the counterpart's id, for
    /// vendors that keep it in the record (Clientify `in_alegra`).
    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError>;

    /// Writes only `set` and `clear` (and the link marks when missing) to `current`.
    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError>;

    /// The kind (contact or company) of the party `id`, for a reference that does not say
    /// (ALG-8: an Alegra estimate's client may be a person or a provider). `None` when it
    /// does not exist. Vendors that keep the two apart always say, hence the default.
    async fn party_kind(&self, _id: &str) -> Result<Option<Kind>, ConnectorError> {
        Ok(Some(Kind::Contact))
    }

    /// Whether `record` lacks the marks this vendor keeps for a link to `partner_id`.
    fn needs_marks(&self, _record: &Record, _partner_id: &str) -> bool {
        false
    }

    /// Calls made so far.
    fn calls(&self) -> CallStats;

    /// Starts a new run's call budget.
    fn reset_budget(&self);
}
