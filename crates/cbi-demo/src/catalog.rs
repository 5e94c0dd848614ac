//! The fixed word lists and business parameters the generator draws from.
//!
//! Everything that makes the data *look* like a retailer lives here, apart from the logic: region
//! sizes, cities, names, the product catalogue with price ranges, margins, return rates and
//! seasonality. Changing anything here changes the generated data (see `DATA_VERSION`).

/// A region with its relative size and the cities its customers and stores are in (largest
/// city first; the first one also hosts the region's online store).
pub(crate) struct RegionSpec {
    pub name: &'static str,
    /// Share of customers, in percent.
    pub customer_weight: u64,
    /// Share of 2022 orders placed online, per mille; grows each year.
    pub online_permille: u64,
    pub cities: &'static [&'static str],
}

pub(crate) const REGIONS: [RegionSpec; 5] = [
    RegionSpec {
        name: "North",
        customer_weight: 18,
        online_permille: 300,
        cities: &[
            "Chicago",
            "Minneapolis",
            "Detroit",
            "Milwaukee",
            "Cleveland",
            "Madison",
            "Buffalo",
            "Fargo",
        ],
    },
    RegionSpec {
        name: "South",
        customer_weight: 21,
        online_permille: 250,
        cities: &[
            "Atlanta",
            "Houston",
            "Miami",
            "Nashville",
            "Charlotte",
            "New Orleans",
            "Tampa",
            "Birmingham",
        ],
    },
    RegionSpec {
        name: "East",
        customer_weight: 23,
        online_permille: 380,
        cities: &[
            "New York",
            "Boston",
            "Philadelphia",
            "Baltimore",
            "Pittsburgh",
            "Newark",
            "Providence",
            "Hartford",
        ],
    },
    RegionSpec {
        name: "West",
        customer_weight: 28,
        online_permille: 430,
        cities: &[
            "Los Angeles",
            "San Francisco",
            "Seattle",
            "San Diego",
            "Portland",
            "Denver",
            "Phoenix",
            "Las Vegas",
            "Sacramento",
            "Salt Lake City",
        ],
    },
    RegionSpec {
        name: "Central",
        customer_weight: 10,
        online_permille: 200,
        cities: &[
            "Kansas City",
            "St. Louis",
            "Omaha",
            "Oklahoma City",
            "Tulsa",
            "Wichita",
            "Little Rock",
        ],
    },
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sofia",
    "Mark",
    "Emily",
    "Kevin",
    "Maria",
    "Jason",
    "Olivia",
    "Wei",
    "Emma",
    "Ryan",
    "Aisha",
    "Jacob",
    "Hannah",
    "Luis",
    "Grace",
    "Noah",
    "Chloe",
    "Ethan",
    "Mia",
    "Omar",
    "Priya",
    "Liam",
    "Zoe",
    "Andre",
    "Renée",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Baker",
    "O'Brien",
    "O'Connor",
    "Kowalski",
    "Patel",
    "Chen",
    "Kim",
    "Müller",
    "Schmidt",
    "Rossi",
    "Núñez",
];

/// Domains reserved for examples (RFC 2606), so no generated address can reach anyone.
pub(crate) const EMAIL_DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];

/// A kind of product within a category, with its list-price range in whole dollars.
pub(crate) struct Noun {
    pub name: &'static str,
    pub min_dollars: u64,
    pub max_dollars: u64,
}

const fn noun(name: &'static str, min_dollars: u64, max_dollars: u64) -> Noun {
    Noun {
        name,
        min_dollars,
        max_dollars,
    }
}

/// Index into [`RETURN_REASONS`] weights: which department's reasons apply.
#[derive(Clone, Copy)]
pub(crate) enum ReasonProfile {
    Electronics,
    Home,
    Apparel,
    Outdoor,
}

/// A category of the catalogue: how its product names are built, what they cost, how often
/// they sell and come back, and when in the year they sell.
pub(crate) struct CategorySpec {
    pub name: &'static str,
    pub department: &'static str,
    pub brands: &'static [&'static str],
    /// Product lines, cheapest first: a product's line sets where in its noun's price range it
    /// falls.
    pub lines: &'static [&'static str],
    pub nouns: &'static [Noun],
    /// Unit cost as a share of the list price, per mille, lowest and highest.
    pub cost_permille: (u64, u64),
    /// Chance that a completed item comes back, per mille.
    pub return_permille: u64,
    /// Relative share of order lines.
    pub popularity: u64,
    /// Multiplier of the popularity per month (January first), in percent.
    pub season: [u64; 12],
    pub reasons: ReasonProfile,
}

