//! Tables the commerce generator draws from: Dutch, Danish and Swedish names, cities and
//! company names, and the shop's catalogue (a Dutch coffee and kitchenware web shop).

/// A city with the country's postal code shape.
pub(super) struct Town {
    pub(super) name: &'static str,
    /// First digits of its postal codes.
    pub(super) zip: &'static str,
}

const fn town(name: &'static str, zip: &'static str) -> Town {
    Town { name, zip }
}

pub(super) const NL_TOWNS: [Town; 10] = [
    town("Amsterdam", "10"),
    town("Rotterdam", "30"),
    town("Utrecht", "35"),
    town("Den Haag", "25"),
    town("Eindhoven", "56"),
    town("Groningen", "97"),
    town("Haarlem", "20"),
    town("Zwolle", "80"),
    town("Maastricht", "62"),
    town("Leiden", "23"),
];

pub(super) const DK_TOWNS: [Town; 6] = [
    town("København K", "1"),
    town("Aarhus C", "8"),
    town("Odense C", "5"),
    town("Aalborg", "9"),
    town("Esbjerg", "67"),
    town("Roskilde", "40"),
];

pub(super) const SE_TOWNS: [Town; 6] = [
    town("Stockholm", "11"),
    town("Göteborg", "41"),
    town("Malmö", "21"),
    town("Uppsala", "75"),
    town("Västerås", "72"),
    town("Örebro", "70"),
];

pub(super) const NL_FIRST: [&str; 16] = [
    "Anne", "Daan", "Sanne", "Thijs", "Lotte", "Bram", "Femke", "Joost", "Eva", "Sem", "Noor",
    "Ruben", "Iris", "Jeroen", "Marieke", "Wouter",
];
pub(super) const NL_LAST: [&str; 16] = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Dijk",
    "Dekker",
];
pub(super) const DK_FIRST: [&str; 10] = [
    "Mette", "Søren", "Freja", "Mads", "Ida", "Rasmus", "Camilla", "Jens", "Line", "Anders",
];
pub(super) const DK_LAST: [&str; 10] = [
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
];
pub(super) const SE_FIRST: [&str; 10] = [
    "Anna", "Erik", "Maja", "Lars", "Elin", "Johan", "Sofia", "Karl", "Linnea", "Oskar",
];
pub(super) const SE_LAST: [&str; 10] = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Lindqvist",
];

pub(super) const NL_STREETS: [&str; 8] = [
    "Dorpsstraat",
    "Kerkstraat",
    "Prinsengracht",
    "Stationsweg",
    "Molenweg",
    "Wilhelminalaan",
    "Oudegracht",
    "Marktplein",
];
pub(super) const DK_STREETS: [&str; 6] = [
    "Nørregade",
    "Vestergade",
    "Strøget",
    "Algade",
    "Søndergade",
    "Havnegade",
];
pub(super) const SE_STREETS: [&str; 6] = [
    "Storgatan",
    "Drottninggatan",
    "Kungsgatan",
    "Vasagatan",
    "Sveavägen",
    "Östra Hamngatan",
];

/// Company names per country; the legal form is part of the name.
pub(super) const NL_COMPANIES: [&str; 10] = [
    "Bakkerij De Gouden Korenaar B.V.",
    "Koffiebar Het Hoekje",
    "Lunchroom De Zoete Inval V.O.F.",
    "Van der Meer Horeca B.V.",
    "Kantoorpunt Utrecht B.V.",
    "Hotel De Wittenburg B.V.",
    "Brasserie Aan Het Water",
    "Groothandel Smit & Zn. B.V.",
    "Café De Kroon",
    "Studio Noord B.V.",
];
pub(super) const DK_COMPANIES: [&str; 6] = [
    "Nørrebro Kaffebar ApS",
    "Hansen & Søn A/S",
    "Café Havnen I/S",
    "Kontorhuset Aarhus ApS",
    "Bageriet Vestergade ApS",
    "Restaurant Fjord A/S",
];
pub(super) const SE_COMPANIES: [&str; 6] = [
    "Kaffekompaniet Söder AB",
    "Café Linnéa AB",
    "Konditori Storgatan HB",
    "Kontorsservice Göteborg AB",
    "Restaurang Sjöbris AB",
    "Bageri Östermalm AB",
];

/// Mail domains of private customers per country.
pub(super) const NL_MAIL: [&str; 4] = ["ziggo.nl", "kpnmail.nl", "gmail.com", "hotmail.nl"];
pub(super) const DK_MAIL: [&str; 3] = ["gmail.com", "mail.dk", "outlook.dk"];
pub(super) const SE_MAIL: [&str; 3] = ["gmail.com", "telia.com", "outlook.se"];

