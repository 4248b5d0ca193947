//! What every connector shares and no vendor owns: the HTTP client (auth, retries, pacing,
//! budgets, headers both ways, signing), record ids from outside, connection names, errors
//! and vendor timestamps. A vendor's own facts (paths, fields, rate-limit headers, webhook
//! signatures) stay in its folder and reach the kit through hooks.

pub mod defaults;
pub mod error;
pub mod hooks;
pub mod http;
pub mod ids;
pub mod mapping;
pub mod named;
pub mod oauth;
pub mod sign;
pub mod time;
