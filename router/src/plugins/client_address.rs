//! Tells the subgraphs who is calling, in a header only the router sets:
//! `x-salesync-client-address`, the address the store subgraph throttles
//! failed logins by (beside the username).
//!
//! Whatever a client sends in that header is dropped. The address is the
//! TCP peer's, unless the peer is one of `trusted_proxies` (a load balancer
//! or ingress in front of the router): then it is the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy. With no trusted
//! proxies (the default), `X-Forwarded-For` is never believed, since any
//! client can write it.

use std::net::IpAddr;

use hive_router::{
    ntex::http::header::{HeaderName, HeaderValue},
    plugins::{
        hooks::{
            on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload},
            on_plugin_init::{OnPluginInitPayload, OnPluginInitResult},
        },
        plugin_trait::{RouterPlugin, StartHookPayload},
    },
};
use ipnet::IpNet;
use serde::Deserialize;

/// The header the subgraphs read.
pub const HEADER: &str = "x-salesync-client-address";

#[derive(Debug, Default, Deserialize)]
pub struct ClientAddressConfig {
    /// Networks whose `X-Forwarded-For` is believed (CIDR, e.g. `10.0.0.0/8`).
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
}

pub struct ClientAddressPlugin {
    trusted: Vec<IpNet>,
}

impl ClientAddressPlugin {
    fn is_trusted(&self, address: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&address))
    }

    /// The client's address, from the peer and what trusted proxies said.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        // Proxies append: the nearest hop is last. Walk back over trusted
        // proxies; the first other address is the client.
        let hops = forwarded_for
            .into_iter()
            .flat_map(|value| value.split(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        hops.iter()
            .rev()
            .copied()
            .find(|hop| !self.is_trusted(*hop))
            .or_else(|| hops.first().copied())
            .unwrap_or(peer)
    }
}

#[hive_router::async_trait]
impl RouterPlugin for ClientAddressPlugin {
    type Config = ClientAddressConfig;

    fn plugin_name() -> &'static str {
        "salesync_client_address"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let config = payload.config()?;
        Ok(Some(ClientAddressPlugin {
            trusted: config.trusted_proxies,
        }))
    }

    fn on_http_request<'req>(
        &'req self,
        mut payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &mut payload.router_http_request;
            let forwarded_for = request
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let address = request
                .peer_addr()
                .map(|peer| self.client_address(peer.ip(), forwarded_for.as_deref()));
            let headers = request.headers_mut();
            let name = HeaderName::from_static(HEADER);
            headers.remove(&name);
            if let Some(value) = address.and_then(|a| HeaderValue::from_str(&a.to_string()).ok()) {
                headers.insert(name, value);
            }
            payload.proceed()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(trusted: &[&str]) -> ClientAddressPlugin {
        ClientAddressPlugin {
            trusted: trusted.iter().map(|n| n.parse().expect("CIDR")).collect(),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() {
        let p = plugin(&[]);
        assert_eq!(
            p.client_address(ip("203.0.113.7"), Some("10.1.1.1")),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
        let p = plugin(&["10.0.0.0/8"]);
        // The client wrote a fake first hop; the proxies appended the real one.
        assert_eq!(
            p.client_address(ip("10.0.0.5"), Some("1.2.3.4, 198.51.100.9, 10.0.0.9")),
            ip("198.51.100.9")
        );
        assert_eq!(p.client_address(ip("10.0.0.5"), None), ip("10.0.0.5"));
        assert_eq!(
            p.client_address(ip("10.0.0.5"), Some("not an address")),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn a_peer_outside_the_trusted_networks_is_not_believed() {
        let p = plugin(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_address(ip("198.51.100.1"), Some("10.0.0.1")),
            ip("198.51.100.1")
        );
    }
}
