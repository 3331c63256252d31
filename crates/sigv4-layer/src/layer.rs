//! [`SigV4Layer`], its builder, and how it picks credentials and region for each request.
//!
//! The layer holds configuration only (behind an `Arc`, so cloning it is cheap): the service's
//! signing name, an optional default region, optional default credentials and the
//! [`SigningSettings`]. It makes [`SigV4`](crate::SigV4) services (its
//! [`Layer`](tower::Layer) implementation is in [`service`](crate::service), next to the
//! service). One layer serves many callers, each request choosing its own credentials and region
//! through request extensions:
//!
//! | input | first | then | else |
//! | --- | --- | --- | --- |
//! | credentials | [`Credentials`] extension | [`credentials`](SigV4LayerBuilder::credentials) | [`SigningError::MissingCredentials`](crate::SigningError::MissingCredentials) |
//! | region | [`SigningRegion`](crate::SigningRegion) extension, else the extension named by [`region_from`](SigV4LayerBuilder::region_from) | [`region`](SigV4LayerBuilder::region) | [`SigningError::MissingRegion`](crate::SigningError::MissingRegion) |
//! | time | [`SigningTime`](crate::SigningTime) extension | [`SystemTime::now`](std::time::SystemTime::now) | |
//!
//! # Example
//!
//! ```
//! use sigv4_layer::{Credentials, SigV4Layer};
//!
//! let layer = SigV4Layer::builder()
//!     .service_name("sts")
//!     .region("us-east-1")
//!     .credentials(Credentials::new("AKID", "SECRET", None, None, "example"))
//!     .build()?;
//! // The secret key never shows in `Debug`.
//! assert!(!format!("{layer:?}").contains("SECRET"));
//! # Ok::<(), sigv4_layer::BuildError>(())
//! ```

use std::sync::Arc;

use aws_credential_types::Credentials;

use crate::error::BuildError;
use crate::settings::SigningSettings;
use crate::sign::is_valid_region;

/// A [`Layer`](tower::Layer) that signs requests with AWS SigV4; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct SigV4Layer {
    pub(crate) config: Arc<Config>,
}

/// The layer's configuration, shared by every service it makes.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) service_name: String,
    pub(crate) region: Option<String>,
    pub(crate) region_from: Option<RegionFrom>,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) settings: SigningSettings,
}

impl SigV4Layer {
    /// A builder; only [`service_name`](SigV4LayerBuilder::service_name) is required.
    pub fn builder() -> SigV4LayerBuilder {
        SigV4LayerBuilder::default()
    }

    /// The service's signing name.
    pub fn service_name(&self) -> &str {
        &self.config.service_name
    }

    /// The default region, if any.
    pub fn region(&self) -> Option<&str> {
        self.config.region.as_deref()
    }

    /// The default credentials, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.config.credentials.as_ref()
    }

    /// The signing settings.
    pub fn settings(&self) -> &SigningSettings {
        &self.config.settings
    }
}

/// Reads a region name from a request extension of a type chosen by
/// [`SigV4LayerBuilder::region_from`].
#[derive(Clone, Copy)]
pub(crate) struct RegionFrom(pub(crate) for<'a> fn(&'a http::Extensions) -> Option<&'a str>);

impl std::fmt::Debug for RegionFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegionFrom(..)")
    }
}

/// Builds a [`SigV4Layer`].
#[derive(Debug, Clone, Default)]
pub struct SigV4LayerBuilder {
    service_name: Option<String>,
    region: Option<String>,
    region_from: Option<RegionFrom>,
    credentials: Option<Credentials>,
    settings: SigningSettings,
}

