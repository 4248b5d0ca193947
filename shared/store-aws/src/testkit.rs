//! Test support shared by every suite that runs against a local AWS emulator (moto): the
//! endpoint (a missing one fails loudly — a skipped check would pass silently), an SDK
//! config with static keys, and names unique per process and call (moto is shared).

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use std::sync::atomic::{AtomicU32, Ordering};

/// `AWS_ENDPOINT_URL`, or a panic that says how to start the emulator; `crate_name` is the
/// package whose tests need it.
pub fn endpoint(crate_name: &str) -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "AWS_ENDPOINT_URL is not set, and these tests need a local AWS emulator: from the \
             repo root run `bash infra/moto.sh install && eval \"$(bash infra/moto.sh start)\"`, \
             then `cargo test -p {crate_name}`, and `bash infra/moto.sh stop` when done"
        ),
    }
}

/// moto keeps state per region and does not check signatures: any static keys do.
pub async fn sdk_config(crate_name: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint(crate_name))
        .load()
        .await
}

/// A table/queue name prefix unique per process and call.
pub fn unique(prefix: &str, tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{tag}-{}-{:x}-{}",
        std::process::id(),
        nanos % (1 << 40),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
