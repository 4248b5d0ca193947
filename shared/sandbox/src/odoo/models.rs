//! The modelled models of one Odoo version (16, 17 or 18, with or without `sale_stock`).

use std::collections::BTreeMap;

use super::schema::{fld, model, Field, Model, Schema, Ty, PARTNER_TYPES_16};

pub(super) fn build_schema(version: u8, sale_stock: bool) -> Schema {
    use Ty::*;
    let v16 = version == 16;
    let v18 = version >= 18;
    let mut models = BTreeMap::new();
    let mut add = |m: Model| {
        models.insert(m.name, m);
    };

    // ---------------------------------------------------------- res.partner
    let mut partner = vec![
        fld("name", Char, "Name"),
        fld("ref", Char, "Reference"),
        fld("vat", Char, "Tax ID"),
        fld("email", Char, "Email"),
        fld("phone", Char, "Phone"),
        // Present through 18.0, removed in 19 [§5].
        fld("mobile", Char, "Mobile"),
        fld("website", Char, "Website Link"),
        fld("function", Char, "Job Position"),
        fld("street", Char, "Street"),
        fld("street2", Char, "Street2"),
        fld("zip", Char, "Zip"),
        fld("city", Char, "City"),
        fld("state_id", Many2one, "State").rel("res.country.state"),
        fld("country_id", Many2one, "Country").rel("res.country"),
        fld("is_company", Boolean, "Is a Company"),
        fld("company_type", Selection, "Company Type")
            .ns_inverse()
            .sel(&[("person", "Individual"), ("company", "Company")]),
        fld("type", Selection, "Address Type").sel(if v16 {
            &PARTNER_TYPES_16[..]
        } else {
            &PARTNER_TYPES_16[..4]
        }),
        fld("parent_id", Many2one, "Related Company").rel("res.partner"),
        fld("child_ids", One2many, "Contact").o2m("res.partner", "parent_id"),
        fld("commercial_partner_id", Many2one, "Commercial Entity")
            .rel("res.partner")
            .computed(),
        fld("active", Boolean, "Active"),
        fld("company_id", Many2one, "Company").rel("res.company"),
        fld("user_id", Many2one, "Salesperson").rel("res.users"),
        fld("lang", Selection, "Language").sel(&[("en_US", "English (US)")]),
        fld("comment", Html, "Notes"),
    ];
    if !v16 {
        partner.insert(1, fld("complete_name", Char, "Complete Name").computed());
    }
    let partner_order = if v16 {
        "display_name ASC, id DESC"
    } else {
        "complete_name ASC, id DESC"
    };
    let partner_names: &[&str] = if v16 {
        &["display_name", "email", "ref", "vat"]
    } else {
        &["complete_name", "email", "ref", "vat"]
    };
    add(model(
        version,
        "res.partner",
        "Contact",
        partner_order,
        partner_names,
        partner,
    ));

    // ------------------------------------------------------------ products
    let type_sel: Vec<(&str, &str)> = if v18 {
        vec![
            ("consu", "Goods"),
            ("service", "Service"),
            ("combo", "Combo"),
        ]
    } else if sale_stock {
        vec![
            ("consu", "Consumable"),
            ("service", "Service"),
            ("product", "Storable Product"),
        ]
    } else {
        vec![("consu", "Consumable"), ("service", "Service")]
    };
    // Template fields, also seen on the variant through `_inherits`.
    let mut tmpl_shared = vec![
        fld("name", Char, "Name").req(),
        fld("list_price", Float, "Sales Price"),
        fld("taxes_id", Many2many, "Customer Taxes").rel("account.tax"),
        fld("uom_id", Many2one, "Unit of Measure")
            .rel("uom.uom")
            .req(),
        fld("sale_ok", Boolean, "Can be Sold"),
        fld("purchase_ok", Boolean, "Can be Purchased"),
        fld("description_sale", Text, "Sales Description"),
        fld("invoice_policy", Selection, "Invoicing Policy").sel(&[
            ("order", "Ordered quantities"),
            ("delivery", "Delivered quantities"),
        ]),
    ];
    if v18 {
        tmpl_shared.push(fld("type", Selection, "Product Type").req().sel(&type_sel));
        if sale_stock {
            tmpl_shared.push(fld("is_storable", Boolean, "Track Inventory"));
        }
    } else {
        // 15/16/17: detailed_type is the input, type follows it [§5].
        tmpl_shared.push(
            fld("detailed_type", Selection, "Product Type")
                .req()
                .sel(&type_sel),
        );
        tmpl_shared.push(fld("type", Selection, "Type").sel(&type_sel));
    }
    let mut tmpl = tmpl_shared.clone();
    tmpl.extend([
        fld("default_code", Char, "Internal Reference"),
        fld("barcode", Char, "Barcode").ns_search(),
        fld("active", Boolean, "Active"),
        fld("product_variant_ids", One2many, "Products").o2m("product.product", "product_tmpl_id"),
        fld("product_variant_id", Many2one, "Product")
            .rel("product.product")
            .ns(),
        fld("product_variant_count", Integer, "# Product Variants").ns(),
        fld("currency_id", Many2one, "Currency")
            .rel("res.currency")
            .ns(),
        fld("company_id", Many2one, "Company").rel("res.company"),
    ]);
    add(model(
        version,
        "product.template",
        "Product",
        "name, id",
        &["name", "default_code"],
        tmpl,
    ));
    let mut variant = vec![
        fld("product_tmpl_id", Many2one, "Product Template")
            .rel("product.template")
            .req(),
        fld("default_code", Char, "Internal Reference"),
        fld("barcode", Char, "Barcode"),
        fld("active", Boolean, "Active"),
        fld("lst_price", Float, "Sales Price").ns_inverse(),
        fld("price_extra", Float, "Variant Price Extra").ns(),
    ];
    variant.extend(tmpl_shared.into_iter().map(Field::inherited));
    variant.push(
        fld("currency_id", Many2one, "Currency")
            .rel("res.currency")
            .ns(),
    );
    add(model(
        version,
        "product.product",
        "Product Variant",
        "default_code, name, id",
        &["default_code", "name", "barcode"],
        variant,
    ));

    // ---------------------------------------------------------- sale.order
    let states: Vec<(&str, &str)> = if v16 {
        vec![
            ("draft", "Quotation"),
            ("sent", "Quotation Sent"),
            ("sale", "Sales Order"),
            ("done", "Locked"),
            ("cancel", "Cancelled"),
        ]
    } else {
        vec![
            ("draft", "Quotation"),
            ("sent", "Quotation Sent"),
            ("sale", "Sales Order"),
            ("cancel", "Cancelled"),
        ]
    };
    let mut order = vec![
        fld("name", Char, "Order Reference").req(),
        fld("partner_id", Many2one, "Customer")
            .rel("res.partner")
            .req(),
        fld("partner_invoice_id", Many2one, "Invoice Address")
            .rel("res.partner")
            .req(),
        fld("partner_shipping_id", Many2one, "Delivery Address")
            .rel("res.partner")
            .req(),
        fld("date_order", Datetime, "Order Date").req(),
        fld("validity_date", Date, "Expiration"),
        fld("commitment_date", Datetime, "Delivery Date"),
        fld("client_order_ref", Char, "Customer Reference"),
        fld("origin", Char, "Source Document"),
        fld("note", Html, "Terms and conditions"),
        fld("state", Selection, "Status").ro().sel(&states),
        {
            let p = fld("pricelist_id", Many2one, "Pricelist").rel("product.pricelist");
            if v16 {
                p.req()
            } else {
                p
            }
        },
        fld("currency_id", Many2one, "Currency")
            .rel("res.currency")
            .computed(),
        fld("order_line", One2many, "Order Lines").o2m("sale.order.line", "order_id"),
        fld("amount_untaxed", Monetary, "Untaxed Amount").computed(),
        fld("amount_tax", Monetary, "Taxes").computed(),
        fld("amount_total", Monetary, "Total").computed(),
        fld("invoice_status", Selection, "Invoice Status")
            .computed()
            .sel(&[
                ("upselling", "Upselling Opportunity"),
                ("invoiced", "Fully Invoiced"),
                ("to invoice", "To Invoice"),
                ("no", "Nothing to Invoice"),
            ]),
        fld("user_id", Many2one, "Salesperson").rel("res.users"),
        fld("company_id", Many2one, "Company")
            .rel("res.company")
            .req(),
    ];
    if !v16 {
        order.push(fld("locked", Boolean, "Locked").ro());
    }
    if sale_stock {
        order.push(
            fld("delivery_status", Selection, "Delivery Status")
                .computed()
                .sel(&[
                    ("pending", "Not Delivered"),
                    ("started", "Started"),
                    ("partial", "Partially Delivered"),
                    ("full", "Fully Delivered"),
                ]),
        );
    }
    add(model(
        version,
        "sale.order",
        "Sales Order",
        "date_order desc, id desc",
        &["name"],
        order,
    ));

    let mut methods = vec![("manual", "Manual"), ("analytic", "Analytic From Expenses")];
    if sale_stock {
        methods.push(("stock_move", "Stock Moves"));
    }
    let mut line = vec![
        fld("order_id", Many2one, "Order Reference")
            .rel("sale.order")
            .req(),
        fld("sequence", Integer, "Sequence"),
        fld("display_type", Selection, "Display Type")
            .sel(&[("line_section", "Section"), ("line_note", "Note")]),
        fld("product_id", Many2one, "Product").rel("product.product"),
        fld("name", Text, "Description").req(),
        fld("product_uom_qty", Float, "Quantity").req(),
        fld("product_uom", Many2one, "Unit of Measure").rel("uom.uom"),
        fld("price_unit", Float, "Unit Price").req(),
        fld("discount", Float, "Discount (%)"),
        fld("tax_id", Many2many, "Taxes").rel("account.tax"),
        fld("price_subtotal", Monetary, "Subtotal").computed(),
        fld("price_tax", Float, "Total Tax").computed(),
        fld("price_total", Monetary, "Total").computed(),
        fld("qty_delivered", Float, "Delivery Quantity"),
        fld(
            "qty_delivered_method",
            Selection,
            "Method to update delivered qty",
        )
        .computed()
        .sel(&methods),
        fld("qty_invoiced", Float, "Invoiced Quantity").computed(),
        fld("qty_to_invoice", Float, "Quantity To Invoice").computed(),
        fld("state", Selection, "Order Status")
            .computed()
            .sel(&states),
        fld("currency_id", Many2one, "Currency")
            .rel("res.currency")
            .computed(),
        fld("order_partner_id", Many2one, "Customer")
            .rel("res.partner")
            .computed(),
        fld("company_id", Many2one, "Company")
            .rel("res.company")
            .computed(),
    ];
    if v18 {
        line.push(fld("technical_price_unit", Float, "Technical Price Unit"));
    }
    if sale_stock {
        // Only with sale_stock, in every version [§5].
        line.push(fld("qty_to_deliver", Float, "Qty To Deliver").ns());
    }
    add(model(
        version,
        "sale.order.line",
        "Sales Order Line",
        "order_id, sequence, id",
        &["name"],
        line,
    ));

    // ----------------------------------------------------- reference data
    add(model(
        version,
        "res.country",
        "Country",
        "name, id",
        &["name", "code"],
        vec![
            fld("name", Char, "Country Name").req(),
            fld("code", Char, "Country Code"),
            fld("currency_id", Many2one, "Currency").rel("res.currency"),
            fld("phone_code", Integer, "Country Calling Code"),
        ],
    ));
    add(model(
        version,
        "res.country.state",
        "Country state",
        "code, id",
        &["name", "code"],
        vec![
            fld("name", Char, "State Name").req(),
            fld("code", Char, "State Code").req(),
            fld("country_id", Many2one, "Country")
                .rel("res.country")
                .req(),
        ],
    ));
    add(model(
        version,
        "res.currency",
        "Currency",
        "active desc, name, id",
        &["name"],
        vec![
            fld("name", Char, "Currency").req(),
            fld("symbol", Char, "Symbol").req(),
            fld("rounding", Float, "Rounding Factor"),
            fld("decimal_places", Integer, "Decimal Places").ns(),
            fld("position", Selection, "Symbol Position")
                .sel(&[("after", "After Amount"), ("before", "Before Amount")]),
            fld("active", Boolean, "Active"),
        ],
    ));
    add(model(
        version,
        "product.pricelist",
        "Pricelist",
        "id",
        &["name"],
        vec![
            fld("name", Char, "Pricelist Name").req(),
            fld("currency_id", Many2one, "Currency")
                .rel("res.currency")
                .req(),
            fld("active", Boolean, "Active"),
            fld("company_id", Many2one, "Company").rel("res.company"),
        ],
    ));
    let mut tax = vec![
        fld("name", Char, "Tax Name").req(),
        fld("amount", Float, "Amount"),
        fld("amount_type", Selection, "Tax Computation")
            .req()
            .sel(&[
                ("group", "Group of Taxes"),
                ("fixed", "Fixed"),
                ("percent", "Percentage of Price"),
                ("division", "Percentage of Price Tax Included"),
            ]),
        fld("type_tax_use", Selection, "Tax Type").req().sel(&[
            ("sale", "Sales"),
            ("purchase", "Purchases"),
            ("none", "None"),
        ]),
        fld("active", Boolean, "Active"),
        fld("company_id", Many2one, "Company")
            .rel("res.company")
            .req(),
    ];
    if v18 {
        // 18: price_include is computed from price_include_override [§5].
        tax.push(fld("price_include", Boolean, "Included in Price").ns());
        tax.push(
            fld(
                "price_include_override",
                Selection,
                "Included in Price (override)",
            )
            .sel(&[
                ("tax_included", "Tax Included"),
                ("tax_excluded", "Tax Excluded"),
            ]),
        );
    } else {
        tax.push(fld("price_include", Boolean, "Included in Price"));
    }
    add(model(version, "account.tax", "Tax", "id", &["name"], tax));
    add(model(
        version,
        "uom.uom",
        "Product Unit of Measure",
        "name, id",
        &["name"],
        vec![
            fld("name", Char, "Unit of Measure").req(),
            fld("factor", Float, "Ratio"),
            fld("active", Boolean, "Active"),
        ],
    ));
    add(model(
        version,
        "res.users",
        "User",
        "name, login, id",
        &["name", "login"],
        vec![
            fld("name", Char, "Name"),
            fld("login", Char, "Login").req(),
            fld("partner_id", Many2one, "Related Partner")
                .rel("res.partner")
                .req(),
            fld("active", Boolean, "Active"),
            fld("company_id", Many2one, "Company").rel("res.company"),
        ],
    ));
    add(model(
        version,
        "res.company",
        "Companies",
        "name, id",
        &["name"],
        vec![
            fld("name", Char, "Company Name").req(),
            fld("partner_id", Many2one, "Partner")
                .rel("res.partner")
                .req(),
            fld("currency_id", Many2one, "Currency")
                .rel("res.currency")
                .req(),
            fld("country_id", Many2one, "Country").rel("res.country"),
        ],
    ));
    Schema {
        version,
        sale_stock,
        models,
    }
}
