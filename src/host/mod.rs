//! The machine pflint runs on, read at the edge: its host name and interfaces, and the
//! Postfix installed on it. The model takes these as [`HostFacts`] and reads nothing.
//!
//! Limitation: Postfix lists the addresses of interfaces that are administratively up;
//! pflint lists those of every interface (the portable interface list does not say which
//! are up), so an address on a down interface appears in pflint's default `mynetworks`.

pub mod installed;

use std::net::IpAddr;

use crate::model::host::{FactSource, HostFacts, InterfaceAddress, loopback};

/// The facts of the machine pflint runs on, as far as it can read them.
pub fn local() -> HostFacts {
    HostFacts {
        hostname: local_hostname().unwrap_or_else(|| "localhost".to_owned()),
        interfaces: local_interfaces(),
        localhost: localhost_addresses(),
        process_name: "postconf".to_owned(),
        process_id: std::process::id(),
        source: FactSource::Local,
    }
}

/// What the resolver gives for `localhost` (`/etc/hosts` on most systems), in its order.
fn localhost_addresses() -> Vec<IpAddr> {
    use std::net::ToSocketAddrs;
    let mut addresses: Vec<IpAddr> = Vec::new();
    if let Ok(found) = ("localhost", 0).to_socket_addrs() {
        for address in found {
            if !addresses.contains(&address.ip()) {
                addresses.push(address.ip());
            }
        }
    }
    addresses
}

fn local_hostname() -> Option<String> {
    // Linux exposes uname's node name here; it is what Postfix's get_hostname() returns.
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

fn local_interfaces() -> Vec<InterfaceAddress> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => {
            let mut v4 = Vec::new();
            let mut v6 = Vec::new();
            for interface in interfaces {
                let address = match interface.addr {
                    if_addrs::IfAddr::V4(a) => InterfaceAddress::new(
                        IpAddr::V4(a.ip),
                        u32::from(a.netmask).count_ones() as u8,
                    ),
                    if_addrs::IfAddr::V6(a) => InterfaceAddress::new(
                        IpAddr::V6(a.ip),
                        u128::from(a.netmask).count_ones() as u8,
                    ),
                };
                if address.ip.is_ipv4() {
                    v4.push(address);
                } else {
                    v6.push(address);
                }
            }
            v4.extend(v6);
            v4
        }
        Err(_) => loopback(),
    }
}
