//! Relay safety: the restriction that keeps smtpd from relaying for everyone, and who
//! `mynetworks` lets relay.

use std::net::IpAddr;

use super::{Hit, at, written};
use crate::model::config::Scope;
use crate::model::subject::Subject;
use crate::model::typed::Classes;
use crate::rules::condition::Context;
use crate::rules::engine::shown_value;

/// The restrictions smtpd requires in one of its two relay-related lists
/// (`smtpd_check_init()`): without one, it refuses to start.
const REQUIRED: [&str; 6] = [
    "reject_unauth_destination",
    "defer_unauth_destination",
    "reject",
    "defer",
    "defer_if_permit",
    "check_relay_domains",
];

/// smtpd's `has_required()`: whether `list` reaches a required restriction before an
/// unconditional `permit`, looking into restriction classes (bounded, as classes may
/// name each other; each is read once per list, see [`Classes`]). Not a walk of
/// `Config::restrictions`' flat list: a `permit` inside a class ends only that class.
fn has_required(
    cx: &Context<'_, '_>,
    list: &[Vec<u8>],
    classes: &mut Classes,
    depth: usize,
) -> bool {
    if depth > Classes::MAX_DEPTH {
        return false;
    }
    let mut items = list.iter();
    while let Some(item) = items.next() {
        let item_text = String::from_utf8_lossy(item).to_ascii_lowercase();
        if item_text == "warn_if_reject" {
            items.next();
            continue;
        }
        if item_text == "permit" {
            return false;
        }
        if REQUIRED.contains(&item_text.as_str()) {
            return true;
        }
        // At the bound a class is not read, and stays unread for a shallower naming.
        if depth < Classes::MAX_DEPTH && classes.enter(item) == Some(true) {
            let name = String::from_utf8_lossy(item).into_owned();
            let expansion = cx.config.list(cx.scope, &name).unwrap_or_default();
            if has_required(cx, &expansion, classes, depth + 1) {
                return true;
            }
        }
    }
    false
}

/// PF701: neither relay-related restriction list has a working
/// `reject_unauth_destination` (or its kin): smtpd refuses to start.
pub fn missing_relay_restriction(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let inherited = || {
        cx.config.restrictions_read_as_main(
            cx.scope,
            &["smtpd_relay_restrictions", "smtpd_recipient_restrictions"],
        )
    };
    cx.shared_hits("missing-relay-restriction", inherited, || {
        relay_unchecked(cx)
    })
}

fn relay_unchecked(cx: &Context<'_, '_>) -> Vec<Hit> {
    let list = |name: &str| cx.config.list(cx.scope, name).unwrap_or_default();
    let mut classes = cx.config.restriction_classes(cx.scope);
    let relay = list("smtpd_relay_restrictions");
    let recipient = list("smtpd_recipient_restrictions");
    let relay_checked = has_required(cx, &relay, &mut classes, 0);
    classes.start_walk();
    if relay_checked || has_required(cx, &recipient, &mut classes, 0) {
        return Vec::new();
    }
    let cause = ["smtpd_relay_restrictions", "smtpd_recipient_restrictions"]
        .into_iter()
        .find(|p| cx.config.setting_location(cx.scope, p).is_some())
        .unwrap_or("smtpd_relay_restrictions");
    vec![Hit {
        cause: Some(cause.to_owned()),
        message: "neither smtpd_relay_restrictions nor smtpd_recipient_restrictions reaches reject_unauth_destination before an unconditional permit: smtpd refuses to start rather than relay for everyone".to_owned(),
        label: format!("{cause} = {}", shown_value(cx, cause)),
        ..Hit::default()
    }]
}

/// A network in a `mynetworks` list: address and prefix length.
fn network(element: &str) -> Option<(IpAddr, u8)> {
    let element = element.trim();
    let (address, prefix) = match element.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (element, None),
    };
    let address = address.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = address.parse().ok()?;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    Some((ip, prefix.unwrap_or(full).min(full)))
}

/// Whether an address is outside the private, loopback, link-local and shared ranges.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

fn mynetworks_settings(cx: &Context<'_, '_>) -> Vec<super::Written> {
    written(cx, |name, _| name == "mynetworks").collect()
}

/// PF702: `mynetworks` includes every address, so everyone may relay.
pub fn mynetworks_everything(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    mynetworks_settings(cx)
        .iter()
        .filter_map(|w| {
            let everything = crate::model::value::elements(w.value.as_bytes())
                .iter()
                .filter_map(|e| network(&String::from_utf8_lossy(e)))
                .find(|(_, prefix)| *prefix == 0)?;
            Some(at(
                w,
                format!(
                    "mynetworks contains {}/0: every host on the Internet may relay through this server",
                    everything.0
                ),
                "permit_mynetworks trusts these networks".to_owned(),
            ))
        })
        .collect()
}

