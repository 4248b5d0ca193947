//! Black-box tests over real HTTP on loopback, with a tiny HTTP/1.1 client.

use std::time::Duration;

use base64::Engine;
use puente_sandbox::{
    start, start_alegra, start_clientify, taxid, Sandbox, SandboxConfig, Stats, World,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "clientify-sandbox-token";

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Token(&'a str),
    Basic(&'a str, &'a str),
    Raw(&'a str),
}

const CL: Auth<'static> = Auth::Token(TOKEN);
const AL: Auth<'static> = Auth::Basic("sandbox@puente.local", "alegra-sandbox-token");

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

async fn send(method: &str, url: &str, auth: Auth<'_>, body: Option<&str>) -> Resp {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(host).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    match auth {
        Auth::None => {}
        Auth::Token(t) => req.push_str(&format!("Authorization: Token {t}\r\n")),
        Auth::Basic(u, p) => {
            let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            req.push_str(&format!("Authorization: Basic {b}\r\n"));
        }
        Auth::Raw(v) => req.push_str(&format!("Authorization: {v}\r\n")),
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" || method == "PUT" {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("chunk size");
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .expect("hex size");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            rest = &rest[nl + 4 + size..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

async fn get(url: &str, auth: Auth<'_>) -> Resp {
    send("GET", url, auth, None).await
}

async fn post(url: &str, auth: Auth<'_>, body: Value) -> Resp {
    send("POST", url, auth, Some(&body.to_string())).await
}

async fn put(url: &str, auth: Auth<'_>, body: Value) -> Resp {
    send("PUT", url, auth, Some(&body.to_string())).await
}

fn small() -> SandboxConfig {
    SandboxConfig {
        contacts: 12,
        companies: 4,
        shared_contacts: 3,
        shared_companies: 1,
        ..SandboxConfig::default()
    }
}

async fn empty_clientify(cfg: &SandboxConfig) -> Sandbox {
    start_clientify(cfg, None, vec![], vec![]).await.unwrap()
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn clientify_answers_drf_401_for_missing_and_wrong_token() {
    let sb = empty_clientify(&small()).await;
    let url = format!("{}/contacts/", sb.base_url);
    let r = get(&url, Auth::None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(r.header("www-authenticate"), Some("Token"));
    let r = get(&url, Auth::Token("nope")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json(), json!({"detail": "Invalid token."}));
    let r = get(&url, Auth::Raw(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(
        r.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(get(&url, CL).await.status, 200);
    // Without the trailing slash too.
    assert_eq!(
        get(&format!("{}/contacts", sb.base_url), CL).await.status,
        200
    );
}

#[tokio::test]
async fn alegra_answers_401_message_code_for_missing_and_wrong_basic_auth() {
    let sb = start_alegra(&small(), None, vec![]).await.unwrap();
    let url = format!("{}/contacts", sb.base_url);
    for auth in [
        Auth::None,
        Auth::Basic("sandbox@puente.local", "wrong"),
        Auth::Basic("other@x.com", "alegra-sandbox-token"),
        Auth::Token("alegra-sandbox-token"),
    ] {
        let r = get(&url, auth).await;
        assert_eq!(r.status, 401);
        let b = r.json();
        assert_eq!(b["code"], json!(401));
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(r.header("x-rate-limit-limit"), Some("150"));
    }
    let r = get(&url, AL).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!([]));
}

// ---------------------------------------------------------------- paging

#[tokio::test]
async fn clientify_pages_with_drf_envelope_and_404_past_the_end() {
    let cfg = SandboxConfig {
        contacts: 120,
        companies: 2,
        shared_contacts: 0,
        shared_companies: 0,
        ..SandboxConfig::default()
    };
    let w = World::generate(&cfg);
    let sb = start_clientify(&cfg, None, w.clientify_contacts.clone(), vec![])
        .await
        .unwrap();
    let base = &sb.base_url;

    let r = get(&format!("{base}/contacts/"), CL).await;
    assert_eq!(r.status, 200);
    let b = r.json();
    assert_eq!(b["count"], json!(120));
    assert_eq!(b["results"].as_array().unwrap().len(), 50);
    assert_eq!(b["previous"], Value::Null);
    assert_eq!(b["next"], json!(format!("{base}/contacts/?page=2")));
    assert_eq!(b["results"][0]["id"], w.clientify_contacts[0]["id"]);

    // `next` is absolute and keeps the other params.
    let r = get(
        &format!("{base}/contacts/?page_size=40&ordering=-id&page=2"),
        CL,
    )
    .await;
    let b = r.json();
    assert_eq!(
        b["next"],
        json!(format!("{base}/contacts/?ordering=-id&page=3&page_size=40"))
    );
    assert_eq!(
        b["previous"],
        json!(format!("{base}/contacts/?ordering=-id&page_size=40"))
    );
    let third = get(b["next"].as_str().unwrap(), CL).await.json();
    assert_eq!(third["results"].as_array().unwrap().len(), 40);
    assert_eq!(third["next"], Value::Null);
    let last_id = third["results"][39]["id"].as_u64().unwrap();
    assert_eq!(Some(last_id), w.clientify_contacts[0]["id"].as_u64());

    // Past the end, page 0, non-integer → 404 "Invalid page.".
    for q in ["page=4&page_size=40", "page=0", "page=abc", "page=9"] {
        let r = get(&format!("{base}/contacts/?{q}"), CL).await;
        assert_eq!(r.status, 404, "{q}");
        assert_eq!(r.json(), json!({"detail": "Invalid page."}));
    }
    // page_size above 250 is clamped; invalid falls back to 50.
    let b = get(&format!("{base}/contacts/?page_size=1000"), CL)
        .await
        .json();
    assert_eq!(b["results"].as_array().unwrap().len(), 120);
    let b = get(&format!("{base}/contacts/?page_size=x"), CL)
        .await
        .json();
    assert_eq!(b["results"].as_array().unwrap().len(), 50);

    // Sparse fields.
    let b = get(
        &format!("{base}/contacts/?fields=id,modified&page_size=1"),
        CL,
    )
    .await
    .json();
    let first = b["results"][0].as_object().unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.contains_key("modified"));

    // Page 1 of an empty result is fine.
    let r = get(&format!("{base}/companies/"), CL).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
}

#[tokio::test]
async fn alegra_caps_limit_at_30_and_wraps_only_with_metadata() {
    let cfg = SandboxConfig {
        contacts: 40,
        companies: 5,
        ..SandboxConfig::default()
    };
    let w = World::generate(&cfg);
    let sb = start_alegra(&cfg, None, w.alegra_contacts.clone())
        .await
        .unwrap();
    let base = &sb.base_url;

    let r = get(&format!("{base}/contacts?limit=100"), AL).await;
    assert_eq!(r.status, 200);
    let arr = r.json();
    assert_eq!(arr.as_array().expect("bare array").len(), 30);
    assert_eq!(arr[0]["id"], json!("1"));

    let b = get(&format!("{base}/contacts?start=30&metadata=true"), AL)
        .await
        .json();
    assert_eq!(b["metadata"]["total"], json!(45));
    assert_eq!(b["data"].as_array().unwrap().len(), 15);
    assert_eq!(b["data"][0]["id"], json!("31"));

    let b = get(&format!("{base}/contacts?order_direction=DESC&limit=2"), AL)
        .await
        .json();
    assert_eq!(b[0]["id"], json!("45"));
    assert_eq!(b[1]["id"], json!("44"));

    let b = get(&format!("{base}/contacts?type=provider"), AL)
        .await
        .json();
    assert_eq!(b.as_array().unwrap().len(), 5);

    for q in ["limit=abc", "start=x"] {
        let r = get(&format!("{base}/contacts?{q}"), AL).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["code"], json!(400));
    }
    let r = get(&format!("{base}/contacts/9999"), AL).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({"message": "El contacto no existe", "code": 404})
    );
}

// ---------------------------------------------------------------- filters

#[tokio::test]
async fn alegra_identification_filter_ignores_spaces_dots_dashes_and_case() {
    let sb = start_alegra(
        &small(),
        None,
        vec![
            json!({"name": "Ana Pérez", "identification": "12345678Z"}),
            json!({"name": "Talleres Ruiz S.A.", "identification": {"type": "NIF", "number": "A58818501"}, "type": "provider",
                   "address": {"city": "Lugo", "department": "Lugo"}}),
            json!({"name": "Sin Id"}),
        ],
    )
    .await
    .unwrap();
    let base = &sb.base_url;
    for q in ["12.345.678-z", "12345678z", "12%20345%20678%20Z"] {
        let b = get(&format!("{base}/contacts?identification={q}"), AL)
            .await
            .json();
        assert_eq!(b.as_array().unwrap().len(), 1, "{q}");
        assert_eq!(b[0]["name"], json!("Ana Pérez"));
        assert_eq!(b[0]["identification"], json!("12345678Z"));
    }
    let b = get(&format!("{base}/contacts?identification=a-58818501"), AL)
        .await
        .json();
    // Issue 18 (A12): a company's CIF is type NIF (CIF is no longer a type).
    assert_eq!(
        b[0]["identificationObject"],
        json!({"type": "NIF", "number": "A58818501"})
    );
    assert_eq!(b[0]["type"], json!(["provider"]));
    let b = get(&format!("{base}/contacts?identification=00000000T"), AL)
        .await
        .json();
    assert_eq!(b, json!([]));
    let b = get(&format!("{base}/contacts?name=PÉREZ"), AL).await.json();
    assert_eq!(b.as_array().unwrap().len(), 1);
    let b = get(&format!("{base}/contacts?query=sin"), AL).await.json();
    assert_eq!(b[0]["identification"], json!(""));
    assert_eq!(b[0]["identificationObject"], Value::Null);
}

#[tokio::test]
async fn clientify_filters_by_taxpayer_id_email_and_modified_gte() {
    let cfg = small();
    let sb = start(&cfg, None, None).await.unwrap();
    let base = &sb.clientify.base_url;
    let w = &sb.world;
    let target = w
        .clientify_contacts
        .iter()
        .find(|c| c["taxpayer_identification_number"] != json!(""))
        .unwrap();
    let tax = target["taxpayer_identification_number"].as_str().unwrap();
    let enc: String = tax.bytes().map(|b| format!("%{b:02X}")).collect();
    let b = get(
        &format!("{base}/contacts/?taxpayer_identification_number={enc}"),
        CL,
    )
    .await
    .json();
    assert_eq!(b["count"], json!(1));
    assert_eq!(b["results"][0], *target);

    let email = target["emails"][0]["email"].as_str().unwrap();
    let b = get(&format!("{base}/contacts/?email={email}"), CL)
        .await
        .json();
    assert_eq!(b["count"], json!(1));
    assert_eq!(b["results"][0]["id"], target["id"]);

    // modified[gte]: exactly the records at or after the median timestamp.
    let mut mods: Vec<&str> = w
        .clientify_contacts
        .iter()
        .map(|c| c["modified"].as_str().unwrap())
        .collect();
    mods.sort_unstable();
    let pivot = mods[mods.len() / 2];
    let expected = mods.iter().filter(|m| **m >= pivot).count();
    let enc_pivot = pivot.replace('+', "%2B");
    let b = get(
        &format!("{base}/contacts/?modified%5Bgte%5D={enc_pivot}&ordering=modified"),
        CL,
    )
    .await
    .json();
    assert_eq!(b["count"], json!(expected));
    assert_eq!(b["results"][0]["modified"], json!(pivot));
    // A 'Z' offset works too; a bad value is a DRF field error.
    let b = get(
        &format!("{base}/contacts/?modified[gte]=2000-01-01T00:00:00Z"),
        CL,
    )
    .await
    .json();
    assert_eq!(b["count"], json!(12));
    let r = get(&format!("{base}/contacts/?modified[gte]=ayer"), CL).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"modified[gte]": ["Enter a valid date/time."]})
    );
    // An unencoded '+' offset arrives as a space: rejected like Django does.
    let r = get(
        &format!("{base}/contacts/?created[gte]=2026-01-01T00:00:00+00:00"),
        CL,
    )
    .await;
    assert_eq!(r.status, 400);

    // query: case-insensitive substring.
    let last = target["last_name"].as_str().unwrap().to_uppercase();
    let enc_last: String = last.bytes().map(|b| format!("%{b:02X}")).collect();
    let b = get(&format!("{base}/contacts/?query={enc_last}"), CL)
        .await
        .json();
    assert!(b["count"].as_u64().unwrap() >= 1);
}

// ---------------------------------------------------------------- writes

#[tokio::test]
async fn clientify_put_merges_partially_and_bumps_modified() {
    let sb = empty_clientify(&small()).await;
    let base = &sb.base_url;
    let r = post(
        &format!("{base}/contacts/"),
        CL,
        json!({"first_name": "Ana", "last_name": "Pérez", "email": "ana@example.com",
               "phone": "+34 600 000 001", "status": "cold-lead", "tags": ["vip"],
               "custom_fields": [{"field": "source_campaign", "value": "feria"}]}),
    )
    .await;
    assert_eq!(r.status, 201);
    let c = r.json();
    let id = c["id"].as_u64().unwrap();
    assert_eq!(c["url"], json!(format!("{base}/contacts/{id}/")));
    assert_eq!(c["emails"][0]["email"], json!("ana@example.com"));
    assert_eq!(c["emails"][0]["type"], json!(1));
    assert!(c["emails"][0]["id"].as_u64().is_some());
    assert_eq!(c["phones"][0]["phone"], json!("+34 600 000 001"));
    assert_eq!(c["created"], c["modified"]);
    let created = c["created"].as_str().unwrap().to_string();
    assert!(
        created.ends_with("+00:00") && created.len() == 32,
        "{created}"
    );

    let url = format!("{base}/contacts/{id}/");
    let r = put(&url, CL, json!({"status": "client", "id": 999})).await;
    assert_eq!(r.status, 200);
    let u = r.json();
    assert_eq!(u["id"], json!(id));
    assert_eq!(u["status"], json!("client"));
    assert_eq!(u["first_name"], json!("Ana"));
    assert_eq!(u["emails"], c["emails"]);
    assert_eq!(u["tags"], json!(["vip"]));
    assert_eq!(u["created"], json!(created));
    assert!(u["modified"].as_str().unwrap() > c["modified"].as_str().unwrap());

    // Lists replace; custom fields merge by name.
    post(
        &format!("{base}/custom-fields/"),
        CL,
        json!({"name": "in_alegra", "object_type": "contact", "field_type": "text"}),
    )
    .await;
    let u2 = put(
        &url,
        CL,
        json!({"phones": [{"type": 2, "phone": "+34 611 111 111"}],
               "custom_fields": [{"field": "in_alegra", "value": "17"}]}),
    )
    .await
    .json();
    assert_eq!(u2["phones"].as_array().unwrap().len(), 1);
    assert_eq!(u2["phones"][0]["phone"], json!("+34 611 111 111"));
    assert_ne!(u2["phones"][0]["id"], c["phones"][0]["id"]);
    assert_eq!(
        u2["custom_fields"],
        json!([{"field": "source_campaign", "value": "feria"}, {"field": "in_alegra", "value": "17"}])
    );
    assert!(u2["modified"].as_str().unwrap() > u["modified"].as_str().unwrap());

    // Tag POST adds once and bumps modified.
    let r = post(&format!("{url}tags/"), CL, json!({"name": "proveedor"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["name"], json!("proveedor"));
    let after = get(&url, CL).await.json();
    assert_eq!(after["tags"], json!(["vip", "proveedor"]));
    assert!(after["modified"].as_str().unwrap() > u2["modified"].as_str().unwrap());

    // Ordering by modified follows the writes.
    let other = post(
        &format!("{base}/contacts/"),
        CL,
        json!({"first_name": "Beto"}),
    )
    .await
    .json();
    put(&url, CL, json!({"last_name": "Pérez Gil"})).await;
    let b = get(&format!("{base}/contacts/?ordering=-modified"), CL)
        .await
        .json();
    assert_eq!(b["results"][0]["id"], json!(id));
    assert_eq!(b["results"][1]["id"], other["id"]);

    // Unknown id → 404; DELETE → 204 then 404.
    let r = put(
        &format!("{base}/contacts/424242/"),
        CL,
        json!({"status": "client"}),
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json(), json!({"detail": "Not found."}));
    assert_eq!(send("DELETE", &url, CL, None).await.status, 204);
    assert_eq!(get(&url, CL).await.status, 404);
}

#[tokio::test]
async fn clientify_unknown_custom_field_is_400_until_defined() {
    let sb = empty_clientify(&small()).await;
    let base = &sb.base_url;
    let body =
        json!({"first_name": "Ana", "custom_fields": [{"field": "in_alegra", "value": "5"}]});
    let r = post(&format!("{base}/contacts/"), CL, body.clone()).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"custom_fields": ["Custom field \"in_alegra\" does not exist."]})
    );
    let defs = get(&format!("{base}/custom-fields/?object_type=contact"), CL)
        .await
        .json();
    assert_eq!(defs["count"], json!(1));
    assert_eq!(defs["results"][0]["name"], json!("source_campaign"));

    let r = post(
        &format!("{base}/custom-fields/"),
        CL,
        json!({"name": "in_alegra", "object_type": "contact", "field_type": "text"}),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["object_type"], json!("contact"));
    let r = post(
        &format!("{base}/custom-fields/"),
        CL,
        json!({"name": "in_alegra", "object_type": "contact"}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"name": ["A custom field with this name already exists."]})
    );
    // Defined for contacts only: companies still reject it.
    let r = post(
        &format!("{base}/companies/"),
        CL,
        json!({"name": "Talleres Ruiz S.A.", "custom_fields": [{"field": "in_alegra", "value": "5"}]}),
    )
    .await;
    assert_eq!(r.status, 400);

    let r = post(&format!("{base}/contacts/"), CL, body).await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.json()["custom_fields"],
        json!([{"field": "in_alegra", "value": "5"}])
    );
}

