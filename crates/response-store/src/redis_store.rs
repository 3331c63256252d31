//! [`RedisStore`]: responses kept in Redis, shared by every replica that names the same server.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{ResponseId, ResponseStore, StoreError, StoreFuture, Tenant};

/// A `redis://` or `rediss://` URL. It may hold a password: `Debug` and `Display` show it as
/// `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

/// A response store setting that is not a `redis://` or `rediss://` URL.
#[derive(Debug, Clone, thiserror::Error)]
#[error("not a Redis URL ({shown}): expected redis://[:PASSWORD@]HOST:PORT[/DB] or rediss://...")]
pub struct InvalidRedisUrl {
    shown: String,
}

impl RedisUrl {
    /// `url` when it is a Redis URL that the client accepts.
    pub fn parse(url: &str) -> Result<Self, InvalidRedisUrl> {
        let invalid = || InvalidRedisUrl { shown: redact(url) };
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(invalid());
        }
        redis::Client::open(url).map_err(|_| invalid())?;
        Ok(Self(url.to_owned()))
    }

    /// The URL with its password (for the client only).
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", redact(&self.0))
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// `url` with whatever stands between `://` and the last `@` of the authority replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Responses in Redis: key `bedrock-gateway:response:{tenant}:{id}`, value the record, expiry
/// the time to live (`SET ... PX`). The connection is made on first use and remade after a
/// failure; while Redis is unreachable every operation fails with
/// [`StoreError::Unavailable`] within about a second.
#[derive(Clone)]
pub struct RedisStore {
    url: RedisUrl,
    connection: ConnectionManager,
    ttl: Duration,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

/// What keys start with.
const KEY_PREFIX: &str = "bedrock-gateway:response:";

impl RedisStore {
    /// A store on `url` keeping records for `ttl` (at least a millisecond). Connects lazily:
    /// must be called within a tokio runtime.
    pub fn new(url: RedisUrl, ttl: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url.expose()).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection =
            ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(Self {
            url,
            connection,
            ttl: ttl.max(Duration::from_millis(1)),
        })
    }

    fn key(tenant: &Tenant, id: &ResponseId) -> String {
        format!("{KEY_PREFIX}{}:{}", tenant.to_hex(), id.as_str())
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        let mut connection = self.connection.clone();
        cmd.query_async(&mut connection).await.map_err(unavailable)
    }
}

impl ResponseStore for RedisStore {
    fn put<'a>(
        &'a self,
        tenant: &'a Tenant,
        id: &'a ResponseId,
        record: Bytes,
    ) -> StoreFuture<'a, ()> {
        let millis = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(Self::key(tenant, id))
                .arg(record.as_ref())
                .arg("PX")
                .arg(millis);
            self.query::<()>(&cmd).await
        })
    }

    fn get<'a>(&'a self, tenant: &'a Tenant, id: &'a ResponseId) -> StoreFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("GET");
            cmd.arg(Self::key(tenant, id));
            let found: Option<Vec<u8>> = self.query(&cmd).await?;
            Ok(found.map(Bytes::from))
        })
    }

    fn delete<'a>(&'a self, tenant: &'a Tenant, id: &'a ResponseId) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut cmd = redis::cmd("DEL");
            cmd.arg(Self::key(tenant, id));
            let deleted: u64 = self.query(&cmd).await?;
            Ok(deleted > 0)
        })
    }

    fn check(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let pong: String = self.query(&redis::cmd("PING")).await?;
            debug_assert_eq!(pong, "PONG");
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let url = RedisUrl::parse("redis://:hunter2@cache.internal:6379/2").unwrap();
        assert_eq!(url.to_string(), "redis://***@cache.internal:6379/2");
        assert!(!format!("{url:?}").contains("hunter2"));
        let url = RedisUrl::parse("rediss://user:p@ss@host:6380").unwrap();
        assert_eq!(url.to_string(), "rediss://***@host:6380");
        let err = RedisUrl::parse("http://u:hunter2@host").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(RedisUrl::parse("redis://127.0.0.1:6379/0").is_ok());
        assert_eq!(
            RedisUrl::parse("redis://127.0.0.1:6379/0")
                .unwrap()
                .to_string(),
            "redis://127.0.0.1:6379/0"
        );
    }
}
