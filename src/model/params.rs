//! Facts about individual parameters.

/// Parameters whose values Postfix reads raw, without `$name` expansion: `$` in them has
/// its own meaning at delivery or reply time (`CONFIG_RAW_TABLE` in Postfix's
/// `src/smtpd/smtpd.c`, `src/local/local.c` and `src/postscreen/postscreen.c`; postconf
/// skips them when it scans values for `$name`).
const RAW: [&str; 9] = [
    "command_execution_directory",
    "default_rbl_reply",
    "forward_path",
    "luser_relay",
    "mailbox_command",
    "postscreen_expansion_filter",
    "postscreen_reject_footer",
    "smtpd_expansion_filter",
    "smtpd_reject_footer",
];

/// True when Postfix does not expand `$name` in this parameter's value.
pub fn is_raw(name: &[u8]) -> bool {
    RAW.iter().any(|raw| raw.as_bytes() == name)
}
