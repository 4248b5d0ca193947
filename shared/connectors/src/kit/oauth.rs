//! Bearer tokens that expire: a [`TokenSource`] hands the client a current access token
//! and forgets it when the vendor answers 401, so the next attempt gets a fresh one
//! (eAccounting's OAuth2: 1-hour access tokens renewed with a refresh token).

use crate::error::ConnectorError;
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where a connection's bearer tokens come from.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A token valid now (cached until shortly before it expires).
    async fn token(&self, client: &reqwest::Client) -> Result<String, ConnectorError>;

    /// The vendor refused the token: the next [`TokenSource::token`] fetches a new one.
    fn invalidate(&self);
}

/// OAuth2 refresh-token grant with HTTP Basic client authentication: `POST {token_url}`
/// `grant_type=refresh_token&refresh_token=…`, answered `{access_token, expires_in,
/// refresh_token?}`. A new refresh token in the answer replaces the old one (rotation).
pub struct RefreshToken {
    system: String,
    token_url: String,
    client_id: String,
    client_secret: String,
    state: Mutex<TokenState>,
    /// One refresh at a time: with rotating refresh tokens, two callers presenting the
    /// same one would see the second refused.
    refreshing: tokio::sync::Mutex<()>,
}

struct TokenState {
    refresh: String,
    access: Option<(String, Instant)>,
}

/// Tokens are renewed this long before they expire.
const EARLY: Duration = Duration::from_secs(60);

impl RefreshToken {
    /// The one source of a grant in this process: every connector built for the same
    /// client and refresh token (a connection shared by flows, and one per flow that sets
    /// options) uses it, so a rotated refresh token is never presented twice.
    pub fn shared(
        system: &str,
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> std::sync::Arc<RefreshToken> {
        type Key = (String, String, String);
        // Weak: a grant no connector holds any more is forgotten (its next connector,
        // e.g. a new app on a rebuilt config, starts from the configured token again).
        static SOURCES: std::sync::OnceLock<
            Mutex<std::collections::HashMap<Key, std::sync::Weak<RefreshToken>>>,
        > = std::sync::OnceLock::new();
        let key = (
            token_url.to_string(),
            client_id.to_string(),
            refresh_token.to_string(),
        );
        let mut all = SOURCES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        all.retain(|_, w| w.strong_count() > 0);
        if let Some(live) = all.get(&key).and_then(std::sync::Weak::upgrade) {
            return live;
        }
        let made = std::sync::Arc::new(RefreshToken::new(
            system,
            token_url,
            client_id,
            client_secret,
            refresh_token,
        ));
        all.insert(key, std::sync::Arc::downgrade(&made));
        made
    }

    pub fn new(
        system: &str,
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> RefreshToken {
        RefreshToken {
            system: system.to_string(),
            token_url: token_url.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            state: Mutex::new(TokenState {
                refresh: refresh_token.to_string(),
                access: None,
            }),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TokenState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached access token while it is valid.
    fn current(&self) -> Option<String> {
        let st = self.lock();
        st.access
            .as_ref()
            .filter(|(_, until)| Instant::now() + EARLY < *until)
            .map(|(t, _)| t.clone())
    }
}

#[async_trait]
impl TokenSource for RefreshToken {
    async fn token(&self, client: &reqwest::Client) -> Result<String, ConnectorError> {
        if let Some(t) = self.current() {
            return Ok(t);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        let refresh = {
            let st = self.lock();
            if let Some((t, until)) = &st.access {
                if Instant::now() + EARLY < *until {
                    return Ok(t.clone());
                }
            }
            st.refresh.clone()
        };
        let auth_err = |status: u16, message: String| ConnectorError::Auth {
            system: self.system.clone(),
            status,
            message,
            hint: "the refresh token was refused: connect the account again to get a new one"
                .into(),
        };
        let resp = client
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .send()
            .await
            .map_err(|e| ConnectorError::Unreachable {
                system: self.system.clone(),
                url: self.token_url.clone(),
                detail: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.unwrap_or_default();
        if status == 429 || status >= 500 {
            // The identity server did not take the refresh token (RFC 6749 answers a refused
            // grant 400): the same one is presented again on the next call, and the account
            // is not to be reconnected.
            return Err(ConnectorError::Vendor {
                system: self.system.clone(),
                status,
                message: format!("token endpoint: {}", super::http::error_message(&body)),
                transient: true,
            });
        }
        if status != 200 {
            return Err(auth_err(status, super::http::error_message(&body)));
        }
        let v: Value = serde_json::from_slice(&body).map_err(|e| ConnectorError::Decode {
            system: self.system.clone(),
            detail: format!("token answer: {e}"),
        })?;
        let access = v["access_token"]
            .as_str()
            .ok_or_else(|| auth_err(status, "no access_token in the answer".into()))?
            .to_string();
        let ttl = Duration::from_secs(v["expires_in"].as_u64().unwrap_or(3600));
        let mut st = self.lock();
        if let Some(r) = v["refresh_token"].as_str() {
            st.refresh = r.to_string();
        }
        st.access = Some((access.clone(), Instant::now() + ttl));
        Ok(access)
    }

    fn invalidate(&self) {
        self.lock().access = None;
    }
}
