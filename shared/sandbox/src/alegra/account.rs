//! The account endpoints clients call first [C: A5 company.go/users.go and its docs]:
//! `GET /users/self` (an auth check) and `GET /company`, a singleton (no id, no list) whose
//! fields vary by country edition; this is the Spain edition's shape [I for the values].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::App;
use crate::kit::http::json;

/// `GET /api/v1/users/self` → the user the credentials belong to.
pub(super) async fn users_self(State(app): State<App>) -> Response {
    json(
        StatusCode::OK,
        json!({
            "id": "1",
            "username": app.inner.email,
            "name": "Sandbox",
            "lastName": "Puente",
            "email": app.inner.email,
            "role": "admin",
            "status": "active",
            "language": "es",
            "permissions": {"contacts": {"view": true, "add": true, "edit": true}},
        }),
    )
}

/// `GET /api/v1/company` → the account's company (Spain edition).
pub(super) async fn company(State(_app): State<App>) -> Response {
    json(
        StatusCode::OK,
        json!({
            "name": "Puente Sandbox SL",
            "identification": "B12345674",
            "identificationObject": {"type": "NIF", "number": "B12345674"},
            "regime": "GENERAL_REGIME",
            "applicationVersion": "spain",
            "timezone": "Europe/Madrid",
            "currency": {"code": "EUR", "symbol": "€"},
            "decimalPrecision": 2,
            "address": {"address": "Calle Mayor 1", "city": "Lugo", "department": "Lugo",
                        "country": "España", "zipCode": "27001"},
            "invoicePreferences": {},
        }),
    )
}
