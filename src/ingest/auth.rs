//! Authentication of senders: basic auth against bcrypt hashes (Prometheus's
//! web configuration, `basic_auth_users`) and bearer tokens (`--auth-token-file`,
//! what `authorization: credentials` sends).
//!
//! bcrypt is slow by design (50 ms and more per check): verdicts are cached by
//! a digest of what was presented, so a sender's every request costs a lookup,
//! and checks run one at a time off the async workers, so a flood of wrong
//! passwords takes at most one blocking thread and never the receiver.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// Verdicts kept of each kind; beyond this that kind is forgotten. Right and
/// wrong ones are kept apart, so that a flood of wrong passwords cannot push
/// out the verdicts of the senders that know theirs.
const CACHE_LEN: usize = 1024;

/// How long a request waits for the bcrypt check before it is answered 503.
const CHECK_WAIT: Duration = Duration::from_secs(5);

/// A bcrypt hash of a password no one knows, checked for unknown users so
/// that they take as long as known ones.
const UNKNOWN_USER_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// Who may send: basic-auth users, a bearer token, or both (either is enough).
#[derive(Debug, Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// User name to bcrypt hash.
    users: HashMap<String, String>,
    /// SHA-256 of the bearer token.
    token: Option<[u8; 32]>,
    /// Digests of (user, hash, password) checked so far.
    verdicts: Mutex<Verdicts>,
    /// One bcrypt check at a time.
    checking: Semaphore,
}

/// Digests of the credentials that matched, and of those that did not.
#[derive(Debug, Default)]
struct Verdicts {
    right: HashSet<[u8; 32]>,
    wrong: HashSet<[u8; 32]>,
}

impl Verdicts {
    fn get(&self, key: &[u8; 32]) -> Option<bool> {
        if self.right.contains(key) {
            Some(true)
        } else if self.wrong.contains(key) {
            Some(false)
        } else {
            None
        }
    }

    fn insert(&mut self, key: [u8; 32], matched: bool) {
        let kind = if matched {
            &mut self.right
        } else {
            &mut self.wrong
        };
        if kind.len() >= CACHE_LEN {
            kind.clear();
        }
        kind.insert(key);
    }
}

/// Why a request was not let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No credentials of a kind this receiver takes.
    Missing,
    /// Credentials that did not match; the message says which (never the secret).
    Wrong(String),
    /// The check could not run in time (a flood of new credentials): retry.
    Busy,
}

impl Auth {
    /// Basic-auth `users` (name to bcrypt hash) and an optional bearer `token`.
    pub fn new(users: HashMap<String, String>, token: Option<&str>) -> Self {
        Auth {
            inner: Arc::new(Inner {
                users,
                token: token.map(|t| Sha256::digest(t.as_bytes()).into()),
                verdicts: Mutex::default(),
                checking: Semaphore::new(1),
            }),
        }
    }

