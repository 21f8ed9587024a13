//! Loads settings: defaults, then a TOML file, then `GATEHOUSE_*` variables.

use backend::config::{CheckedSettings, Settings};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use std::path::Path;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "gatehouse.toml";

pub fn load(config_file: Option<&Path>) -> Result<CheckedSettings, String> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    match config_file {
        Some(path) if !path.exists() => {
            return Err(format!(
                "the settings file {} does not exist",
                path.display()
            ));
        }
        Some(path) => figment = figment.merge(Toml::file_exact(path)),
        None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
            figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE))
        }
        None => {}
    }
    // Only variables that name a setting: others that share the prefix (the
    // scripts' GATEHOUSE_TOOLS_DIR, the tests' GATEHOUSE_TEST_POSTGRES_URL)
    // are not settings and must not stop start-up.
    let names = setting_names();
    let settings: Settings = figment
        .merge(
            Env::prefixed("GATEHOUSE_")
                .filter(move |key| names.iter().any(|name| key == name.as_str())),
        )
        .extract()
        .map_err(|e| format!("invalid setting: {e}"))?;
    let checked = settings.check().map_err(|e| e.to_string())?;
    // Made (or read) now, so a key file that cannot be written or read
    // stops start-up instead of the first two-factor sign-in.
    checked.two_factor_key().map_err(|e| e.to_string())?;
    Ok(checked)
}

/// The names of every setting, as the defaults serialise them.
fn setting_names() -> Vec<String> {
    match serde_json::to_value(Settings::default()) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => Vec::new(),
    }
}
