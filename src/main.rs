//! `personalize-operator`: the operator binary. Subcommands: `crd` prints or writes the CRDs.
//! (The `run` subcommand, the controllers, lands with the operator issue.)

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Kubernetes operator for Amazon Personalize.
#[derive(Parser, Debug)]
#[command(name = "personalize-operator", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the CustomResourceDefinitions as YAML, or write one file per kind to a directory.
    Crd {
        /// Write `<crd name>.yaml` files here instead of printing to stdout.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Crd { out_dir } => write_crds(out_dir),
    }
}

fn write_crds(out_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let files = personalize_api::crd_files().context("serialising the CRDs")?;
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, yaml) in files {
                let path = dir.join(name);
                std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
            }
        }
        None => {
            let docs: Vec<String> = files.into_iter().map(|(_, yaml)| yaml).collect();
            print!("{}", docs.join("---\n"));
        }
    }
    Ok(())
}
