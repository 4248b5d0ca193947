//! What a vendor adds to the shared HTTP client without the client knowing the vendor:
//! request signing (CCV Shop's `x-hash`), checking signed responses (CCV signs every
//! answer), and reading its rate-limit headers (Alegra's `X-Rate-Limit-*`, Shopify's
//! `X-Shopify-Shop-Api-Call-Limit`). Each vendor module implements [`HttpHooks`] for what it
//! needs and hands it to [`Http::with_hooks`](super::http::Http::with_hooks).

use reqwest::header::HeaderMap;
use reqwest::Method;
use std::time::Duration;

/// A request as it goes on the wire, for signing and for checking its answer.
#[derive(Clone, Copy, Debug)]
pub struct Outgoing<'a> {
    pub method: &'a Method,
    /// Path and query as sent, without scheme and host (`/api/rest/v1/orders?start=0`).
    pub path_and_query: &'a str,
    /// The exact body bytes sent (empty for none).
    pub body: &'a [u8],
}

/// What an answer's rate-limit headers say about the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// The headers say nothing (keep what was known).
    Unknown,
    /// Calls remain in the window: go on at once.
    Clear,
    /// The window is spent: wait this long before the next call.
    Wait(Duration),
}

/// A vendor's additions to every call of its connection.
pub trait HttpHooks: Send + Sync {
    /// Headers that sign `req` (added at each attempt, so a timestamp is fresh).
    fn sign(&self, _req: &Outgoing<'_>) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Checks a successful answer to `req`; `Err` (the reason) fails the call as an
    /// answer Puente cannot trust, without retrying it.
    fn verify_response(
        &self,
        _req: &Outgoing<'_>,
        _headers: &HeaderMap,
        _body: &[u8],
    ) -> Result<(), String> {
        Ok(())
    }

    /// What this answer's rate-limit headers say about the next call.
    fn pace(&self, _headers: &HeaderMap) -> Pace {
        Pace::Unknown
    }

    /// How long a 429 or 5xx answer asks to wait, from the vendor's own headers (the
    /// standard `Retry-After` is read by the client first).
    fn retry_wait(&self, _headers: &HeaderMap) -> Option<Duration> {
        None
    }
}

/// No additions.
pub struct NoHooks;

impl HttpHooks for NoHooks {}

/// A header's value as a number.
pub fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}