#[tokio::test]
async fn clientify_create_validates_like_drf() {
    let sb = empty_clientify(&small()).await;
    let url = format!("{}/contacts/", sb.base_url);
    let r = post(&url, CL, json!({"status": "client"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({"first_name": ["This field is required."]}));
    let r = post(&url, CL, json!({"first_name": "A", "status": "x"})).await;
    assert_eq!(
        r.json(),
        json!({"status": ["\"x\" is not a valid choice."]})
    );
    let r = post(&url, CL, json!({"first_name": "A", "email": "no-at"})).await;
    assert_eq!(r.json(), json!({"email": ["Enter a valid email address."]}));
    let r = send("POST", &url, CL, Some("{\"first_name\": ")).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["detail"]
        .as_str()
        .unwrap()
        .starts_with("JSON parse error - "));
    let r = post(
        &format!("{}/companies/", sb.base_url),
        CL,
        json!({"business_name": "X"}),
    )
    .await;
    assert_eq!(r.json(), json!({"name": ["This field is required."]}));
    // Email alone is enough for a contact.
    let r = post(&url, CL, json!({"email": "solo@example.com"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["taxpayer_identification_number"], json!(""));
    // PATCH is not part of the modelled API.
    let r = send("PATCH", &format!("{url}1001/"), CL, Some("{}")).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn alegra_create_update_delete_follow_vendor_shapes() {
    let sb = start_alegra(&small(), None, vec![]).await.unwrap();
    let base = &sb.base_url;
    let r = post(
        &format!("{base}/contacts"),
        AL,
        json!({"nameObject": {"firstName": "Ana", "lastName": "Pérez", "secondLastName": "Gil"},
               "identification": {"type": "DNI", "number": "12345678Z"},
               "type": "client", "email": "ana@example.com",
               "address": {"city": "Lugo", "zipCode": "27001"}}),
    )
    .await;
    assert_eq!(r.status, 201);
    let c = r.json();
    assert_eq!(c["id"], json!("1"));
    assert_eq!(c["name"], json!("Ana Pérez Gil"));
    assert_eq!(c["identification"], json!("12345678Z"));
    // Issue 18 (A12): a DNI is type DNI (the NIF type is letter + 7 digits + check).
    assert_eq!(c["identificationObject"]["type"], json!("DNI"));
    assert_eq!(c["type"], json!(["client"]));
    assert_eq!(c["status"], json!("active"));
    let created = c["created_at"].as_str().unwrap();
    assert_eq!(created.len(), 19);
    assert_eq!(&created[10..11], " ");

    // Duplicate identification is accepted.
    let r = post(
        &format!("{base}/contacts"),
        AL,
        json!({"name": "Ana Duplicada", "identification": "12345678Z"}),
    )
    .await;
    assert_eq!(r.json()["id"], json!("2"));

    sb.advance_clock(5);
    let url = format!("{base}/contacts/1");
    let u = put(
        &url,
        AL,
        json!({"nameObject": {"secondName": "María"}, "address": {"address": "Calle Mayor 1"}}),
    )
    .await
    .json();
    assert_eq!(u["name"], json!("Ana María Pérez Gil"));
    assert_eq!(u["address"]["city"], json!("Lugo"));
    assert_eq!(u["address"]["address"], json!("Calle Mayor 1"));
    assert_eq!(u["email"], json!("ana@example.com"));
    assert_eq!(u["created_at"], c["created_at"]);
    assert!(u["updated_at"].as_str().unwrap() > c["updated_at"].as_str().unwrap());

    let r = post(&format!("{base}/contacts"), AL, json!({"email": "x@y.es"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"message": "El nombre del contacto es obligatorio", "code": 400})
    );
    let r = send("POST", &format!("{base}/contacts"), AL, Some("{oops")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], json!(400));

    let r = send("DELETE", &url, AL, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"code": 200, "message": "Contacto eliminado correctamente"})
    );
    assert_eq!(get(&url, AL).await.status, 404);
}

// ------------------------------------------------------------ rate limits

#[tokio::test]
async fn alegra_rate_limit_answers_429_with_headers_after_the_limit() {
    let cfg = SandboxConfig {
        alegra_rate_limit: 5,
        ..small()
    };
    let sb = start_alegra(&cfg, None, vec![]).await.unwrap();
    let url = format!("{}/contacts", sb.base_url);
    for i in 1..=5u32 {
        let r = get(&url, AL).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-rate-limit-limit"), Some("5"));
        assert_eq!(
            r.header("x-rate-limit-remaining"),
            Some((5 - i).to_string().as_str())
        );
        let reset: i64 = r.header("x-rate-limit-reset").unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset));
    }
    let r = get(&url, AL).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.json(),
        json!({"message": "Too Many request", "code": 429})
    );
    assert_eq!(r.header("x-rate-limit-remaining"), Some("0"));
    assert!(r.header("x-rate-limit-reset").is_some());
    assert!(r.header("retry-after").is_none());
    assert_eq!(sb.stats().rate_limited, 1);

    // Unauthenticated requests have their own (empty-user) window.
    let r = get(&url, Auth::None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("x-rate-limit-remaining"), Some("4"));

    // The window is fixed: moving the clock past it resets the count.
    sb.advance_clock(61);
    let r = get(&url, AL).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-rate-limit-remaining"), Some("4"));

    // Unlimited: no headers.
    let free = start_alegra(
        &SandboxConfig {
            alegra_rate_limit: 0,
            ..small()
        },
        None,
        vec![],
    )
    .await
    .unwrap();
    let r = get(&format!("{}/contacts", free.base_url), AL).await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-rate-limit-limit").is_none());
}

