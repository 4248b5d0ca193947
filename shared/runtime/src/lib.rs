//! The runtime: flows built from configuration, Full/Modified runs, the event worker and the
//! local server. Everything with I/O that is not a vendor's own HTTP lives here; the decisions
//! themselves are in `puente-core`.

pub mod config;
pub mod events;
pub mod flow;
pub mod serve;
pub mod summary;
pub mod sync;

pub use config::{Config, ConfigError, Connection};
pub use flow::{Flow, Run};
pub use summary::{Counts, NoProgress, Progress, Summary};

use puente_connectors::alegra::{Alegra, AlegraConfig};
use puente_connectors::clientify::{Clientify, ClientifyConfig};
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

/// Builds the connector for a configured connection.
pub fn connector(
    name: &str,
    c: &Connection,
    retry: RetryPolicy,
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
}

impl App {
    pub fn build(
        config: Config,
        store: Arc<dyn Store>,
        retry: RetryPolicy,
    ) -> Result<App, ConfigError> {
        let mut conns: BTreeMap<String, Arc<dyn Connector>> = BTreeMap::new();
        for (name, c) in &config.connections {
            conns.insert(name.clone(), connector(name, c, retry.clone())?);
        }
        let mut flows = Vec::new();
        for f in &config.flows {
            let a = conns[&f.a].clone();
            let b = conns[&f.b].clone();
            let sys = |conn: &str| conns[conn].system().to_string();
            flows.push(Flow {
                tenant: config.tenant.clone(),
                name: f.name.clone(),
                kinds: f
                    .entities
                    .iter()
                    .map(|e| e.parse::<Kind>().expect("validated"))
                    .collect(),
                rules: Rules {
                    prefer_on_tie: f
                        .prefer_on_tie
                        .as_deref()
                        .map(sys)
                        .unwrap_or_else(|| a.system().to_string()),
                    pins: f.pins.iter().map(|(k, v)| (k.clone(), sys(v))).collect(),
                },
                a,
                b,
                store: store.clone(),
                log_retention: chrono::Duration::days(config.log.retention_days as i64),
            });
        }
        Ok(App {
            config,
            store,
            flows,
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
    flow.a.check().await?;
    flow.b.check().await
}

/// ALG-12 and ALG-13: checks both connections, then creates what the flow needs (custom
/// fields). A flow is active only when this succeeds. Returns what was created.
pub async fn activate(flow: &Flow) -> Result<Vec<String>, ConnectorError> {
    check(flow).await?;
    let mut created = flow.a.prepare().await?;
    created.extend(flow.b.prepare().await?);
    for c in &created {
        tracing::info!(tenant = %flow.tenant, flow = %flow.name, "setup: created {c}");
    }
    Ok(created)
}

/// Runs a flow once: every entity kind, in the given mode, under the flow's lease.
pub async fn run(flow: &Flow, mode: Mode, dry_run: bool, progress: &dyn Progress) -> Summary {
    let started = Instant::now();
    let before: Vec<_> = [&flow.a, &flow.b].iter().map(|c| c.calls()).collect();
    flow.a.reset_budget();
    flow.b.reset_budget();
    let mut run = Run::new(flow, mode.as_str(), dry_run, progress);
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
                let res = match mode {
                    Mode::Full => run.full(kind).await,
                    Mode::Modified => run.modified(kind).await,
                };
                if let Err(e) = res {
                    tracing::error!(tenant = %flow.tenant, flow = %flow.name, kind = %kind, error = %e, "run stopped");
                    run.summary.errors.push(format!("{kind}: {e}"));
                }
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
    run.summary
}
