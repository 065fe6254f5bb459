//! The effective configuration of one Postfix instance, built the way postconf builds it.
//!
//! Construction follows `postconf`'s own order (src/postconf/postconf.c): master.cf
//! services, main.cf settings (the last assignment of a name wins), the built-in
//! parameters of the target version, the per-service parameters that master.cf delivery
//! services create, and then the user-defined names that count as used. That order matters:
//! it decides which names are known, which `$name` references are undefined and which
//! settings are unused, exactly where postconf warns.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::borrow::Cow;
use std::ops::Range;

use super::expand::{self, ExpandError, Lookup};
use super::host::{self, HostFacts, NetworksStyle};
use super::params::{ParamInfo, ParamTable, table};
use super::sorted::SortedMap;
use super::version::Version;
use crate::source::{SourceFile, Span};
use crate::syntax::master_cf::{FIELD_COUNT, Field, Override};
use crate::syntax::{
    Entry, MainCf, MasterCf, Parameter, ProblemKind, Service, Value, expr, lexical,
};

/// A parsed file and its source.
pub struct Parsed<'a, T> {
    /// The file's bytes and name.
    pub file: &'a SourceFile,
    /// Its tree.
    pub tree: &'a T,
}

impl<T> Clone for Parsed<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Parsed<'_, T> {}

/// What the model is built from.
pub struct Input<'a> {
    /// main.cf, if there is one.
    pub main: Option<Parsed<'a, MainCf>>,
    /// master.cf, if there is one.
    pub master: Option<Parsed<'a, MasterCf>>,
    /// The Postfix version whose parameters and defaults apply.
    pub version: Version,
    /// Facts for host-dependent defaults.
    pub host: &'a HostFacts,
    /// `postconf -c DIR` stores DIR as `config_directory` before reading main.cf.
    pub config_directory: Option<Vec<u8>>,
    /// Build only what `postconf -d` needs: no main.cf, no user-defined names.
    pub defaults_only: bool,
}

/// Which file a location is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileRole {
    /// main.cf
    Main,
    /// master.cf
    Master,
}

/// A place in main.cf or master.cf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file.
    pub file: FileRole,
    /// The bytes.
    pub span: Span,
}

/// A setting written in main.cf or as a master.cf `-o`, by its position in the model:
/// eight bytes each, where a large file has hundreds of thousands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrittenRef {
    /// The `-o` namespace, or [`WrittenRef::MAIN`].
    namespace: u32,
    /// The entry in that namespace's (or main.cf's) sorted settings.
    entry: u32,
}

impl WrittenRef {
    const MAIN: u32 = u32::MAX;
}

fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX - 1)
}

/// Where a main.cf setting is written (name to value), when main.cf wrote it.
fn main_location(setting: &MainSetting<'_>) -> Option<Location> {
    match setting.origin() {
        Origin::Main(p) => Some(Location {
            file: FileRole::Main,
            span: p.name_span().cover(p.value_span()),
        }),
        _ => None,
    }
}

/// Where an effective value comes from.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    /// Postfix's default for the target version and compatibility level.
    Default,
    /// A main.cf setting.
    Main(&'a Parameter),
    /// A master.cf `-o` override of the service with this index.
    Override {
        /// Index of the service in [`Config::services`].
        service: usize,
        /// The value's location in master.cf.
        location: Location,
    },
    /// Given on the command line (`postconf -c DIR` sets `config_directory`).
    CommandLine,
}

/// The class postconf gives a known name (`PCF_PARAM_FLAG_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Built into Postfix.
    Builtin,
    /// Created by a master.cf delivery service (`<service>_destination_concurrency_limit`, …).
    Service,
    /// User-defined, and used: referenced with `$name`, a restriction class, or a legacy name
    /// that main.cf sets.
    User,
    /// A renamed parameter's old name, kept for migration.
    Legacy,
}

/// A name the model knows beyond the built-in table of the target version (or a table
/// name whose class changed): service parameters, user-defined names, relabelled legacy
/// names.
struct Known {
    class: Class,
    info: Option<&'static ParamInfo>,
    /// For service parameters: `$default_parameter`.
    service_default: Option<&'static str>,
}

/// Which `transport_*` templates a delivery service takes (`postconf_service.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Takes {
    /// local, error, virtual, smtp, lmtp: all but `_time_limit`.
    Delivery,
    /// pipe: all.
    Pipe,
    /// spawn: `_time_limit` only.
    Spawn,
}

impl Takes {
    fn takes(self, suffix: &str) -> bool {
        match self {
            Takes::Delivery => suffix != "_time_limit",
            Takes::Pipe => true,
            Takes::Spawn => suffix == "_time_limit",
        }
    }
}

/// What the model knows about a name, wherever that knowledge comes from.
struct KnownRef<'k> {
    class: Class,
    info: Option<&'static ParamInfo>,
    service_default: Option<&'k str>,
}

/// Bytes borrowed from a file where they can be, owned where they were joined or made.
type Bytes<'a> = Cow<'a, [u8]>;

/// One main.cf setting in effect.
#[derive(Clone, Debug)]
pub struct MainSetting<'a> {
    /// The raw value, as Postfix stores it (borrowed from the file unless it was joined
    /// from continuation lines or computed), with its expression.
    pub value: Value<'a>,
    /// The main.cf line that sets it; none for `postconf -c`'s `config_directory`. (Not
    /// an [`Origin`]: a main.cf setting has only these two, and a large file has hundreds
    /// of thousands of settings.)
    parameter: Option<&'a Parameter>,
}

impl<'a> MainSetting<'a> {
    /// Where it was set.
    pub fn origin(&self) -> Origin<'a> {
        self.parameter.map_or(Origin::CommandLine, Origin::Main)
    }
}

/// A master.cf `-o name=value` in effect for a service.
#[derive(Clone, Debug)]
pub struct OverrideSetting<'a> {
    /// The raw value (borrowed from the file unless the option spans lines), with its
    /// expression.
    pub value: Value<'a>,
    /// The service (index in [`Config::services`]) that sets it.
    pub service: usize,
    /// The option's parts, as logical ranges of that service's text.
    pub option: &'a Override,
}

/// A master.cf service entry that Postfix accepts.
#[derive(Debug)]
pub struct ServiceEntry<'a> {
    /// Its node in the master.cf tree.
    pub node: &'a Service,
    fields: Fields<'a>,
    namespace: u32,
    /// What its command runs, told apart once: the rules ask for every service.
    daemon: Daemon,
    /// Whether its type is `unix` (the SMTP client rules ask it of every service).
    unix: bool,
    /// The user-defined names this service's settings make valid (most have none).
    valid_names: Option<Box<HashSet<Vec<u8>>>>,
}

/// The Postfix programs that the model and the rules tell apart by a service's command
/// (its base name, `$process_name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Daemon {
    /// The SMTP server.
    Smtpd,
    /// The SMTP client.
    Smtp,
    /// The LMTP client (the SMTP client's code).
    Lmtp,
    /// The zombie-blocking front end of port 25.
    Postscreen,
    /// Any other.
    Other,
}

/// Where a service's eight fields are read: in master.cf, where each is one run of
/// bytes, or joined, for the rare field whose braces cross a line.
#[derive(Debug)]
enum Fields<'a> {
    InFile(&'a [u8]),
    Joined(Box<[Vec<u8>; FIELD_COUNT]>),
}

