//! For tuning the lexicon: evaluates the lexicon alone on the TRAINING split and lists
//! every missed escalation and false alarm. Tune on these, never on the held-out split:
//! `qamqor eval distress` measures that, and only that, honestly.
//!
//! cargo run --release -p qamqor-models --example tune

use qamqor_models::distress;
use qamqor_models::eval::{self, Split};

fn main() {
    let train = eval::split(&eval::dataset(), Split::Train);
    let report = eval::evaluate(&train, distress::assess);
    println!("{report}");
    for miss in report.misses() {
        println!("{miss}");
    }
}
