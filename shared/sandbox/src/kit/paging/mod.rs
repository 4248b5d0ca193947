//! The paging styles of the vendor APIs, as pure functions over a slice that is already
//! filtered and sorted in the vendor's order. Each returns the page (a sub-slice) and the
//! metadata the vendor sends with it: envelope fields, links, headers. Parsing the request's
//! parameters (and the vendor's message for a bad one) stays with the vendor module, which
//! knows its defaults and caps per endpoint.
//!
//! | Style | Vendors | Here |
//! |---|---|---|
//! | `offset`/`limit`, bare array | Alegra (`start`/`limit`), Odoo (`offset`/`limit`) | [`offset_limit`] |
//! | `page`/`page_size`, `{count,next,previous,results}` | Clientify (DRF) | [`drf`] |
//! | `start`/`size`, `{href,start,size,first,previous,next,items}` | CCV Shop | [`ccv`] |
//! | `skippages`/`pagesize`, `pagination` object | Visma e-conomic | [`economic`] |
//! | `$page`/`$pagesize`, `{Meta,Data}` | Visma eAccounting | [`eaccounting`] |
//! | opaque `page_info` cursors in `Link` | Shopify | [`cursor`] |
//! | `page`/`per_page`, `X-WP-Total(Pages)` and `Link` | WooCommerce | [`wp`] |
//!
//! Every style covers each item exactly once, in the slice's order, when a client follows it
//! from the first page to the last (the conformance suite's first paging rule).

// The styles of vendors without a sandbox yet are only exercised by their tests.
#![cfg_attr(not(test), allow(dead_code))]

pub(crate) mod ccv;
pub(crate) mod cursor;
pub(crate) mod drf;
pub(crate) mod eaccounting;
pub(crate) mod economic;
pub(crate) mod wp;

use super::http::quote_plus;

/// The items from `offset`, at most `limit` of them (`None`: to the end); empty past the end.
pub(crate) fn offset_limit<T>(items: &[T], offset: usize, limit: Option<usize>) -> &[T] {
    let start = offset.min(items.len());
    let end = match limit {
        Some(l) => start.saturating_add(l).min(items.len()),
        None => items.len(),
    };
    &items[start..end]
}

/// How many pages of `size` hold `total` items (0 when there are none).
pub(crate) fn page_count(total: usize, size: usize) -> usize {
    total.div_ceil(size.max(1))
}

/// Page `page` (1-based; 0 is taken as 1) of `size` items; empty past the end.
pub(crate) fn numbered<T>(items: &[T], page: usize, size: usize) -> &[T] {
    let offset = page.saturating_sub(1).saturating_mul(size);
    offset_limit(items, offset, Some(size))
}

/// `base?query` with the params named in `set` replaced (or appended, in `set`'s order) and the
/// others kept in the request's order, `quote_plus`-encoded: how the PHP, Rails and .NET
/// style APIs build the links in their envelopes and `Link` headers.
pub(crate) fn link(base: &str, query: &[(String, String)], set: &[(&str, String)]) -> String {
    let mut pairs: Vec<String> = Vec::new();
    let mut done = vec![false; set.len()];
    for (k, v) in query {
        match set.iter().position(|(name, _)| name == k) {
            Some(i) if done[i] => {}
            Some(i) => {
                done[i] = true;
                pairs.push(format!("{}={}", quote_plus(k), quote_plus(&set[i].1)));
            }
            None => pairs.push(format!("{}={}", quote_plus(k), quote_plus(v))),
        }
    }
    for (i, (k, v)) in set.iter().enumerate() {
        if !done[i] {
            pairs.push(format!("{}={}", quote_plus(k), quote_plus(v)));
        }
    }
    if pairs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", pairs.join("&"))
    }
}

/// The query of a URL as decoded pairs (tests follow links with it).
#[cfg(test)]
pub(crate) fn query_of(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                let mut out = Vec::new();
                let b = s.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'%' && i + 2 < b.len() {
                        let h = u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex escape");
                        out.push(h);
                        i += 3;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                String::from_utf8(out).expect("utf-8")
            };
            (dec(k), dec(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_limit_slices_and_stays_in_bounds() {
        let v: Vec<u32> = (0..10).collect();
        assert_eq!(offset_limit(&v, 0, Some(3)), &[0, 1, 2]);
        assert_eq!(offset_limit(&v, 8, Some(5)), &[8, 9]);
        assert_eq!(offset_limit(&v, 3, None), &v[3..]);
        assert!(offset_limit(&v, 10, Some(1)).is_empty());
        assert!(offset_limit(&v, usize::MAX, Some(usize::MAX)).is_empty());
        assert_eq!(offset_limit(&v, 9, Some(usize::MAX)), &[9]);
        assert!(offset_limit(&v, 0, Some(0)).is_empty());
    }

    #[test]
    fn numbered_pages_cover_every_item_once() {
        let v: Vec<u32> = (0..23).collect();
        assert_eq!(page_count(v.len(), 5), 5);
        assert_eq!(page_count(0, 5), 0);
        let mut seen = Vec::new();
        for p in 1..=page_count(v.len(), 5) {
            seen.extend_from_slice(numbered(&v, p, 5));
        }
        assert_eq!(seen, v);
        assert_eq!(numbered(&v, 0, 5), numbered(&v, 1, 5));
        assert!(numbered(&v, 6, 5).is_empty());
    }

    #[test]
    fn links_replace_params_in_place_and_append_new_ones() {
        let q = vec![
            ("status".to_string(), "open".to_string()),
            ("start".to_string(), "0".to_string()),
            ("q".to_string(), "a b&c".to_string()),
        ];
        assert_eq!(
            link(
                "http://h/x",
                &q,
                &[("start", "25".into()), ("size", "25".into())]
            ),
            "http://h/x?status=open&start=25&q=a+b%26c&size=25"
        );
        assert_eq!(link("http://h/x", &[], &[]), "http://h/x");
        let dup = vec![
            ("page".to_string(), "1".to_string()),
            ("page".to_string(), "2".to_string()),
        ];
        assert_eq!(link("u", &dup, &[("page", "3".into())]), "u?page=3");
        assert_eq!(
            query_of("u?q=a+b%26c&x="),
            vec![("q".into(), "a b&c".into()), ("x".into(), "".into())]
        );
    }
}
