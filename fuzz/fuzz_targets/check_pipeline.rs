//! main.cf + master.cf → `check_files` → every report format: no panic, every finding
//! inside its file, and the JSON and SARIF documents are JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pflint::check::{self, Checked, Options};
use pflint::model::Version;
use pflint::model::version::Target;
use pflint::report::{self, Format, Style};
use pflint_fuzz::{assert_span_in, file, split};

/// The targets judged against: the default (the newest release pflint knows), and the
/// oldest release `generate` renders for, where many parameters are too new.
fn targets() -> [Options; 2] {
    [
        Options::default(),
        Options {
            target: Target::given(Version::new(3, 3)),
            ..Options::default()
        },
    ]
}

const FORMATS: [Format; 5] = [
    Format::Human,
    Format::Short,
    Format::Json,
    Format::Sarif,
    Format::Github,
];

fn render(format: Format, style: Style, checked: &[Checked]) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, so an error here is the renderer's own.
    report::write(format, style, checked, &mut out)
        .unwrap_or_else(|e| panic!("{format:?} output failed: {e}"));
    out
}

fuzz_target!(|data: &[u8]| {
    let (main, master) = split(data);
    for (i, options) in targets().iter().enumerate() {
        let checked = check::check_files(
            Some(file("main.cf", main)),
            master.map(|m| file("master.cf", m)),
            options,
        );
        // One result per file given, main.cf first.
        assert_eq!(checked.len(), 1 + usize::from(master.is_some()));
        for c in &checked {
            let len = c.file.bytes().len();
            for f in &c.findings {
                assert_span_in(f.span, len, f.code.as_str());
                let start = c.file.position(f.span.start);
                assert!(start.line >= 1 && start.column >= 1, "{start:?}");
            }
        }
        let findings: usize = checked.iter().map(|c| c.findings.len()).sum();
        // Every format on the first target's result. SARIF is slow (it carries the rule
        // catalog) and miette too, so the second result skips SARIF and colours.
        for format in FORMATS {
            let styles: &[Style] = match (format, i) {
                (Format::Human, 0) => &[Style::Plain, Style::Color],
                (Format::Sarif, 1..) => &[],
                _ => &[Style::Plain],
            };
            for &style in styles {
                let out = render(format, style, &checked);
                match format {
                    Format::Json => {
                        // The JSON document lists every finding (README's schema).
                        let doc: serde_json::Value = serde_json::from_slice(&out)
                            .unwrap_or_else(|e| panic!("JSON output is not JSON: {e}"));
                        let listed = doc["findings"].as_array().map(Vec::len);
                        assert_eq!(listed, Some(findings), "JSON findings");
                    }
                    Format::Sarif => {
                        serde_json::from_slice::<serde_json::Value>(&out)
                            .unwrap_or_else(|e| panic!("SARIF output is not JSON: {e}"));
                    }
                    Format::Human | Format::Short | Format::Github => {}
                }
            }
        }
    }
});
