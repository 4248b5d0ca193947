//! Shopify REST: keyset pagination with opaque `page_info` tokens. The first request pages
//! from the start; each answer's `Link` header names the next and previous pages,
//! `<…?limit=50&page_info=…>; rel="next", <…>; rel="previous"`, and is absent when there is a
//! single page. A token keeps its place when records are added or deleted elsewhere in the
//! list, unlike an offset. Rejecting filters beside `page_info` (only `limit` and `fields` are
//! allowed) is the vendor module's call.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::link;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Direction {
    Next,
    Prev,
}

/// What a token carries (base64url JSON, like Shopify's own; clients must not rely on it).
#[derive(Serialize, Deserialize)]
struct Token<K> {
    direction: Direction,
    /// The key of the record the page starts after (`next`) or ends before (`prev`).
    last: K,
}

fn encode<K: Serialize>(direction: Direction, last: K) -> String {
    let json = serde_json::to_vec(&Token { direction, last }).expect("cursor keys serialize");
    URL_SAFE_NO_PAD.encode(json)
}

/// `page_info` that is not a token of this list.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadCursor;

/// The tokens of the pages around the one served.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cursors {
    pub(crate) next: Option<String>,
    pub(crate) previous: Option<String>,
}

impl Cursors {
    /// The `Link` header: `base` with the parameters in `keep` (`limit`, `fields`) and the
    /// page's `page_info`; `None` when there is no other page.
    pub(crate) fn link_header(&self, base: &str, keep: &[(String, String)]) -> Option<String> {
        let rel = |token: &Option<String>, rel: &str| {
            token.as_ref().map(|t| {
                let url = link(base, keep, &[("page_info", t.clone())]);
                format!("<{url}>; rel=\"{rel}\"")
            })
        };
        let parts: Vec<String> = [rel(&self.next, "next"), rel(&self.previous, "previous")]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The page `page_info` names (`None`: the first page) of at most `limit` items (at least 1).
/// `items` must be sorted by `key`, strictly increasing (add the id to make a sort key
/// unique). A page found empty (its records were deleted) has no links.
pub(crate) fn page<'a, T, K>(
    items: &'a [T],
    key: impl Fn(&T) -> K,
    page_info: Option<&str>,
    limit: usize,
) -> Result<(&'a [T], Cursors), BadCursor>
where
    K: Ord + Serialize + DeserializeOwned,
{
    let limit = limit.max(1);
    let (start, end) = match page_info {
        None => (0, limit.min(items.len())),
        Some(raw) => {
            let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| BadCursor)?;
            let token: Token<K> = serde_json::from_slice(&bytes).map_err(|_| BadCursor)?;
            match token.direction {
                Direction::Next => {
                    let start = items.partition_point(|x| key(x) <= token.last);
                    (start, start.saturating_add(limit).min(items.len()))
                }
                Direction::Prev => {
                    let end = items.partition_point(|x| key(x) < token.last);
                    (end.saturating_sub(limit), end)
                }
            }
        }
    };
    let page = &items[start..end];
    let (Some(first), Some(last)) = (page.first(), page.last()) else {
        return Ok((page, Cursors::default()));
    };
    let cursors = Cursors {
        next: (end < items.len()).then(|| encode(Direction::Next, key(last))),
        previous: (start > 0).then(|| encode(Direction::Prev, key(first))),
    };
    Ok((page, cursors))
}

#[cfg(test)]
mod tests {
    use super::super::query_of;
    use super::*;
    use crate::kit::http::qget;

    /// Orders by (`updated_at`, `id`) as a sync would page them.
    fn orders() -> Vec<(String, u64)> {
        (0..23u64)
            .map(|i| (format!("2026-01-{:02}T00:00:00Z", 1 + i / 3), 1000 + i))
            .collect()
    }

    fn key(o: &(String, u64)) -> (String, u64) {
        o.clone()
    }

    #[test]
    fn next_then_previous_cover_every_item_once_each_way() {
        let items = orders();
        let base = "https://shop.myshopify.com/admin/api/2025-01/orders.json";
        let keep = vec![("limit".to_string(), "5".to_string())];
        let (mut page, mut c) = page(&items, key, None, 5).unwrap();
        assert!(c.previous.is_none());
        let mut forward = page.to_vec();
        let mut hops = 0;
        while let Some(next) = c.next.clone() {
            let header = c.link_header(base, &keep).unwrap();
            let url = header.split('>').next().unwrap().trim_start_matches('<');
            assert_eq!(qget(&query_of(url), "page_info"), Some(next.as_str()));
            (page, c) = super::page(&items, key, Some(&next), 5).unwrap();
            forward.extend_from_slice(page);
            hops += 1;
        }
        assert_eq!((hops, &forward), (4, &items));
        assert_eq!(page, &items[20..]);
        let mut backward = page.to_vec();
        while let Some(prev) = c.previous.clone() {
            (page, c) = super::page(&items, key, Some(&prev), 5).unwrap();
            let mut before = page.to_vec();
            before.extend(backward);
            backward = before;
        }
        assert_eq!(backward, items);
        assert_eq!(page, &items[..5]);
    }

    #[test]
    fn tokens_keep_their_place_when_records_come_and_go() {
        let mut items = orders();
        let (_, c) = page(&items, key, None, 5).unwrap();
        let next = c.next.unwrap();
        items.remove(1);
        items.insert(0, ("2025-12-31T00:00:00Z".into(), 999));
        let (page2, _) = page(&items, key, Some(&next), 5).unwrap();
        assert_eq!(page2.first().map(|o| o.1), Some(1005));
    }

    #[test]
    fn link_header_is_absent_for_a_single_page_and_bad_tokens_fail() {
        let items = orders();
        let (all, c) = page(&items, key, None, 250).unwrap();
        assert_eq!(all.len(), 23);
        assert_eq!(c.link_header("u", &[]), None);
        let (_, c) = page(&items, key, None, 10).unwrap();
        let next = c.next.clone().unwrap();
        assert_eq!(
            c.link_header("u", &[]),
            Some(format!("<u?page_info={next}>; rel=\"next\""))
        );
        assert_eq!(
            page(&items, key, Some("not a token"), 5).unwrap_err(),
            BadCursor
        );
        let wrong = URL_SAFE_NO_PAD.encode(br#"{"direction":"next","last":7}"#);
        assert_eq!(page(&items, key, Some(&wrong), 5).unwrap_err(), BadCursor);
    }
}