/// PF703: `mynetworks` trusts a large block of public addresses, written or computed from
/// `mynetworks_style`.
pub fn mynetworks_public(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let broad = |text: &str| -> Vec<String> {
        crate::model::value::elements(text.as_bytes())
            .iter()
            .filter_map(|e| {
                let e = String::from_utf8_lossy(e).into_owned();
                let (ip, prefix) = network(&e)?;
                let limit = if ip.is_ipv4() { 16 } else { 32 };
                (is_public(ip) && prefix > 0 && prefix < limit).then_some(e)
            })
            .collect()
    };
    let mut hits: Vec<Hit> = mynetworks_settings(cx)
        .iter()
        .filter_map(|w| {
            let found = broad(&w.value);
            (!found.is_empty()).then(|| {
                at(
                    w,
                    format!(
                        "mynetworks trusts large public networks ({}): every host in them may relay",
                        found.join(", ")
                    ),
                    "permit_mynetworks trusts these networks".to_owned(),
                )
            })
        })
        .collect();
    if cx
        .config
        .setting_location(Scope::Main, "mynetworks")
        .is_none()
    {
        let computed = shown_value(cx, "mynetworks");
        let public: Vec<String> = crate::model::value::elements(computed.as_bytes())
            .iter()
            .filter_map(|e| {
                let e = String::from_utf8_lossy(e).into_owned();
                let (ip, prefix) = network(&e)?;
                let full = if ip.is_ipv4() { 32 } else { 128 };
                (is_public(ip) && prefix < full).then_some(e)
            })
            .collect();
        if !public.is_empty() {
            hits.push(Hit {
                cause: Some("mynetworks_style".to_owned()),
                message: format!(
                    "mynetworks is computed from mynetworks_style = {} and trusts public networks of this host ({}): their other hosts may relay",
                    shown_value(cx, "mynetworks_style"),
                    public.join(", ")
                ),
                label: "set mynetworks explicitly, or mynetworks_style = host".to_owned(),
                ..Hit::default()
            });
        }
    }
    hits
}

/// The parameters whose values are lists of domains (with tables and `!` exclusions).
const DOMAIN_LISTS: [&str; 4] = [
    "mydestination",
    "relay_domains",
    "virtual_alias_domains",
    "virtual_mailbox_domains",
];

/// What a `*` pattern in a domain list means to someone who wrote it as a wildcard, when
/// it is one: Postfix matches it as a literal name, which no domain has.
fn star_pattern(element: &[u8]) -> Option<String> {
    let element = String::from_utf8_lossy(element);
    let pattern = element.strip_prefix('!').unwrap_or(&element);
    if pattern == "*" {
        return Some("`*` is not a wildcard here: it matches no domain".to_owned());
    }
    let parent = pattern.strip_prefix("*.")?;
    Some(format!(
        "`{pattern}` is not a wildcard here: it matches no domain (`.{parent}` matches the subdomains of {parent})"
    ))
}

/// PF705: a `*` written as a wildcard in a domain list.
pub fn star_in_domain_list(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    written(cx, |name, _| DOMAIN_LISTS.contains(&name))
        .filter_map(|w| {
            let meaning = crate::model::value::elements(w.value.as_bytes())
                .into_iter()
                .find_map(star_pattern)?;
            Some(at(
                &w,
                format!("{meaning} in {}", w.name),
                "a literal `*`, not a wildcard".to_owned(),
            ))
        })
        .collect()
}

/// PF704: a backup MX or relay that accepts every recipient of the domains it relays
/// for, so it bounces what the final server rejects, to forged senders.
pub fn relay_without_recipients(cx: &Context<'_, '_>, _: &Subject) -> Vec<Hit> {
    let list = |name: &str| cx.config.list(cx.scope, name).unwrap_or_default();
    let local: Vec<Vec<u8>> = list("mydestination")
        .into_iter()
        .map(|d| d.to_ascii_lowercase())
        .collect();
    let relayed: Vec<String> = list("relay_domains")
        .into_iter()
        .filter(|d| star_pattern(d).is_none() && !local.contains(&d.to_ascii_lowercase()))
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .collect();
    let Some(first) = relayed.first() else {
        return Vec::new();
    };
    let checked = !list("relay_recipient_maps").is_empty()
        || ["smtpd_relay_restrictions", "smtpd_recipient_restrictions"]
            .into_iter()
            .any(|l| {
                cx.config
                    .restrictions(cx.scope, l)
                    .iter()
                    .any(|r| r == "reject_unverified_recipient")
            });
    if checked {
        return Vec::new();
    }
    let more = match relayed.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    vec![Hit {
        cause: Some("relay_domains".to_owned()),
        message: format!(
            "relay_domains ({first}{more}) with an empty relay_recipient_maps: every address there is accepted, and what the final server rejects bounces to forged senders (backscatter)"
        ),
        label: "no list of valid recipients".to_owned(),
        ..Hit::default()
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_public_space() {
        assert_eq!(network("0.0.0.0/0").map(|n| n.1), Some(0));
        assert_eq!(network("[::]/0").map(|n| n.1), Some(0));
        assert_eq!(network("192.0.2.7").map(|n| n.1), Some(32));
        assert_eq!(network("hash:/etc/postfix/networks"), None);
        assert!(is_public("8.0.0.0".parse().unwrap()));
        assert!(!is_public("10.1.0.0".parse().unwrap()));
        assert!(!is_public("100.64.0.0".parse().unwrap()));
        assert!(!is_public("fd00::".parse().unwrap()));
        assert!(is_public("2001:db8::".parse().unwrap()));
    }
}
