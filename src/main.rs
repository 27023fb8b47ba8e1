fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(cometapi::cli::app::main(std::env::args_os().collect()))
}
