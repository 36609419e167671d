mod bad_input;
mod common;
mod crash;
mod doctor;
mod fixtures_claude_mem;
mod fixtures_openclaw;
mod liveness;
mod processes;
