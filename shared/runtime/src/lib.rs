//! The runtime: flows built from configuration, Full/Modified runs, the event worker and the
//! local server. Everything with I/O that is not a vendor's own HTTP lives here; the decisions
//! themselves are in `puente-core`.

/// A crash point (see `crash`, test builds only): with the `crash-points` feature the worker
/// can be made to die here; without it this expands to nothing.
macro_rules! crash_point {
    ($p:ident) => {
        #[cfg(feature = "crash-points")]
        $crate::crash::point($crate::crash::CrashPoint::$p);
    };
}

pub mod config;
#[cfg(feature = "crash-points")]
pub mod crash;
pub mod events;
pub mod flow;
pub mod flowspec;
mod legacy;
pub mod mapping_view;
pub mod notify;
pub mod pin;
mod rules;
pub mod runs;
pub mod serve;
pub mod summary;
pub mod sync;

pub use config::{Config, ConfigError, Connection};
pub use flow::{Flow, Run, WebhookReceiver};
pub use summary::{Counts, NoProgress, Progress, Resume, Summary};

use puente_connectors::{Connector, ConnectorError, RetryPolicy, SideSettings};
use puente_core::Kind;
use puente_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Full or Modified (ALG-9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    Modified,
    /// A Full run over the records created in the flow's last `backfill_days` (ROA-1: on
    /// connection, the last two months of orders).
    Backfill,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Modified => "modified",
            Mode::Backfill => "backfill",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Mode::Full),
            "modified" => Ok(Mode::Modified),
            "backfill" => Ok(Mode::Backfill),
            o => Err(format!(
                "unknown mode '{o}'; use full, modified or backfill"
            )),
        }
    }
}

/// Builds the connector of the connection `name` through its vendor's registry entry, for
/// a flow that asks `side` of it (the default for none). The caller names it (see
/// [`puente_connectors::named`]).
pub fn connector_for(
    config: &Config,
    name: &str,
    retry: RetryPolicy,
    side: &SideSettings,
) -> Result<Arc<dyn Connector>, ConfigError> {
    let c = &config.connections[name];
    let vendor = c.vendor().ok_or_else(|| {
        ConfigError::new(
            format!("connections.{name}.type"),
            format!("unknown connection type '{}'", c.vendor),
            format!(
                "use one of: {}",
                puente_connectors::registry::names().join(", ")
            ),
        )
    })?;
    vendor.build(&c.spec(name, config.text.as_deref(), retry), side)
}

/// The flows of a configuration, over one store.
pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub flows: Vec<Flow>,
    /// Every flow reports its problems here (APC-8); add sinks to it (SNS on AWS).
    pub notifier: notify::Dispatcher,
}

