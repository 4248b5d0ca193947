//! The data the web-shop sandbox (CCV Shop) and the accounting sandboxes (Visma e-conomic,
//! Visma eAccounting) share, so an end-to-end test knows which products and customers exist
//! on both sides.
//!
//! Every record is a function of `(seed, side, index)` only, so a side's records do not
//! depend on how many the others have:
//!
//! | side | products (SKU) | customers (email) |
//! |---|---|---|
//! | [`Side::Shared`]: in the shop **and** in each accounting system | `XXX-1001`… | `…1@…`, `…2@…`, … |
//! | [`Side::Shop`]: the shop only | `XXX-5001`… | ordinal 1001… |
//! | [`Side::Economic`]: e-conomic only (Danish) | `XXX-7001`… | ordinal 2001… |
//! | [`Side::EAccounting`]: eAccounting only (Swedish) | `XXX-8001`… | ordinal 3001… |
//!
//! `XXX` is the category's prefix (`BON`, `THE`, `APP`, …). A shared product has the same
//! SKU, EAN and name on every side (its price is converted to the accounting currency); a
//! shared customer the same email (and name, company and VAT number). Product names repeat
//! across sides under different SKUs, so matching by name is wrong and by SKU right.

mod names;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::kit::fake::ean13_prefixed;
use crate::kit::vat;
use names::*;

pub use names::{VatClass, CATEGORIES};

/// Which system(s) a generated record lives in (see the module table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Shared,
    Shop,
    Economic,
    EAccounting,
}

impl Side {
    fn tag(self) -> u64 {
        match self {
            Side::Shared => 1,
            Side::Shop => 2,
            Side::Economic => 3,
            Side::EAccounting => 4,
        }
    }

    /// First SKU number of the side.
    fn sku_base(self) -> usize {
        match self {
            Side::Shared => 1001,
            Side::Shop => 5001,
            Side::Economic => 7001,
            Side::EAccounting => 8001,
        }
    }

    /// First ordinal of the side's customers (emails carry it).
    fn ordinal_base(self) -> usize {
        match self {
            Side::Shared => 1,
            Side::Shop => 1001,
            Side::Economic => 2001,
            Side::EAccounting => 3001,
        }
    }
}

/// A party's country.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Country {
    Nl,
    Dk,
    Se,
}

impl Country {
    /// ISO 3166 alpha-2.
    pub fn code(self) -> &'static str {
        match self {
            Country::Nl => "NL",
            Country::Dk => "DK",
            Country::Se => "SE",
        }
    }

    /// English name, as e-conomic's `country` carries it.
    pub fn name(self) -> &'static str {
        match self {
            Country::Nl => "Netherlands",
            Country::Dk => "Denmark",
            Country::Se => "Sweden",
        }
    }
}

/// A customer's company.
#[derive(Clone, Debug, PartialEq)]
pub struct Company {
    pub name: String,
    /// VAT number with its country prefix (`NL…B01`, `DK…`, `SE…01`), valid per [`vat`].
    pub vat: String,
    /// Chamber of commerce number: KvK (NL, 8 digits), CVR (DK), organisationsnummer (SE).
    pub registration: String,
}

/// A customer: a private person, or a company's contact person with `company` set.
#[derive(Clone, Debug, PartialEq)]
pub struct Party {
    pub first_name: String,
    pub last_name: String,
    /// Unique across every side; the same on both sides for a shared customer.
    pub email: String,
    pub phone: String,
    pub street: String,
    pub housenumber: u32,
    pub housenumber_suffix: String,
    pub zipcode: String,
    pub city: String,
    pub country: Country,
    pub company: Option<Company>,
}

impl Party {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The company name, else the person's name: what an accounting system calls the debtor.
    pub fn display_name(&self) -> String {
        match &self.company {
            Some(c) => c.name.clone(),
            None => self.full_name(),
        }
    }

    /// `street housenumber[suffix]`.
    pub fn address_line(&self) -> String {
        format!(
            "{} {}{}",
            self.street, self.housenumber, self.housenumber_suffix
        )
    }
}

/// A product of the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    pub sku: String,
    /// A valid EAN-13, or empty (gift cards have none).
    pub ean: String,
    pub name: String,
    pub short_description: String,
    pub description: String,
    /// Price excluding VAT in EUR (accounting sandboxes convert it to their currency).
    pub price: f64,
    pub vat: VatClass,
    /// Units in stock on the side it was generated for.
    pub stock: i64,
    /// Index into [`CATEGORIES`].
    pub category: usize,
}

