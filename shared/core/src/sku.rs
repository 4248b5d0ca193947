//! Stock-keeping units: the natural key of products (ALG-7, ODO-3, APC-6).
//!
//! People type SKUs with stray spaces and in either case (`" ab-001 "`, `"AB-001"`), and
//! vendors disagree on whether `""`, `false` or a missing key means "no SKU". Parsing once
//! into [`Sku`] gives one canonical text to write (trimmed, inner runs of whitespace made one
//! space, case kept: some shops show it to customers) and one key to match on
//! ([`Sku::key`], upper case), so `ab-001` in one system finds `AB-001` in the other.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest SKU accepted (Odoo `default_code` and Clientify `sku` are unbounded char fields;
/// anything this long is a pasted description, not a code).
pub const SKU_MAX_LEN: usize = 64;

/// Why a value is not a usable SKU.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("empty SKU")]
    Empty,
    #[error("SKU '{0}' is longer than {SKU_MAX_LEN} characters")]
    TooLong(String),
    #[error("SKU '{0}' contains a control character")]
    Control(String),
}

/// A normalised SKU.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    /// Trims, collapses inner whitespace to one space, and rejects empty, over-long or
    /// control-character values.
    pub fn parse(raw: &str) -> Result<Sku, SkuError> {
        let s = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.is_empty() {
            return Err(SkuError::Empty);
        }
        if s.chars().any(char::is_control) {
            return Err(SkuError::Control(s));
        }
        if s.chars().count() > SKU_MAX_LEN {
            return Err(SkuError::TooLong(s));
        }
        Ok(Sku(s))
    }

    /// The SKU as written to vendors (case kept).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The matching key: upper case, so SKUs that differ only in case are the same product.
    pub fn key(&self) -> String {
        self.0.to_uppercase()
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Sku {
    type Error = SkuError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Sku::parse(&s)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}

/// Canonical value of a raw SKU: the normalised [`Sku`] when it parses, otherwise the trimmed
/// raw text (kept so eligibility can say why it is unusable).
pub fn canonical_sku(raw: &str) -> String {
    match Sku::parse(raw) {
        Ok(s) => s.to_string(),
        Err(_) => raw.trim().to_string(),
    }
}

/// A canonical decimal: no trailing zeros, `.` as separator, at most 6 decimals, `-0` as `0`
/// (`12.50` → `12.5`, `10.0` → `10`). Prices and quantities from vendors that send strings
/// (`"12.50"`) and floats (`12.5`) compare equal once written this way.
pub fn decimal(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{:.6}", (x * 1e6).round() / 1e6);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// [`decimal`] of a vendor's text (`"12.50"`, `"1,5"`); the trimmed text when it is no number.
pub fn canonical_decimal(raw: &str) -> String {
    let t = raw.trim();
    match t.replace(',', ".").parse::<f64>() {
        Ok(x) => decimal(x),
        Err(_) => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odo3_skus_normalise_and_match_case_insensitively() {
        let a = Sku::parse("  ab-001 ").unwrap();
        assert_eq!(a.as_str(), "ab-001");
        assert_eq!(a.key(), Sku::parse("AB-001").unwrap().key());
        assert_eq!(Sku::parse("AB  001").unwrap().as_str(), "AB 001");
        assert_eq!(Sku::parse("   "), Err(SkuError::Empty));
        assert!(matches!(
            Sku::parse(&"x".repeat(65)),
            Err(SkuError::TooLong(_))
        ));
        assert_eq!(canonical_sku(" x "), "x");
        let j: Sku = serde_json::from_str("\" k-1 \"").unwrap();
        assert_eq!(j.as_str(), "k-1");
        assert!(serde_json::from_str::<Sku>("\"\"").is_err());
    }

    #[test]
    fn odo3_decimals_compare_equal_across_vendor_encodings() {
        assert_eq!(decimal(12.5), "12.5");
        assert_eq!(decimal(10.0), "10");
        assert_eq!(decimal(0.1 + 0.2), "0.3");
        assert_eq!(decimal(-0.0), "0");
        assert_eq!(canonical_decimal("12.50"), "12.5");
        assert_eq!(canonical_decimal("1,5"), "1.5");
        assert_eq!(canonical_decimal("abc"), "abc");
    }
}
