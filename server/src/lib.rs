//! The Gatehouse server: command line, configuration and the HTTP app.

pub mod cli;
pub mod settings;
pub mod startup;
pub mod telemetry;