impl<'a> ServiceEntry<'a> {
    fn new(node: &'a Service, src: &'a [u8], namespace: u32) -> ServiceEntry<'a> {
        let words = &node.words()[..FIELD_COUNT];
        let in_file = words
            .iter()
            .all(|w| matches!(node.text(src, w.clone()), Cow::Borrowed(_)));
        let fields = if in_file {
            Fields::InFile(src)
        } else {
            Fields::Joined(Box::new(std::array::from_fn(|i| {
                node.text(src, words[i].clone()).into_owned()
            })))
        };
        let mut entry = ServiceEntry {
            node,
            fields,
            namespace,
            daemon: Daemon::Other,
            unix: false,
            valid_names: None,
        };
        entry.unix = entry.kind() == b"unix";
        entry.daemon = match entry.process_name() {
            b"smtpd" => Daemon::Smtpd,
            b"smtp" => Daemon::Smtp,
            b"lmtp" => Daemon::Lmtp,
            b"postscreen" => Daemon::Postscreen,
            _ => Daemon::Other,
        };
        entry
    }

    /// What its command runs.
    pub fn daemon(&self) -> Daemon {
        self.daemon
    }

    /// Whether its type is `unix`.
    pub fn is_unix(&self) -> bool {
        self.unix
    }

    /// Its namespace: one number for every service of its `name/type`, below
    /// [`Config::namespace_count`].
    pub fn namespace(&self) -> usize {
        self.namespace as usize
    }

    /// The service as findings and edits name it: `name/type` (`submission/inet`).
    pub fn name_type(&self) -> String {
        format!(
            "{}/{}",
            String::from_utf8_lossy(self.name()),
            String::from_utf8_lossy(self.kind())
        )
    }

    fn field(&self, field: Field) -> &[u8] {
        let i = field as usize;
        match &self.fields {
            Fields::InFile(src) => {
                let span = self.node.source_span(self.node.words()[i].clone());
                &src[span.range()]
            }
            Fields::Joined(fields) => &fields[i],
        }
    }

    /// The service name field (`smtp`, `submission`, `127.0.0.1:10025`, …).
    pub fn name(&self) -> &[u8] {
        self.field(Field::Service)
    }

    /// The type field (`inet`, `unix`, …).
    pub fn kind(&self) -> &[u8] {
        self.field(Field::Type)
    }

    /// The command field (`smtpd`, `smtp`, `pipe`, …).
    pub fn command(&self) -> &[u8] {
        self.field(Field::Command)
    }

    fn is_valid_name(&self, name: &[u8]) -> bool {
        self.valid_names.as_ref().is_some_and(|n| n.contains(name))
    }

    fn make_valid(&mut self, name: &[u8]) {
        self.valid_names
            .get_or_insert_default()
            .insert(name.to_vec());
    }

    /// `$process_name` inside this service: the command's base name.
    pub fn process_name(&self) -> &[u8] {
        let command = self.command();
        command
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(command, |i| &command[i + 1..])
    }

    /// `$service_name`: the service name when it differs from the process name.
    pub fn service_name(&self) -> &[u8] {
        if self.process_name() == self.name() {
            self.process_name()
        } else {
            self.name()
        }
    }
}

struct Namespace<'a> {
    params: SortedMap<Bytes<'a>, OverrideSetting<'a>>,
}

/// The "unused parameter" warnings, kept apart from [`Config::issues`] as references to
/// the settings (eight bytes each, where an issue costs a hundred: a large file's
/// warnings are mostly these).
#[derive(Debug, Default)]
struct Unused {
    /// Their place among the issues: before the issues at this position.
    at: usize,
    /// The settings, in order.
    settings: Vec<WrittenRef>,
    /// (position in `settings`, the earlier stretch repeated there), in order.
    repeats: Vec<(usize, Range<usize>)>,
}

/// The services that set each `-o` name, for the scan of main.cf's references: a name
/// main.cf reads makes every service that sets it valid (a walk of all services for each
/// reference would be quadratic).
struct Setters<'a> {
    /// Each name: whether its services were made valid, and the namespaces that set it.
    names: HashMap<Bytes<'a>, (bool, Vec<u32>)>,
    /// The services of namespace `n` are `services[starts[n]..starts[n + 1]]`.
    starts: Vec<u32>,
    services: Vec<u32>,
}

impl<'a> Setters<'a> {
    fn of(services: &[ServiceEntry<'a>], namespaces: &[Namespace<'a>]) -> Setters<'a> {
        let mut names: HashMap<Bytes<'a>, (bool, Vec<u32>)> = HashMap::new();
        for (n, namespace) in namespaces.iter().enumerate() {
            for (name, _) in &namespace.params {
                names.entry(name.clone()).or_default().1.push(index_u32(n));
            }
        }
        let mut starts = vec![0u32; namespaces.len() + 1];
        for service in services {
            if let Some(count) = starts.get_mut(service.namespace as usize + 1) {
                *count += 1;
            }
        }
        for n in 1..starts.len() {
            starts[n] += starts[n - 1];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; services.len()];
        for (i, service) in services.iter().enumerate() {
            if let Some(at) = next.get_mut(service.namespace as usize) {
                order[*at as usize] = index_u32(i);
                *at += 1;
            }
        }
        Setters {
            names,
            starts,
            services: order,
        }
    }

    fn members(&self, namespace: u32) -> &[u32] {
        let n = namespace as usize;
        match (self.starts.get(n), self.starts.get(n + 1)) {
            (Some(&from), Some(&to)) => &self.services[from as usize..to as usize],
            _ => &[],
        }
    }
}

/// The issues taken from a model, the "unused parameter" ones still as references to
/// its settings.
#[derive(Debug)]
pub struct TakenIssues {
    before: Vec<Issue>,
    unused: Vec<WrittenRef>,
    after: Vec<Issue>,
}

impl TakenIssues {
    /// The issues in order, each "unused parameter" warning once; `config` is the model
    /// they were taken from.
    pub fn in_order<'c>(self, config: &'c Config<'_>) -> impl Iterator<Item = Issue> + 'c {
        self.before
            .into_iter()
            .chain(
                self.unused
                    .into_iter()
                    .filter_map(move |at| config.unused_issue(at)),
            )
            .chain(self.after)
    }
}

/// Something postconf warns about, with the place pflint found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// What it is.
    pub kind: IssueKind,
    /// Where it is.
    pub location: Location,
}

/// The kinds of [`Issue`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssueKind {
    /// A setting Postfix does not know or use ("unused parameter").
    Unknown {
        /// The name.
        name: Vec<u8>,
    },
    /// A `$name` with no value anywhere ("undefined parameter").
    Undefined {
        /// The name.
        name: Vec<u8>,
    },
    /// A setting of a parameter that only Postfix sets ("read-only parameter assignment").
    ReadOnly {
        /// The name.
        name: Vec<u8>,
    },
    /// A main.cf name set again with another value ("overriding earlier entry").
    Duplicate {
        /// The name.
        name: Vec<u8>,
        /// The assignment that is replaced.
        earlier: Span,
    },
    /// A value whose expansion fails ("macro processing error").
    Expansion {
        /// The parameter.
        name: Vec<u8>,
        /// Why (boxed: the common issues are small, and a large file has many).
        error: Box<ExpandError>,
    },
    /// A value every Postfix daemon refuses at start-up (postconf itself may not notice).
    InvalidValue {
        /// The parameter.
        name: Vec<u8>,
        /// What is wrong with it.
        message: String,
    },
}

/// Why postconf would stop instead of printing (exit status 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fatal {
    /// A line postconf refuses to read.
    Syntax(ProblemKind),
    /// A default that postconf computes from invalid settings (`mynetworks` from
    /// `mynetworks_style` and `inet_protocols`).
    HostDefault(String),
    /// A value whose expansion fails while postconf registers database parameters.
    Expansion {
        /// The parameter.
        name: Vec<u8>,
        /// Why.
        error: ExpandError,
    },
}

/// A parameter's expanded value: `None` when the name is unknown.
pub type ExpandedValue = Option<Result<Vec<u8>, ExpandError>>;

/// Whose values an expansion sees: main.cf and defaults, or also a service's `-o`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// main.cf and defaults.
    Main,
    /// The service with this index in [`Config::services`], then main.cf and defaults.
    Service(usize),
}

/// The effective configuration.
pub struct Config<'a> {
    /// The target Postfix version.
    pub version: Version,
    /// Host facts used for computed defaults.
    pub host: &'a HostFacts,
    table: &'static ParamTable,
    main_file: Option<&'a SourceFile>,
    master_file: Option<&'a SourceFile>,
    /// The names each value reads, as the parsers found them (see
    /// [`crate::syntax::Document::references`]).
    main_references: &'a [Range<u32>],
    master_references: &'a [Range<u32>],
    main: SortedMap<&'a [u8], MainSetting<'a>>,
    services: Vec<ServiceEntry<'a>>,
    namespaces: Vec<Namespace<'a>>,
    known: HashMap<Bytes<'a>, Known>,
    /// Which main.cf settings (by index in `main`) are user-defined names that count as
    /// used: a flag beside each, where a known-name entry would cost fifty bytes.
    main_user: Vec<bool>,
    /// The per-service parameters of master.cf delivery services, by service name: the
    /// template suffixes (`_destination_recipient_limit`) and defaults that service has.
    /// Looked up rather than listed name by name: 100 000 services would otherwise be a
    /// million names.
    service_params: HashMap<Vec<u8>, Takes>,
    /// The `transport_*` templates of the target version: (suffix, default).
    templates: Vec<(&'static str, &'static str)>,
    defaults_only: bool,
    /// Set while the default `mynetworks` is being computed, and when that computation
    /// needed itself (Postfix recurses until it crashes).
    computing_networks: std::cell::Cell<bool>,
    networks_loop: std::cell::Cell<bool>,
    /// Expanded values already computed, once the model is complete (rules ask for the
    /// same values for every subject; an expansion can be costly).
    expanded_memo: Option<std::cell::RefCell<HashMap<(Scope, String), Memo>>>,
    /// What postconf warns about, in the order found, each stretch that an entry of a
    /// shared namespace repeats listed once (see [`Config::warnings_in_order`]).
    pub issues: Vec<Issue>,
    /// The "unused parameter" warnings: their place in `issues`, and where an entry
    /// repeats the warnings of an earlier entry of its name and type.
    unused: Unused,
    /// Which services set each `-o` name, while main.cf's references are scanned.
    setters: Option<Setters<'a>>,
    /// Why postconf would exit with an error, if it would.
    pub fatal: Option<Fatal>,
}