impl App {
    pub fn build(
        config: Config,
        store: Arc<dyn Store>,
        retry: RetryPolicy,
    ) -> Result<App, ConfigError> {
        // One connector per connection, shared by the flows that ask nothing special of it;
        // a flow that keeps marks, adjusts the mapping or sets options gets its own.
        let mut shared: BTreeMap<String, Arc<dyn Connector>> = BTreeMap::new();
        for name in config.connections.keys() {
            // Every connection is built (its secrets checked) even when no flow uses it yet.
            let c = connector_for(&config, name, retry.clone(), &SideSettings::default())?;
            shared.insert(name.clone(), c);
        }
        // ALG-11: the receiver vendors are subscribed to, when the config says where it is.
        let webhooks = match (&config.server.public_url, config.webhook_secret()) {
            (None, _) => Err("server.public_url is not set".to_string()),
            (_, Ok(None)) => Err("server.webhook_secret is not set".to_string()),
            (_, Err(e)) => Err(e.to_string()),
            (Some(u), Ok(Some(secret))) => Ok(WebhookReceiver {
                base: format!("{}/webhooks/{}", u.trim_end_matches('/'), config.tenant),
                secret,
            }),
        };
        let legacy = Arc::new(legacy::LegacyLinks::new(
            &config.tenant,
            config
                .flows
                .iter()
                .map(|f| legacy::FlowSides {
                    flow: f.name.clone(),
                    kinds: f
                        .entities
                        .iter()
                        .filter_map(|e| e.parse::<Kind>().ok())
                        .collect(),
                    sides: [&f.a, &f.b]
                        .map(|c| (c.clone(), config.connections[c].system().to_string())),
                })
                .collect(),
            store.clone(),
        ));
        let notifier = notify::dispatcher_for(&config)?;
        let mut flows = Vec::new();
        for (fi, f) in config.flows.iter().enumerate() {
            let spec = flowspec::resolve(&config, fi)?;
            let side = |conn: &str| -> Result<Arc<dyn Connector>, ConfigError> {
                let settings = SideSettings {
                    back_ref: spec.back_refs.get(conn).cloned().unwrap_or_default(),
                    mapping: Arc::new(spec.side_mapping(conn)),
                    options: spec.options.get(conn).cloned().unwrap_or_default(),
                };
                let inner = if settings.is_default() {
                    shared[conn].clone()
                } else {
                    connector_for(&config, conn, retry.clone(), &settings)?
                };
                // The connection's name is its identity in links, events and logs; the
                // flow's field lists say what of each record the engine sees.
                Ok(puente_connectors::flow_side(
                    conn,
                    inner,
                    spec.fields.clone(),
                ))
            };
            let a = side(&f.a)?;
            let b = side(&f.b)?;
            let kinds: Vec<Kind> = f
                .entities
                .iter()
                .map(|e| e.parse::<Kind>().expect("validated"))
                .collect();
            for k in &kinds {
                for (side, c) in [("a", &a), ("b", &b)] {
                    if !c.supports(*k) {
                        return Err(ConfigError {
                            key: format!("flows[{fi}].entities"),
                            problem: format!("{} (flows.{side}) does not sync {k}s", c.system()),
                            fix: format!("remove \"{k}\" from the flow's entities"),
                        });
                    }
                }
            }
            let mut rules = rules::build(&config, fi, &spec, &kinds, &a, &b)?;
            // A document's dependencies the flow does not sync are matched and written by
            // the preset's rules of their entity (its customers by email).
            for (entity, ec) in &spec.dependency_rules {
                let Ok(kind) = entity.parse::<Kind>() else {
                    continue;
                };
                if a.supports(kind) && b.supports(kind) {
                    let at = format!("flows[{fi}] preset rules.{entity}");
                    rules.insert(kind, rules::rules_for(kind, f, ec, &at)?);
                }
            }
            flows.push(Flow {
                tenant: config.tenant.clone(),
                name: f.name.clone(),
                kinds,
                rules,
                a,
                b,
                store: store.clone(),
                log_retention: chrono::Duration::days(config.log.retention_days as i64),
                webhooks: webhooks.clone(),
                legacy: legacy.clone(),
                backfill_days: f.backfill_days,
                notifier: Arc::new(notifier.clone()),
            });
        }
        Ok(App {
            config,
            store,
            flows,
            notifier,
        })
    }

