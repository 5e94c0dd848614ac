#![allow(clippy::unwrap_used)]
//! The Redis tier against the machine's real Redis, under a prefix removed afterwards.

#[cfg(feature = "redis")]
#[tokio::test]
async fn two_processes_share_entries_through_redis_and_they_expire() {
    use std::sync::Arc;
    use std::time::Duration;

    use cbi_cache::{KeyBuilder, RedisTier, Tier, TieredCache};

    let scratch = cbi_testkit::RedisPrefix::new("cbi_cache");
    let tier = Arc::new(
        RedisTier::connect(&scratch.url, &scratch.prefix)
            .await
            .unwrap(),
    );
    let one: TieredCache<Vec<String>> =
        TieredCache::new(10, Duration::from_millis(1500)).with_shared(tier.clone());
    let two: TieredCache<Vec<String>> =
        TieredCache::new(10, Duration::from_millis(1500)).with_shared(tier);
    let key = KeyBuilder::new("rows").text("sql", "SELECT 1").finish();
    one.insert(key, vec!["East".into(), "West".into()]).await;
    assert_eq!(
        scratch.keys(),
        [format!("{}cache:{}", scratch.prefix, key.hex())]
    );
    assert_eq!(
        two.get(&key).await,
        Some((vec!["East".to_string(), "West".to_string()], Tier::Shared))
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert!(
        scratch.keys().is_empty(),
        "the entry outlived its time to live"
    );
    let three: TieredCache<Vec<String>> =
        TieredCache::new(10, Duration::from_secs(1)).with_shared(Arc::new(
            RedisTier::connect(&scratch.url, &scratch.prefix)
                .await
                .unwrap(),
        ));
    assert_eq!(three.get(&key).await, None);
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn a_bad_url_is_a_configuration_error() {
    let e = cbi_cache::RedisTier::connect("not a url", "x:")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), cbi_cache::ErrorKind::Config);
}