#[tokio::test]
async fn alegra_default_limit_is_150_per_window() {
    let sb = start_alegra(
        &SandboxConfig {
            alegra_rate_window: Duration::from_secs(3600),
            ..small()
        },
        None,
        vec![],
    )
    .await
    .unwrap();
    let url = format!("{}/contacts/1", sb.base_url);
    for _ in 0..150 {
        assert_eq!(get(&url, AL).await.status, 404);
    }
    let r = get(&url, AL).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-rate-limit-limit"), Some("150"));
    let s = sb.stats();
    assert_eq!(s.total, 151);
    assert_eq!(s.rate_limited, 1);
    assert_eq!(s.by_route["GET /api/v1/contacts/{id}"], 151);
}

#[tokio::test]
async fn clientify_throttle_answers_429_with_retry_after() {
    let cfg = SandboxConfig {
        clientify_rate_limit: 3,
        ..small()
    };
    let sb = empty_clientify(&cfg).await;
    let url = format!("{}/contacts/", sb.base_url);
    for _ in 0..3 {
        assert_eq!(get(&url, CL).await.status, 200);
    }
    let r = get(&url, CL).await;
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(
        r.json(),
        json!({"detail": format!("Request was throttled. Expected available in {wait} seconds.")})
    );
    // Auth is checked first.
    assert_eq!(get(&url, Auth::None).await.status, 401);
    sb.advance_clock(61);
    assert_eq!(get(&url, CL).await.status, 200);
}

