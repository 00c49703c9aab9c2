//! The hutch binary: musl's startup code calls `main`, which hands argv and the environment to
//! the library and returns its exit status.
#![no_std]
#![no_main]

#[global_allocator]
static ALLOC: hutch::Malloc = hutch::Malloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    hutch::internal_error()
}

#[no_mangle]
pub extern "C" fn main(_argc: i32, argv: *const *const core::ffi::c_char, envp: *const *const core::ffi::c_char) -> i32 {
    hutch::main(argv, envp)
}
