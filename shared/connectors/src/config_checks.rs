//! Checks every vendor's settings share.

use crate::config::{ConfigError, ConnectionSpec};

/// `url` (the value of `key`) must be an http(s) URL.
pub fn http_url(spec: &ConnectionSpec<'_>, key: &str, url: &str) -> Result<(), ConfigError> {
    let ok = url::Url::parse(url)
        .map(|u| u.scheme() == "http" || u.scheme() == "https")
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(spec.error(
            key,
            format!("'{url}' is not an http(s) URL"),
            "give the API's base URL, e.g. https://api.alegra.com/api/v1",
        ))
    }
}
