//! Stored responses of the OpenAI Responses API, behind one trait.
//!
//! A stored response is an opaque record (bytes) kept under its owner ([`Tenant`]) and its id
//! ([`ResponseId`]) for a time to live. Two implementations of [`ResponseStore`]:
//!
//! - [`MemoryStore`]: embedded in the process, bounded by entry count and total bytes (the least
//!   recently used go first) and by the time to live. One replica only.
//! - [`RedisStore`]: Redis (`redis://` or `rediss://`), each record with the time to live as its
//!   expiry (`SET ... PX`), so that replicas behind a load balancer share conversations.
//!
//! A record is found only by the tenant that kept it: another tenant's lookup of the same id
//! misses, as an unknown or expired id does.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use response_store::{MemoryStore, MemoryLimits, ResponseId, ResponseStore, Tenant};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let store = MemoryStore::new(MemoryLimits::default());
//! let alice = Tenant::from_gateway_key("key-of-alice");
//! let id = ResponseId::parse("resp_abc123").unwrap();
//! store.put(&alice, &id, Bytes::from_static(b"{}")).await.unwrap();
//! assert_eq!(store.get(&alice, &id).await.unwrap(), Some(Bytes::from_static(b"{}")));
//! let bob = Tenant::from_gateway_key("key-of-bob");
//! assert_eq!(store.get(&bob, &id).await.unwrap(), None);
//! # });
//! ```

mod memory;
mod redis_store;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use sha2::{Digest, Sha256};

pub use memory::{MemoryLimits, MemoryStore};
pub use redis_store::{RedisStore, RedisUrl};

/// A boxed future of a store operation.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where stored responses are kept.
pub trait ResponseStore: Send + Sync + fmt::Debug {
    /// Keeps `record` as `tenant`'s response `id`, replacing any earlier one.
    fn put<'a>(
        &'a self,
        tenant: &'a Tenant,
        id: &'a ResponseId,
        record: Bytes,
    ) -> StoreFuture<'a, ()>;

    /// `tenant`'s response `id`; `None` when unknown, expired or another tenant's.
    fn get<'a>(&'a self, tenant: &'a Tenant, id: &'a ResponseId) -> StoreFuture<'a, Option<Bytes>>;

    /// Deletes `tenant`'s response `id`; whether there was one.
    fn delete<'a>(&'a self, tenant: &'a Tenant, id: &'a ResponseId) -> StoreFuture<'a, bool>;

    /// Whether the store can be used now (`Err` with the reason when not).
    fn check(&self) -> StoreFuture<'_, ()>;
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be reached (Redis down, timed out).
    #[error("the response store is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The record is larger than the whole store may hold.
    #[error("the record of {size} bytes is larger than the store's limit of {limit} bytes")]
    TooLarge {
        /// The record's size.
        size: usize,
        /// The store's byte bound.
        limit: usize,
    },
}

/// Whose responses: a SHA-256 digest of the caller's identity (a gateway key, or AWS
/// credentials), never the secret itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tenant([u8; 32]);

impl Tenant {
    /// The tenant of a gateway key, from the key itself.
    pub fn from_gateway_key(key: &str) -> Self {
        Self::from_gateway_key_digest(&Sha256::digest(key.as_bytes()).into())
    }

    /// The tenant of a gateway key, from the key's SHA-256 digest (what the gateway keeps).
    pub fn from_gateway_key_digest(digest: &[u8; 32]) -> Self {
        Self::of(&[b"gateway-key", digest])
    }

    /// The tenant of AWS credentials: the access key id AND the secret, so that knowing
    /// someone's access key id is not enough to read their responses.
    pub fn from_aws_keys(access_key_id: &str, secret_access_key: &str) -> Self {
        Self::of(&[
            b"aws-keys",
            access_key_id.as_bytes(),
            secret_access_key.as_bytes(),
        ])
    }

    /// The tenant of a Bedrock API key.
    pub fn from_bedrock_api_key(token: &str) -> Self {
        Self::of(&[b"bedrock-api-key", token.as_bytes()])
    }

    /// A digest of `parts`, each prefixed by its length so that no two lists collide.
    fn of(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        Self(hasher.finalize().into())
    }

    /// The digest in hex (part of Redis keys).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest, not a secret; still, only a prefix to tell tenants apart in tests.
        write!(f, "Tenant({}..)", &self.to_hex()[..8])
    }
}

/// A response id as clients see it: `resp_` then 1 to [`ResponseId::MAX_LEN`] - 5 characters
/// among ASCII letters, digits, `_` and `-`. Checked before an id reaches a store key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResponseId(String);

impl ResponseId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 128;
    /// What every id starts with.
    pub const PREFIX: &'static str = "resp_";

    /// `id` when it is a well-formed response id.
    pub fn parse(id: &str) -> Result<Self, InvalidId> {
        let rest = id.strip_prefix(Self::PREFIX).ok_or(InvalidId)?;
        let charset = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if rest.is_empty() || id.len() > Self::MAX_LEN || !rest.chars().all(charset) {
            return Err(InvalidId);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ResponseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseId({})", self.0)
    }
}

impl fmt::Display for ResponseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A response id that is not `resp_` followed by letters, digits, `_` or `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a response id is 'resp_' followed by at most 123 ASCII letters, digits, '_' or '-'")]
pub struct InvalidId;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(ResponseId::parse("resp_abc-DEF_123").is_ok());
        let longest = format!("resp_{}", "a".repeat(ResponseId::MAX_LEN - 5));
        assert!(ResponseId::parse(&longest).is_ok());
        for bad in [
            "",
            "resp_",
            "abc",
            "resp_a b",
            "resp_a:b",
            "resp_a*",
            "resp_é",
            "RESP_abc",
            &format!("{longest}a"),
        ] {
            assert_eq!(ResponseId::parse(bad), Err(InvalidId), "{bad:?}");
        }
    }

    #[test]
    fn tenants_need_the_whole_identity() {
        let a = Tenant::from_aws_keys("AKIA1", "secret");
        assert_eq!(a, Tenant::from_aws_keys("AKIA1", "secret"));
        assert_ne!(a, Tenant::from_aws_keys("AKIA1", "other"));
        assert_ne!(
            a,
            Tenant::from_aws_keys("AKIA1s", "ecret"),
            "parts are delimited"
        );
        assert_ne!(
            Tenant::from_gateway_key("k"),
            Tenant::from_bedrock_api_key("k")
        );
        let debug = format!("{a:?}");
        assert!(!debug.contains("secret") && debug.len() < 20, "{debug}");
    }
}