/// VAT class of a product (NL rates: 21 %, 9 %, 0 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VatClass {
    /// 21 % in NL, 25 % in DK and SE.
    High,
    /// 9 % in NL (food), 25 % in DK, 12 % in SE.
    Low,
    /// 0 % (gift cards).
    Zero,
}

/// One catalogue line: category index, name, short description, base price in EUR excl. VAT.
pub(super) struct Line {
    pub(super) category: usize,
    pub(super) name: &'static str,
    pub(super) short: &'static str,
    pub(super) price: f64,
    pub(super) vat: VatClass,
}

const fn line(
    category: usize,
    name: &'static str,
    short: &'static str,
    price: f64,
    vat: VatClass,
) -> Line {
    Line {
        category,
        name,
        short,
        price,
        vat,
    }
}

/// Shop categories: `(name, parent index)`; "Bonen" and "Gemalen" sit under "Koffie".
pub const CATEGORIES: [(&str, Option<usize>); 7] = [
    ("Koffie", None),
    ("Bonen", Some(0)),
    ("Gemalen", Some(0)),
    ("Thee", None),
    ("Servies", None),
    ("Apparatuur", None),
    ("Cadeaubonnen", None),
];

use VatClass::{High, Low, Zero};

/// The catalogue the products are drawn from (cycled; a second round gets a variant suffix).
pub(super) const CATALOGUE: [Line; 24] = [
    line(
        1,
        "Koffiebonen Ethiopië Yirgacheffe 1 kg",
        "Bloemig, citrus, licht gebrand",
        24.50,
        Low,
    ),
    line(
        1,
        "Koffiebonen Colombia Supremo 500 g",
        "Chocolade en karamel",
        11.95,
        Low,
    ),
    line(
        1,
        "Koffiebonen Brazil Santos 1 kg",
        "Nootachtig, laag zuur",
        19.75,
        Low,
    ),
    line(
        1,
        "Espressobonen Huisblend 1 kg",
        "Krachtig, voor espresso",
        21.00,
        Low,
    ),
    line(
        2,
        "Filterkoffie Gemalen 250 g",
        "Medium maling voor filter",
        5.45,
        Low,
    ),
    line(2, "Decafé Gemalen 250 g", "Cafeïnevrij, zacht", 6.25, Low),
    line(
        3,
        "Groene Thee Sencha 100 g",
        "Japanse losse thee",
        8.95,
        Low,
    ),
    line(3, "Earl Grey Losse Thee 100 g", "Met bergamot", 6.50, Low),
    line(3, "Rooibos Vanille 100 g", "Cafeïnevrij", 5.95, Low),
    line(
        4,
        "Espressokopje Porselein (set van 4)",
        "Wit porselein, 80 ml",
        18.50,
        High,
    ),
    line(
        4,
        "Cappuccinokop met Schotel",
        "Steengoed, 200 ml",
        9.95,
        High,
    ),
    line(4, "Theepot Gietijzer 0,8 l", "Met RVS filter", 34.95, High),
    line(
        4,
        "Latte Macchiato Glas (set van 2)",
        "Dubbelwandig, 300 ml",
        14.95,
        High,
    ),
    line(5, "Handmolen Keramisch", "Instelbare maling", 39.00, High),
    line(5, "Pour-over Dripper V60", "Keramiek, maat 02", 22.50, High),
    line(
        5,
        "Melkopschuimer Elektrisch",
        "Warm en koud schuim",
        49.95,
        High,
    ),
    line(
        5,
        "Waterkoker Zwanenhals 1 l",
        "Temperatuurregeling",
        69.00,
        High,
    ),
    line(
        5,
        "Espressomachine Compact",
        "15 bar, met stoompijpje",
        289.00,
        High,
    ),
    line(
        5,
        "Koffieweegschaal met Timer",
        "0,1 g nauwkeurig",
        29.95,
        High,
    ),
    line(5, "French Press 1 l", "Borosilicaatglas", 27.50, High),
    line(6, "Cadeaubon 25 euro", "Digitaal te besteden", 25.00, Zero),
    line(6, "Cadeaubon 50 euro", "Digitaal te besteden", 50.00, Zero),
    line(
        4,
        "Koffiefilters Papier (100 st.)",
        "Maat 1x4, ongebleekt",
        3.25,
        High,
    ),
    line(
        3,
        "Theeglas Marokkaans (set van 6)",
        "Met gouden rand",
        19.95,
        High,
    ),
];

/// The catalogue's SKU prefix per category.
pub(super) const SKU_PREFIX: [&str; 7] = ["KOF", "BON", "GEM", "THE", "SRV", "APP", "CAD"];
