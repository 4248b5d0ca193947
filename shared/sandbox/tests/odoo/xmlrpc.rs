//! XML-RPC: the same services over `/xmlrpc/2/*`, and its faults.

use super::*;

#[tokio::test]
async fn xmlrpc_version_authenticate_execute_and_faults() {
    let o = Odoo::start(cfg(17), OdooSeed::generate(1, 2, 2, 2, 1)).await;
    let c = &o.cfg;
    let t = xml(&o.sb, "/xmlrpc/2/common", xml_call("version", &[])).await;
    assert!(
        t.contains("<name>server_version</name>\n<value><string>17.0</string></value>"),
        "{t}"
    );
    assert!(t.contains("<methodResponse>"));
    let s = |x: &str| format!("<string>{x}</string>");
    let auth = xml_call(
        "authenticate",
        &[
            &s(&c.database),
            &s(&c.login),
            &s(&c.api_key),
            "<struct></struct>",
        ],
    );
    let t = xml(&o.sb, "/xmlrpc/2/common", auth).await;
    assert!(t.contains("<value><int>2</int></value>"), "{t}");
    let bad = xml_call(
        "authenticate",
        &[&s(&c.database), &s(&c.login), &s("x"), "<struct></struct>"],
    );
    let t = xml(&o.sb, "/xmlrpc/2/common", bad).await;
    assert!(t.contains("<boolean>0</boolean>"), "{t}");

    let domain = "<array><data><value><array><data><value><string>is_company</string></value><value><string>=</string></value><value><boolean>1</boolean></value></data></array></value></data></array>";
    let call = xml_call(
        "execute_kw",
        &[
            &s(&c.database),
            "<int>2</int>",
            &s(&c.api_key),
            &s("res.partner"),
            &s("search_read"),
            &format!("<array><data><value>{domain}</value></data></array>"),
            "<struct><member><name>fields</name><value><array><data><value><string>name</string></value></data></array></value></member><member><name>order</name><value><string>id</string></value></member></struct>",
        ],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", call).await;
    assert!(
        t.contains("<name>name</name>\n<value><string>My Company</string></value>"),
        "{t}"
    );
    assert_eq!(t.matches("<name>id</name>").count(), 3, "{t}");

    // Fault 3 for a wrong key; Fault 2 for an unknown model.
    let wrong = xml_call(
        "execute_kw",
        &[
            &s(&c.database),
            "<int>2</int>",
            &s("bad"),
            &s("res.partner"),
            &s("search"),
            "<array><data><value><array><data></data></array></value></data></array>",
        ],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", wrong.clone()).await;
    assert!(
        t.contains("<fault>")
            && t.contains("<int>3</int>")
            && t.contains("<string>Access Denied</string>"),
        "{t}"
    );
    let t = xml(&o.sb, "/xmlrpc/object", wrong).await;
    assert!(t.contains("<string>AccessDenied</string>"), "legacy: {t}");
    let unknown = xml_call(
        "execute_kw",
        &[
            &s(&c.database),
            "<int>2</int>",
            &s(&c.api_key),
            &s("no.such.model"),
            &s("search"),
            "<array><data><value><array><data></data></array></value></data></array>",
        ],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", unknown.clone()).await;
    assert!(
        t.contains("<int>2</int>") && t.contains("Object no.such.model doesn't exist"),
        "{t}"
    );
    let t = xml(&o.sb, "/xmlrpc/object", unknown).await;
    assert!(
        t.contains("warning -- UserError\n\nObject no.such.model"),
        "{t}"
    );
    // Fault 1 with a traceback ending in `ValueError: ...`.
    let badfield = xml_call(
        "execute_kw",
        &[&s(&c.database), "<int>2</int>", &s(&c.api_key), &s("res.partner"), &s("read"),
          "<array><data><value><array><data><value><int>1</int></value></data></array></value></data></array>",
          "<struct><member><name>fields</name><value><array><data><value><string>nosuch</string></value></data></array></value></member></struct>"],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", badfield).await;
    assert!(
        t.contains("<int>1</int>")
            && t.contains("Traceback")
            && t.contains("ValueError: Invalid field 'nosuch' on model 'res.partner'\n"),
        "{t}"
    );
    // A None result is a Fault 1 over XML-RPC, but the method ran [§3].
    let before = o
        .read1("sale.order", 1, json!(["write_date", "locked"]))
        .await;
    o.sb.advance_clock(5);
    let lock = xml_call(
        "execute_kw",
        &[&s(&c.database), "<int>2</int>", &s(&c.api_key), &s("sale.order"), &s("action_lock"),
          "<array><data><value><array><data><value><int>1</int></value></data></array></value></data></array>"],
    );
    let t = xml(&o.sb, "/xmlrpc/2/object", lock).await;
    assert!(
        t.contains("TypeError: cannot marshal None unless allow_none is enabled"),
        "{t}"
    );
    let after = o
        .read1("sale.order", 1, json!(["write_date", "locked"]))
        .await;
    assert_eq!(before["locked"], false);
    assert_eq!(after["locked"], true);
    assert_ne!(before["write_date"], after["write_date"]);
}
