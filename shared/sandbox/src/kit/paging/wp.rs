//! WooCommerce (the WordPress REST API): `page` (1-based) and `per_page` (default 10, between
//! 1 and 100, a WordPress core rule); totals in `X-WP-Total` and `X-WP-TotalPages` and the
//! neighbours in `Link` (`rel` `next`, `prev`, `first`, `last`); the body is a bare array.

use serde_json::{json, Value};

use super::{link, numbered, page_count};

/// `per_page` WordPress allows.
pub(crate) const MAX_PER_PAGE: usize = 100;

/// The page's headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WpPage {
    pub(crate) page: usize,
    pub(crate) per_page: usize,
    pub(crate) total: usize,
    pub(crate) total_pages: usize,
}

impl WpPage {
    /// `X-WP-Total`, `X-WP-TotalPages` and, when there are pages to link, `Link`, whose URLs
    /// are `base` with the request's other parameters kept and `page` set.
    pub(crate) fn headers(
        &self,
        base: &str,
        q: &[(String, String)],
    ) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("X-WP-Total", self.total.to_string()),
            ("X-WP-TotalPages", self.total_pages.to_string()),
        ];
        let at = |p: usize, rel: &str| {
            format!(
                "<{}>; rel=\"{rel}\"",
                link(base, q, &[("page", p.to_string())])
            )
        };
        let mut rels = Vec::new();
        if self.page > 1 && self.total_pages > 0 {
            rels.push(at((self.page - 1).min(self.total_pages), "prev"));
        }
        if self.page < self.total_pages {
            rels.push(at(self.page + 1, "next"));
        }
        if self.total_pages > 0 {
            rels.push(at(1, "first"));
            rels.push(at(self.total_pages, "last"));
        }
        if !rels.is_empty() {
            out.push(("Link", rels.join(", ")));
        }
        out
    }
}

/// A `page` or `per_page` WordPress refuses, with its 400 body.
#[derive(Debug, PartialEq)]
pub(crate) struct InvalidParam(pub(crate) Value);

fn invalid(param: &str, why: &str) -> InvalidParam {
    InvalidParam(json!({
        "code": "rest_invalid_param",
        "message": format!("Invalid parameter(s): {param}"),
        "data": {"status": 400, "params": {param: why}},
    }))
}

/// Page `page` of `per_page`. A page past the last is empty (with the totals) [I].
pub(crate) fn page<T>(
    items: &[T],
    page: usize,
    per_page: usize,
) -> Result<(&[T], WpPage), InvalidParam> {
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(invalid(
            "per_page",
            "per_page must be between 1 (inclusive) and 100 (inclusive)",
        ));
    }
    if page == 0 {
        return Err(invalid("page", "page must be greater than or equal to 1"));
    }
    Ok((
        numbered(items, page, per_page),
        WpPage {
            page,
            per_page,
            total: items.len(),
            total_pages: page_count(items.len(), per_page),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_item_once_with_totals_in_headers() {
        let items: Vec<u32> = (0..25).collect();
        let mut seen = Vec::new();
        let mut p = 1;
        loop {
            let (data, meta) = page(&items, p, 10).unwrap();
            seen.extend_from_slice(data);
            if p >= meta.total_pages {
                break;
            }
            p += 1;
        }
        assert_eq!(seen, items);
        let q = vec![
            ("status".to_string(), "processing".to_string()),
            ("page".to_string(), "2".to_string()),
        ];
        let (_, meta) = page(&items, 2, 10).unwrap();
        let base = "https://shop.example/wp-json/wc/v3/orders";
        assert_eq!(
            meta.headers(base, &q),
            vec![
                ("X-WP-Total", "25".to_string()),
                ("X-WP-TotalPages", "3".to_string()),
                (
                    "Link",
                    format!(
                        "<{base}?status=processing&page=1>; rel=\"prev\", \
                                  <{base}?status=processing&page=3>; rel=\"next\", \
                                  <{base}?status=processing&page=1>; rel=\"first\", \
                                  <{base}?status=processing&page=3>; rel=\"last\""
                    )
                ),
            ]
        );
    }

    #[test]
    fn per_page_over_100_is_wordpress_400_and_empty_lists_have_no_link() {
        let items: Vec<u32> = (0..5).collect();
        assert_eq!(
            page(&items, 1, 101).unwrap_err().0,
            json!({"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page",
                   "data": {"status": 400, "params": {"per_page":
                       "per_page must be between 1 (inclusive) and 100 (inclusive)"}}})
        );
        assert!(page(&items, 1, 0).is_err());
        assert!(page(&items, 0, 10).is_err());
        let none: Vec<u32> = Vec::new();
        let (data, meta) = page(&none, 1, 10).unwrap();
        assert!(data.is_empty());
        assert_eq!(
            meta.headers("u", &[]),
            vec![
                ("X-WP-Total", "0".to_string()),
                ("X-WP-TotalPages", "0".to_string())
            ]
        );
        let (past, meta) = page(&items, 3, 10).unwrap();
        assert!(past.is_empty());
        assert_eq!(meta.total, 5);
    }
}
