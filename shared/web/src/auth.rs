//! Access to the activity page: never open (APC-8, issue 15).
//!
//! - One password per tenant, set with `puente ui password --tenant T`, stored only as an
//!   argon2id PHC string: locally in [`PasswordFile`] beside the SQLite store, on AWS in
//!   Secrets Manager (`{prefix}{tenant}/ui`, see `puente-lambda`).
//! - A session is a signed cookie, so any process or Lambda container that can read the
//!   tenant's password hash can check it and none keeps session state. The signing key is
//!   derived from that hash: changing the password ends every session of the tenant, and a
//!   session of one tenant can never verify under another's key.
//! - Every button is a POST form carrying a CSRF token derived from the session, checked in
//!   constant time; the cookie is also `SameSite=Strict`, `HttpOnly`, `Secure` outside
//!   loopback, and scoped to the tenant's path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How long a login lasts.
pub const SESSION_HOURS: i64 = 8;
/// The cookie's name (its path is the tenant's, so tenants never share one).
pub const COOKIE: &str = "puente_session";
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// An argon2id hash of `password`, as a PHC string (salt and parameters included).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    if password.chars().count() < MIN_PASSWORD {
        anyhow::bail!("the password must have at least {MIN_PASSWORD} characters");
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// Whether `password` matches the stored PHC string (a malformed hash matches nothing).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// The tenant's signing key, from its password hash.
fn key(password_hash: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"puente-ui-session\0");
    h.update(password_hash.as_bytes());
    h.finalize().into()
}

fn mac(key: &[u8; 32], parts: &[&str]) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    for p in parts {
        m.update(p.as_bytes());
        m.update(b"\0");
    }
    hex::encode(m.finalize().into_bytes())
}

fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source works");
    hex::encode(buf)
}

/// A verified session: whose it is and its CSRF token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub tenant: String,
    pub csrf: String,
}

/// A new session for `tenant`: the cookie value and the session it stands for.
pub fn new_session(tenant: &str, password_hash: &str, now: i64) -> (String, Session) {
    let k = key(password_hash);
    let expires = (now + SESSION_HOURS * 3600).to_string();
    let nonce = random_hex(16);
    let t = URL_SAFE_NO_PAD.encode(tenant);
    let sig = mac(&k, &["v1", tenant, &expires, &nonce]);
    let cookie = format!("v1.{t}.{expires}.{nonce}.{sig}");
    let csrf = mac(&k, &["csrf", &nonce]);
    (
        cookie,
        Session {
            tenant: tenant.to_string(),
            csrf,
        },
    )
}

/// The session a cookie value proves for `tenant` at `now`, if any: signed with this
/// tenant's key, for this tenant, not expired.
pub fn verify_session(
    cookie: &str,
    tenant: &str,
    password_hash: &str,
    now: i64,
) -> Option<Session> {
    let mut parts = cookie.split('.');
    let (v, t, expires, nonce, sig) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if v != "v1" || parts.next().is_some() {
        return None;
    }
    let named = String::from_utf8(URL_SAFE_NO_PAD.decode(t).ok()?).ok()?;
    if named != tenant {
        return None;
    }
    let k = key(password_hash);
    let want = mac(&k, &["v1", tenant, expires, nonce]);
    if !bool::from(want.as_bytes().ct_eq(sig.as_bytes())) {
        return None;
    }
    if expires.parse::<i64>().ok()? <= now {
        return None;
    }
    Some(Session {
        tenant: tenant.to_string(),
        csrf: mac(&k, &["csrf", nonce]),
    })
}

/// Whether a submitted CSRF token is the session's (constant time).
pub fn csrf_ok(session: &Session, submitted: &str) -> bool {
    !submitted.is_empty() && bool::from(session.csrf.as_bytes().ct_eq(submitted.as_bytes()))
}

/// The `Set-Cookie` value for a session (or, with `None`, one that removes it).
pub fn set_cookie(value: Option<&str>, tenant_path: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match value {
        Some(v) => format!(
            "{COOKIE}={v}; Path={tenant_path}; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
            SESSION_HOURS * 3600
        ),
        None => {
            format!("{COOKIE}=; Path={tenant_path}; Max-Age=0; HttpOnly; SameSite=Strict{secure}")
        }
    }
}

/// The session cookie's value in a `Cookie` header, if present.
pub fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == COOKIE).then_some(v)
    })
}

/// The local password store: tenant → argon2 hash in a JSON file beside the SQLite store
/// (`ui-passwords.json`), readable by its owner only.
#[derive(Clone, Debug)]
pub struct PasswordFile {
    path: PathBuf,
}

impl PasswordFile {
    /// The file beside the store at `store_path`.
    pub fn beside(store_path: &Path) -> Self {
        let dir = store_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        PasswordFile {
            path: dir.join("ui-passwords.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> anyhow::Result<BTreeMap<String, String>> {
        match std::fs::read_to_string(&self.path) {
            Ok(t) => serde_json::from_str(&t)
                .map_err(|e| anyhow::anyhow!("{} is not valid: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", self.path.display())),
        }
    }

    /// The tenant's password hash, if one was set.
    pub fn hash(&self, tenant: &str) -> anyhow::Result<Option<String>> {
        Ok(self.read()?.remove(tenant))
    }

    /// Sets (or replaces) the tenant's password; ends its sessions.
    pub fn set(&self, tenant: &str, password: &str) -> anyhow::Result<()> {
        let hash = hash_password(password)?;
        let mut all = self.read()?;
        all.insert(tenant.to_string(), hash);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&all)?)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apc8_passwords_are_stored_hashed_and_verified() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn apc8_a_session_is_only_good_for_its_tenant_and_until_it_expires() {
        let ha = hash_password("password-of-acme").unwrap();
        let hb = hash_password("password-of-globex").unwrap();
        let (cookie, s) = new_session("acme", &ha, 1_000);
        assert_eq!(verify_session(&cookie, "acme", &ha, 1_001), Some(s.clone()));
        // Another tenant's URL, with or without that tenant's key: refused.
        assert_eq!(verify_session(&cookie, "globex", &hb, 1_001), None);
        assert_eq!(verify_session(&cookie, "globex", &ha, 1_001), None);
        // A new password ends the session; so does time.
        let ha2 = hash_password("password-of-acme").unwrap();
        assert_eq!(verify_session(&cookie, "acme", &ha2, 1_001), None);
        assert_eq!(
            verify_session(&cookie, "acme", &ha, 1_000 + SESSION_HOURS * 3600),
            None
        );
        // Tampering with any part breaks the signature.
        let forged = cookie.replace(
            &URL_SAFE_NO_PAD.encode("acme"),
            &URL_SAFE_NO_PAD.encode("globex"),
        );
        assert_ne!(forged, cookie);
        assert_eq!(verify_session(&forged, "globex", &ha, 1_001), None);
        assert!(csrf_ok(&s, &s.csrf));
        assert!(!csrf_ok(&s, ""));
        assert!(!csrf_ok(&s, "0000"));
    }

    #[test]
    fn apc8_cookie_attributes() {
        let c = set_cookie(Some("v"), "/ui/acme", true);
        assert_eq!(
            c,
            "puente_session=v; Path=/ui/acme; Max-Age=28800; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!set_cookie(Some("v"), "/ui/acme", false).contains("Secure"));
        assert_eq!(cookie_value("a=b; puente_session=xyz; c=d"), Some("xyz"));
        assert_eq!(cookie_value("a=b"), None);
    }
}
