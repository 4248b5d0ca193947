//! Fields and models as `fields_get` describes them, with the attributes that decide what a
//! domain, an `order` or a write may use.

use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    Char,
    Text,
    Html,
    Integer,
    Float,
    Monetary,
    Boolean,
    Selection,
    Many2one,
    One2many,
    Many2many,
    Date,
    Datetime,
}

impl Ty {
    pub(super) fn name(self) -> &'static str {
        match self {
            Ty::Char => "char",
            Ty::Text => "text",
            Ty::Html => "html",
            Ty::Integer => "integer",
            Ty::Float => "float",
            Ty::Monetary => "monetary",
            Ty::Boolean => "boolean",
            Ty::Selection => "selection",
            Ty::Many2one => "many2one",
            Ty::One2many => "one2many",
            Ty::Many2many => "many2many",
            Ty::Date => "date",
            Ty::Datetime => "datetime",
        }
    }
    pub(super) fn relational(self) -> bool {
        matches!(self, Ty::Many2one | Ty::One2many | Ty::Many2many)
    }
    pub(super) fn x2many(self) -> bool {
        matches!(self, Ty::One2many | Ty::Many2many)
    }
    pub(super) fn stringy(self) -> bool {
        matches!(self, Ty::Char | Ty::Text | Ty::Html | Ty::Selection)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) ty: Ty,
    pub(super) string: &'static str,
    pub(super) relation: Option<&'static str>,
    /// One2many: the inverse many2one on the comodel.
    pub(super) inverse: Option<&'static str>,
    pub(super) required: bool,
    /// The `readonly` attribute (a UI hint: stored fields stay writable).
    pub(super) readonly: bool,
    pub(super) store: bool,
    /// Usable in a domain (stored, related, or with a search method).
    pub(super) searchable: bool,
    /// Usable in `order` (stored or inherited through `_inherits`).
    pub(super) sortable: bool,
    /// Values written through the API are kept (plain or with an inverse).
    pub(super) writable: bool,
    pub(super) selection: Vec<(&'static str, &'static str)>,
}

pub(super) fn fld(name: &'static str, ty: Ty, string: &'static str) -> Field {
    Field {
        name,
        ty,
        string,
        relation: None,
        inverse: None,
        required: false,
        readonly: false,
        store: !ty.x2many() || ty == Ty::Many2many,
        searchable: true,
        sortable: !ty.x2many(),
        writable: true,
        selection: Vec::new(),
    }
}

impl Field {
    pub(super) fn rel(mut self, model: &'static str) -> Self {
        self.relation = Some(model);
        self
    }
    pub(super) fn o2m(mut self, model: &'static str, inverse: &'static str) -> Self {
        self.relation = Some(model);
        self.inverse = Some(inverse);
        self.store = false;
        self
    }
    pub(super) fn req(mut self) -> Self {
        self.required = true;
        self
    }
    pub(super) fn ro(mut self) -> Self {
        self.readonly = true;
        self
    }
    /// Stored computed field without inverse: writes are ignored.
    pub(super) fn computed(mut self) -> Self {
        self.readonly = true;
        self.writable = false;
        self
    }
    /// Computed, not stored, no search method: readable only.
    pub(super) fn ns(mut self) -> Self {
        self.readonly = true;
        self.writable = false;
        self.store = false;
        self.searchable = false;
        self.sortable = false;
        self
    }
    /// Computed, not stored, with a search method.
    pub(super) fn ns_search(mut self) -> Self {
        self = self.ns();
        self.searchable = true;
        self
    }
    /// Computed, not stored, with an inverse (writable, not searchable).
    pub(super) fn ns_inverse(mut self) -> Self {
        self = self.ns();
        self.readonly = false;
        self.writable = true;
        self
    }
    /// Field of `product.template` seen on `product.product` (`_inherits`):
    /// not stored on the variant, searchable, sortable, writable.
    pub(super) fn inherited(mut self) -> Self {
        self.store = false;
        self.searchable = true;
        self.sortable = !self.ty.x2many();
        self
    }
    pub(super) fn sel(mut self, s: &[(&'static str, &'static str)]) -> Self {
        self.selection = s.to_vec();
        self
    }
}

pub(super) struct Model {
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    /// Default `_order`.
    pub(super) order: &'static str,
    /// Fields searched by `name_search` and by a string on a relational leaf.
    pub(super) rec_names: Vec<&'static str>,
    pub(super) fields: Vec<Field>,
}

impl Model {
    pub(super) fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    pub(super) fn has(&self, name: &str) -> bool {
        self.field(name).is_some()
    }
}

pub(super) struct Schema {
    pub(super) version: u8,
    pub(super) sale_stock: bool,
    pub(super) models: BTreeMap<&'static str, Model>,
}

pub(super) const PARTNER_TYPES_16: [(&str, &str); 5] = [
    ("contact", "Contact"),
    ("invoice", "Invoice Address"),
    ("delivery", "Delivery Address"),
    ("other", "Other Address"),
    ("private", "Private Address"),
];

/// Address fields a `type=contact` child shares with its parent [src
/// `res.partner._address_fields`].
pub(super) const ADDRESS_FIELDS: [&str; 6] =
    ["street", "street2", "zip", "city", "state_id", "country_id"];

pub(super) fn model(
    version: u8,
    name: &'static str,
    description: &'static str,
    order: &'static str,
    rec_names: &[&'static str],
    mut fields: Vec<Field>,
) -> Model {
    use Ty::*;
    // display_name: 16 stores it on res.partner only; 17 computes it with no
    // search method (a domain on it is dropped); 18 searches it [§5].
    let display = fld("display_name", Char, "Display Name");
    let display = if version == 16 && name == "res.partner" {
        display.computed()
    } else if version >= 18 {
        display.ns_search()
    } else {
        display.ns()
    };
    let mut magic = vec![fld("id", Integer, "ID").computed(), display];
    magic.append(&mut fields);
    magic.push(
        fld("create_uid", Many2one, "Created by")
            .rel("res.users")
            .computed(),
    );
    magic.push(fld("create_date", Datetime, "Created on").computed());
    magic.push(
        fld("write_uid", Many2one, "Last Updated by")
            .rel("res.users")
            .computed(),
    );
    magic.push(fld("write_date", Datetime, "Last Updated on").computed());
    if version == 16 {
        magic.push(fld("__last_update", Datetime, "Last Modified on").ns());
    }
    Model {
        name,
        description,
        order,
        rec_names: rec_names.to_vec(),
        fields: magic,
    }
}