/// How many records of each side a seed makes (`Default`: the counts the registry's
/// sandboxes start with).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommerceSizes {
    pub seed: u64,
    /// Products in the shop and in the accounting system, same SKU.
    pub shared_products: usize,
    /// Products only in the shop.
    pub shop_products: usize,
    /// Products only in the accounting system.
    pub accounting_products: usize,
    /// Customers in the shop and in the accounting system, same email.
    pub shared_customers: usize,
    pub shop_customers: usize,
    pub accounting_customers: usize,
}

impl Default for CommerceSizes {
    fn default() -> Self {
        CommerceSizes {
            seed: 42,
            shared_products: 12,
            shop_products: 8,
            accounting_products: 6,
            shared_customers: 8,
            shop_customers: 12,
            accounting_customers: 6,
        }
    }
}

impl CommerceSizes {
    /// The shop's products: the shared ones, then the shop's own.
    pub fn shop_products(&self) -> Vec<Product> {
        let shared = (0..self.shared_products).map(|i| product(self.seed, Side::Shared, i));
        shared
            .chain((0..self.shop_products).map(|i| product(self.seed, Side::Shop, i)))
            .collect()
    }

    /// An accounting system's products (`side` is [`Side::Economic`] or
    /// [`Side::EAccounting`]): the shared ones (with the accounting's own stock), then its own.
    pub fn accounting_products(&self, side: Side) -> Vec<Product> {
        let shared = (0..self.shared_products).map(|i| {
            let mut p = product(self.seed, Side::Shared, i);
            p.stock = accounting_stock(self.seed, side, i);
            p
        });
        shared
            .chain((0..self.accounting_products).map(|i| product(self.seed, side, i)))
            .collect()
    }

    /// The shop's customers: the shared ones, then the shop's own.
    pub fn shop_customers(&self) -> Vec<Party> {
        (0..self.shared_customers)
            .map(|i| customer(self.seed, Side::Shared, i))
            .chain((0..self.shop_customers).map(|i| customer(self.seed, Side::Shop, i)))
            .collect()
    }

    /// An accounting system's customers: the shared ones, then its own.
    pub fn accounting_customers(&self, side: Side) -> Vec<Party> {
        (0..self.shared_customers)
            .map(|i| customer(self.seed, Side::Shared, i))
            .chain((0..self.accounting_customers).map(|i| customer(self.seed, side, i)))
            .collect()
    }

    /// SKUs present in the shop and in both accounting systems.
    pub fn shared_skus(&self) -> Vec<String> {
        (0..self.shared_products)
            .map(|i| product(self.seed, Side::Shared, i).sku)
            .collect()
    }

    /// Emails present in the shop and in both accounting systems.
    pub fn shared_emails(&self) -> Vec<String> {
        (0..self.shared_customers)
            .map(|i| customer(self.seed, Side::Shared, i).email)
            .collect()
    }
}

fn rng_for(seed: u64, side: Side, kind: u64, i: usize) -> StdRng {
    let mix = seed
        ^ side.tag().wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ kind.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ (i as u64 + 1).wrapping_mul(0x1656_67B1_9E37_79F9);
    StdRng::seed_from_u64(mix)
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.gen_range(0..xs.len())]
}

/// Product `i` of `side`.
pub fn product(seed: u64, side: Side, i: usize) -> Product {
    let mut rng = rng_for(seed, side, 1, i);
    let offset = match side {
        Side::Shared => 0,
        Side::Shop => 12,
        Side::Economic => 6,
        Side::EAccounting => 18,
    };
    let at = (offset + i) % CATALOGUE.len();
    let line = &CATALOGUE[at];
    let round = (offset + i) / CATALOGUE.len();
    let name = if round == 0 {
        line.name.to_string()
    } else {
        format!("{} (editie {})", line.name, round + 1)
    };
    let sku = format!("{}-{}", SKU_PREFIX[line.category], side.sku_base() + i);
    let ean = if line.vat == VatClass::Zero {
        String::new()
    } else {
        let prefix = match side {
            Side::Economic => "57",
            Side::EAccounting => "73",
            _ => "87",
        };
        ean13_prefixed(prefix, rng.gen_range(1_000_000_000..9_999_999_999))
    };
    // Gift cards keep no stock; one product in ten is sold out.
    let sold_out = rng.gen_range(0..10) == 0;
    let stock = if line.vat == VatClass::Zero || sold_out {
        0
    } else {
        rng.gen_range(1..80)
    };
    Product {
        sku,
        ean,
        name,
        short_description: line.short.to_string(),
        description: format!(
            "<p>{}. {}</p>",
            line.short,
            match line.category {
                1 | 2 => "Vers gebrand in onze branderij in Utrecht.",
                3 => "Zorgvuldig geselecteerd bij kleine theetuinen.",
                6 => "Geldig tot twee jaar na aankoop.",
                _ => "Met twee jaar garantie.",
            }
        ),
        price: line.price,
        vat: line.vat,
        stock,
        category: line.category,
    }
}

