//! The activity page's filters, parsed from its query string into a [`LogQuery`] (parse,
//! don't validate: a bad value is reported on the page, never passed to the store).

use chrono::{DateTime, NaiveDateTime, Utc};
use puente_core::Kind;
use puente_store::{Action, LogQuery, RecordRef};
use serde::{Deserialize, Serialize};

/// The filters as they arrive (and as the page writes them back into its form and links).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ActivityParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A time from the form (`datetime-local`, read as UTC) or RFC 3339.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    Err(format!(
        "{s:?} is not a date and time (e.g. 2026-11-22T09:30)"
    ))
}

/// The key as the engine stores it: a value typed as a person knows it (`12.345.678-z`) is
/// normalised by the same rule as the records' keys, for the entity chosen or, without
/// one, the first entity whose rule accepts it.
pub fn normalise_key(raw: &str, kind: Option<Kind>) -> String {
    let kinds: Vec<Kind> = match kind {
        Some(k) => vec![k],
        None => vec![Kind::Contact, Kind::Product],
    };
    for k in kinds {
        let mut f = puente_core::Fields::new();
        f.set(k.key_field(), raw);
        if let Ok(key) = puente_core::natural_key(k, &f) {
            return key;
        }
    }
    raw.trim().to_string()
}

impl ActivityParams {
    /// The store query for `tenant`, or what is wrong with the filters.
    pub fn to_query(&self, tenant: &str, limit: usize) -> Result<LogQuery, String> {
        let mut q = LogQuery::new(tenant, limit);
        q.flow = given(&self.flow).map(str::to_string);
        let kind = match given(&self.kind) {
            Some(k) => Some(k.parse::<Kind>().map_err(|e| format!("entity: {e}"))?),
            None => None,
        };
        q.kind = kind.map(|k| k.as_str().to_string());
        q.action = match given(&self.action) {
            Some(a) => Some(a.parse::<Action>().map_err(|e| e.to_string())?),
            None => None,
        };
        q.system = given(&self.system).map(str::to_string);
        q.record = match given(&self.record) {
            Some(r) => Some(r.parse::<RecordRef>().map_err(|e| format!("record: {e}"))?),
            None => None,
        };
        q.key = given(&self.key).map(|k| normalise_key(k, kind));
        q.since = given(&self.since).map(parse_time).transpose()?;
        q.until = given(&self.until).map(parse_time).transpose()?;
        q.before_seq = match given(&self.before) {
            Some(b) => Some(b.parse().map_err(|_| format!("{b:?} is not a page mark"))?),
            None => None,
        };
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apc8_filters_parse_into_a_store_query() {
        let p = ActivityParams {
            kind: Some("contact".into()),
            action: Some("Failed".into()),
            record: Some(" alegra:774 ".into()),
            key: Some("12.345.678-z".into()),
            since: Some("2026-11-22T09:30".into()),
            before: Some("120".into()),
            ..Default::default()
        };
        let q = p.to_query("acme", 50).unwrap();
        assert_eq!(q.action, Some(Action::Failed));
        assert_eq!(q.record, Some(RecordRef::new("alegra", "774")));
        assert_eq!(q.key.as_deref(), Some("12345678Z"));
        assert_eq!(q.since.unwrap().to_rfc3339(), "2026-11-22T09:30:00+00:00");
        assert_eq!(q.before_seq, Some(120));
        assert_eq!(q.limit, 50);
        let bad = ActivityParams {
            record: Some("774".into()),
            ..Default::default()
        };
        assert!(bad.to_query("acme", 50).unwrap_err().contains("SYSTEM:ID"));
        let bad = ActivityParams {
            since: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(bad.to_query("acme", 50).is_err());
        let bad = ActivityParams {
            action: Some("deleted".into()),
            ..Default::default()
        };
        assert!(bad.to_query("acme", 50).is_err());
    }
}