// ------------------------------------------------------------ stats, world

#[tokio::test]
async fn stats_count_requests_by_normalised_route() {
    let sb = start(&small(), None, None).await.unwrap();
    let c = &sb.clientify;
    let a = &sb.alegra;
    let id = sb.world.clientify_contacts[0]["id"].as_u64().unwrap();
    get(&format!("{}/contacts/", c.base_url), CL).await;
    get(&format!("{}/contacts", c.base_url), Auth::None).await;
    put(
        &format!("{}/contacts/{id}/", c.base_url),
        CL,
        json!({"status": "client"}),
    )
    .await;
    put(
        &format!("{}/contacts/{id}", c.base_url),
        CL,
        json!({"status": "other"}),
    )
    .await;
    get(&format!("{}/contacts?limit=5", a.base_url), AL).await;
    get(&format!("{}/contacts/3/", a.base_url), AL).await;
    get(&format!("{}/_sandbox/stats", c.root_url), Auth::None).await;

    let s = c.stats();
    assert_eq!(s.total, 4);
    assert_eq!(s.by_method["GET"], 2);
    assert_eq!(s.by_method["PUT"], 2);
    assert_eq!(s.by_route["GET /v1/contacts/"], 2);
    assert_eq!(s.by_route["PUT /v1/contacts/{id}/"], 2);
    assert_eq!(s.rate_limited, 0);
    let over_http: Stats = serde_json::from_value(
        get(&format!("{}/_sandbox/stats", c.root_url), Auth::None)
            .await
            .json(),
    )
    .unwrap();
    assert_eq!(over_http, s);

    let s = a.stats();
    assert_eq!(s.total, 2);
    assert_eq!(s.by_route["GET /api/v1/contacts"], 1);
    assert_eq!(s.by_route["GET /api/v1/contacts/{id}"], 1);

    let r = send(
        "POST",
        &format!("{}/_sandbox/stats/reset", a.root_url),
        Auth::None,
        None,
    )
    .await;
    assert!(r.status < 300);
    assert_eq!(a.stats(), Stats::default());
    c.reset_stats();
    assert_eq!(c.stats().total, 0);
}