    /// The `WWW-Authenticate` challenges a 401 carries.
    pub fn challenges(&self) -> Vec<&'static str> {
        let mut challenges = Vec::new();
        if !self.inner.users.is_empty() {
            challenges.push("Basic realm=\"promscope\"");
        }
        if self.inner.token.is_some() {
            challenges.push("Bearer realm=\"promscope\"");
        }
        challenges
    }

    /// Checks a request's `Authorization` header.
    pub async fn check(&self, headers: &HeaderMap) -> Result<(), Denied> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(Denied::Missing);
        };
        let value = value.as_bytes();
        let (scheme, credentials) = match value.iter().position(|b| *b == b' ') {
            Some(space) => (&value[..space], value[space + 1..].trim_ascii()),
            None => (value, &b""[..]),
        };
        if scheme.eq_ignore_ascii_case(b"bearer") && self.inner.token.is_some() {
            return self.check_token(credentials);
        }
        if scheme.eq_ignore_ascii_case(b"basic") && !self.inner.users.is_empty() {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(credentials)
                .map_err(|_| Denied::Wrong("basic auth credentials are not valid base64".into()))?;
            let text = String::from_utf8_lossy(&decoded);
            let Some((user, password)) = text.split_once(':') else {
                return Err(Denied::Wrong(
                    "basic auth credentials lack the ':' between user and password".into(),
                ));
            };
            return self.check_password(user, password).await;
        }
        Err(Denied::Missing)
    }

    fn check_token(&self, presented: &[u8]) -> Result<(), Denied> {
        let presented: [u8; 32] = Sha256::digest(presented).into();
        // Compared as digests, in constant time: nothing about the token leaks.
        let differs = self
            .inner
            .token
            .iter()
            .flat_map(|t| t.iter().zip(&presented))
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        match self.inner.token {
            Some(_) if differs == 0 => Ok(()),
            _ => Err(Denied::Wrong("the bearer token does not match".into())),
        }
    }

    async fn check_password(&self, user: &str, password: &str) -> Result<(), Denied> {
        let known = self.inner.users.get(user);
        let hash = known.map_or(UNKNOWN_USER_HASH, String::as_str);
        let key: [u8; 32] = {
            let mut digest = Sha256::new();
            for part in [user, hash, password] {
                digest.update((part.len() as u64).to_le_bytes());
                digest.update(part.as_bytes());
            }
            digest.finalize().into()
        };
        let cached = self.verdict(&key);
        let matched = match cached {
            Some(matched) => matched,
            None => self.bcrypt(key, hash, password).await?,
        };
        if matched && known.is_some() {
            Ok(())
        } else {
            Err(Denied::Wrong(format!(
                "basic auth for user {:?} does not match",
                user.chars().take(64).collect::<String>()
            )))
        }
    }

    fn verdict(&self, key: &[u8; 32]) -> Option<bool> {
        let verdicts = self
            .inner
            .verdicts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        verdicts.get(key)
    }

    /// Runs one bcrypt check on the blocking pool, and caches its verdict.
    async fn bcrypt(&self, key: [u8; 32], hash: &str, password: &str) -> Result<bool, Denied> {
        let Ok(Ok(_turn)) = tokio::time::timeout(CHECK_WAIT, self.inner.checking.acquire()).await
        else {
            return Err(Denied::Busy);
        };
        // Another request may have checked the same credentials meanwhile.
        if let Some(matched) = self.verdict(&key) {
            return Ok(matched);
        }
        let (hash, password) = (hash.to_owned(), password.to_owned());
        let matched = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .is_ok_and(|r| r.unwrap_or(false));
        self.inner
            .verdicts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, matched);
        Ok(matched)
    }

    /// How many bcrypt verdicts are cached (for tests).
    #[cfg(test)]
    fn cached(&self) -> usize {
        self.inner
            .verdicts
            .lock()
            .map_or(0, |v| v.right.len() + v.wrong.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn basic(user: &str, password: &str) -> HeaderMap {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        h
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        h
    }

    fn auth() -> Auth {
        // The lowest cost, so that the test is quick.
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        Auth::new(HashMap::from([("prom".to_owned(), hash)]), Some("tok-1"))
    }

    #[tokio::test]
    async fn basic_auth_and_bearer_tokens() {
        let auth = auth();
        assert_eq!(auth.check(&basic("prom", "s3cret")).await, Ok(()));
        assert!(matches!(
            auth.check(&basic("prom", "wrong")).await,
            Err(Denied::Wrong(m)) if m.contains("\"prom\"")
        ));
        assert!(matches!(
            auth.check(&basic("nobody", "s3cret")).await,
            Err(Denied::Wrong(_))
        ));
        assert_eq!(auth.check(&bearer("tok-1")).await, Ok(()));
        assert!(matches!(
            auth.check(&bearer("tok-2")).await,
            Err(Denied::Wrong(_))
        ));
        assert_eq!(auth.check(&HeaderMap::new()).await, Err(Denied::Missing));
        let mut digest = HeaderMap::new();
        digest.insert(AUTHORIZATION, HeaderValue::from_static("Digest x=1"));
        assert_eq!(auth.check(&digest).await, Err(Denied::Missing));
        assert_eq!(
            auth.challenges(),
            ["Basic realm=\"promscope\"", "Bearer realm=\"promscope\""]
        );
    }

    #[tokio::test]
    async fn verdicts_are_cached_right_and_wrong_and_do_not_leak_across_users() {
        let auth = auth();
        for _ in 0..3 {
            assert!(auth.check(&basic("prom", "s3cret")).await.is_ok());
            assert!(auth.check(&basic("prom", "nope")).await.is_err());
        }
        assert_eq!(auth.cached(), 2);
        // The same password for an unknown user is its own entry, and refused.
        assert!(auth.check(&basic("other", "s3cret")).await.is_err());
        assert_eq!(auth.cached(), 3);
    }

    #[tokio::test]
    async fn a_malformed_header_is_refused_without_a_check() {
        let auth = auth();
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(matches!(auth.check(&h).await, Err(Denied::Wrong(m)) if m.contains("base64")));
        let no_colon = base64::engine::general_purpose::STANDARD.encode("prom");
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {no_colon}")).unwrap(),
        );
        assert!(matches!(auth.check(&h).await, Err(Denied::Wrong(m)) if m.contains("':'")));
        assert_eq!(auth.cached(), 0);
    }
}
