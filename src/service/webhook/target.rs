//! Where a webhook may be sent. A URL a workspace registers is a request
//! the gateway will make from inside its network, so it must not reach
//! what only that network can: loopback, private and link-local ranges
//! (cloud metadata services live at 169.254.169.254 and fd00:ec2::254).
//! The check runs when an endpoint is registered and again on every
//! connection ([`Targets::allowed_addresses`], used as the sender's
//! resolver), since a name can resolve elsewhere later (DNS rebinding).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

use crate::error::{AppError, AppResult};

/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2_048;

/// What targets the process allows (`--webhook-allow-http`,
/// `--webhook-allow-private`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Targets {
    pub allow_http: bool,
    pub allow_private: bool,
}

impl Targets {
    /// `text` as an endpoint URL: https (or http when allowed), a host, no
    /// credentials or fragment, and a host that resolves only to public
    /// addresses (unless private ones are allowed). Errors name `field`.
    pub async fn check(&self, field: &str, text: &str) -> AppResult<Url> {
        let invalid = |reason: String| AppError::invalid(field, reason);
        if text.chars().count() > MAX_URL_CHARS {
            return Err(invalid(format!(
                "must be at most {MAX_URL_CHARS} characters"
            )));
        }
        let url = Url::parse(text).map_err(|e| invalid(format!("is not a URL: {e}")))?;
        // Normalised (an international name in punycode), it may grow.
        if url.as_str().len() > MAX_URL_CHARS {
            return Err(invalid(format!(
                "must be at most {MAX_URL_CHARS} characters"
            )));
        }
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(invalid(
                    "must be https (this gateway does not send webhooks over plain http)".into(),
                ));
            }
            other => return Err(invalid(format!("must be https, not {other}"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not carry a user name or password".into()));
        }
        if url.fragment().is_some() {
            return Err(invalid("must not have a fragment (#...)".into()));
        }
        let host = url
            .host()
            .ok_or_else(|| invalid("must name a host".into()))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses = match host {
            Host::Ipv4(ip) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Host::Ipv6(ip) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Host::Domain(name) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| invalid(format!("names a host that does not resolve: {name}")))?
                .collect(),
        };
        self.allowed_addresses(addresses).map_err(invalid)?;
        Ok(url)
    }

    /// `addresses` when every one of them may be connected to; otherwise
    /// why not.
    pub fn allowed_addresses(&self, addresses: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
        if addresses.is_empty() {
            return Err("names a host with no address".into());
        }
        if !self.allow_private
            && let Some(refused) = addresses.iter().find(|a| !is_public(a.ip()))
        {
            return Err(format!(
                "reaches {}, a loopback, private, link-local or otherwise internal address \
                 (allowed only with --webhook-allow-private)",
                refused.ip()
            ));
        }
        Ok(addresses)
    }
}

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, 192.0.0.0/24; benchmarking, 198.18.0.0/15.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
        // Reserved, 240.0.0.0/4.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local (fc00::/7: fd00:ec2::254 is a metadata service).
        || (first & 0xfe00) == 0xfc00
        // Link-local, fe80::/10.
        || (first & 0xffc0) == 0xfe80
        // IPv4-compatible and NAT64 forms can reach IPv4 inside.
        || ip.segments()[..6] == [0; 6]
        || (first == 0x64 && ip.segments()[1] == 0xff9b)
        // Documentation, 2001:db8::/32.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
