//! What a run leaves behind for the activity page (APC-8): its summary, stored per run, and a
//! notification when it stops before the end.

use crate::flow::{Flow, PairError};
use crate::notify::{Problem, ProblemKind};
use crate::summary::Summary;
use crate::Mode;
use chrono::{DateTime, Utc};
use puente_connectors::ConnectorError;
use puente_core::Kind;
use puente_store::{RunCounts, RunRecord};

/// The stored form of a run's summary: counts per entity, vendor calls per system.
pub fn run_record(
    s: &Summary,
    started_at: DateTime<Utc>,
    retention: chrono::Duration,
) -> RunRecord {
    RunRecord {
        tenant: s.tenant.clone(),
        run_id: s.run_id.clone(),
        flow: s.flow.clone(),
        mode: s.mode.clone(),
        started_at,
        duration_ms: s.duration_ms,
        counts: s
            .entities
            .iter()
            .map(|(k, c)| {
                (
                    k.clone(),
                    RunCounts {
                        created: c.created_total(),
                        updated: c.updated_total(),
                        unchanged: c.unchanged,
                        skipped: c.skipped,
                        failed: c.failed,
                    },
                )
            })
            .collect(),
        calls: s.calls.iter().map(|(k, c)| (k.clone(), c.total)).collect(),
        errors: s.errors.clone(),
        expires_at: started_at + retention,
    }
}

/// Stores a finished run's summary (not a dry run's: it wrote nothing). A store error is
/// logged, never fails the run: the summary is also in the run's own result and log line.
pub(crate) async fn store_summary(flow: &Flow, s: &Summary, started_at: DateTime<Utc>) {
    if s.dry_run {
        return;
    }
    let rec = run_record(s, started_at, flow.log_retention);
    if let Err(e) = flow.store.put_run(&rec).await {
        tracing::warn!(tenant = %flow.tenant, flow = %flow.name, error = %e, "run summary not stored");
    }
}

/// Reports a run that stopped part-way (APC-8); refused credentials are their own kind.
pub(crate) fn report_stopped(flow: &Flow, mode: Mode, kind: Kind, e: &PairError) {
    let (problem, system) = match e {
        PairError::Vendor(c @ ConnectorError::Auth { .. }) => {
            (ProblemKind::Credentials, c.system().to_string())
        }
        PairError::Vendor(c) => (ProblemKind::RunStopped, c.system().to_string()),
        _ => (ProblemKind::RunStopped, "puente".to_string()),
    };
    flow.notifier.notify(Problem {
        kind: problem,
        tenant: flow.tenant.clone(),
        flow: Some(flow.name.clone()),
        system,
        record: None,
        detail: format!("{} run stopped at {kind}s: {e}", mode.as_str()),
    });
}
