//! The built-in demo: sandboxes with sample data and a config pointing at them.

use anyhow::{Context, Result};
use puente_runtime::Config;
use puente_sandbox::{SandboxConfig, Sandboxes};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the demo keeps its store (fresh at every start, like the sandboxes' data).
pub fn demo_store_path() -> PathBuf {
    PathBuf::from("puente-demo.sqlite")
}

fn demo_toml(sb: &Sandboxes, cfg: &SandboxConfig, store: &Path, listen: &str) -> String {
    format!(
        r#"# Written by puente: a config for the built-in sandboxes.
tenant = "demo"

[store]
path = "{store}"

[server]
listen = "{listen}"
webhook_secret = "demo-secret"

[connections.clientify]
type = "clientify"
base_url = "{cu}"
api_key = "{ck}"

[connections.alegra]
type = "alegra"
base_url = "{au}"
email = "{ae}"
token = "{at}"

[[flows]]
name = "clientify-alegra"
a = "clientify"
b = "alegra"
entities = ["contact", "company"]
"#,
        store = store.display(),
        cu = sb.clientify.base_url,
        ck = cfg.clientify_token,
        au = sb.alegra.base_url,
        ae = cfg.alegra_email,
        at = cfg.alegra_token,
    )
}

/// The sample data a newcomer sees.
fn sample() -> SandboxConfig {
    SandboxConfig {
        contacts: 200,
        companies: 40,
        shared_contacts: 30,
        shared_companies: 8,
        ..SandboxConfig::default()
    }
}

/// Starts the sandboxes on free loopback ports and returns a config for them with a fresh store.
pub async fn start_demo() -> Result<(Config, Sandboxes)> {
    let cfg = sample();
    // Fixed ports when free, so the printed curl commands work; any free port otherwise.
    let fixed = (
        SocketAddr::from(([127, 0, 0, 1], 8081)),
        SocketAddr::from(([127, 0, 0, 1], 8082)),
    );
    let sb = match puente_sandbox::start(&cfg, Some(fixed.0), Some(fixed.1)).await {
        Ok(sb) => sb,
        Err(_) => puente_sandbox::start(&cfg, None, None)
            .await
            .context("starting the sandboxes")?,
    };
    let store = demo_store_path();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", store.display()));
    }
    let toml = demo_toml(&sb, &cfg, &store, "127.0.0.1:8080");
    let config = Config::parse(&toml).map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    tracing::info!(clientify = %sb.clientify.base_url, alegra = %sb.alegra.base_url, "sandboxes started with sample data (no --config given)");
    eprintln!(
        "\nDemo: edit a contact in the Alegra sandbox and watch the next Modified sync (every 30 s) carry it to Clientify:\n  \
         curl -u {ae}:{at} -X PUT {au}/contacts/1 -H 'Content-Type: application/json' -d '{{\"address\":{{\"city\":\"Ourense\"}}}}'\n  \
         puente log --record alegra:1\n\
         Clientify sandbox: {cu} (Authorization: Token {ck}); call counts at /_sandbox/stats\n",
        ae = cfg.alegra_email,
        at = cfg.alegra_token,
        au = sb.alegra.base_url,
        cu = sb.clientify.base_url,
        ck = cfg.clientify_token,
    );
    Ok((config, sb))
}

/// `log` and `links` without a config read the demo's store.
pub fn demo_config_for_inspection() -> Config {
    let mut c = Config::parse("tenant = \"demo\"").expect("minimal config");
    c.store.path = demo_store_path();
    c
}

/// `puente sandbox`: serve until Ctrl-C, print URLs and credentials, write a config.
pub async fn run_sandbox(
    cport: u16,
    aport: u16,
    contacts: usize,
    companies: usize,
    write_config: &Path,
) -> Result<()> {
    let cfg = SandboxConfig {
        contacts,
        companies,
        shared_contacts: contacts / 7,
        shared_companies: companies / 5,
        ..SandboxConfig::default()
    };
    let caddr: SocketAddr = ([127, 0, 0, 1], cport).into();
    let aaddr: SocketAddr = ([127, 0, 0, 1], aport).into();
    let sb = puente_sandbox::start(&cfg, Some(caddr), Some(aaddr))
        .await
        .with_context(|| format!("binding 127.0.0.1:{cport} and 127.0.0.1:{aport} (pass --clientify-port/--alegra-port to use others)"))?;
    std::fs::write(
        write_config,
        demo_toml(&sb, &cfg, Path::new("puente.sqlite"), "127.0.0.1:8080"),
    )
    .with_context(|| format!("writing {}", write_config.display()))?;
    println!(
        "Clientify sandbox: {}  (header  Authorization: Token {})",
        sb.clientify.base_url, cfg.clientify_token
    );
    println!(
        "Alegra sandbox:    {}  (HTTP Basic  {}:{})",
        sb.alegra.base_url, cfg.alegra_email, cfg.alegra_token
    );
    println!(
        "Call counts:       {}/_sandbox/stats  and  {}/_sandbox/stats",
        sb.clientify.root_url, sb.alegra.root_url
    );
    println!(
        "Seeded: {contacts} contacts and {companies} companies per side. Config written to {}:",
        write_config.display()
    );
    println!(
        "  puente --config {} sync --flow clientify-alegra --mode full",
        write_config.display()
    );
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.ok();
    Ok(())
}
