//! One module per vendor API: HTTP client, mapping to canonical records, and webhook parsing
//! and subscription. Every vendor-specific path and field name lives in its module, so a correction
//! when a real API disagrees with the sandbox touches one file.

pub mod alegra;
pub mod cartum;
pub mod ccv;
pub mod clientify;
pub mod config;
mod config_checks;
pub mod eaccounting;
pub mod economic;
pub mod kit;
pub mod odoo;
pub mod registry;
pub mod roapp;
pub mod shopify;
pub mod woocommerce;

pub use kit::{error, http, ids, time};

pub use config::{BackRef, ConfigError, ConnectionSpec, SideSettings};
pub use error::ConnectorError;
pub use http::{Auth, CallStats, Http, RetryPolicy};
pub use ids::{segment, IdError, IdSyntax};
pub use kit::named::{flow_side, named};
pub use registry::{Vendor, VENDORS};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puente_core::{Fields, KeyKind, KeySpec, Kind, Record};

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

/// What a listing asks for. Connectors push a filter down to the vendor where its API
/// has one ([`Read::has_modified_filter`]) and list everything otherwise.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListQuery {
    /// Only records modified at or after this instant (Modified runs).
    pub modified_since: Option<DateTime<Utc>>,
    /// Only records created at or after this instant (a backfill, ROA-1). Connectors that
    /// cannot filter by it list everything and the runtime keeps what its `created` says.
    pub created_since: Option<DateTime<Utc>>,
}

impl ListQuery {
    /// Every record.
    pub fn all() -> ListQuery {
        ListQuery::default()
    }

    /// Records modified at or after `since` (every record when `None`).
    pub fn modified_since(since: Option<DateTime<Utc>>) -> ListQuery {
        ListQuery {
            modified_since: since,
            created_since: None,
        }
    }
}

/// A configured connection to one vendor account: what every vendor offers (identity,
/// health, call counts), and the capabilities its vendor has — reading is universal;
/// writing, webhooks and a back-reference kept in the record are not (platform.md §6).
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
    async fn prepare(&self) -> Result<Vec<String>, ConnectorError> {
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

    /// Calls made so far.
    fn calls(&self) -> CallStats;

    /// Starts a new run's call budget.
    fn reset_budget(&self);

    /// Reading records: every connector has it.
    fn read(&self) -> &dyn Read;

    /// Writing records, when the vendor can be written.
    fn write(&self) -> Option<&dyn Write> {
        None
    }

    /// Receiving (and subscribing to) the vendor's webhooks, when it sends them.
    fn webhooks(&self) -> Option<&dyn Webhooks> {
        None
    }

    /// The counterpart's id and link marks kept in the record itself (Clientify's
    /// `in_alegra` custom field and tag, ALG-2, ALG-5), when the vendor keeps one.
    fn back_reference(&self) -> Option<&dyn BackReference> {
        None
    }
}

impl dyn Connector {
    /// The write capability, or [`ConnectorError::Unsupported`] naming the connection.
    pub fn writer(&self, kind: Kind) -> Result<&dyn Write, ConnectorError> {
        self.write().ok_or_else(|| ConnectorError::Unsupported {
            system: self.system().to_string(),
            what: format!("writing {kind}s"),
        })
    }

    /// Whether `record` lacks the marks this connection keeps for a link to `partner_id`
    /// (never, without a back-reference).
    pub fn needs_marks(&self, record: &Record, partner_id: &str) -> bool {
        self.back_reference()
            .is_some_and(|b| b.needs_marks(record, partner_id))
    }
}

/// Reading records of a vendor.
#[async_trait]
pub trait Read: Send + Sync {
    /// Whether [`Read::list`] can filter by modification time for `kind`.
    fn has_modified_filter(&self, kind: Kind) -> bool;

    /// One page of records of `kind` matching `q` (as far as the vendor can filter; see
    /// [`ListQuery`]), in a stable order. `page` is the token from the previous page.
    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError>;

    /// One record by id; `None` when it does not exist.
    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError>;
}

/// Writing records to a vendor.
#[async_trait]
pub trait Write: Send + Sync {
    /// Whether [`Write::find_by_key`] can look `kind` records up by a key of `key`'s kind
    /// (a flow may only match by keys both sides can search, or a record changed by webhook
    /// could find no counterpart and be created twice).
    fn searchable(&self, kind: Kind, key: KeyKind) -> bool;

    /// Records of `kind` whose key `spec` reads as `value` (its canonical form, see
    /// [`puente_core::KeySpec::value`]), in one search call or a few. Candidates may be
    /// returned loosely; the caller keeps those whose key really is `value`.
    async fn find_by_key(
        &self,
        kind: Kind,
        spec: &KeySpec,
        value: &str,
    ) -> Result<Vec<Record>, ConnectorError>;

    /// Creates a record from canonical `fields`. `partner_id` is the counterpart's id, for
    /// vendors that keep it in the record (a [`BackReference`]).
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

    /// Whether an update sends only the changed fields. Vendors that take whole documents
    /// (e-conomic's and eAccounting's `PUT`) send everything they hold, changed or not; the
    /// conformance suite checks them for a correct write instead.
    fn partial_updates(&self, _kind: Kind) -> bool {
        true
    }

