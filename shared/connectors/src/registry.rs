//! The vendors Puente knows, one line each. Everything else about a vendor — its settings,
//! defaults, secrets, entities, id syntax, webhooks and rate-limit headers — lives in its
//! folder behind [`Vendor`]; the runtime, the Lambda functions and the CLI only iterate this
//! list. Adding a vendor is one folder, its sandbox, its default mapping and one line here.

use crate::config::{ConfigError, ConnectionSpec, SideSettings};
use crate::Connector;
use puente_core::Kind;
use std::sync::Arc;

/// What the platform needs to know about a vendor before it has a connection to it.
pub trait Vendor: Send + Sync {
    /// The `type` of its connections (`clientify`).
    fn name(&self) -> &'static str;

    /// The entities its connector syncs.
    fn entities(&self) -> &'static [Kind];

    /// Whether Puente can write `kind` to this vendor. An entity a side can only be read
    /// from flows one way, from that side (ODO-4: Odoo orders → Clientify).
    fn writable(&self, _kind: Kind) -> bool {
        true
    }

    /// The keys of its section that hold secrets (each may be given as `{key}_env`): the
    /// AWS tenant store moves them to Secrets Manager.
    fn secret_keys(&self) -> &'static [&'static str];

    /// Checks a `[connections.NAME]` section without reading its secrets (config load).
    fn validate(&self, spec: &ConnectionSpec<'_>) -> Result<(), ConfigError>;

    /// Builds the connector of a section (secrets read here) for a flow that asks `side`
    /// of it (marks, mapping adjustments, options; the default for none). A vendor that
    /// takes options checks them here, naming `flows[…].options.NAME.key` on error.
    fn build(
        &self,
        spec: &ConnectionSpec<'_>,
        side: &SideSettings,
    ) -> Result<Arc<dyn Connector>, ConfigError>;

    /// How its webhooks reach Puente, if it sends any: `Manual` vendors need the URL pasted
    /// into their UI (the CLI prints it), `Api` vendors are subscribed on activation.
    fn webhooks(&self) -> Option<crate::WebhookSetup> {
        None
    }

    /// Its default mapping, the `mapping.toml` beside its connector (see
    /// [`crate::kit::defaults`]); empty for a vendor whose mapping is not described yet.
    fn default_mapping(&self) -> &'static str {
        ""
    }
}

/// Every vendor, one line each.
pub static VENDORS: &[&dyn Vendor] = &[
    &crate::clientify::VENDOR,
    &crate::alegra::VENDOR,
    &crate::odoo::VENDOR,
    &crate::ccv::VENDOR,
    &crate::economic::VENDOR,
    &crate::eaccounting::VENDOR,
    &crate::shopify::VENDOR,
    &crate::woocommerce::VENDOR,
    &crate::roapp::VENDOR,
    &crate::cartum::VENDOR,
];

/// What a flow between two vendors adds to their defaults (marks, fields, mapping
/// adjustments, rules), as TOML: the existing flows are presets of the general engine.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    pub vendors: [&'static str; 2],
    pub toml: &'static str,
}

/// Every flow preset, one line each.
pub static PRESETS: &[Preset] = &[
    Preset {
        vendors: ["clientify", "alegra"],
        toml: include_str!("../presets/clientify-alegra.toml"),
    },
    Preset {
        vendors: ["clientify", "odoo"],
        toml: include_str!("../presets/clientify-odoo.toml"),
    },
    Preset {
        vendors: ["ccv", "economic"],
        toml: include_str!("../presets/ccv-economic.toml"),
    },
    Preset {
        vendors: ["ccv", "eaccounting"],
        toml: include_str!("../presets/ccv-eaccounting.toml"),
    },
    Preset {
        vendors: ["shopify", "roapp"],
        toml: include_str!("../presets/shopify-roapp.toml"),
    },
    Preset {
        vendors: ["woocommerce", "roapp"],
        toml: include_str!("../presets/woocommerce-roapp.toml"),
    },
    Preset {
        vendors: ["cartum", "roapp"],
        toml: include_str!("../presets/cartum-roapp.toml"),
    },
];

/// A preset's `[demo]` section: what `puente serve --demo NAME` runs on the two vendors'
/// sandboxes (NAME is the preset's name, `a-b`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demo {
    /// One line on what the demo shows.
    pub about: String,
    /// The entities the demo flow syncs.
    pub entities: Vec<String>,
    /// What to try once it runs; `{vendor.key}` is replaced by that sandbox's setting
    /// (`{alegra.base_url}`).
    #[serde(default)]
    pub try_it: String,
}

impl Preset {
    /// The preset's name: its two vendors, `a-b`.
    pub fn name(&self) -> String {
        format!("{}-{}", self.vendors[0], self.vendors[1])
    }

    /// Its `[demo]` section, if it has one.
    pub fn demo(&self) -> Option<Demo> {
        #[derive(serde::Deserialize)]
        struct Doc {
            demo: Option<Demo>,
        }
        toml::from_str::<Doc>(self.toml)
            .unwrap_or_else(|e| panic!("preset {}: {e}", self.name()))
            .demo
    }
}

/// The presets that carry a demo, in [`PRESETS`] order (the first is the default demo).
pub fn demos() -> Vec<(&'static Preset, Demo)> {
    PRESETS
        .iter()
        .filter_map(|p| p.demo().map(|d| (p, d)))
        .collect()
}

/// The preset of a flow between vendors `a` and `b` (either order).
pub fn preset(a: &str, b: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| {
        (p.vendors[0] == a && p.vendors[1] == b) || (p.vendors[0] == b && p.vendors[1] == a)
    })
}

/// The vendor of a connection `type`.
pub fn vendor(name: &str) -> Option<&'static dyn Vendor> {
    VENDORS.iter().copied().find(|v| v.name() == name)
}

/// The known connection types, for messages.
pub fn names() -> Vec<&'static str> {
    VENDORS.iter().map(|v| v.name()).collect()
}

/// Every key that may hold a secret in some vendor's section, plus the server's.
pub fn secret_keys() -> Vec<&'static str> {
    let mut out = vec!["webhook_secret"];
    for v in VENDORS {
        for k in v.secret_keys() {
            if !out.contains(k) {
                out.push(k);
            }
        }
    }
    out
}