/// A shared product's stock in an accounting system (differs from the shop's, so a stock
/// flow has work to do).
fn accounting_stock(seed: u64, side: Side, i: usize) -> i64 {
    rng_for(seed, side, 3, i).gen_range(0..120)
}

fn ascii_slug(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .flat_map(|c| match c {
            'æ' => "ae".chars().collect::<Vec<_>>(),
            'ø' | 'ö' | 'ó' => vec!['o'],
            'å' | 'ä' | 'á' => vec!['a'],
            'é' | 'è' | 'ë' => vec!['e'],
            'ï' => vec!['i'],
            other => vec![other],
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// A country's name tables: first names, last names, towns, streets, companies, mail domains.
type Tables = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [Town],
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// Customer `i` of `side`.
pub fn customer(seed: u64, side: Side, i: usize) -> Party {
    let mut rng = rng_for(seed, side, 2, i);
    let country = match side {
        Side::Economic => Country::Dk,
        Side::EAccounting => Country::Se,
        _ => match rng.gen_range(0..20) {
            0..=13 => Country::Nl,
            14..=16 => Country::Dk,
            _ => Country::Se,
        },
    };
    let t: Tables = match country {
        Country::Nl => (
            &NL_FIRST,
            &NL_LAST,
            &NL_TOWNS,
            &NL_STREETS,
            &NL_COMPANIES,
            &NL_MAIL,
        ),
        Country::Dk => (
            &DK_FIRST,
            &DK_LAST,
            &DK_TOWNS,
            &DK_STREETS,
            &DK_COMPANIES,
            &DK_MAIL,
        ),
        Country::Se => (
            &SE_FIRST,
            &SE_LAST,
            &SE_TOWNS,
            &SE_STREETS,
            &SE_COMPANIES,
            &SE_MAIL,
        ),
    };
    let (first, last, towns, streets, companies, mail) = t;
    let first_name = pick(&mut rng, first).to_string();
    let last_name = pick(&mut rng, last).to_string();
    let town = pick(&mut rng, towns);
    let street = pick(&mut rng, streets).to_string();
    let housenumber = rng.gen_range(1..180);
    let housenumber_suffix = if country == Country::Nl && rng.gen_range(0..6) == 0 {
        ["A", "B", "-2", "bis"][rng.gen_range(0..4)].to_string()
    } else {
        String::new()
    };
    let mut digits = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    let zipcode = match country {
        Country::Nl => {
            let d = digits(2);
            const L: &[u8; 18] = b"BCEFGHJKLMNPRTVWXZ";
            let letters = format!("{}{}", L[i % 18] as char, L[(i * 7 + 3) % 18] as char);
            format!("{}{d} {letters}", town.zip)
        }
        Country::Dk => {
            let rest = digits(4 - town.zip.len());
            format!("{}{rest}", town.zip)
        }
        Country::Se => {
            let rest = digits(3);
            format!("{}{} {}", town.zip, &rest[..1], &rest[1..])
        }
    };
    let phone = match country {
        Country::Nl => format!("+31 6 {} {}", digits(4), digits(4)),
        Country::Dk => format!(
            "+45 {} {} {} {}",
            digits(2),
            digits(2),
            digits(2),
            digits(2)
        ),
        Country::Se => format!("+46 70 {} {} {}", digits(3), digits(2), digits(2)),
    };
    let ordinal = side.ordinal_base() + i;
    let company = (rng.gen_range(0..10) < 4).then(|| {
        let at = rng.gen_range(0..companies.len());
        let name = companies[at].to_string();
        // A company's numbers follow from the company alone: two customers at one company
        // (two buyers, two emails) share its VAT and registration numbers.
        let mut crng = rng_for(seed, Side::Shared, 10 + country as u64, at);
        let (vat, registration) = match country {
            Country::Nl => {
                let v = vat::nl(&mut crng);
                let kvk: String = (0..8)
                    .map(|_| char::from(b'0' + crng.gen_range(0..10u8)))
                    .collect();
                (v, kvk)
            }
            Country::Dk => {
                let cvr = vat::dk_cvr(&mut crng);
                (format!("DK{cvr}"), cvr)
            }
            Country::Se => {
                let org = vat::se_orgnr(&mut crng);
                (format!("SE{org}01"), format!("{}-{}", &org[..6], &org[6..]))
            }
        };
        Company {
            name,
            vat,
            registration,
        }
    });
    let email = match &company {
        Some(c) => {
            let tld = country.code().to_lowercase();
            format!(
                "{}{ordinal}@{}.{tld}",
                ascii_slug(&first_name),
                ascii_slug(&c.name)
            )
        }
        None => format!(
            "{}.{}{ordinal}@{}",
            ascii_slug(&first_name),
            ascii_slug(&last_name),
            pick(&mut rng, mail)
        ),
    };
    Party {
        first_name,
        last_name,
        email,
        phone,
        street,
        housenumber,
        housenumber_suffix,
        zipcode,
        city: town.name.to_string(),
        country,
        company,
    }
}

/// Whether `code` is a valid EAN-13 (13 digits, check digit right).
pub fn is_ean13(code: &str) -> bool {
    code.len() == 13
        && code.bytes().all(|b| b.is_ascii_digit())
        && code
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
            .sum::<u32>()
            % 10
            == 0
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn sides_overlap_only_in_the_shared_records() {
        let s = CommerceSizes::default();
        let shop: HashSet<String> = s.shop_products().into_iter().map(|p| p.sku).collect();
        let eco: HashSet<String> = s
            .accounting_products(Side::Economic)
            .into_iter()
            .map(|p| p.sku)
            .collect();
        let shared: HashSet<String> = s.shared_skus().into_iter().collect();
        assert_eq!(
            shop.intersection(&eco).cloned().collect::<HashSet<_>>(),
            shared
        );
        assert_eq!(shop.len(), s.shared_products + s.shop_products);
        let emails: HashSet<String> = s.shop_customers().into_iter().map(|c| c.email).collect();
        let eacc: HashSet<String> = s
            .accounting_customers(Side::EAccounting)
            .into_iter()
            .map(|c| c.email)
            .collect();
        let both: HashSet<String> = s.shared_emails().into_iter().collect();
        assert_eq!(
            emails.intersection(&eacc).cloned().collect::<HashSet<_>>(),
            both
        );
        assert_eq!(emails.len(), s.shared_customers + s.shop_customers);
    }

    #[test]
    fn records_are_valid_and_do_not_depend_on_the_other_counts() {
        let small = CommerceSizes {
            shop_products: 1,
            ..CommerceSizes::default()
        };
        assert_eq!(
            small.accounting_products(Side::Economic),
            CommerceSizes::default().accounting_products(Side::Economic)
        );
        let big = CommerceSizes {
            shared_customers: 60,
            shop_customers: 60,
            shared_products: 40,
            ..CommerceSizes::default()
        };
        let mut companies = 0;
        for c in big.shop_customers() {
            assert!(c.email.is_ascii() && c.email.contains('@'), "{}", c.email);
            if let Some(co) = &c.company {
                companies += 1;
                assert!(vat::is_valid(&co.vat), "{}", co.vat);
                assert!(co.vat.starts_with(c.country.code()));
            }
        }
        assert!(companies > 10 && companies < 100, "{companies}");
        let mut by_name = std::collections::HashMap::new();
        for c in big.shop_customers() {
            if let Some(co) = c.company {
                let vat = by_name.entry(co.name.clone()).or_insert(co.vat.clone());
                assert_eq!(*vat, co.vat, "{}", co.name);
            }
        }
        for p in big.shop_products() {
            assert!(p.ean.is_empty() || is_ean13(&p.ean), "{}", p.ean);
            assert!(p.price > 0.0);
        }
        assert!(
            big.shop_products()
                .iter()
                .filter(|p| p.ean.is_empty())
                .count()
                > 0
        );
    }
}
