use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// How big a demo database to generate, measured in order items (the fact table).
///
/// Everything else scales from that one number, so a size is fully described by it: customers
/// at about one per 14 order items (≈ 2,000 for [`DemoSize::SMALL`]), products per category with
/// the square root of it, physical stores likewise. The presets are named points on that scale:
///
/// | preset   | order items | customers | products | stores | use                          |
/// |----------|------------:|----------:|---------:|-------:|------------------------------|
/// | `tiny`   |       2,000 |       142 |       60 |     10 | unit tests, fixtures         |
/// | `small`  |      27,500 |     1,964 |      240 |     25 | the embedded default         |
/// | `medium` |     200,000 |    14,285 |      660 |     60 | realistic query plans        |
/// | `large`  |   1,000,000 |    71,428 |      720 |     85 | benchmarks                   |
///
/// The number of order items is exact; the number of orders and returns follows from random
/// order sizes and return rates (deterministically).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DemoSize {
    order_items: u64,
    preset: Option<&'static str>,
}

impl DemoSize {
    /// About 2,000 order items: fast enough for every unit test.
    pub const TINY: DemoSize = DemoSize::preset("tiny", 2_000);
    /// About 27,500 order items and 2,000 customers: the demo shipped with cbi.
    pub const SMALL: DemoSize = DemoSize::preset("small", 27_500);
    /// About 200,000 order items.
    pub const MEDIUM: DemoSize = DemoSize::preset("medium", 200_000);
    /// One million order items, for benchmarks.
    pub const LARGE: DemoSize = DemoSize::preset("large", 1_000_000);
    /// The presets, smallest first.
    pub const PRESETS: [DemoSize; 4] = [Self::TINY, Self::SMALL, Self::MEDIUM, Self::LARGE];

    /// The most order items a custom size may ask for; keeps every id within a 32-bit
    /// `INTEGER` on every backend with a wide margin.
    pub const MAX_ORDER_ITEMS: u64 = 100_000_000;

    const fn preset(name: &'static str, order_items: u64) -> DemoSize {
        DemoSize {
            order_items,
            preset: Some(name),
        }
    }

    /// A custom size with exactly `n` order items (1 ..= [`DemoSize::MAX_ORDER_ITEMS`]).
    pub fn order_items(n: u64) -> Result<DemoSize> {
        if (1..=Self::MAX_ORDER_ITEMS).contains(&n) {
            Ok(DemoSize {
                order_items: n,
                preset: None,
            })
        } else {
            Err(Error::InvalidSize(n.to_string()))
        }
    }

    /// The exact number of order items the generator produces.
    pub fn target_order_items(self) -> u64 {
        self.order_items
    }

    /// The preset's name, when this is a preset.
    pub fn preset_name(self) -> Option<&'static str> {
        self.preset
    }

    /// Number of customers.
    pub fn customers(self) -> u64 {
        (self.order_items / 14).clamp(20, 200_000)
    }

    /// Number of products in each of the 12 categories.
    pub fn products_per_category(self) -> u64 {
        (self.order_items.isqrt() / 8).clamp(5, 60)
    }

    /// Number of physical stores (flagship, mall, outlet); each region also has one online store.
    pub fn physical_stores(self) -> u64 {
        (self.order_items.isqrt() / 8).clamp(5, 80)
    }
}

impl Default for DemoSize {
    /// [`DemoSize::SMALL`], the size cbi ships.
    fn default() -> Self {
        DemoSize::SMALL
    }
}

impl fmt::Display for DemoSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.preset {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.order_items),
        }
    }
}

/// Parses a preset name (`tiny`, `small`, `medium`, `large`, any case) or a number of order
/// items, optionally with `_` or `,` separators and a `k`/`m` suffix (`250k`, `1.5m`,
/// `1_000_000`).
impl FromStr for DemoSize {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        if let Some(p) = Self::PRESETS
            .into_iter()
            .find(|p| p.preset == Some(t.as_str()))
        {
            return Ok(p);
        }
        let invalid = || Error::InvalidSize(s.to_string());
        let digits: String = t.chars().filter(|c| !matches!(c, '_' | ',')).collect();
        let (number, multiplier) = match digits.strip_suffix('k') {
            Some(n) => (n, 1_000u64),
            None => match digits.strip_suffix('m') {
                Some(n) => (n, 1_000_000),
                None => (digits.as_str(), 1),
            },
        };
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let all_digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
        if int.is_empty() || !all_digits(int) || !all_digits(frac) || frac.len() > 6 {
            return Err(invalid());
        }
        if !frac.is_empty() && multiplier == 1 {
            return Err(invalid());
        }
        let whole: u64 = int.parse().map_err(|_| invalid())?;
        let mut n = whole.checked_mul(multiplier).ok_or_else(invalid)?;
        if !frac.is_empty() {
            let scale = 10u64.pow(frac.len() as u32);
            let f: u64 = frac.parse().map_err(|_| invalid())?;
            n = n.checked_add(f * multiplier / scale).ok_or_else(invalid)?;
        }
        DemoSize::order_items(n).map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn check(input: &str, expect: Option<u64>) {
        let got = input
            .parse::<DemoSize>()
            .ok()
            .map(|s| s.target_order_items());
        assert_eq!(got, expect, "{input:?}");
    }

    #[test]
    fn parses_presets_and_numbers() {
        check("tiny", Some(2_000));
        check(" Small ", Some(27_500));
        check("MEDIUM", Some(200_000));
        check("large", Some(1_000_000));
        check("5000", Some(5_000));
        check("1_000_000", Some(1_000_000));
        check("25,000", Some(25_000));
        check("250k", Some(250_000));
        check("1.5m", Some(1_500_000));
        check("2.5K", Some(2_500));
        check("0", None);
        check("", None);
        check("huge", None);
        check("-5", None);
        check("1.5", None);
        check("1e6", None);
        check("100000001", None);
        check("99999999999999999999999", None);
        check("k", None);
        check(".5k", None);
    }

    #[test]
    fn presets_keep_their_name_and_scale_sensibly() {
        assert_eq!("small".parse::<DemoSize>().unwrap(), DemoSize::SMALL);
        assert_eq!(DemoSize::SMALL.to_string(), "small");
        assert_eq!(DemoSize::order_items(123).unwrap().to_string(), "123");
        assert_eq!(DemoSize::SMALL.customers(), 1_964);
        assert_eq!(DemoSize::SMALL.products_per_category(), 20);
        assert_eq!(DemoSize::TINY.physical_stores(), 5);
        assert_eq!(DemoSize::LARGE.products_per_category(), 60);
        assert!(DemoSize::order_items(0).is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,24}") {
            let _ = s.parse::<DemoSize>();
        }

        #[test]
        fn numbers_round_trip(n in 1u64..=DemoSize::MAX_ORDER_ITEMS) {
            let size: DemoSize = n.to_string().parse().unwrap();
            prop_assert_eq!(size.target_order_items(), n);
            prop_assert_eq!(size.to_string().parse::<DemoSize>().unwrap(), size);
        }
    }
}
