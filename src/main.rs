fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(cometapi::app::main(std::env::args_os().collect()))
}
