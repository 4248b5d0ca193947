//! What an activity-log entry tells beyond its action (APC-8): the record's key, the values
//! written, how the pair was matched, the rule that decided each field, the request that
//! failed; and the problems reported to the [`Notifier`](crate::notify::Notifier).
//!
//! Kept apart from the executor in `flow.rs`, which only calls [`Run::annotate`] and
//! [`Run::report`] where it already knows these things.

use std::collections::BTreeMap;

use puente_connectors::ConnectorError;
use puente_core::{Direction, EntityRules, Fields, Kind, Merge, Owner, Record};
use puente_store::{ActivityEntry, FailedRequest, Link};

use super::{PairError, Run};
use crate::notify::{Problem, ProblemKind, ProblemRecord};

impl Run<'_> {
    /// Adds detail to the entry just logged. A dry run logs nothing, so this changes nothing.
    pub(crate) fn annotate(&mut self, f: impl FnOnce(&mut ActivityEntry)) {
        if let Some(e) = self.pending_log.last_mut() {
            f(e);
        }
    }

    /// Reports a pair's failure at once (APC-8): credentials refused, or the record failed.
    pub(crate) fn report(&self, kind: Kind, src: &Record, e: &PairError) {
        if self.dry_run {
            return;
        }
        let (problem, system) = match e {
            PairError::Vendor(c @ ConnectorError::Auth { .. }) => {
                (ProblemKind::Credentials, c.system().to_string())
            }
            PairError::Vendor(c) => (ProblemKind::RecordFailed, c.system().to_string()),
            _ => (ProblemKind::RecordFailed, "puente".to_string()),
        };
        self.flow.notifier.notify(Problem {
            kind: problem,
            tenant: self.flow.tenant.clone(),
            flow: Some(self.flow.name.clone()),
            system,
            record: Some(ProblemRecord {
                kind: kind.as_str().to_string(),
                system: src.system.clone(),
                id: src.id.clone(),
            }),
            detail: e.to_string(),
        });
    }
}

/// The key a record is linked by in its flow (its first match key), if it has a usable one.
pub(crate) fn key_of(rules: &EntityRules, fields: &Fields) -> Option<String> {
    rules.key_of(fields).ok().filter(|k| !k.is_empty())
}

/// The values written: each field set, and each field cleared as `""`. The runtime's own
/// reference fields (`@…`, ids on the target side) are not record content.
pub(crate) fn values_of(set: &Fields, cleared: &[String]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = set
        .iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for c in cleared {
        out.insert(c.clone(), String::new());
    }
    out
}

/// How a pair that was written had been matched.
pub(crate) fn matched_by(kind: Kind, link: Option<&Link>, key: Option<&str>) -> String {
    match (link, key) {
        (Some(l), _) => format!("link {}", l.id),
        (None, Some(k)) => format!("{} {k}", kind.key_label()),
        (None, None) => "the counterpart's id kept on the record".to_string(),
    }
}

/// The rule that decided each field written to `to` with a value from `from`, read off the
/// merge and the flow's rules as the engine applied them (`puente_core::merge`).
pub(crate) fn rules_for(
    m: &Merge,
    rules: &EntityRules,
    fields: &[String],
    from: &str,
) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|f| {
            let why = if let Direction::From(src) = &rules.direction {
                format!("one-way from {src}")
            } else if let Some(Owner::Pinned(sys)) = rules.owners.get(f) {
                format!("pinned to {sys}")
            } else if let Some(Owner::CreateOnly) = rules.owners.get(f) {
                "written when created only".to_string()
            } else if m.conflicts.contains(f) {
                format!("changed on both sides: the newer record ({from}) wins")
            } else {
                format!("changed on {from} only")
            };
            (f.clone(), why)
        })
        .collect()
}

/// What is known of the request that failed: the vendor's status, the path of an
/// unreachable URL (no host, no query: those may carry credentials).
pub(crate) fn request_of(e: &PairError) -> Option<FailedRequest> {
    let PairError::Vendor(c) = e else {
        return None;
    };
    match c {
        ConnectorError::Vendor { status, .. } | ConnectorError::Auth { status, .. } => {
            Some(FailedRequest {
                status: Some(*status),
                ..FailedRequest::default()
            })
        }
        ConnectorError::Unreachable { url, .. } => Some(FailedRequest {
            path: url::Url::parse(url).ok().map(|u| u.path().to_string()),
            ..FailedRequest::default()
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apc8_values_written_leave_out_reference_fields_and_show_clears() {
        let mut f = Fields::new();
        f.set("name", "Ana");
        f.set("@customer_id", "774");
        let v = values_of(&f, &["phone".to_string()]);
        assert_eq!(
            v,
            BTreeMap::from([
                ("name".to_string(), "Ana".to_string()),
                ("phone".to_string(), String::new())
            ])
        );
    }

    #[test]
    fn apc8_failed_request_never_carries_host_or_query() {
        let e = PairError::Vendor(ConnectorError::Unreachable {
            system: "alegra".into(),
            url: "https://user:pw@api.alegra.com/api/v1/contacts/7?token=x".into(),
            detail: "timeout".into(),
        });
        let r = request_of(&e).unwrap();
        assert_eq!(r.path.as_deref(), Some("/api/v1/contacts/7"));
        let e = PairError::Vendor(ConnectorError::Vendor {
            system: "alegra".into(),
            status: 422,
            message: "bad".into(),
            transient: false,
        });
        assert_eq!(request_of(&e).unwrap().status, Some(422));
    }
}
