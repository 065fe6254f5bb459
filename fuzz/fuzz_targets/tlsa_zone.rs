//! Any bytes as the published TLSA records `--check-tlsa` and `.pflint.yaml`'s
//! `tlsa-file` read (zone-file lines, `dig` output): no panic, every record and error on
//! a line of the text, and each record's data written back as a zone line reads as the
//! same record.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pflint::tlsa::zone;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count().max(1) as u32;
    match zone::parse(&text) {
        Ok(records) => {
            for record in records {
                assert!(record.line >= 1 && record.line <= lines, "line {}", record.line);
                if record.tlsa.data.is_empty() {
                    continue;
                }
                let again = format!("_25._tcp.mx.example. 3600 IN TLSA {}\n", record.tlsa.rdata());
                let read = zone::parse(&again).unwrap_or_else(|e| panic!("{again:?}: {e}"));
                assert_eq!(read.len(), 1, "{again:?}");
                assert_eq!(read[0].tlsa, record.tlsa, "{again:?}");
            }
        }
        Err(error) => assert!(error.line >= 1 && error.line <= lines + 1, "{error}"),
    }
});
