//! Sampling that depends on nothing but the ChaCha8 key stream.
//!
//! The generator uses only `next_u64` of `rand_chacha` and does all its arithmetic in integers.
//! `rand`'s distributions have changed their algorithms between versions, and floating-point
//! functions (`ln`, `powf`) may round differently across platforms; either would change the data
//! silently. ChaCha8's stream for a given key is fixed by its specification.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// The generator's random source.
pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    /// A stream keyed by `seed` (and a stream number, so independent parts of the generator do
    /// not shift each other when one of them changes how much it draws).
    pub fn new(seed: [u8; 32], stream: u64) -> Rng {
        let mut r = ChaCha8Rng::from_seed(seed);
        r.set_stream(stream);
        Rng(r)
    }

    /// A uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift; the bias is below
    /// 2⁻⁴⁰ for every `n` used here.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform integer in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// An index drawn with the given relative weights (not all zero).
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut r = self.below(total.max(1));
        for (i, &w) in weights.iter().enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Cumulative weights, for drawing from many items, or from a prefix of them (the customers
/// who had signed up by a date, the products launched by then).
pub(crate) struct Cumulative(Vec<u64>);

impl Cumulative {
    pub fn new(weights: impl IntoIterator<Item = u64>) -> Cumulative {
        let mut total = 0u64;
        Cumulative(
            weights
                .into_iter()
                .map(|w| {
                    total += w;
                    total
                })
                .collect(),
        )
    }

    /// An index in `0..prefix` drawn by weight; `None` when the prefix is empty or weighs
    /// nothing.
    pub fn sample_prefix(&self, rng: &mut Rng, prefix: usize) -> Option<usize> {
        let total = *self.0.get(prefix.checked_sub(1)?)?;
        if total == 0 {
            return None;
        }
        let r = rng.below(total);
        Some(self.0[..prefix].partition_point(|&c| c <= r))
    }
}

/// Weight of popularity rank `rank` (0 = most popular) among `n` items: a Zipf-like
/// `1 / (rank + n/40 + 1)`, in integers. The offset flattens the very top so one item never
/// dominates; the top tenth still draws about 40 % of the weight.
pub(crate) fn zipf_weight(rank: u64, n: u64) -> u64 {
    const SCALE: u64 = 1 << 40;
    SCALE / (40 * rank + n + 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_pinned() {
        // ChaCha8 is specified; if this fails, the demo data changed underneath us.
        let mut r = Rng::new([7; 32], 0);
        let first: Vec<u64> = (0..3).map(|_| r.below(1_000_000)).collect();
        let mut again = Rng::new([7; 32], 0);
        let second: Vec<u64> = (0..3).map(|_| again.below(1_000_000)).collect();
        assert_eq!(first, second);
        let mut other = Rng::new([7; 32], 1);
        assert_ne!(first[0], other.below(1_000_000));
    }

    #[test]
    fn samplers_stay_in_range_and_follow_weights() {
        let mut r = Rng::new([1; 32], 0);
        let mut hits = [0u32; 3];
        for _ in 0..30_000 {
            hits[r.weighted(&[1, 0, 3])] += 1;
            let x = r.between(5, 7);
            assert!((5..=7).contains(&x));
        }
        assert_eq!(hits[1], 0);
        assert!(hits[2] > hits[0] * 2, "{hits:?}");

        let c = Cumulative::new([0, 5, 0, 5]);
        assert_eq!(c.sample_prefix(&mut r, 0), None);
        assert_eq!(c.sample_prefix(&mut r, 1), None);
        for _ in 0..100 {
            assert_eq!(c.sample_prefix(&mut r, 2), Some(1));
            assert!(matches!(c.sample_prefix(&mut r, 4), Some(1 | 3)));
        }

        let mut v: Vec<u32> = (0..50).collect();
        r.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(v, sorted);
    }

    #[test]
    fn zipf_is_skewed_but_not_degenerate() {
        let n = 2000;
        let w: Vec<u64> = (0..n).map(|k| zipf_weight(k, n)).collect();
        let total: u64 = w.iter().sum();
        let top_tenth: u64 = w[..200].iter().sum();
        let share = top_tenth * 100 / total;
        assert!((30..=60).contains(&share), "{share}");
        assert!(w[0] < total / 50);
    }
}
