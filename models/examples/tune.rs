fn main() {
    let all = qamqor_models::eval::dataset();
    let which = std::env::args().nth(1).unwrap_or("train".into());
    let split = if which == "test" { qamqor_models::eval::Split::Test } else { qamqor_models::eval::Split::Train };
    let set = qamqor_models::eval::split(&all, split);
    let report = qamqor_models::eval::evaluate(&set, qamqor_models::distress::assess);
    println!("{report}");
    if which != "test" {
        for m in report.misses() {
            println!("{m}");
        }
    }
}