    /// Whether documents of `kind` written here take their own customer (the one the
    /// document names, made to exist first). `false` when the flow gives this side one
    /// default customer for every document (APC-1's default debtor): the runtime then syncs
    /// no customer for them.
    fn takes_customer(&self, _kind: Kind) -> bool {
        true
    }

    /// The request body a create of `kind` with `fields` would send, for a dry run to show
    /// (APC-7: the mapped document); `None` when the connector cannot say without calls.
    /// References to records not made yet appear as placeholders.
    fn preview(&self, _kind: Kind, _fields: &Fields) -> Option<serde_json::Value> {
        None
    }

    /// Why `current` may no longer be changed, if so (ROA-3: an order whose products were
    /// written off in RO App): the pair is skipped with this reason instead of written.
    fn frozen(&self, _current: &Record) -> Option<String> {
        None
    }

    /// Why a record with `fields` cannot be written to this side at all, if so (ROA-2: an
    /// order in another currency than the account's). Asked before anything of the pair —
    /// its customer and products included — is written: the pair fails with this reason and
    /// nothing is written.
    async fn refuse(
        &self,
        _kind: Kind,
        _fields: &Fields,
    ) -> Result<Option<String>, ConnectorError> {
        Ok(None)
    }

    /// The kind (contact or company) of the party `id`, for a reference that does not say
    /// (ALG-8: an Alegra estimate's client may be a person or a provider). `None` when it
    /// does not exist. Vendors that keep the two apart always say, hence the default.
    async fn party_kind(&self, _id: &str) -> Result<Option<Kind>, ConnectorError> {
        Ok(Some(Kind::Contact))
    }
}

/// The counterpart's id and link marks a vendor keeps in its own records (ALG-2 step 1,
/// ALG-5). They are written with the record by [`Write::create`] and [`Write::update`]
/// when given a `partner_id`.
pub trait BackReference: Send + Sync {
    /// Whether `record` lacks the marks for a link to `partner_id`.
    fn needs_marks(&self, record: &Record, partner_id: &str) -> bool;
}

/// A webhook delivery as received: header names lower-case, the body as sent.
#[derive(Clone, Copy, Debug)]
pub struct WebhookRequest<'a> {
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The pseudo-header under which the acceptance path passes the delivery URL's query
/// string (without `?`): vendors that fill the data into the URL (e-conomic's legacy
/// webhooks are URL templates) read it with [`WebhookRequest::query`]. A `:` cannot start a
/// real HTTP/1.1 header name, so no sender can forge it.
pub const QUERY_HEADER: &str = ":query";

impl WebhookRequest<'_> {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The delivery URL's query parameters, decoded (empty when it had none).
    pub fn query(&self) -> Vec<(String, String)> {
        self.header(QUERY_HEADER)
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A delivery, parsed: the event, the records it names, and what tells two deliveries of
/// one change apart.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The vendor's event name (`contact.saved`, `edit-client`).
    pub event: String,
    /// The records to re-read: (kind, id); empty when the event is not synced.
    pub targets: Vec<(Kind, String)>,
    /// Equal for two deliveries of the same change.
    pub version: String,
}

/// How a connection's webhooks are set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookSetup {
    /// The user pastes Puente's URL into the vendor's UI (Clientify).
    Manual,
    /// Puente subscribes through the vendor's API on activation (Alegra).
    Api,
}

/// Receiving a vendor's webhooks (ALG-11).
#[async_trait]
pub trait Webhooks: Send + Sync {
    /// How the URL reaches the vendor.
    fn setup(&self) -> WebhookSetup;

    /// Checks the delivery's own signature where the vendor signs them; the URL secret has
    /// been checked already. `Err` is answered 401 with nothing queued.
    fn verify(&self, _req: &WebhookRequest<'_>) -> Result<(), String> {
        Ok(())
    }

    /// [`Webhooks::verify`] for vendors whose signing keys only their API can tell (CCV
    /// Shop signs each subscription's deliveries with a key it hands out when the
    /// subscription is made): the connector may read them first. The acceptance path calls
    /// this; by default it is `verify`.
    async fn verify_with_vendor(&self, req: &WebhookRequest<'_>) -> Result<(), String> {
        self.verify(req)
    }

    /// Whether the request is the vendor's handshake (sent when a subscription is made,
    /// before any delivery): answered 2XX, nothing queued.
    fn is_handshake(&self, _req: &WebhookRequest<'_>) -> bool {
        false
    }

    /// The delivery's event and records. The body is not trusted beyond the ids: the
    /// worker re-reads each record.
    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Delivery, WebhookError>;

    /// Makes sure the vendor posts changes of `kinds` to `url` (Puente's receiver for this
    /// connection), without subscribing twice. Returns a description of each subscription
    /// created. Vendors set up by hand ([`WebhookSetup::Manual`]) create none.
    async fn subscribe(&self, _url: &str, _kinds: &[Kind]) -> Result<Vec<String>, ConnectorError> {
        Ok(Vec::new())
    }
}
