// `sqlx::migrate!` reads `migrations/` at compile time; a new file there must rebuild it.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
