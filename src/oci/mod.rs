//! The OCI runtime: runc's command line over the runtime-spec's config.json
//! (https://github.com/opencontainers/runtime-spec). A bundle's config is turned into the
//! same `RunConfig` that `hutch run` builds from its options (spec.rs), so both start
//! containers through one setup path.
pub mod spec;
pub mod run;
