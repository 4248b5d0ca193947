//! The built-in demo and `puente sandbox`: vendor sandboxes from the sandbox registry, with
//! their sample data, and a config pointing at them. Which demos exist is data: every flow
//! preset with a `[demo]` section (`shared/connectors/presets/`); this file names no vendor.

use anyhow::{bail, Context, Result};
use puente_connectors::registry::{self, Demo, Preset};
use puente_runtime::Config;
use puente_sandbox::{Sandbox, Started};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the demo keeps its store (fresh at every start, like the sandboxes' data).
pub fn demo_store_path() -> PathBuf {
    PathBuf::from("puente-demo.sqlite")
}

/// The first port of the sandboxes: each listens on this plus its place in the sandbox
/// registry when that port is free (8081, 8082, …), so printed commands keep working.
pub const PORT_BASE: u16 = 8081;

/// Running sandboxes, by vendor, with the connection settings that reach them.
pub struct Running(Vec<(&'static str, Started)>);

impl Running {
    /// Starts the named vendors' sandboxes on `port_base + registry index` (any free port
    /// without a base, or when that one is taken and `fallback` allows).
    pub async fn start(names: &[&str], port_base: Option<u16>, fallback: bool) -> Result<Running> {
        let mut out = Vec::new();
        for name in names {
            let Some(i) = puente_sandbox::registry()
                .iter()
                .position(|s| s.name == *name)
            else {
                bail!(
                    "no sandbox for '{name}'; sandboxes: {}",
                    sandbox_names().join(", ")
                );
            };
            let entry = &puente_sandbox::registry()[i];
            let port = port_base.map(|b| b.saturating_add(i as u16));
            let addr = port.map(|p| SocketAddr::from(([127, 0, 0, 1], p)));
            let started = match entry.start(addr).await {
                Ok(s) => s,
                Err(_) if fallback => entry
                    .start(None)
                    .await
                    .with_context(|| format!("starting the {name} sandbox"))?,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("binding 127.0.0.1:{} for the {name} sandbox (pass --port-base to use others)", port.unwrap_or(0))
                    })
                }
            };
            out.push((entry.name, started));
        }
        Ok(Running(out))
    }

    /// The handles, by vendor.
    pub fn sandboxes(&self) -> impl Iterator<Item = (&'static str, &Sandbox)> {
        self.0.iter().map(|(n, s)| (*n, &s.sandbox))
    }

    /// `[connections.VENDOR]` sections reaching every running sandbox.
    fn connections_toml(&self) -> String {
        let mut t = String::new();
        for (name, s) in &self.0 {
            let _ = writeln!(t, "\n[connections.{name}]");
            for (k, v) in &s.connection {
                let _ = writeln!(t, "{k} = {}", toml::Value::String(v.clone()));
            }
        }
        t
    }

    /// `text` with every `{vendor.key}` replaced by that sandbox's setting.
    fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, s) in &self.0 {
            for (k, v) in &s.connection {
                out = out.replace(&format!("{{{name}.{k}}}"), v);
            }
        }
        out
    }
}

/// Every sandbox's name, for messages.
fn sandbox_names() -> Vec<&'static str> {
    puente_sandbox::registry().iter().map(|s| s.name).collect()
}

/// `[[flows]]` for a preset's demo.
fn flow_toml(p: &Preset, d: &Demo) -> String {
    let entities: Vec<toml::Value> = d
        .entities
        .iter()
        .map(|e| toml::Value::String(e.clone()))
        .collect();
    format!(
        "\n[[flows]]\nname = \"{}\"\na = \"{}\"\nb = \"{}\"\nentities = {}\n",
        p.name(),
        p.vendors[0],
        p.vendors[1],
        toml::Value::Array(entities)
    )
}

/// A config for `running` with the given flows.
fn config_toml(running: &Running, flows: &[(&Preset, Demo)], store: &Path, listen: &str) -> String {
    let mut t = format!(
        "# Written by puente: a config for the built-in sandboxes.\ntenant = \"demo\"\n\n\
         [store]\npath = {}\n\n[server]\nlisten = \"{listen}\"\nwebhook_secret = \"demo-secret\"\n",
        toml::Value::String(store.display().to_string())
    );
    t.push_str(&running.connections_toml());
    for (p, d) in flows {
        t.push_str(&flow_toml(p, d));
    }
    t
}

