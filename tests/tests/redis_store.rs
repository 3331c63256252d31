//! The Redis response store against a real `redis-server` on loopback: what replicas share,
//! the time to live, and Redis going away and coming back.

use std::time::Duration;

use bytes::Bytes;
use e2e_tests::Redis;
use response_store::{RedisStore, RedisUrl, ResponseId, ResponseStore, StoreError, Tenant};

fn store(redis: &Redis, ttl: Duration) -> RedisStore {
    RedisStore::new(RedisUrl::parse(&redis.url()).unwrap(), ttl).unwrap()
}

fn id(name: &str) -> ResponseId {
    ResponseId::parse(name).unwrap()
}

const DAY: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn two_stores_on_one_redis_share_records_per_tenant() {
    let redis = Redis::start();
    let (a, b) = (store(&redis, DAY), store(&redis, DAY));
    let alice = Tenant::from_aws_keys("AKIDALICE", "alice-secret");
    let mallory = Tenant::from_aws_keys("AKIDALICE", "guessed");
    let record = Bytes::from_static(br#"{"response":{"id":"resp_1"},"input_items":[]}"#);
    a.put(&alice, &id("resp_1"), record.clone()).await.unwrap();
    assert_eq!(b.get(&alice, &id("resp_1")).await.unwrap(), Some(record));
    assert_eq!(b.get(&mallory, &id("resp_1")).await.unwrap(), None);
    assert!(!b.delete(&mallory, &id("resp_1")).await.unwrap());
    assert_eq!(b.get(&alice, &id("resp_2")).await.unwrap(), None);
    assert!(b.delete(&alice, &id("resp_1")).await.unwrap());
    assert_eq!(a.get(&alice, &id("resp_1")).await.unwrap(), None);
    a.check().await.unwrap();
}

#[tokio::test]
async fn records_expire_with_the_ttl() {
    let redis = Redis::start();
    let store = store(&redis, Duration::from_millis(700));
    let tenant = Tenant::from_gateway_key("key");
    store
        .put(&tenant, &id("resp_t"), Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert!(store.get(&tenant, &id("resp_t")).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(store.get(&tenant, &id("resp_t")).await.unwrap(), None);
}

#[tokio::test]
async fn redis_down_is_unavailable_quickly_and_recovers_on_restart() {
    let mut redis = Redis::start();
    let store = store(&redis, DAY);
    let tenant = Tenant::from_gateway_key("key");
    store.check().await.unwrap();
    redis.stop();
    let started = std::time::Instant::now();
    let err = store.get(&tenant, &id("resp_1")).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert!(store.check().await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failures are quick: {:?}",
        started.elapsed()
    );
    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while store.check().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store
        .put(&tenant, &id("resp_1"), Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert!(store.get(&tenant, &id("resp_1")).await.unwrap().is_some());
}
