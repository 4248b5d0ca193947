//! Time-ordered activity-log seqs, made in the process instead of read from a counter item.
//!
//! Every log append used to bump one store-wide counter item (`pk = SEQ`) first: a hot key
//! every tenant shares (one item takes about 1,000 writes a second) and one more write per
//! batch (issue 16). A seq is now made where the entry is written:
//!
//! ```text
//!  63      62 ........................ 22   21 ........ 12   11 ......... 0
//!   0   milliseconds since 2024-01-01 (41 bits)   node (10 bits)   counter (12 bits)
//! ```
//!
//! - Ordered by time across processes (as far as their clocks agree, which on AWS is
//!   milliseconds), strictly increasing within one process: a millisecond holds 4,096 seqs
//!   and a burst larger than that borrows the next millisecond, never going back.
//! - Unique across processes by the node bits, drawn at random per process. Two processes
//!   drawing the same node and writing in the same millisecond could make the same seq:
//!   the entry write is conditional on its item not existing, and a collision makes the
//!   writer draw a new node and try again ([`SeqClock::reseed`]).
//! - Larger than every counter-made seq an older table holds (those count from 1), so the
//!   newest-first order carries over an upgrade without a migration.
//! - 41 bits of milliseconds last until the year 2093.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// 2024-01-01T00:00:00Z in Unix milliseconds.
const EPOCH_MS: u64 = 1_704_067_200_000;
const NODE_BITS: u32 = 10;
const COUNTER_BITS: u32 = 12;
const COUNTER_MAX: u64 = 1 << COUNTER_BITS;

/// Makes seqs for one process (see the module docs).
#[derive(Debug)]
pub struct SeqClock {
    state: Mutex<State>,
    /// A clock stopped at this millisecond (tests of collisions).
    stopped: Option<u64>,
}

#[derive(Debug)]
struct State {
    node: u64,
    /// The millisecond of the last seq made, and how many were made in it.
    ms: u64,
    used: u64,
}

fn random_node() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish() & ((1 << NODE_BITS) - 1)
}

fn now_ms() -> u64 {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(EPOCH_MS);
    unix.saturating_sub(EPOCH_MS)
}

/// The seq made at millisecond `ms` (since 2024) by `node` as its `n`-th in that
/// millisecond.
pub fn compose(ms: u64, node: u64, n: u64) -> u64 {
    (ms << (NODE_BITS + COUNTER_BITS)) | (node << COUNTER_BITS) | n
}

/// The millisecond (since 2024-01-01) a seq was made in.
pub fn millis_of(seq: u64) -> u64 {
    seq >> (NODE_BITS + COUNTER_BITS)
}

impl SeqClock {
    pub fn new() -> Self {
        Self::with_node(random_node())
    }

    /// A clock with a chosen node (tests).
    pub fn with_node(node: u64) -> Self {
        SeqClock {
            state: Mutex::new(State {
                node: node & ((1 << NODE_BITS) - 1),
                ms: 0,
                used: 0,
            }),
            stopped: None,
        }
    }

    /// A clock stopped at millisecond `ms` (since 2024) with a chosen node: two of them make
    /// the same seqs, as two processes that drew the same node would (tests).
    pub fn stopped(node: u64, ms: u64) -> Self {
        SeqClock {
            stopped: Some(ms),
            ..Self::with_node(node)
        }
    }

    /// The process's clock.
    pub fn global() -> &'static SeqClock {
        static CLOCK: std::sync::OnceLock<SeqClock> = std::sync::OnceLock::new();
        CLOCK.get_or_init(SeqClock::new)
    }

    /// `count` new seqs, increasing.
    pub fn next(&self, count: usize) -> Vec<u64> {
        self.next_at(self.stopped.unwrap_or_else(now_ms), count)
    }

    fn next_at(&self, now: u64, count: usize) -> Vec<u64> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if now > st.ms {
            st.ms = now;
            st.used = 0;
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            if st.used == COUNTER_MAX {
                st.ms += 1;
                st.used = 0;
            }
            out.push(compose(st.ms, st.node, st.used));
            st.used += 1;
        }
        out
    }

    /// After a collision with another process's seq: draw another node.
    pub fn reseed(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let old = st.node;
        while st.node == old {
            st.node = random_node();
        }
    }

    pub fn node(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).node
    }
}

impl Default for SeqClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqs_increase_within_a_process_even_when_the_clock_goes_back() {
        let c = SeqClock::with_node(5);
        let a = c.next_at(1_000, 3);
        let b = c.next_at(999, 2); // the clock stepped back
        let all: Vec<u64> = a.iter().chain(&b).copied().collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        assert_eq!(millis_of(all[0]), 1_000);
        assert_eq!(all[0], compose(1_000, 5, 0));
    }

    #[test]
    fn a_burst_beyond_one_milliseconds_counter_borrows_the_next_millisecond() {
        let c = SeqClock::with_node(1);
        let v = c.next_at(50, 5_000);
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(millis_of(v[4_095]), 50);
        assert_eq!(millis_of(v[4_096]), 51);
        // The next call, still at ms 50, continues after the borrowed millisecond.
        let next = c.next_at(50, 1)[0];
        assert!(next > v[4_999]);
    }

    #[test]
    fn two_nodes_in_the_same_millisecond_never_make_the_same_seq() {
        let (a, b) = (SeqClock::with_node(1), SeqClock::with_node(2));
        let va = a.next_at(7, 4_096);
        let vb = b.next_at(7, 4_096);
        let set: std::collections::BTreeSet<u64> = va.iter().chain(&vb).copied().collect();
        assert_eq!(set.len(), 8_192);
    }

    #[test]
    fn seqs_of_today_are_above_every_counter_seq_and_fit_twenty_digits() {
        let s = SeqClock::with_node(1023).next(1)[0];
        assert!(s > 1 << 50, "{s}");
        assert!(format!("{s:020}").len() == 20);
        let year_2093 = compose((1u64 << 41) - 1, 1023, COUNTER_MAX - 1);
        assert!(year_2093 <= i64::MAX as u64, "{year_2093}");
    }

    #[test]
    fn reseed_draws_another_node() {
        let c = SeqClock::with_node(3);
        c.reseed();
        assert_ne!(c.node(), 3);
    }
}
