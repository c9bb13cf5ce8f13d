//! `emoji-mirror`: the Emoji Mirror pipeline on the command line — `predict` on photos, `evaluate`
//! on a class-folder dataset, `bench` per stage, `convert` an ONNX export into the shipped NNEF form.
//! All the work is in the `emoji-pipeline` crate; this binary parses arguments, walks folders, prints
//! results and turns errors into one line and a non-zero exit status.

mod bench;
mod common;
mod convert;
mod evaluate;
mod framings;
mod live;
mod predict;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "emoji-mirror",
    version,
    about = "Facial emotion → emoji, natively: predict, evaluate, bench"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find the faces in images and show their emotion (files and folders).
    Predict(predict::Args),
    /// Accuracy, precision/recall/F1 and the confusion matrix on a class-folder dataset.
    Evaluate(evaluate::Args),
    /// What the live page shows on val faces held still or switched before a 30 fps camera: steadiness, follow.
    Live(live::Args),
    /// Where the pipeline's crop falls on each dataset face seen through camera frames: a table for training.
    Framings(framings::Args),
    /// Median time of each pipeline stage on a face pasted into a 640x480 frame.
    Bench(bench::Args),
    /// Turn an ONNX model (training's export) into the NNEF archive the site and the CLI ship.
    Convert(convert::Args),
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Predict(args) => predict::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Live(args) => live::run(args),
        Command::Framings(args) => framings::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Convert(args) => convert::run(args),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("emoji-mirror: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