    pub fn flow(&self, name: &str) -> Result<&Flow, String> {
        self.flows.iter().find(|f| f.name == name).ok_or_else(|| {
            format!(
                "no flow named '{name}'; configured flows: {}",
                self.flows
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

/// ALG-12: checks that both connections answer with their credentials; writes nothing.
pub async fn check(flow: &Flow) -> Result<(), ConnectorError> {
    let res = match flow.a.check().await {
        Ok(()) => flow.b.check().await,
        Err(e) => Err(e),
    };
    // APC-8: credentials that stopped working are reported at once.
    if let Err(e @ ConnectorError::Auth { .. }) = &res {
        flow.notifier.notify(notify::Problem {
            kind: notify::ProblemKind::Credentials,
            tenant: flow.tenant.clone(),
            flow: Some(flow.name.clone()),
            system: e.system().to_string(),
            record: None,
            detail: e.to_string(),
        });
    }
    res
}

/// ALG-12 and ALG-13: checks both connections, then creates what the flow needs (custom
/// fields). A flow is active only when this succeeds. Returns what was created.
///
/// ALG-11: it also subscribes Puente's webhook receiver to the vendors that take
/// subscriptions by API (Alegra), idempotently, when `server.public_url` is set. A failed
/// subscription is logged but does not stop activation: the schedule still syncs every
/// change, only later.
pub async fn activate(flow: &Flow) -> Result<Vec<String>, ConnectorError> {
    check(flow).await?;
    let mut created = flow.a.prepare().await?;
    created.extend(flow.b.prepare().await?);
    created.extend(ensure_webhooks(flow).await);
    for c in &created {
        tracing::info!(tenant = %flow.tenant, flow = %flow.name, "setup: created {c}");
    }
    Ok(created)
}

/// Makes sure the vendors that are subscribed by API (Alegra) still hold the flow's webhook
/// subscriptions, creating the missing ones; returns what it created. Idempotent: a vendor
/// lists its subscriptions first. Alegra deletes a subscription after 10 consecutive failed
/// deliveries (an outage of Puente's endpoint), so activation and every scheduled Full call
/// this and a past outage does not leave the flow without real-time changes for good. Does
/// nothing without `server.public_url`; a failure is logged and the schedule goes on.
pub async fn ensure_webhooks(flow: &Flow) -> Vec<String> {
    let mut created = Vec::new();
    match &flow.webhooks {
        Ok(receiver) => {
            for conn in [&flow.a, &flow.b] {
                let Some(hooks) = conn.webhooks() else {
                    continue;
                };
                let url = receiver.url(conn.system());
                match hooks.subscribe(&url, &flow.run_kinds()).await {
                    Ok(subs) => created.extend(subs),
                    Err(e) => {
                        tracing::warn!(tenant = %flow.tenant, flow = %flow.name, system = conn.system(),
                        error = %e, "webhook subscription failed; changes from there arrive with the schedule only")
                    }
                }
            }
        }
        Err(why) => tracing::info!(tenant = %flow.tenant, flow = %flow.name,
            "no webhook subscriptions made: {why}"),
    }
    created
}

/// Runs a flow once: every entity kind, in the given mode, under the flow's lease.
pub async fn run(flow: &Flow, mode: Mode, dry_run: bool, progress: &dyn Progress) -> Summary {
    run_with(flow, mode, dry_run, progress, RunOptions::default()).await
}

/// How a run is bounded (RUN-2: a Full run longer than a Lambda invocation is cut into
/// slices).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// A Full run takes no new pair after this instant; its summary's `resume` then says
    /// where the next slice starts. (Modified runs are short and ignore it.)
    pub deadline: Option<Instant>,
    /// Continue a Full run from a previous slice's `resume`.
    pub resume: Option<Resume>,
}

/// [`run`], bounded by [`RunOptions`].
pub async fn run_with(
    flow: &Flow,
    mode: Mode,
    dry_run: bool,
    progress: &dyn Progress,
    opts: RunOptions,
) -> Summary {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let before: Vec<_> = [&flow.a, &flow.b].iter().map(|c| c.calls()).collect();
    flow.a.reset_budget();
    flow.b.reset_budget();
    if mode == Mode::Full && !dry_run && opts.resume.is_none() {
        // A subscription the vendor dropped while Puente's endpoint was down comes back.
        for c in ensure_webhooks(flow).await {
            tracing::warn!(tenant = %flow.tenant, flow = %flow.name,
                "webhook subscription was missing (the vendor drops one after repeated failed deliveries); recreated: {c}");
        }
    }
    let mut run = Run::new(flow, mode.as_str(), dry_run, progress);
    if mode != Mode::Modified {
        run.deadline = opts.deadline;
    }
    if mode == Mode::Backfill {
        run.created_since =
            Some(chrono::Utc::now() - chrono::Duration::days(i64::from(flow.backfill_days)));
    }
    let mut resume = opts.resume.filter(|_| mode != Mode::Modified);
    let lease = format!("flow/{}", flow.name);
    let owner = run.run_id.clone();
    if let Err(e) = flow.ready().await {
        run.summary.errors.push(format!("link store: {e}"));
        progress.finish();
        return run.summary;
    }
    match flow
        .store
        .acquire_lease(
            &flow.tenant,
            &lease,
            &owner,
            std::time::Duration::from_secs(3600),
        )
        .await
    {
        Ok(true) => {
            for kind in flow.run_kinds() {
                if let Some(r) = &resume {
                    if r.kind != kind.as_str() {
                        continue; // done in an earlier slice
                    }
                    run.resume_after = resume.take().map(|r| r.after);
                }
                let res = match mode {
                    Mode::Full | Mode::Backfill => run.full(kind).await,
                    Mode::Modified => run.modified(kind).await,
                };
                if let Err(e) = res {
                    tracing::error!(tenant = %flow.tenant, flow = %flow.name, kind = %kind, error = %e, "run stopped");
                    run.summary.errors.push(format!("{kind}: {e}"));
                    runs::report_stopped(flow, mode, kind, &e);
                }
                if run.summary.resume.is_some() {
                    break;
                }
            }
            if let Some(r) = resume {
                run.summary.errors.push(format!(
                    "cannot resume: flow '{}' does not sync kind '{}'",
                    flow.name, r.kind
                ));
            }
            if let Err(e) = run.flush().await {
                run.summary.errors.push(format!("activity log: {e}"));
            }
            let _ = flow.store.release_lease(&flow.tenant, &lease, &owner).await;
        }
        Ok(false) => run.summary.errors.push(format!(
            "another run of flow '{}' holds its lease; not started",
            flow.name
        )),
        Err(e) => run.summary.errors.push(format!("lease: {e}")),
    }
    progress.finish();
    for (c, b) in [&flow.a, &flow.b].iter().zip(before) {
        run.summary
            .calls
            .insert(c.system().to_string(), c.calls().since(&b));
    }
    run.summary.duration_ms = started.elapsed().as_millis() as u64;
    runs::store_summary(flow, &run.summary, started_at).await;
    run.summary
}
