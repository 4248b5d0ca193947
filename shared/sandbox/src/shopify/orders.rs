//! `GET orders.json`, `orders/count.json`, `orders/{id}.json` (§(c) "Orders").

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::api::{
    self, ids_param, list_answer, list_query, page_ids, project, since_param, time_param,
    TimeFilters,
};
use super::facts;
use super::model::Order;
use super::App;
use crate::kit::http::{json, qget};

const STATUSES: [&str; 4] = ["open", "closed", "cancelled", "any"];
const FINANCIAL: [&str; 10] = [
    "authorized",
    "pending",
    "paid",
    "partially_paid",
    "refunded",
    "voided",
    "partially_refunded",
    "unpaid",
    "any",
    "expired",
];
const FULFILLMENT: [&str; 5] = ["shipped", "partial", "unshipped", "unfulfilled", "any"];

/// The order filters of one request.
struct Filter {
    status: String,
    financial: String,
    fulfillment: String,
    times: TimeFilters,
    processed: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    since_id: u64,
    ids: Option<Vec<u64>>,
    /// Orders created before this are out of the app's reach (no `read_all_orders`).
    window: Option<DateTime<Utc>>,
}

fn enum_param(
    q: &[(String, String)],
    key: &str,
    allowed: &[&str],
    default: &str,
) -> Result<String, Response> {
    match qget(q, key) {
        None => Ok(default.to_string()),
        Some(v) if allowed.contains(&v) => Ok(v.to_string()),
        Some(_) => Err(api::invalid(key)),
    }
}

impl Filter {
    fn parse(app: &App, q: &[(String, String)]) -> Result<Filter, Response> {
        Ok(Filter {
            status: enum_param(q, "status", &STATUSES, "open")?,
            financial: enum_param(q, "financial_status", &FINANCIAL, "any")?,
            fulfillment: enum_param(q, "fulfillment_status", &FULFILLMENT, "any")?,
            times: TimeFilters::parse(q)?,
            processed: (
                time_param(q, "processed_at_min")?,
                time_param(q, "processed_at_max")?,
            ),
            since_id: since_param(q)?,
            ids: ids_param(q)?,
            window: window(app),
        })
    }

    fn ok(&self, o: &Order) -> bool {
        let status = match self.status.as_str() {
            // [I] see facts: closed excludes cancelled.
            "open" => o.closed_at.is_none() && o.cancelled_at.is_none(),
            "closed" => o.closed_at.is_some() && o.cancelled_at.is_none(),
            "cancelled" => o.cancelled_at.is_some(),
            _ => true,
        };
        let financial = match self.financial.as_str() {
            "any" => true,
            "unpaid" => facts::UNPAID.contains(&o.financial_status),
            f => o.financial_status == f,
        };
        let fulfillment = match self.fulfillment.as_str() {
            "shipped" => o.fulfillment_status == Some("fulfilled"),
            "partial" => o.fulfillment_status == Some("partial"),
            "unshipped" => o.fulfillment_status.is_none(),
            "unfulfilled" => matches!(o.fulfillment_status, None | Some("partial")),
            _ => true,
        };
        let (pmin, pmax) = self.processed;
        status
            && financial
            && fulfillment
            && self.times.ok(o.created_at, o.updated_at)
            && pmin.is_none_or(|m| o.created_at >= m)
            && pmax.is_none_or(|m| o.created_at <= m)
            && o.id > self.since_id
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&o.id))
            && visible(self.window, o)
    }
}

/// The oldest creation time the app may see (§(c): 60 days without `read_all_orders`).
fn window(app: &App) -> Option<DateTime<Utc>> {
    (!app.inner.cfg.read_all_orders)
        .then(|| app.common.now() - TimeDelta::days(facts::ORDER_WINDOW_DAYS))
}

fn visible(window: Option<DateTime<Utc>>, o: &Order) -> bool {
    window.is_none_or(|w| o.created_at >= w)
}

/// `GET orders.json`.
pub(super) fn list(app: &App, version: &str, q: &[(String, String)]) -> Response {
    let lq = match list_query("orders", q) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let f = match Filter::parse(app, &lq.filters) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let hide = app.hides_customer();
    let shop = app.shop();
    let ids: Vec<u64> = shop
        .orders
        .values()
        .filter(|o| f.ok(o))
        .map(|o| o.id)
        .collect();
    let (page, link) = match page_ids(app, version, "orders", &ids, &lq) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let rows = page
        .iter()
        .filter_map(|id| shop.orders.get(id))
        .map(|o| project(shop.render_order(o, hide), &lq.fields))
        .collect();
    list_answer("orders", rows, link)
}

/// `GET orders/count.json` (same filters, no paging).
pub(super) fn count(app: &App, q: &[(String, String)]) -> Response {
    let f = match Filter::parse(app, q) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let n = app.shop().orders.values().filter(|o| f.ok(o)).count();
    json(StatusCode::OK, json!({ "count": n }))
}

/// `GET orders/{id}.json` (any status; 404 outside the 60-day window).
pub(super) fn detail(app: &App, id: u64, q: &[(String, String)]) -> Response {
    let shop = app.shop();
    match shop.orders.get(&id).filter(|o| visible(window(app), o)) {
        Some(o) => {
            let fields = qget(q, "fields").map(str::to_string);
            let v = project(shop.render_order(o, app.hides_customer()), &fields);
            json(StatusCode::OK, json!({ "order": v }))
        }
        None => api::not_found(),
    }
}
