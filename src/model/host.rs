//! Facts about the machine that Postfix computes some defaults from: its host name, its
//! network interfaces, and the program that reads the configuration.
//!
//! The model takes these as input ([`crate::host`] reads the machine's own), so tests can
//! fix them (the corpus oracle was produced on `mail.example.test` with only the loopback
//! interface up) and so that a configuration kept in a repository is not judged by the
//! facts of the machine that checks it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One address of a network interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterfaceAddress {
    /// The address.
    pub ip: IpAddr,
    /// Its network prefix length.
    pub prefix: u8,
}

impl InterfaceAddress {
    /// An address with a prefix length.
    pub fn new(ip: IpAddr, prefix: u8) -> InterfaceAddress {
        InterfaceAddress { ip, prefix }
    }
}

/// Where the facts come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactSource {
    /// Read from the machine pflint runs on.
    Local,
    /// Given or assumed: they may not describe the host the configuration is for.
    Assumed,
}

/// Host and process facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFacts {
    /// The system host name (`uname -n`), possibly without a domain.
    pub hostname: String,
    /// Interface addresses, in the order the system lists them.
    pub interfaces: Vec<InterfaceAddress>,
    /// What the host's resolver gives for `localhost` (an `inet_interfaces` name).
    pub localhost: Vec<IpAddr>,
    /// The name of the program that reads the configuration (`$process_name`).
    pub process_name: String,
    /// Its process id (`$process_id`).
    pub process_id: u32,
    /// Where these facts come from.
    pub source: FactSource,
}

impl HostFacts {
    /// The facts of the corpus oracle: `mail.example.test`, only `lo` up, and postconf as
    /// PID 1 of its namespace.
    pub fn corpus() -> HostFacts {
        HostFacts {
            hostname: "mail.example.test".to_owned(),
            interfaces: loopback(),
            localhost: loopback().into_iter().map(|a| a.ip).collect(),
            process_name: "postconf".to_owned(),
            process_id: 1,
            source: FactSource::Assumed,
        }
    }

    /// Neutral facts for a configuration that is not this machine's.
    pub fn assumed() -> HostFacts {
        HostFacts {
            hostname: "localhost.localdomain".to_owned(),
            interfaces: loopback(),
            localhost: loopback().into_iter().map(|a| a.ip).collect(),
            process_name: "postconf".to_owned(),
            process_id: 1,
            source: FactSource::Assumed,
        }
    }
}

/// The loopback addresses, the interfaces a machine always has.
pub fn loopback() -> Vec<InterfaceAddress> {
    vec![
        InterfaceAddress::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8),
        InterfaceAddress::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
    ]
}

/// `myhostname`'s default: the host name, with `.$mydomain` appended when it has no dot
/// (`mydomain` is main.cf's value if set, else `localdomain`).
pub fn default_myhostname(hostname: &str, mydomain_setting: Option<&str>) -> String {
    if hostname.contains('.') {
        hostname.to_owned()
    } else {
        format!("{hostname}.{}", mydomain_setting.unwrap_or("localdomain"))
    }
}

/// `mydomain`'s default: what follows the first dot of `$myhostname`, else `localdomain`.
pub fn default_mydomain(myhostname: &str) -> String {
    match myhostname.split_once('.') {
        Some((_, domain)) => domain.to_owned(),
        None => "localdomain".to_owned(),
    }
}

/// How `mynetworks` is derived from the interfaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworksStyle {
    /// Each interface address alone.
    Host,
    /// The subnet of each interface.
    Subnet,
    /// The class A/B/C network of each IPv4 address (subnets for IPv6).
    Class,
}

impl NetworksStyle {
    /// Parses a `mynetworks_style` value as Postfix does (`name_mask()`, case-sensitive):
    /// the words must all be style names and name exactly one style.
    pub fn parse(value: &str) -> Result<NetworksStyle, String> {
        let mut style = None;
        for word in split_list(value) {
            let this = match word {
                "host" => NetworksStyle::Host,
                "subnet" => NetworksStyle::Subnet,
                "class" => NetworksStyle::Class,
                other => {
                    return Err(format!(
                        "unknown mynetworks mask style value \"{other}\" in \"{value}\""
                    ));
                }
            };
            if style.is_some_and(|s| s != this) {
                return Err(format!(
                    "bad mynetworks_style value: {value}; specify exactly one value"
                ));
            }
            style = Some(this);
        }
        style.ok_or_else(|| {
            format!("bad mynetworks_style value: {value}; specify exactly one value")
        })
    }
}