/// The demo called `name` (a preset's `a-b`), or the default one.
fn pick(name: Option<&str>) -> Result<(&'static Preset, Demo)> {
    let demos = registry::demos();
    let names = || {
        demos
            .iter()
            .map(|(p, _)| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        None => demos.first().cloned().context("no preset has a demo"),
        Some(n) => demos
            .iter()
            .find(|(p, _)| p.name() == n)
            .cloned()
            .with_context(|| format!("no demo called '{n}'; demos: {}", names())),
    }
}

/// Starts the sandboxes of demo `name` (default: the first) on free loopback ports and
/// returns a config for them with a fresh store.
pub async fn start_demo(name: Option<&str>) -> Result<(Config, Running)> {
    let (preset, demo) = pick(name)?;
    let running = Running::start(&preset.vendors, Some(PORT_BASE), true).await?;
    let store = demo_store_path();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", store.display()));
    }
    let toml = config_toml(
        &running,
        &[(preset, demo.clone())],
        &store,
        "127.0.0.1:8080",
    );
    let config = Config::parse(&toml).map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    for (vendor, sb) in running.sandboxes() {
        tracing::info!(%vendor, url = %sb.base_url, "sandbox started with sample data (no --config given)");
    }
    eprintln!("\nDemo {}: {}", preset.name(), demo.about);
    if !demo.try_it.is_empty() {
        eprintln!("{}", running.fill(&demo.try_it));
    }
    eprintln!(
        "Other demos (--demo NAME): {}\n",
        registry::demos()
            .iter()
            .map(|(p, _)| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok((config, running))
}

/// `log` and `links` without a config read the demo's store.
pub fn demo_config_for_inspection() -> Config {
    let mut c = Config::parse("tenant = \"demo\"").expect("minimal config");
    c.store.path = demo_store_path();
    c
}

/// `puente sandbox`: starts the named sandboxes (default: all), prints how to reach them,
/// writes a config with a connection for each and a flow for every demo among them, and
/// serves until Ctrl-C.
pub async fn run_sandbox(only: &[String], port_base: u16, write_config: &Path) -> Result<()> {
    let names: Vec<&str> = if only.is_empty() {
        sandbox_names()
    } else {
        only.iter().map(String::as_str).collect()
    };
    let running = Running::start(&names, Some(port_base), false).await?;
    let flows: Vec<(&Preset, Demo)> = registry::demos()
        .into_iter()
        .filter(|(p, _)| p.vendors.iter().all(|v| names.contains(v)))
        .collect();
    std::fs::write(
        write_config,
        config_toml(
            &running,
            &flows,
            Path::new("puente.sqlite"),
            "127.0.0.1:8080",
        ),
    )
    .with_context(|| format!("writing {}", write_config.display()))?;
    for (name, s) in &running.0 {
        let about = puente_sandbox::sandbox(name).map(|e| e.about).unwrap_or("");
        println!("{name:<12} {}  ({about})", s.sandbox.base_url);
        for (k, v) in s.connection.iter().filter(|(k, _)| *k != "type") {
            println!("{:<12}   {k} = {v}", "");
        }
    }
    println!(
        "Call counts at each sandbox's /_sandbox/stats. Config written to {}:",
        write_config.display()
    );
    for (p, _) in &flows {
        println!(
            "  puente --config {} sync --flow {} --mode full",
            write_config.display(),
            p.name()
        );
    }
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every preset's demo starts its sandboxes and yields a config that builds, whose flow
    /// passes activation's credential check against them (issue 12: the demo is data).
    #[tokio::test]
    async fn every_demo_starts_and_its_config_builds() {
        let demos = registry::demos();
        assert!(demos.len() >= 2, "the existing flows carry demos");
        for (p, d) in demos {
            assert!(
                !d.about.is_empty() && !d.entities.is_empty(),
                "{}",
                p.name()
            );
            let running = Running::start(&p.vendors, None, false).await.unwrap();
            let store = std::env::temp_dir().join(format!("puente-demo-test-{}.sqlite", p.name()));
            let toml = config_toml(&running, &[(p, d.clone())], &store, "127.0.0.1:0");
            let cfg = Config::parse(&toml).unwrap_or_else(|e| panic!("{}: {e}\n{toml}", p.name()));
            let app = crate::build_app(cfg).unwrap();
            let flow = app.flow(&p.name()).unwrap();
            assert_eq!(flow.kinds.len(), d.entities.len());
            puente_runtime::check(flow)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", p.name()));
            let hint = running.fill(&d.try_it);
            for v in p.vendors {
                assert!(
                    !hint.contains(&format!("{{{v}.")),
                    "{}: placeholders filled: {hint}",
                    p.name()
                );
            }
            for (_, sb) in running.sandboxes() {
                sb.shutdown();
            }
            let _ = std::fs::remove_file(&store);
        }
    }

    #[test]
    fn an_unknown_demo_names_the_known_ones() {
        let e = pick(Some("nope")).unwrap_err().to_string();
        assert!(e.contains("no demo called 'nope'"), "{e}");
        assert!(e.contains(&registry::demos()[0].0.name()), "{e}");
    }
}
