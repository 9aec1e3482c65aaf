//! The keys that sign every Salesync token, and the JWKS that publishes
//! their public halves for the router and the other subgraphs.
//!
//! Ed25519 (EdDSA): small keys, fast signatures, no parameters to get wrong.
//! The key comes from configuration (`SALESYNC_TOKENS__SIGNING_KEY_PEM`), or
//! from a PEM file, generated on first start in the local run.

use std::path::Path;

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::JwkSet};
use rand::RngCore;
use salesync_common::{
    Error, Result,
    auth::{Claims, TokenVerifier},
    config::AuthSettings,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Issues tokens and knows the public keys to publish.
#[derive(Clone)]
pub struct TokenIssuer {
    encoding_key: EncodingKey,
    key_id: String,
    jwks: serde_json::Value,
    ttl: Duration,
    issuer: String,
    audience: String,
}

/// A signed token and when it stops working.
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl TokenIssuer {
    /// Builds the issuer from a PKCS#8 PEM Ed25519 private key.
    pub fn from_pem(
        pem: &SecretString,
        ttl: Duration,
        auth: &AuthSettings,
    ) -> anyhow::Result<Self> {
        let signing = SigningKey::from_pkcs8_pem(pem.expose_secret())
            .context("the token signing key is not a PKCS#8 PEM Ed25519 private key")?;
        let public = signing.verifying_key().to_bytes();
        let key_id = key_id(&public);
        let jwks = serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(public),
                "kid": key_id,
                "alg": "EdDSA",
                "use": "sig",
            }]
        });
        let encoding_key = EncodingKey::from_ed_pem(pem.expose_secret().as_bytes())
            .context("jsonwebtoken rejected the signing key")?;
        Ok(TokenIssuer {
            encoding_key,
            key_id,
            jwks,
            ttl,
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
        })
    }

    /// Signs a token for `store_id` of its current token `generation`.
    pub fn issue(&self, store_id: Uuid, username: &str, generation: i64) -> Result<IssuedToken> {
        let now = Utc::now();
        let expires_at = now + self.ttl;
        let claims = Claims {
            sub: store_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            username: username.to_string(),
            generation,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key_id.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding_key).map_err(|e| {
            Error::internal(anyhow::Error::new(e).context("failed to sign a token"))
        })?;
        Ok(IssuedToken { token, expires_at })
    }

    /// The JWKS document served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// A verifier that checks tokens against this issuer's own keys.
    pub fn verifier(&self, auth: &AuthSettings) -> anyhow::Result<TokenVerifier> {
        let jwks: JwkSet =
            serde_json::from_value(self.jwks.clone()).context("BUG: our own JWKS must parse")?;
        TokenVerifier::from_jwks(auth, &jwks)
    }
}

/// A stable id for a public key: the start of its SHA-256, so a rotated key
/// gets a new id and verifiers know to fetch the JWKS again.
fn key_id(public: &[u8]) -> String {
    let digest = Sha256::digest(public);
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

/// A new random Ed25519 private key as PKCS#8 PEM.
pub fn generate_pem() -> anyhow::Result<SecretString> {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let pem = SigningKey::from_bytes(&seed)
        .to_pkcs8_pem(LineEnding::LF)
        .context("failed to encode a new signing key")?;
    Ok(SecretString::from(pem.to_string()))
}

/// Reads the key at `path`, or generates one there (owner-only permissions).
pub fn load_or_generate_pem(path: &Path) -> anyhow::Result<SecretString> {
    if path.exists() {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the signing key {}", path.display()))?;
        return Ok(SecretString::from(pem));
    }
    let pem = generate_pem()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create {}", parent.display()))?;
    }
    write_private(path, pem.expose_secret())
        .with_context(|| format!("failed to write the signing key {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new token signing key");
    Ok(pem)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(ttl: Duration) -> TokenIssuer {
        let pem = generate_pem().expect("key");
        TokenIssuer::from_pem(&pem, ttl, &AuthSettings::default()).expect("issuer")
    }

    #[tokio::test]
    async fn an_issued_token_verifies_against_the_published_keys() {
        let issuer = issuer(Duration::hours(1));
        let store = Uuid::new_v4();
        let token = issuer.issue(store, "kim", 0).expect("token");
        let verifier = issuer.verifier(&AuthSettings::default()).expect("verifier");
        let claims = verifier.verify(&token.token).await.expect("valid");
        assert_eq!(claims.sub, store);
    }

    #[tokio::test]
    async fn another_key_or_an_expired_token_is_rejected() {
        let ours = issuer(Duration::hours(1));
        let theirs = issuer(Duration::hours(1));
        let verifier = ours.verifier(&AuthSettings::default()).expect("verifier");
        let forged = theirs.issue(Uuid::new_v4(), "kim", 0).expect("token");
        assert!(verifier.verify(&forged.token).await.is_err());

        let expired = issuer(Duration::minutes(-5));
        let verifier = expired
            .verifier(&AuthSettings::default())
            .expect("verifier");
        let token = expired.issue(Uuid::new_v4(), "kim", 0).expect("token");
        assert!(verifier.verify(&token.token).await.is_err());
    }

    #[test]
    fn a_generated_key_is_kept_and_reused() {
        let dir = std::env::temp_dir().join(format!("salesync-key-{}", Uuid::new_v4()));
        let path = dir.join("key.pem");
        let first = load_or_generate_pem(&path).expect("generate");
        let second = load_or_generate_pem(&path).expect("reload");
        assert_eq!(first.expose_secret(), second.expose_secret());
        std::fs::remove_dir_all(dir).ok();
    }
}