const GIFTS: [u64; 12] = [90, 85, 90, 90, 95, 95, 95, 105, 100, 100, 140, 175];
const HOME: [u64; 12] = [115, 95, 100, 100, 100, 100, 100, 100, 100, 105, 110, 110];
const APPAREL: [u64; 12] = [90, 85, 100, 105, 105, 100, 95, 120, 115, 105, 100, 115];
const SUMMER: [u64; 12] = [45, 50, 75, 115, 150, 175, 180, 150, 100, 70, 55, 60];
const GARDEN: [u64; 12] = [30, 40, 90, 160, 190, 170, 140, 110, 80, 55, 35, 35];

pub(crate) const CATEGORIES: [CategorySpec; 12] = [
    CategorySpec {
        name: "Laptops",
        department: "Electronics",
        brands: &["Acme", "Voltix", "Northbyte", "Zenara"],
        lines: &["Go", "Flex", "Air", "Studio", "Pro"],
        nouns: &[
            noun("Laptop 13", 549, 1499),
            noun("Laptop 14", 649, 1899),
            noun("Laptop 15", 699, 1999),
            noun("Laptop 16", 899, 2499),
        ],
        cost_permille: (720, 830),
        return_permille: 40,
        popularity: 5,
        season: GIFTS,
        reasons: ReasonProfile::Electronics,
    },
    CategorySpec {
        name: "Phones",
        department: "Electronics",
        brands: &["Voltix", "Lumo", "Orbitel", "Acme"],
        lines: &["Lite", "Mini", "One", "Plus", "Max"],
        nouns: &[
            noun("Phone 128GB", 249, 899),
            noun("Phone 256GB", 349, 1099),
            noun("Phone 512GB", 549, 1399),
            noun("Phone Case", 15, 59),
        ],
        cost_permille: (680, 800),
        return_permille: 35,
        popularity: 7,
        season: GIFTS,
        reasons: ReasonProfile::Electronics,
    },
    CategorySpec {
        name: "Audio",
        department: "Electronics",
        brands: &["Sonora", "Acme", "Lumo", "Basswell"],
        lines: &["Go", "Echo", "Pulse", "Air", "Studio"],
        nouns: &[
            noun("Earbuds", 29, 249),
            noun("Headphones", 49, 399),
            noun("Speaker", 39, 299),
            noun("Soundbar", 149, 799),
        ],
        cost_permille: (600, 740),
        return_permille: 45,
        popularity: 10,
        season: GIFTS,
        reasons: ReasonProfile::Electronics,
    },
    CategorySpec {
        name: "Furniture",
        department: "Home",
        brands: &["Oakhaven", "Nordlys", "Casa Verde", "Hearth & Co"],
        lines: &["Linden", "Loft", "Harbor", "Modern", "Classic"],
        nouns: &[
            noun("Sofa", 599, 2499),
            noun("Armchair", 249, 999),
            noun("Dining Table", 299, 1499),
            noun("Bookshelf", 89, 399),
        ],
        cost_permille: (450, 580),
        return_permille: 30,
        popularity: 4,
        season: HOME,
        reasons: ReasonProfile::Home,
    },
    CategorySpec {
        name: "Kitchen",
        department: "Home",
        brands: &["Copperline", "Chef's Edge", "Hearth & Co", "Nordlys"],
        lines: &["Compact", "Everyday", "Classic", "Artisan", "Pro"],
        nouns: &[
            noun("Blender", 39, 249),
            noun("Knife Set", 49, 299),
            noun("Cookware Set", 79, 499),
            noun("Coffee Maker", 29, 349),
        ],
        cost_permille: (450, 600),
        return_permille: 25,
        popularity: 10,
        season: HOME,
        reasons: ReasonProfile::Home,
    },
    CategorySpec {
        name: "Bedding",
        department: "Home",
        brands: &["Dreamwell", "Nordlys", "Cloudnine", "Oakhaven"],
        lines: &["Cozy", "Cool", "Percale", "Sateen", "Linen"],
        nouns: &[
            noun("Sheet Set", 39, 199),
            noun("Duvet Cover", 49, 229),
            noun("Pillow", 19, 89),
            noun("Comforter", 59, 299),
        ],
        cost_permille: (400, 550),
        return_permille: 30,
        popularity: 8,
        season: HOME,
        reasons: ReasonProfile::Home,
    },
    CategorySpec {
        name: "Men's Clothing",
        department: "Apparel",
        brands: &["Harbor & Pine", "Urbane", "Trailhead", "Basics Co"],
        lines: &["Essential", "Weekend", "Active", "Slim", "Heritage"],
        nouns: &[
            noun("Oxford Shirt", 29, 89),
            noun("Chinos", 35, 99),
            noun("Jacket", 79, 299),
            noun("Sweater", 39, 149),
        ],
        cost_permille: (350, 500),
        return_permille: 60,
        popularity: 11,
        season: APPAREL,
        reasons: ReasonProfile::Apparel,
    },
    CategorySpec {
        name: "Women's Clothing",
        department: "Apparel",
        brands: &["Maison Lune", "Urbane", "Trailhead", "Basics Co"],
        lines: &["Essential", "Weekend", "Active", "Wrap", "Atelier"],
        nouns: &[
            noun("Dress", 39, 189),
            noun("Blouse", 29, 99),
            noun("Jeans", 39, 129),
            noun("Cardigan", 35, 139),
        ],
        cost_permille: (350, 500),
        return_permille: 70,
        popularity: 13,
        season: APPAREL,
        reasons: ReasonProfile::Apparel,
    },
    CategorySpec {
        name: "Shoes",
        department: "Apparel",
        brands: &["Stridewell", "Trailhead", "Urbane", "Pacer"],
        lines: &["Classic", "Court", "Swift", "Trail", "Cloud"],
        nouns: &[
            noun("Running Shoe", 69, 179),
            noun("Sneaker", 49, 139),
            noun("Hiking Boot", 99, 249),
            noun("Sandal", 25, 79),
        ],
        cost_permille: (400, 520),
        return_permille: 80,
        popularity: 9,
        season: APPAREL,
        reasons: ReasonProfile::Apparel,
    },
    CategorySpec {
        name: "Camping",
        department: "Outdoor",
        brands: &["Summit Gear", "Trailhead", "Northpeak", "Campfire"],
        lines: &["Lite", "Ridge", "Basecamp", "Alpine", "Expedition"],
        nouns: &[
            noun("Tent 2P", 99, 399),
            noun("Tent 4P", 179, 699),
            noun("Sleeping Bag", 49, 299),
            noun("Backpack 45L", 69, 279),
        ],
        cost_permille: (500, 650),
        return_permille: 30,
        popularity: 6,
        season: SUMMER,
        reasons: ReasonProfile::Outdoor,
    },
    CategorySpec {
        name: "Cycling",
        department: "Outdoor",
        brands: &["Velocita", "Northpeak", "Spokesmith", "Summit Gear"],
        lines: &["City", "Sport", "Trail", "Gravel", "Road"],
        nouns: &[
            noun("Bike", 449, 2499),
            noun("Helmet", 39, 179),
            noun("Bike Light", 19, 89),
            noun("Saddle", 29, 129),
        ],
        cost_permille: (520, 660),
        return_permille: 25,
        popularity: 6,
        season: SUMMER,
        reasons: ReasonProfile::Outdoor,
    },
    CategorySpec {
        name: "Garden",
        department: "Outdoor",
        brands: &["Greenleaf", "Yardly", "Hearth & Co", "Northpeak"],
        lines: &["Basic", "Home", "Plus", "Premium", "Pro"],
        nouns: &[
            noun("Lawn Mower", 199, 699),
            noun("Hedge Trimmer", 59, 249),
            noun("Garden Hose", 19, 79),
            noun("Planter Set", 15, 89),
        ],
        cost_permille: (450, 600),
        return_permille: 20,
        popularity: 11,
        season: GARDEN,
        reasons: ReasonProfile::Outdoor,
    },
];