impl<'a> Config<'a> {
    /// Builds the model.
    pub fn build(input: Input<'a>) -> Config<'a> {
        let mut config = Config {
            version: input.version,
            host: input.host,
            table: table(),
            main_file: input.main.map(|m| m.file),
            master_file: input.master.map(|m| m.file),
            main_references: input.main.map_or(&[][..], |m| &m.tree.references[..]),
            master_references: input.master.map_or(&[][..], |m| &m.tree.references[..]),
            main: SortedMap::last_wins(Vec::new()),
            services: Vec::new(),
            namespaces: Vec::new(),
            known: HashMap::new(),
            main_user: Vec::new(),
            service_params: HashMap::new(),
            templates: Vec::new(),
            defaults_only: input.defaults_only,
            computing_networks: std::cell::Cell::new(false),
            networks_loop: std::cell::Cell::new(false),
            expanded_memo: None,
            issues: Vec::new(),
            unused: Unused::default(),
            setters: None,
            fatal: None,
        };
        if let Some(master) = input.master {
            config.read_master(master);
        }
        if !input.defaults_only {
            // In the order set: `postconf -c` first, then main.cf from top to bottom.
            let mut written =
                Vec::with_capacity(input.main.map_or(0, |m| m.tree.entries().count()) + 1);
            if let Some(dir) = input.config_directory {
                written.push((
                    &b"config_directory"[..],
                    MainSetting {
                        value: Value::new(dir),
                        parameter: None,
                    },
                ));
            }
            if let Some(main) = input.main {
                config.read_main(main, &mut written);
            }
            let mut duplicates = Vec::new();
            config.main = SortedMap::last_wins_noting(written, |earlier, later| {
                duplicates.extend(duplicate(earlier, later));
            });
            duplicates.sort_by_key(|i: &Issue| i.location);
            config.issues.extend(duplicates);
            config.main_user = vec![false; config.main.len()];
        }
        config.register_services();
        if !input.defaults_only {
            config.register_user_names();
            config.check_computed_defaults();
            config.check_startup_values();
            config.flag_unused();
            config.check_expansions();
        }
        config.expanded_memo = Some(std::cell::RefCell::default());
        config
    }

    fn read_master(&mut self, master: Parsed<'a, MasterCf>) {
        let src = master.file.bytes();
        let mut namespace_of: HashMap<(Bytes<'a>, Bytes<'a>), usize> = HashMap::new();
        self.services.reserve_exact(master.tree.entries().count());
        // Each namespace's settings in the order written, the last of a name winning.
        let mut settings: Vec<Vec<(Bytes<'a>, OverrideSetting<'a>)>> = Vec::new();
        for service in master.tree.entries() {
            if let Some(kind) = service.refused() {
                self.fatal.get_or_insert(Fatal::Syntax(kind));
                continue;
            }
            let words = service.words();
            // By name and type, which is `name/type` (no type has a `/`).
            let key = (
                service.text(src, words[0].clone()),
                service.text(src, words[1].clone()),
            );
            let namespace = *namespace_of.entry(key).or_insert_with(|| {
                settings.push(Vec::new());
                settings.len() - 1
            });
            let index = self.services.len();
            for o in service.postconf_overrides() {
                let (Some(name), Some(value)) = (&o.name, o.value_with_parse(service, src)) else {
                    continue;
                };
                let name = match service.text(src, name.clone()) {
                    name if o.dashed => Cow::Owned([b"-", &name[..]].concat()),
                    name => name,
                };
                settings[namespace].push((
                    name,
                    OverrideSetting {
                        value,
                        service: index,
                        option: o,
                    },
                ));
            }
            self.services
                .push(ServiceEntry::new(service, src, index_u32(namespace)));
        }
        self.namespaces = settings
            .into_iter()
            .map(|written| Namespace {
                params: SortedMap::last_wins(written),
            })
            .collect();
    }

    fn read_main(
        &mut self,
        main: Parsed<'a, MainCf>,
        written: &mut Vec<(&'a [u8], MainSetting<'a>)>,
    ) {
        let src = main.file.bytes();
        for item in &main.tree.items {
            let parameter = match item {
                crate::syntax::Item::Entry(p) => &**p,
                crate::syntax::Item::Rejected(r) => {
                    if matches!(
                        r.reason(),
                        ProblemKind::MissingEquals | ProblemKind::MissingName
                    ) {
                        self.fatal.get_or_insert(Fatal::Syntax(r.reason()));
                    }
                    continue;
                }
                _ => continue,
            };
            written.push((
                parameter.name(src),
                MainSetting {
                    value: parameter.value_with_parse(src),
                    parameter: Some(parameter),
                },
            ));
        }
    }

    /// A known name: the model's own registry first, then the built-in table of the
    /// target version (postconf registers all built-ins first; consulting the table
    /// directly avoids copying a thousand names on every run).
    fn known(&self, name: &[u8]) -> Option<KnownRef<'_>> {
        self.known_by_postfix(name).or_else(|| {
            let user = self
                .main
                .index_of(name)
                .is_some_and(|i| self.main_user.get(i) == Some(&true));
            user.then_some(KnownRef {
                class: Class::User,
                info: None,
                service_default: None,
            })
        })
    }

