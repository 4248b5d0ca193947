//! What a run did, in numbers a person (or a test) can check against the vendors.

use puente_connectors::CallStats;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Per-entity outcome counts. `created`/`updated` are split by the system written to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub created: BTreeMap<String, u64>,
    pub updated: BTreeMap<String, u64>,
    pub unchanged: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Of `skipped`, records skipped again for the reason already logged, with no change
    /// since: counted, not logged again (issue 17: the log does not grow with every run).
    #[serde(default)]
    pub skips_repeated: u64,
}

impl Counts {
    pub fn created_total(&self) -> u64 {
        self.created.values().sum()
    }
    pub fn updated_total(&self) -> u64 {
        self.updated.values().sum()
    }
}

/// One planned action, shown by `--dry-run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    pub kind: String,
    /// `create`, `update`, `link`, `skip`.
    pub action: String,
    pub system: String,
    pub id: Option<String>,
    pub fields: Vec<String>,
    pub reason: Option<String>,
    /// For a create: the request body the target's connector would send (APC-7: the mapped
    /// document), when it can say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub tenant: String,
    pub flow: String,
    pub mode: String,
    pub run_id: String,
    pub dry_run: bool,
    pub entities: BTreeMap<String, Counts>,
    /// Vendor calls made by this run, per system.
    pub calls: BTreeMap<String, CallStats>,
    pub duration_ms: u64,
    /// Errors that stopped part of the run (e.g. a vendor unreachable while listing).
    pub errors: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub plan: Vec<PlanItem>,
    /// Set when a Full run stopped at its deadline before the end: where the next slice
    /// continues (see [`crate::RunOptions`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resume: Option<Resume>,
}

/// Where a Full run that stopped at its deadline continues: the kinds before `kind` are done,
/// and so are the pairs of `kind` up to and including the pair key `after` (pairs are taken
/// in the order of their key: the identification, which creating the counterpart does not
/// change, else `~system:id`). A continuation lists both sides again; a pair whose key changed
/// in between (its identification was edited) is caught by the next Modified or Full run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub kind: String,
    pub after: String,
}

impl Summary {
    pub fn counts(&mut self, kind: &str) -> &mut Counts {
        self.entities.entry(kind.to_string()).or_default()
    }

    /// A table for terminals.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{} sync of flow '{}' (tenant {}){} in {:.1} s\n",
            self.mode,
            self.flow,
            self.tenant,
            if self.dry_run {
                ", DRY RUN: nothing written"
            } else {
                ""
            },
            self.duration_ms as f64 / 1000.0
        ));
        out.push_str(&format!(
            "{:<10} {:>16} {:>16} {:>10} {:>8} {:>7}\n",
            "entity", "created", "updated", "unchanged", "skipped", "failed"
        ));
        let fmt_map = |m: &BTreeMap<String, u64>| {
            if m.is_empty() {
                "0".to_string()
            } else {
                m.iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        for (kind, c) in &self.entities {
            out.push_str(&format!(
                "{:<10} {:>16} {:>16} {:>10} {:>8} {:>7}\n",
                kind,
                fmt_map(&c.created),
                fmt_map(&c.updated),
                c.unchanged,
                c.skipped,
                c.failed
            ));
        }
        let repeated: u64 = self.entities.values().map(|c| c.skips_repeated).sum();
        if repeated > 0 {
            out.push_str(&format!(
                "{repeated} of the skips were already in the log for the same reason and not logged again\n"
            ));
        }
        for (sys, s) in &self.calls {
            let methods = s
                .by_method
                .iter()
                .map(|(m, n)| format!("{m} {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "calls to {sys}: {} ({methods}); retries {}, rate-limited {}\n",
                s.total, s.retries, s.rate_limited
            ));
        }
        for e in &self.errors {
            out.push_str(&format!("error: {e}\n"));
        }
        if self.dry_run {
            for p in &self.plan {
                out.push_str(&format!(
                    "plan: {} {} on {}{}{}{}\n",
                    p.action,
                    p.kind,
                    p.system,
                    p.id.as_deref().map(|i| format!(" {i}")).unwrap_or_default(),
                    if p.fields.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", p.fields.join(", "))
                    },
                    p.reason
                        .as_deref()
                        .map(|r| format!(" — {r}"))
                        .unwrap_or_default(),
                ));
                if let Some(doc) = &p.document {
                    let text = serde_json::to_string_pretty(doc).unwrap_or_default();
                    for line in text.lines() {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
            }
        }
        out
    }
}

/// Progress of a long run; the CLI draws it as a bar on a terminal.
pub trait Progress: Send + Sync {
    /// A new stage (`listing clientify contacts`, `syncing contacts`) with its size if known.
    fn stage(&self, label: &str, total: Option<u64>);
    fn inc(&self, n: u64);
    fn finish(&self);
}

/// No progress output (tests, Lambdas, `--json`).
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _label: &str, _total: Option<u64>) {}
    fn inc(&self, _n: u64) {}
    fn finish(&self) {}
}
