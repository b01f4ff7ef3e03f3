//! The API key format, its hash, and keeping keys out of text that leaves
//! the process. A leaf, used by the key service, errors and logs alike.
//!
//! A key reads `cgw_<16 hex prefix>_<64 hex secret>`. The prefix is not
//! secret; it finds the row.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// What every key starts with.
pub const KEY_TAG: &str = "cgw_";
/// Random bytes in the prefix.
pub const PREFIX_BYTES: usize = 8;
/// Random bytes in the secret part.
pub const SECRET_BYTES: usize = 32;

/// The stored form of a key: hex SHA-256 of the whole key.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The row-finding prefix of a well-formed key, or `None`.
pub fn prefix_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_TAG)?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = prefix.len() == 2 * PREFIX_BYTES
        && secret.len() == 2 * SECRET_BYTES
        && rest.bytes().all(|b| b == b'_' || b.is_ascii_hexdigit());
    well_formed.then(|| &key[..KEY_TAG.len() + prefix.len()])
}

/// `text` with every well-formed key in it replaced by its prefix and
/// `_[redacted]`. Error messages may quote what a client wrote (an unknown
/// field, a bad value); a key pasted into a query must not travel on in
/// them.
pub fn redact(text: &str) -> Cow<'_, str> {
    let key_len = KEY_TAG.len() + 2 * PREFIX_BYTES + 1 + 2 * SECRET_BYTES;
    if !text.contains(KEY_TAG) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY_TAG) {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        match candidate.get(..key_len).and_then(prefix_of) {
            Some(prefix) => {
                out.push_str(prefix);
                out.push_str("_[redacted]");
                rest = &candidate[key_len..];
            }
            None => {
                out.push_str(KEY_TAG);
                rest = &candidate[KEY_TAG.len()..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_text_are_redacted_to_their_prefix() {
        let key = format!("cgw_{}_{}", "a".repeat(16), "b".repeat(64));
        assert_eq!(
            redact(&format!("Unknown field \"{key}\" on Query; cgw_ alone")),
            format!(
                "Unknown field \"cgw_{}_[redacted]\" on Query; cgw_ alone",
                "a".repeat(16)
            )
        );
        assert!(matches!(redact("no keys here"), Cow::Borrowed(_)));
    }

    #[test]
    fn prefix_is_found_only_in_well_formed_keys() {
        let key = format!("cgw_{}_{}", "a".repeat(16), "b".repeat(64));
        assert_eq!(prefix_of(&key), Some(&key[..20]));
        assert_eq!(prefix_of("cgw_abc_def"), None);
        assert_eq!(prefix_of(&key.replace("cgw_", "xyz_")), None);
        assert_eq!(
            prefix_of(&format!("cgw_{}_{}", "g".repeat(16), "b".repeat(64))),
            None
        );
        assert_eq!(prefix_of(""), None);
    }
}