    /// [`Config::known`] but for the user-defined names that count as used, which have
    /// no facts of their own: what asks only for facts need not look main.cf up.
    fn known_by_postfix(&self, name: &[u8]) -> Option<KnownRef<'_>> {
        if let Some(k) = self.known.get(name) {
            return Some(KnownRef {
                class: k.class,
                info: k.info,
                service_default: k.service_default,
            });
        }
        if let Some(default) = self.service_param(name) {
            return Some(KnownRef {
                class: Class::Service,
                info: None,
                service_default: Some(default),
            });
        }
        let info = std::str::from_utf8(name)
            .ok()
            .and_then(|n| self.table.get_in(n, self.version))?;
        Some(KnownRef {
            class: if info.is_legacy_in(self.version) {
                Class::Legacy
            } else {
                Class::Builtin
            },
            info: Some(info),
            service_default: None,
        })
    }

    fn is_known(&self, name: &[u8]) -> bool {
        self.known(name).is_some()
    }

    /// Changes the class of a known name.
    fn reclassify(&mut self, name: &[u8], class: Class) {
        let info = self.known_by_postfix(name).and_then(|k| k.info);
        self.known
            .entry(Cow::Owned(name.to_vec()))
            .and_modify(|k| k.class = class)
            .or_insert(Known {
                class,
                info,
                service_default: None,
            });
    }

    /// The default of `name` when it is a per-service parameter (`<service><suffix>`) of
    /// a master.cf delivery service.
    fn service_param(&self, name: &[u8]) -> Option<&'static str> {
        if self.service_params.is_empty() {
            return None;
        }
        name.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'_')
            .find_map(|(i, _)| {
                let takes = self.service_params.get(&name[..i])?;
                self.templates
                    .iter()
                    .find(|(suffix, _)| takes.takes(suffix) && suffix.as_bytes() == &name[i..])
                    .map(|(_, default)| *default)
            })
    }

    /// Per-service parameters of master.cf delivery services (`postconf_service.c`): which
    /// template suffixes each delivery program takes.
    fn register_services(&mut self) {
        self.templates = self
            .table
            .all()
            .iter()
            .filter(|p| p.template && p.since.iter().all(|s| s.holds_at(self.version)))
            .filter_map(|p| {
                let suffix = p.name.strip_prefix("transport")?;
                Some((suffix, p.default_at(self.version)))
            })
            .collect();
        // The service names that have a built-in per-service parameter: a few, where a
        // large master.cf has a hundred thousand delivery services to try.
        let with_builtins: HashSet<&[u8]> = self
            .table
            .all()
            .iter()
            .flat_map(|p| {
                self.templates
                    .iter()
                    .filter_map(|(suffix, _)| p.name.strip_suffix(suffix))
            })
            .map(str::as_bytes)
            .collect();
        let mut builtins = Vec::new();
        for service in &self.services {
            let takes = match service.command() {
                b"local" | b"error" | b"virtual" | b"smtp" | b"lmtp" => Takes::Delivery,
                b"pipe" => Takes::Pipe,
                b"spawn" => Takes::Spawn,
                _ => continue,
            };
            self.service_params.insert(service.name().to_vec(), takes);
            if !with_builtins.contains(service.name()) {
                continue;
            }
            for (suffix, _) in self.templates.iter().filter(|(s, _)| takes.takes(s)) {
                let name = [service.name(), suffix.as_bytes()].concat();
                // A built-in with its own default, such as local_destination_concurrency_limit.
                let builtin = std::str::from_utf8(&name)
                    .ok()
                    .and_then(|n| self.table.get_in(n, self.version));
                if let Some(info) = builtin {
                    builtins.push((name, info));
                }
            }
        }
        for (name, info) in builtins {
            self.known.insert(
                Cow::Owned(name),
                Known {
                    class: Class::Service,
                    info: Some(info),
                    service_default: None,
                },
            );
        }
    }

    /// User-defined names that count as used (`pcf_register_user_parameters`): first each
    /// master.cf scope, then the defaults, then main.cf.
    fn register_user_names(&mut self) {
        let mut restriction_classes: HashSet<Vec<u8>> = HashSet::new();
        for service in 0..self.services.len() {
            self.scan_scope(Scope::Service(service), &mut restriction_classes);
        }
        // postconf scans default values here too; every name they mention is a known
        // parameter (a test checks this for every version), so the scan changes nothing.
        self.scan_scope(Scope::Main, &mut restriction_classes);
        self.setters = None;
    }

    /// The setting at `index` (in name order) of one scope: (name, value, where the value
    /// is). Read one at a time: a copy of a large main.cf's whole list would cost eighty
    /// bytes a setting.
    fn scope_setting(
        &self,
        scope: Scope,
        index: usize,
    ) -> Option<(Bytes<'a>, Value<'a>, ValueSite<'a>)> {
        match scope {
            Scope::Main => self.main.at(index).map(|(name, s)| {
                let site = match s.origin() {
                    Origin::Main(p) => ValueSite::Main(p),
                    _ => ValueSite::Nowhere,
                };
                (Cow::Borrowed(*name), s.value.clone(), site)
            }),
            Scope::Service(i) => {
                let namespace = self.services[i].namespace;
                self.namespaces[namespace as usize]
                    .params
                    .at(index)
                    .map(|(name, s)| {
                        let site = ValueSite::Master {
                            node: self.services[s.service].node,
                            option: s.option,
                        };
                        (name.clone(), s.value.clone(), site)
                    })
            }
        }
    }

    fn scan_scope(&mut self, scope: Scope, restriction_classes: &mut HashSet<Vec<u8>>) {
        // Read-only names first: postconf expands each as its own value, so nothing
        // expanded below may see what the file assigns them.
        let mut index = 0;
        while let Some((name, _, site)) = self.scope_setting(scope, index) {
            let readonly = self
                .known_by_postfix(&name)
                .and_then(|k| k.info)
                .is_some_and(|i| i.readonly);
            if !readonly {
                index += 1;
                continue;
            }
            self.issues.push(Issue {
                kind: IssueKind::ReadOnly {
                    name: name.to_vec(),
                },
                location: site.name_location(),
            });
            self.remove_setting(scope, &name);
        }
        let classes = match scope {
            Scope::Main => self.main.index_of(&b"smtpd_restriction_classes"[..]),
            Scope::Service(i) => self.namespaces[self.services[i].namespace as usize]
                .params
                .index_of(&b"smtpd_restriction_classes"[..]),
        };
        // Names in smtpd_restriction_classes count as used when they have a value.
        if let Some((_, value, site)) = classes.and_then(|i| self.scope_setting(scope, i)) {
            let expanded = expand::expand(
                &value,
                &ScopeOnly {
                    config: self,
                    scope,
                },
            )
            .unwrap_or_else(|_| value.to_vec());
            for class in expanded
                .split(|&b| lexical::is_list_separator(b))
                .filter(|c| !c.is_empty())
            {
                if scope == Scope::Main {
                    restriction_classes.insert(class.to_vec());
                }
                let at = site.whole_value();
                self.flag_user_name(class, false, scope, at);
            }
        }
        let mut index = 0;
        while let Some((name, value, site)) = self.scope_setting(scope, index) {
            index += 1;
            if let Scope::Service(i) = scope
                && restriction_classes.contains(&*name)
            {
                self.services[i].make_valid(&name);
            }
            let known = self.known(&name).map(|k| (k.class, k.info));
            if let Some((class, info)) = known {
                if class == Class::Legacy {
                    self.reclassify(&name, Class::User);
                }
                if info.is_some_and(|i| i.raw) {
                    continue;
                }
            }
            let read_again;
            let references = match site.references(self.main_references, self.master_references) {
                Some(found) => found,
                None if memchr::memchr(b'$', &value).is_some() => {
                    read_again = value.parse().expr.names();
                    &read_again[..]
                }
                None => &[],
            };
            for reference in references {
                let at = site.value_location(reference.clone());
                let referenced = &value[reference.start as usize..reference.end as usize];
                self.flag_user_name(referenced, false, scope, at);
            }
            if let Some((Class::Builtin | Class::Service, _)) = known {
                self.register_dbms_names(&name, &value, scope);
            }
        }
    }

    /// `pcf_flag_user_parameter`: a referenced name with a value counts as used; one with
    /// no value and no built-in definition is undefined.
    fn flag_user_name(&mut self, name: &[u8], dbms: bool, scope: Scope, at: Option<Location>) {
        let mut supplied = false;
        let local = match scope {
            Scope::Service(i) => {
                let namespace = self.services[i].namespace;
                self.namespaces[namespace as usize]
                    .params
                    .contains_key(name)
                    .then_some(i)
            }
            Scope::Main => None,
        };
        if let Some(i) = local {
            supplied = true;
            self.services[i].make_valid(name);
        } else if let Some(index) = self.main.index_of(name) {
            supplied = true;
            if !self.is_known(name)
                && let Some(user) = self.main_user.get_mut(index)
            {
                *user = true;
            }
        }
        if scope == Scope::Main {
            let mut setters = self
                .setters
                .take()
                .unwrap_or_else(|| Setters::of(&self.services, &self.namespaces));
            if let Some((done, namespaces)) = setters.names.get_mut(name) {
                supplied = true;
                // Once per name: the services it makes valid stay so.
                let namespaces = if *done {
                    Vec::new()
                } else {
                    *done = true;
                    std::mem::take(namespaces)
                };
                for namespace in namespaces {
                    for &service in setters.members(namespace) {
                        self.services[service as usize].make_valid(name);
                    }
                }
            }
            self.setters = Some(setters);
        }
        if !supplied
            && !dbms
            && !self.is_known(name)
            && let Some(location) = at
        {
            self.issues.push(Issue {
                kind: IssueKind::Undefined {
                    name: name.to_vec(),
                },
                location,
            });
        }
    }

    fn remove_setting(&mut self, scope: Scope, name: &[u8]) {
        match scope {
            Scope::Main => {
                if let Some(index) = self.main.index_of(name) {
                    self.main.remove(name);
                    self.main_user.remove(index);
                }
            }
            Scope::Service(i) => {
                let namespace = self.services[i].namespace;
                self.namespaces[namespace as usize].params.remove(name);
            }
        }
    }

    /// postconf computes every default while it scans them. The defaults computed from
    /// host facts read main.cf settings expanded against main.cf alone, and a malformed
    /// or looping expression there stops postconf ("dictionary mail_dict: macro
    /// processing error"); so do an invalid `mynetworks_style` or `inet_protocols`
    /// (`name_mask()` is fatal) when the default `mynetworks` is computed.
    fn check_computed_defaults(&mut self) {
        let unset = |name: &str| !self.main.contains_key(name.as_bytes());
        let mut evaluated: Vec<&str> = Vec::new();
        if unset("myhostname") && !self.host.hostname.contains('.') {
            evaluated.push("mydomain");
        }
        if unset("mydomain") {
            evaluated.push("myhostname");
        }
        for name in evaluated {
            if let Err(error) = self.main_only_strict(name) {
                self.fail_expansion(name, error);
                return;
            }
        }
        if !unset("mynetworks") || self.table.get_in("mynetworks", self.version).is_none() {
            return;
        }
        let mut settings = Vec::new();
        for name in ["inet_interfaces", "mynetworks_style", "inet_protocols"] {
            match self.host_setting_strict(name) {
                Ok(value) => settings.push(value),
                Err(error) => {
                    self.fail_expansion(name, error);
                    return;
                }
            }
        }
        // Postfix sets up the protocols first and skips the computation (and with it the
        // style check) when none is enabled.
        let problem = match host::any_protocol(&settings[2]) {
            Err(message) => Some(message),
            Ok(false) => None,
            Ok(true) => NetworksStyle::parse(&settings[1])
                .err()
                .or_else(|| host::selected_addresses(self.host, &settings[0], &settings[2]).err()),
        };
        if let Some(message) = problem {
            self.fatal.get_or_insert(Fatal::HostDefault(message));
            return;
        }
        let _ = self.host_default(b"mynetworks");
        if self.networks_loop.get() {
            self.fatal.get_or_insert(Fatal::HostDefault(
                "the default mynetworks depends on itself (through mynetworks_style, \
                 inet_interfaces or inet_protocols)"
                    .to_owned(),
            ));
        }
    }

    fn fail_expansion(&mut self, name: &str, error: ExpandError) {
        self.fatal.get_or_insert(Fatal::Expansion {
            name: name.as_bytes().to_vec(),
            error,
        });
    }

    /// Settings that every daemon reads at start-up and refuses when malformed:
    /// `compatibility_level` (`mail_params_init()`), `inet_protocols` (`inet_proto_init()`),
    /// and `mynetworks_style` when `mynetworks` is left to its default.
    fn check_startup_values(&mut self) {
        let mut invalid = Vec::new();
        if let Some(level) = self.main_only("compatibility_level")
            && expand::compat_level(level.as_bytes()).is_none()
        {
            invalid.push((
                "compatibility_level",
                format!("`{level}` is not a compatibility level (such as 3.6)"),
            ));
        }
        let protocols = self.main_only("inet_protocols");
        if let Some(Err(message)) = protocols.as_deref().map(host::any_protocol) {
            invalid.push(("inet_protocols", message));
        }
        let protocols_enabled = host::any_protocol(&self.host_setting("inet_protocols"));
        if !self.main.contains_key(&b"mynetworks"[..])
            && protocols_enabled == Ok(true)
            && let Some(Err(message)) = self
                .main_only("mynetworks_style")
                .map(|style| NetworksStyle::parse(&style))
        {
            invalid.push(("mynetworks_style", message));
        }
        for (name, message) in invalid {
            let Some(Origin::Main(p)) = self.main.get(name.as_bytes()).map(MainSetting::origin)
            else {
                continue;
            };
            self.issues.push(Issue {
                kind: IssueKind::InvalidValue {
                    name: name.as_bytes().to_vec(),
                    message,
                },
                location: Location {
                    file: FileRole::Main,
                    span: p.name_span(),
                },
            });
        }
    }

    /// Legacy database client parameters (`pcf_register_dbms_parameters`): the value is
    /// expanded (a failure is fatal for postconf), and in each `type:prefix` of a known
    /// database type, `prefix_suffix` names count as used when they have a value.
    fn register_dbms_names(&mut self, name: &[u8], value: &Value<'_>, scope: Scope) {
        let expanded = match self.expand_value(scope, value) {
            Ok(expanded) => expanded,
            Err(error) => {
                self.fatal.get_or_insert(Fatal::Expansion {
                    name: name.to_vec(),
                    error,
                });
                return;
            }
        };
        let mut candidates = Vec::new();
        self.dbms_candidates(&expanded, &mut candidates, 0);
        for candidate in candidates {
            self.flag_user_name(&candidate, true, scope, None);
        }
    }

    fn dbms_candidates(&self, value: &[u8], out: &mut Vec<Vec<u8>>, depth: usize) {
        if depth > expr::MAX_DEPTH {
            return;
        }
        let (elements, _) = crate::syntax::list::split(value);
        for element in elements {
            let text = &value[element.span.start as usize..element.span.end as usize];
            if text.first() == Some(&b'{') {
                self.dbms_candidates(&without_braces(text), out, depth + 1);
                continue;
            }
            let mut db_type = text;
            let mut prefix = None;
            while let Some(colon) = db_type.iter().position(|&b| b == b':') {
                let (kind, rest) = (&db_type[..colon], &db_type[colon + 1..]);
                prefix = Some(rest);
                if kind == b"proxy" {
                    db_type = rest;
                    prefix = None;
                    continue;
                }
                db_type = kind;
                break;
            }
            let Some(prefix) = prefix else { continue };
            if prefix.first().is_some_and(|&b| b == b'/' || b == b'.') {
                continue;
            }
            if prefix.first() == Some(&b'{') {
                self.dbms_candidates(&without_braces(prefix), out, depth + 1);
                continue;
            }
            let Some(suffixes) = std::str::from_utf8(db_type)
                .ok()
                .and_then(|t| self.table.dbms_suffixes(t))
            else {
                continue;
            };
            for suffix in suffixes {
                out.push([prefix, b"_", suffix.as_bytes()].concat());
            }
        }
    }

    /// main.cf and master.cf settings that no known name claims ("unused parameter").
    fn flag_unused(&mut self) {
        let mut settings = Vec::new();
        for (entry, (name, setting)) in self.main.iter().enumerate() {
            if setting.parameter.is_some() && !self.is_known(name) {
                settings.push(WrittenRef {
                    namespace: WrittenRef::MAIN,
                    entry: index_u32(entry),
                });
            }
        }
        // Entries of one name and type share their settings, and postconf warns about
        // each shared one for every entry: the warnings of a namespace are listed once,
        // and each later entry that would repeat them is noted (20 000 entries sharing
        // 20 000 settings would otherwise be 400 million warnings held at once).
        let mut first: HashMap<u32, Range<usize>> = HashMap::new();
        let mut repeats = Vec::new();
        for service in &self.services {
            let plain = service.valid_names.is_none();
            if plain && let Some(of) = first.get(&service.namespace) {
                repeats.push((settings.len(), of.clone()));
                continue;
            }
            let start = settings.len();
            let params = &self.namespaces[service.namespace as usize].params;
            for (entry, (name, _)) in params.iter().enumerate() {
                if self.is_known(name) || service.is_valid_name(name) {
                    continue;
                }
                // Services sharing a name and type share their settings; Postfix reports
                // each such setting once per entry, at the option that set it.
                settings.push(WrittenRef {
                    namespace: service.namespace,
                    entry: index_u32(entry),
                });
            }
            if plain {
                first.insert(service.namespace, start..settings.len());
            }
        }
        settings.shrink_to_fit();
        self.unused = Unused {
            at: self.issues.len(),
            settings,
            repeats,
        };
    }

    /// The "unused parameter" warning of a setting that [`Config::flag_unused`] found.
    fn unused_issue(&self, at: WrittenRef) -> Option<Issue> {
        let (name, _) = self.written_setting(at)?;
        let location = if at.namespace == WrittenRef::MAIN {
            let parameter = self.main.at(at.entry as usize)?.1.parameter?;
            Location {
                file: FileRole::Main,
                span: parameter.name_span(),
            }
        } else {
            let namespace = self.namespaces.get(at.namespace as usize)?;
            self.option_name_location(namespace.params.at(at.entry as usize)?.1)
        };
        Some(Issue {
            kind: IssueKind::Unknown {
                name: name.to_vec(),
            },
            location,
        })
    }

    /// How many issues there are, each "unused parameter" warning counted once.
    pub fn issue_count(&self) -> usize {
        self.issues.len() + self.unused.settings.len()
    }

    /// Takes every issue from the model; [`TakenIssues::in_order`] gives them.
    pub fn take_issues(&mut self) -> TakenIssues {
        let mut before = std::mem::take(&mut self.issues);
        let unused = std::mem::take(&mut self.unused);
        let after = before.split_off(unused.at.min(before.len()));
        TakenIssues {
            before,
            unused: unused.settings,
            after,
        }
    }

    /// The issues in the order postconf warns about them: every repeated stretch in its
    /// place, and no warning twice in a row among the "unused parameter" ones.
    pub fn warnings_in_order(&self) -> impl Iterator<Item = Cow<'_, Issue>> {
        let Unused {
            at,
            settings,
            repeats,
        } = &self.unused;
        let at = (*at).min(self.issues.len());
        let before = self.issues[..at].iter().map(Cow::Borrowed);
        let after = self.issues[at..].iter().map(Cow::Borrowed);
        // The unused ones: the stretch listed, with each repeat spliced in where it was.
        let mut pieces: Vec<Range<usize>> = Vec::with_capacity(2 * repeats.len() + 1);
        let mut from = 0;
        for (position, of) in repeats {
            pieces.push(from..*position);
            pieces.push(of.clone());
            from = *position;
        }
        pieces.push(from..settings.len());
        let mut previous: Option<WrittenRef> = None;
        let unused = pieces
            .into_iter()
            .flat_map(move |piece| settings[piece].iter().copied())
            .filter(move |setting| {
                let repeated = previous == Some(*setting);
                previous = Some(*setting);
                !repeated
            })
            .filter_map(|setting| self.unused_issue(setting).map(Cow::Owned));
        before.chain(unused).chain(after)
    }

    /// Expands every setting that Postfix would expand, and records those that fail. A
    /// loop is reported once, at the first setting that enters it; a setting that refers
    /// to one whose expansion failed is not expanded again (the problem is reported).
    fn check_expansions(&mut self) {
        let found = self.expansion_issues();
        self.issues.extend(found);
    }

    /// The issues of [`Config::check_expansions`]. The settings are walked where they are
    /// (a list of them all would cost ninety bytes a setting).
    fn expansion_issues(&self) -> Vec<Issue> {
        let main = self
            .main
            .iter()
            .filter_map(|(name, setting)| match setting.origin() {
                Origin::Main(p) => {
                    let at = Location {
                        file: FileRole::Main,
                        span: p.name_span(),
                    };
                    Some((*name, &setting.value, Scope::Main, at))
                }
                _ => None,
            });
        // Each setting once, by the service that writes it, then by name: services
        // sharing a namespace are not each walked through all of it.
        let mut written: Vec<(&Bytes<'a>, &OverrideSetting<'a>)> =
            self.override_settings().collect();
        written.sort_by_key(|(_, setting)| setting.service);
        let overrides = written.into_iter().map(|(name, setting)| {
            let at = self.option_name_location(setting);
            (&**name, &setting.value, Scope::Service(setting.service), at)
        });
        let mut issues = Vec::new();
        let mut failed: HashSet<Vec<u8>> = HashSet::new();
        let mut reported_chains: HashSet<(bool, Vec<Vec<u8>>)> = HashSet::new();
        let mut reported_size = false;
        let mut parses = expand::Parses::default();
        for (name, value, scope, at) in main.chain(overrides) {
            // Postfix expands only names it knows; malformed expressions are reported by
            // the parser where they are written.
            match self.known(name) {
                None => continue,
                Some(k) if k.info.is_some_and(|i| i.raw) => continue,
                Some(_) => {}
            }
            if memchr::memchr(b'$', value).is_none() {
                continue;
            }
            // One parse for the check and the expansion, also where the parser kept none.
            let value = Value::with_parse(value.text(), Some(value.parse()));
            let references_failed = value.names().any(|r| failed.contains(r));
            if references_failed {
                failed.insert(name.to_vec());
                continue;
            }
            let lookup = ScopeLookup::new(self, scope);
            let error = match expand::expand_reusing(name, &value, &lookup, &mut parses) {
                Ok(_) | Err(ExpandError::Syntax { .. }) => continue,
                Err(error) => error,
            };
            failed.insert(name.to_vec());
            let duplicate = match &error {
                ExpandError::Nesting { names, looped } => {
                    let mut names = names.clone();
                    names.sort();
                    !reported_chains.insert((*looped, names))
                }
                ExpandError::TooLarge => std::mem::replace(&mut reported_size, true),
                _ => false,
            };
            if !duplicate {
                issues.push(Issue {
                    kind: IssueKind::Expansion {
                        name: name.to_vec(),
                        error: Box::new(error),
                    },
                    location: at,
                });
            }
        }
        issues
    }

    // ----- queries -----

    /// The accepted master.cf services, in file order.
    pub fn services(&self) -> &[ServiceEntry<'a>] {
        &self.services
    }

    /// How many distinct `name/type` the services have (see [`ServiceEntry::namespace`]).
    pub fn namespace_count(&self) -> usize {
        self.namespaces.len()
    }

    /// The main.cf setting of `name`, if main.cf sets it.
    pub fn main_setting(&self, name: &str) -> Option<&MainSetting<'a>> {
        self.main.get(name.as_bytes())
    }

    /// Where the name of an `-o` setting is written (the whole entry if it has none).
    fn option_name_location(&self, setting: &OverrideSetting<'a>) -> Location {
        let node = self.services[setting.service].node;
        Location {
            file: FileRole::Master,
            span: setting
                .option
                .name
                .clone()
                .map_or(node.span(), |r| node.source_span(r)),
        }
    }

    /// Every master.cf `-o` setting in effect, once each (a setting shared by services
    /// of one name and type comes once, with the service that wrote it).
    pub fn override_settings(&self) -> impl Iterator<Item = (&Bytes<'a>, &OverrideSetting<'a>)> {
        self.namespaces.iter().flat_map(|n| n.params.iter())
    }

    /// All main.cf settings in effect, by name.
    pub fn main_settings(&self) -> impl Iterator<Item = (&[u8], &MainSetting<'a>)> {
        self.main.iter().map(|(k, v)| (*k, v))
    }

    /// The `-o` settings in effect for a service (shared with services of the same name
    /// and type, as in Postfix), by name.
    pub fn overrides(&self, service: usize) -> &SortedMap<Bytes<'a>, OverrideSetting<'a>> {
        &self.namespaces[self.services[service].namespace as usize].params
    }

    /// The class of a known name.
    pub fn class(&self, name: &[u8]) -> Option<Class> {
        self.known(name).map(|k| k.class)
    }

    /// Facts about a built-in parameter of the target version.
    pub fn info(&self, name: &str) -> Option<&'static ParamInfo> {
        self.known_by_postfix(name.as_bytes()).and_then(|k| k.info)
    }

    /// Every known name with its class, in no particular order.
    pub fn known_names(&self) -> Vec<(Cow<'_, [u8]>, Class)> {
        let table = self
            .table
            .all()
            .iter()
            .filter(|p| p.available_in(self.version) && !self.known.contains_key(p.name.as_bytes()))
            .map(|p| {
                let class = if p.is_legacy_in(self.version) {
                    Class::Legacy
                } else {
                    Class::Builtin
                };
                (Cow::Borrowed(p.name.as_bytes()), class)
            });
        let services = self.service_parameters().flat_map(|(service, suffixes)| {
            suffixes
                .map(move |suffix| [service, suffix.as_bytes()].concat())
                .filter(|name| !self.known.contains_key(name.as_slice()))
                .map(|name| (Cow::Owned(name), Class::Service))
        });
        table
            .chain(
                self.known
                    .iter()
                    .map(|(n, k)| (Cow::Borrowed(&**n), k.class)),
            )
            .chain(services)
            .chain(
                self.main
                    .iter()
                    .zip(&self.main_user)
                    .filter(|(_, user)| **user)
                    .filter(|((name, _), _)| !self.known.contains_key(&***name))
                    .map(|((name, _), _)| (Cow::Borrowed(&**name), Class::User)),
            )
            .collect()
    }

    /// Each master.cf delivery service and the suffixes of its per-service parameters
    /// (`dovecot` and `_destination_recipient_limit`, …).
    pub fn service_parameters(
        &self,
    ) -> impl Iterator<Item = (&[u8], impl Iterator<Item = &'static str> + '_)> {
        self.service_params.iter().map(|(service, takes)| {
            let suffixes = self
                .templates
                .iter()
                .filter(move |(s, _)| takes.takes(s))
                .map(|(s, _)| *s);
            (service.as_slice(), suffixes)
        })
    }

    /// The main.cf file, if the model has one.
    pub fn main_file(&self) -> Option<&'a SourceFile> {
        self.main_file
    }

    /// The master.cf file, if the model has one.
    pub fn master_file(&self) -> Option<&'a SourceFile> {
        self.master_file
    }

    /// The raw value `name` has in `scope` (its `-o` override, else main.cf, else the
    /// default), with where it comes from; `None` for an unknown name without a setting.
    pub fn raw(&self, scope: Scope, name: &str) -> Option<(Cow<'_, Value<'_>>, Origin<'a>)> {
        let name = name.as_bytes();
        if let Scope::Service(i) = scope {
            if let Some(ro) = self.read_only_in(i, name) {
                return Some((Cow::Owned(Value::new(ro)), Origin::Default));
            }
            if let Some(s) = self.overrides(i).get(name) {
                let node = self.services[s.service].node;
                let span = s
                    .option
                    .value
                    .clone()
                    .map_or(node.span(), |r| node.source_span(r));
                return Some((
                    Cow::Borrowed(&s.value),
                    Origin::Override {
                        service: s.service,
                        location: Location {
                            file: FileRole::Master,
                            span,
                        },
                    },
                ));
            }
        }
        if let Some(s) = self.main.get(name) {
            return Some((Cow::Borrowed(&s.value), s.origin()));
        }
        self.default_value(name)
            .map(|v| (Cow::Owned(Value::new(v)), Origin::Default))
    }

    /// Where `name` is written for `scope`: its `-o` override (from `-o` to the end of the
    /// value) or its main.cf setting (name to value); `None` when it has its default.
    pub fn setting_location(&self, scope: Scope, name: &str) -> Option<Location> {
        if let Scope::Service(i) = scope
            && let Some(s) = self.overrides(i).get(name.as_bytes())
        {
            return Some(self.override_location(s));
        }
        main_location(self.main.get(name.as_bytes())?)
    }

    fn override_location(&self, setting: &OverrideSetting<'_>) -> Location {
        let node = self.services[setting.service].node;
        let o = &setting.option;
        let end = o
            .value
            .as_ref()
            .or(o.argument.as_ref())
            .map_or(o.option.end, |r| r.end);
        Location {
            file: FileRole::Master,
            span: node.source_span(o.option.start..end),
        }
    }

    /// Every setting written in main.cf or as a master.cf `-o` that is in effect, in
    /// file order.
    pub fn written_settings(&self) -> Vec<WrittenRef> {
        let main = (0..self.main.len()).map(|entry| WrittenRef {
            namespace: WrittenRef::MAIN,
            entry: index_u32(entry),
        });
        let overrides = self.namespaces.iter().enumerate().flat_map(|(n, ns)| {
            (0..ns.params.len()).map(move |entry| WrittenRef {
                namespace: index_u32(n),
                entry: index_u32(entry),
            })
        });
        // Sorted with where they start beside them (settings start at distinct places, so
        // the file and the start order them as their locations do), dropped after.
        let count = self.main.len()
            + self
                .namespaces
                .iter()
                .map(|n| n.params.len())
                .sum::<usize>();
        let mut located: Vec<(u64, WrittenRef)> = Vec::with_capacity(count);
        located.extend(main.chain(overrides).filter_map(|at| {
            let location = self.written_location(at)?;
            Some((
                (u64::from(location.file as u8) << 32) | u64::from(location.span.start),
                at,
            ))
        }));
        located.sort_unstable_by_key(|(start, _)| *start);
        located.into_iter().map(|(_, at)| at).collect()
    }

    /// The name and scope of a setting from [`Config::written_settings`].
    pub fn written_setting(&self, at: WrittenRef) -> Option<(&[u8], Scope)> {
        if at.namespace == WrittenRef::MAIN {
            let (name, _) = self.main.at(at.entry as usize)?;
            return Some((name, Scope::Main));
        }
        let namespace = self.namespaces.get(at.namespace as usize)?;
        let (name, setting) = namespace.params.at(at.entry as usize)?;
        Some((name, Scope::Service(setting.service)))
    }

    /// Where a setting from [`Config::written_settings`] is written.
    pub fn written_location(&self, at: WrittenRef) -> Option<Location> {
        if at.namespace == WrittenRef::MAIN {
            return main_location(self.main.at(at.entry as usize)?.1);
        }
        let namespace = self.namespaces.get(at.namespace as usize)?;
        let (_, setting) = namespace.params.at(at.entry as usize)?;
        Some(self.override_location(setting))
    }

    /// The raw value of a setting from [`Config::written_settings`]: what
    /// [`Config::raw`] gives for its name and scope, without looking the name up.
    pub fn written_raw(&self, at: WrittenRef) -> Option<&Value<'a>> {
        if at.namespace == WrittenRef::MAIN {
            return Some(&self.main.at(at.entry as usize)?.1.value);
        }
        let namespace = self.namespaces.get(at.namespace as usize)?;
        Some(&namespace.params.at(at.entry as usize)?.1.value)
    }

    /// The value of `name` in `scope`, fully expanded.
    pub fn expanded(&self, scope: Scope, name: &str) -> ExpandedValue {
        let (raw, _) = self.raw(scope, name)?;
        // A value without `$` is its own expansion, and so is a raw parameter's: neither
        // is worth a place in the memo (a large master.cf has many).
        if memchr::memchr(b'$', &raw).is_none() || self.info(name).is_some_and(|i| i.raw) {
            return Some(Ok(raw.to_vec()));
        }
        let Some(memo) = &self.expanded_memo else {
            return Some(self.expand_value(scope, &raw));
        };
        if let Some(known) = memo.borrow().get(&(scope, name.to_owned())) {
            return Some(known.value.clone());
        }
        // Most services read a value as main.cf does: when none of the names main.cf's
        // expansion read is the service's own, the service's expansion is main.cf's, and
        // is not kept again for each service (a large master.cf has many).
        let service = match scope {
            Scope::Service(i) => Some(i),
            Scope::Main => None,
        };
        let shared = |i: usize| {
            let own =
                |n: &[u8]| self.overrides(i).contains_key(n) || self.read_only_in(i, n).is_some();
            let memo = memo.borrow();
            let main = memo.get(&(Scope::Main, name.to_owned()))?;
            (!own(name.as_bytes()) && !main.reads.iter().any(|n| own(n)))
                .then(|| main.value.clone())
        };
        if let Some(value) = service.and_then(shared) {
            return Some(value);
        }
        let mut lookup = ScopeLookup {
            reads: Some(std::cell::RefCell::default()),
            ..ScopeLookup::new(self, scope)
        };
        let value = expand::expand(&raw, &lookup);
        let own = lookup.own.get()
            || service.is_some_and(|i| self.overrides(i).contains_key(name.as_bytes()));
        // A service's expansion that read nothing of its own is main.cf's.
        let kept_as = if own { scope } else { Scope::Main };
        memo.borrow_mut()
            .entry((kept_as, name.to_owned()))
            .or_insert_with(|| Memo {
                value: value.clone(),
                // Each name once: a value may read one name many times.
                reads: lookup
                    .reads
                    .take()
                    .map(|r| {
                        let mut reads = r.into_inner();
                        reads.sort_unstable();
                        reads.dedup();
                        reads.into_boxed_slice()
                    })
                    .unwrap_or_default(),
            });
        Some(value)
    }

    /// The scope whose value of `name` is the one `scope` reads: main.cf's when a service
    /// neither sets `name` nor any name that main.cf's expansion of it reads (the
    /// service's value is then main.cf's), else `scope`. A question asked of a large value
    /// that a hundred thousand services inherit can then be answered once.
    pub fn value_scope(&self, scope: Scope, name: &str) -> Scope {
        let Scope::Service(i) = scope else {
            return Scope::Main;
        };
        let own = |n: &[u8]| self.overrides(i).contains_key(n) || self.read_only_in(i, n).is_some();
        if own(name.as_bytes()) {
            return scope;
        }
        let Some(memo) = &self.expanded_memo else {
            return scope;
        };
        let key = (Scope::Main, name.to_owned());
        if !memo.borrow().contains_key(&key) {
            // Found once: the search for a `$` is as long as the value.
            let Some((raw, _)) = self.raw(Scope::Main, name) else {
                return Scope::Main;
            };
            if memchr::memchr(b'$', &raw).is_none() || self.info(name).is_some_and(|i| i.raw) {
                let value = Ok(raw.to_vec());
                memo.borrow_mut().insert(
                    key.clone(),
                    Memo {
                        value,
                        reads: Box::default(),
                    },
                );
            } else {
                let _ = self.expanded(Scope::Main, name);
            }
        }
        let inherited = memo
            .borrow()
            .get(&key)
            .is_some_and(|main| !main.reads.iter().any(|n| own(n)));
        if inherited { Scope::Main } else { scope }
    }

    /// Expands any value in `scope` (lookups: `-o` overrides, main.cf, defaults).
    pub fn expand_value(&self, scope: Scope, value: &Value<'_>) -> Result<Vec<u8>, ExpandError> {
        expand::expand(value, &ScopeLookup::new(self, scope))
    }

    /// Expands a value with defaults only (`postconf -dx`).
    pub fn expand_default(&self, value: &Value<'_>) -> Result<Vec<u8>, ExpandError> {
        expand::expand(
            value,
            &ScopeLookup {
                defaults_only: true,
                ..ScopeLookup::new(self, Scope::Main)
            },
        )
    }

    fn read_only_in(&self, service: usize, name: &[u8]) -> Option<Vec<u8>> {
        let entry = &self.services[service];
        match name {
            b"process_name" => Some(entry.process_name().to_vec()),
            b"service_name" => Some(entry.service_name().to_vec()),
            _ => None,
        }
    }

    /// The default value of a known name (`pcf_convert_param_node`), computed for host
    /// facts where Postfix computes it.
    pub fn default_value(&self, name: &[u8]) -> Option<Cow<'_, [u8]>> {
        let known = self.known(name)?;
        match known.class {
            Class::User | Class::Legacy => Some(Cow::Borrowed(b"")),
            Class::Service if known.service_default.is_some() => {
                known.service_default.map(|d| Cow::Borrowed(d.as_bytes()))
            }
            Class::Builtin | Class::Service => {
                let info = known.info?;
                if info.host.is_some() {
                    return Some(Cow::Owned(self.host_default(name)));
                }
                Some(Cow::Borrowed(info.default_at(self.version).as_bytes()))
            }
        }
    }

    fn host_default(&self, name: &[u8]) -> Vec<u8> {
        match name {
            b"myhostname" => self.myhostname_default().into_bytes(),
            b"mydomain" => {
                let myhostname = self
                    .main_only("myhostname")
                    .unwrap_or_else(|| self.myhostname_default());
                host::default_mydomain(&myhostname).into_bytes()
            }
            b"mynetworks" => {
                if self.computing_networks.replace(true) {
                    self.networks_loop.set(true);
                    return Vec::new();
                }
                let style = NetworksStyle::parse(&self.host_setting("mynetworks_style"));
                let interfaces = self.host_setting("inet_interfaces");
                let protocols = self.host_setting("inet_protocols");
                self.computing_networks.set(false);
                // Invalid settings are fatal for postconf (check_computed_defaults).
                let (Ok(true), Ok(style)) = (host::any_protocol(&protocols), style) else {
                    return Vec::new();
                };
                // An interface Postfix cannot use is fatal too (check_computed_defaults).
                let Ok(addresses) = host::selected_addresses(self.host, &interfaces, &protocols)
                else {
                    return Vec::new();
                };
                host::default_mynetworks(&addresses, style).into_bytes()
            }
            b"process_name" => self.host.process_name.clone().into_bytes(),
            b"process_id" => self.host.process_id.to_string().into_bytes(),
            b"mail_version" => self.version.to_string().into_bytes(),
            b"mail_release_date" => crate::model::params::release_date(self.version)
                .unwrap_or_default()
                .as_bytes()
                .to_vec(),
            _ => Vec::new(),
        }
    }

    /// A setting the `mynetworks` computation reads: main.cf's value expanded against
    /// main.cf, else the default expanded (`pcf_mynetworks`).
    fn host_setting(&self, name: &str) -> String {
        self.main_only(name).unwrap_or_else(|| {
            let default = Value::new(self.default_bytes(name));
            let expanded = self
                .expand_value(Scope::Main, &default)
                .unwrap_or_else(|_| default.to_vec());
            String::from_utf8_lossy(&expanded).into_owned()
        })
    }

    /// Like [`host_setting`](Self::host_setting), but an expansion error is an error.
    fn host_setting_strict(&self, name: &str) -> Result<String, ExpandError> {
        if let Some(value) = self.main_only_strict(name)? {
            return Ok(value);
        }
        let expanded = self.expand_value(Scope::Main, &Value::new(self.default_bytes(name)))?;
        Ok(String::from_utf8_lossy(&expanded).into_owned())
    }

    fn default_bytes(&self, name: &str) -> Vec<u8> {
        self.default_value(name.as_bytes())
            .map(|d| d.into_owned())
            .unwrap_or_default()
    }

    fn myhostname_default(&self) -> String {
        host::default_myhostname(&self.host.hostname, self.main_only("mydomain").as_deref())
    }

    /// Like [`main_only`](Self::main_only), but an expansion error is an error.
    fn main_only_strict(&self, name: &str) -> Result<Option<String>, ExpandError> {
        let Some(setting) = self.main.get(name.as_bytes()) else {
            return Ok(None);
        };
        let expanded = expand::expand_named(name.as_bytes(), &setting.value, &MainOnly(self))?;
        Ok(Some(String::from_utf8_lossy(&expanded).into_owned()))
    }

    /// A main.cf value expanded against main.cf alone (Postfix's `mail_conf_lookup_eval`).
    fn main_only(&self, name: &str) -> Option<String> {
        if self.defaults_only {
            return None;
        }
        let setting = self.main.get(name.as_bytes())?;
        let expanded = expand::expand(&setting.value, &MainOnly(self))
            .unwrap_or_else(|_| setting.value.to_vec());
        Some(String::from_utf8_lossy(&expanded).into_owned())
    }
}