/// Why items come back, with a weight per reason profile
/// (electronics, home, apparel, outdoor). "Damaged in shipping" only applies to online orders.
pub(crate) const RETURN_REASONS: [(&str, [u64; 4]); 6] = [
    ("Defective", [40, 25, 10, 25]),
    ("Wrong size", [0, 5, 45, 10]),
    ("Damaged in shipping", [15, 30, 5, 20]),
    ("Not as described", [15, 20, 15, 20]),
    ("Changed mind", [20, 20, 25, 25]),
    ("Found a better price", [10, 0, 0, 0]),
];

/// The index of "Damaged in shipping" in [`RETURN_REASONS`].
pub(crate) const DAMAGED_IN_SHIPPING: usize = 2;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn catalogue_is_consistent() {
        let mut names = HashSet::new();
        for c in &CATEGORIES {
            assert!(names.insert(c.name), "duplicate category {}", c.name);
            // The largest preset asks for 60 distinct products per category.
            assert!(
                c.brands.len() * c.lines.len() * c.nouns.len() >= 60,
                "{}",
                c.name
            );
            for n in c.nouns {
                assert!(
                    n.min_dollars >= 1 && n.min_dollars < n.max_dollars,
                    "{}",
                    n.name
                );
            }
            assert!(c.cost_permille.0 < c.cost_permille.1 && c.cost_permille.1 < 1000);
        }
        assert_eq!(
            CATEGORIES
                .iter()
                .map(|c| c.department)
                .collect::<HashSet<_>>()
                .len(),
            4
        );
        assert_eq!(RETURN_REASONS[DAMAGED_IN_SHIPPING].0, "Damaged in shipping");
        for r in &REGIONS {
            assert!(r.cities.len() >= 7);
        }
    }
}
