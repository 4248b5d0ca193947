//! `puente`: the local runtime and operator CLI.
//!
//! With no `--config`, `serve` and `sync` start the vendor sandboxes with sample data on
//! loopback and point a config at them, so a newcomer sees real syncs offline.

mod demo;
mod progress;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use puente_connectors::RetryPolicy;
use puente_runtime::serve::{serve, ServeOptions};
use puente_runtime::{run, App, Config, Mode};
use puente_store::sqlite::SqliteStore;
use puente_store::{LogQuery, Store};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "puente",
    version,
    about = "Business-data sync between CRMs, ERPs, accounting systems and web shops"
)]
struct Cli {
    /// Config file (TOML). Without one, `serve` and `sync` run against the built-in sandboxes.
    #[arg(long, short, global = true, env = "PUENTE_CONFIG")]
    config: Option<PathBuf>,
    /// Without `--config`: which demo `serve` and `sync` run (a flow preset, e.g.
    /// `clientify-odoo`); default the first. An unknown name lists them.
    #[arg(long, global = true)]
    demo: Option<String>,
    /// Log output: `text` or `json` (structured, one object per line).
    #[arg(long, global = true, default_value = "text")]
    log_format: String,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Webhook endpoint, scheduler and workers in one process on SQLite.
    Serve {
        /// Listen address (overrides server.listen).
        #[arg(long)]
        listen: Option<String>,
        /// Do not run a Full sync at start.
        #[arg(long)]
        no_initial_sync: bool,
    },
    /// One run of a flow.
    Sync {
        /// The flow to run; may be left out when the config has only one.
        #[arg(long)]
        flow: Option<String>,
        /// `full` or `modified`.
        #[arg(long, default_value = "full")]
        mode: Mode,
        /// Write nothing; show the plan.
        #[arg(long)]
        dry_run: bool,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Start the vendor sandboxes alone and print their URLs and credentials.
    Sandbox {
        /// Only these sandboxes (comma-separated vendor names); default: every one.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Sandbox N of the registry listens on this port + N.
        #[arg(long, default_value_t = demo::PORT_BASE)]
        port_base: u16,
        /// Write a config pointing at the sandboxes to this file.
        #[arg(long, default_value = "puente.sandbox.toml")]
        write_config: PathBuf,
    },
    /// The activity log, newest first.
    Log {
        /// Only entries about this record, as SYSTEM:ID (e.g. alegra:774): where the change
        /// came from it or was written to it.
        #[arg(long)]
        record: Option<String>,
        /// Only this action (created, updated, unchanged, skipped, failed).
        #[arg(long)]
        action: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Tenants of an AWS deployment (RUN-4): configuration in the DynamoDB table, secrets
    /// in AWS Secrets Manager. Reads TABLE_NAME (and SECRETS_PREFIX) like the functions.
    Tenant {
        #[command(subcommand)]
        cmd: TenantCmd,
    },
    /// Events that failed too often (the dead-letter queue): list them, or move them back
    /// to the queue once the cause is fixed. Local store by default; `--aws` for a
    /// deployment (TABLE_NAME, QUEUE_URL, DLQ_URL as the functions read them).
    Dlq {
        #[command(subcommand)]
        cmd: DlqCmd,
        /// The AWS deployment instead of the local store.
        #[arg(long, global = true)]
        aws: bool,
    },
    /// The activity page (APC-8): `puente serve` serves it at /ui/{tenant}/.
    Ui {
        #[command(subcommand)]
        cmd: UiCmd,
    },
    /// The links of a record, as CONNECTION:ID, in each flow that syncs that connection.
    Links {
        record: String,
        /// Entity kind: contact, company, product, order or budget.
        #[arg(long, default_value = "contact")]
        kind: String,
        /// Only this flow's link.
        #[arg(long)]
        flow: Option<String>,
        /// JSON: the link (null when none) if one flow syncs the connection, else the array
        /// of links found.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Store a tenant from a config file (the same TOML as `puente serve`); its secrets
    /// (literal or `*_env`) go to Secrets Manager, the rest to the table. Prints the
    /// webhook URL to register in Clientify.
    Put {
        #[arg(long)]
        file: PathBuf,
        /// The stack's `WebhookBaseUrl` output, to print the whole webhook URL.
        #[arg(long, env = "PUENTE_WEBHOOK_BASE_URL")]
        webhook_base_url: Option<String>,
    },
    /// The stored tenants.
    List,
}

#[derive(Subcommand)]
enum UiCmd {
    /// Set (or change) a tenant's page password: read from PUENTE_UI_PASSWORD or the first
    /// line of standard input; stored only as an argon2 hash (beside the SQLite store, or
    /// with `--aws` in Secrets Manager as {SECRETS_PREFIX}{tenant}/ui). Ends its sessions.
    Password {
        /// The tenant (default: the config's).
        #[arg(long)]
        tenant: Option<String>,
        /// The AWS deployment (Secrets Manager) instead of the local password file.
        #[arg(long)]
        aws: bool,
    },
}

#[derive(Subcommand)]
enum DlqCmd {
    /// The dead letters, oldest first.
    List {
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Move dead letters back to the queue: the ids given, or every one with `--all`.
    Replay {
        ids: Vec<String>,
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

fn init_tracing(format: &str, default: &str) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        "json" => b.json().init(),
        "text" => b.init(),
        other => bail!("--log-format '{other}': use text or json"),
    }
    Ok(())
}

fn load_config(path: &Option<PathBuf>) -> Result<Option<Config>> {
    match path {
        None => Ok(None),
        Some(p) => Config::load(p)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{e}")),
    }
}

fn open_store(cfg: &Config) -> Result<Arc<dyn Store>> {
    let s = SqliteStore::open(&cfg.store.path).map_err(|e| anyhow::anyhow!("store: {e}"))?;
    Ok(Arc::new(s))
}

fn build_app(cfg: Config) -> Result<App> {
    let store = open_store(&cfg)?;
    App::build(cfg, store, RetryPolicy::default()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn split_record(r: &str) -> Result<(String, String)> {
    match r.split_once(':') {
        Some((s, id)) if !s.is_empty() && !id.is_empty() => Ok((s.to_string(), id.to_string())),
        _ => bail!(
            "'{r}' is not CONNECTION:ID (a connection's name and a record id, e.g. shop:1001)"
        ),
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = real_main(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn real_main(cli: Cli) -> Result<()> {
    let cfg = load_config(&cli.config)?;
    match cli.cmd {
        Cmd::Serve {
            listen,
            no_initial_sync,
        } => {
            init_tracing(&cli.log_format, "info")?;
            let (cfg, modified_every, _sandboxes) = match cfg {
                Some(c) => (c, None, None),
                None => {
                    let (c, sb) = demo::start_demo(cli.demo.as_deref()).await?;
                    (c, Some(std::time::Duration::from_secs(30)), Some(sb))
                }
            };
            let listen = listen.unwrap_or_else(|| cfg.server.listen.clone());
            let passwords = puente_web::PasswordFile::beside(&cfg.store.path);
            let app = Arc::new(build_app(cfg)?);
            if passwords.hash(&app.config.tenant)?.is_none() {
                tracing::warn!(
                    "the activity page has no password yet: run `puente ui password --tenant {}`",
                    app.config.tenant
                );
            }
            let ui = puente_web::router(
                Arc::new(puente_web::LocalTenant {
                    app: app.clone(),
                    passwords,
                }),
                puente_web::UiOptions::for_listen(&listen),
            );
            let opts = ServeOptions {
                listen,
                initial_full: !no_initial_sync,
                modified_every,
                ui: Some(ui),
            };
            serve(app, opts, async {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("shutting down");
            })
            .await
            .context("server")?;
        }
        Cmd::Sync {
            flow,
            mode,
            dry_run,
            json,
        } => {
            init_tracing(&cli.log_format, "warn")?;
            let (cfg, _sandboxes) = match cfg {
                Some(c) => (c, None),
                None => {
                    let (c, sb) = demo::start_demo(cli.demo.as_deref()).await?;
                    eprintln!(
                        "no --config: syncing the built-in sandboxes (sample data, store {})",
                        c.store.path.display()
                    );
                    (c, Some(sb))
                }
            };
            let app = build_app(cfg)?;
            let flow = match flow {
                Some(f) => f,
                None if app.flows.len() == 1 => app.flows[0].name.clone(),
                None => bail!(
                    "name the flow with --flow; configured flows: {}",
                    app.flows
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let f = app.flow(&flow).map_err(|e| anyhow::anyhow!(e))?;
            if dry_run {
                // A dry run writes nothing, not even the setup: only the credentials are checked.
                puente_runtime::check(f)
                    .await
                    .map_err(|e| anyhow::anyhow!("flow '{flow}' cannot start: {e}"))?;
            } else {
                let created = puente_runtime::activate(f)
                    .await
                    .map_err(|e| anyhow::anyhow!("flow '{flow}' cannot start: {e}"))?;
                for c in created {
                    eprintln!("setup: created {c}");
                }
            }
            let bar = progress::Bar::new(!json && std::io::stderr().is_terminal());
            let s = run(f, mode, dry_run, &bar).await;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print!("{}", s.render());
            }
            if !s.errors.is_empty() {
                std::process::exit(2);
            }
        }
        Cmd::Sandbox {
            only,
            port_base,
            write_config,
        } => {
            init_tracing(&cli.log_format, "info")?;
            demo::run_sandbox(&only, port_base, &write_config).await?;
        }
        Cmd::Log {
            record,
            action,
            limit,
            json,
        } => {
            let cfg = cfg.unwrap_or_else(demo::demo_config_for_inspection);
            let store = open_store(&cfg)?;
            let mut q = LogQuery {
                tenant: cfg.tenant.clone(),
                limit,
                ..LogQuery::default()
            };
            if let Some(r) = record {
                // Either side: entries where the record was the source or was written to.
                q.record = Some(r.parse().map_err(|e| anyhow::anyhow!("--record: {e}"))?);
            }
            if let Some(a) = action {
                q.action = Some(a.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "--action '{a}': use created, updated, unchanged, skipped or failed"
                    )
                })?);
            }
            let entries = store.query(&q).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else if entries.is_empty() {
                println!(
                    "no activity-log entries (store {})",
                    cfg.store.path.display()
                );
            } else {
                for e in entries {
                    println!(
                        "{} {:<9} {:<7} {}:{}{}{}{}",
                        e.at.format("%Y-%m-%d %H:%M:%S"),
                        e.action.to_string(),
                        e.kind,
                        e.system,
                        e.external_id.as_deref().unwrap_or("-"),
                        match (&e.target_system, &e.target_id) {
                            (Some(s), Some(i)) => format!(" → {s}:{i}"),
                            _ => String::new(),
                        },
                        if e.fields.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", e.fields.join(", "))
                        },
                        e.reason
                            .as_deref()
                            .map(|r| format!(" — {r}"))
                            .unwrap_or_default(),
                    );
                }
            }
        }
        Cmd::Tenant { cmd } => tenant_cmd(cmd).await?,
        Cmd::Ui {
            cmd: UiCmd::Password { tenant, aws },
        } => {
            let cfg = cfg.unwrap_or_else(demo::demo_config_for_inspection);
            let tenant = tenant.unwrap_or_else(|| cfg.tenant.clone());
            let password = read_password(&tenant)?;
            if aws {
                let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
                let prefix = env("SECRETS_PREFIX")
                    .unwrap_or_else(|| puente_lambda::tenants::DEFAULT_SECRETS_PREFIX.to_string());
                let sdk = puente_lambda::aws_sdk_config().await;
                let store = puente_lambda::ui::UiPasswords::new(&sdk, &prefix);
                let hash = puente_web::auth::hash_password(&password)?;
                store.put(&tenant, &hash).await?;
                println!(
                    "activity-page password of tenant '{tenant}' stored hashed in Secrets Manager as {}",
                    store.secret_name(&tenant)
                );
            } else {
                let file = puente_web::PasswordFile::beside(&cfg.store.path);
                file.set(&tenant, &password)?;
                println!(
                    "activity-page password of tenant '{tenant}' stored hashed in {}; open http://{}/ui/{tenant}/ while `puente serve` runs",
                    file.path().display(),
                    cfg.server.listen
                );
            }
        }
        Cmd::Dlq { cmd, aws } => {
            let store: Arc<dyn Store> = if aws {
                let sdk = puente_lambda::aws_sdk_config().await;
                puente_lambda::Ctx::from_env(&sdk)?.store
            } else {
                let cfg = cfg.unwrap_or_else(demo::demo_config_for_inspection);
                open_store(&cfg)?
            };
            dlq_cmd(store.as_ref(), cmd).await?;
        }
        Cmd::Links {
            record,
            kind,
            flow,
            json,
        } => {
            let cfg = cfg.unwrap_or_else(demo::demo_config_for_inspection);
            let kind: puente_core::Kind = kind.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let store = open_store(&cfg)?;
            let (s, id) = split_record(&record)?;
            // Links belong to a flow: each flow with this connection keeps its own.
            let flows: Vec<&str> = cfg
                .flows
                .iter()
                .filter(|f| f.a == s || f.b == s)
                .filter(|f| flow.as_ref().is_none_or(|x| &f.name == x))
                .map(|f| f.name.as_str())
                .collect();
            if flows.is_empty() {
                bail!(
                    "no flow{} syncs connection '{s}'; connections: {}",
                    flow.map(|f| format!(" named '{f}'")).unwrap_or_default(),
                    cfg.connections
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let single = flows.len() == 1;
            let mut found = Vec::new();
            for f in flows {
                let scope = puente_store::Scope::new(&cfg.tenant, f, kind.as_str());
                match store
                    .link_by_external(scope, &s, &id)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                {
                    None if !json => println!("{s}:{id} ({kind}) has no link in flow {f}"),
                    None => {}
                    Some(l) if json => found.push(l),
                    Some(l) => {
                        println!(
                            "link {} ({}, flow {}), version {}, key {}",
                            l.id,
                            l.kind,
                            l.flow,
                            l.version,
                            l.keys().join(", ")
                        );
                        for (sys, eid) in &l.ids {
                            println!("  {sys}:{eid}");
                        }
                        println!("  last synced {}", l.updated_at.format("%Y-%m-%d %H:%M:%S"));
                    }
                }
            }
            // JSON: the link (or null) when one flow syncs the connection, else an array of
            // the links found, one per flow.
            if json && single {
                println!("{}", serde_json::to_string_pretty(&found.pop())?);
            } else if json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            }
        }
    }
    Ok(())
}

/// The new page password: PUENTE_UI_PASSWORD, else the first line of standard input.
fn read_password(tenant: &str) -> Result<String> {
    if let Ok(p) = std::env::var("PUENTE_UI_PASSWORD") {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    if std::io::stdin().is_terminal() {
        eprint!("new activity-page password for tenant '{tenant}' (it is shown as you type): ");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        bail!("no password given: set PUENTE_UI_PASSWORD or pipe it on standard input");
    }
    Ok(p)
}

async fn tenant_cmd(cmd: TenantCmd) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let table = env("TABLE_NAME")
        .context("set TABLE_NAME to the stack's TableName output (and AWS credentials/region)")?;
    let prefix = env("SECRETS_PREFIX")
        .unwrap_or_else(|| puente_lambda::tenants::DEFAULT_SECRETS_PREFIX.to_string());
    let sdk = puente_lambda::aws_sdk_config().await;
    let tenants = puente_lambda::Tenants::new(&sdk, &table, &prefix);
    match cmd {
        TenantCmd::Put {
            file,
            webhook_base_url,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let split = puente_lambda::tenants::split_secrets(&text, |k| env(k))
                .with_context(|| format!("{}", file.display()))?;
            tenants.put(&split).await?;
            println!(
                "tenant '{}' stored: configuration in table {table}, {} secret(s) in Secrets Manager as {}",
                split.tenant,
                split.secrets.len(),
                tenants.secret_name(&split.tenant)
            );
            let joined = puente_lambda::tenants::join_secrets(&split.config_toml, &split.secrets)?;
            let config = Config::parse(&joined).map_err(|e| anyhow::anyhow!("{e}"))?;
            let paths = puente_lambda::tenants::webhook_paths(&config)?;
            if config.server.webhook_secret.is_none() && config.server.webhook_secret_env.is_none()
            {
                println!("no server.webhook_secret: webhooks are off for this tenant");
            }
            for (conn, path) in paths {
                match &webhook_base_url {
                    Some(base) => println!(
                        "webhook URL for connection {conn}: {}/{}",
                        base.trim_end_matches('/').trim_end_matches("/webhooks"),
                        path
                    ),
                    None => println!(
                        "webhook URL for connection {conn}: <the stack's WebhookBaseUrl>/{}",
                        path.trim_start_matches("webhooks/")
                    ),
                }
            }
        }
        TenantCmd::List => {
            let names = tenants.list().await?;
            if names.is_empty() {
                println!("no tenants in table {table}");
            }
            for n in names {
                println!("{n}");
            }
        }
    }
    Ok(())
}

async fn dlq_cmd(store: &dyn Store, cmd: DlqCmd) -> Result<()> {
    let err = |e: puente_store::StoreError| anyhow::anyhow!("{e}");
    match cmd {
        DlqCmd::List { limit, json } => {
            let dead = store.dead_letters(limit).await.map_err(err)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&dead)?);
            } else if dead.is_empty() {
                println!("the dead-letter queue is empty");
            } else {
                for d in dead {
                    println!(
                        "{}  {}  group {}  received {}x{}",
                        d.id,
                        d.failed_at.format("%Y-%m-%d %H:%M:%S"),
                        d.group,
                        d.receive_count,
                        d.last_error
                            .as_deref()
                            .map(|e| format!("  last error: {e}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        DlqCmd::Replay { ids, all } => {
            let ids: Vec<String> = if all {
                store
                    .dead_letters(usize::MAX)
                    .await
                    .map_err(err)?
                    .into_iter()
                    .map(|d| d.id)
                    .collect()
            } else if ids.is_empty() {
                bail!(
                    "name the dead letters to replay (ids from `puente dlq list`), or pass --all"
                );
            } else {
                ids
            };
            let mut failed = 0;
            for id in &ids {
                match store.replay_dead_letter(id).await {
                    Ok(()) => println!("replayed {id}"),
                    Err(e) => {
                        failed += 1;
                        eprintln!("could not replay {id}: {e}");
                    }
                }
            }
            println!("{} of {} replayed", ids.len() - failed, ids.len());
            if failed > 0 {
                std::process::exit(2);
            }
        }
    }
    Ok(())
}