/// Checks an `inet_protocols` value as Postfix does (`all`, `ipv4` and `ipv6` only) and
/// tells whether it enables any protocol; an empty value disables them all.
pub fn any_protocol(value: &str) -> Result<bool, String> {
    match split_list(value).find(|w| !matches!(*w, "all" | "ipv4" | "ipv6")) {
        Some(other) => Err(format!(
            "unknown inet_protocols value \"{other}\" in \"{value}\""
        )),
        None => Ok(split_list(value).next().is_some()),
    }
}

/// `mynetworks`'s default, formatted as Postfix formats it: each network followed by a
/// space (so the value ends in one), duplicates removed, IPv6 in brackets.
pub fn default_mynetworks(addresses: &[InterfaceAddress], style: NetworksStyle) -> String {
    let mut seen: Vec<String> = Vec::new();
    for address in addresses {
        let network = match address.ip {
            IpAddr::V4(ip) => {
                let bits = u32::from(ip);
                let prefix = match style {
                    NetworksStyle::Host => 32,
                    NetworksStyle::Subnet => address.prefix.min(32),
                    NetworksStyle::Class => class_prefix(bits),
                };
                let mask = if prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix)
                };
                format!("{}/{prefix}", Ipv4Addr::from(bits & mask))
            }
            IpAddr::V6(ip) => {
                let bits = u128::from(ip);
                let prefix = match style {
                    NetworksStyle::Host => 128,
                    NetworksStyle::Subnet | NetworksStyle::Class => address.prefix.min(128),
                };
                let mask = if prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(prefix))
                };
                format!("[{}]/{prefix}", Ipv6Addr::from(bits & mask))
            }
        };
        if !seen.contains(&network) {
            seen.push(network);
        }
    }
    seen.iter().map(|n| format!("{n} ")).collect()
}

/// The natural (class) prefix length of an IPv4 address.
fn class_prefix(bits: u32) -> u8 {
    match bits >> 28 {
        0x0..=0x7 => 8,
        0x8..=0xb => 16,
        0xc | 0xd => 24,
        _ => 4,
    }
}

