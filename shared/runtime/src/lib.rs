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
pub mod notify;
pub mod runs;
pub mod serve;
pub mod summary;
pub mod sync;

pub use config::{Config, ConfigError, Connection};
pub use flow::{Flow, Run, WebhookReceiver};
pub use summary::{Counts, NoProgress, Progress, Resume, Summary};

use puente_connectors::alegra::{Alegra, AlegraConfig};
use puente_connectors::clientify::{Clientify, ClientifyConfig, Partner};
use puente_connectors::odoo::OdooSettings;
use puente_connectors::odoo_connector::{Odoo, OdooConfig};
use puente_connectors::{Connector, ConnectorError, RetryPolicy};
use puente_core::{Kind, Rules};
use puente_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Full or Modified (ALG-9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    Modified,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Modified => "modified",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Mode::Full),
            "modified" => Ok(Mode::Modified),
            o => Err(format!("unknown mode '{o}'; use full or modified")),
        }
    }
}

/// Builds the connector for a configured connection (a Clientify connection set up for the
/// Alegra flow; see [`connector_for`]).
pub fn connector(
    name: &str,
    c: &Connection,
    retry: RetryPolicy,
) -> Result<Arc<dyn Connector>, ConfigError> {
    connector_for(name, c, retry, None)
}

/// Builds the connector for a configured connection used in a flow with `partner_system` (the
/// other connection's system): a Clientify connection keeps the marks and field mapping of
/// the system it syncs with (Alegra: `in_alegra` + tag; Odoo: ODO-1/ODO-2 fields).
pub fn connector_for(
    name: &str,
    c: &Connection,
    retry: RetryPolicy,
    partner_system: Option<&str>,
) -> Result<Arc<dyn Connector>, ConfigError> {
    Ok(match c {
        Connection::Clientify {
            base_url,
            api_key,
            api_key_env,
            page_size,
            call_budget,
        } => {
            let key = config::secret(
                &format!("connections.{name}.api_key"),
                api_key,
                api_key_env,
                "Clientify API key",
            )?;
            Arc::new(Clientify::new(ClientifyConfig {
                base_url: base_url.clone(),
                api_key: key,
                page_size: *page_size,
                budget: *call_budget,
                retry,
                partner: match partner_system {
                    Some("odoo") => Partner::Odoo,
                    _ => Partner::Alegra,
                },
            }))
        }
        Connection::Odoo {
            url,
            database,
            login,
            api_key,
            api_key_env,
            call_budget,
            page_size,
        } => {
            let key = config::secret(
                &format!("connections.{name}.api_key"),
                api_key,
                api_key_env,
                "Odoo API key",
            )?;
            Arc::new(Odoo::new(OdooConfig {
                settings: OdooSettings {
                    url: url.clone(),
                    database: database.clone(),
                    login: login.clone(),
                    api_key: key,
                    retry,
                },
                budget: *call_budget,
                page_size: *page_size,
            }))
        }
        Connection::Alegra {
            base_url,
            email,
            token,
            token_env,
            call_budget,
        } => {
            let email = match email {
                Some(e) if e.contains('@') => e.clone(),
                _ => {
                    return Err(ConfigError {
                        key: format!("connections.{name}.email"),
                        problem: "missing or not an email address".into(),
                        fix: "set it to the email of the Alegra user whose API token you use"
                            .into(),
                    })
                }
            };
            let token = config::secret(
                &format!("connections.{name}.token"),
                token,
                token_env,
                "Alegra API token",
            )?;
            Arc::new(Alegra::new(AlegraConfig {
                base_url: base_url.clone(),
                email,
                token,
                budget: *call_budget,
                retry,
            }))
        }
    })
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
        // One connector per connection and partner system (a Clientify connection used by an
        // Alegra flow and an Odoo flow keeps different marks for each).
        let mut conns: BTreeMap<(String, &'static str), Arc<dyn Connector>> = BTreeMap::new();
        let mut get = |name: &str, partner: &'static str| -> Result<_, ConfigError> {
            // Only a Clientify connection differs by partner.
            let is_clientify = matches!(config.connections[name], Connection::Clientify { .. });
            let key = (name.to_string(), if is_clientify { partner } else { "" });
            if let Some(c) = conns.get(&key) {
                return Ok(Arc::clone(c));
            }
            let c = connector_for(
                name,
                &config.connections[name],
                retry.clone(),
                Some(partner),
            )?;
            conns.insert(key, c.clone());
            Ok(c)
        };
        // Every connection is built (its secrets checked) even when no flow uses it yet.
        for name in config.connections.keys() {
            get(name, "alegra")?;
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
        let notifier = notify::dispatcher_for(&config)?;
        let mut flows = Vec::new();
        for (fi, f) in config.flows.iter().enumerate() {
            let (ca, cb) = (&config.connections[&f.a], &config.connections[&f.b]);
            let a = get(&f.a, cb.system())?;
            let b = get(&f.b, ca.system())?;
            let sys = |conn: &str| config.connections[conn].system().to_string();
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
            // ODO-4: orders flow one way, from Odoo.
            let one_way = if kinds.contains(&Kind::Order) {
                [(Kind::Order.as_str().to_string(), "odoo".to_string())].into()
            } else {
                BTreeMap::new()
            };
            flows.push(Flow {
                tenant: config.tenant.clone(),
                name: f.name.clone(),
                kinds,
                rules: Rules {
                    prefer_on_tie: f
                        .prefer_on_tie
                        .as_deref()
                        .map(sys)
                        .unwrap_or_else(|| a.system().to_string()),
                    pins: f.pins.iter().map(|(k, v)| (k.clone(), sys(v))).collect(),
                    one_way,
                },
                a,
                b,
                store: store.clone(),
                log_retention: chrono::Duration::days(config.log.retention_days as i64),
                webhooks: webhooks.clone(),
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
    match &flow.webhooks {
        Ok(receiver) => {
            for conn in [&flow.a, &flow.b] {
                let url = receiver.url(conn.system());
                match conn.subscribe_webhooks(&url, &flow.kinds).await {
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
    for c in &created {
        tracing::info!(tenant = %flow.tenant, flow = %flow.name, "setup: created {c}");
    }
    Ok(created)
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
    let mut run = Run::new(flow, mode.as_str(), dry_run, progress);
    if mode == Mode::Full {
        run.deadline = opts.deadline;
    }
    let mut resume = opts.resume.filter(|_| mode == Mode::Full);
    let lease = format!("flow/{}", flow.name);
    let owner = run.run_id.clone();
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
            for kind in flow.kinds.clone() {
                if let Some(r) = &resume {
                    if r.kind != kind.as_str() {
                        continue; // done in an earlier slice
                    }
                    run.resume_after = resume.take().map(|r| r.after);
                }
                let res = match mode {
                    Mode::Full => run.full(kind).await,
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
