//! Natural keys: what records are matched by when no link says yet that they are the same.
//!
//! Each key kind parses once into one canonical text, so two systems that spell a key
//! differently still match: a tax id (`12.345.678-z` → `12345678Z`, [`TaxId`]), a SKU
//! (case-folded, [`Sku::key`]), an email (trimmed, lower case), a phone (digits only, E.164
//! with a default region: `600 11 22 33` in Spain → `34600112233`), a name (case- and
//! accent-folded), a code (trimmed, upper case), an order reference (`shop/number`).
//!
//! A flow says per entity which keys match, in order ([`KeySpec`], in the flow's rules); a
//! link remembers every key of its pair.

use crate::record::Fields;
use crate::sku::Sku;
use crate::taxid::TaxId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use unicode_normalization::UnicodeNormalization;

/// Why a record has no usable natural key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The key field is empty.
    Missing,
    /// The key field holds something unusable; the reason.
    Invalid(String),
}

/// A normalised email address: trimmed, lower case, one `@` between a local part and a
/// domain with a dot, no spaces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, KeyError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(KeyError::Missing);
        }
        let ok = match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if ok {
            Ok(Email(s))
        } else {
            Err(KeyError::Invalid(format!(
                "'{}' is not an email address",
                raw.trim()
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number as digits only, in international form without `+` (E.164): a number
/// written nationally takes the default region's country code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// `default_region` is an ISO 3166 code (`ES`, `NL`): the country a number written
    /// without a country code belongs to.
    pub fn parse(raw: &str, default_region: &str) -> Result<Phone, KeyError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(KeyError::Missing);
        }
        // `0034…` is `+34…` written with the international prefix most of Europe dials.
        let t = match t.strip_prefix("00") {
            Some(rest) if rest.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                format!("+{rest}")
            }
            _ => t.to_string(),
        };
        let region = default_region
            .trim()
            .to_uppercase()
            .parse::<phonenumber::country::Id>()
            .ok();
        let invalid = || KeyError::Invalid(format!("'{}' is not a phone number", raw.trim()));
        let n = phonenumber::parse(region, &t).map_err(|_| invalid())?;
        let digits = n
            .format()
            .mode(phonenumber::Mode::E164)
            .to_string()
            .trim_start_matches('+')
            .to_string();
        if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        Ok(Phone(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name folded for matching: accents removed, lower case, runs of whitespace one space
/// (`José  Pérez` and `jose perez` match).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Name, KeyError> {
        let folded: String = raw
            .nfkd()
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .collect::<String>()
            .to_lowercase();
        let s = folded.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.is_empty() {
            Err(KeyError::Missing)
        } else {
            Ok(Name(s))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of key a match key is: how its value parses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// A Spanish NIF/CIF/NIE ([`TaxId`]).
    TaxId,
    /// A SKU, case-folded ([`Sku::key`]).
    Sku,
    Email,
    /// Digits-only E.164 with the flow's default region.
    Phone,
    /// Case- and accent-folded text.
    Name,
    /// An identifier kept as text, trimmed and upper case (a budget code `ALG-12`, a shop's
    /// product id kept in a back office's `code`).
    Code,
    /// An order number qualified by the system that sold it (`ecommerce/order_id`): two shops
    /// may both have an order `1001`.
    Order,
}

impl KeyKind {
    pub const ALL: [KeyKind; 7] = [
        KeyKind::TaxId,
        KeyKind::Sku,
        KeyKind::Email,
        KeyKind::Phone,
        KeyKind::Name,
        KeyKind::Code,
        KeyKind::Order,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::TaxId => "tax_id",
            KeyKind::Sku => "sku",
            KeyKind::Email => "email",
            KeyKind::Phone => "phone",
            KeyKind::Name => "name",
            KeyKind::Code => "code",
            KeyKind::Order => "order",
        }
    }

    /// The canonical field a key of this kind reads unless a flow names another.
    pub fn default_field(self) -> &'static str {
        match self {
            KeyKind::Order => "order_id",
            k => k.as_str(),
        }
    }

    /// What the key is called in messages.
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::TaxId => "identification",
            KeyKind::Sku => "SKU",
            KeyKind::Email => "email",
            KeyKind::Phone => "phone",
            KeyKind::Name => "name",
            KeyKind::Code => "code",
            KeyKind::Order => "order number",
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown match key '{s}'; use {}",
                    KeyKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }
}

/// One match key of an entity: its kind and the canonical field it reads. Written in a
/// flow's config as `"email"` (the kind's own field) or `"phone:mobile"` (kind, field).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySpec {
    pub kind: KeyKind,
    pub field: String,
    /// What the key is called in messages (`identification`, `budget code`).
    pub label: String,
    /// For phone keys: the country of numbers written without a country code.
    #[serde(default = "default_region")]
    pub region: String,
}