impl SigV4LayerBuilder {
    /// The service's signing name, for example `bedrock` (for Bedrock Runtime too), `sts` or
    /// `dynamodb`. Required.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The region for requests without a [`SigningRegion`](crate::SigningRegion) extension.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The credentials for requests without a [`Credentials`] extension.
    ///
    /// They are used as they are: refreshing temporary credentials before they expire is the
    /// caller's job (put fresh ones in each request's extensions).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The signing settings; default [`SigningSettings::default()`].
    pub fn settings(mut self, settings: SigningSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Also read the per-request region from a request extension of type `T` (any type that
    /// is its region name as a string), when the request has no
    /// [`SigningRegion`](crate::SigningRegion). This lets the layer share one region value with
    /// another layer of the stack, so the two cannot disagree: with `bedrock-translate`, its
    /// `Region` extension picks both the Bedrock host and the signature's region.
    ///
    /// ```
    /// use sigv4_layer::SigV4Layer;
    ///
    /// #[derive(Clone)]
    /// struct Region(String);
    /// impl AsRef<str> for Region {
    ///     fn as_ref(&self) -> &str { &self.0 }
    /// }
    ///
    /// let layer = SigV4Layer::builder()
    ///     .service_name("bedrock")
    ///     .region_from::<Region>()
    ///     .build()?;
    /// # Ok::<(), sigv4_layer::BuildError>(())
    /// ```
    pub fn region_from<T>(mut self) -> Self
    where
        T: AsRef<str> + Send + Sync + 'static,
    {
        self.region_from = Some(RegionFrom(|extensions| {
            extensions.get::<T>().map(|region| region.as_ref())
        }));
        self
    }

    /// Checks the configuration and builds the layer.
    pub fn build(self) -> Result<SigV4Layer, BuildError> {
        let service_name = self.service_name.ok_or(BuildError::MissingServiceName)?;
        let valid_name = !service_name.is_empty()
            && service_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid_name {
            return Err(BuildError::InvalidServiceName { name: service_name });
        }
        if let Some(region) = &self.region
            && !is_valid_region(region)
        {
            return Err(BuildError::InvalidRegion {
                region: region.clone(),
            });
        }
        Ok(SigV4Layer {
            config: Arc::new(Config {
                service_name,
                region: self.region,
                region_from: self.region_from,
                credentials: self.credentials,
                settings: self.settings,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct AppRegion(&'static str);

    impl AsRef<str> for AppRegion {
        fn as_ref(&self) -> &str {
            self.0
        }
    }

    #[test]
    fn region_from_reads_another_layers_extension_after_the_signing_region() {
        let layer = SigV4Layer::builder()
            .service_name("bedrock")
            .region("us-east-1")
            .region_from::<AppRegion>()
            .build()
            .unwrap();
        let config = &layer.config;
        let mut extensions = http::Extensions::new();
        let resolve = |e: &http::Extensions| crate::service::resolve_region(e, config).unwrap();
        assert_eq!(resolve(&extensions), "us-east-1", "the layer's default");
        extensions.insert(AppRegion("eu-west-3"));
        assert_eq!(resolve(&extensions), "eu-west-3", "the shared extension");
        extensions.insert(crate::SigningRegion::new("ap-south-1"));
        assert_eq!(resolve(&extensions), "ap-south-1", "SigningRegion wins");
    }

    #[test]
    fn service_name_is_required_and_checked() {
        assert!(matches!(
            SigV4Layer::builder().region("us-east-1").build(),
            Err(BuildError::MissingServiceName)
        ));
        for name in ["", "bed rock", "bedrock/x"] {
            assert!(matches!(
                SigV4Layer::builder().service_name(name).build(),
                Err(BuildError::InvalidServiceName { .. })
            ));
        }
        let layer = SigV4Layer::builder()
            .service_name("execute-api")
            .build()
            .unwrap();
        assert_eq!(layer.service_name(), "execute-api");
        assert_eq!(layer.region(), None);
        assert!(layer.credentials().is_none());
    }

    #[test]
    fn default_region_is_checked() {
        assert!(matches!(
            SigV4Layer::builder()
                .service_name("bedrock")
                .region("us-east-1/evil")
                .build(),
            Err(BuildError::InvalidRegion { .. })
        ));
    }
}
