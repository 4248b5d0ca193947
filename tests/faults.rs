//! Seeded vendor faults (5xx, 429 bursts, resets, timeouts, lost responses, latency): the
//! sandboxes really inject them, and a sync through them completes without duplicates and
//! converges (issue 2, ALG-12).

use puente_core::Kind;
use puente_e2e::*;
use puente_runtime::Mode;
use puente_sandbox::{Faults, Sandbox, SandboxConfig};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn cfg(seed: u64) -> SandboxConfig {
    SandboxConfig {
        seed,
        contacts: 30,
        companies: 5,
        shared_contacts: 6,
        shared_companies: 1,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

/// More retries than `test_retry` so that a run through frequent faults completes.
fn patient() -> puente_connectors::RetryPolicy {
    puente_connectors::RetryPolicy {
        max_retries: 8,
        max_delay: Duration::from_millis(50),
        ..test_retry()
    }
}

/// Sends one raw HTTP/1.1 request and returns every byte the server sent before closing.
async fn raw(sb: &Sandbox, method: &str, path: &str, auth: &str, body: &str) -> Vec<u8> {
    let addr = sb.root_url.trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    // A reset is an error here; an orderly close is Ok. Either way: what came before it.
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

fn alegra_auth(c: &SandboxConfig) -> String {
    use base64_like::encode;
    format!(
        "Basic {}",
        encode(&format!("{}:{}", c.alegra_email, c.alegra_token))
    )
}

/// Minimal base64 (the e2e package has no base64 dependency).
mod base64_like {
    pub fn encode(s: &str) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = s.as_bytes();
        let mut out = String::new();
        for ch in b.chunks(3) {
            let n = (ch[0] as u32) << 16
                | (*ch.get(1).unwrap_or(&0) as u32) << 8
                | *ch.get(2).unwrap_or(&0) as u32;
            for i in 0..4 {
                if i <= ch.len() {
                    out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

fn failed(s: &puente_runtime::Summary) -> u64 {
    s.entities.values().map(|c| c.failed).sum()
}

fn writes_of(s: &puente_runtime::Summary) -> u64 {
    s.entities
        .values()
        .map(|c| c.created_total() + c.updated_total())
        .sum()
}

/// Alegra and Clientify hold at most one record per tax id; with the faults off, one Full sync
/// finishes whatever the faulted run could not (without failures or duplicates) and the next
/// Full sync writes nothing.
async fn assert_no_duplicates_and_converged(env: &TestEnv) {
    env.sb.alegra.set_faults(Faults::default());
    env.sb.clientify.set_faults(Faults::default());
    assert_no_duplicates(env).await;
    let recovery = env.sync(Mode::Full).await;
    assert_eq!(failed(&recovery), 0, "{recovery:?}");
    assert_no_duplicates(env).await;
    let again = env.sync(Mode::Full).await;
    assert_eq!(failed(&again), 0, "{again:?}");
    assert_eq!(writes_of(&again), 0, "converged: {again:?}");
}

async fn assert_no_duplicates(env: &TestEnv) {
    let alegra = env.alegra_all().await;
    assert_eq!(alegra_duplicate_keys(&alegra), Vec::<String>::new());
    let mut clientify = env.clientify_all(Kind::Contact).await;
    clientify.extend(env.clientify_all(Kind::Company).await);
    assert_eq!(clientify_duplicate_keys(&clientify), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_reset_and_lost_response_close_the_connection_without_an_answer() {
    let c = cfg(1);
    let env = TestEnv::start("faults-raw", c.clone()).await;
    let auth = alegra_auth(&c);
    let before = env.alegra_all().await.len();

    env.sb.alegra.set_faults(Faults {
        reset: 1.0,
        ..Faults::default()
    });
    let got = raw(&env.sb.alegra, "GET", "/api/v1/contacts", &auth, "").await;
    assert!(
        got.is_empty(),
        "no HTTP bytes: {:?}",
        String::from_utf8_lossy(&got)
    );
    let body = r#"{"name":"Reset SL","identification":"B12345674","type":["provider"],"address":{"city":"Lugo","department":"Lugo"}}"#;
    let got = raw(&env.sb.alegra, "POST", "/api/v1/contacts", &auth, body).await;
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    // reqwest sees a transport error, not a status.
    let err = reqwest::Client::new()
        .get(format!("{}/contacts", env.sb.alegra.base_url))
        .header("Authorization", &auth)
        .send()
        .await
        .expect_err("a reset is no answer");
    assert!(!err.is_status(), "{err:?}");
    env.sb.alegra.set_faults(Faults::default());
    assert_eq!(
        env.alegra_all().await.len(),
        before,
        "a reset POST is not processed"
    );

    env.sb.alegra.set_faults(Faults {
        lost_response: 1.0,
        ..Faults::default()
    });
    let body = r#"{"name":"Lost SL","identification":"B12345674","type":["provider"],"address":{"city":"Lugo","department":"Lugo"}}"#;
    let got = raw(&env.sb.alegra, "POST", "/api/v1/contacts", &auth, body).await;
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    let err = reqwest::Client::new()
        .post(format!("{}/contacts", env.sb.alegra.base_url))
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body(r#"{"name":"Lost Dos SL","identification":"B87654321","type":["provider"],"address":{"city":"Lugo","department":"Lugo"}}"#)
        .send()
        .await
        .expect_err("a lost response is no answer");
    assert!(!err.is_status(), "{err:?}");
    // GETs are not writes: lost_response lets them through.
    let list = raw(&env.sb.alegra, "GET", "/api/v1/contacts?limit=1", &auth, "").await;
    assert!(
        list.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&list)
    );
    env.sb.alegra.set_faults(Faults::default());
    let after = env.alegra_all().await;
    assert_eq!(after.len(), before + 2, "both lost POSTs were processed");
    let stats = env.sb.alegra.stats();
    assert_eq!(stats.faults.get("reset"), Some(&3));
    assert_eq!(stats.faults.get("lost_response"), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_faults_are_deterministic_per_seed_and_settable_over_http() {
    let c = cfg(2);
    let env = TestEnv::start("faults-seed", c.clone()).await;
    let auth = format!("Token {}", c.clientify_token);
    let http = reqwest::Client::new();
    let pattern = |faults: Faults| {
        let http = http.clone();
        let sb = env.sb.clientify.clone();
        let auth = auth.clone();
        async move {
            let r = http
                .post(format!("{}/_sandbox/faults", sb.root_url))
                .json(&faults)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let mut out = Vec::new();
            for _ in 0..40 {
                let r = http
                    .get(format!("{}/contacts/?page_size=1", sb.base_url))
                    .header("Authorization", &auth)
                    .send()
                    .await
                    .unwrap();
                out.push(r.status().as_u16());
            }
            out
        }
    };
    let f = Faults {
        seed: 7,
        error_5xx: 0.3,
        burst_429: Some((10, 2)),
        ..Faults::default()
    };
    let a = pattern(f.clone()).await;
    let b = pattern(f.clone()).await;
    assert_eq!(a, b, "same seed, same faults");
    let other = pattern(Faults {
        seed: 8,
        ..f.clone()
    })
    .await;
    assert_ne!(a, other, "another seed, other faults");
    // The burst: the last 2 of every 10 requests, in Clientify's own 429 shape.
    for (i, s) in a.iter().enumerate() {
        assert_eq!(*s == 429, i % 10 >= 8, "request {i}: {a:?}");
    }
    let n5 = a.iter().filter(|s| **s == 500 || **s == 503).count();
    assert!((3..=20).contains(&n5), "about 30% of 32: {a:?}");
    env.sb.clientify.set_faults(Faults {
        burst_429: Some((1, 1)),
        ..Faults::default()
    });
    let r = http
        .get(format!("{}/contacts/", env.sb.clientify.base_url))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Request was throttled"));
    let stats = env.sb.clientify.stats();
    assert!(stats.faults["burst_429"] >= 24, "{stats:?}");
    assert_eq!(
        stats.rate_limited, stats.faults["burst_429"],
        "429s counted too"
    );
    assert!(
        stats.total >= 121,
        "faulted requests still counted: {stats:?}"
    );
    let got: Faults = http
        .get(format!("{}/_sandbox/faults", env.sb.clientify.root_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got.burst_429, Some((1, 1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_latency_delays_every_answer() {
    let c = SandboxConfig {
        faults: Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        },
        ..cfg(3)
    };
    let env = TestEnv::start("faults-latency", c).await;
    let t = Instant::now();
    let all = env.alegra_all().await;
    assert!(!all.is_empty());
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_5xx_on_reads_is_retried_and_sync_completes() {
    let env = TestEnv::start_with_policy("faults-5xx", cfg(11), patient()).await;
    env.activate().await;
    let f = Faults {
        seed: 11,
        error_5xx: 0.2,
        ..Faults::default()
    };
    env.sb.alegra.set_faults(f.clone());
    env.sb.clientify.set_faults(Faults { seed: 12, ..f });
    let s = env.sync(Mode::Full).await;
    let failed_log = env
        .app
        .store
        .query(&puente_store::LogQuery {
            tenant: "test".into(),
            action: Some(puente_store::Action::Failed),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    // Only creates can fail: a create answered 5xx twice (first try, then once more after the
    // lookup found nothing) is reported as ambiguous, never retried blindly; reads and PUTs
    // were retried through the 5xx.
    assert_eq!(failed_log.len() as u64, failed(&s), "{failed_log:?}");
    for e in &failed_log {
        let reason = e.reason.as_deref().unwrap_or("");
        assert!(
            reason.contains("a create may or may not have been applied (HTTP 50"),
            "{reason}"
        );
    }
    let (a, cl) = (env.sb.alegra.stats(), env.sb.clientify.stats());
    assert!(
        a.faults.get("error_5xx").copied().unwrap_or(0)
            + cl.faults.get("error_5xx").copied().unwrap_or(0)
            > 0,
        "faults were injected: {a:?} {cl:?}"
    );
    assert!(
        s.calls["alegra"].retries + s.calls["clientify"].retries > 0,
        "{s:?}"
    );
    // A POST answered 5xx is ambiguous (not retried blindly) and may fail its record; reads
    // and PUTs are retried. Whatever failed, the next clean run completes without duplicates.
    assert!(writes_of(&s) > 0, "{s:?}");
    assert_no_duplicates_and_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_lost_create_response_does_not_duplicate() {
    let env = TestEnv::start_with_policy("faults-lost", cfg(13), patient()).await;
    env.activate().await;
    let before = env.alegra_all().await.len();
    env.sb.alegra.set_faults(Faults {
        seed: 13,
        lost_response: 0.5,
        ..Faults::default()
    });
    let s = env.sync(Mode::Full).await;
    let lost = env.sb.alegra.stats().faults.get("lost_response").copied();
    assert!(lost.unwrap_or(0) > 0, "responses were lost");
    let created_in_alegra = s
        .entities
        .values()
        .map(|c| c.created.get("alegra").copied().unwrap_or(0))
        .sum::<u64>();
    assert!(created_in_alegra > 0, "{s:?}");
    let alegra = env.alegra_all().await;
    assert_eq!(alegra_duplicate_keys(&alegra), Vec::<String>::new());
    assert!(alegra.len() as u64 >= before as u64 + created_in_alegra);
    // Every Clientify record with a valid tax id now has exactly one Alegra counterpart.
    let keys: std::collections::BTreeSet<_> = alegra.iter().filter_map(alegra_key).collect();
    let mut clientify = env.clientify_all(Kind::Contact).await;
    clientify.extend(env.clientify_all(Kind::Company).await);
    env.sb.alegra.set_faults(Faults::default());
    assert_no_duplicates_and_converged(&env).await;
    let alegra = env.alegra_all().await;
    let keys_after: std::collections::BTreeSet<_> = alegra.iter().filter_map(alegra_key).collect();
    assert!(keys.is_subset(&keys_after));
    for c in &clientify {
        if let Some(k) = clientify_key(c) {
            assert!(keys_after.contains(&k), "{k} reached Alegra");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_429_bursts_are_waited_out() {
    let env = TestEnv::start("faults-429", cfg(14)).await;
    env.activate().await;
    env.sb.alegra.set_faults(Faults {
        burst_429: Some((20, 2)),
        ..Faults::default()
    });
    env.sb.clientify.set_faults(Faults {
        burst_429: Some((40, 1)),
        ..Faults::default()
    });
    let t = Instant::now();
    let s = env.sync(Mode::Full).await;
    let a = env.sb.alegra.stats();
    assert!(a.faults["burst_429"] > 0, "{a:?}");
    assert_eq!(failed(&s), 0, "{s:?}");
    assert_eq!(
        s.calls["alegra"].rate_limited, a.rate_limited,
        "every 429 seen and waited"
    );
    assert!(s.calls["clientify"].rate_limited > 0);
    // Each 429 says 1 s: the run waited them out rather than hammering.
    assert!(t.elapsed() >= Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(writes_of(&s) > 0);
    assert_no_duplicates_and_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_connection_resets_are_retried() {
    let env = TestEnv::start_with_policy("faults-reset", cfg(15), patient()).await;
    env.activate().await;
    let f = Faults {
        seed: 15,
        reset: 0.15,
        ..Faults::default()
    };
    env.sb.alegra.set_faults(f.clone());
    env.sb.clientify.set_faults(Faults { seed: 16, ..f });
    let s = env.sync(Mode::Full).await;
    let resets = env
        .sb
        .alegra
        .stats()
        .faults
        .get("reset")
        .copied()
        .unwrap_or(0)
        + env
            .sb
            .clientify
            .stats()
            .faults
            .get("reset")
            .copied()
            .unwrap_or(0);
    assert!(resets > 0);
    assert!(s.calls["alegra"].retries + s.calls["clientify"].retries > 0);
    assert!(writes_of(&s) > 0, "{s:?}");
    assert_no_duplicates_and_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_timeouts_are_retried_and_never_duplicate() {
    let policy = puente_connectors::RetryPolicy {
        timeout: Duration::from_millis(400),
        ..patient()
    };
    let env = TestEnv::start_with_policy("faults-timeout", cfg(17), policy).await;
    env.activate().await;
    env.sb.alegra.set_faults(Faults {
        seed: 17,
        timeout: 0.08,
        timeout_hold: Duration::from_millis(800),
        latency: Duration::from_millis(2),
        ..Faults::default()
    });
    let s = env.sync(Mode::Full).await;
    assert!(
        env.sb
            .alegra
            .stats()
            .faults
            .get("timeout")
            .copied()
            .unwrap_or(0)
            > 0
    );
    assert!(writes_of(&s) > 0, "{s:?}");
    assert_no_duplicates_and_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_lost_write_responses_on_both_sides_do_not_duplicate() {
    let env = TestEnv::start_with_policy("faults-lost-both", cfg(18), patient()).await;
    env.activate().await;
    let f = Faults {
        seed: 18,
        lost_response: 0.3,
        ..Faults::default()
    };
    env.sb.alegra.set_faults(f.clone());
    env.sb.clientify.set_faults(Faults { seed: 19, ..f });
    let s = env.sync(Mode::Full).await;
    let lost = env
        .sb
        .alegra
        .stats()
        .faults
        .get("lost_response")
        .copied()
        .unwrap_or(0)
        + env
            .sb
            .clientify
            .stats()
            .faults
            .get("lost_response")
            .copied()
            .unwrap_or(0);
    assert!(lost > 0);
    assert!(writes_of(&s) > 0, "{s:?}");
    assert_no_duplicates_and_converged(&env).await;
}