/// postconf's "overriding earlier entry" warning, when a main.cf setting gives a name
/// set before a different value; at the later setting.
fn duplicate(
    (name, earlier): &(&[u8], MainSetting<'_>),
    (_, later): &(&[u8], MainSetting<'_>),
) -> Option<Issue> {
    let Origin::Main(parameter) = later.origin() else {
        return None;
    };
    if earlier.value == later.value {
        return None;
    }
    let earlier = match earlier.origin() {
        Origin::Main(p) => p.name_span(),
        _ => Span::default(),
    };
    Some(Issue {
        kind: IssueKind::Duplicate {
            name: name.to_vec(),
            earlier,
        },
        location: Location {
            file: FileRole::Main,
            span: parameter.name_span(),
        },
    })
}

/// `extpar(…, EXTPAR_FLAG_NONE)` as postconf's database scan uses it: the braces go, the
/// inside is kept as it is (unlike [`lexical::unwrap_braces`], which trims).
fn without_braces(text: &[u8]) -> Vec<u8> {
    let inner = text.strip_prefix(b"{").unwrap_or(text);
    let inner = inner.strip_suffix(b"}").unwrap_or(inner);
    inner.to_vec()
}

/// Where a scanned value sits, to locate references in it.
#[derive(Clone)]
enum ValueSite<'a> {
    Main(&'a Parameter),
    Master {
        node: &'a Service,
        option: &'a Override,
    },
    Nowhere,
}

impl<'a> ValueSite<'a> {
    /// The names the value reads, as its parser found them; `None` for a value that no
    /// parser read.
    fn references(
        &self,
        main: &'a [Range<u32>],
        master: &'a [Range<u32>],
    ) -> Option<&'a [Range<u32>]> {
        match self {
            ValueSite::Main(p) => Some(p.references(main)),
            ValueSite::Master { option, .. } => Some(option.references(master)),
            ValueSite::Nowhere => None,
        }
    }

    /// The value's place in its service's logical text.
    fn value_range(option: &Override) -> Range<u32> {
        option.value.clone().unwrap_or(0..0)
    }

    fn value_location(&self, reference: std::ops::Range<u32>) -> Option<Location> {
        match self {
            ValueSite::Main(p) => {
                let base = p.value_range().start;
                Some(Location {
                    file: FileRole::Main,
                    span: p.source_span(base + reference.start..base + reference.end),
                })
            }
            ValueSite::Master { node, option } => {
                let value = Self::value_range(option);
                Some(Location {
                    file: FileRole::Master,
                    span: node
                        .source_span(value.start + reference.start..value.start + reference.end),
                })
            }
            ValueSite::Nowhere => None,
        }
    }

    fn whole_value(&self) -> Option<Location> {
        match self {
            ValueSite::Main(p) => Some(Location {
                file: FileRole::Main,
                span: p.value_span(),
            }),
            ValueSite::Master { node, option } => Some(Location {
                file: FileRole::Master,
                span: node.source_span(Self::value_range(option)),
            }),
            ValueSite::Nowhere => None,
        }
    }

    fn name_location(&self) -> Location {
        match self {
            ValueSite::Main(p) => Location {
                file: FileRole::Main,
                span: p.name_span(),
            },
            ValueSite::Master { node, option } => Location {
                file: FileRole::Master,
                span: node.source_span(Self::value_range(option)),
            },
            ValueSite::Nowhere => Location {
                file: FileRole::Main,
                span: Span::default(),
            },
        }
    }
}

/// Lookups in a scope: read-only service values, `-o` overrides, main.cf, defaults
/// (`pcf_lookup_parameter_value`).
struct ScopeLookup<'c, 'a> {
    config: &'c Config<'a>,
    scope: Scope,
    defaults_only: bool,
    /// The names looked up, when they are wanted (see [`Config::expanded`]).
    reads: Option<std::cell::RefCell<Vec<Box<[u8]>>>>,
    /// Whether a lookup found the service's own value.
    own: std::cell::Cell<bool>,
}

impl<'c, 'a> ScopeLookup<'c, 'a> {
    fn new(config: &'c Config<'a>, scope: Scope) -> ScopeLookup<'c, 'a> {
        ScopeLookup {
            config,
            scope,
            defaults_only: config.defaults_only,
            reads: None,
            own: std::cell::Cell::new(false),
        }
    }
}

/// An expanded value kept, with the names its expansion looked up.
#[derive(Debug)]
struct Memo {
    value: Result<Vec<u8>, ExpandError>,
    reads: Box<[Box<[u8]>]>,
}

impl Lookup for ScopeLookup<'_, '_> {
    fn lookup(&self, name: &[u8]) -> Option<Cow<'_, Value<'_>>> {
        if let Some(reads) = &self.reads {
            reads.borrow_mut().push(name.into());
        }
        if !self.defaults_only {
            if let Scope::Service(i) = self.scope {
                if let Some(ro) = self.config.read_only_in(i, name) {
                    self.own.set(true);
                    return Some(Cow::Owned(Value::new(ro)));
                }
                if let Some(s) = self.config.overrides(i).get(name) {
                    self.own.set(true);
                    return Some(Cow::Borrowed(&s.value));
                }
            }
            if let Some(s) = self.config.main.get(name) {
                return Some(Cow::Borrowed(&s.value));
            }
        }
        self.config
            .default_value(name)
            .map(|v| Cow::Owned(Value::new(v)))
    }
}

/// Lookups in one scope's own settings only (Postfix's `dict_eval` on one dictionary).
struct ScopeOnly<'c, 'a> {
    config: &'c Config<'a>,
    scope: Scope,
}

impl Lookup for ScopeOnly<'_, '_> {
    fn lookup(&self, name: &[u8]) -> Option<Cow<'_, Value<'_>>> {
        match self.scope {
            Scope::Main => self.config.main.get(name).map(|s| Cow::Borrowed(&s.value)),
            Scope::Service(i) => self
                .config
                .overrides(i)
                .get(name)
                .map(|s| Cow::Borrowed(&s.value)),
        }
    }
}

/// Lookups in main.cf only.
struct MainOnly<'c, 'a>(&'c Config<'a>);

impl Lookup for MainOnly<'_, '_> {
    fn lookup(&self, name: &[u8]) -> Option<Cow<'_, Value<'_>>> {
        self.0.main.get(name).map(|s| Cow::Borrowed(&s.value))
    }
}
