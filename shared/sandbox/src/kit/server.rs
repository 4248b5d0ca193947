//! Serving a vendor's router: binding, the kit's middleware around it, and the [`Sandbox`]
//! handle a test keeps to read counters, set faults, move the clock and shut the server down.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::middleware;
use axum::Router;
use tokio::sync::watch;

use super::outbox::WebhookSent;
use super::{control, faults, lock, stats, Common, Faults, Stats};

struct Stopper {
    tx: watch::Sender<bool>,
    /// A duplicate of the listening socket, to stop listening at once.
    listener: Mutex<Option<std::net::TcpListener>>,
}

/// One running sandbox server.
#[derive(Clone)]
pub struct Sandbox {
    /// Clientify: `http://127.0.0.1:PORT/v1`; Alegra: `http://127.0.0.1:PORT/api/v1`;
    /// Odoo: `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// `http://127.0.0.1:PORT`.
    pub root_url: String,
    pub(crate) common: Arc<Common>,
    stopper: Arc<Stopper>,
}

impl Sandbox {
    /// Request counters (same data as `GET /_sandbox/stats`).
    pub fn stats(&self) -> Stats {
        self.common.stats()
    }

    /// Replaces the injected faults (restarting their seeded draws); same as
    /// `POST /_sandbox/faults`.
    pub fn set_faults(&self, faults: Faults) {
        self.common.set_faults(faults)
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.common.faults()
    }

    /// Webhook deliveries queued or in progress (tests wait for 0 before counting writes).
    pub fn webhooks_pending(&self) -> usize {
        self.common.outbox.pending()
    }

    /// Webhook deliveries made so far (the most recent 10 000), oldest first.
    pub fn webhooks_sent(&self) -> Vec<WebhookSent> {
        self.common.outbox.sent()
    }

    /// The most recent requests (up to 10 000) as they arrived, `METHOD /path?query` with
    /// the path still percent-encoded, oldest first; cleared by [`Sandbox::reset_stats`].
    pub fn requests(&self) -> Vec<String> {
        self.common.requests()
    }

    /// The most recent writes (POST/PUT/PATCH/DELETE, up to 1 000) as `(METHOD /path?query,
    /// body)`, oldest first (bodies over 64 KiB cut); cleared by [`Sandbox::reset_stats`].
    pub fn writes(&self) -> Vec<(String, String)> {
        self.common.writes()
    }

    /// Zeroes the counters (and forgets the request log).
    pub fn reset_stats(&self) {
        self.common.reset_stats()
    }

    /// Moves this sandbox's clock by `secs` (timestamps it sets, and its
    /// rate-limit windows).
    pub fn advance_clock(&self, secs: i64) {
        self.common.advance(secs)
    }

    /// Current time of this sandbox's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.common.now()
    }

    /// What the vendor's own user can do here, for vendors whose registry entry says (a
    /// shop's shopper); `None` for the others.
    pub fn user(&self) -> Option<Arc<dyn super::VendorUser>> {
        self.common.user.get().cloned()
    }

    /// Sets [`Sandbox::user`] (once; later calls are ignored).
    pub(crate) fn set_user(&self, user: Arc<dyn super::VendorUser>) {
        let _ = self.common.user.set(user);
    }

    /// Stops serving: the socket stops listening immediately (new
    /// connections are refused) and open connections are closed once idle.
    pub fn shutdown(&self) {
        if let Some(l) = lock(&self.stopper.listener).take() {
            // Linux: shutdown(SHUT_RD) on a listening socket moves it out of
            // LISTEN, so connects are refused before the task even runs.
            let _ = socket2::SockRef::from(&l).shutdown(std::net::Shutdown::Read);
        }
        self.stopper.tx.send_replace(true);
    }
}

/// Binds `addr` (127.0.0.1:0 when `None`) and returns the listener with its root URL
/// (`http://127.0.0.1:PORT`), before the vendor's router is built, so the router can know
/// its own address.
pub(crate) fn bind(addr: Option<SocketAddr>) -> io::Result<(std::net::TcpListener, String)> {
    let addr = addr.unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let host = match local.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    Ok((listener, format!("http://{host}:{}", local.port())))
}

/// Serves `vendor` (plus the control routes) on `listener` in a background task; the
/// handle's `base_url` is `root` + `base_path`.
pub(crate) fn serve(
    listener: std::net::TcpListener,
    root: String,
    base_path: &str,
    common: Arc<Common>,
    vendor: Router,
) -> io::Result<Sandbox> {
    serve_wrapped(listener, root, base_path, common, vendor, |app| app)
}

/// [`serve`], with `wrap` adding the vendor's own layers outside the fault injector (inside
/// the stats counter), so they see injected faults too: CCV Shop signs every response,
/// injected 429s and 5xx included.
pub(crate) fn serve_wrapped(
    listener: std::net::TcpListener,
    root: String,
    base_path: &str,
    common: Arc<Common>,
    vendor: Router,
    wrap: impl FnOnce(Router) -> Router,
) -> io::Result<Sandbox> {
    let dup = listener.try_clone()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // Outermost the stats counter (faulted requests count too), then the vendor's outer
    // layers, then the fault injector, then the vendor's routes.
    let app = wrap(vendor.merge(control::control_router(common.clone())).layer(
        middleware::from_fn_with_state(common.clone(), faults::inject),
    ))
    .layer(middleware::from_fn_with_state(
        common.clone(),
        stats::count_requests,
    ));
    let (tx, mut rx) = watch::channel(false);
    tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::warn!("sandbox server stopped: {e}");
        }
    });
    Ok(Sandbox {
        base_url: format!("{root}{base_path}"),
        root_url: root,
        common,
        stopper: Arc::new(Stopper {
            tx,
            listener: Mutex::new(Some(dup)),
        }),
    })
}
