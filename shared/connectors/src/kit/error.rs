//! Connector errors: typed so the runtime can tell a retry from a permanent failure, and
//! worded so a person reading the log knows which system said what and what to do.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectorError {
    /// 401/403: the vendor rejected the credentials (ALG-12).
    Auth {
        system: String,
        status: u16,
        message: String,
        hint: String,
    },
    /// No connection could be made (refused, DNS, connect timeout): nothing was sent.
    Unreachable {
        system: String,
        url: String,
        detail: String,
    },
    /// Still rate-limited (429) after every retry the policy allows.
    RateLimited { system: String, detail: String },
    /// The per-connection call budget for this run is spent.
    Budget { system: String, limit: u64 },
    /// The vendor answered an error. `transient` for 5xx after retries; 4xx are permanent.
    Vendor {
        system: String,
        status: u16,
        message: String,
        transient: bool,
    },
    /// A non-idempotent write (POST) whose outcome is unknown: the request may have been
    /// applied although no answer arrived. It is never blindly retried.
    Ambiguous { system: String, detail: String },
    /// The answer could not be understood.
    Decode { system: String, detail: String },
    /// The record does not exist (404 on a single-record call).
    NotFound { system: String, what: String },
    /// The connector does not handle this entity kind (e.g. Alegra products before they are
    /// built): a configuration problem, never retried.
    Unsupported { system: String, what: String },
    /// A canonical value has no counterpart in this vendor (ALG-7: a tax rate Alegra has no
    /// tax for; ALG-8: a budget line whose product is not linked). Permanent: the record
    /// fails with this reason until someone adds the counterpart.
    Mapping { system: String, detail: String },
}

impl ConnectorError {
    /// Worth retrying later (the queue's retry, not the HTTP layer's, which already tried).
    pub fn is_transient(&self) -> bool {
        match self {
            ConnectorError::Unreachable { .. }
            | ConnectorError::RateLimited { .. }
            | ConnectorError::Budget { .. }
            | ConnectorError::Ambiguous { .. } => true,
            ConnectorError::Vendor { transient, .. } => *transient,
            _ => false,
        }
    }

    pub fn system(&self) -> &str {
        match self {
            ConnectorError::Auth { system, .. }
            | ConnectorError::Unreachable { system, .. }
            | ConnectorError::RateLimited { system, .. }
            | ConnectorError::Budget { system, .. }
            | ConnectorError::Vendor { system, .. }
            | ConnectorError::Ambiguous { system, .. }
            | ConnectorError::Decode { system, .. }
            | ConnectorError::NotFound { system, .. }
            | ConnectorError::Unsupported { system, .. }
            | ConnectorError::Mapping { system, .. } => system,
        }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectorError::Auth { system, status, message, hint } => write!(
                f,
                "{system} rejected the credentials (HTTP {status}: {message}); {hint}"
            ),
            ConnectorError::Unreachable { system, url, detail } => write!(
                f,
                "{system} is unreachable at {url}: {detail}; check the address (base_url or url) in [connections.{system}] and that the server is up"
            ),
            ConnectorError::RateLimited { system, detail } => {
                write!(f, "{system} kept answering 429 Too Many Requests: {detail}")
            }
            ConnectorError::Budget { system, limit } => write!(
                f,
                "{system}: the call budget of {limit} calls for this run is spent; the rest continues next run"
            ),
            ConnectorError::Vendor { system, status, message, .. } => {
                write!(f, "{system} answered HTTP {status}: {message}")
            }
            ConnectorError::Ambiguous { system, detail } => write!(
                f,
                "{system}: a create may or may not have been applied ({detail}); not retried blindly"
            ),
            ConnectorError::Decode { system, detail } => {
                write!(f, "{system} sent an answer Puente could not read: {detail}")
            }
            ConnectorError::NotFound { system, what } => write!(f, "{system}: {what} not found"),
            ConnectorError::Unsupported { system, what } => write!(
                f,
                "{system} does not sync {what}; remove it from the flow's `entities`"
            ),
            ConnectorError::Mapping { system, detail } => write!(f, "{system}: {detail}"),
        }
    }
}

impl std::error::Error for ConnectorError {}

impl ConnectorError {
    /// The same error, said of the connection `name` (its identity in the tenant) rather
    /// than of the vendor.
    pub fn with_system(mut self, name: &str) -> ConnectorError {
        // Hints name the config section by the vendor (`connections.odoo.database`); said of
        // a connection, they name its own section.
        let (from, to) = (
            format!("connections.{}.", self.system()),
            format!("connections.{name}."),
        );
        if from != to {
            match &mut self {
                ConnectorError::Auth { hint: t, .. }
                | ConnectorError::Vendor { message: t, .. }
                | ConnectorError::Mapping { detail: t, .. }
                | ConnectorError::Decode { detail: t, .. } => *t = t.replace(&from, &to),
                _ => {}
            }
        }
        match &mut self {
            ConnectorError::Auth { system, .. }
            | ConnectorError::Unreachable { system, .. }
            | ConnectorError::RateLimited { system, .. }
            | ConnectorError::Budget { system, .. }
            | ConnectorError::Vendor { system, .. }
            | ConnectorError::Ambiguous { system, .. }
            | ConnectorError::Decode { system, .. }
            | ConnectorError::NotFound { system, .. }
            | ConnectorError::Unsupported { system, .. }
            | ConnectorError::Mapping { system, .. } => name.clone_into(system),
        }
        self
    }

    /// The error for a kind a connector does not handle.
    pub fn unsupported(system: &str, kind: puente_core::Kind) -> ConnectorError {
        ConnectorError::Unsupported {
            system: system.into(),
            what: format!("{kind}s"),
        }
    }
}