/// The interface addresses `inet_interfaces` selects, as Postfix's `own_inet_addr_init()`
/// finds them for the `mynetworks` default: `all` (the whole value, exactly) takes every
/// interface, `loopback-only` the loopback ones; otherwise each listed name or address
/// is looked up for the protocols `inet_protocols` enables (`localhost` as the host's
/// resolver answers it; other host names cannot be resolved here and are skipped) and
/// must be an address of a local interface, whose prefix it takes. `Err` is the message
/// Postfix stops with.
pub fn selected_addresses(
    host: &HostFacts,
    inet_interfaces: &str,
    inet_protocols: &str,
) -> Result<Vec<InterfaceAddress>, String> {
    let protocols: Vec<&str> = split_list(inet_protocols).collect();
    let any_protocol = protocols.contains(&"all");
    let want_v4 = any_protocol || protocols.contains(&"ipv4");
    let want_v6 = any_protocol || protocols.contains(&"ipv6");
    let allowed = |ip: &IpAddr| if ip.is_ipv4() { want_v4 } else { want_v6 };
    let local = host.interfaces.iter().copied().filter(|a| allowed(&a.ip));
    match inet_interfaces {
        "all" => return Ok(local.collect()),
        "loopback-only" => return Ok(local.filter(|a| a.ip.is_loopback()).collect()),
        _ => {}
    }
    let mut wanted: Vec<IpAddr> = Vec::new();
    for name in split_list(inet_interfaces) {
        let inner = match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            Some(inner) => inner,
            None => name,
        };
        let found: Vec<IpAddr> = if let Ok(ip) = inner.parse::<IpAddr>() {
            vec![ip]
        } else if inner.eq_ignore_ascii_case("localhost") {
            host.localhost.clone()
        } else if crate::model::value::is_host_name(inner.as_bytes())
            && !inner.eq_ignore_ascii_case("all")
            && !inner.eq_ignore_ascii_case("loopback-only")
        {
            // Only a name server knows; Postfix would ask one. (The keywords count only
            // as the whole value: in a list they are names no resolver has.)
            continue;
        } else {
            Vec::new()
        };
        let found: Vec<IpAddr> = found.into_iter().filter(|ip| allowed(ip)).collect();
        if found.is_empty() {
            return Err(format!(
                "config variable inet_interfaces: host not found: {name}"
            ));
        }
        for ip in found {
            if !wanted.contains(&ip) {
                wanted.push(ip);
            }
        }
    }
    wanted
        .into_iter()
        .map(|ip| {
            host.interfaces
                .iter()
                .copied()
                .find(|a| a.ip == ip)
                .ok_or_else(|| {
                    format!("parameter inet_interfaces: no local interface found for {ip}")
                })
        })
        .collect()
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str, prefix: u8) -> InterfaceAddress {
        InterfaceAddress::new(s.parse().unwrap(), prefix)
    }

    #[test]
    fn mynetworks_like_postfix() {
        let interfaces = [
            addr("127.0.0.1", 8),
            addr("192.0.2.10", 24),
            addr("::1", 128),
            addr("fe80::1", 64),
        ];
        assert_eq!(
            default_mynetworks(&interfaces, NetworksStyle::Subnet),
            "127.0.0.0/8 192.0.2.0/24 [::1]/128 [fe80::]/64 "
        );
        assert_eq!(
            default_mynetworks(&interfaces, NetworksStyle::Host),
            "127.0.0.1/32 192.0.2.10/32 [::1]/128 [fe80::1]/128 "
        );
        assert_eq!(
            default_mynetworks(&interfaces[1..2], NetworksStyle::Class),
            "192.0.2.0/24 "
        );
    }

    #[test]
    fn host_and_domain_defaults() {
        assert_eq!(
            default_myhostname("mail.example.test", None),
            "mail.example.test"
        );
        assert_eq!(default_myhostname("vm", None), "vm.localdomain");
        assert_eq!(
            default_myhostname("vm", Some("example.org")),
            "vm.example.org"
        );
        assert_eq!(default_mydomain("mail.example.test"), "example.test");
        assert_eq!(default_mydomain("localhost"), "localdomain");
    }

    #[test]
    fn interface_selection() {
        let host = HostFacts {
            interfaces: vec![
                addr("127.0.0.1", 8),
                addr("192.0.2.10", 24),
                addr("::1", 128),
            ],
            localhost: vec!["127.0.0.1".parse().unwrap()],
            ..HostFacts::assumed()
        };
        let select =
            |interfaces: &str, protocols: &str| selected_addresses(&host, interfaces, protocols);
        assert_eq!(select("all", "ipv4").map(|a| a.len()), Ok(2));
        assert_eq!(
            select("loopback-only", "all"),
            Ok(vec![addr("127.0.0.1", 8), addr("::1", 128)])
        );
        assert_eq!(
            select("192.0.2.10", "all"),
            Ok(vec![addr("192.0.2.10", 24)])
        );
        assert_eq!(
            select("[::1], localhost", "all"),
            Ok(vec![addr("::1", 128), addr("127.0.0.1", 8)])
        );
        // A name server would have to say.
        assert_eq!(select("mail.example.com", "all"), Ok(vec![]));
        // What postconf stops with.
        assert_eq!(
            select("192.0.2.1", "all"),
            Err("parameter inet_interfaces: no local interface found for 192.0.2.1".to_owned())
        );
        // Not found: no host, an address or `localhost` of a disabled protocol, and a
        // keyword inside a list (Postfix compares `all` with the whole value).
        for (interfaces, protocols, name) in [
            (":", "all", ":"),
            ("127.0.0.1", "ipv6", "127.0.0.1"),
            ("localhost", "ipv6", "localhost"),
            ("all, 127.0.0.1", "all", "all"),
        ] {
            assert_eq!(
                select(interfaces, protocols),
                Err(format!(
                    "config variable inet_interfaces: host not found: {name}"
                )),
            );
        }
    }
}