#[tokio::test]
async fn served_data_equals_the_world_returned_by_start() {
    let sb = start(&small(), None, None).await.unwrap();
    let w = &sb.world;
    let b = get(
        &format!("{}/contacts/?page_size=250", sb.clientify.base_url),
        CL,
    )
    .await
    .json();
    assert_eq!(b["results"], json!(w.clientify_contacts));
    let b = get(&format!("{}/companies/", sb.clientify.base_url), CL)
        .await
        .json();
    assert_eq!(b["results"], json!(w.clientify_companies));
    let mut all = Vec::new();
    let mut start_at = 0;
    loop {
        let page = get(
            &format!("{}/contacts?start={start_at}", sb.alegra.base_url),
            AL,
        )
        .await
        .json();
        let page = page.as_array().unwrap().clone();
        let n = page.len();
        all.extend(page);
        if n < 30 {
            break;
        }
        start_at += 30;
    }
    assert_eq!(all, w.alegra_contacts);
    // Shared persons: same tax id on both sides.
    let al_ids: Vec<String> = w
        .alegra_contacts
        .iter()
        .map(|c| c["identification"].as_str().unwrap().to_string())
        .collect();
    let shared = w
        .clientify_contacts
        .iter()
        .map(|c| taxid::canonical(c["taxpayer_identification_number"].as_str().unwrap()))
        .filter(|t| !t.is_empty() && al_ids.contains(t))
        .count();
    assert_eq!(shared, 3);
}

#[tokio::test]
async fn clock_advance_moves_server_timestamps() {
    let sb = empty_clientify(&small()).await;
    let before = chrono::Utc::now();
    let r = send(
        "POST",
        &format!("{}/_sandbox/clock/advance?seconds=86400", sb.root_url),
        Auth::None,
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let c = post(
        &format!("{}/companies/", sb.base_url),
        CL,
        json!({"name": "Futuro S.L."}),
    )
    .await
    .json();
    let created = chrono::DateTime::parse_from_rfc3339(c["created"].as_str().unwrap()).unwrap();
    assert!(created.timestamp() - before.timestamp() >= 86_400);
    assert_eq!(sb.stats().total, 1);
}

#[tokio::test]
async fn shutdown_refuses_new_connections() {
    let sb = empty_clientify(&small()).await;
    let addr = sb.root_url.trim_start_matches("http://").to_string();
    assert_eq!(
        get(&format!("{}/contacts/", sb.base_url), CL).await.status,
        200
    );
    sb.shutdown();
    let res = TcpStream::connect(&addr).await;
    assert!(res.is_err(), "connection should be refused after shutdown");
}
