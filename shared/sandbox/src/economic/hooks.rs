//! Legacy webhooks [D e-conomic.com/developer/working-with-web-hooks]: set up in the UI as URL
//! templates, one per kind; Customer/Product/Order/Quotation changes fill `[NEWNUMBER]` and
//! `[OLDNUMBER]` (on create, update, delete and renumber), Invoice booked fills `[INVOICENO]`.
//! One request per changed resource, never bundled, so a bulk change is a burst. Unsigned.
//! The request's shape is [I] (see [`super::facts::fill_template`]).

use super::facts::fill_template;
use super::{App, Books};

/// The kinds of legacy webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookKind {
    CustomerUpdated,
    ProductUpdated,
    OrderUpdated,
    QuotationUpdated,
    InvoiceBooked,
}

impl HookKind {
    fn event(self) -> &'static str {
        match self {
            HookKind::CustomerUpdated => "customer.updated",
            HookKind::ProductUpdated => "product.updated",
            HookKind::OrderUpdated => "order.updated",
            HookKind::QuotationUpdated => "quotation.updated",
            HookKind::InvoiceBooked => "invoice.booked",
        }
    }
}

/// One request for one changed resource, if a template is set for `kind`.
pub(super) fn notify(app: &App, books: &Books, kind: HookKind, new: &str, old: &str) {
    let Some(template) = books.hooks.get(&kind) else {
        return;
    };
    let url = fill_template(template, &encode(new), &encode(old));
    app.common
        .outbox
        .send_with(url, kind.event(), Vec::new(), Vec::new());
}

/// A merge value as it goes into a URL (product numbers may hold anything).
fn encode(s: &str) -> String {
    crate::kit::http::quote_plus(s)
}