fn default_region() -> String {
    "ES".into()
}

impl KeySpec {
    /// A key of `kind` on its default field.
    pub fn of(kind: KeyKind) -> KeySpec {
        KeySpec {
            kind,
            field: kind.default_field().to_string(),
            label: kind.label().to_string(),
            region: default_region(),
        }
    }

    /// The same key, called `label` in messages.
    pub fn labelled(mut self, label: &str) -> KeySpec {
        self.label = label.to_string();
        self
    }

    /// The key's canonical value in `fields`.
    pub fn value(&self, fields: &Fields) -> Result<String, KeyError> {
        let raw = fields.get(&self.field);
        if raw.is_empty() {
            return Err(KeyError::Missing);
        }
        let invalid = |e: String| KeyError::Invalid(e);
        match self.kind {
            KeyKind::TaxId => TaxId::parse(raw)
                .map(|t| t.to_string())
                .map_err(|e| invalid(e.to_string())),
            KeyKind::Sku => Sku::parse(raw)
                .map(|s| s.key())
                .map_err(|e| invalid(e.to_string())),
            KeyKind::Email => Email::parse(raw).map(|e| e.0),
            KeyKind::Phone => Phone::parse(raw, &self.region).map(|p| p.0),
            KeyKind::Name => Name::parse(raw).map(|n| n.0),
            KeyKind::Code => Ok(raw.trim().to_uppercase()),
            KeyKind::Order => {
                let shop = fields.get("ecommerce");
                if shop.is_empty() {
                    return Err(invalid(format!(
                        "order {raw} does not say which system sold it (`ecommerce`)"
                    )));
                }
                Ok(format!("{shop}/{raw}"))
            }
        }
    }
}

impl FromStr for KeySpec {
    type Err = String;
    /// `kind` or `kind:field`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, field) = match s.split_once(':') {
            Some((k, f)) => (k, Some(f.trim())),
            None => (s, None),
        };
        let mut spec = KeySpec::of(kind.parse()?);
        if let Some(f) = field {
            if f.is_empty() {
                return Err(format!("match key '{s}' names no field after ':'"));
            }
            spec.field = f.to_string();
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roa8_phones_in_any_format_normalise_to_the_same_digits() {
        for raw in [
            "+34 600 11 22 33",
            "600112233",
            "0034600112233",
            "+34 (600) 11-22-33",
            "600-11-22-33",
        ] {
            assert_eq!(
                Phone::parse(raw, "ES").unwrap().as_str(),
                "34600112233",
                "{raw}"
            );
        }
        // A Dutch mobile written nationally drops its trunk 0.
        assert_eq!(
            Phone::parse("06 1234 5678", "NL").unwrap().as_str(),
            "31612345678"
        );
        assert_eq!(
            Phone::parse("+31 6 12345678", "ES").unwrap().as_str(),
            "31612345678"
        );
        assert_eq!(Phone::parse("", "ES"), Err(KeyError::Missing));
        assert!(matches!(
            Phone::parse("call me", "ES"),
            Err(KeyError::Invalid(_))
        ));
    }

    #[test]
    fn apc1_emails_match_case_and_space_insensitively() {
        assert_eq!(
            Email::parse("  Ana.Perez@Example.NL ").unwrap().as_str(),
            "ana.perez@example.nl"
        );
        for bad in ["ana", "ana@", "@x.nl", "ana@x", "a b@x.nl", "a@b@x.nl"] {
            assert!(
                matches!(Email::parse(bad), Err(KeyError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn roa7_names_fold_case_and_accents() {
        assert_eq!(
            Name::parse("  José   PÉREZ ").unwrap().as_str(),
            "jose perez"
        );
        assert_eq!(Name::parse(" \t"), Err(KeyError::Missing));
    }

    #[test]
    fn key_specs_parse_from_config_text() {
        let k: KeySpec = "phone:mobile".parse().unwrap();
        assert_eq!((k.kind, k.field.as_str()), (KeyKind::Phone, "mobile"));
        let k: KeySpec = "email".parse().unwrap();
        assert_eq!((k.kind, k.field.as_str()), (KeyKind::Email, "email"));
        let e = "mail".parse::<KeySpec>().unwrap_err();
        assert!(e.contains("tax_id, sku, email, phone"), "{e}");
        assert!("phone:".parse::<KeySpec>().is_err());
        let f = Fields::new()
            .with("order_id", "1001")
            .with("ecommerce", "shop-nl");
        assert_eq!(
            KeySpec::of(KeyKind::Order).value(&f).unwrap(),
            "shop-nl/1001"
        );
    }
}
